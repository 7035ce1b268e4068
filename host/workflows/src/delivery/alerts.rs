//! Alerts as the tool sends them: JSON (one object or an array) or JSON lines, bounded.

use anyhow::{Context, anyhow, bail};
use serde::{Deserialize, Serialize};

use super::settings::Severity;

/// The most alerts one input holds.
pub const MAX_ALERTS: usize = 10_000;
/// The most bytes one input holds.
pub const MAX_INPUT_BYTES: usize = 16 << 20;
/// The longest alert id, organisation, type or rule name.
pub const MAX_NAME_CHARS: usize = 200;
/// The longest title.
pub const MAX_TITLE_CHARS: usize = 1_000;
/// The longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 32_000;

/// An alert of the tool (Kaseya MDR and the like).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Alert {
    /// The tool's id of the alert (the delivery's key: the same id is delivered once).
    pub id: String,
    /// The tool's organisation (mapped to a PSA account).
    pub organisation: String,
    /// `critical`, `high`, `medium` or `low`.
    pub severity: String,
    /// The alert (event) type.
    #[serde(rename = "type")]
    pub alert_type: String,
    /// The respond rule that raised it, if any.
    #[serde(default)]
    pub respond_rule: Option<String>,
    /// The IOC rule that raised it, if any.
    #[serde(default)]
    pub ioc_rule: Option<String>,
    /// Its title.
    pub title: String,
    #[serde(default)]
    /// Description.
    pub description: Option<String>,
    /// The e-mail address of the person concerned (finds the contact).
    #[serde(default)]
    pub email: Option<String>,
    /// When it was raised (RFC 3339).
    pub time: String,
}

impl Alert {
    /// Its severity (checked by [`Alert::check`]).
    pub fn severity(&self) -> Severity {
        Severity::parse(&self.severity).unwrap_or(Severity::Low)
    }

    /// The rule that raised it (respond rule, else IOC rule).
    pub fn rule(&self) -> Option<&str> {
        self.respond_rule.as_deref().or(self.ioc_rule.as_deref())
    }

    /// Checks the fields' form and bounds.
    pub fn check(&self) -> anyhow::Result<()> {
        let id = crate::delivery::short(&self.id, 80);
        let bounded = |field: &str, value: &str, max: usize| -> anyhow::Result<()> {
            if value.trim().is_empty() {
                bail!("alert `{id}`: `{field}` is empty");
            }
            if value.chars().count() > max {
                bail!("alert `{id}`: `{field}` has more than {max} characters");
            }
            Ok(())
        };
        bounded("id", &self.id, MAX_NAME_CHARS)?;
        bounded("organisation", &self.organisation, MAX_NAME_CHARS)?;
        bounded("type", &self.alert_type, MAX_NAME_CHARS)?;
        bounded("title", &self.title, MAX_TITLE_CHARS)?;
        for (field, v) in [
            ("respond-rule", &self.respond_rule),
            ("ioc-rule", &self.ioc_rule),
            ("email", &self.email),
        ] {
            if let Some(v) = v {
                bounded(field, v, MAX_NAME_CHARS)?;
            }
        }
        if let Some(d) = &self.description
            && d.chars().count() > MAX_DESCRIPTION_CHARS
        {
            bail!("alert `{id}`: `description` has more than {MAX_DESCRIPTION_CHARS} characters");
        }
        if Severity::parse(&self.severity).is_none() {
            bail!(
                "alert `{id}`: severity `{}` is not one of critical, high, medium, low",
                crate::delivery::short(&self.severity, 40)
            );
        }
        time::OffsetDateTime::parse(&self.time, &time::format_description::well_known::Rfc3339)
            .map_err(|_| {
                anyhow!(
                    "alert `{id}`: time `{}` is not an RFC 3339 time such as 2026-03-01T09:30:00Z",
                    crate::delivery::short(&self.time, 40)
                )
            })?;
        Ok(())
    }
}

/// Alerts from JSON (one object or an array) or JSON lines, each checked; at most
/// [`MAX_ALERTS`] and [`MAX_INPUT_BYTES`].
pub fn parse(text: &str) -> anyhow::Result<Vec<Alert>> {
    if text.len() > MAX_INPUT_BYTES {
        bail!(
            "the alerts input has {} bytes, more than {MAX_INPUT_BYTES}: send it in parts",
            text.len()
        );
    }
    let trimmed = text.trim_start();
    let alerts: Vec<Alert> = if trimmed.starts_with('[') {
        serde_json::from_str(trimmed).context("the alerts are not a JSON array of alerts")?
    } else {
        let mut out = Vec::new();
        let mut de = serde_json::Deserializer::from_str(trimmed).into_iter::<Alert>();
        for (n, item) in de.by_ref().enumerate() {
            out.push(
                item.with_context(|| format!("alert {} of the input is not an alert", n + 1))?,
            );
            if out.len() > MAX_ALERTS {
                break;
            }
        }
        out
    };
    if alerts.len() > MAX_ALERTS {
        bail!("the input has more than {MAX_ALERTS} alerts: send it in parts");
    }
    for a in &alerts {
        a.check()?;
    }
    Ok(alerts)
}
