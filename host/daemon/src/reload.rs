//! Plugin hot reload: every `[plugins] watch-interval` the watcher looks at each plugin file's
//! modification time and size; a change that holds still for one more look is read, hashed,
//! and (when the bytes differ from the version in use) loaded and validated like at start-up:
//! the operator's sha256 pin, the component checks, `describe`, and every connection of the
//! plugin opened against the new version (its settings and grant must still fit). Only when
//! all of that succeeds are the connections swapped; otherwise the error is logged, shown in
//! the plugin's status, and the old version keeps running. A rejected file is not tried again
//! until it changes.
//!
//! Calls in flight hold a clone of the old [`psahost_sandbox::connector::Connection`] (and so the old
//! `Arc<Plugin>`) and finish on it; new calls get the new one.

use super::{Daemon, PluginSlot};
use psahost_sandbox::runtime::PluginSource;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;
use time::OffsetDateTime;
use tokio::sync::watch;

/// What the watcher compares between two looks at a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl FileStamp {
    /// The file's modification time and size.
    pub fn of(path: &Path) -> std::io::Result<FileStamp> {
        let meta = std::fs::metadata(path)?;
        Ok(FileStamp {
            modified: meta.modified().ok(),
            len: meta.len(),
        })
    }
}

/// What one look at a plugin did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// Nothing changed (or the change is not settled yet, or it is a builtin).
    Unchanged,
    /// The new version is in use.
    Swapped {
        /// Its sha256.
        sha256: String,
    },
    /// The new file was refused; the old version keeps running.
    Rejected {
        /// Why.
        error: String,
    },
}

/// Looks at every plugin file until `stop`.
pub async fn watch(daemon: Arc<Daemon>, mut stop: watch::Receiver<bool>) {
    let interval = daemon.config.plugin_watch_interval;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        for id in daemon.plugins.keys() {
            daemon.check_plugin(id).await;
        }
    }
}

impl Daemon {
    /// Looks at plugin `id` once: reloads it when its file changed and held still since the
    /// previous look.
    pub async fn check_plugin(&self, id: &str) -> ReloadOutcome {
        let Some(slot) = self.plugins.get(id) else {
            return ReloadOutcome::Unchanged;
        };
        let PluginSource::File(path) = &slot.config.source else {
            return ReloadOutcome::Unchanged;
        };
        let stamp = match FileStamp::of(path) {
            Ok(s) => s,
            Err(e) => {
                let mut s = slot.write();
                let message = format!(
                    "cannot read plugin file `{}`: {e}; the loaded version keeps running",
                    path.display()
                );
                if s.error.as_deref() != Some(message.as_str()) {
                    tracing::warn!(plugin = id, "{message}");
                    s.error = Some(message);
                }
                return ReloadOutcome::Unchanged;
            }
        };
        {
            let mut s = slot.write();
            if s.stamp == Some(stamp) {
                s.pending = None;
                return ReloadOutcome::Unchanged;
            }
            // A file being written changes between two looks: wait until it holds still.
            if s.pending != Some(stamp) {
                s.pending = Some(stamp);
                return ReloadOutcome::Unchanged;
            }
            s.pending = None;
            s.stamp = Some(stamp);
        }
        let bytes: Arc<[u8]> = match tokio::fs::read(path).await {
            Ok(b) => b.into(),
            Err(e) => {
                return self.reject(
                    slot,
                    None,
                    format!("cannot read plugin file `{}`: {e}", path.display()),
                );
            }
        };
        let sha256 = hex::encode(Sha256::digest(&bytes));
        {
            let s = slot.read();
            let current = s.current.as_ref().map(|p| p.sha256());
            if current == Some(sha256.as_str()) || s.rejected.as_deref() == Some(sha256.as_str()) {
                return ReloadOutcome::Unchanged;
            }
        }
        self.reload(slot, path, bytes, sha256).await
    }

    async fn reload(
        &self,
        slot: &PluginSlot,
        path: &Path,
        bytes: Arc<[u8]>,
        sha256: String,
    ) -> ReloadOutcome {
        let id = slot.config.id.as_str();
        tracing::info!(plugin = id, file = %path.display(), sha256 = %sha256, "plugin file changed: loading the new version");
        let source = PluginSource::Bytes {
            name: path.display().to_string(),
            bytes,
        };
        let plugin = match self
            .runtime
            .load_pinned(source, slot.config.sha256.as_deref())
            .await
        {
            Ok(p) => p,
            Err(e) => return self.reject(slot, Some(sha256), e.to_string()),
        };
        let others = self
            .plugins
            .iter()
            .filter_map(|(other, s)| Some((other.as_str(), s.current()?)));
        if let Err(e) = super::admit(
            &slot.config,
            &plugin,
            &self.runtime.config().bundled,
            others,
        ) {
            return self.reject(slot, Some(sha256), format!("{e:#}"));
        }
        // Every connection of the plugin must open on the new version before anything swaps.
        let mut opened = Vec::new();
        for (cid, c) in &self.connections {
            if c.config.plugin != id {
                continue;
            }
            match self.bind(&c.config, plugin.clone()) {
                Ok(conn) => opened.push((cid, conn)),
                Err(e) => {
                    return self.reject(
                        slot,
                        Some(sha256),
                        format!("connection `{cid}` does not open on the new version: {e:#}"),
                    );
                }
            }
        }
        {
            let mut s = slot.write();
            s.current = Some(plugin.clone());
            s.loaded_at = Some(OffsetDateTime::now_utc());
            s.reloads += 1;
            s.error = None;
            s.rejected = None;
        }
        for (cid, conn) in opened {
            self.connections[cid].set(Ok(conn));
        }
        self.metrics.plugin_reload(id, "swapped");
        tracing::info!(
            plugin = id,
            sha256 = %sha256,
            version = plugin.connector_info().map(|i| i.version.as_str()).unwrap_or("-"),
            "plugin reloaded: new calls use the new version"
        );
        ReloadOutcome::Swapped { sha256 }
    }

    fn reject(&self, slot: &PluginSlot, sha256: Option<String>, error: String) -> ReloadOutcome {
        let id = slot.config.id.as_str();
        let running = slot.current().is_some();
        tracing::error!(
            plugin = id,
            "new version of the plugin rejected: {error}{}",
            if running {
                "; the loaded version keeps running"
            } else {
                ""
            }
        );
        {
            let mut s = slot.write();
            s.error = Some(error.clone());
            s.rejected = sha256;
        }
        self.metrics.plugin_reload(id, "rejected");
        ReloadOutcome::Rejected { error }
    }
}
