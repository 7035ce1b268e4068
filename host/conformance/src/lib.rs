//! The connector conformance suite: runs a connector against a PSA and checks it honours the
//! contract. Two sources of data, one suite:
//! - the simulator ([`check_connector`], `psahost plugin check FILE --sim DIALECT`, for the
//!   first-party connectors): it knows the data, so the checks compare the connector's
//!   answers with it;
//! - any server the vendor runs, real or fake ([`check_any`], `psahost plugin check FILE
//!   --setting ... --grant ORIGIN`): nothing knows the data, so the checks compare the
//!   connector's answers with each other (see `datasets.rs`), and faults are injected by the
//!   host into the connector's HTTP ([`Fault`]).
//!
//! Vendors can call either from their own tests. What is checked, in order (each check is
//! independent; a failure does not stop the others):
//! 1. `describe` is complete and consistent (names, labels, semver version, rate-limit hints);
//! 2. `test-connection` accepts the good credentials, and rejects each secret setting made
//!    wrong with `unauthorized` naming exactly that setting;
//! 3. every declared `list-*` returns each record once, over several pages and with the
//!    largest page size alike (with the simulator: exactly the records it lists); `get-*`
//!    returns a listed record (without the simulator: a bounded sample, each with the same id
//!    and the same `raw` JSON as listed);
//! 4. `updated-since` returns exactly the records changed in the simulator (agreements may
//!    return more when the PSA has no modification time for them, which is reported); without
//!    the simulator, exactly the listed records whose `updated-at` is at or after the median;
//! 5. picklists are non-empty (or `unsupported`), and a connector that creates tickets has
//!    queues, statuses and priorities;
//! 6. writes round-trip: a created ticket and note are held by the simulator and read back
//!    (against any server only when asked: they create records there);
//! 7. faults surface as the right errors: 429 as `rate-limited` (with the `Retry-After` given),
//!    503 as `unavailable`; with the simulator a malformed body as `remote`; injected by the
//!    host, a timeout as `unavailable`, a truncated or oversized body as `remote` or
//!    `unavailable`;
//! 8. every declared dataset pages each record once, small pages and its largest alike, with
//!    ids, JSON `raw` and RFC 3339 `updated-at` (required when it declares updated-since), a
//!    first-page total equal to what was read, `updated-since` returning exactly the records
//!    updated at or after a time, and an unknown dataset answered `invalid-input`;
//! 9. no declared operation answers `unsupported`.

mod datasets;
pub mod simulated;

use crate::datasets::{Declared, Listing};
use crate::simulated::{TicketDefaults, sim_config};
use anyhow::{Context, anyhow};
use psa_sim::{Dialect, Entity, Simulator};
use psahost_sandbox::bindings::exports::psa::connector::connector_api::{
    ConnectorInfo, DatasetSpec, Entity as ContractEntity, Operation,
};
use psahost_sandbox::bindings::psa::connector::types::{
    DatasetRecord, Error as PsaError, NewNote, NewTicket, PageRequest, ReferenceKind, TicketFilter,
};
use psahost_sandbox::capabilities::ConnectionPolicy;
pub use psahost_sandbox::capabilities::http::Fault;
use psahost_sandbox::capabilities::http::{Grant, HttpLimits};
use psahost_sandbox::capabilities::kv::{KvLimits, KvStore};
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

/// How to run the suite against a server the vendor runs, real or fake (any PSA): the
/// options of `psahost plugin check FILE` without `--sim`.
#[derive(Clone, Debug)]
pub struct AnyOptions {
    /// The connection's settings, as the plugin's `describe` names them (secret or not as an
    /// operator's configuration marks them; the plugin's secret settings are secret anyway).
    pub settings: Settings,
    /// The origins the connector may reach (a loopback or private origin must be named here).
    pub grant: Grant,
    /// The secret settings to corrupt, each in its own `test-connection`; `None`: every setting
    /// the plugin's `describe` marks secret.
    pub corrupt: Option<Vec<String>>,
    /// Whether to run the write checks, which create a ticket and a note on the server.
    pub writes: bool,
    /// The small page size used to force several pages.
    pub page_size: u32,
    /// Most listed records of each entity read back by id.
    pub sample: usize,
}

impl AnyOptions {
    /// Defaults: every secret corrupted, no writes, pages of 25, 20 records read back.
    pub fn new(settings: Settings, grant: Grant) -> Self {
        AnyOptions {
            settings,
            grant,
            corrupt: None,
            writes: false,
            page_size: 25,
            sample: 20,
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
    /// What it ran against: `the connectwise simulator`, or the granted origins.
    pub against: String,
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
            "conformance of {} against {}",
            one_line(&self.connector),
            one_line(&self.against)
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
pub(crate) enum Kind {
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

    /// How the connector declares it pages this entity; without a declaration, the largest
    /// page the suite asks for is 1000 and updated-since is expected, as with the simulator.
    fn declared(self, info: &ConnectorInfo) -> Declared {
        let entity = match self {
            Kind::Companies => ContractEntity::Companies,
            Kind::Contacts => ContractEntity::Contacts,
            Kind::Agreements => ContractEntity::Agreements,
            Kind::Configurations => ContractEntity::Configurations,
            Kind::Tickets => ContractEntity::Tickets,
        };
        info.paging
            .iter()
            .find(|p| p.entity == entity)
            .map(|p| Declared {
                max_page_size: p.max_page_size,
                updated_since: p.updated_since,
            })
            .unwrap_or(Declared {
                max_page_size: 1000,
                updated_since: true,
            })
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
    let (items, next, _) = datasets::page(conn, Listing::Entity(kind), page).await?;
    Ok((items.into_iter().map(|r| r.id).collect(), next))
}

async fn get_id(conn: &Connection, kind: Kind, id: String) -> Result<String, ConnectorError> {
    Ok(datasets::get(conn, kind, id).await?.0)
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
    /// The simulator, when it serves the data: then the ground truth of the paging,
    /// updated-since and write checks, and the source of the faults.
    sim: Option<&'a Simulator>,
    /// The settings of a good connection.
    settings: Settings,
    policy: ConnectionPolicy,
    /// The secret settings to corrupt.
    corrupt: Vec<String>,
    writes: bool,
    page_size: u32,
    sample: usize,
    /// Makes the summary of a created ticket recognisable.
    seed: u64,
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

    fn connection(&self, id: &str, settings: Settings) -> anyhow::Result<Connection> {
        self.connection_with(id, settings, self.policy.http.clone())
    }

    fn connection_with(
        &self,
        id: &str,
        settings: Settings,
        http: HttpLimits,
    ) -> anyhow::Result<Connection> {
        let policy = ConnectionPolicy {
            http,
            ..self.policy.clone()
        };
        Connection::open(
            self.runtime.clone(),
            self.plugin.clone(),
            id,
            settings,
            &policy,
            &self.kv,
        )
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
        for name in self.corrupt.clone() {
            let check = format!("test-connection: wrong `{name}`");
            let mut settings = self.settings.clone();
            let Some(good) = settings.get(&name).map(str::to_string) else {
                self.record(
                    check,
                    Outcome::Skip,
                    format!("no value for `{name}`: give it with --setting"),
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

    async fn check_paging(
        &mut self,
        sim: &Simulator,
        conn: &Connection,
        kind: Kind,
    ) -> Option<Vec<String>> {
        let check = format!("{}: paging", kind.name());
        let expected = listed_ids(sim, kind);
        let small = self.page_size;
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

    async fn check_updated_since(&mut self, sim: &Simulator, conn: &Connection, kind: Kind) {
        let check = format!("{}: updated-since", kind.name());
        let listed: Vec<String> = listed_ids(sim, kind).into_iter().collect();
        let touched: BTreeSet<String> = listed
            .iter()
            .step_by((listed.len() / 3).max(1))
            .take(3)
            .filter(|id| {
                id.parse()
                    .is_ok_and(|id| sim.state().touch(kind.sim_entity(), id))
            })
            .cloned()
            .collect();
        let since = psa_sim::data::DATA_END
            .format(&time::format_description::well_known::Rfc3339)
            .expect("a fixed date formats");
        let got = match pull(conn, kind, self.page_size, Some(&since)).await {
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
        let declared = Declared {
            max_page_size: spec.max_page_size,
            updated_since: spec.updated_since,
        };
        self.check_listing(conn, Listing::Dataset(&spec.name), declared)
            .await;
    }

    /// Paging, read back by id (typed entities) and updated-since of one listing, compared
    /// with each other only (see `datasets.rs`); the ids of the full read, when there was one.
    async fn check_listing(
        &mut self,
        conn: &Connection,
        listing: Listing<'_>,
        declared: Declared,
    ) -> Option<Vec<String>> {
        let (name, operation) = match listing {
            Listing::Dataset(name) => (name.to_string(), "list-dataset".to_string()),
            Listing::Entity(kind) => (kind.name().to_string(), format!("list-{}", kind.name())),
        };
        let large = match datasets::read(conn, listing, declared.max_page_size, None).await {
            Ok(r) => r,
            Err(e) => {
                self.note_error(&operation, &e);
                self.record(
                    format!("{name}: paging"),
                    Outcome::Fail,
                    format!("with pages of {}: {e}", declared.max_page_size),
                );
                return None;
            }
        };
        // Small enough for at least three pages, so paging is exercised on any PSA's data.
        let small_size = self.page_size.min((large.records.len() / 3).max(1) as u32);
        match datasets::read(conn, listing, small_size, None).await {
            Ok(small) => {
                let (outcome, detail) = datasets::paging(declared, &small, &large, small_size);
                self.record(format!("{name}: paging"), outcome, detail);
            }
            Err(e) => self.record(format!("{name}: paging"), Outcome::Fail, e.to_string()),
        }
        if let Listing::Entity(kind) = listing {
            self.check_read_back(conn, kind, &large.records).await;
        }
        let check = format!("{name}: updated-since");
        if !declared.updated_since {
            self.record(check, Outcome::Skip, "full sweeps only, as declared");
        } else if let Some(since) = datasets::split_time(&large.records) {
            // Small pages: the cursor must carry the filter from page to page.
            match datasets::read(
                conn,
                listing,
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
        } else {
            self.record(check, Outcome::Skip, "fewer than two distinct times");
        }
        Some(large.records.into_iter().map(|r| r.id).collect())
    }

    /// A sample of the listed records (at most `sample`, spread over the list) read back by
    /// id: each with the same id and the same `raw` JSON value as listed.
    async fn check_read_back(&mut self, conn: &Connection, kind: Kind, listed: &[DatasetRecord]) {
        let (_, get) = kind.operations();
        let check = format!("{}: get by id", kind.name());
        if !self.declares(get) {
            return self.record(check, Outcome::Skip, "not declared");
        }
        if listed.is_empty() {
            return self.record(check, Outcome::Skip, "no record to get");
        }
        let step = listed.len().div_ceil(self.sample.max(1));
        let mut read = 0;
        for record in listed.iter().step_by(step) {
            let problem = match datasets::get(conn, kind, record.id.clone()).await {
                Ok((id, _)) if id != record.id => format!("asked for {}, got {id}", record.id),
                Ok((_, raw)) if !same_json(&raw, &record.raw) => format!(
                    "record {} reads back with another `raw` than listed",
                    record.id
                ),
                Ok(_) => {
                    read += 1;
                    continue;
                }
                Err(e) => {
                    self.note_error(&format!("get-{}", kind.name()), &e);
                    format!("record {}: {e}", record.id)
                }
            };
            return self.record(check, Outcome::Fail, problem);
        }
        self.record(
            check,
            Outcome::Pass,
            format!(
                "{read} of {} listed records read back equal (id and raw)",
                listed.len()
            ),
        );
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
        let summary = format!("conformance check {}", self.seed);
        let new_ticket = NewTicket {
            description: Some("Created by psahost plugin check.".into()),
            queue_id: defaults.queue,
            status_id: defaults.status,
            priority_id: defaults.priority,
            ..NewTicket::new(company.clone(), summary.clone())
        };
        let ticket = match conn.create_ticket(new_ticket.clone()).await {
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
        // Without a simulator nothing else knows the records: the reads back must do.
        let held = |entity, id: &str| {
            self.sim.is_none_or(|sim| {
                id.parse()
                    .ok()
                    .and_then(|id| sim.state().get(entity, id))
                    .is_some()
            })
        };
        if ticket.summary != summary || !held(Entity::Ticket, &ticket.id) {
            return self.record(
                "writes: ticket and note",
                Outcome::Fail,
                format!(
                    "ticket {} does not hold the summary sent, or is not held by the simulator",
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
                    summary: Some(summary.clone()),
                    queue_id: None,
                    limit: 5,
                    marker: None,
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
        if self.declares(Operation::FindNoteByMarker) {
            if let Err(why) = self.check_markers(conn, new_ticket).await {
                return self.record("writes: ticket and note", Outcome::Fail, why);
            }
            detail.push_str(", found again by its markers");
        }
        self.record("writes: ticket and note", Outcome::Pass, detail);
    }

    /// A ticket and a note created with markers are found by them (`ticket-filter.marker`,
    /// `find-note-by-marker`), and a marker never used finds nothing.
    async fn check_markers(
        &mut self,
        conn: &Connection,
        template: NewTicket,
    ) -> Result<(), String> {
        let company = template.company_id.clone();
        let marker = format!("psahost-check-{}", self.seed);
        let ticket = conn
            .create_ticket(NewTicket {
                marker: Some(marker.clone()),
                summary: format!("{} (marked)", template.summary),
                ..template
            })
            .await
            .map_err(|e| format!("create-ticket with a marker: {e}"))?;
        let filter = |marker: &str| TicketFilter {
            company_id: Some(company.clone()),
            summary: None,
            queue_id: None,
            limit: 5,
            marker: Some(marker.to_string()),
        };
        let found = conn
            .find_open_tickets(filter(&marker))
            .await
            .map_err(|e| format!("find-open-tickets by marker: {e}"))?;
        if found.len() != 1 || found[0].id != ticket.id {
            return Err(format!(
                "find-open-tickets by marker returned {} tickets, not the marked ticket {} alone",
                found.len(),
                ticket.id
            ));
        }
        let unused = format!("{marker}-unused");
        let none = conn
            .find_open_tickets(filter(&unused))
            .await
            .map_err(|e| format!("find-open-tickets by an unused marker: {e}"))?;
        if !none.is_empty() {
            return Err(format!(
                "find-open-tickets by a marker never used returned {} tickets",
                none.len()
            ));
        }
        let note = conn
            .add_ticket_note(NewNote {
                marker: Some(marker.clone()),
                ..NewNote::new(ticket.id.clone(), "Marked by psahost.", true)
            })
            .await
            .map_err(|e| format!("add-ticket-note with a marker: {e}"))?;
        match conn
            .find_note_by_marker(ticket.id.clone(), marker.clone())
            .await
            .map_err(|e| format!("find-note-by-marker: {e}"))?
        {
            Some(n) if n.id == note.id => {}
            other => {
                return Err(format!(
                    "find-note-by-marker found {:?}, not note {}",
                    other.map(|n| n.id),
                    note.id
                ));
            }
        }
        match conn
            .find_note_by_marker(ticket.id.clone(), unused)
            .await
            .map_err(|e| format!("find-note-by-marker with an unused marker: {e}"))?
        {
            None => Ok(()),
            Some(n) => Err(format!(
                "find-note-by-marker with a marker never used found note {}",
                n.id
            )),
        }
    }

    async fn check_fault(
        &mut self,
        conn: &Connection,
        name: &str,
        expected: &str,
        set: impl Fn(&Simulator),
    ) {
        let check = format!("fault: {name}");
        let Some(sim) = self.sim else { return };
        set(sim);
        let result = list_ids(conn, Kind::Companies, PageRequest::first(self.page_size)).await;
        sim.faults().clear();
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

    /// Faults injected by the host into the first request of one page of `kind`, on a
    /// connection that does not retry (a retry would hide the fault).
    async fn check_injected_faults(&mut self, kind: Kind) {
        let http = HttpLimits {
            max_retries: 0,
            ..self.policy.http.clone()
        };
        let conn = match self.connection_with("check-faults", self.settings.clone(), http) {
            Ok(c) => c,
            Err(e) => return self.record("fault: injected", Outcome::Fail, format!("{e:#}")),
        };
        let answer = |status: u16, retry_after: Option<&str>| Fault::Answer {
            status,
            headers: retry_after
                .map(|v| ("retry-after".to_string(), v.to_string()))
                .into_iter()
                .collect(),
            body: br#"{"message": "injected by psahost plugin check"}"#.to_vec(),
        };
        let rate_limited = &["rate-limited"][..];
        // One check for both 429s: a connector that maps 429 wrongly fails it once.
        let with = match self
            .injected(&conn, kind, answer(429, Some("7")), rate_limited)
            .await
        {
            // The wait the PSA announced must reach the host, which would retry too early
            // without it.
            (Outcome::Pass, detail, Some(PsaError::RateLimited(hint)))
                if hint.retry_after_ms >= Some(7000) =>
            {
                (Outcome::Pass, detail)
            }
            (Outcome::Pass, ..) => (
                Outcome::Fail,
                "rate-limited without `retry-after-ms`: the PSA's wait of 7 s is lost".into(),
            ),
            (outcome, detail, _) => (outcome, detail),
        };
        let (without, without_detail, _) = self
            .injected(&conn, kind, answer(429, None), rate_limited)
            .await;
        let outcome = match (with.0, without) {
            (Outcome::Pass, Outcome::Pass) => Outcome::Pass,
            _ => Outcome::Fail,
        };
        self.record(
            "fault: 429 Too Many Requests",
            outcome,
            format!("with Retry-After: 7: {}; without: {without_detail}", with.1),
        );
        let garbled = &["remote", "unavailable"][..];
        let cases = [
            (
                "503 Service Unavailable",
                answer(503, None),
                &["unavailable"][..],
            ),
            ("timeout", Fault::Timeout, &["unavailable"][..]),
            ("truncated body", Fault::TruncatedBody, garbled),
            ("oversized body", Fault::OversizedBody, garbled),
        ];
        for (name, fault, expected) in cases {
            let (outcome, detail, _) = self.injected(&conn, kind, fault, expected).await;
            self.record(format!("fault: {name}"), outcome, detail);
        }
    }

    /// One page of `kind` read with `fault` on its first request, and the verdict (see
    /// [`fault_verdict`]).
    async fn injected(
        &self,
        conn: &Connection,
        kind: Kind,
        fault: Fault,
        expected: &[&str],
    ) -> (Outcome, String, Option<PsaError>) {
        conn.capabilities().http.faults.push([fault]);
        let result = datasets::page(
            conn,
            Listing::Entity(kind),
            PageRequest::first(self.page_size),
        )
        .await;
        let unused = conn.capabilities().http.faults.clear();
        let (outcome, mut detail, error) = fault_verdict(result.map(|p| p.0.len()), expected);
        if unused > 0 && outcome == Outcome::Fail {
            detail.push_str(": it sent no request, so the fault had nothing to hit");
        }
        (outcome, detail, error)
    }
}

/// Whether two `raw` texts hold the same JSON value (key order and spacing aside).
fn same_json(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The verdict on a call made under a fault: one of the `expected` error kinds passes (the
/// error is returned for a closer look); a success, another kind, a trap or a deadline fails.
fn fault_verdict(
    result: Result<usize, ConnectorError>,
    expected: &[&str],
) -> (Outcome, String, Option<PsaError>) {
    match result {
        Err(ConnectorError::Psa(e)) if expected.contains(&error_kind(&e)) => (
            Outcome::Pass,
            psahost_sandbox::connector::describe_psa_error(&e),
            Some(e),
        ),
        Err(ConnectorError::Psa(e)) => (
            Outcome::Fail,
            format!(
                "expected `{}`, got `{}`",
                expected.join("` or `"),
                error_kind(&e)
            ),
            None,
        ),
        Err(e) => (Outcome::Fail, e.to_string(), None),
        Ok(records) => (
            Outcome::Fail,
            format!("succeeded with {records} records"),
            None,
        ),
    }
}

/// The plugin's connector description, or why it has none.
fn connector_info(plugin: &Plugin) -> anyhow::Result<&ConnectorInfo> {
    plugin.connector_info().ok_or_else(|| {
        anyhow!(
            "`{}` is a matching rule: the conformance suite checks connectors",
            plugin.source()
        )
    })
}

/// Every setting the plugin's `describe` marks secret.
fn secret_settings(info: &ConnectorInfo) -> Vec<String> {
    info.settings
        .iter()
        .filter(|s| s.secret)
        .map(|s| s.name.clone())
        .collect()
}

/// Runs the suite: starts a simulator of `options.dialect`, binds `plugin` to it and checks it.
pub async fn check_connector(
    runtime: &Arc<Runtime>,
    plugin: &Arc<Plugin>,
    options: &CheckOptions,
) -> anyhow::Result<Report> {
    let info = connector_info(plugin)?;
    let sim = Simulator::start(sim_config(options.dialect, options.companies, options.seed))
        .await
        .context("cannot start the simulator")?;
    let mut settings = simulated::settings_for(&sim);
    for (name, value) in &options.settings {
        settings.insert(
            name.clone(),
            value.replace("{origin}", &sim.origin()),
            false,
        );
    }
    let suite = Suite {
        runtime,
        plugin,
        info,
        sim: Some(&sim),
        settings,
        policy: simulated::grant_for(&sim)?,
        corrupt: secret_settings(info),
        writes: true,
        page_size: options.page_size,
        sample: 1,
        seed: options.seed,
        kv: KvStore::temporary()?,
        checks: Vec::new(),
        unsupported: BTreeSet::new(),
    };
    let checks = run(suite).await;
    sim.shutdown().await;
    Ok(Report {
        connector: format!("{} {}", info.id, info.version),
        against: format!(
            "the {} simulator",
            clap::ValueEnum::to_possible_value(&options.dialect)
                .map(|v| v.get_name().to_string())
                .unwrap_or_default()
        ),
        checks: checks?,
    })
}

/// Runs the suite against a server the vendor runs (any PSA, real or fake): binds `plugin`
/// with `options.settings` and grant, and checks it with what needs no knowledge of the data
/// (see the [crate] documentation). The server's data must not change meanwhile.
pub async fn check_any(
    runtime: &Arc<Runtime>,
    plugin: &Arc<Plugin>,
    options: &AnyOptions,
) -> anyhow::Result<Report> {
    let info = connector_info(plugin)?;
    if options.grant.origins.is_empty() && !options.grant.all_requested {
        return Err(anyhow!(
            "no origin is granted: grant the server the connector reaches (--grant ORIGIN, for example --grant http://127.0.0.1:8700)"
        ));
    }
    let corrupt = match &options.corrupt {
        None => secret_settings(info),
        Some(names) => names.clone(),
    };
    if let Some(name) = corrupt
        .iter()
        .find(|n| !info.settings.iter().any(|s| &s.name == *n))
    {
        return Err(anyhow!(
            "`{name}` is not a setting of plugin `{}`: corrupt one of {}",
            info.id,
            info.settings
                .iter()
                .map(|s| format!("`{}`", s.name))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let against = if options.grant.origins.is_empty() {
        "the hosts it requests".to_string()
    } else {
        options
            .grant
            .origins
            .iter()
            .map(|o| o.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let suite = Suite {
        runtime,
        plugin,
        info,
        sim: None,
        settings: options.settings.clone(),
        policy: ConnectionPolicy {
            grant: options.grant.clone(),
            http: HttpLimits::default(),
            kv: KvLimits::default(),
            log: Default::default(),
        },
        corrupt,
        writes: options.writes,
        page_size: options.page_size.max(1),
        sample: options.sample,
        seed,
        kv: KvStore::temporary()?,
        checks: Vec::new(),
        unsupported: BTreeSet::new(),
    };
    Ok(Report {
        connector: format!("{} {}", info.id, info.version),
        against,
        checks: run(suite).await?,
    })
}

/// Runs every check; the verdicts, or why the suite could not run.
async fn run(mut suite: Suite<'_>) -> anyhow::Result<Vec<Check>> {
    suite.check_describe();
    let context = match suite.sim {
        Some(_) => "the connector's settings do not fit the simulator: map them with --setting",
        None => "cannot open the connection: check --setting and --grant",
    };
    let conn = suite
        .connection("check", suite.settings.clone())
        .context(context)?;
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
        let ids = match suite.sim {
            Some(sim) => {
                let ids = suite.check_paging(sim, &conn, kind).await;
                if let Some(ids) = &ids {
                    suite.check_get(&conn, kind, ids).await;
                    suite.check_updated_since(sim, &conn, kind).await;
                }
                ids
            }
            None => {
                let declared = kind.declared(suite.info);
                suite
                    .check_listing(&conn, Listing::Entity(kind), declared)
                    .await
            }
        };
        if kind == Kind::Companies {
            first_company = ids.and_then(|ids| ids.first().cloned());
        }
    }
    let defaults = suite.check_references(&conn).await;
    if suite.writes {
        suite.check_writes(&conn, first_company, defaults).await;
    } else {
        suite.record(
            "writes: ticket and note",
            Outcome::Skip,
            "not asked for: --writes creates a ticket and a note on the server",
        );
    }

    let first_list = Kind::ALL
        .into_iter()
        .find(|k| suite.declares(k.operations().0));
    match (suite.sim, first_list) {
        (Some(_), Some(Kind::Companies)) => {
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
        (Some(_), _) => {}
        (None, Some(kind)) => suite.check_injected_faults(kind).await,
        (None, None) => suite.record("faults", Outcome::Skip, "no list operation declared"),
    }

    for spec in suite.info.datasets.clone() {
        suite.check_dataset(&conn, &spec).await;
    }
    if suite.declares(Operation::ListDataset) {
        let (outcome, detail) = datasets::unknown(
            datasets::read(
                &conn,
                Listing::Dataset("no-such-dataset"),
                suite.page_size,
                None,
            )
            .await,
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
    Ok(suite.checks)
}
