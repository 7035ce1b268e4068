//! The deterministic data set generator.
//!
//! Each entity kind draws from its own seeded random stream, so the companies of a seed are the
//! same whatever the configuration count, and every timestamp lies before [`DATA_END`]: a record
//! changed at run time is strictly newer than all generated ones.

use std::collections::{BTreeMap, HashSet};

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};

use super::model::*;
use super::names::*;
use super::picklists::{
    Picklists, communication_type, company_status, company_type, configuration_status,
};
use super::{DataSet, Entity};

/// Every generated timestamp is strictly before this instant.
pub const DATA_END: OffsetDateTime = datetime!(2026-06-01 0:00 UTC);

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenSpec {
    /// Random seed: the same spec gives the same data.
    pub seed: u64,
    /// Number of companies (a few of them vendors).
    pub companies: usize,
    /// Total number of configurations, spread over the client companies; `None` gives 0 to 10
    /// per client company.
    pub configurations: Option<usize>,
}

/// First id of each kind: distinct ranges make an id of the wrong kind easy to spot in tests.
const FIRST_IDS: [Id; 7] = [250, 10_001, 3_001, 40_001, 60_001, 250_001, 900_001];

/// Id sequences with occasional gaps, as left by records deleted long ago.
struct Ids {
    next: [Id; 7],
    communication_item: Id,
}

impl Ids {
    fn take(&mut self, entity: Entity, rng: &mut StdRng) -> Id {
        let slot = &mut self.next[entity as usize];
        if rng.random_bool(0.05) {
            *slot += rng.random_range(1..=3);
        }
        let id = *slot;
        *slot += 1;
        id
    }
}

fn stream(seed: u64, label: u64) -> StdRng {
    StdRng::seed_from_u64(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ label.wrapping_mul(0xD1B5_4A32_D192_ED03),
    )
}

/// A uniformly random instant in `[from, to)` (whole seconds); `from` when the range is empty.
fn instant(rng: &mut StdRng, from: OffsetDateTime, to: OffsetDateTime) -> OffsetDateTime {
    let (a, b) = (from.unix_timestamp(), to.unix_timestamp());
    if b <= a {
        return from;
    }
    OffsetDateTime::from_unix_timestamp(rng.random_range(a..b)).unwrap_or(from)
}

fn day(rng: &mut StdRng, from: Date, to: Date) -> Date {
    instant(
        rng,
        from.midnight().assume_utc(),
        to.midnight().assume_utc(),
    )
    .date()
}

fn pick<'a>(rng: &mut StdRng, items: &'a [&'a str]) -> &'a str {
    items.choose(rng).copied().unwrap_or("")
}

/// Index into `weights` drawn with those relative weights.
fn weighted(rng: &mut StdRng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut roll = rng.random_range(0..total.max(1));
    for (i, w) in weights.iter().enumerate() {
        if roll < *w {
            return i;
        }
        roll -= w;
    }
    weights.len() - 1
}

fn stamp(rng: &mut StdRng, from: OffsetDateTime) -> Info {
    Info {
        // Records "from" the future (agreements not yet started) were still last edited before the end.
        last_updated: instant(
            rng,
            from.max(datetime!(2023-01-01 0:00 UTC))
                .min(DATA_END - Duration::days(30)),
            DATA_END,
        ),
        updated_by: pick(rng, MEMBERS).to_string(),
    }
}

fn alnum(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

fn digits(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

fn upper_alnum(rng: &mut StdRng, n: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    (0..n)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

pub(super) fn generate(spec: &GenSpec) -> DataSet {
    let picklists = Picklists::standard();
    let mut ids = Ids {
        next: FIRST_IDS,
        communication_item: 1_500_001,
    };
    let companies = companies(spec, &mut ids);
    let contacts = contacts(spec, &mut ids, &companies);
    let mut companies = companies;
    for contact in contacts.values().filter(|c| c.default_flag) {
        if let Some(company) = companies.get_mut(&contact.company_id) {
            company.default_contact_id = Some(contact.id);
        }
    }
    let (agreements, agreement_lines) = agreements(spec, &mut ids, &picklists, &companies);
    let configurations = configurations(spec, &mut ids, &picklists, &companies, &contacts);
    let (tickets, notes) = tickets(
        spec,
        &mut ids,
        &picklists,
        &companies,
        &contacts,
        &agreements,
        &configurations,
    );
    let datasets = super::datasets::generate(&super::datasets::Core {
        seed: spec.seed,
        picklists: &picklists,
        companies: &companies,
        contacts: &contacts,
        agreements: &agreements,
        lines: &agreement_lines,
        tickets: &tickets,
        people: BTreeMap::new(),
    });
    DataSet {
        picklists,
        datasets,
        companies,
        contacts,
        agreements,
        agreement_lines,
        configurations,
        tickets,
        notes,
        next_ids: ids.next,
        extras: BTreeMap::new(),
    }
}

/// Email domain of a company ("acmedental.com").
fn domain(company: &Company) -> String {
    format!(
        "{}.com",
        company
            .website
            .trim_start_matches("www.")
            .trim_end_matches(".com")
    )
}

fn is_vendor(company: &Company) -> bool {
    company.type_ids.contains(&company_type::VENDOR)
}

fn companies(spec: &GenSpec, ids: &mut Ids) -> BTreeMap<Id, Company> {
    let mut rng = stream(spec.seed, 1);
    let n = spec.companies;
    let vendors = if n >= 10 {
        (n / 25).clamp(1, VENDOR_NAMES.len())
    } else {
        0
    };
    let mut names = HashSet::new();
    let mut identifiers = HashSet::new();
    let mut out = BTreeMap::new();
    for i in 0..n {
        let id = ids.take(Entity::Company, &mut rng);
        let vendor = i >= n - vendors;
        let (name, stem) = if vendor {
            let name = VENDOR_NAMES[i - (n - vendors)].to_string();
            (name.clone(), name)
        } else {
            let prefix = pick(&mut rng, COMPANY_PREFIXES);
            let trade = pick(&mut rng, COMPANY_TRADES);
            let suffix = pick(&mut rng, COMPANY_SUFFIXES);
            let stem = format!("{prefix} {trade}");
            (format!("{stem} {suffix}").trim().to_string(), stem)
        };
        let name = unique(&mut names, name, " ");
        let mut identifier: String = alnum(&stem).chars().take(22).collect();
        identifier = unique(&mut identifiers, identifier, "");
        let web = alnum(&stem).to_lowercase();
        let (city, state, zip) = *CITIES.choose(&mut rng).unwrap_or(&("Tampa", "FL", "336"));
        // Fixed positions guarantee every interesting case exists in small data sets too.
        let forced = if n >= 8 { i } else { usize::MAX };
        let (type_id, status_id) = if vendor {
            (company_type::VENDOR, company_status::ACTIVE)
        } else if forced == 1 {
            (company_type::CLIENT, company_status::INACTIVE)
        } else if forced == 4 {
            (company_type::PROSPECT, company_status::NOT_APPROVED)
        } else {
            match weighted(&mut rng, &[80, 12, 8]) {
                0 => (
                    company_type::CLIENT,
                    if rng.random_bool(0.85) {
                        company_status::ACTIVE
                    } else {
                        company_status::INACTIVE
                    },
                ),
                1 => (
                    company_type::PROSPECT,
                    if rng.random_bool(0.5) {
                        company_status::ACTIVE
                    } else {
                        company_status::NOT_APPROVED
                    },
                ),
                _ => (company_type::PARTNER, company_status::ACTIVE),
            }
        };
        let deleted = !vendor && (forced == 2 || (forced != 0 && rng.random_bool(0.04)));
        let date_entered = instant(
            &mut rng,
            datetime!(2015-01-01 0:00 UTC),
            datetime!(2025-06-01 0:00 UTC),
        );
        let info = stamp(&mut rng, date_entered);
        out.insert(
            id,
            Company {
                id,
                identifier,
                name,
                status_id,
                type_ids: vec![type_id],
                phone: format!("{}555{}", rng.random_range(201..990), digits(&mut rng, 4)),
                website: format!("www.{web}.com"),
                address_line1: format!("{} {}", rng.random_range(1..9999), pick(&mut rng, STREETS)),
                address_line2: rng
                    .random_bool(0.2)
                    .then(|| format!("Suite {}", rng.random_range(100..900))),
                city: city.to_string(),
                state: state.to_string(),
                zip: format!("{zip}{}", digits(&mut rng, 2)),
                country_id: 1,
                deleted,
                default_contact_id: None,
                date_entered,
                info,
            },
        );
    }
    out
}

/// `wanted`, or `wanted` with the lowest number appended that makes it unique.
fn unique(used: &mut HashSet<String>, wanted: String, sep: &str) -> String {
    let mut candidate = wanted.clone();
    let mut n = 2;
    while used.contains(&candidate.to_lowercase()) {
        candidate = format!("{wanted}{sep}{n}");
        n += 1;
    }
    used.insert(candidate.to_lowercase());
    candidate
}

fn contacts(
    spec: &GenSpec,
    ids: &mut Ids,
    companies: &BTreeMap<Id, Company>,
) -> BTreeMap<Id, Contact> {
    let mut rng = stream(spec.seed, 2);
    let mut out = BTreeMap::new();
    let mut last_email: Option<String> = None;
    for (index, company) in companies.values().enumerate() {
        let count = if is_vendor(company) {
            1
        } else if spec.companies >= 8 && index == 3 {
            0
        } else {
            weighted(&mut rng, &[10, 30, 30, 30])
        };
        let mut has_default = false;
        for _ in 0..count {
            let id = ids.take(Entity::Contact, &mut rng);
            let first = pick(&mut rng, FIRST_NAMES);
            let last = pick(&mut rng, LAST_NAMES);
            let inactive = rng.random_bool(0.1);
            let default_flag = !inactive && !has_default;
            has_default |= default_flag;
            let mut items: Vec<CommunicationItem> = Vec::new();
            let mut item = |items: &mut Vec<CommunicationItem>,
                            type_id: Id,
                            value: String,
                            default_flag: bool| {
                let id = ids.communication_item;
                ids.communication_item += 1;
                items.push(CommunicationItem {
                    id,
                    type_id,
                    value,
                    default_flag,
                });
            };
            if rng.random_bool(0.9) {
                // A few contacts share an address with another company's contact: ambiguous links.
                let email = match (&last_email, rng.random_bool(0.015)) {
                    (Some(shared), true) => shared.clone(),
                    _ => format!(
                        "{}.{}@{}",
                        alnum(first).to_lowercase(),
                        alnum(last).to_lowercase(),
                        domain(company)
                    ),
                };
                last_email = Some(email.clone());
                item(&mut items, communication_type::EMAIL, email, true);
            }
            let prefix = &company.phone[..company.phone.len() - 4];
            if rng.random_bool(0.7) {
                let direct = format!("{prefix}{}", digits(&mut rng, 4));
                item(&mut items, communication_type::DIRECT, direct, true);
            }
            if rng.random_bool(0.35) {
                let cell = format!("{}555{}", rng.random_range(201..990), digits(&mut rng, 4));
                let default_flag = items
                    .iter()
                    .all(|i| i.type_id != communication_type::DIRECT);
                item(&mut items, communication_type::CELL, cell, default_flag);
            }
            if rng.random_bool(0.05) {
                item(
                    &mut items,
                    communication_type::FAX,
                    format!("{prefix}9999"),
                    true,
                );
            }
            let title = rng
                .random_bool(0.7)
                .then(|| pick(&mut rng, TITLES).to_string());
            let info = stamp(&mut rng, company.date_entered);
            out.insert(
                id,
                Contact {
                    id,
                    company_id: company.id,
                    first_name: first.to_string(),
                    last_name: last.to_string(),
                    title,
                    inactive,
                    default_flag,
                    communication_items: items,
                    info,
                },
            );
        }
    }
    out
}

/// The state an agreement is generated in.
#[derive(Clone, Copy)]
enum Phase {
    Running,
    Expired,
    Cancelled,
    NotStarted,
    OnHold,
}

fn agreements(
    spec: &GenSpec,
    ids: &mut Ids,
    picklists: &Picklists,
    companies: &BTreeMap<Id, Company>,
) -> (BTreeMap<Id, Agreement>, BTreeMap<Id, AgreementLine>) {
    let mut rng = stream(spec.seed, 3);
    let mut agreements = BTreeMap::new();
    let mut lines = BTreeMap::new();
    let phases = [
        Phase::Running,
        Phase::Expired,
        Phase::Cancelled,
        Phase::NotStarted,
        Phase::OnHold,
    ];
    let mut k = 0usize;
    for company in companies
        .values()
        .filter(|c| !is_vendor(c) && !c.type_ids.contains(&company_type::PROSPECT))
    {
        let count = weighted(&mut rng, &[25, 40, 25, 10]);
        for _ in 0..count {
            // The first five agreements cover every billing cycle and every phase.
            let cycle = if k < 5 {
                BillingCycle::ALL[k]
            } else {
                BillingCycle::ALL[weighted(&mut rng, &[50, 15, 10, 15, 10])]
            };
            let phase = if k < 5 {
                phases[k]
            } else {
                phases[weighted(&mut rng, &[60, 12, 10, 10, 8])]
            };
            k += 1;
            let id = ids.take(Entity::Agreement, &mut rng);
            let type_id = match cycle {
                BillingCycle::OneTime => *[4, 5].choose(&mut rng).unwrap_or(&5),
                _ => rng.random_range(1..=3),
            };
            let (start, end, cancelled, status) = match phase {
                Phase::Running => {
                    let start = day(&mut rng, date!(2021 - 01 - 01), date!(2026 - 05 - 01));
                    let end = rng
                        .random_bool(0.5)
                        .then(|| day(&mut rng, date!(2027 - 01 - 01), date!(2029 - 12 - 31)));
                    (start, end, None, AgreementStatus::Active)
                }
                Phase::Expired => {
                    let start = day(&mut rng, date!(2020 - 01 - 01), date!(2023 - 01 - 01));
                    let end = day(&mut rng, date!(2023 - 06 - 01), date!(2026 - 04 - 30));
                    (start, Some(end), None, AgreementStatus::Expired)
                }
                Phase::Cancelled => {
                    let start = day(&mut rng, date!(2021 - 01 - 01), date!(2024 - 01 - 01));
                    let cancelled = day(&mut rng, date!(2024 - 01 - 01), date!(2026 - 05 - 01));
                    (start, None, Some(cancelled), AgreementStatus::Cancelled)
                }
                Phase::NotStarted => {
                    let start = day(&mut rng, date!(2027 - 07 - 01), date!(2028 - 06 - 30));
                    let end = rng
                        .random_bool(0.5)
                        .then(|| start + Duration::days(3 * 365));
                    (start, end, None, AgreementStatus::Active)
                }
                Phase::OnHold => {
                    let start = day(&mut rng, date!(2021 - 01 - 01), date!(2025 - 06 - 01));
                    (start, None, None, AgreementStatus::Inactive)
                }
            };
            let type_name = match type_id {
                1 => "Managed Services",
                2 => "Backup & Recovery",
                3 => "Security Bundle",
                4 => "Block Time",
                _ => "Onboarding Project",
            };
            let bill_amount_cents = if rng.random_bool(0.5) {
                0
            } else {
                rng.random_range(50..2000) * 100
            };
            let info = stamp(&mut rng, start.midnight().assume_utc().min(DATA_END));
            agreements.insert(
                id,
                Agreement {
                    id,
                    company_id: company.id,
                    name: format!("{} - {type_name}", company.name),
                    type_id,
                    start_date: start,
                    end_date: end,
                    cancelled_date: cancelled,
                    billing_cycle: cycle,
                    bill_amount_cents,
                    status,
                    info,
                },
            );
            // (product id, quantity range)
            let products: &[(Id, u32)] = match type_id {
                1 => &[(1, 120), (2, 6), (3, 120), (5, 120), (10, 50)],
                2 => &[(4, 10), (2, 4)],
                3 => &[(5, 120), (6, 3), (7, 120)],
                4 => &[(9, 4)],
                _ => &[(8, 1)],
            };
            let n_lines = rng.random_range(1..=products.len().min(4));
            let mut chosen: Vec<(Id, u32)> = products
                .choose_multiple(&mut rng, n_lines)
                .copied()
                .collect();
            chosen.sort_unstable();
            for (product_id, max_qty) in chosen {
                let line_id = ids.take(Entity::AgreementLine, &mut rng);
                let Some(product) = picklists.products.iter().find(|p| p.id == product_id) else {
                    continue;
                };
                let price = product.price_cents;
                let unit_price_cents = if rng.random_bool(0.2) {
                    price * 9 / 10
                } else {
                    price
                };
                let bill_customer = match weighted(&mut rng, &[85, 10, 5]) {
                    0 => BillCustomer::Billable,
                    1 => BillCustomer::DoNotBill,
                    _ => BillCustomer::NoCharge,
                };
                let cancelled_date = (rng.random_bool(0.08) && start < DATA_END.date())
                    .then(|| day(&mut rng, start, DATA_END.date()));
                let info = stamp(&mut rng, start.midnight().assume_utc().min(DATA_END));
                lines.insert(
                    line_id,
                    AgreementLine {
                        id: line_id,
                        agreement_id: id,
                        product_id,
                        description: product.description.clone(),
                        quantity: f64::from(rng.random_range(1..=max_qty)),
                        unit_price_cents,
                        unit_cost_cents: product.cost_cents,
                        bill_customer,
                        effective_date: start,
                        cancelled_date,
                        info,
                    },
                );
            }
        }
    }
    (agreements, lines)
}

/// Per configuration type name: (name code, manufacturers, models, weight).
fn type_profile(
    name: &str,
) -> (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    u32,
) {
    const PCS: &[&str] = &["Dell", "HP", "Lenovo"];
    const NET: &[&str] = &["Cisco", "Ubiquiti", "Meraki"];
    const FW: &[&str] = &["Fortinet", "SonicWall", "Cisco", "Meraki"];
    match name {
        "Workstation" => (
            "WS",
            PCS,
            &["OptiPlex 7090", "EliteDesk 800 G6", "ThinkCentre M70q"],
            14,
        ),
        "Laptop" => (
            "LT",
            &["Dell", "HP", "Lenovo", "Apple"],
            &[
                "Latitude 5420",
                "EliteBook 840",
                "ThinkPad T14",
                "MacBook Pro 14",
            ],
            12,
        ),
        "Server" => (
            "SRV",
            PCS,
            &["PowerEdge R650", "ProLiant DL380", "ThinkSystem SR650"],
            5,
        ),
        "Firewall" => ("FW", FW, &["FortiGate 60F", "TZ470", "MX68"], 5),
        "Switch" => ("SW", NET, &["Catalyst 9200", "USW-Pro-24", "MS120-24P"], 6),
        "Router" => ("RTR", NET, &["ISR 1100", "EdgeRouter 4"], 3),
        "Access Point" => ("AP", NET, &["U6-Pro", "MR36", "Catalyst 9115"], 6),
        "Printer" => (
            "PRN",
            &["HP", "Brother", "Samsung"],
            &["LaserJet M404", "HL-L2350", "Xpress M2020"],
            6,
        ),
        "UPS" => ("UPS", &["APC"], &["Smart-UPS 1500", "Back-UPS 850"], 3),
        "Mobile Device" => (
            "MOB",
            &["Apple", "Samsung"],
            &["iPhone 15", "Galaxy S24"],
            4,
        ),
        "Managed Server" => ("MSRV", PCS, &["PowerEdge R750", "ProLiant DL360"], 6),
        "Managed Workstation" => (
            "MWS",
            PCS,
            &["OptiPlex 5000", "ProDesk 600", "ThinkCentre M90"],
            22,
        ),
        "Network Security Appliance" => ("NSA", FW, &["FortiGate 100F", "NSa 2700"], 3),
        "Backup Stats" => ("BKP", &[], &[], 2),
        "Spam Stats" => ("SPAM", &[], &[], 1),
        "CW SC Partner Server" => ("SC", PCS, &["PowerEdge T150"], 1),
        _ => ("CYM", &["Dell"], &["Cymphonix EX"], 1),
    }
}

fn serial(rng: &mut StdRng, manufacturer: &str) -> String {
    match manufacturer {
        "Dell" => upper_alnum(rng, 7),
        "HP" => format!("5CG{}", upper_alnum(rng, 7)),
        "Lenovo" => format!("PF{}", upper_alnum(rng, 6)),
        "Apple" => format!("C02{}", upper_alnum(rng, 9)),
        "Cisco" => format!("FOC{}", upper_alnum(rng, 8)),
        "Fortinet" => format!("FGT60F{}", upper_alnum(rng, 8)),
        "Meraki" => format!(
            "Q2{}-{}-{}",
            upper_alnum(rng, 2),
            upper_alnum(rng, 4),
            upper_alnum(rng, 4)
        ),
        _ => upper_alnum(rng, 12),
    }
}

fn mac(rng: &mut StdRng) -> String {
    let bytes: Vec<u8> = (0..6).map(|_| rng.random()).collect();
    let hex = |sep: &str, upper: bool| {
        let s = bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(sep);
        if upper { s.to_uppercase() } else { s }
    };
    // PSAs store whatever was typed: matching has to normalise.
    match weighted(rng, &[70, 20, 10]) {
        0 => hex(":", true),
        1 => hex("-", false),
        _ => {
            let plain = hex("", false);
            format!("{}.{}.{}", &plain[0..4], &plain[4..8], &plain[8..12])
        }
    }
}

fn answer(rng: &mut StdRng, question: &str) -> String {
    let options: &[&str] = match question {
        "Operating system" => &[
            "Windows 11 Pro",
            "Windows 10 Pro",
            "macOS 14",
            "Windows Server 2022",
            "Ubuntu 22.04",
        ],
        "Primary user" => &["Front desk", "Reception", "Shared"],
        "Role" => &["File server", "Domain controller", "Line of business app"],
        "Firmware version" => &["7.2.5", "7.4.1", "17.9.4", "6.5.54"],
        "Support contract" => &["FortiCare 24x7", "SonicWall CSSP", "None"],
        _ => &["2024-03-01", "2025-01-15"],
    };
    pick(rng, options).to_string()
}

/// The records of `records` by company, each company's in id order. Built once: scanning every
/// record for each company made generating 20,000 companies take half a minute.
pub(super) fn by_company<T>(
    records: &BTreeMap<Id, T>,
    company_of: impl Fn(&T) -> Id,
) -> BTreeMap<Id, Vec<&T>> {
    let mut grouped: BTreeMap<Id, Vec<&T>> = BTreeMap::new();
    for record in records.values() {
        grouped.entry(company_of(record)).or_default().push(record);
    }
    grouped
}

fn configurations(
    spec: &GenSpec,
    ids: &mut Ids,
    picklists: &Picklists,
    companies: &BTreeMap<Id, Company>,
    contacts: &BTreeMap<Id, Contact>,
) -> BTreeMap<Id, Configuration> {
    let mut rng = stream(spec.seed, 4);
    let clients: Vec<&Company> = companies.values().filter(|c| !is_vendor(c)).collect();
    let vendors: Vec<Id> = companies
        .values()
        .filter(|c| is_vendor(c))
        .map(|c| c.id)
        .collect();
    let counts: Vec<usize> = match spec.configurations {
        Some(total) if !clients.is_empty() => {
            let mut counts = vec![0; clients.len()];
            for _ in 0..total {
                counts[rng.random_range(0..clients.len())] += 1;
            }
            counts
        }
        Some(_) => Vec::new(),
        None => clients.iter().map(|_| rng.random_range(0..=10)).collect(),
    };
    let weights: Vec<u32> = picklists
        .configuration_types
        .iter()
        .map(|t| type_profile(&t.name).3)
        .collect();
    let contacts_of = by_company(contacts, |c| c.company_id);
    let mut out = BTreeMap::new();
    for (company, count) in clients.iter().zip(counts) {
        let code: String = company
            .identifier
            .chars()
            .take(4)
            .collect::<String>()
            .to_uppercase();
        let people: Vec<Id> = contacts_of
            .get(&company.id)
            .into_iter()
            .flatten()
            .map(|c| c.id)
            .collect();
        let subnet = rng.random_range(0..=255u8);
        let mut last_serial: Option<String> = None;
        for seq in 1..=count {
            let id = ids.take(Entity::Configuration, &mut rng);
            let kind = &picklists.configuration_types[weighted(&mut rng, &weights)];
            let (name_code, makers, models, _) = type_profile(&kind.name);
            let name = match kind.name.as_str() {
                "Backup Stats" => format!("{} Backup {seq}", company.name),
                "Spam Stats" => format!("{} Spam Filter {seq}", company.name),
                _ => format!("{code}-{name_code}{seq:03}"),
            };
            let maker_name = makers.choose(&mut rng).copied();
            let manufacturer_id = maker_name
                .and_then(|m| picklists.manufacturers.iter().find(|x| x.name == m))
                .map(|m| m.id);
            let hardware = maker_name.is_some();
            let serial_number = if !hardware || rng.random_bool(0.04) {
                None
            } else if let (Some(prev), true) = (&last_serial, rng.random_bool(0.01)) {
                // A re-entered device: two configurations with the same serial number.
                Some(prev.clone())
            } else {
                Some(serial(&mut rng, maker_name.unwrap_or("")))
            };
            if serial_number.is_some() {
                last_serial.clone_from(&serial_number);
            }
            let (status_id, active) = match weighted(&mut rng, &[82, 8, 6, 2, 2]) {
                0 => (configuration_status::ACTIVE, true),
                1 => (configuration_status::INACTIVE, false),
                2 => (configuration_status::DECOMMISSIONED, false),
                3 => (configuration_status::ON_ORDER, true),
                _ => (configuration_status::ACTIVE, false),
            };
            let installation_date = (hardware && rng.random_bool(0.7)).then(|| {
                instant(
                    &mut rng,
                    datetime!(2018-01-01 0:00 UTC),
                    datetime!(2026-05-01 0:00 UTC),
                )
            });
            let warranty_expiration = installation_date
                .filter(|_| rng.random_bool(0.6))
                .map(|d| d + Duration::days(3 * 365));
            let mut questions = Vec::new();
            for q in &kind.questions {
                if rng.random_bool(0.7) {
                    questions.push(QuestionAnswer {
                        question_id: q.id,
                        answer: Some(answer(&mut rng, &q.question)),
                    });
                }
            }
            let host = name.to_lowercase().replace(' ', "-");
            let info = stamp(&mut rng, company.date_entered);
            out.insert(
                id,
                Configuration {
                    id,
                    company_id: company.id,
                    type_id: kind.id,
                    status_id,
                    contact_id: if rng.random_bool(0.3) {
                        people.choose(&mut rng).copied()
                    } else {
                        None
                    },
                    active,
                    serial_number,
                    model_number: models.choose(&mut rng).map(|m| m.to_string()),
                    tag_number: rng
                        .random_bool(0.3)
                        .then(|| format!("AT-{}", digits(&mut rng, 5))),
                    mac_address: (hardware && rng.random_bool(0.8)).then(|| mac(&mut rng)),
                    ip_address: (hardware && rng.random_bool(0.85)).then(|| {
                        format!(
                            "10.{subnet}.{}.{}",
                            rng.random_range(0..4),
                            rng.random_range(2..254)
                        )
                    }),
                    device_identifier: (!kind.api_updatable && hardware && rng.random_bool(0.6))
                        .then(|| format!("RMM-{}", upper_alnum(&mut rng, 8))),
                    manufacturer_id,
                    vendor_id: if rng.random_bool(0.4) {
                        vendors.choose(&mut rng).copied()
                    } else {
                        None
                    },
                    notes: (hardware && rng.random_bool(0.35))
                        .then(|| format!("{host}.{}.local", code.to_lowercase())),
                    installation_date,
                    warranty_expiration,
                    questions,
                    name,
                    info,
                },
            );
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn tickets(
    spec: &GenSpec,
    ids: &mut Ids,
    picklists: &Picklists,
    companies: &BTreeMap<Id, Company>,
    contacts: &BTreeMap<Id, Contact>,
    agreements: &BTreeMap<Id, Agreement>,
    configurations: &BTreeMap<Id, Configuration>,
) -> (BTreeMap<Id, Ticket>, BTreeMap<Id, Note>) {
    let mut rng = stream(spec.seed, 5);
    let mut tickets = BTreeMap::new();
    let mut notes = BTreeMap::new();
    let mut device_names: BTreeMap<Id, Vec<&str>> = BTreeMap::new();
    for c in configurations.values() {
        device_names.entry(c.company_id).or_default().push(&c.name);
    }
    let contacts_of = by_company(contacts, |c| c.company_id);
    let agreements_of = by_company(agreements, |a| a.company_id);
    for company in companies.values().filter(|c| !is_vendor(c)) {
        let people: Vec<&Contact> = contacts_of
            .get(&company.id)
            .into_iter()
            .flatten()
            .copied()
            .filter(|c| !c.inactive)
            .collect();
        let deals: Vec<Id> = agreements_of
            .get(&company.id)
            .into_iter()
            .flatten()
            .map(|a| a.id)
            .collect();
        let devices = device_names.get(&company.id).cloned().unwrap_or_default();
        for _ in 0..weighted(&mut rng, &[20, 25, 25, 20, 10]) {
            let id = ids.take(Entity::Ticket, &mut rng);
            let board_id = [1, 2, 3][weighted(&mut rng, &[60, 30, 10])];
            let closed = rng.random_bool(0.45);
            let statuses: Vec<Id> = picklists
                .board_statuses
                .iter()
                .filter(|s| s.board_id == board_id && s.closed == closed)
                .map(|s| s.id)
                .collect();
            let status_id = statuses
                .choose(&mut rng)
                .copied()
                .unwrap_or(board_id * 10 + 1);
            let of_board = |list: &[super::BoardEntry]| -> Vec<Id> {
                list.iter()
                    .filter(|e| e.board_id == board_id)
                    .map(|e| e.id)
                    .collect()
            };
            let contact = if rng.random_bool(0.75) {
                people.choose(&mut rng).copied()
            } else {
                None
            };
            let template = pick(&mut rng, TICKET_SUMMARIES);
            let device = devices.choose(&mut rng).copied().unwrap_or("SERVER01");
            let summary: String = template
                .replace(
                    "{c}",
                    &contact
                        .map(Contact::full_name)
                        .unwrap_or_else(|| "a user".into()),
                )
                .replace("{d}", device)
                .chars()
                .take(100)
                .collect();
            let date_entered = instant(
                &mut rng,
                datetime!(2025-01-01 0:00 UTC),
                DATA_END - Duration::days(2),
            );
            let last_updated = instant(&mut rng, date_entered, DATA_END);
            let source_id = if board_id == 2 {
                4
            } else {
                *[1, 2, 3].choose(&mut rng).unwrap_or(&2)
            };
            let entered_by = pick(&mut rng, MEMBERS).to_string();
            let ticket = Ticket {
                id,
                summary,
                board_id,
                status_id,
                priority_id: [1, 2, 3, 4][weighted(&mut rng, &[5, 20, 55, 20])],
                company_id: company.id,
                contact_id: contact.map(|c| c.id),
                type_id: if rng.random_bool(0.8) {
                    of_board(&picklists.board_types).choose(&mut rng).copied()
                } else {
                    None
                },
                subtype_id: if rng.random_bool(0.6) {
                    of_board(&picklists.board_subtypes)
                        .choose(&mut rng)
                        .copied()
                } else {
                    None
                },
                item_id: if rng.random_bool(0.25) {
                    of_board(&picklists.board_items).choose(&mut rng).copied()
                } else {
                    None
                },
                source_id: Some(source_id),
                agreement_id: if rng.random_bool(0.4) {
                    deals.choose(&mut rng).copied()
                } else {
                    None
                },
                date_entered,
                entered_by: entered_by.clone(),
                info: Info {
                    last_updated,
                    updated_by: pick(&mut rng, MEMBERS).to_string(),
                },
            };
            let n_notes = rng.random_range(0..=3);
            let mut times: Vec<OffsetDateTime> = (0..n_notes)
                .map(|_| instant(&mut rng, date_entered, last_updated))
                .collect();
            times.sort_unstable();
            for (i, at) in times.into_iter().enumerate() {
                let note_id = ids.take(Entity::Note, &mut rng);
                let first = i == 0;
                let resolution = closed && i + 1 == n_notes && !first;
                let internal = !first && !resolution && rng.random_bool(0.6);
                let text = if first {
                    format!(
                        "{}\n\nReported via {}.",
                        ticket.summary,
                        ["email", "phone", "portal"][i % 3]
                    )
                } else {
                    pick(&mut rng, NOTE_TEXTS).to_string()
                };
                let by = if first {
                    entered_by.clone()
                } else {
                    pick(&mut rng, MEMBERS).to_string()
                };
                notes.insert(
                    note_id,
                    Note {
                        id: note_id,
                        ticket_id: id,
                        text,
                        detail_description: !internal && !resolution,
                        internal_analysis: internal,
                        resolution,
                        date_created: at,
                        created_by: by.clone(),
                        info: Info {
                            last_updated: at,
                            updated_by: by,
                        },
                    },
                );
            }
            tickets.insert(id, ticket);
        }
    }
    (tickets, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(seed: u64, companies: usize) -> GenSpec {
        GenSpec {
            seed,
            companies,
            configurations: None,
        }
    }

    #[test]
    fn same_seed_same_data_and_other_seed_other_data() {
        let a = generate(&spec(7, 60));
        assert_eq!(a, generate(&spec(7, 60)));
        assert_ne!(a.companies, generate(&spec(8, 60)).companies);
    }

    #[test]
    fn companies_do_not_depend_on_the_configuration_count() {
        let a = generate(&spec(3, 40));
        let b = generate(&GenSpec {
            configurations: Some(1234),
            ..spec(3, 40)
        });
        assert_eq!(a.companies, b.companies);
        assert_eq!(a.contacts, b.contacts);
        assert_eq!(b.configurations.len(), 1234);
    }

    #[test]
    fn every_timestamp_is_before_the_data_end() {
        let d = generate(&spec(11, 80));
        let infos = d
            .companies
            .values()
            .map(|r| &r.info)
            .chain(d.contacts.values().map(|r| &r.info))
            .chain(d.agreements.values().map(|r| &r.info))
            .chain(d.agreement_lines.values().map(|r| &r.info))
            .chain(d.configurations.values().map(|r| &r.info))
            .chain(d.tickets.values().map(|r| &r.info))
            .chain(d.notes.values().map(|r| &r.info));
        for info in infos {
            assert!(info.last_updated < DATA_END, "{info:?}");
            assert_eq!(info.last_updated.nanosecond(), 0);
        }
    }

    #[test]
    fn the_data_set_covers_the_interesting_cases() {
        let d = generate(&spec(1, 50));
        assert_eq!(d.companies.len(), 50);
        assert!(d.companies.values().any(|c| c.deleted));
        assert!(
            d.companies
                .values()
                .any(|c| c.status_id == company_status::INACTIVE)
        );
        assert!(
            d.companies
                .values()
                .any(|c| c.type_ids.contains(&company_type::VENDOR))
        );
        assert!(
            d.companies
                .values()
                .any(|c| !d.contacts.values().any(|p| p.company_id == c.id))
        );
        for cycle in BillingCycle::ALL {
            assert!(
                d.agreements.values().any(|a| a.billing_cycle == cycle),
                "{cycle:?}"
            );
        }
        for status in [
            AgreementStatus::Active,
            AgreementStatus::Cancelled,
            AgreementStatus::Expired,
            AgreementStatus::Inactive,
        ] {
            assert!(
                d.agreements.values().any(|a| a.status == status),
                "{status:?}"
            );
        }
        assert!(
            d.agreements
                .values()
                .any(|a| a.start_date > DATA_END.date()),
            "not yet started"
        );
        assert!(d.agreement_lines.len() >= d.agreements.len());
        assert!(d.configurations.values().any(|c| {
            d.picklists
                .configuration_type(c.type_id)
                .is_some_and(|t| !t.api_updatable)
        }));
        assert!(d.tickets.values().any(|t| d.ticket_closed(t)));
        assert!(d.tickets.values().any(|t| !d.ticket_closed(t)));
        assert!(!d.notes.is_empty());
        for n in d.notes.values() {
            assert!(d.tickets.contains_key(&n.ticket_id));
        }
        let company_ids: HashSet<Id> = d.companies.keys().copied().collect();
        assert!(
            d.contacts
                .values()
                .all(|c| company_ids.contains(&c.company_id))
        );
    }

    #[test]
    fn ids_continue_after_the_generated_ones() {
        let mut d = generate(&spec(5, 20));
        let max = *d.tickets.keys().last().unwrap();
        assert!(d.next_id(Entity::Ticket) > max);
    }
}
