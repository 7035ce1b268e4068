//! `psahost store compact`: gives back the disk space the embedded stores no longer use.

use anyhow::{anyhow, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use psahost_config::StoreConfig;
use psahost_store::compact::{Compacted, compact_sled, is_present};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Commands on the embedded store.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Rewrite the embedded (sled) record store and kv store of the data directory into fresh
    /// directories, giving back the space of what was overwritten or dropped (after the
    /// one-time move to the shared layout, for example). Offline: stop `psahost serve` first.
    /// Each store is copied, the copy checked against it, and only then put in its place.
    Compact,
}

/// Runs a `psahost store` command.
pub(super) async fn run(cmd: StoreCommand, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let StoreCommand::Compact = cmd;
    let path = config.ok_or_else(|| {
        anyhow!("this command needs the configuration (`--config psahost.toml` or PSAHOST_CONFIG)")
    })?;
    let config = crate::load_config(path)?;
    if let StoreConfig::Postgres { .. } = config.store {
        bail!(
            "the records of `{}` are in PostgreSQL (`[store] postgres`), which has nothing to \
             compact here: PostgreSQL's VACUUM gives back its space",
            path.display()
        );
    }
    for (what, dir) in [
        ("record store", config.store_dir()),
        ("kv store", config.kv_dir()),
    ] {
        match compact(what, dir.clone()).await? {
            Some(c) if c.replaced => outln!(
                "{what} `{}`: {} entries in {} trees, {} -> {}",
                dir.display(),
                c.entries,
                c.trees,
                size(c.bytes_before),
                size(c.bytes_after)
            ),
            Some(c) => outln!(
                "{what} `{}`: {} entries in {} trees, {}: already compact (a copy was no \
                 smaller), left as it was",
                dir.display(),
                c.entries,
                c.trees,
                size(c.bytes_before)
            ),
            None => outln!("{what} `{}`: none (nothing to compact)", dir.display()),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Compacts one store, with a spinner on stderr; `None` when there is no store at `dir`.
async fn compact(what: &'static str, dir: PathBuf) -> anyhow::Result<Option<Compacted>> {
    if !is_present(&dir) {
        return Ok(None);
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar.set_message(format!("compacting the {what}"));
    let progress = bar.clone();
    let result = tokio::task::spawn_blocking(move || {
        compact_sled(&dir, &mut |n| {
            progress.set_message(format!("compacting the {what}: {n} entries copied"))
        })
    })
    .await
    .map_err(|e| anyhow!("the compaction stopped: {e}"))?;
    bar.finish_and_clear();
    result.map(Some)
}

fn size(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
