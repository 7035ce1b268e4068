//! Matching at scale: `cargo run --release -p psahost-matching --example match_bench`.
//!
//! 1. Devices: N subjects against N candidates by serial, MAC and host name (exact
//!    identifiers, indexed), for N = 10,000, 50,000 and 100,000: index build and decisions.
//! 2. Customers: 10,000 customers against 20,000 companies by domain, company name and a
//!    name similarity (0.92), the similarity restricted to its blocking key.
//!
//! The data are generated (deterministic): about a third of the subjects match by serial, a
//! third only by MAC (in another notation), the rest by host name or not at all.

use psahost_matching::rules::{Candidate, Fields, Outcome, RuleSet, Subject};
use std::path::Path;
use std::time::Instant;

fn fields(pairs: &[(&str, String)]) -> Fields {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), vec![v.clone()]))
        .collect()
}

fn devices(n: usize) {
    let rules = RuleSet::from_toml(
        r#"
[conditions]
active-only = true
[[identifier]]
name = "serial"
subject = "serial"
candidate = "serial-number"
compare = "serial"
[[identifier]]
name = "mac"
subject = "mac"
candidate = "mac-address"
compare = "mac"
[[identifier]]
name = "host"
subject = "host"
candidate = "name"
compare = "host-name"
"#,
        Path::new("devices.toml"),
    )
    .expect("rule set");
    let candidates: Vec<Candidate> = (0..n)
        .map(|i| Candidate {
            id: i.to_string(),
            fields: fields(&[
                ("serial-number", format!("SN{i:08}")),
                (
                    "mac-address",
                    format!(
                        "00:1a:{:02x}:{:02x}:{:02x}:{:02x}",
                        i >> 24 & 255,
                        i >> 16 & 255,
                        i >> 8 & 255,
                        i & 255
                    ),
                ),
                ("name", format!("pc-{i}.corp.example")),
            ]),
            active: true,
            company: None,
            kind: None,
        })
        .collect();
    let subjects: Vec<Subject> = (0..n)
        .map(|i| Subject {
            id: format!("s{i}"),
            fields: fields(&[
                (
                    "serial",
                    if i % 3 == 0 {
                        format!("sn-{i:08}")
                    } else {
                        "To be filled by O.E.M.".into()
                    },
                ),
                (
                    "mac",
                    if i % 3 == 1 {
                        format!(
                            "001A{:02X}{:02X}{:02X}{:02X}",
                            i >> 24 & 255,
                            i >> 16 & 255,
                            i >> 8 & 255,
                            i & 255
                        )
                    } else {
                        "02:00:00:00:00:01".into()
                    },
                ),
                (
                    "host",
                    if i % 6 == 2 {
                        format!("PC-{i}")
                    } else {
                        format!("laptop-{i}")
                    },
                ),
            ]),
            ..Subject::default()
        })
        .collect();
    let started = Instant::now();
    let index = rules.index(&candidates);
    let built = started.elapsed();
    let started = Instant::now();
    let mut matched = 0;
    for s in &subjects {
        if matches!(index.decide(s), Outcome::Matched { .. }) {
            matched += 1;
        }
    }
    let decided = started.elapsed();
    println!(
        "devices {n:>7} x {n:>7}: index {:>7.1} ms, decisions {:>7.1} ms, total {:>7.1} ms ({matched} matched)",
        built.as_secs_f64() * 1e3,
        decided.as_secs_f64() * 1e3,
        (built + decided).as_secs_f64() * 1e3
    );
}

fn customers() {
    let rules = RuleSet::from_toml(
        r#"
[[identifier]]
name = "domain"
subject = "email"
candidate = "website"
compare = "domain"
[[identifier]]
name = "company-name"
subject = "name"
candidate = "name"
compare = "company-name"
[[identifier]]
name = "similar-name"
subject = "name"
candidate = "name"
compare = "similar"
threshold = 0.92
"#,
        Path::new("customers.toml"),
    )
    .expect("rule set");
    const WORDS: &[&str] = &[
        "Acme",
        "Beacon",
        "Crescent",
        "Delta",
        "Evergreen",
        "Summit",
        "Harbor",
        "Pioneer",
        "Sunrise",
        "Westbrook",
        "Granite",
        "Meridian",
        "Atlas",
        "Cedar",
        "Falcon",
        "Liberty",
    ];
    const KINDS: &[&str] = &[
        "Logistics",
        "Dental",
        "Builders",
        "Insurance",
        "Landscaping",
        "Medicine",
        "Engineering",
        "Legal",
    ];
    let name = |i: usize| {
        format!(
            "{} {} {}",
            WORDS[i % WORDS.len()],
            WORDS[(i / WORDS.len()) % WORDS.len()],
            KINDS[(i / 256) % KINDS.len()]
        ) + &format!(" {}", i / 2048)
    };
    let companies: Vec<Candidate> = (0..20_000)
        .map(|i| Candidate {
            id: i.to_string(),
            fields: fields(&[
                ("name", format!("{} LLC", name(i))),
                ("website", format!("https://www.company{i}.example")),
            ]),
            active: true,
            ..Candidate::default()
        })
        .collect();
    let customers: Vec<Subject> = (0..10_000)
        .map(|i| Subject {
            id: format!("c{i}"),
            fields: fields(&[
                (
                    "name",
                    if i % 2 == 0 {
                        format!("{}, Inc.", name(i * 2))
                    } else {
                        format!("{}s", name(i * 2))
                    },
                ),
                (
                    "email",
                    if i % 5 == 0 {
                        format!("it@company{}.example", i * 2)
                    } else {
                        format!("owner{i}@gmail.com")
                    },
                ),
            ]),
            ..Subject::default()
        })
        .collect();
    let started = Instant::now();
    let index = rules.index(&companies);
    let mut counts = [0usize; 3];
    for s in &customers {
        counts[match index.decide(s) {
            Outcome::Matched { .. } => 0,
            Outcome::Ambiguous { .. } => 1,
            Outcome::None => 2,
        }] += 1;
    }
    println!(
        "customers 10,000 x 20,000 companies (domain, company name, similarity 0.92): {:.1} ms; matched {}, ambiguous {}, none {}",
        started.elapsed().as_secs_f64() * 1e3,
        counts[0],
        counts[1],
        counts[2]
    );
}

fn main() {
    for n in [10_000, 50_000, 100_000] {
        devices(n);
    }
    customers();
}
