//! Alert-to-ticket delivery: alerts of a tool (Kaseya MDR and the like) routed to PSA accounts
//! and delivered as tickets, or as notes on the open ticket with the same subject (grouping),
//! exactly once, through a durable queue.
//!
//! The host's data lives in the store's links (no tables of its own):
//! - `deliveries`: alert id -> [`DeliveryRecord`] (state, intent, outcome);
//! - `delivery-queue`: a 20-digit sequence number -> `{alert-id, account}`, in arrival order;
//! - `delivery-state`: `seq` -> the next sequence number.
//!
//! **Exactly once.** Before a create the record's intent (`sending`, ticket or note, with the
//! alert's marker) is written; after it, the outcome. A record found `sending` (a crash, a lost
//! answer, a rate-limited or failed call whose effect is unknown) is resolved by looking for
//! the marker in the PSA (`find-open-tickets` with `ticket-filter.marker`,
//! `find-note-by-marker`) before anything is sent again. The same alert id enqueued twice is
//! delivered once.
//!
//! **Connectors without markers** (contract 0.1.x, or a connector answering `unsupported` to
//! the marker lookup): the host puts the marker in the ticket's text itself (its last line,
//! `psahost-marker: ...`) and sends no marker field; an unfinished ticket is looked for by
//! subject and company ([`Delivery`]'s `resolve_by_subject`): the account's open tickets with
//! the subject rendered when the intent was written, the one whose text (where the PSA gives
//! it in the ticket's record) holds the marker; where no text is given, the one ticket with
//! no other alert's marker created since the intent. Several such tickets: the delivery fails
//! with their ids (nothing is sent twice). A note cannot be looked for without a marker: an
//! unfinished note fails with the ticket to look at, and `retry` adds it again.
//!
//! **Order.** The queue is drained in arrival order; an account whose call was rate-limited or
//! unavailable is left for the next drain with everything after it (its alerts keep their
//! order), the other accounts go on.

pub mod alerts;
pub mod settings;

use std::collections::BTreeSet;

use anyhow::Context;
use psahost_sandbox::bindings::ContractVersion;
use psahost_sandbox::bindings::psa::connector::types::{
    Error as PsaError, NewNote, NewTicket, Ticket, TicketFilter,
};
use psahost_sandbox::connector::{Connection, ConnectorError};
use psahost_store::RecordStore;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub use alerts::Alert;
pub use settings::DeliverySettings;
use settings::{AccountTarget, MAX_SUBJECT_CHARS, MAX_TITLE_CHARS};

/// Link kind of the delivery records.
pub const DELIVERIES: &str = "deliveries";
/// Link kind of the queue.
pub const QUEUE: &str = "delivery-queue";
/// Link kind of the queue's counter.
pub const STATE: &str = "delivery-state";
/// The most alerts queued at once per connection; past it new alerts are refused.
pub const MAX_QUEUED: usize = 10_000;

/// Where a delivery is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Waiting in the queue.
    Queued,
    /// The intent is written and the PSA call made or about to be; the outcome is unknown.
    Sending,
    /// A ticket was created (`ticket-id`).
    Delivered,
    /// A note was added to the open ticket with the same subject (`ticket-id`, `note-id`).
    Grouped,
    /// The PSA refused it (`reason`); `retry` queues it again.
    Failed,
    /// Ticket creation is disabled for its organisation.
    Skipped,
}

impl State {
    /// Its name (`queued`).
    pub fn name(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Sending => "sending",
            State::Delivered => "delivered",
            State::Grouped => "grouped",
            State::Failed => "failed",
            State::Skipped => "skipped",
        }
    }
}

/// What is being sent: a new ticket, or a note on `ticket-id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Intent {
    /// A new ticket.
    Ticket,
    /// A note on the open ticket `ticket_id`.
    Note {
        /// The PSA ticket id.
        ticket_id: String,
    },
}

/// One delivery, stored under its alert id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DeliveryRecord {
    /// The alert as received.
    pub alert: Alert,
    /// Its state.
    pub state: State,
    /// The PSA account it is routed to.
    pub account: String,
    /// Its place in the queue.
    pub seq: u64,
    /// The token the connector stores with the ticket or note.
    pub marker: String,
    /// What is being sent, once decided.
    pub intent: Option<Intent>,
    /// The PSA ticket id.
    pub ticket_id: Option<String>,
    /// The PSA note id (grouped).
    pub note_id: Option<String>,
    /// Why, in one line.
    pub reason: Option<String>,
    /// PSA calls that created (or tried to create) it.
    pub attempts: u32,
    /// The ticket's subject when the intent was written (the subject path of the resolution
    /// looks for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// When the last create was sent (RFC 3339): a ticket found by subject is at most this old.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
    /// When the record last changed (RFC 3339).
    pub updated_at: String,
}

/// What enqueuing one alert did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Accepted {
    /// The alert's id.
    pub alert_id: String,
    /// `queued`, `skipped`, or the state of the earlier delivery of the same alert id.
    pub state: State,
    /// Whether this alert id was already delivered or queued (nothing new was queued).
    pub duplicate: bool,
}

/// What a drain did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct DrainReport {
    /// Tickets created.
    pub delivered: u64,
    /// Notes added to open tickets.
    pub grouped: u64,
    /// Deliveries the PSA refused.
    pub failed: u64,
    /// Deliveries resolved by their marker after an unknown outcome (found in the PSA).
    pub resolved: u64,
    /// Queue entries left for a later drain.
    pub still_queued: u64,
    /// PSA calls made (lookups and writes).
    pub psa_calls: u64,
    /// Why accounts were left (rate-limited, unavailable), one line each.
    pub blocked: Vec<String>,
}

/// A rendered delivery, as a dry run shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Preview {
    /// The alert's id.
    pub alert_id: String,
    /// The PSA account (company) id.
    pub account: String,
    /// `ticket`, `note` or `skipped`.
    pub action: String,
    /// The open ticket a note would go to.
    pub ticket_id: Option<String>,
    /// The ticket or note, with the WIT field names.
    pub record: Value,
    /// Why, in one line.
    pub reason: Option<String>,
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The marker of an alert on a connection: `psahost-` and 24 hex digits of a hash of the
/// alert id (the contract's form whatever the id).
pub fn marker(alert_id: &str) -> String {
    let digest = Sha256::digest(alert_id.as_bytes());
    format!("psahost-{}", hex::encode(&digest[..12]))
}

fn queue_key(seq: u64) -> String {
    format!("{seq:020}")
}

/// `text` cut to `max` characters (an ellipsis marks the cut).
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A template rendered for an alert: placeholders replaced, one line, at most `max` characters.
pub fn render(template: &str, alert: &Alert, max: usize) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let value = match &after[..close] {
            "id" => alert.id.as_str(),
            "organisation" => alert.organisation.as_str(),
            "severity" => alert.severity().name(),
            "type" => alert.alert_type.as_str(),
            "rule" => alert.rule().unwrap_or(""),
            "title" => alert.title.as_str(),
            "email" => alert.email.as_deref().unwrap_or(""),
            "time" => alert.time.as_str(),
            other => other,
        };
        out.push_str(value);
        rest = &after[close + 1..];
        if out.chars().count() > max * 4 {
            break;
        }
    }
    out.push_str(rest);
    let line: String = out
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cut(line.trim(), max)
}

/// The line of a ticket's text holding the marker, for connectors that store none.
pub const MARKER_LINE: &str = "psahost-marker: ";

/// How far a PSA's clock may be behind the host's when a ticket is looked for by subject.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(10);

/// The most open tickets with the subject read when looking for one without a marker.
const MAX_SUBJECT_MATCHES: u32 = 50;

/// The body text of a ticket or note: the title, the description and the alert's facts.
fn body_text(alert: &Alert) -> String {
    let mut text = alert.title.clone();
    if let Some(d) = alert
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        text.push_str("\n\n");
        text.push_str(d);
    }
    text.push_str(&format!(
        "\n\nAlert: {}\nOrganisation: {}\nSeverity: {}\nType: {}",
        alert.id,
        alert.organisation,
        alert.severity().name(),
        alert.alert_type
    ));
    if let Some(r) = &alert.respond_rule {
        text.push_str(&format!("\nRespond rule: {r}"));
    }
    if let Some(r) = &alert.ioc_rule {
        text.push_str(&format!("\nIOC rule: {r}"));
    }
    if let Some(e) = &alert.email {
        text.push_str(&format!("\nE-mail: {e}"));
    }
    text.push_str(&format!("\nTime: {}", alert.time));
    text
}

fn retryable(e: &ConnectorError) -> bool {
    match e {
        ConnectorError::Psa(PsaError::RateLimited(_) | PsaError::Unavailable(_)) => true,
        ConnectorError::Psa(_) => false,
        // A stopped call may have sent its request: its outcome is unknown.
        ConnectorError::Call(_) => true,
    }
}

fn one_line(text: &str) -> String {
    short(text, 500)
}

/// Untrusted text (a PSA's, an input's) on one line, at most `max` characters.
pub(crate) fn short(text: &str, max: usize) -> String {
    cut(&psahost_sandbox::text::one_line(text), max)
}

/// The delivery of one connection's alerts.
pub struct Delivery<'a> {
    store: &'a dyn RecordStore,
    conn: &'a Connection,
    settings: &'a DeliverySettings,
}

/// Where an alert goes and what is sent.
struct Plan {
    account: String,
    ticket: NewTicket,
    note: NewNote,
}

impl<'a> Delivery<'a> {
    /// Delivery over `conn` with `settings` (checked with [`settings::check`] first).
    pub fn new(
        store: &'a dyn RecordStore,
        conn: &'a Connection,
        settings: &'a DeliverySettings,
    ) -> Self {
        Delivery {
            store,
            conn,
            settings,
        }
    }

    fn connection(&self) -> &str {
        self.conn.id()
    }

    /// Whether the connector keeps markers (contract 0.2.0 on); a 0.1.x one cannot.
    fn markers(&self) -> bool {
        self.conn.plugin().contract() != ContractVersion::V0_1
    }

    /// The account an organisation's alerts go to: its mapping when the account may be mapped
    /// (not ignored, passes the filter, checked by [`settings::check`]), else the catch-all.
    pub fn route(&self, organisation: &str) -> (&AccountTarget, Option<&settings::Organisation>) {
        match self.settings.organisation(organisation) {
            Some(org) if !self.settings.ignored.contains(&org.target.account) => {
                (&org.target, Some(org))
            }
            org => (&self.settings.catch_all, org),
        }
    }

    /// The contact of a ticket: with attach-contacts, the account's contact with the alert's
    /// e-mail, else the account's default contact (an error when it has none).
    async fn contact(
        &self,
        alert: &Alert,
        target: &AccountTarget,
    ) -> anyhow::Result<Option<String>> {
        if !self.settings.attach_contacts {
            return Ok(None);
        }
        if let Some(email) = alert
            .email
            .as_deref()
            .and_then(psahost_matching::normalize::email)
        {
            let contacts =
                settings::company_contacts(self.store, self.connection(), &target.account).await?;
            let found = contacts.iter().find(|c| {
                c.get("emails").and_then(Value::as_array).is_some_and(|es| {
                    es.iter()
                        .filter_map(Value::as_str)
                        .filter_map(psahost_matching::normalize::email)
                        .any(|e| e == email)
                })
            });
            if let Some(id) = found.and_then(|c| c.get("id")).and_then(Value::as_str) {
                return Ok(Some(id.to_string()));
            }
        }
        match settings::default_contact(self.store, self.connection(), target).await? {
            Some(c) => Ok(Some(c)),
            None => anyhow::bail!(
                "account `{}` has no contact and attach-contacts is on: add a contact in the PSA (then sync) or set one in the delivery settings",
                target.account
            ),
        }
    }

    /// What an alert becomes: `Ok(None)` when its organisation's ticket creation is disabled.
    async fn plan(&self, alert: &Alert) -> anyhow::Result<Option<Plan>> {
        let (target, org) = self.route(&alert.organisation);
        if org.is_some_and(|o| !o.tickets) {
            return Ok(None);
        }
        let s = self.settings;
        let t = &s.ticket;
        let subject = render(
            t.subject.as_deref().unwrap_or("{title}"),
            alert,
            MAX_SUBJECT_CHARS,
        );
        let o = &s.overrides;
        let issue = alert
            .respond_rule
            .as_ref()
            .and_then(|r| o.respond_rules.get(r))
            .or_else(|| alert.ioc_rule.as_ref().and_then(|r| o.ioc_rules.get(r)))
            .or_else(|| o.alert_types.get(&alert.alert_type));
        let contact = self.contact(alert, target).await?;
        let marker = marker(&alert.id);
        let markers = self.markers();
        let mut description = body_text(alert);
        if !markers {
            // The connector cannot keep a marker: the host puts it in the ticket's text.
            description.push_str(&format!("\n{MARKER_LINE}{marker}"));
        }
        let marker = markers.then_some(marker);
        let ticket = NewTicket {
            contact_id: contact,
            description: Some(description),
            queue_id: t.queue.clone(),
            status_id: t.status.clone(),
            priority_id: t.priorities.get(&alert.severity()).cloned(),
            ticket_type_id: issue
                .map(|i| i.ticket_type.clone())
                .or_else(|| t.ticket_type.clone()),
            sub_type_id: issue.and_then(|i| i.sub_type.clone()),
            category_id: t.category.clone(),
            source_id: t.source.clone(),
            agreement_id: org.and_then(|o| o.contract.clone()),
            marker: marker.clone(),
            ..NewTicket::new(target.account.clone(), subject)
        };
        let n = &s.note;
        let note = NewNote {
            title: Some(render(
                n.title.as_deref().unwrap_or("{title}"),
                alert,
                MAX_TITLE_CHARS,
            )),
            note_type_id: n.note_type.clone(),
            marker,
            ..NewNote::new(String::new(), body_text(alert), n.internal.unwrap_or(true))
        };
        Ok(Some(Plan {
            account: target.account.clone(),
            ticket,
            note,
        }))
    }

    /// The open ticket of the account with the subject, if any (grouping).
    async fn open_ticket(&self, plan: &Plan) -> Result<Option<String>, ConnectorError> {
        let found = self
            .conn
            .find_open_tickets(TicketFilter {
                company_id: Some(plan.account.clone()),
                summary: Some(plan.ticket.summary.clone()),
                queue_id: None,
                limit: 1,
                marker: None,
            })
            .await?;
        Ok(found.into_iter().next().map(|t| t.id))
    }

    /// The rendered tickets and notes the alerts would create (the grouping lookup is made,
    /// nothing is written to the PSA or the store).
    pub async fn dry_run(&self, alerts: &[Alert]) -> anyhow::Result<Vec<Preview>> {
        let mut out = Vec::new();
        for alert in alerts {
            let (target, _) = self.route(&alert.organisation);
            let account = target.account.clone();
            let plan = match self.plan(alert).await {
                Ok(Some(p)) => p,
                Ok(None) => {
                    out.push(Preview {
                        alert_id: alert.id.clone(),
                        account,
                        action: "skipped".into(),
                        ticket_id: None,
                        record: Value::Null,
                        reason: Some(format!(
                            "ticket creation is disabled for organisation `{}`",
                            alert.organisation
                        )),
                    });
                    continue;
                }
                Err(e) => {
                    out.push(Preview {
                        alert_id: alert.id.clone(),
                        account,
                        action: "failed".into(),
                        ticket_id: None,
                        record: Value::Null,
                        reason: Some(format!("{e:#}")),
                    });
                    continue;
                }
            };
            let open = self.open_ticket(&plan).await.map_err(anyhow::Error::from)?;
            out.push(match open {
                Some(ticket_id) => Preview {
                    alert_id: alert.id.clone(),
                    account,
                    action: "note".into(),
                    record: note_json(&NewNote {
                        ticket_id: ticket_id.clone(),
                        ..plan.note
                    }),
                    ticket_id: Some(ticket_id),
                    reason: None,
                },
                None => Preview {
                    alert_id: alert.id.clone(),
                    account,
                    action: "ticket".into(),
                    ticket_id: None,
                    record: ticket_json(&plan.ticket),
                    reason: None,
                },
            });
        }
        Ok(out)
    }

    async fn record(&self, alert_id: &str) -> anyhow::Result<Option<DeliveryRecord>> {
        match self
            .store
            .get_link(self.connection(), DELIVERIES, alert_id)
            .await?
        {
            Some(v) => Ok(Some(
                serde_json::from_value(v).context("a stored delivery record is malformed")?,
            )),
            None => Ok(None),
        }
    }

    async fn save(&self, rec: &mut DeliveryRecord) -> anyhow::Result<()> {
        rec.updated_at = now();
        self.store
            .set_link(
                self.connection(),
                DELIVERIES,
                &rec.alert.id,
                Some(serde_json::to_value(&*rec)?),
            )
            .await?;
        self.store.flush().await?;
        Ok(())
    }

    async fn audit(&self, rec: &DeliveryRecord, event: &str) -> anyhow::Result<()> {
        self.store
            .append_audit(
                self.connection(),
                json!({
                    "workflow": "delivery",
                    "event": event,
                    "alert-id": rec.alert.id,
                    "account": rec.account,
                    "state": rec.state.name(),
                    "ticket-id": rec.ticket_id,
                    "note-id": rec.note_id,
                    "reason": rec.reason,
                    "at": now(),
                }),
            )
            .await?;
        Ok(())
    }

    async fn next_seq(&self) -> anyhow::Result<u64> {
        let next = self
            .store
            .get_link(self.connection(), STATE, "seq")
            .await?
            .and_then(|v| v.get("next").and_then(Value::as_u64))
            .unwrap_or(1);
        self.store
            .set_link(
                self.connection(),
                STATE,
                "seq",
                Some(json!({ "next": next + 1 })),
            )
            .await?;
        Ok(next)
    }

    async fn queued_count(&self) -> anyhow::Result<usize> {
        Ok(self
            .store
            .links(self.connection(), QUEUE, None, MAX_QUEUED + 1)
            .await?
            .len())
    }

    async fn push(&self, rec: &mut DeliveryRecord) -> anyhow::Result<()> {
        rec.seq = self.next_seq().await?;
        rec.state = State::Queued;
        self.store
            .set_link(
                self.connection(),
                QUEUE,
                &queue_key(rec.seq),
                Some(json!({ "alert-id": rec.alert.id, "account": rec.account })),
            )
            .await?;
        self.save(rec).await
    }

    /// Queues the alerts (each checked); an alert id already known is not queued again.
    pub async fn enqueue(&self, alerts: &[Alert]) -> anyhow::Result<Vec<Accepted>> {
        let queued = self.queued_count().await?;
        if queued + alerts.len() > MAX_QUEUED {
            anyhow::bail!(
                "the delivery queue of connection `{}` holds {queued} alerts; {} more would pass its bound of {MAX_QUEUED}: drain it first (`psahost alerts deliver`)",
                self.connection(),
                alerts.len()
            );
        }
        let mut out = Vec::new();
        for alert in alerts {
            alert.check()?;
            if let Some(rec) = self.record(&alert.id).await? {
                out.push(Accepted {
                    alert_id: alert.id.clone(),
                    state: rec.state,
                    duplicate: true,
                });
                continue;
            }
            let (target, org) = self.route(&alert.organisation);
            let mut rec = DeliveryRecord {
                alert: alert.clone(),
                state: State::Queued,
                account: target.account.clone(),
                seq: 0,
                marker: marker(&alert.id),
                intent: None,
                ticket_id: None,
                note_id: None,
                reason: None,
                attempts: 0,
                subject: None,
                sent_at: None,
                updated_at: now(),
            };
            if org.is_some_and(|o| !o.tickets) {
                rec.state = State::Skipped;
                rec.reason = Some(format!(
                    "ticket creation is disabled for organisation `{}`",
                    alert.organisation
                ));
                self.save(&mut rec).await?;
                self.audit(&rec, "skipped").await?;
            } else {
                self.push(&mut rec).await?;
                self.audit(&rec, "queued").await?;
            }
            out.push(Accepted {
                alert_id: alert.id.clone(),
                state: rec.state,
                duplicate: false,
            });
        }
        Ok(out)
    }

    /// Delivers the queue in order (at most `limit` entries; 0: all). Accounts whose PSA call
    /// was rate-limited or unavailable keep their entries for the next drain.
    pub async fn drain(&self, limit: usize) -> anyhow::Result<DrainReport> {
        let mut report = DrainReport::default();
        let mut blocked: BTreeSet<String> = BTreeSet::new();
        let mut after: Option<String> = None;
        let mut done = 0usize;
        loop {
            let page = self
                .store
                .links(self.connection(), QUEUE, after.clone(), 200)
                .await?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            for (key, entry) in page {
                let account = entry
                    .get("account")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let alert_id = entry
                    .get("alert-id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if blocked.contains(&account) || (limit > 0 && done >= limit) {
                    report.still_queued += 1;
                    continue;
                }
                done += 1;
                match self.deliver_one(&alert_id, &mut report).await? {
                    Step::Done => {
                        self.store
                            .set_link(self.connection(), QUEUE, &key, None)
                            .await?;
                    }
                    Step::Blocked(why) => {
                        report.still_queued += 1;
                        report.blocked.push(format!("account {account}: {why}"));
                        blocked.insert(account);
                    }
                }
            }
        }
        self.store.flush().await?;
        Ok(report)
    }

    async fn deliver_one(&self, alert_id: &str, report: &mut DrainReport) -> anyhow::Result<Step> {
        let Some(mut rec) = self.record(alert_id).await? else {
            // A queue entry without a record (removed by hand): nothing to deliver.
            return Ok(Step::Done);
        };
        match rec.state {
            State::Queued => {}
            State::Sending => {
                if let Some(step) = self.resolve(&mut rec, report).await? {
                    return Ok(step);
                }
            }
            // Delivered, grouped, failed or skipped already: the queue entry is stale.
            _ => return Ok(Step::Done),
        }
        let plan = match self.plan(&rec.alert).await {
            Ok(Some(plan)) => plan,
            Ok(None) => {
                rec.state = State::Skipped;
                rec.reason = Some(format!(
                    "ticket creation is disabled for organisation `{}`",
                    rec.alert.organisation
                ));
                self.save(&mut rec).await?;
                self.audit(&rec, "skipped").await?;
                return Ok(Step::Done);
            }
            Err(e) => return self.fail(&mut rec, format!("{e:#}"), report).await,
        };
        // The intent decides ticket or note once: a resend after an unknown outcome keeps it.
        let intent = match rec.intent.clone() {
            Some(i) if rec.state == State::Sending => i,
            _ => {
                report.psa_calls += 1;
                match self.open_ticket(&plan).await {
                    Ok(Some(ticket_id)) => Intent::Note { ticket_id },
                    Ok(None) => Intent::Ticket,
                    Err(e) if retryable(&e) => {
                        return Ok(Step::Blocked(one_line(&e.to_string())));
                    }
                    Err(e) => return self.fail(&mut rec, e.to_string(), report).await,
                }
            }
        };
        rec.state = State::Sending;
        rec.intent = Some(intent.clone());
        rec.account = plan.account.clone();
        rec.attempts += 1;
        rec.subject = Some(plan.ticket.summary.clone());
        rec.sent_at = Some(now());
        self.save(&mut rec).await?;
        report.psa_calls += 1;
        let result = match &intent {
            Intent::Ticket => self
                .conn
                .create_ticket(plan.ticket)
                .await
                .map(|t| (t.id, None)),
            Intent::Note { ticket_id } => self
                .conn
                .add_ticket_note(NewNote {
                    ticket_id: ticket_id.clone(),
                    ..plan.note
                })
                .await
                .map(|n| (ticket_id.clone(), Some(n.id))),
        };
        match result {
            Ok((ticket_id, note_id)) => {
                self.finish(&mut rec, ticket_id, note_id, report, "sent")
                    .await?;
                Ok(Step::Done)
            }
            Err(e) if retryable(&e) => Ok(Step::Blocked(one_line(&e.to_string()))),
            Err(e) => self.fail(&mut rec, e.to_string(), report).await,
        }
    }

    /// A `sending` record: the PSA is asked for its marker (without markers: for the ticket by
    /// subject and company). `Some`: decided (found, failed, or the lookup was blocked);
    /// `None`: not in the PSA, send again.
    async fn resolve(
        &self,
        rec: &mut DeliveryRecord,
        report: &mut DrainReport,
    ) -> anyhow::Result<Option<Step>> {
        report.psa_calls += 1;
        let found = match rec.intent.clone() {
            Some(Intent::Note { ticket_id }) => {
                let found = if self.markers() {
                    self.conn
                        .find_note_by_marker(ticket_id.clone(), rec.marker.clone())
                        .await
                } else {
                    Err(ConnectorError::Psa(PsaError::Unsupported(String::new())))
                };
                match found {
                    Err(ConnectorError::Psa(PsaError::Unsupported(_))) => {
                        // No way to tell: the operator looks, and a retry adds it again.
                        rec.intent = None;
                        let why = format!(
                            "the note may be on ticket {ticket_id} already (its answer was lost and this connector cannot find a note by marker): look at the ticket, and retry to add it again"
                        );
                        return Ok(Some(self.fail(rec, why, report).await?));
                    }
                    other => other.map(|n| n.map(|n| (ticket_id, Some(n.id)))),
                }
            }
            _ => {
                let found = if self.markers() {
                    self.conn
                        .find_open_tickets(TicketFilter {
                            company_id: Some(rec.account.clone()),
                            summary: None,
                            queue_id: None,
                            limit: 1,
                            marker: Some(rec.marker.clone()),
                        })
                        .await
                        .map(|t| t.into_iter().next().map(|t| t.id))
                } else {
                    Err(ConnectorError::Psa(PsaError::Unsupported(String::new())))
                };
                let found = match found {
                    Err(ConnectorError::Psa(PsaError::Unsupported(_))) => {
                        report.psa_calls += u64::from(self.markers());
                        match self.resolve_by_subject(rec).await {
                            Ok(Ok(found)) => Ok(found),
                            Ok(Err(why)) => return Ok(Some(self.fail(rec, why, report).await?)),
                            Err(e) => Err(e),
                        }
                    }
                    other => other,
                };
                found.map(|t| t.map(|id| (id, None)))
            }
        };
        match found {
            Ok(Some((ticket_id, note_id))) => {
                report.resolved += 1;
                self.finish(rec, ticket_id, note_id, report, "resolved")
                    .await?;
                Ok(Some(Step::Done))
            }
            Ok(None) => Ok(None),
            Err(e) if retryable(&e) => Ok(Some(Step::Blocked(one_line(&e.to_string())))),
            Err(e) => Ok(Some(
                self.fail(
                    rec,
                    format!("cannot look for the marker after an unknown outcome: {e}"),
                    report,
                )
                .await?,
            )),
        }
    }

    /// The ticket of an unfinished create, looked for without a marker lookup: among the
    /// account's open tickets with the subject of the intent, the one whose text holds the
    /// marker; where the PSA gives no text, the one ticket holding no other alert's marker,
    /// created since the intent (less [`CLOCK_SKEW`]). `Ok(Err(why))`: several could be it.
    pub async fn resolve_by_subject(
        &self,
        rec: &DeliveryRecord,
    ) -> Result<Result<Option<String>, String>, ConnectorError> {
        let subject = match &rec.subject {
            Some(s) => s.clone(),
            None => self
                .plan(&rec.alert)
                .await
                .ok()
                .flatten()
                .map(|p| p.ticket.summary)
                .unwrap_or_default(),
        };
        let tickets = self
            .conn
            .find_open_tickets(TicketFilter {
                company_id: Some(rec.account.clone()),
                summary: Some(subject.clone()),
                queue_id: None,
                limit: MAX_SUBJECT_MATCHES,
                marker: None,
            })
            .await?;
        Ok(pick_by_subject(rec, &subject, &tickets))
    }
    async fn finish(
        &self,
        rec: &mut DeliveryRecord,
        ticket_id: String,
        note_id: Option<String>,
        report: &mut DrainReport,
        event: &str,
    ) -> anyhow::Result<()> {
        rec.state = if note_id.is_some() {
            report.grouped += 1;
            State::Grouped
        } else {
            report.delivered += 1;
            State::Delivered
        };
        rec.ticket_id = Some(ticket_id);
        rec.note_id = note_id;
        rec.reason = None;
        self.save(rec).await?;
        self.audit(rec, event).await
    }

    async fn fail(
        &self,
        rec: &mut DeliveryRecord,
        reason: String,
        report: &mut DrainReport,
    ) -> anyhow::Result<Step> {
        report.failed += 1;
        rec.state = State::Failed;
        rec.reason = Some(one_line(&reason));
        self.save(rec).await?;
        self.audit(rec, "failed").await?;
        Ok(Step::Done)
    }

    /// Queues a failed delivery again (at the end of the queue).
    pub async fn retry(&self, alert_id: &str) -> anyhow::Result<DeliveryRecord> {
        let Some(mut rec) = self.record(alert_id).await? else {
            anyhow::bail!(
                "no delivery of alert `{}` on connection `{}`: list them with `psahost deliveries list`",
                one_line(alert_id),
                self.connection()
            );
        };
        if rec.state != State::Failed {
            anyhow::bail!(
                "the delivery of alert `{}` is {}, not failed: only a failed delivery is retried",
                one_line(alert_id),
                rec.state.name()
            );
        }
        rec.reason = None;
        let attempted = rec.intent.is_some();
        if !attempted {
            let (target, _) = self.route(&rec.alert.organisation);
            rec.account = target.account.clone();
        }
        self.push(&mut rec).await?;
        if attempted {
            // A write was sent: the PSA may hold it (an answer it refused to parse, ...), so
            // the drain looks for the marker before sending it again.
            rec.state = State::Sending;
            self.save(&mut rec).await?;
        }
        self.audit(&rec, "retried").await?;
        Ok(rec)
    }
}

enum Step {
    Done,
    Blocked(String),
}

/// See [`Delivery::resolve_by_subject`].
fn pick_by_subject(
    rec: &DeliveryRecord,
    subject: &str,
    tickets: &[Ticket],
) -> Result<Option<String>, String> {
    let ours = format!("{MARKER_LINE}{}", rec.marker);
    let same: Vec<&Ticket> = tickets
        .iter()
        .filter(|t| t.company_id.as_deref() == Some(rec.account.as_str()))
        .filter(|t| t.summary.trim() == subject.trim())
        .collect();
    if let Some(t) = same.iter().find(|t| t.raw.contains(&ours)) {
        return Ok(Some(t.id.clone()));
    }
    let sent = rec.sent_at.as_deref().and_then(|s| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    });
    let recent = |t: &Ticket| {
        let created = t.created_at.as_deref().and_then(|c| {
            time::OffsetDateTime::parse(c, &time::format_description::well_known::Rfc3339).ok()
        });
        match (created, sent) {
            (Some(c), Some(s)) => c >= s - CLOCK_SKEW,
            _ => true,
        }
    };
    // Without the ticket's text: a ticket holding another alert's marker is not ours.
    let candidates: Vec<&&Ticket> = same
        .iter()
        .filter(|t| !t.raw.contains(MARKER_LINE))
        .filter(|t| recent(t))
        .collect();
    match candidates.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.id.clone())),
        several => Err(format!(
            "its answer was lost and {} open tickets of account {} have its subject `{}` (ids {}): look which one is this alert's; nothing was sent again",
            several.len(),
            rec.account,
            short(subject, 100),
            several
                .iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// One lock per connection: a process drains a connection's queue one request at a time (two
/// drains at once would both send the same queued alert). The daemon keeps one; it also
/// remembers which settings passed [`settings::check`] (by a key naming the connection and the
/// settings' version), so alerts are still queued while the PSA is rate-limited or down (the
/// check reads its picklists).
#[derive(Default)]
pub struct DeliveryLocks {
    locks: crate::locks::ConnectionLocks,
    checked: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl DeliveryLocks {
    /// The settings named `id` (a connection and its settings' version) passed the check.
    pub fn set_checked(&self, id: &str) {
        self.checked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(id.to_string());
    }

    /// Whether the settings named `id` passed the check in this process.
    pub fn checked(&self, id: &str) -> bool {
        self.checked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(id)
    }

    /// Waits for connection `id`'s drain lock; held until the guard is dropped.
    pub async fn lock(&self, id: &str) -> tokio::sync::OwnedMutexGuard<()> {
        self.locks.lock(id).await
    }
}

/// The deliveries of a connection, by alert id, after `after`, at most `limit` (0: 100).
pub async fn list(
    store: &dyn RecordStore,
    connection: &str,
    after: Option<String>,
    limit: usize,
) -> anyhow::Result<Vec<DeliveryRecord>> {
    store
        .links(connection, DELIVERIES, after, limit)
        .await?
        .into_iter()
        .map(|(_, v)| serde_json::from_value(v).context("a stored delivery record is malformed"))
        .collect()
}

/// A new ticket with the WIT field names (for dry runs).
pub fn ticket_json(t: &NewTicket) -> Value {
    json!({
        "company-id": t.company_id, "contact-id": t.contact_id, "summary": t.summary,
        "description": t.description, "queue-id": t.queue_id, "status-id": t.status_id,
        "priority-id": t.priority_id, "ticket-type-id": t.ticket_type_id,
        "sub-type-id": t.sub_type_id, "category-id": t.category_id, "source-id": t.source_id,
        "agreement-id": t.agreement_id, "marker": t.marker,
    })
}

/// A new note with the WIT field names (for dry runs).
pub fn note_json(n: &NewNote) -> Value {
    json!({
        "ticket-id": n.ticket_id, "text": n.text, "internal": n.internal, "title": n.title,
        "note-type-id": n.note_type_id, "marker": n.marker,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(id: &str, company: &str, summary: &str, created: &str, raw: &str) -> Ticket {
        Ticket {
            id: id.into(),
            summary: summary.into(),
            company_id: Some(company.into()),
            contact_id: None,
            queue: None,
            status: None,
            priority: None,
            ticket_type: None,
            sub_type: None,
            source: None,
            agreement_id: None,
            closed: false,
            created_at: Some(created.into()),
            updated_at: None,
            raw: raw.into(),
        }
    }

    fn record() -> DeliveryRecord {
        DeliveryRecord {
            alert: alerts::parse(
                r#"{"id": "a-1", "organisation": "o", "severity": "high", "type": "t", "title": "x", "time": "2026-03-03T08:00:00Z"}"#,
            )
            .unwrap()
            .remove(0),
            state: State::Sending,
            account: "19".into(),
            seq: 1,
            marker: marker("a-1"),
            intent: Some(Intent::Ticket),
            ticket_id: None,
            note_id: None,
            reason: None,
            attempts: 1,
            subject: Some("MDR high: x".into()),
            sent_at: Some("2026-03-03T08:00:00Z".into()),
            updated_at: String::new(),
        }
    }

    #[test]
    fn by_subject_the_marker_in_the_text_wins_then_the_one_recent_ticket_without_one() {
        let rec = record();
        let s = "MDR high: x";
        let ours = format!("{{\"description\": \"x\\n{MARKER_LINE}{}\"}}", rec.marker);
        let other = format!("{{\"description\": \"{MARKER_LINE}{}\"}}", marker("a-2"));
        let at = "2026-03-03T08:00:01Z";
        // The marker in the text wins over a ticket without text.
        let tickets = [
            ticket("1", "19", s, at, "{}"),
            ticket("2", "19", s, at, &ours),
        ];
        assert_eq!(pick_by_subject(&rec, s, &tickets), Ok(Some("2".into())));
        // Another alert's ticket, another company's, another subject, an older one: not it.
        let tickets = [
            ticket("3", "19", s, at, &other),
            ticket("4", "20", s, at, "{}"),
            ticket("5", "19", "MDR low: y", at, "{}"),
            ticket("6", "19", s, "2026-03-02T08:00:00Z", "{}"),
        ];
        assert_eq!(pick_by_subject(&rec, s, &tickets), Ok(None));
        // One recent ticket without text: it; two: nothing is guessed.
        let one = [ticket("7", "19", s, at, "{}")];
        assert_eq!(pick_by_subject(&rec, s, &one), Ok(Some("7".into())));
        let two = [
            ticket("7", "19", s, at, "{}"),
            ticket("8", "19", s, at, "{}"),
        ];
        let why = pick_by_subject(&rec, s, &two).unwrap_err();
        assert!(why.contains("7, 8"), "{why}");
    }
}
