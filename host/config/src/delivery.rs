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

/// A form error of settings given as JSON (`PUT /v1/connections/{id}/delivery/settings`): the
/// field as in the TOML table (`ticket.subject`) and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FormError {
    /// The field, as in the TOML table (`ticket.subject`, `catch-all`); `delivery` for the
    /// document as a whole.
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for FormError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "delivery.{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FormError {}

/// `value` without its `null`s (TOML has none: a `null` field is an absent one).
fn without_nulls(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// The field at byte `at` of TOML text written by `toml::to_string` (a table header per line,
/// then `key = value` lines): the header's path and the line's key, quotes removed.
fn field_at(text: &str, at: usize) -> Option<String> {
    let before = text.get(..at)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let key = line
        .split_once(" = ")
        .map(|(k, _)| k.trim().replace('"', ""))
        .filter(|k| !k.starts_with('['));
    let header = before[..line_start]
        .lines()
        .rev()
        .find(|l| l.starts_with('[') && l.ends_with(']'))
        .map(|h| h.trim_matches(|c| c == '[' || c == ']').replace('"', ""));
    match (header, key) {
        (Some(h), Some(k)) => Some(format!("{h}.{k}")),
        (Some(h), None) => Some(h),
        (None, Some(k)) => Some(k),
        (None, None) => None,
    }
}

/// Settings given as JSON in the shape of the `[connections.ID.delivery]` table (kebab-case
/// keys, `null` for an absent field), validated exactly as the configuration's table is.
pub fn from_json(document: &serde_json::Value) -> Result<DeliverySettings, FormError> {
    let whole = |message: String| FormError {
        field: "delivery".into(),
        message,
    };
    if !document.is_object() {
        return Err(whole(
            "the settings are a JSON object of the `[connections.ID.delivery]` table's shape, e.g. {\"catch-all\": {\"account\": \"250\"}, \"ticket\": {...}, \"note\": {...}}".into(),
        ));
    }
    // Through TOML text, so the settings are read by the very code that reads the file.
    let table = toml::Value::try_from(without_nulls(document)).map_err(|e| {
        whole(format!(
            "the settings cannot be read as the TOML table: {e}"
        ))
    })?;
    let text = toml::to_string(&table).map_err(|e| {
        whole(format!(
            "the settings cannot be read as the TOML table: {e}"
        ))
    })?;
    let raw: RawDelivery = toml::from_str(&text).map_err(|e| FormError {
        field: e
            .span()
            .and_then(|span| field_at(&text, span.start))
            .unwrap_or_else(|| "delivery".into()),
        message: e.message().to_string(),
    })?;
    let err = |_span: std::ops::Range<usize>, field: &str, message: String| {
        anyhow::Error::new(FormError {
            field: field.strip_prefix("delivery.").unwrap_or(field).to_string(),
            message,
        })
    };
    delivery(&raw, "delivery", 0..0, &err).map_err(|e| match e.downcast::<FormError>() {
        Ok(fe) => fe,
        Err(e) => whole(format!("{e:#}")),
    })
}

/// The answer about connection `id`'s settings in effect (`GET`/`PUT`/`DELETE .../delivery/settings`
/// and `psahost delivery settings show`): their source, version, when they were set, and them.
pub fn answer(id: &str, e: Option<&Effective>) -> serde_json::Value {
    serde_json::json!({
        "connection": id,
        "source": e.map(|e| e.source),
        "version": e.and_then(|e| e.version),
        "set-at": e.and_then(|e| e.set_at.clone()),
        "settings": e.map(|e| to_json(&e.settings)),
    })
}

/// Settings as JSON in the shape of the `[connections.ID.delivery]` table ([`from_json`] reads
/// it back to the same settings). Delivery settings hold ids and templates, no secret.
pub fn to_json(s: &DeliverySettings) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    fn put(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
        if let Some(v) = value {
            map.insert(key.into(), Value::String(v.clone()));
        }
    }
    let target = |t: &AccountTarget| {
        let mut m = Map::new();
        m.insert("account".into(), json!(t.account));
        put(&mut m, "contact", &t.contact);
        m
    };
    let organisations: Map<String, Value> = s
        .organisations
        .iter()
        .map(|(name, o)| {
            let mut m = target(&o.target);
            m.insert("tickets".into(), json!(o.tickets));
            put(&mut m, "contract", &o.contract);
            put(&mut m, "service", &o.service);
            (name.clone(), Value::Object(m))
        })
        .collect();
    let t = &s.ticket;
    let mut ticket = Map::new();
    put(&mut ticket, "category", &t.category);
    put(&mut ticket, "ticket-type", &t.ticket_type);
    put(&mut ticket, "status", &t.status);
    put(&mut ticket, "queue", &t.queue);
    put(&mut ticket, "source", &t.source);
    put(&mut ticket, "subject", &t.subject);
    ticket.insert(
        "priorities".into(),
        Value::Object(
            t.priorities
                .iter()
                .map(|(sev, id)| (sev.name().to_string(), json!(id)))
                .collect(),
        ),
    );
    let mut note = Map::new();
    put(&mut note, "note-type", &s.note.note_type);
    put(
        &mut note,
        "visibility",
        &s.note
            .internal
            .map(|i| if i { "internal" } else { "public" }.to_string()),
    );
    put(&mut note, "title", &s.note.title);
    let issues = |map: &BTreeMap<String, IssueOverride>| {
        Value::Object(
            map.iter()
                .map(|(k, o)| {
                    let mut m = Map::new();
                    m.insert("ticket-type".into(), json!(o.ticket_type));
                    put(&mut m, "sub-type", &o.sub_type);
                    (k.clone(), Value::Object(m))
                })
                .collect(),
        )
    };
    let mut out = json!({
        "catch-all": target(&s.catch_all),
        "attach-contacts": s.attach_contacts,
        "ignored-accounts": s.ignored,
        "account-filter": {
            "types": s.filter.types,
            "classifications": s.filter.classifications,
            "market-segments": s.filter.market_segments,
        },
        "organisations": organisations,
        "ticket": ticket,
        "note": note,
        "overrides": {
            "alert-types": issues(&s.overrides.alert_types),
            "respond-rules": issues(&s.overrides.respond_rules),
            "ioc-rules": issues(&s.overrides.ioc_rules),
        },
    });
    if let Some(b) = &s.billing {
        out["billing"] = json!({ "service": b.service, "day": b.day });
    }
    out
}

/// Where a connection's delivery settings in effect come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SettingsSource {
    /// Set through the API (`PUT .../delivery/settings`), stored in the store: they replace
    /// the TOML table until cleared.
    Api,
    /// `[connections.ID.delivery]` of the configuration.
    Toml,
}

/// A connection's delivery settings in effect.
#[derive(Clone, Debug, PartialEq)]
pub struct Effective {
    /// The settings.
    pub settings: DeliverySettings,
    /// Where they come from.
    pub source: SettingsSource,
    /// The stored settings' version (API), none for the TOML table.
    pub version: Option<u64>,
    /// When they were set through the API (RFC 3339).
    pub set_at: Option<String>,
}

impl Effective {
    /// A key naming these settings of connection `id` (for "checked once" caches): another
    /// version, or the TOML table, is another key.
    pub fn check_key(&self, id: &str) -> String {
        match self.version {
            Some(v) => format!("{id}@api-{v}"),
            None => format!("{id}@toml"),
        }
    }
}

/// Connection `id`'s delivery settings in effect: the ones set through the API when there are
/// (they replace the TOML table until cleared), else its TOML table (`toml`), else none.
/// Every process reading the same store (replicas over PostgreSQL) sees the same ones.
pub async fn effective(
    store: &dyn psahost_store::RecordStore,
    id: &str,
    toml: Option<&DeliverySettings>,
) -> anyhow::Result<Option<Effective>> {
    use psahost_workflows::delivery::settings::stored;
    if let Some(s) = stored(store, id).await?
        && let Some(document) = &s.document
    {
        let settings = from_json(document).map_err(|e| {
            anyhow::anyhow!(
                "the delivery settings set through the API for connection `{id}` no longer load ({e}): set them again (`PUT .../delivery/settings`) or clear them (`DELETE`)"
            )
        })?;
        return Ok(Some(Effective {
            settings,
            source: SettingsSource::Api,
            version: Some(s.version),
            set_at: Some(s.at),
        }));
    }
    Ok(toml.map(|t| Effective {
        settings: t.clone(),
        source: SettingsSource::Toml,
        version: None,
        set_at: None,
    }))
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

    #[test]
    fn json_settings_read_back_as_the_toml_table_reads() {
        let c = parse(DELIVERY).unwrap();
        let d = c.connection("acme").unwrap().delivery.clone().unwrap();
        let doc = super::to_json(&d);
        assert_eq!(super::from_json(&doc).unwrap(), d);
        // A null is an absent field.
        let mut with_null = doc.clone();
        with_null["catch-all"]["contact"] = serde_json::Value::Null;
        assert_eq!(
            super::from_json(&with_null).unwrap().catch_all.contact,
            None
        );
    }

    #[test]
    fn json_form_errors_name_the_field_and_the_value() {
        let c = parse(DELIVERY).unwrap();
        let doc = super::to_json(&c.connection("acme").unwrap().delivery.clone().unwrap());
        let mut cases = Vec::new();
        let mut d = doc.clone();
        d.as_object_mut().unwrap().remove("catch-all");
        cases.push((d, "catch-all", "catch-all account is required"));
        let mut d = doc.clone();
        d["ticket"]["subject"] = "MDR {nope}".into();
        cases.push((d, "ticket.subject", "`{nope}`"));
        let mut d = doc.clone();
        d["note"]["visibility"] = "secret".into();
        cases.push((d, "note.visibility", "`secret`"));
        let mut d = doc.clone();
        d["billing"]["day"] = 32.into();
        cases.push((d, "billing.day", "`32`"));
        let mut d = doc.clone();
        d["attach-contact"] = true.into();
        cases.push((d, "attach-contact", "unknown field"));
        let mut d = doc.clone();
        d["catch-all"]["account"] = 250.into();
        cases.push((d, "catch-all.account", "string"));
        let mut d = doc.clone();
        d["organisations"]["Contoso Ltd"]["tickets"] = "yes".into();
        cases.push((d, "organisations.Contoso Ltd.tickets", "bool"));
        cases.push((serde_json::json!([1]), "delivery", "JSON object"));
        for (d, field, text) in cases {
            let e = super::from_json(&d).unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert!(e.message.contains(text), "{field}: {e}");
        }
    }
}
