//! `[connections.ID.delivery]`: alert-to-ticket delivery and the billable-user sync, parsed into
//! [`DeliverySettings`]. The form is checked here (templates, severities, days, required
//! sections); the ids are checked against the PSA by `psahost delivery check ID`
//! ([`psahost_workflows::delivery::settings::check`]).
//!
//! ```toml
//! [connections.acme.delivery]
//! catch-all = { account = "250", contact = "1201" }   # required; contact optional
//! attach-contacts = true
//! ignored-accounts = ["13"]
//! account-filter = { types = ["Customer"], classifications = [], market-segments = [] }
//!
//! [connections.acme.delivery.organisations."Contoso Ltd"]
//! account = "19"
//! contact = "40"            # optional: the account's default contact
//! tickets = true            # ticket creation for this organisation (default on)
//! contract = "7"            # optional: attached to its tickets; its billable quantity
//! service = "12"            # optional: the contract service, instead of the default one
//!
//! [connections.acme.delivery.ticket]
//! category = "2"            # where the PSA has ticket categories (Autotask, Kaseya BMS)
//! ticket-type = "21"
//! status = "1"
//! queue = "1"
//! source = "2"
//! subject = "MDR {severity}: {title} ({organisation})"
//! priorities = { critical = "1", high = "2", medium = "3", low = "4" }
//!
//! [connections.acme.delivery.note]
//! note-type = "1"           # where the PSA has note types
//! visibility = "internal"   # or "public"
//! title = "Alert {id}: {title}"
//!
//! [connections.acme.delivery.overrides]
//! alert-types = { ransomware = { ticket-type = "22", sub-type = "31" } }
//! respond-rules = { "isolate-host" = { ticket-type = "23" } }
//! ioc-rules = {}
//!
//! [connections.acme.delivery.billing]   # optional: the billable-user sync
//! service = "12"            # the default contract service (required)
//! day = 31                  # day of the month; past a short month's end, its last day
//! ```

use std::collections::{BTreeMap, BTreeSet};

use psahost_workflows::delivery::settings::{
    AccountFilter, AccountTarget, BillingSettings, DeliverySettings, IssueOverride, NoteDefaults,
    Organisation, Overrides, Severity, TicketDefaults, check_template,
};
use serde::Deserialize;
use toml::Spanned;

/// The most organisations one connection maps.
pub const MAX_ORGANISATIONS: usize = 10_000;
/// The most overrides of one kind.
pub const MAX_OVERRIDES: usize = 1_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawDelivery {
    catch_all: Option<Spanned<RawTarget>>,
    #[serde(default)]
    attach_contacts: bool,
    #[serde(default)]
    ignored_accounts: Vec<String>,
    #[serde(default)]
    account_filter: RawFilter,
    #[serde(default)]
    organisations: BTreeMap<String, Spanned<RawOrganisation>>,
    #[serde(default)]
    ticket: RawTicket,
    #[serde(default)]
    note: RawNote,
    #[serde(default)]
    overrides: RawOverrides,
    billing: Option<Spanned<RawBilling>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTarget {
    account: String,
    contact: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFilter {
    #[serde(default)]
    types: Vec<String>,
    #[serde(default)]
    classifications: Vec<String>,
    #[serde(default)]
    market_segments: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawOrganisation {
    account: String,
    contact: Option<String>,
    #[serde(default = "yes")]
    tickets: bool,
    contract: Option<String>,
    service: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawTicket {
    category: Option<String>,
    ticket_type: Option<String>,
    status: Option<String>,
    queue: Option<String>,
    source: Option<String>,
    subject: Option<Spanned<String>>,
    #[serde(default)]
    priorities: BTreeMap<String, Spanned<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawNote {
    note_type: Option<String>,
    visibility: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawOverrides {
    #[serde(default)]
    alert_types: BTreeMap<String, RawIssue>,
    #[serde(default)]
    respond_rules: BTreeMap<String, RawIssue>,
    #[serde(default)]
    ioc_rules: BTreeMap<String, RawIssue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawIssue {
    ticket_type: String,
    sub_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawBilling {
    service: Option<String>,
    day: Option<Spanned<i64>>,
}

/// An error at `span` naming `field` (the caller's `Validator::error`).
pub(crate) type ErrorAt<'a> = &'a dyn Fn(std::ops::Range<usize>, &str, String) -> anyhow::Error;

fn id(
    value: &str,
    field: &str,
    span: std::ops::Range<usize>,
    err: ErrorAt<'_>,
) -> anyhow::Result<String> {
    let v = value.trim();
    if v.is_empty() || v.len() > 100 || v.chars().any(char::is_control) {
        return Err(err(
            span,
            field,
            format!("`{value}` is not a PSA id: give the id as text, e.g. \"19\""),
        ));
    }
    Ok(v.to_string())
}

/// `[connections.ID.delivery]` validated; `field` is `connections.ID.delivery`, `whole` the
/// section's span (for errors about a missing key).
pub(crate) fn delivery(
    raw: &RawDelivery,
    field: &str,
    whole: std::ops::Range<usize>,
    err: ErrorAt<'_>,
) -> anyhow::Result<DeliverySettings> {
    let f = |name: &str| format!("{field}.{name}");
    let Some(catch_all) = &raw.catch_all else {
        return Err(err(
            whole,
            &f("catch-all"),
            "a catch-all account is required for unmapped organisations: catch-all = { account = \"ID\" }".into(),
        ));
    };
    let target = |t: &RawTarget,
                  name: &str,
                  span: std::ops::Range<usize>|
     -> anyhow::Result<AccountTarget> {
        Ok(AccountTarget {
            account: id(
                &t.account,
                &f(&format!("{name}.account")),
                span.clone(),
                err,
            )?,
            contact: t
                .contact
                .as_deref()
                .map(|c| id(c, &f(&format!("{name}.contact")), span.clone(), err))
                .transpose()?,
        })
    };
    let catch_all = target(catch_all.get_ref(), "catch-all", catch_all.span())?;
    if raw.organisations.len() > MAX_ORGANISATIONS {
        return Err(err(
            whole,
            &f("organisations"),
            format!("at most {MAX_ORGANISATIONS} organisations"),
        ));
    }
    let mut organisations = BTreeMap::new();
    for (name, o) in &raw.organisations {
        let span = o.span();
        let o = o.get_ref();
        let key = format!("organisations.{name}");
        if name.trim().is_empty() || name.chars().count() > 200 {
            return Err(err(
                span,
                &f(&key),
                "an organisation name has 1 to 200 characters".into(),
            ));
        }
        organisations.insert(
            name.clone(),
            Organisation {
                target: target(
                    &RawTarget {
                        account: o.account.clone(),
                        contact: o.contact.clone(),
                    },
                    &key,
                    span.clone(),
                )?,
                tickets: o.tickets,
                contract: o
                    .contract
                    .as_deref()
                    .map(|c| id(c, &f(&format!("{key}.contract")), span.clone(), err))
                    .transpose()?,
                service: o
                    .service
                    .as_deref()
                    .map(|c| id(c, &f(&format!("{key}.service")), span.clone(), err))
                    .transpose()?,
            },
        );
    }
    let t = &raw.ticket;
    if let Some(subject) = &t.subject
        && let Err(why) = check_template(subject.get_ref())
    {
        return Err(err(subject.span(), &f("ticket.subject"), why));
    }
    let mut priorities = BTreeMap::new();
    for (name, value) in &t.priorities {
        let Some(s) = Severity::parse(name) else {
            return Err(err(
                value.span(),
                &f(&format!("ticket.priorities.{name}")),
                format!("`{name}` is not a severity: use critical, high, medium and low"),
            ));
        };
        priorities.insert(
            s,
            id(
                value.get_ref(),
                &f(&format!("ticket.priorities.{name}")),
                value.span(),
                err,
            )?,
        );
    }
    let opt = |v: &Option<String>, name: &str| {
        v.as_deref()
            .map(|x| id(x, &f(name), whole.clone(), err))
            .transpose()
    };
    let ticket = TicketDefaults {
        category: opt(&t.category, "ticket.category")?,
        ticket_type: opt(&t.ticket_type, "ticket.ticket-type")?,
        status: opt(&t.status, "ticket.status")?,
        queue: opt(&t.queue, "ticket.queue")?,
        source: opt(&t.source, "ticket.source")?,
        subject: t.subject.as_ref().map(|s| s.get_ref().clone()),
        priorities,
    };
    let n = &raw.note;
    let internal = match &n.visibility {
        None => None,
        Some(v) => match v.get_ref().trim().to_ascii_lowercase().as_str() {
            "internal" => Some(true),
            "public" => Some(false),
            other => {
                return Err(err(
                    v.span(),
                    &f("note.visibility"),
                    format!("`{other}` is not a visibility: use \"internal\" or \"public\""),
                ));
            }
        },
    };
    if let Some(title) = &n.title
        && let Err(why) = check_template(title.get_ref())
    {
        return Err(err(title.span(), &f("note.title"), why));
    }
    let note = NoteDefaults {
        note_type: opt(&n.note_type, "note.note-type")?,
        internal,
        title: n.title.as_ref().map(|s| s.get_ref().clone()),
    };
    let issues = |map: &BTreeMap<String, RawIssue>,
                  name: &str|
     -> anyhow::Result<BTreeMap<String, IssueOverride>> {
        if map.len() > MAX_OVERRIDES {
            return Err(err(
                whole.clone(),
                &f(&format!("overrides.{name}")),
                format!("at most {MAX_OVERRIDES} overrides"),
            ));
        }
        map.iter()
            .map(|(k, v)| {
                let field = format!("overrides.{name}.{k}");
                Ok((
                    k.clone(),
                    IssueOverride {
                        ticket_type: id(
                            &v.ticket_type,
                            &f(&format!("{field}.ticket-type")),
                            whole.clone(),
                            err,
                        )?,
                        sub_type: v
                            .sub_type
                            .as_deref()
                            .map(|s| id(s, &f(&format!("{field}.sub-type")), whole.clone(), err))
                            .transpose()?,
                    },
                ))
            })
            .collect()
    };
    let overrides = Overrides {
        alert_types: issues(&raw.overrides.alert_types, "alert-types")?,
        respond_rules: issues(&raw.overrides.respond_rules, "respond-rules")?,
        ioc_rules: issues(&raw.overrides.ioc_rules, "ioc-rules")?,
    };
    let billing = match &raw.billing {
        None => None,
        Some(b) => {
            let span = b.span();
            let b = b.get_ref();
            let Some(service) = &b.service else {
                return Err(err(
                    span,
                    &f("billing.service"),
                    "a default contract service is required when the billable sync is enabled: service = \"ID\" (see `psahost delivery check`)".into(),
                ));
            };
            let day = match &b.day {
                None => {
                    return Err(err(
                        span,
                        &f("billing.day"),
                        "the day of the month is required: day = 1 to 31".into(),
                    ));
                }
                Some(d) if (1..=31).contains(d.get_ref()) => *d.get_ref() as u8,
                Some(d) => {
                    return Err(err(
                        d.span(),
                        &f("billing.day"),
                        format!("`{}` is not a day of the month: use 1 to 31", d.get_ref()),
                    ));
                }
            };
            Some(BillingSettings {
                service: id(service, &f("billing.service"), span, err)?,
                day,
            })
        }
    };
    Ok(DeliverySettings {
        catch_all,
        organisations,
        filter: AccountFilter {
            types: raw.account_filter.types.clone(),
            classifications: raw.account_filter.classifications.clone(),
            market_segments: raw.account_filter.market_segments.clone(),
        },
        ignored: raw
            .ignored_accounts
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>(),
        attach_contacts: raw.attach_contacts,
        ticket,
        note,
        overrides,
        billing,
    })
}

#[cfg(test)]
mod tests {
    use crate::Config;
    use psahost_workflows::delivery::settings::Severity;
    use std::path::Path;

    const BASE: &str = r#"
[runtime]
data-dir = "data"

[plugins.cw]
builtin = "connectwise-manage"

[connections.acme]
plugin = "cw"
settings = { site = "api-na.myconnectwise.net" }
grant = { hosts = ["requested"] }
"#;

    const DELIVERY: &str = r#"
[connections.acme.delivery]
catch-all = { account = "250", contact = "7" }
attach-contacts = true
ignored-accounts = ["13"]
account-filter = { types = ["Customer"] }

[connections.acme.delivery.organisations."Contoso Ltd"]
account = "19"
tickets = false
contract = "7"

[connections.acme.delivery.ticket]
queue = "1"
status = "2"
ticket-type = "3"
source = "4"
subject = "MDR {severity}: {title}"
priorities = { Critical = "1", high = "2", medium = "3", low = "4" }

[connections.acme.delivery.note]
visibility = "internal"
title = "Alert {id}"

[connections.acme.delivery.overrides]
respond-rules = { isolate-host = { ticket-type = "9", sub-type = "10" } }

[connections.acme.delivery.billing]
service = "12"
day = 31
"#;

    fn parse(extra: &str) -> anyhow::Result<Config> {
        Config::parse(
            &format!("{BASE}{extra}"),
            Path::new("/etc/psahost/psahost.toml"),
        )
    }

    fn error(extra: &str) -> String {
        format!("{:#}", parse(extra).unwrap_err())
    }

    #[test]
    fn a_delivery_section_is_parsed_into_settings() {
        let c = parse(DELIVERY).unwrap();
        let d = c.connection("acme").unwrap().delivery.clone().unwrap();
        assert_eq!(d.catch_all.account, "250");
        assert_eq!(d.catch_all.contact.as_deref(), Some("7"));
        let org = &d.organisations["Contoso Ltd"];
        assert_eq!((org.target.account.as_str(), org.tickets), ("19", false));
        assert_eq!(d.ticket.priorities[&Severity::Critical], "1");
        assert_eq!(d.note.internal, Some(true));
        assert_eq!(
            d.overrides.respond_rules["isolate-host"]
                .sub_type
                .as_deref(),
            Some("10")
        );
        assert_eq!(d.billing.as_ref().unwrap().day, 31);
        assert!(d.ignored.contains("13"));
        assert!(
            parse("")
                .unwrap()
                .connection("acme")
                .unwrap()
                .delivery
                .is_none()
        );
    }

    #[test]
    fn form_errors_name_the_file_the_field_and_the_value() {
        let cases = [
            (
                DELIVERY.replace("catch-all = { account = \"250\", contact = \"7\" }\n", ""),
                "connections.acme.delivery.catch-all",
            ),
            (
                DELIVERY.replace("{severity}", "{nope}"),
                "connections.acme.delivery.ticket.subject",
            ),
            (
                DELIVERY.replace("visibility = \"internal\"", "visibility = \"secret\""),
                "connections.acme.delivery.note.visibility",
            ),
            (
                DELIVERY.replace("day = 31", "day = 32"),
                "connections.acme.delivery.billing.day",
            ),
            (
                DELIVERY.replace("service = \"12\"\n", ""),
                "connections.acme.delivery.billing.service",
            ),
            (
                DELIVERY.replace("Critical = \"1\"", "urgent = \"1\""),
                "connections.acme.delivery.ticket.priorities.urgent",
            ),
        ];
        for (text, field) in cases {
            let e = error(&text);
            assert!(e.contains(field), "{field}: {e}");
            assert!(e.contains("/etc/psahost/psahost.toml"), "{e}");
            assert!(e.contains("line "), "{e}");
        }
        assert!(
            error(&DELIVERY.replace("visibility = \"internal\"", "visibility = \"secret\""))
                .contains("`secret`")
        );
        assert!(
            error(&DELIVERY.replace("attach-contacts", "attach-contact"))
                .contains("attach-contact")
        );
    }
}
