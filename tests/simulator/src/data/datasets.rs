//! The long-tail records reporting tools sync ("datasets" of contract 0.2.0): members, company
//! sites and notes, time entries, opportunities, projects and their tasks, invoices, contract
//! blocks, SLA results and survey results, plus the company profile fields (parent company,
//! classification, market segment).
//!
//! They are generated after the core entities from their **own** random stream, so adding them
//! changed nothing of the companies, contacts, agreements, configurations, tickets and notes of
//! a seed. They are read-only: no dialect writes them.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use time::macros::datetime;
use time::{Date, Duration, OffsetDateTime};

use super::generate::DATA_END;
use super::model::*;
use super::names::{FIRST_NAMES, LAST_NAMES, MEMBERS, STREETS};
use super::picklists::{Picklists, company_type};

/// The first id of the members; the first five are the members named in generated records
/// (`MEMBERS`), in that order, so Autotask's resource ids of record creators resolve.
pub const MEMBER_ID_BASE: Id = 29_682_885;

/// A company's primary site has this id plus the company id (Kaseya BMS's `primaryLocation`).
pub const PRIMARY_SITE_ID_BASE: Id = 5_000;

/// Generated update times of the datasets lie in the three years before [`DATA_END`], so a
/// window such as "the last two years" drops some of them.
const SPREAD_START: OffsetDateTime = datetime!(2023-06-01 0:00 UTC);

/// A member of the MSP's staff (ConnectWise member, Autotask resource, BMS employee).
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// Record id.
    pub id: Id,
    /// Login name (`jsmith`).
    pub identifier: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Job title.
    pub title: String,
    /// Office email address.
    pub email: String,
    /// Office phone (digits only).
    pub phone: String,
    /// No longer active.
    pub inactive: bool,
    /// When they were hired.
    pub hire_date: OffsetDateTime,
    /// Change tracking.
    pub info: Info,
}

impl Member {
    /// "First Last".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// A site (location) of a company; every company has one to three, one of them primary.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    /// Record id (the primary site: [`PRIMARY_SITE_ID_BASE`] + company id).
    pub id: Id,
    /// The company.
    pub company_id: Id,
    /// Display name ("Main Office", "Warehouse", ...).
    pub name: String,
    /// First address line.
    pub address_line1: String,
    /// City.
    pub city: String,
    /// State or region code.
    pub state: String,
    /// Postal code.
    pub zip: String,
    /// Country (a [`Country`](super::Country) id).
    pub country_id: Id,
    /// Phone (digits only).
    pub phone: String,
    /// The company's primary site.
    pub primary: bool,
    /// No longer used.
    pub inactive: bool,
    /// Change tracking.
    pub info: Info,
}

/// What a time entry is charged to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChargeTo {
    /// A service ticket.
    Ticket(Id),
    /// A project task.
    ProjectTask(Id),
}

/// Work time a member logged.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeEntry {
    /// Record id.
    pub id: Id,
    /// The customer.
    pub company_id: Id,
    /// The ticket or project task worked on.
    pub charge_to: ChargeTo,
    /// Who worked.
    pub member_id: Id,
    /// The agreement the time is billed against, if any.
    pub agreement_id: Option<Id>,
    /// Start of the work.
    pub time_start: OffsetDateTime,
    /// End of the work.
    pub time_end: OffsetDateTime,
    /// Hours worked (two decimals).
    pub hours: f64,
    /// Billable, not billed or shown at no charge.
    pub billable: BillCustomer,
    /// What was done.
    pub notes: String,
    /// Change tracking.
    pub info: Info,
}

/// Where an opportunity stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpportunityStatus {
    /// Still being worked.
    Open,
    /// Won.
    Won,
    /// Lost.
    Lost,
}

/// A sales opportunity.
#[derive(Clone, Debug, PartialEq)]
pub struct Opportunity {
    /// Record id.
    pub id: Id,
    /// The customer or prospect.
    pub company_id: Id,
    /// The contact, if the company has one.
    pub contact_id: Option<Id>,
    /// Title.
    pub name: String,
    /// Status.
    pub status: OpportunityStatus,
    /// Probability of winning, in percent.
    pub probability: u32,
    /// Expected (or actual) close date.
    pub expected_close: Date,
    /// Expected revenue, in cents.
    pub amount_cents: i64,
    /// The sales representative (a [`Member`] id).
    pub sales_rep_id: Id,
    /// When it was entered.
    pub date_entered: OffsetDateTime,
    /// Change tracking.
    pub info: Info,
}

/// A project for a client.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    /// Record id.
    pub id: Id,
    /// The client.
    pub company_id: Id,
    /// The client's contact, if any.
    pub contact_id: Option<Id>,
    /// The agreement it is billed against, if any.
    pub agreement_id: Option<Id>,
    /// Name.
    pub name: String,
    /// Planned start.
    pub estimated_start: Date,
    /// Planned end.
    pub estimated_end: Date,
    /// Budgeted hours.
    pub budget_hours: f64,
    /// Hours worked so far.
    pub actual_hours: f64,
    /// Project manager (a [`Member`] id).
    pub manager_id: Id,
    /// Completed.
    pub closed: bool,
    /// When it was entered.
    pub date_entered: OffsetDateTime,
    /// Change tracking.
    pub info: Info,
}

/// A task of a project's work plan (ConnectWise "project ticket").
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectTask {
    /// Record id.
    pub id: Id,
    /// The project.
    pub project_id: Id,
    /// The project's client.
    pub company_id: Id,
    /// Title.
    pub summary: String,
    /// Budgeted hours.
    pub budget_hours: f64,
    /// Assigned member.
    pub owner_id: Id,
    /// Completed.
    pub closed: bool,
    /// When it was entered.
    pub date_entered: OffsetDateTime,
    /// Change tracking.
    pub info: Info,
}

/// An invoice of a recurring agreement.
#[derive(Clone, Debug, PartialEq)]
pub struct Invoice {
    /// Record id.
    pub id: Id,
    /// The billed company.
    pub company_id: Id,
    /// The agreement billed.
    pub agreement_id: Id,
    /// Invoice number (`INV-004711`).
    pub number: String,
    /// Invoice date.
    pub date: Date,
    /// Due date.
    pub due: Date,
    /// Total, in cents.
    pub total_cents: i64,
    /// When it was paid, if it was.
    pub paid: Option<Date>,
    /// Change tracking.
    pub info: Info,
}

/// A note on a company (account).
#[derive(Clone, Debug, PartialEq)]
pub struct CompanyNote {
    /// Record id.
    pub id: Id,
    /// The company.
    pub company_id: Id,
    /// Text.
    pub text: String,
    /// Flagged as important.
    pub flagged: bool,
    /// Who wrote it.
    pub entered_by: String,
    /// When it was written.
    pub date_created: OffsetDateTime,
    /// Change tracking.
    pub info: Info,
}

/// A block of prepaid hours bought on an agreement (Autotask contract block).
#[derive(Clone, Debug, PartialEq)]
pub struct ContractBlock {
    /// Record id.
    pub id: Id,
    /// The agreement.
    pub agreement_id: Id,
    /// When it was bought.
    pub date_purchased: Date,
    /// First day it can be used.
    pub start: Date,
    /// Last day it can be used.
    pub end: Date,
    /// Hours bought.
    pub hours: f64,
    /// Hours used and approved.
    pub hours_approved: f64,
    /// Rate per hour, in cents.
    pub hourly_rate_cents: i64,
    /// Paid.
    pub paid: bool,
}

/// How a closed ticket did against its service level agreement.
#[derive(Clone, Debug, PartialEq)]
pub struct SlaResult {
    /// Record id.
    pub id: Id,
    /// The ticket.
    pub ticket_id: Id,
    /// The agreement's name ("Standard SLA").
    pub sla_name: String,
    /// Hours to the first response.
    pub first_response_hours: f64,
    /// First response in time.
    pub first_response_met: bool,
    /// Hours to the resolution.
    pub resolution_hours: f64,
    /// Resolved in time.
    pub resolution_met: bool,
    /// Who resolved it (a [`Member`] id).
    pub resolution_member_id: Id,
}

/// A customer satisfaction survey answered after a ticket closed.
#[derive(Clone, Debug, PartialEq)]
pub struct SurveyResult {
    /// Record id.
    pub id: Id,
    /// The ticket.
    pub ticket_id: Id,
    /// The ticket's company.
    pub company_id: Id,
    /// Who answered, if known.
    pub contact_id: Option<Id>,
    /// The survey.
    pub survey_id: Id,
    /// Overall rating, 1 to 5.
    pub rating: f64,
    /// When it was sent.
    pub send_date: OffsetDateTime,
    /// When it was answered.
    pub complete_date: OffsetDateTime,
}

/// Company fields beyond the core model.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CompanyProfile {
    /// The parent company, for a few.
    pub parent_id: Option<Id>,
    /// Classification: 1 Managed Services, 2 Break/Fix, or none.
    pub classification_id: Option<Id>,
    /// Market segment: 1 Healthcare, 2 Legal, 3 Manufacturing, or none.
    pub market_id: Option<Id>,
}

/// Classification names by id.
pub const CLASSIFICATIONS: [(Id, &str); 2] = [(1, "Managed Services"), (2, "Break/Fix")];

/// Market segment names by id.
pub const MARKETS: [(Id, &str); 3] = [(1, "Healthcare"), (2, "Legal"), (3, "Manufacturing")];

/// All dataset records, each kind by id.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Datasets {
    /// Members (staff).
    pub members: BTreeMap<Id, Member>,
    /// Company sites.
    pub sites: BTreeMap<Id, Site>,
    /// Time entries.
    pub time_entries: BTreeMap<Id, TimeEntry>,
    /// Opportunities.
    pub opportunities: BTreeMap<Id, Opportunity>,
    /// Projects.
    pub projects: BTreeMap<Id, Project>,
    /// Project tasks.
    pub project_tasks: BTreeMap<Id, ProjectTask>,
    /// Invoices.
    pub invoices: BTreeMap<Id, Invoice>,
    /// Company notes.
    pub company_notes: BTreeMap<Id, CompanyNote>,
    /// Contract blocks.
    pub contract_blocks: BTreeMap<Id, ContractBlock>,
    /// SLA results.
    pub sla_results: BTreeMap<Id, SlaResult>,
    /// Survey results.
    pub survey_results: BTreeMap<Id, SurveyResult>,
    /// Company profiles by company id (every company has one).
    pub profiles: BTreeMap<Id, CompanyProfile>,
}

impl Datasets {
    /// The profile of a company (empty for an unknown or newly created one).
    pub fn profile(&self, company_id: Id) -> CompanyProfile {
        self.profiles.get(&company_id).cloned().unwrap_or_default()
    }

    /// Sites of one company, by id.
    pub fn sites_of(&self, company_id: Id) -> impl DoubleEndedIterator<Item = &Site> {
        self.sites
            .values()
            .filter(move |s| s.company_id == company_id)
    }

    /// Notes of one company, by id.
    pub fn notes_of(&self, company_id: Id) -> impl DoubleEndedIterator<Item = &CompanyNote> {
        self.company_notes
            .values()
            .filter(move |n| n.company_id == company_id)
    }

    /// The member with this login name.
    pub fn member_named(&self, identifier: &str) -> Option<&Member> {
        self.members
            .values()
            .find(|m| m.identifier.eq_ignore_ascii_case(identifier))
    }
}

/// What the dataset generator reads of the core data set.
pub(super) struct Core<'a> {
    pub(super) seed: u64,
    pub(super) picklists: &'a Picklists,
    pub(super) companies: &'a BTreeMap<Id, Company>,
    pub(super) contacts: &'a BTreeMap<Id, Contact>,
    pub(super) agreements: &'a BTreeMap<Id, Agreement>,
    pub(super) lines: &'a BTreeMap<Id, AgreementLine>,
    pub(super) tickets: &'a BTreeMap<Id, Ticket>,
    /// Contact ids by company (filled by [`generate`]).
    pub(super) people: BTreeMap<Id, Vec<Id>>,
}

/// A stream of its own for each dataset family: labels 100 and up, far from the core ones.
fn stream(seed: u64, label: u64) -> StdRng {
    StdRng::seed_from_u64(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (label + 100).wrapping_mul(0xD1B5_4A32_D192_ED03),
    )
}

fn instant(rng: &mut StdRng, from: OffsetDateTime, to: OffsetDateTime) -> OffsetDateTime {
    let (a, b) = (from.unix_timestamp(), to.unix_timestamp());
    if b <= a {
        return from;
    }
    OffsetDateTime::from_unix_timestamp(rng.random_range(a..b)).unwrap_or(from)
}

/// A change time in the spread window, not before `from`.
fn changed(rng: &mut StdRng, from: OffsetDateTime, by: &str) -> Info {
    Info {
        last_updated: instant(rng, from.max(SPREAD_START), DATA_END),
        updated_by: by.to_string(),
    }
}

fn hours(rng: &mut StdRng, lo: f64, hi: f64) -> f64 {
    (rng.random_range(lo..hi) * 4.0).round() / 4.0
}

/// Sequential ids with a gap now and then, as for the core entities.
struct Seq(Id);

impl Seq {
    fn take(&mut self, rng: &mut StdRng) -> Id {
        if rng.random_bool(0.05) {
            self.0 += rng.random_range(1..=3);
        }
        let id = self.0;
        self.0 += 1;
        id
    }
}

const TITLES: &[&str] = &[
    "Service Technician",
    "Senior Engineer",
    "Dispatcher",
    "Account Manager",
    "Project Manager",
    "Help Desk Analyst",
];

const WORK: &[&str] = &[
    "Troubleshot the issue remotely.",
    "Called the user and walked through the fix.",
    "Applied updates and rebooted.",
    "Replaced the faulty part on site.",
    "Reviewed logs and adjusted the configuration.",
    "Documented the change and closed out.",
];

const OPPORTUNITIES: &[&str] = &[
    "Managed services renewal",
    "Firewall refresh",
    "Workstation replacement",
    "Microsoft 365 migration",
    "Backup upgrade",
    "Network assessment",
];

const PROJECTS: &[&str] = &[
    "Office move",
    "Server migration",
    "Wi-Fi upgrade",
    "Microsoft 365 rollout",
    "Security hardening",
];

const TASKS: &[&str] = &[
    "Kick-off meeting",
    "Inventory current systems",
    "Order hardware",
    "Install and configure",
    "Migrate data",
    "User training",
    "Sign-off",
];

const NOTES: &[&str] = &[
    "Prefers email over phone for non-urgent matters.",
    "Quarterly business review scheduled.",
    "Owner asked about a security assessment.",
    "Office closed on Fridays in summer.",
    "New office manager started; update the contact list.",
];

const SITES: &[&str] = &["Branch Office", "Warehouse", "Clinic", "Store"];

pub(super) fn generate(core: &Core<'_>) -> Datasets {
    // Built once: scanning every contact or line per company or agreement is quadratic.
    let mut people: BTreeMap<Id, Vec<Id>> = BTreeMap::new();
    for c in core.contacts.values() {
        people.entry(c.company_id).or_default().push(c.id);
    }
    let core = &Core { people, ..*core };
    let mut out = Datasets {
        members: members(core),
        profiles: profiles(core),
        sites: sites(core),
        ..Datasets::default()
    };
    let member_ids: Vec<Id> = out.members.keys().copied().collect();
    company_notes(core, &mut out);
    opportunities(core, &member_ids, &mut out);
    projects(core, &member_ids, &mut out);
    time_entries(core, &member_ids, &mut out);
    invoices(core, &mut out);
    contract_blocks(core, &mut out);
    ticket_outcomes(core, &member_ids, &mut out);
    out
}

fn members(core: &Core<'_>) -> BTreeMap<Id, Member> {
    let mut rng = stream(core.seed, 1);
    let n = (5 + core.companies.len() / 10).clamp(10, 40);
    let mut out = BTreeMap::new();
    for i in 0..n {
        let id = MEMBER_ID_BASE + i as Id;
        let first = FIRST_NAMES.choose(&mut rng).copied().unwrap_or("Sam");
        let last = LAST_NAMES.choose(&mut rng).copied().unwrap_or("Lee");
        let identifier = match MEMBERS.get(i) {
            Some(m) => (*m).to_string(),
            None => format!(
                "{}{}{}",
                first[..1].to_lowercase(),
                last.to_lowercase().replace('\'', ""),
                i
            ),
        };
        let hire_date = instant(
            &mut rng,
            datetime!(2012-01-01 0:00 UTC),
            datetime!(2025-01-01 0:00 UTC),
        );
        let info = changed(&mut rng, hire_date, "Admin1");
        out.insert(
            id,
            Member {
                id,
                email: format!("{}@psahost-msp.example", identifier.to_lowercase()),
                identifier,
                first_name: first.to_string(),
                last_name: last.to_string(),
                title: TITLES.choose(&mut rng).copied().unwrap_or("").to_string(),
                phone: format!("813555{:04}", rng.random_range(0..10_000)),
                // The named members create records: keep them active.
                inactive: i >= MEMBERS.len() && rng.random_bool(0.1),
                hire_date,
                info,
            },
        );
    }
    out
}

fn profiles(core: &Core<'_>) -> BTreeMap<Id, CompanyProfile> {
    let mut rng = stream(core.seed, 2);
    let mut clients: Vec<Id> = Vec::new();
    let mut out = BTreeMap::new();
    for c in core.companies.values() {
        // Same rule as Kaseya BMS's accounts always used, so every dialect agrees.
        let classification_id = [Some(1), Some(2), None][(c.id % 3) as usize];
        let market_id = [None, Some(1), Some(2), Some(3)][(c.id % 4) as usize];
        let client = c.type_ids.contains(&company_type::CLIENT) && !c.deleted;
        let parent_id = if client && !clients.is_empty() && rng.random_bool(0.08) {
            clients.choose(&mut rng).copied()
        } else {
            None
        };
        if client {
            clients.push(c.id);
        }
        out.insert(
            c.id,
            CompanyProfile {
                parent_id,
                classification_id,
                market_id,
            },
        );
    }
    out
}

fn sites(core: &Core<'_>) -> BTreeMap<Id, Site> {
    let mut rng = stream(core.seed, 3);
    let mut seq = Seq(2_000_001);
    let mut out = BTreeMap::new();
    for c in core.companies.values() {
        let extra = [0, 0, 1, 2][rng.random_range(0..4)];
        for k in 0..=extra {
            let primary = k == 0;
            let id = if primary {
                PRIMARY_SITE_ID_BASE + c.id
            } else {
                seq.take(&mut rng)
            };
            let info = changed(&mut rng, c.date_entered, "Admin1");
            out.insert(
                id,
                Site {
                    id,
                    company_id: c.id,
                    name: if primary {
                        "Main Office".to_string()
                    } else {
                        SITES[(k - 1) % SITES.len()].to_string()
                    },
                    address_line1: if primary {
                        c.address_line1.clone()
                    } else {
                        format!(
                            "{} {}",
                            rng.random_range(1..9999),
                            STREETS.choose(&mut rng).copied().unwrap_or("Main St")
                        )
                    },
                    city: c.city.clone(),
                    state: c.state.clone(),
                    zip: c.zip.clone(),
                    country_id: c.country_id,
                    phone: c.phone.clone(),
                    primary,
                    inactive: !primary && rng.random_bool(0.1),
                    info,
                },
            );
        }
    }
    out
}

fn company_notes(core: &Core<'_>, out: &mut Datasets) {
    let mut rng = stream(core.seed, 4);
    let mut seq = Seq(3_000_001);
    for c in core.companies.values() {
        for _ in 0..[1, 2, 3][rng.random_range(0..3)] {
            let id = seq.take(&mut rng);
            let by = MEMBERS.choose(&mut rng).copied().unwrap_or("Admin1");
            let date_created = instant(&mut rng, c.date_entered.max(SPREAD_START), DATA_END);
            let info = changed(&mut rng, date_created, by);
            out.company_notes.insert(
                id,
                CompanyNote {
                    id,
                    company_id: c.id,
                    text: NOTES.choose(&mut rng).copied().unwrap_or("").to_string(),
                    flagged: rng.random_bool(0.15),
                    entered_by: by.to_string(),
                    date_created,
                    info,
                },
            );
        }
    }
}

fn contacts_of(core: &Core<'_>, company_id: Id) -> Vec<Id> {
    core.people.get(&company_id).cloned().unwrap_or_default()
}

fn is_vendor(c: &Company) -> bool {
    c.type_ids.contains(&company_type::VENDOR)
}

fn opportunities(core: &Core<'_>, members: &[Id], out: &mut Datasets) {
    let mut rng = stream(core.seed, 5);
    let mut seq = Seq(4_000_001);
    for c in core.companies.values().filter(|c| !is_vendor(c)) {
        let people = contacts_of(core, c.id);
        let n = [0, 1, 1, 2][rng.random_range(0..4)];
        // ConnectWise requires an opportunity's contact: companies without one have none.
        if people.is_empty() {
            continue;
        }
        for _ in 0..n {
            let id = seq.take(&mut rng);
            let date_entered = instant(&mut rng, SPREAD_START, DATA_END - Duration::days(10));
            let status = [
                OpportunityStatus::Open,
                OpportunityStatus::Won,
                OpportunityStatus::Lost,
            ][rng.random_range(0..3)];
            let rep = members.choose(&mut rng).copied().unwrap_or(MEMBER_ID_BASE);
            let info = changed(&mut rng, date_entered, "jsmith");
            out.opportunities.insert(
                id,
                Opportunity {
                    id,
                    company_id: c.id,
                    contact_id: people.choose(&mut rng).copied(),
                    name: OPPORTUNITIES
                        .choose(&mut rng)
                        .copied()
                        .unwrap_or("")
                        .to_string(),
                    status,
                    probability: match status {
                        OpportunityStatus::Won => 100,
                        OpportunityStatus::Lost => 0,
                        OpportunityStatus::Open => [10, 25, 50, 75][rng.random_range(0..4)],
                    },
                    expected_close: (date_entered + Duration::days(rng.random_range(14..120)))
                        .date(),
                    amount_cents: rng.random_range(10..500) * 10_000,
                    sales_rep_id: rep,
                    date_entered,
                    info,
                },
            );
        }
    }
}

fn projects(core: &Core<'_>, members: &[Id], out: &mut Datasets) {
    let mut rng = stream(core.seed, 6);
    let mut seq = Seq(5_000_001);
    let mut tasks = Seq(5_500_001);
    let agreements_of = super::generate::by_company(core.agreements, |a| a.company_id);
    for c in core.companies.values() {
        let client = c.type_ids.contains(&company_type::CLIENT) && !c.deleted;
        if !client || !rng.random_bool(0.3) {
            continue;
        }
        let id = seq.take(&mut rng);
        let date_entered = instant(&mut rng, SPREAD_START, DATA_END - Duration::days(30));
        let start = (date_entered + Duration::days(rng.random_range(3..30))).date();
        let end = start + Duration::days(rng.random_range(20..150));
        let closed = end < DATA_END.date() && rng.random_bool(0.7);
        let manager = members.choose(&mut rng).copied().unwrap_or(MEMBER_ID_BASE);
        let info = changed(&mut rng, date_entered, "tnguyen");
        let deals: Vec<Id> = agreements_of
            .get(&c.id)
            .into_iter()
            .flatten()
            .map(|a| a.id)
            .collect();
        let n_tasks = rng.random_range(3..=7);
        let mut budget = 0.0;
        for k in 0..n_tasks {
            let task_id = tasks.take(&mut rng);
            let task_hours = hours(&mut rng, 1.0, 16.0);
            budget += task_hours;
            let task_entered = instant(&mut rng, date_entered, date_entered + Duration::days(5));
            let task_info = changed(&mut rng, task_entered, "tnguyen");
            out.project_tasks.insert(
                task_id,
                ProjectTask {
                    id: task_id,
                    project_id: id,
                    company_id: c.id,
                    summary: TASKS[k % TASKS.len()].to_string(),
                    budget_hours: task_hours,
                    owner_id: members.choose(&mut rng).copied().unwrap_or(manager),
                    closed: closed || rng.random_bool(0.4),
                    date_entered: task_entered,
                    info: task_info,
                },
            );
        }
        out.projects.insert(
            id,
            Project {
                id,
                company_id: c.id,
                contact_id: contacts_of(core, c.id).choose(&mut rng).copied(),
                agreement_id: if rng.random_bool(0.5) {
                    deals.choose(&mut rng).copied()
                } else {
                    None
                },
                name: format!(
                    "{} {}",
                    c.name,
                    PROJECTS.choose(&mut rng).copied().unwrap_or("Project")
                ),
                estimated_start: start,
                estimated_end: end,
                budget_hours: budget,
                actual_hours: 0.0,
                manager_id: manager,
                closed,
                date_entered,
                info,
            },
        );
    }
}

fn time_entries(core: &Core<'_>, members: &[Id], out: &mut Datasets) {
    let mut rng = stream(core.seed, 7);
    let mut seq = Seq(6_000_001);
    let mut entry = |rng: &mut StdRng,
                     out: &mut Datasets,
                     company_id: Id,
                     charge_to: ChargeTo,
                     agreement_id: Option<Id>,
                     from: OffsetDateTime,
                     to: OffsetDateTime| {
        let id = seq.take(rng);
        let start = instant(rng, from, to - Duration::hours(1).min(to - from));
        let worked = hours(rng, 0.25, 4.0);
        let end = start + Duration::minutes((worked * 60.0) as i64);
        let member_id = members.choose(rng).copied().unwrap_or(MEMBER_ID_BASE);
        let by = out
            .members
            .get(&member_id)
            .map_or("Admin1".to_string(), |m| m.identifier.clone());
        let last_updated = instant(rng, end, (end + Duration::days(3)).min(DATA_END)).min(DATA_END);
        out.time_entries.insert(
            id,
            TimeEntry {
                id,
                company_id,
                charge_to,
                member_id,
                agreement_id,
                time_start: start,
                time_end: end,
                hours: worked,
                billable: match rng.random_range(0..10) {
                    0 => BillCustomer::DoNotBill,
                    1 => BillCustomer::NoCharge,
                    _ => BillCustomer::Billable,
                },
                notes: WORK.choose(rng).copied().unwrap_or("").to_string(),
                info: Info {
                    last_updated: last_updated.min(DATA_END - Duration::seconds(1)),
                    updated_by: by,
                },
            },
        );
    };
    for t in core.tickets.values() {
        for _ in 0..rng.random_range(1..=5) {
            entry(
                &mut rng,
                out,
                t.company_id,
                ChargeTo::Ticket(t.id),
                t.agreement_id,
                t.date_entered,
                t.info.last_updated,
            );
        }
    }
    let tasks: Vec<(Id, Id, OffsetDateTime, OffsetDateTime)> = out
        .project_tasks
        .values()
        .map(|t| (t.id, t.company_id, t.date_entered, t.info.last_updated))
        .collect();
    for (task, company, from, to) in tasks {
        for _ in 0..rng.random_range(0..=2) {
            entry(
                &mut rng,
                out,
                company,
                ChargeTo::ProjectTask(task),
                None,
                from,
                to.max(from + Duration::hours(2)),
            );
        }
    }
    // A project's actual hours are the hours logged on its tasks.
    let mut actual: BTreeMap<Id, f64> = BTreeMap::new();
    for e in out.time_entries.values() {
        if let ChargeTo::ProjectTask(task) = e.charge_to
            && let Some(t) = out.project_tasks.get(&task)
        {
            *actual.entry(t.project_id).or_default() += e.hours;
        }
    }
    for (project, hours) in actual {
        if let Some(p) = out.projects.get_mut(&project) {
            p.actual_hours = hours;
        }
    }
}

fn invoices(core: &Core<'_>, out: &mut Datasets) {
    let mut rng = stream(core.seed, 8);
    let mut seq = Seq(7_500_001);
    let mut billed: BTreeMap<Id, i64> = BTreeMap::new();
    for l in core.lines.values() {
        if l.bill_customer == BillCustomer::Billable {
            *billed.entry(l.agreement_id).or_default() +=
                (l.unit_price_cents as f64 * l.quantity).round() as i64;
        }
    }
    for a in core.agreements.values() {
        if a.billing_cycle != BillingCycle::Monthly || a.start_date >= DATA_END.date() {
            continue;
        }
        let lines = billed.get(&a.id).copied().unwrap_or(0);
        let last = [
            Some(DATA_END.date().previous_day().unwrap_or(DATA_END.date())),
            a.end_date,
            a.cancelled_date,
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(DATA_END.date());
        // The last twelve monthly invoices (fewer for a younger agreement).
        let first = a.start_date.replace_day(1).unwrap_or(a.start_date);
        let mut month = last.replace_day(1).unwrap_or(last);
        let mut dates = Vec::new();
        while dates.len() < 12 && month >= first {
            dates.push(month);
            let Some(before) = month.previous_day().and_then(|d| d.replace_day(1).ok()) else {
                break;
            };
            month = before;
        }
        for date in dates.into_iter().rev() {
            let id = seq.take(&mut rng);
            let issued = date.midnight().assume_utc() + Duration::hours(6);
            let paid = (rng.random_bool(0.85))
                .then(|| date + Duration::days(rng.random_range(3..40)))
                .filter(|d| *d < DATA_END.date());
            let changed_at =
                paid.map_or(issued, |d| d.midnight().assume_utc() + Duration::hours(9));
            out.invoices.insert(
                id,
                Invoice {
                    id,
                    company_id: a.company_id,
                    agreement_id: a.id,
                    number: format!("INV-{:06}", id - 7_500_000),
                    date,
                    due: date + Duration::days(30),
                    total_cents: lines + a.bill_amount_cents,
                    paid,
                    info: Info {
                        last_updated: changed_at.min(DATA_END - Duration::seconds(1)),
                        updated_by: "Admin1".to_string(),
                    },
                },
            );
        }
    }
}

fn contract_blocks(core: &Core<'_>, out: &mut Datasets) {
    let mut rng = stream(core.seed, 9);
    let mut seq = Seq(8_000_001);
    for a in core.agreements.values() {
        if a.billing_cycle != BillingCycle::OneTime || !rng.random_bool(0.6) {
            continue;
        }
        for _ in 0..rng.random_range(1..=2) {
            let id = seq.take(&mut rng);
            let start = a.start_date;
            let hours_bought = [10.0, 20.0, 40.0][rng.random_range(0..3)];
            out.contract_blocks.insert(
                id,
                ContractBlock {
                    id,
                    agreement_id: a.id,
                    date_purchased: start,
                    start,
                    end: a.end_date.unwrap_or(start + Duration::days(365)),
                    hours: hours_bought,
                    hours_approved: hours(&mut rng, 0.0, hours_bought),
                    hourly_rate_cents: [12_500, 15_000][rng.random_range(0..2)],
                    paid: rng.random_bool(0.8),
                },
            );
        }
    }
}

fn ticket_outcomes(core: &Core<'_>, members: &[Id], out: &mut Datasets) {
    let mut rng = stream(core.seed, 10);
    let mut sla = Seq(8_500_001);
    let mut survey = Seq(9_000_001);
    for t in core.tickets.values() {
        let closed = core
            .picklists
            .board_status(t.status_id)
            .is_some_and(|s| s.closed);
        if !closed {
            continue;
        }
        let open_hours = (t.info.last_updated - t.date_entered).whole_minutes() as f64 / 60.0;
        let id = sla.take(&mut rng);
        let first = (rng.random_range(0.05..4.0) * 100.0f64).round() / 100.0;
        out.sla_results.insert(
            id,
            SlaResult {
                id,
                ticket_id: t.id,
                sla_name: if t.priority_id <= 2 {
                    "Priority SLA".to_string()
                } else {
                    "Standard SLA".to_string()
                },
                first_response_hours: first,
                first_response_met: first <= 2.0,
                resolution_hours: (open_hours * 100.0).round() / 100.0,
                resolution_met: open_hours <= 72.0,
                resolution_member_id: members.choose(&mut rng).copied().unwrap_or(MEMBER_ID_BASE),
            },
        );
        if rng.random_bool(0.3) {
            let id = survey.take(&mut rng);
            let send_date = t.info.last_updated;
            let complete_date =
                instant(&mut rng, send_date, send_date + Duration::days(4)).min(DATA_END);
            out.survey_results.insert(
                id,
                SurveyResult {
                    id,
                    ticket_id: t.id,
                    company_id: t.company_id,
                    contact_id: t.contact_id,
                    survey_id: 1,
                    rating: f64::from(rng.random_range(2..=5u8)),
                    send_date,
                    complete_date: complete_date.min(DATA_END - Duration::seconds(1)),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataSet;

    #[test]
    fn datasets_link_to_the_core_records_and_spread_over_three_years() {
        let d = DataSet::sample(4, 60);
        let ds = &d.datasets;
        assert_eq!(ds, &DataSet::sample(4, 60).datasets, "deterministic");
        assert_ne!(ds, &DataSet::sample(5, 60).datasets);
        assert!((10..=40).contains(&ds.members.len()));
        for c in d.companies.values() {
            let sites: Vec<&Site> = ds.sites_of(c.id).collect();
            assert!((1..=3).contains(&sites.len()), "{}", c.id);
            assert_eq!(sites.iter().filter(|s| s.primary).count(), 1);
            assert!(ds.profiles.contains_key(&c.id));
        }
        for t in ds.time_entries.values() {
            match t.charge_to {
                ChargeTo::Ticket(id) => assert_eq!(d.tickets[&id].company_id, t.company_id),
                ChargeTo::ProjectTask(id) => {
                    assert_eq!(ds.project_tasks[&id].company_id, t.company_id)
                }
            }
            assert!(ds.members.contains_key(&t.member_id));
            assert!(t.time_start < t.time_end);
        }
        for task in ds.project_tasks.values() {
            assert!(ds.projects.contains_key(&task.project_id));
        }
        for i in ds.invoices.values() {
            assert_eq!(d.agreements[&i.agreement_id].company_id, i.company_id);
        }
        for s in ds.sla_results.values() {
            assert!(d.ticket_closed(&d.tickets[&s.ticket_id]));
        }
        for o in ds.opportunities.values() {
            assert_eq!(d.contacts[&o.contact_id.unwrap()].company_id, o.company_id);
        }
        let changes: Vec<OffsetDateTime> = ds
            .time_entries
            .values()
            .map(|r| r.info.last_updated)
            .chain(ds.company_notes.values().map(|r| r.info.last_updated))
            .chain(ds.invoices.values().map(|r| r.info.last_updated))
            .chain(ds.opportunities.values().map(|r| r.info.last_updated))
            .collect();
        assert!(changes.iter().all(|t| *t < DATA_END));
        assert!(changes.iter().any(|t| *t < datetime!(2024-06-01 0:00 UTC)));
        assert!(changes.iter().any(|t| *t >= DATA_END - Duration::days(60)));
        for (label, n) in [
            ("opportunities", ds.opportunities.len()),
            ("projects", ds.projects.len()),
            ("invoices", ds.invoices.len()),
            ("contract blocks", ds.contract_blocks.len()),
            ("survey results", ds.survey_results.len()),
        ] {
            assert!(n > 0, "{label}");
        }
        assert!(ds.profiles.values().any(|p| p.parent_id.is_some()));
    }
}
