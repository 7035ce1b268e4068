//! The capabilities the host grants a connection's calls, one module per WIT interface:
//! `http` (outbound requests within the grant and limits), `kv` (private state), `log` (into
//! `tracing`) and `settings` (the operator's values, secrets redacted).

pub mod http;
pub mod kv;
pub mod log;
pub mod settings;

use crate::bindings::exports::psa::connector::connector_api::{ConnectorInfo, LimitScope};
use anyhow::{Context, bail};
use http::{Grant, HttpCapability, HttpLimits, OriginPattern, Rate, ScopeLimits};
use kv::{KvLimits, KvNamespace, KvStore};
use log::{LogBudget, LogLimits};
use settings::{Redactor, Settings};
use std::sync::Arc;
use std::time::Duration;

/// Everything one connection's calls may use.
pub struct Capabilities {
    /// The connection's id.
    pub connection: String,
    /// Its settings.
    pub settings: Settings,
    /// Redacts its secrets.
    pub redactor: Redactor,
    /// Its outbound HTTP.
    pub http: HttpCapability,
    /// Its kv namespace.
    pub kv: KvNamespace,
    /// Its log budget, shared by its calls.
    pub log: Arc<LogBudget>,
}

/// What the operator decided for one connection.
#[derive(Clone, Debug)]
pub struct ConnectionPolicy {
    /// Outbound grant.
    pub grant: Grant,
    /// HTTP limits.
    pub http: HttpLimits,
    /// kv caps.
    pub kv: KvLimits,
    /// Log volume.
    pub log: LogLimits,
}

impl Capabilities {
    /// Opens the capabilities of connection `connection` for a connector: applies the
    /// connector's setting defaults, checks required and unknown settings, marks its secret
    /// settings, expands its requested outbound hosts and turns its rate-limit hints into limits.
    ///
    /// Only the operator's values are secrets (a plugin's default value is not redacted).
    /// The error never shows a secret value: it passes the connection's redactor, and a
    /// requested host that uses a secret setting is not shown expanded.
    pub fn open(
        connection: &str,
        info: &ConnectorInfo,
        mut settings: Settings,
        policy: &ConnectionPolicy,
        kv: &KvStore,
    ) -> anyhow::Result<Capabilities> {
        for spec in &info.settings {
            if spec.secret {
                settings.mark_secret(&spec.name);
            }
        }
        let redactor = settings.redactor();
        Self::open_marked(connection, info, settings, policy, kv)
            .map_err(|e| anyhow::anyhow!("{}", redactor.redact(&format!("{e:#}"))))
    }

    fn open_marked(
        connection: &str,
        info: &ConnectorInfo,
        mut settings: Settings,
        policy: &ConnectionPolicy,
        kv: &KvStore,
    ) -> anyhow::Result<Capabilities> {
        for spec in &info.settings {
            if spec.secret {
                settings.mark_secret(&spec.name);
            }
            // A default comes from the plugin, not the operator: it is no secret, and making it
            // a redaction term would let a plugin blank words of the host's own log lines.
            if !settings.contains(&spec.name)
                && let Some(default) = &spec.default_value
            {
                settings.insert(spec.name.clone(), default.clone(), false);
            }
        }
        let unknown: Vec<&str> = settings
            .names()
            .filter(|n| !info.settings.iter().any(|s| s.name == *n))
            .collect();
        if let Some(name) = unknown.first() {
            bail!(
                "setting `{name}` is not a setting of plugin `{}`; its settings are: {}",
                info.id,
                setting_names(info)
            );
        }
        let missing: Vec<&str> = info
            .settings
            .iter()
            .filter(|s| s.required && settings.get(&s.name).is_none_or(|v| v.trim().is_empty()))
            .map(|s| s.name.as_str())
            .collect();
        if !missing.is_empty() {
            bail!(
                "plugin `{}` requires setting{} {}",
                info.id,
                if missing.len() > 1 { "s" } else { "" },
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }

        // A pattern built from an optional setting the operator left unset cannot be reached,
        // so it is dropped rather than refused.
        let requested = info
            .outbound_hosts
            .iter()
            .filter(|pattern| {
                crate::runtime::placeholders(pattern).all(|name| settings.get(name).is_some())
            })
            .map(|pattern| {
                let expanded = http::expand(pattern, &settings)?;
                let secret = crate::runtime::placeholders(pattern).any(|n| settings.is_secret(n));
                if secret {
                    // Neither the expansion nor the parser's complaint (which quotes parts of
                    // it) may be shown: a redactor only catches a secret whole.
                    return OriginPattern::parse(&expanded).map_err(|_| {
                        anyhow::anyhow!(
                            "outbound host `{pattern}` of plugin `{}` does not expand to an origin: check the settings it uses (secret, so not shown)",
                            info.id
                        )
                    });
                }
                OriginPattern::parse(&expanded).with_context(|| {
                    format!(
                        "outbound host `{pattern}` of plugin `{}` expands to `{expanded}`, which is not an origin: check the settings it uses",
                        info.id
                    )
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        if let Some(p) = requested.iter().find(|p| p.operator_only()) {
            bail!(
                "outbound host `{p}` of plugin `{}` asks for any port (`:*`), which only an operator's grant may do",
                info.id
            );
        }
        let redactor = settings.redactor();
        let http = HttpCapability::new(
            requested,
            policy.grant.clone(),
            policy.http.clone(),
            limit_hints(info),
            &format!("psahost/{} ({})", env!("CARGO_PKG_VERSION"), info.id),
        )?;
        let kv = kv.namespace(connection, policy.kv)?;
        Ok(Capabilities {
            connection: connection.to_string(),
            settings,
            redactor,
            http,
            kv,
            log: Arc::new(LogBudget::new(policy.log)),
        })
    }
}

fn setting_names(info: &ConnectorInfo) -> String {
    if info.settings.is_empty() {
        return "(none)".into();
    }
    info.settings
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The connector's rate-limit hints as (connection, endpoint) limits.
fn limit_hints(info: &ConnectorInfo) -> (ScopeLimits, ScopeLimits) {
    let mut connection = ScopeLimits::default();
    let mut endpoint = ScopeLimits::default();
    for hint in &info.rate_limits {
        let limits = ScopeLimits {
            rate: (hint.requests > 0 && hint.per_seconds > 0).then(|| {
                Rate::new(
                    hint.requests,
                    Duration::from_secs(u64::from(hint.per_seconds)),
                )
            }),
            max_concurrent: (hint.max_concurrent > 0).then_some(hint.max_concurrent),
        };
        match hint.scope {
            LimitScope::Connection => connection = connection.stricter(limits),
            LimitScope::Endpoint => endpoint = endpoint.stricter(limits),
        }
    }
    (connection, endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::exports::psa::connector::connector_api::SettingSpec;

    fn info(settings: Vec<SettingSpec>) -> ConnectorInfo {
        ConnectorInfo {
            id: "probe".into(),
            name: "Probe".into(),
            version: "1.0.0".into(),
            vendor: "tests".into(),
            description: String::new(),
            settings,
            outbound_hosts: vec![],
            operations: vec![],
            rate_limits: vec![],
            paging: vec![],
            datasets: vec![],
            read_only_configuration_types: vec![],
        }
    }

    fn secret(name: &str, default: Option<&str>) -> SettingSpec {
        SettingSpec {
            name: name.into(),
            label: name.into(),
            description: String::new(),
            required: false,
            secret: true,
            default_value: default.map(str::to_string),
            example: None,
        }
    }

    fn policy() -> ConnectionPolicy {
        ConnectionPolicy {
            grant: Grant::default(),
            http: HttpLimits::default(),
            kv: KvLimits::default(),
            log: LogLimits::default(),
        }
    }

    #[test]
    fn only_the_operators_values_are_redacted() {
        let kv = KvStore::temporary().unwrap();
        let info = info(vec![
            secret("token", Some("connected")),
            secret("key", None),
        ]);
        let mut settings = Settings::default();
        settings.insert("key", "op-s3cret", false);
        let caps = Capabilities::open("c", &info, settings, &policy(), &kv).unwrap();
        // The plugin's default is used, but it is no redaction term...
        assert_eq!(caps.settings.get("token"), Some("connected"));
        assert_eq!(
            caps.redactor.redact("ok: connected with op-s3cret"),
            "ok: connected with [redacted]"
        );
        // ...while the operator's value of the same setting is.
        let mut settings = Settings::default();
        settings.insert("token", "tok-9", false);
        let caps = Capabilities::open("c", &info, settings, &policy(), &kv).unwrap();
        assert_eq!(caps.redactor.redact("tok-9"), "[redacted]");
    }
}
