//! The connector conformance suite: runs a connector against the simulator and checks it
//! honours the contract. `psahost plugin check FILE --sim DIALECT` prints its table; vendors can
//! call [`check_connector`] from their own tests.
//!
//! What is checked, in order (each check is independent; a failure does not stop the others):
//! 1. `describe` is complete and consistent (names, labels, semver version, rate-limit hints);
//! 2. `test-connection` accepts the simulator's credentials, and rejects each secret setting
//!    made wrong with `unauthorized` naming exactly that setting;
//! 3. every declared `list-*` returns every record the simulator lists exactly once, over
//!    several pages and with the largest page size alike, and `get-*` returns a listed record;
//! 4. `updated-since` returns exactly the records changed in the simulator (agreements may
//!    return more when the PSA has no modification time for them, which is reported);
//! 5. picklists are non-empty (or `unsupported`), and a connector that creates tickets has
//!    queues, statuses and priorities;
//! 6. writes round-trip: a created ticket and note are held by the simulator and read back;
//! 7. faults surface as the right errors: 429 as `rate-limited`, 503 as `unavailable`,
//!    a malformed body as `remote`;
//! 8. every declared dataset pages each record once, small pages and its largest alike, with
//!    ids, JSON `raw` and RFC 3339 `updated-at` (required when it declares updated-since), a
//!    first-page total equal to what was read, `updated-since` returning exactly the records
//!    updated at or after a time, and an unknown dataset answered `invalid-input`;
//! 9. no declared operation answers `unsupported`.

mod datasets;
pub mod simulated;

use crate::simulated::{TicketDefaults, sim_config};
use anyhow::{Context, anyhow};
use psa_sim::{Dialect, Entity, Simulator};
use psahost_sandbox::bindings::exports::psa::connector::connector_api::{
    ConnectorInfo, DatasetSpec, Operation,
};
use psahost_sandbox::bindings::psa::connector::types::{
    Error as PsaError, NewNote, NewTicket, PageRequest, ReferenceKind, TicketFilter,
};
use psahost_sandbox::capabilities::kv::KvStore;
use psahost_sandbox::capabilities::settings::Settings;
use psahost_sandbox::connector::{Connection, ConnectorError, error_kind};
use psahost_sandbox::runtime::{Plugin, Runtime};
use psahost_sandbox::text::one_line;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

/// How to run the suite.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// The simulator dialect the connector speaks.
    pub dialect: Dialect,
    /// Companies in the simulator's data set (other entities scale with it).
    pub companies: usize,
    /// The small page size used to force several pages.
    pub page_size: u32,
    /// Seed of the data set.
    pub seed: u64,
    /// Settings to add or replace (`{origin}` in a value is the simulator's origin), for
    /// connectors whose settings are named differently from the first-party one.
    pub settings: Vec<(String, String)>,
}

impl CheckOptions {
    /// Defaults for `dialect`: 120 companies, pages of 25.
    pub fn new(dialect: Dialect) -> Self {
        CheckOptions {
            dialect,
            companies: 120,
            page_size: 25,
            seed: 11,
            settings: Vec::new(),
        }
    }
}

/// The result of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The connector honours this part of the contract.
    Pass,
    /// It does not.
    Fail,
    /// Not applicable (an operation the connector does not declare), or acceptable with a note.
    Skip,
}

/// One row of the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// The verdict.
    pub outcome: Outcome,
    /// Why, with the numbers.
    pub detail: String,
}

/// The suite's verdicts.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    /// The connector's id and version.
    pub connector: String,
    /// The simulator dialect.
    pub dialect: String,
    /// Every check, in order.
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether no check failed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.outcome != Outcome::Fail)
    }

    /// The checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.outcome == Outcome::Fail)
    }

    /// The verdicts as a text table for a terminal, one line per check (the connector's own
    /// text escaped).
    pub fn table(&self) -> String {
        let width = self
            .checks
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "conformance of {} against the {} simulator",
            one_line(&self.connector),
            self.dialect
        );
        let _ = writeln!(out, "{:width$}  result  detail", "check");
        for c in &self.checks {
            let result = match c.outcome {
                Outcome::Pass => "pass",
                Outcome::Fail => "FAIL",
                Outcome::Skip => "skip",
            };
            // Details quote the connector's own messages: one line each, controls escaped.
            let _ = writeln!(
                out,
                "{:width$}  {result:6}  {}",
                c.name,
                one_line(&c.detail)
            );
        }
        let failed = self.failures().count();
        let _ = writeln!(
            out,
            "{} checks, {} passed, {failed} failed, {} skipped",
            self.checks.len(),
            self.checks
                .iter()
                .filter(|c| c.outcome == Outcome::Pass)
                .count(),
            self.checks
                .iter()
                .filter(|c| c.outcome == Outcome::Skip)
                .count()
        );
        out
    }
}

/// The entities the suite reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Companies,
    Contacts,
    Agreements,
    Configurations,
    Tickets,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Companies,
        Kind::Contacts,
        Kind::Agreements,
        Kind::Configurations,
        Kind::Tickets,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Companies => "companies",
            Kind::Contacts => "contacts",
            Kind::Agreements => "agreements",
            Kind::Configurations => "configurations",
            Kind::Tickets => "tickets",
        }
    }

    fn operations(self) -> (Operation, Operation) {
        match self {
            Kind::Companies => (Operation::ListCompanies, Operation::GetCompany),
            Kind::Contacts => (Operation::ListContacts, Operation::GetContact),
            Kind::Agreements => (Operation::ListAgreements, Operation::GetAgreement),
            Kind::Configurations => (Operation::ListConfigurations, Operation::GetConfiguration),
            Kind::Tickets => (Operation::ListTickets, Operation::GetTicket),
        }
    }

    fn sim_entity(self) -> Entity {
        match self {
            Kind::Companies => Entity::Company,
            Kind::Contacts => Entity::Contact,
            Kind::Agreements => Entity::Agreement,
            Kind::Configurations => Entity::Configuration,
            Kind::Tickets => Entity::Ticket,
        }
    }
}

/// One page of ids and the next cursor.
type IdPage = (Vec<String>, Option<String>);

async fn list_ids(
    conn: &Connection,
    kind: Kind,
    page: PageRequest,
) -> Result<IdPage, ConnectorError> {
    fn ids<T>(items: Vec<T>, id: impl Fn(&T) -> &String) -> Vec<String> {
        items.iter().map(|i| id(i).clone()).collect()
    }
    Ok(match kind {
        Kind::Companies => conn
            .list_companies(page)
            .await
            .map(|p| (ids(p.items, |c| &c.id), p.next_cursor))?,
        Kind::Contacts => conn
            .list_contacts(page)
            .await
            .map(|p| (ids(p.items, |c| &c.id), p.next_cursor))?,
        Kind::Agreements => conn
            .list_agreements(page)
            .await
            .map(|p| (ids(p.items, |c| &c.id), p.next_cursor))?,
        Kind::Configurations => conn
            .list_configurations(page)
            .await
            .map(|p| (ids(p.items, |c| &c.id), p.next_cursor))?,
        Kind::Tickets => conn
            .list_tickets(page)
            .await
            .map(|p| (ids(p.items, |c| &c.id), p.next_cursor))?,
    })
}

async fn get_id(conn: &Connection, kind: Kind, id: String) -> Result<String, ConnectorError> {
    Ok(match kind {
        Kind::Companies => conn.get_company(id).await?.id,
        Kind::Contacts => conn.get_contact(id).await?.id,
        Kind::Agreements => conn.get_agreement(id).await?.id,
        Kind::Configurations => conn.get_configuration(id).await?.id,
        Kind::Tickets => conn.get_ticket(id).await?.id,
    })
}

/// Every id of a paged read, and the number of pages; the cursor chain is followed up to a
/// bound so a connector that never ends its sweep fails instead of hanging.
async fn pull(
    conn: &Connection,
    kind: Kind,
    page_size: u32,
    updated_since: Option<&str>,
) -> Result<(Vec<String>, usize), ConnectorError> {
    let mut all = Vec::new();
    let mut cursor = None;
    for pages in 1..=10_000 {
        let (ids, next) = list_ids(
            conn,
            kind,
            PageRequest {
                cursor: cursor.take(),
                updated_since: updated_since.map(str::to_string),
                page_size,
            },
        )
        .await?;
        all.extend(ids);
        match next {
            Some(n) => cursor = Some(n),
            None => return Ok((all, pages)),
        }
    }
    Ok((all, 10_000))
}

/// What the simulator lists for `kind` by default: the records its dialect serves (a deleted
/// company, and in some dialects its contacts, are not served), deleted companies excluded.
fn listed_ids(sim: &Simulator, kind: Kind) -> BTreeSet<String> {
    let state = sim.state();
    let deleted: BTreeSet<u64> = state.read(|d| {
        d.companies
            .values()
            .filter(|c| c.deleted)
            .map(|c| c.id)
            .collect()
    });
    state
        .ids(kind.sim_entity())
        .into_iter()
        .filter(|id| !(kind == Kind::Companies && deleted.contains(id)))
        .filter(|id| state.get(kind.sim_entity(), *id).is_some())
        .map(|id| id.to_string())
        .collect()
}

struct Suite<'a> {
    runtime: &'a Arc<Runtime>,
    plugin: &'a Arc<Plugin>,
    info: &'a ConnectorInfo,
    sim: &'a Simulator,
    options: &'a CheckOptions,
    kv: KvStore,
    checks: Vec<Check>,
    unsupported: BTreeSet<String>,
}

impl Suite<'_> {
    fn record(&mut self, name: impl Into<String>, outcome: Outcome, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.into(),
            outcome,
            detail: detail.into(),
        });
    }

    fn declares(&self, op: Operation) -> bool {
        self.info.operations.contains(&op)
    }

    fn settings(&self, replace: Option<(&str, String)>) -> Settings {
        let mut settings = simulated::settings_for(self.sim);
        for (name, value) in &self.options.settings {
            settings.insert(
                name.clone(),
                value.replace("{origin}", &self.sim.origin()),
                false,
            );
        }
        if let Some((name, value)) = replace {
            settings.insert(name, value, true);
        }
        settings
    }

    fn connection(&self, id: &str, settings: Settings) -> anyhow::Result<Connection> {
        simulated::connect(self.runtime, self.plugin, self.sim, id, settings, &self.kv)
    }

    /// Notes an `unsupported` answer to a declared operation.
    fn note_error(&mut self, operation: &str, e: &ConnectorError) {
        if let ConnectorError::Psa(PsaError::Unsupported(_)) = e {
            self.unsupported.insert(operation.to_string());
        }
    }

    fn check_describe(&mut self) {
        let info = self.info;
        let mut problems = Vec::new();
        if info.name.trim().is_empty()
            || info.vendor.trim().is_empty()
            || info.description.trim().is_empty()
        {
            problems.push("name, vendor and description must not be empty".to_string());
        }
        let semver = info.version.split(['-', '+']).next().unwrap_or("");
        if semver.split('.').count() != 3 || !semver.split('.').all(|p| p.parse::<u64>().is_ok()) {
            problems.push(format!("version `{}` is not semver", info.version));
        }
        for s in &info.settings {
            if s.label.trim().is_empty() || s.description.trim().is_empty() {
                problems.push(format!("setting `{}` has no label or description", s.name));
            }
        }
        if !info.operations.contains(&Operation::TestConnection) {
            problems.push("`test-connection` is not declared".into());
        }
        if info.outbound_hosts.is_empty() {
            problems.push("no outbound host is requested".into());
        }
        for hint in &info.rate_limits {
            if hint.requests > 0 && hint.per_seconds == 0 {
                problems.push("a rate-limit hint has requests but no period".into());
            }
        }
        if !info.settings.iter().any(|s| s.secret) {
            problems.push("no setting is secret: credentials must be marked secret".into());
        }
        match problems.is_empty() {
            true => self.record(
                "describe",
                Outcome::Pass,
                format!(
                    "{} {} by {}: {} settings, {} operations",
                    info.id,
                    info.version,
                    info.vendor,
                    info.settings.len(),
                    info.operations.len()
                ),
            ),
            false => self.record("describe", Outcome::Fail, problems.join("; ")),
        }
    }

    async fn check_credentials(&mut self, conn: &Connection) {
        match conn.test_connection().await {
            Ok(r) => self.record(
                "test-connection: good credentials",
                Outcome::Pass,
                r.message,
            ),
            Err(e) => {
                self.note_error("test-connection", &e);
                self.record(
                    "test-connection: good credentials",
                    Outcome::Fail,
                    e.to_string(),
                )
            }
        }
        let secrets: Vec<String> = self
            .info
            .settings
            .iter()
            .filter(|s| s.secret)
            .map(|s| s.name.clone())
            .collect();
        for name in secrets {
            let check = format!("test-connection: wrong `{name}`");
            let mut settings = self.settings(None);
            let Some(good) = settings.get(&name).map(str::to_string) else {
                self.record(
                    check,
                    Outcome::Skip,
                    format!("the simulator has no value for `{name}`"),
                );
                continue;
            };
            settings.insert(name.clone(), format!("{good}-wrong"), true);
            let conn = match self.connection(&format!("check-wrong-{name}"), settings) {
                Ok(c) => c,
                Err(e) => {
                    self.record(check, Outcome::Fail, format!("{e:#}"));
                    continue;
                }
            };
            match conn.test_connection().await {
                Ok(_) => self.record(check, Outcome::Fail, "accepted a wrong value"),
                // Naming the wrong setting among others is fine when the PSA does not say which
                // credential it refused; not naming it sends the operator to the wrong field.
                Err(ConnectorError::Psa(PsaError::Unauthorized(p)))
                    if p.settings.contains(&name) =>
                {
                    self.record(check, Outcome::Pass, format!("unauthorized: {}", p.message))
                }
                Err(ConnectorError::Psa(PsaError::Unauthorized(p))) => self.record(
                    check,
                    Outcome::Fail,
                    format!(
                        "unauthorized, but it names `{}` instead of `{name}`",
                        p.settings_text()
                    ),
                ),
                Err(ConnectorError::Psa(e)) => self.record(
                    check,
                    Outcome::Fail,
                    format!(
                        "expected `unauthorized` naming `{name}`, got `{}`",
                        error_kind(&e)
                    ),
                ),
                Err(e) => self.record(check, Outcome::Fail, e.to_string()),
            }
        }
    }

    async fn check_paging(&mut self, conn: &Connection, kind: Kind) -> Option<Vec<String>> {
        let check = format!("{}: paging", kind.name());
        let expected = listed_ids(self.sim, kind);
        let small = self.options.page_size;
        let (ids, pages) = match pull(conn, kind, small, None).await {
            Ok(r) => r,
            Err(e) => {
                self.note_error(&format!("list-{}", kind.name()), &e);
                self.record(check, Outcome::Fail, e.to_string());
                return None;
            }
        };
        let unique: BTreeSet<String> = ids.iter().cloned().collect();
        let duplicates = ids.len() - unique.len();
        let missing = expected.difference(&unique).count();
        let extra = unique.difference(&expected).count();
        if duplicates + missing + extra > 0 {
            self.record(
                check,
                Outcome::Fail,
                format!(
                    "{} records in {pages} pages of {small}: {missing} missing, {extra} unexpected, {duplicates} twice (the simulator lists {})",
                    ids.len(),
                    expected.len()
                ),
            );
            return Some(ids);
        }
        let large = match pull(conn, kind, 1000, None).await {
            Ok((large, _)) => large.into_iter().collect::<BTreeSet<_>>(),
            Err(e) => {
                self.record(check, Outcome::Fail, format!("with page size 1000: {e}"));
                return Some(ids);
            }
        };
        if large != unique {
            self.record(
                check,
                Outcome::Fail,
                "page size 1000 returns other records than page size {small}",
            );
        } else if pages < 2 {
            self.record(
                check,
                Outcome::Skip,
                format!("{} records fit in one page: raise --records", ids.len()),
            );
        } else {
            self.record(
                check,
                Outcome::Pass,
                format!("{} records in {pages} pages of {small}, each once; same set with pages of 1000", ids.len()),
            );
        }
        Some(ids)
    }

    async fn check_get(&mut self, conn: &Connection, kind: Kind, ids: &[String]) {
        let (_, get) = kind.operations();
        let check = format!("{}: get by id", kind.name());
        if !self.declares(get) {
            return self.record(check, Outcome::Skip, "not declared");
        }
        let Some(id) = ids.get(ids.len() / 2).cloned() else {
            return self.record(check, Outcome::Skip, "no record to get");
        };
        match get_id(conn, kind, id.clone()).await {
            Ok(got) if got == id => self.record(check, Outcome::Pass, format!("record {id}")),
            Ok(got) => self.record(check, Outcome::Fail, format!("asked for {id}, got {got}")),
            Err(e) => {
                self.note_error(&format!("get-{}", kind.name()), &e);
                self.record(check, Outcome::Fail, e.to_string())
            }
        }
    }

    async fn check_updated_since(&mut self, conn: &Connection, kind: Kind) {
        let check = format!("{}: updated-since", kind.name());
        let listed: Vec<String> = listed_ids(self.sim, kind).into_iter().collect();
        let touched: BTreeSet<String> = listed
            .iter()
            .step_by((listed.len() / 3).max(1))
            .take(3)
            .filter(|id| {
                id.parse()
                    .is_ok_and(|id| self.sim.state().touch(kind.sim_entity(), id))
            })
            .cloned()
            .collect();
        let since = psa_sim::data::DATA_END
            .format(&time::format_description::well_known::Rfc3339)
            .expect("a fixed date formats");
        let got = match pull(conn, kind, self.options.page_size, Some(&since)).await {
            Ok((ids, _)) => ids.into_iter().collect::<BTreeSet<_>>(),
            Err(e) => return self.record(check, Outcome::Fail, e.to_string()),
        };
        if got == touched {
            self.record(
                check,
                Outcome::Pass,
                format!("exactly the {} changed records", touched.len()),
            );
        } else if kind == Kind::Agreements && got.is_superset(&touched) {
            self.record(
                check,
                Outcome::Skip,
                format!("{} records for {} changed: the PSA may have no modification time for agreements", got.len(), touched.len()),
            );
        } else {
            let missing = touched.difference(&got).count();
            let extra = got.difference(&touched).count();
            self.record(
                check,
                Outcome::Fail,
                format!("{} changed in the simulator; got {}: {missing} missing, {extra} unchanged ones returned", touched.len(), got.len()),
            );
        }
    }

    async fn check_dataset(&mut self, conn: &Connection, spec: &DatasetSpec) {
        let name = &spec.name;
        let large = match datasets::read(conn, name, spec.max_page_size, None).await {
            Ok(r) => r,
            Err(e) => {
                self.note_error("list-dataset", &e);
                return self.record(
                    format!("{name}: paging"),
                    Outcome::Fail,
                    format!("with pages of {}: {e}", spec.max_page_size),
                );
            }
        };
        // Small enough for at least three pages, so paging is exercised on any PSA's data.
        let small_size = self
            .options
            .page_size
            .min((large.records.len() / 3).max(1) as u32);
        let small = match datasets::read(conn, name, small_size, None).await {
            Ok(r) => r,
            Err(e) => {
                return self.record(format!("{name}: paging"), Outcome::Fail, e.to_string());
            }
        };
        let (outcome, detail) = datasets::paging(spec, &small, &large, small_size);
        self.record(format!("{name}: paging"), outcome, detail);
        let check = format!("{name}: updated-since");
        if !spec.updated_since {
            return self.record(check, Outcome::Skip, "full sweeps only, as declared");
        }
        let Some(since) = datasets::split_time(&large.records) else {
            return self.record(check, Outcome::Skip, "fewer than two distinct times");
        };
        match datasets::read(
            conn,
            name,
            small_size,
            Some(psahost_store::format_time(since)),
        )
        .await
        {
            Ok(filtered) => {
                let (outcome, detail) = datasets::updated_since(&large, &filtered, since);
                self.record(check, outcome, detail)
            }
            Err(e) => self.record(check, Outcome::Fail, e.to_string()),
        }
    }

    async fn check_references(&mut self, conn: &Connection) -> TicketDefaults {
        if !self.declares(Operation::ListReferences) {
            self.record("picklists", Outcome::Skip, "not declared");
            return TicketDefaults::default();
        }
        let kinds = [
            ("queue", ReferenceKind::Queue),
            ("ticket-status", ReferenceKind::TicketStatus),
            ("ticket-priority", ReferenceKind::TicketPriority),
            ("ticket-type", ReferenceKind::TicketType),
            ("ticket-sub-type", ReferenceKind::TicketSubType),
            ("ticket-category", ReferenceKind::TicketCategory),
            ("ticket-source", ReferenceKind::TicketSource),
            ("note-type", ReferenceKind::NoteType),
            ("configuration-type", ReferenceKind::ConfigurationType),
            ("configuration-status", ReferenceKind::ConfigurationStatus),
            ("manufacturer", ReferenceKind::Manufacturer),
            ("vendor", ReferenceKind::Vendor),
            ("contract-service", ReferenceKind::ContractService),
            ("company-status", ReferenceKind::CompanyStatus),
            ("company-type", ReferenceKind::CompanyType),
            ("agreement-type", ReferenceKind::AgreementType),
        ];
        let mut counts = Vec::new();
        let mut empty = Vec::new();
        let mut failed = Vec::new();
        let (mut queues, mut statuses, mut priorities) = (Vec::new(), Vec::new(), Vec::new());
        for (name, kind) in kinds {
            match conn.list_references(kind).await {
                Ok(refs) if refs.is_empty() => empty.push(name),
                Ok(refs) => {
                    counts.push(format!("{name} {}", refs.len()));
                    match kind {
                        ReferenceKind::Queue => queues = refs,
                        ReferenceKind::TicketPriority => priorities = refs,
                        ReferenceKind::TicketStatus => statuses = refs,
                        _ => {}
                    }
                }
                Err(ConnectorError::Psa(PsaError::Unsupported(_))) => {}
                Err(e) => failed.push(format!("{name}: {e}")),
            }
        }
        let needed: &[&str] = if self.declares(Operation::CreateTicket) {
            &["queue", "ticket-status", "ticket-priority"]
        } else {
            &[]
        };
        let missing: Vec<&&str> = needed
            .iter()
            .filter(|n| !counts.iter().any(|c| c.starts_with(&format!("{n} "))))
            .collect();
        if !failed.is_empty() || !empty.is_empty() || !missing.is_empty() || counts.is_empty() {
            let mut detail = Vec::new();
            if !empty.is_empty() {
                detail.push(format!("empty: {}", empty.join(", ")));
            }
            if !missing.is_empty() {
                detail.push(format!(
                    "a ticket-creating connector needs {}",
                    missing
                        .iter()
                        .map(|m| m.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            detail.extend(failed);
            if counts.is_empty() {
                detail.push("every kind is unsupported".into());
            }
            self.record("picklists", Outcome::Fail, detail.join("; "));
        } else {
            self.record("picklists", Outcome::Pass, counts.join(", "));
        }
        TicketDefaults::choose(&queues, &statuses, &priorities)
    }

    async fn check_writes(
        &mut self,
        conn: &Connection,
        company: Option<String>,
        defaults: TicketDefaults,
    ) {
        if !self.declares(Operation::CreateTicket) {
            return self.record(
                "writes: ticket and note",
                Outcome::Skip,
                "create-ticket not declared",
            );
        }
        let Some(company) = company else {
            return self.record(
                "writes: ticket and note",
                Outcome::Skip,
                "no company listed",
            );
        };
        let summary = format!("conformance check {}", self.options.seed);
        let ticket = match conn
            .create_ticket(NewTicket {
                description: Some("Created by psahost plugin check.".into()),
                queue_id: defaults.queue,
                status_id: defaults.status,
                priority_id: defaults.priority,
                ..NewTicket::new(company.clone(), summary.clone())
            })
            .await
        {
            Ok(t) => t,
            Err(e) => {
                self.note_error("create-ticket", &e);
                return self.record(
                    "writes: ticket and note",
                    Outcome::Fail,
                    format!("create-ticket: {e}"),
                );
            }
        };
        let held = |entity, id: &str| {
            id.parse()
                .ok()
                .and_then(|id| self.sim.state().get(entity, id))
                .is_some()
        };
        if ticket.summary != summary || !held(Entity::Ticket, &ticket.id) {
            return self.record(
                "writes: ticket and note",
                Outcome::Fail,
                format!(
                    "ticket {} is not held by the simulator with the summary sent",
                    ticket.id
                ),
            );
        }
        if self.declares(Operation::GetTicket) {
            match conn.get_ticket(ticket.id.clone()).await {
                Ok(t) if t.summary == summary => {}
                Ok(t) => {
                    return self.record(
                        "writes: ticket and note",
                        Outcome::Fail,
                        format!("get-ticket reads back `{}`", t.summary),
                    );
                }
                Err(e) => {
                    return self.record(
                        "writes: ticket and note",
                        Outcome::Fail,
                        format!("get-ticket: {e}"),
                    );
                }
            }
        }
        let mut detail = format!("ticket {} created and read back", ticket.id);
        if self.declares(Operation::AddTicketNote) {
            match conn
                .add_ticket_note(NewNote {
                    title: Some("Conformance".into()),
                    ..NewNote::new(ticket.id.clone(), "Checked by psahost.", true)
                })
                .await
            {
                Ok(note) if held(Entity::Note, &note.id) => {
                    let _ = write!(detail, ", note {} held", note.id);
                }
                Ok(note) => {
                    return self.record(
                        "writes: ticket and note",
                        Outcome::Fail,
                        format!("note {} is not held by the simulator", note.id),
                    );
                }
                Err(e) => {
                    self.note_error("add-ticket-note", &e);
                    return self.record(
                        "writes: ticket and note",
                        Outcome::Fail,
                        format!("add-ticket-note: {e}"),
                    );
                }
            }
        }
        if self.declares(Operation::FindOpenTickets) {
            match conn
                .find_open_tickets(TicketFilter {
                    company_id: Some(company),
                    summary: Some(summary),
                    queue_id: None,
                    limit: 5,
                })
                .await
            {
                Ok(found) if found.iter().any(|t| t.id == ticket.id) => {
                    detail.push_str(", found as open by its summary");
                }
                Ok(found) => {
                    return self.record(
                        "writes: ticket and note",
                        Outcome::Fail,
                        format!(
                            "find-open-tickets returned {} tickets without the new one",
                            found.len()
                        ),
                    );
                }
                Err(e) => {
                    self.note_error("find-open-tickets", &e);
                    return self.record(
                        "writes: ticket and note",
                        Outcome::Fail,
                        format!("find-open-tickets: {e}"),
                    );
                }
            }
        }
        self.record("writes: ticket and note", Outcome::Pass, detail);
    }

    async fn check_fault(
        &mut self,
        conn: &Connection,
        name: &str,
        expected: &str,
        set: impl Fn(&Simulator),
    ) {
        let check = format!("fault: {name}");
        set(self.sim);
        let result = list_ids(
            conn,
            Kind::Companies,
            PageRequest::first(self.options.page_size),
        )
        .await;
        self.sim.faults().clear();
        match result {
            Err(ConnectorError::Psa(e)) if error_kind(&e) == expected => self.record(
                check,
                Outcome::Pass,
                psahost_sandbox::connector::describe_psa_error(&e),
            ),
            Err(ConnectorError::Psa(e)) => self.record(
                check,
                Outcome::Fail,
                format!("expected `{expected}`, got `{}`", error_kind(&e)),
            ),
            Err(e) => self.record(check, Outcome::Fail, e.to_string()),
            Ok((ids, _)) => self.record(
                check,
                Outcome::Fail,
                format!("succeeded with {} records", ids.len()),
            ),
        }
    }
}

/// Runs the suite: starts a simulator of `options.dialect`, binds `plugin` to it and checks it.
pub async fn check_connector(
    runtime: &Arc<Runtime>,
    plugin: &Arc<Plugin>,
    options: &CheckOptions,
) -> anyhow::Result<Report> {
    let info = plugin.connector_info().ok_or_else(|| {
        anyhow!(
            "`{}` is a matching rule: the conformance suite checks connectors",
            plugin.source()
        )
    })?;
    let sim = Simulator::start(sim_config(options.dialect, options.companies, options.seed))
        .await
        .context("cannot start the simulator")?;
    let mut suite = Suite {
        runtime,
        plugin,
        info,
        sim: &sim,
        options,
        kv: KvStore::temporary()?,
        checks: Vec::new(),
        unsupported: BTreeSet::new(),
    };
    let result = run(&mut suite).await;
    let checks = std::mem::take(&mut suite.checks);
    drop(suite);
    sim.shutdown().await;
    result?;
    Ok(Report {
        connector: format!("{} {}", info.id, info.version),
        dialect: clap::ValueEnum::to_possible_value(&options.dialect)
            .map(|v| v.get_name().to_string())
            .unwrap_or_default(),
        checks,
    })
}

async fn run(suite: &mut Suite<'_>) -> anyhow::Result<()> {
    suite.check_describe();
    let conn = suite
        .connection("check", suite.settings(None))
        .context("the connector's settings do not fit the simulator: map them with --setting")?;
    suite.check_credentials(&conn).await;

    let mut first_company = None;
    for kind in Kind::ALL {
        let (list, _) = kind.operations();
        if !suite.declares(list) {
            suite.record(
                format!("{}: paging", kind.name()),
                Outcome::Skip,
                "not declared",
            );
            continue;
        }
        if let Some(ids) = suite.check_paging(&conn, kind).await {
            if kind == Kind::Companies {
                first_company = ids.first().cloned();
            }
            suite.check_get(&conn, kind, &ids).await;
            suite.check_updated_since(&conn, kind).await;
        }
    }
    let defaults = suite.check_references(&conn).await;
    suite.check_writes(&conn, first_company, defaults).await;

    if suite.declares(Operation::ListCompanies) {
        suite
            .check_fault(&conn, "429 Too Many Requests", "rate-limited", |sim| {
                sim.faults().set_too_many_requests(1, 3600)
            })
            .await;
        suite
            .check_fault(&conn, "503 Service Unavailable", "unavailable", |sim| {
                sim.faults().set_server_errors(1, 503)
            })
            .await;
        suite
            .check_fault(&conn, "malformed JSON", "remote", |sim| {
                sim.faults().set_malformed_every(1)
            })
            .await;
    }

    for spec in suite.info.datasets.clone() {
        suite.check_dataset(&conn, &spec).await;
    }
    if suite.declares(Operation::ListDataset) {
        let (outcome, detail) = datasets::unknown(
            datasets::read(&conn, "no-such-dataset", suite.options.page_size, None).await,
        );
        suite.record("datasets: unknown name", outcome, detail);
    }

    let declared_unsupported: Vec<String> =
        std::mem::take(&mut suite.unsupported).into_iter().collect();
    if declared_unsupported.is_empty() {
        suite.record(
            "declared operations",
            Outcome::Pass,
            "none answered `unsupported`",
        );
    } else {
        suite.record(
            "declared operations",
            Outcome::Fail,
            format!(
                "declared but answered `unsupported`: {}",
                declared_unsupported.join(", ")
            ),
        );
    }
    Ok(())
}
