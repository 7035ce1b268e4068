//! The `settings` capability: a connection's settings, with secrets resolved from the
//! environment or files and redacted from everything the host prints.

use crate::bindings::psa::connector::settings::Host;
use crate::runtime::CallState;
use anyhow::{Context, bail};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// The placeholder that replaces a secret in logs and error messages.
pub const REDACTED: &str = "[redacted]";

/// One setting value.
#[derive(Clone)]
pub struct SettingValue {
    value: String,
    secret: bool,
}

impl fmt::Debug for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            f.write_str(REDACTED)
        } else {
            write!(f, "{:?}", self.value)
        }
    }
}

/// A connection's resolved settings. `Debug` never shows secret values.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    values: BTreeMap<String, SettingValue>,
}

impl Settings {
    /// Sets `name`; `secret` values are redacted wherever the host prints text.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>, secret: bool) {
        self.values.insert(
            name.into(),
            SettingValue {
                value: value.into(),
                secret,
            },
        );
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(|v| v.value.as_str())
    }

    /// Whether `name` is set and secret.
    pub fn is_secret(&self, name: &str) -> bool {
        self.values.get(name).is_some_and(|v| v.secret)
    }

    /// Whether `name` is set.
    pub fn contains(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Marks `name` secret (the plugin's `describe` says so).
    pub fn mark_secret(&mut self, name: &str) {
        if let Some(v) = self.values.get_mut(name) {
            v.secret = true;
        }
    }

    /// The names of the settings, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// A redactor for every secret value of these settings.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(
            self.values
                .values()
                .filter(|v| v.secret)
                .map(|v| v.value.clone()),
        )
    }
}

/// Replaces secret values in text with [`REDACTED`].
#[derive(Clone, Debug, Default)]
pub struct Redactor {
    // Longest first, so a secret that contains another is replaced whole.
    secrets: Arc<Vec<String>>,
}

impl Redactor {
    /// A redactor for `secrets`; empty values are ignored (they would match everywhere).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor {
            secrets: Arc::new(secrets),
        }
    }

    /// The length of the longest secret, in bytes.
    pub fn longest(&self) -> usize {
        self.secrets.first().map_or(0, String::len)
    }

    /// `text` with every secret replaced.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if !self.secrets.iter().any(|s| text.contains(s.as_str())) {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_string();
        for secret in self.secrets.iter() {
            out = out.replace(secret.as_str(), REDACTED);
        }
        Cow::Owned(out)
    }
}

/// Resolves a configured value: `${env:NAME}` reads the environment, `${file:PATH}` reads a file
/// (trailing newline removed, relative paths from `base_dir`), anything else is literal. Returns
/// the value and whether it came from a reference (such values are always treated as secret).
pub fn resolve_value(raw: &str, base_dir: &Path) -> anyhow::Result<(String, bool)> {
    let Some(reference) = raw.strip_prefix("${").and_then(|r| r.strip_suffix('}')) else {
        return Ok((raw.to_string(), false));
    };
    if let Some(name) = reference.strip_prefix("env:") {
        let value = std::env::var(name).with_context(|| {
            format!("environment variable `{name}` is not set (referenced as `{raw}`)")
        })?;
        return Ok((value, true));
    }
    if let Some(path) = reference.strip_prefix("file:") {
        let path = base_dir.join(path);
        let value = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read secret file `{}` (referenced as `{raw}`)",
                path.display()
            )
        })?;
        let value = value.strip_suffix('\n').unwrap_or(&value);
        let value = value.strip_suffix('\r').unwrap_or(value);
        return Ok((value.to_string(), true));
    }
    bail!("unknown reference `{raw}`: use `${{env:NAME}}` or `${{file:PATH}}`")
}

impl Host for CallState {
    async fn get(&mut self, name: String) -> Option<String> {
        self.connection()?.settings.get(&name).map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_longest_secret_first() {
        let r = Redactor::new(["abc".to_string(), "abcdef".to_string(), String::new()]);
        assert_eq!(r.redact("x abcdef y abc"), "x [redacted] y [redacted]");
        assert!(matches!(r.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn debug_hides_secrets() {
        let mut s = Settings::default();
        s.insert("site", "example.com", false);
        s.insert("private-key", "hunter2", true);
        let shown = format!("{s:?}");
        assert!(shown.contains("example.com"));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn resolves_references() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key.txt"), "s3cret\n").unwrap();
        assert_eq!(
            resolve_value("${file:key.txt}", dir.path()).unwrap(),
            ("s3cret".to_string(), true)
        );
        assert_eq!(
            resolve_value("plain", dir.path()).unwrap(),
            ("plain".to_string(), false)
        );
        let err = resolve_value("${env:PSAHOST_TEST_SURELY_UNSET}", dir.path()).unwrap_err();
        assert!(
            err.to_string().contains("PSAHOST_TEST_SURELY_UNSET"),
            "{err}"
        );
        let err = resolve_value("${vault:x}", dir.path()).unwrap_err();
        assert!(err.to_string().contains("unknown reference"), "{err}");
    }
}
