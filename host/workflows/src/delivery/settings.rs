//! A connection's delivery settings (`[connections.ID.delivery]`, parsed by `psahost-config`),
//! and their check against the connection's picklists and synced records, as a set-up wizard
//! checks them ([`check`]).

use std::collections::{BTreeMap, BTreeSet};

use psahost_sandbox::bindings::psa::connector::types::{
    Error as PsaError, Reference, ReferenceKind,
};
use psahost_sandbox::connector::{Connection, ConnectorError};
use psahost_store::{Entity, ListQuery, RecordStore};
use serde_json::Value;

/// The longest subject a template renders (ConnectWise summaries hold 100 characters).
pub const MAX_SUBJECT_CHARS: usize = 100;
/// The longest note title a template renders (Autotask note titles hold 250).
pub const MAX_TITLE_CHARS: usize = 250;
/// The longest template text.
pub const MAX_TEMPLATE_CHARS: usize = 1_000;
/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "id",
    "organisation",
    "severity",
    "type",
    "rule",
    "title",
    "email",
    "time",
];

/// An alert's severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Critical.
    Critical,
    /// High.
    High,
    /// Medium.
    Medium,
    /// Low.
    Low,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    /// Its name (`critical`).
    pub fn name(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    /// The severity named `name` (case ignored).
    pub fn parse(name: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// A PSA account (company) alerts go to, with its optional default contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountTarget {
    /// The PSA company id.
    pub account: String,
    /// The contact used when the alert's e-mail finds none (else the company's primary
    /// contact in the store).
    pub contact: Option<String>,
}

/// One organisation of the tool, mapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organisation {
    /// Its account and default contact.
    pub target: AccountTarget,
    /// Whether its alerts create tickets (off: they are recorded as skipped).
    pub tickets: bool,
    /// The contract (agreement) attached to its tickets and whose service quantity the billable
    /// sync writes.
    pub contract: Option<String>,
    /// The contract service of the billable sync, instead of the default one.
    pub service: Option<String>,
}

/// Which accounts may be mapped: by company type, classification and market segment (id or
/// name, case ignored; an empty list allows all).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountFilter {
    /// Company types.
    pub types: Vec<String>,
    /// Company classifications.
    pub classifications: Vec<String>,
    /// Company market segments.
    pub market_segments: Vec<String>,
}

/// The ticket defaults. Every field is required where the PSA has the picklist ([`check`]);
/// `category` only where it has ticket categories.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TicketDefaults {
    /// The ticket category id.
    pub category: Option<String>,
    /// The ticket (issue) type id.
    pub ticket_type: Option<String>,
    /// The ticket status id.
    pub status: Option<String>,
    /// The queue (board) id.
    pub queue: Option<String>,
    /// The ticket source id.
    pub source: Option<String>,
    /// The subject template; the rendered subject also decides grouping.
    pub subject: Option<String>,
    /// Severity -> PSA priority id.
    pub priorities: BTreeMap<Severity, String>,
}

/// The note defaults (a grouped alert is a note on the open ticket with its subject).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoteDefaults {
    /// Required where the PSA has note types.
    pub note_type: Option<String>,
    /// `Some(true)`: internal, `Some(false)`: visible to the customer. Required.
    pub internal: Option<bool>,
    /// The note title template. Required.
    pub title: Option<String>,
}

/// An issue / sub-issue type override.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueOverride {
    /// The ticket (issue) type id.
    pub ticket_type: String,
    /// The sub-type (sub-issue type) id.
    pub sub_type: Option<String>,
}

/// Overrides by alert type, respond rule and IOC rule (a rule's override wins over the
/// alert type's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// By alert type.
    pub alert_types: BTreeMap<String, IssueOverride>,
    /// By respond rule.
    pub respond_rules: BTreeMap<String, IssueOverride>,
    /// By IOC rule.
    pub ioc_rules: BTreeMap<String, IssueOverride>,
}

/// The billable-user sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillingSettings {
    /// The default contract service (required when the sync is enabled).
    pub service: String,
    /// The day of the month, 1 to 31 (past a short month's end: its last day).
    pub day: u8,
}

/// `[connections.ID.delivery]`, as loaded (form checked; [`check`] checks it against the PSA).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliverySettings {
    /// Where unmapped organisations' alerts go. Required.
    pub catch_all: AccountTarget,
    /// Organisation name -> its mapping.
    pub organisations: BTreeMap<String, Organisation>,
    /// Which accounts may be mapped.
    pub filter: AccountFilter,
    /// Accounts that may not be mapped.
    pub ignored: BTreeSet<String>,
    /// Whether tickets get a contact.
    pub attach_contacts: bool,
    /// The ticket defaults.
    pub ticket: TicketDefaults,
    /// The note defaults.
    pub note: NoteDefaults,
    /// Issue / sub-issue type overrides.
    pub overrides: Overrides,
    /// The billable-user sync, when enabled.
    pub billing: Option<BillingSettings>,
}

impl DeliverySettings {
    /// The organisation's mapping, if it has one.
    pub fn organisation(&self, name: &str) -> Option<&Organisation> {
        self.organisations.get(name)
    }
}

/// Checks a template's form: known placeholders, closed braces, bounded length.
pub fn check_template(text: &str) -> Result<(), String> {
    if text.chars().count() > MAX_TEMPLATE_CHARS {
        return Err(format!(
            "a template has at most {MAX_TEMPLATE_CHARS} characters"
        ));
    }
    if text.trim().is_empty() {
        return Err("a template cannot be blank".into());
    }
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| "a `{` is not closed: write placeholders as {title}".to_string())?;
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "`{{{name}}}` is not a placeholder: use {}",
                PLACEHOLDERS
                    .iter()
                    .map(|p| format!("{{{p}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// One problem of a check: the field and what is wrong (with the valid choices).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The field, as in the TOML (`ticket.queue`, `organisations.acme.account`).
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// The most choices a problem lists.
const MAX_CHOICES: usize = 25;

fn choices(refs: &[Reference]) -> String {
    let active: Vec<String> = refs
        .iter()
        .filter(|r| r.active)
        .take(MAX_CHOICES)
        .map(|r| format!("{} ({})", r.id, crate::delivery::short(&r.name, 60)))
        .collect();
    let more = refs
        .iter()
        .filter(|r| r.active)
        .count()
        .saturating_sub(MAX_CHOICES);
    let mut text = if active.is_empty() {
        "none is active".to_string()
    } else {
        format!("valid choices: {}", active.join(", "))
    };
    if more > 0 {
        text.push_str(&format!(" and {more} more"));
    }
    text
}

/// A picklist as the connector answers it: `None` when it does not have it (`unsupported`).
async fn picklist(
    conn: &Connection,
    kind: ReferenceKind,
) -> Result<Option<Vec<Reference>>, ConnectorError> {
    match conn.list_references(kind).await {
        Ok(refs) => Ok(Some(refs)),
        Err(ConnectorError::Psa(PsaError::Unsupported(_))) => Ok(None),
        Err(e) => Err(e),
    }
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn problem(&mut self, field: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            field: field.to_string(),
            message: message.into(),
        });
    }

    /// A required (`required`) or optional id checked against a picklist the PSA may lack.
    /// Returns the chosen entry.
    fn pick<'a>(
        &mut self,
        field: &str,
        what: &str,
        value: Option<&str>,
        list: &'a Option<Vec<Reference>>,
        required: bool,
    ) -> Option<&'a Reference> {
        match (value, list) {
            (Some(v), None) => {
                self.problem(
                    field,
                    format!("`{v}` is set, but this PSA has no {what}: remove the field"),
                );
                None
            }
            (None, None) => None,
            (None, Some(refs)) => {
                if required {
                    self.problem(field, format!("a {what} is required; {}", choices(refs)));
                }
                None
            }
            (Some(v), Some(refs)) => match refs.iter().find(|r| r.id == v) {
                None => {
                    self.problem(
                        field,
                        format!("`{v}` is not a {what} of this PSA; {}", choices(refs)),
                    );
                    None
                }
                Some(r) if !r.active => {
                    self.problem(
                        field,
                        format!(
                            "`{v}` ({}) is an inactive {what}; {}",
                            crate::delivery::short(&r.name, 60),
                            choices(refs)
                        ),
                    );
                    None
                }
                Some(r) => Some(r),
            },
        }
    }

    /// An entry that belongs to a queue or a ticket type (`parent-id`) must belong to the
    /// chosen one.
    fn parent(&mut self, field: &str, r: Option<&Reference>, parents: &[Option<&str>]) {
        // Without every parent chosen (itself a problem already) there is nothing to compare.
        if parents.iter().any(Option::is_none) {
            return;
        }
        if let Some(r) = r
            && let Some(p) = &r.parent_id
            && !parents.iter().flatten().any(|x| x == p)
        {
            self.problem(
                field,
                format!(
                    "`{}` belongs to `{p}`, not to the queue or ticket type chosen: pick one of theirs",
                    r.id
                ),
            );
        }
    }
}

/// Whether a company passes the account filter (its types, classification, market segment by
/// id or name).
pub fn passes_filter(filter: &AccountFilter, company: &Value) -> bool {
    let matches = |wanted: &[String], refs: Vec<&Value>| {
        wanted.is_empty()
            || refs.iter().any(|r| {
                let id = r.get("id").and_then(Value::as_str).unwrap_or("");
                let name = r.get("name").and_then(Value::as_str).unwrap_or("");
                wanted
                    .iter()
                    .any(|w| w == id || w.eq_ignore_ascii_case(name))
            })
    };
    let types: Vec<&Value> = company
        .get("types")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let one = |key: &str| {
        company
            .get(key)
            .filter(|v| !v.is_null())
            .into_iter()
            .collect()
    };
    matches(&filter.types, types)
        && matches(&filter.classifications, one("classification"))
        && matches(&filter.market_segments, one("market-segment"))
}

/// The account's default contact: the configured one, else the company's primary contact in
/// the store, else its first active one.
pub async fn default_contact(
    store: &dyn RecordStore,
    connection: &str,
    target: &AccountTarget,
) -> anyhow::Result<Option<String>> {
    if let Some(c) = &target.contact {
        return Ok(Some(c.clone()));
    }
    let contacts = company_contacts(store, connection, &target.account).await?;
    let primary = contacts
        .iter()
        .find(|c| c.get("primary") == Some(&Value::Bool(true)));
    let active = contacts
        .iter()
        .find(|c| c.get("active") != Some(&Value::Bool(false)));
    Ok(primary
        .or(active)
        .and_then(|c| c.get("id").and_then(Value::as_str))
        .map(str::to_string))
}

/// The most contacts of one company read for contact matching.
pub const MAX_COMPANY_CONTACTS: usize = 10_000;

/// The synced contacts of a company.
pub async fn company_contacts(
    store: &dyn RecordStore,
    connection: &str,
    company: &str,
) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list(
                connection,
                Entity::Contacts,
                ListQuery {
                    equals: vec![("company-id".into(), Value::String(company.to_string()))],
                    after,
                    limit: 500,
                    ..ListQuery::default()
                },
            )
            .await?;
        out.extend(page.records.into_iter().map(|r| r.record));
        match page.next {
            Some(next) if out.len() < MAX_COMPANY_CONTACTS => after = Some(next),
            _ => return Ok(out),
        }
    }
}

/// Checks the settings as the set-up wizard would: every required default is set (where the
/// PSA has the picklist), every id is one of the PSA's active entries, mapped accounts exist in
/// the store, pass the filter and are not ignored, and, with attach-contacts on, every account
/// has a contact. Returns every problem found (empty: the settings are complete).
pub async fn check(
    settings: &DeliverySettings,
    conn: &Connection,
    store: &dyn RecordStore,
) -> anyhow::Result<Vec<Problem>> {
    let queues = picklist(conn, ReferenceKind::Queue).await?;
    let statuses = picklist(conn, ReferenceKind::TicketStatus).await?;
    let priorities = picklist(conn, ReferenceKind::TicketPriority).await?;
    let types = picklist(conn, ReferenceKind::TicketType).await?;
    let sub_types = picklist(conn, ReferenceKind::TicketSubType).await?;
    let categories = picklist(conn, ReferenceKind::TicketCategory).await?;
    let sources = picklist(conn, ReferenceKind::TicketSource).await?;
    let note_types = picklist(conn, ReferenceKind::NoteType).await?;
    let services = if settings.billing.is_some() {
        picklist(conn, ReferenceKind::ContractService).await?
    } else {
        None
    };
    let mut c = Checker {
        problems: Vec::new(),
    };
    let t = &settings.ticket;
    let queue = c.pick("ticket.queue", "queue", t.queue.as_deref(), &queues, true);
    let ticket_type = c.pick(
        "ticket.ticket-type",
        "ticket type",
        t.ticket_type.as_deref(),
        &types,
        true,
    );
    let queue_id = queue.map(|q| q.id.as_str());
    c.parent("ticket.ticket-type", ticket_type, &[queue_id]);
    let status = c.pick(
        "ticket.status",
        "ticket status",
        t.status.as_deref(),
        &statuses,
        true,
    );
    c.parent("ticket.status", status, &[queue_id]);
    c.pick(
        "ticket.category",
        "ticket category",
        t.category.as_deref(),
        &categories,
        true,
    );
    c.pick(
        "ticket.source",
        "ticket source",
        t.source.as_deref(),
        &sources,
        true,
    );
    if t.subject.is_none() {
        c.problem(
            "ticket.subject",
            format!(
                "a subject template is required (it also decides grouping), e.g. \"MDR {{severity}}: {{title}}\"; placeholders: {}",
                PLACEHOLDERS.join(", ")
            ),
        );
    }
    for s in Severity::ALL {
        let field = format!("ticket.priorities.{}", s.name());
        c.pick(
            &field,
            "ticket priority",
            t.priorities.get(&s).map(String::as_str),
            &priorities,
            true,
        );
    }
    let n = &settings.note;
    c.pick(
        "note.note-type",
        "note type",
        n.note_type.as_deref(),
        &note_types,
        true,
    );
    if n.internal.is_none() {
        c.problem(
            "note.visibility",
            "a note visibility is required: \"internal\" or \"public\"",
        );
    }
    if n.title.is_none() {
        c.problem(
            "note.title",
            format!(
                "a note title template is required, e.g. \"Alert {{id}}: {{title}}\"; placeholders: {}",
                PLACEHOLDERS.join(", ")
            ),
        );
    }
    let ttid = ticket_type.map(|r| r.id.as_str());
    for (section, map) in [
        ("overrides.alert-types", &settings.overrides.alert_types),
        ("overrides.respond-rules", &settings.overrides.respond_rules),
        ("overrides.ioc-rules", &settings.overrides.ioc_rules),
    ] {
        for (key, o) in map {
            let field = format!("{section}.{key}");
            let ty = c.pick(
                &format!("{field}.ticket-type"),
                "ticket type",
                Some(&o.ticket_type),
                &types,
                true,
            );
            c.parent(&format!("{field}.ticket-type"), ty, &[queue_id]);
            let sub = c.pick(
                &format!("{field}.sub-type"),
                "ticket sub-type",
                o.sub_type.as_deref(),
                &sub_types,
                false,
            );
            c.parent(
                &format!("{field}.sub-type"),
                sub,
                &[queue_id, ty.map(|r| r.id.as_str()).or(ttid)],
            );
        }
    }
    if let Some(b) = &settings.billing {
        c.pick(
            "billing.service",
            "contract service",
            Some(&b.service),
            &services,
            true,
        );
    }
    let connection = conn.id();
    let mut accounts: Vec<(String, &AccountTarget)> =
        vec![("catch-all".to_string(), &settings.catch_all)];
    for (name, org) in &settings.organisations {
        accounts.push((format!("organisations.{name}"), &org.target));
    }
    for (field, target) in accounts {
        let company = store
            .get(connection, Entity::Companies, &target.account)
            .await?;
        let Some(company) = company else {
            c.problem(
                &format!("{field}.account"),
                format!(
                    "`{}` is not a company of this connection's store: sync companies (`psahost sync`) or pick a synced company id",
                    target.account
                ),
            );
            continue;
        };
        if settings.ignored.contains(&target.account) {
            c.problem(
                &format!("{field}.account"),
                format!(
                    "`{}` is an ignored account: remove it from `ignored-accounts` or map another",
                    target.account
                ),
            );
        } else if field != "catch-all" && !passes_filter(&settings.filter, &company.record) {
            c.problem(
                &format!("{field}.account"),
                format!(
                    "`{}` does not pass `account-filter` (type, classification, market segment): widen the filter or map another",
                    target.account
                ),
            );
        }
        if settings.attach_contacts {
            match &target.contact {
                Some(contact) => {
                    let held = store.get(connection, Entity::Contacts, contact).await?;
                    let of_company = held.as_ref().is_some_and(|h| {
                        h.record.get("company-id").and_then(Value::as_str)
                            == Some(target.account.as_str())
                    });
                    if !of_company {
                        c.problem(
                            &format!("{field}.contact"),
                            format!(
                                "`{contact}` is not a synced contact of account `{}`",
                                target.account
                            ),
                        );
                    }
                }
                None => {
                    if default_contact(store, connection, target).await?.is_none() {
                        c.problem(
                            &format!("{field}.contact"),
                            format!(
                                "account `{}` has no contact and attach-contacts is on: add a contact to it in the PSA (then sync), set `contact`, or turn attach-contacts off",
                                target.account
                            ),
                        );
                    }
                }
            }
        }
    }
    for (name, org) in &settings.organisations {
        if settings.billing.is_some() && org.service.is_some() && org.contract.is_none() {
            c.problem(
                &format!("organisations.{name}.service"),
                "a contract service needs the organisation's `contract`",
            );
        }
    }
    Ok(c.problems)
}

/// Link kind of the settings set through the API (one link per connection, key
/// [`SETTINGS_KEY`]): they replace `[connections.ID.delivery]` until cleared.
pub const SETTINGS: &str = "delivery-settings";
/// The key of a connection's settings link.
pub const SETTINGS_KEY: &str = "current";

/// A connection's settings set through the API, as stored (the document is validated by
/// `psahost-config` before it is stored, and again when it is read).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StoredSettings {
    /// The settings, in the shape of the TOML table as JSON; `None` once cleared (the
    /// connection's TOML settings are in effect again).
    pub document: Option<Value>,
    /// 1 for the connection's first set, then one more at each set or clear: whoever checked
    /// one version against the PSA knows a later one is another.
    pub version: u64,
    /// When it was set or cleared (RFC 3339).
    pub at: String,
}

/// The settings set through the API for `connection`, if any were ever set (a cleared one has
/// no document).
pub async fn stored(
    store: &dyn RecordStore,
    connection: &str,
) -> anyhow::Result<Option<StoredSettings>> {
    store
        .get_link(connection, SETTINGS, SETTINGS_KEY)
        .await?
        .map(|v| {
            serde_json::from_value(v).map_err(|e| {
                anyhow::anyhow!(
                    "the delivery settings stored for connection `{connection}` are malformed ({e}): set them again or clear them"
                )
            })
        })
        .transpose()
}

/// Stores `document` (`None`: clears) as `connection`'s settings set through the API, with an
/// audit entry (`"workflow": "delivery"`, `settings-set` or `settings-cleared`, the version
/// and the document), durably; returns what was stored.
pub async fn store_settings(
    store: &dyn RecordStore,
    connection: &str,
    document: Option<Value>,
) -> anyhow::Result<StoredSettings> {
    let version = stored(store, connection)
        .await?
        .map_or(1, |s| s.version.saturating_add(1));
    let at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let stored = StoredSettings {
        document,
        version,
        at,
    };
    store
        .append_audit(
            connection,
            serde_json::json!({
                "workflow": "delivery",
                "event": if stored.document.is_some() { "settings-set" } else { "settings-cleared" },
                "version": version,
                "settings": stored.document,
            }),
        )
        .await?;
    store
        .set_link(
            connection,
            SETTINGS,
            SETTINGS_KEY,
            Some(serde_json::to_value(&stored)?),
        )
        .await?;
    store.flush().await?;
    Ok(stored)
}
