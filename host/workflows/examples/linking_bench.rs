//! Customer linking at scale, timed (it prints the figures in BENCHMARKS.md):
//! `cargo run --release -p psahost-workflows --example linking_bench` (or without `--release`
//! for the dev-profile figures).
//!
//! 20,000 companies with two contacts each, written straight into a sled store; 1,000
//! customers: a request with a cold index (built from the store), then warm ones (the change
//! feed replayed); then 1,000 customers each named like a pair of companies (the first 2,000
//! come in pairs of one name), without and with a custom rule (the hostile rule, well behaved)
//! below the name identifier, which is then asked about every customer.

use psahost_store::{Entity, PageCommit, RecordStore, RecordWrite, SledStore};
use psahost_workflows::linking::Matcher;
use psahost_workflows::linking::customers::{
    Customer, DEFAULT_RULES, default_rules, link_customers_kept,
};
use psahost_workflows::linking::kept::CompanyIndexes;
use serde_json::json;
use std::time::Instant;

const COMPANIES: usize = 20_000;
const CUSTOMERS: usize = 1_000;
const WORDS: [&str; 12] = [
    "Westbrook",
    "Harbor",
    "Summit",
    "Cedar",
    "Granite",
    "Maple",
    "Orchard",
    "Pioneer",
    "Redwood",
    "Silver",
    "Tidewater",
    "Willow",
];

fn company_name(i: usize) -> String {
    // Pairs of one name among the first 2 * CUSTOMERS.
    let n = if i < 2 * CUSTOMERS { i / 2 } else { i };
    format!(
        "{} {} Services {n} LLC",
        WORDS[n % WORDS.len()],
        WORDS[(n / WORDS.len()) % WORDS.len()]
    )
}

fn company(i: usize, name: &str) -> RecordWrite {
    RecordWrite::new(
        i.to_string(),
        &json!({
            "id": i.to_string(), "name": name, "active": true, "types": [],
            "phone": format!("+1 555 {:07}", i), "website": format!("https://c{i}.example"),
            "sites": [], "raw": {},
        }),
    )
}

async fn commit(store: &dyn RecordStore, entity: Entity, upserts: Vec<RecordWrite>) {
    store
        .commit(PageCommit {
            connection: "acme".into(),
            entity,
            upserts,
            deletions: Vec::new(),
            mark_seen: false,
            checkpoint: None,
        })
        .await
        .unwrap();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let store = SledStore::temporary().unwrap();
    for chunk in (0..COMPANIES).collect::<Vec<_>>().chunks(1000) {
        commit(
            &store,
            Entity::Companies,
            chunk
                .iter()
                .map(|&i| company(i, &company_name(i)))
                .collect(),
        )
        .await;
        let contacts = chunk
            .iter()
            .flat_map(|&i| {
                (0..2).map(move |k| {
                    RecordWrite::new(
                        format!("{i}-{k}"),
                        &json!({
                            "id": format!("{i}-{k}"), "company-id": i.to_string(),
                            "emails": [format!("p{k}@c{i}.example")], "phones": [],
                            "active": true, "primary": k == 0, "raw": {},
                        }),
                    )
                })
            })
            .collect();
        commit(&store, Entity::Contacts, contacts).await;
    }
    // Customers: the paired names (ambiguous by name), by e-mail, and by unique names.
    let customers: Vec<Customer> = (0..CUSTOMERS)
        .map(|n| {
            let i = match n % 3 {
                0 => 2 * n,
                _ => 2 * CUSTOMERS + n * 17 % (COMPANIES - 2 * CUSTOMERS),
            };
            Customer {
                id: format!("t{n}"),
                name: Some(company_name(i).replace(" LLC", " Inc")),
                emails: if n % 3 == 1 {
                    vec![format!("p1@c{i}.example")]
                } else {
                    Vec::new()
                },
                phones: Vec::new(),
                domain: None,
                address: None,
            }
        })
        .collect();
    let matcher = Matcher::new(default_rules(), &[]).unwrap();
    let indexes = CompanyIndexes::new(4);
    let timed = async |matcher: &Matcher| {
        let started = Instant::now();
        let report = link_customers_kept(&store, "acme", matcher, &indexes, &customers, true)
            .await
            .unwrap();
        (started.elapsed(), report)
    };
    let (cold, report) = timed(&matcher).await;
    let (warm, _) = timed(&matcher).await;
    commit(
        &store,
        Entity::Companies,
        vec![company(5000, "Renamed Holdings GmbH")],
    )
    .await;
    let (warm_one, _) = timed(&matcher).await;
    println!(
        "{COMPANIES} companies, {CUSTOMERS} customers ({} matched, {} ambiguous, {} none): cold {cold:?}, warm {warm:?}, warm after one changed company {warm_one:?}; {:?}",
        report.matched,
        report.ambiguous,
        report.none,
        indexes.stats()
    );

    // The same customers with a custom rule asked about each ambiguous name.
    let runtime = psahost_sandbox::runtime::Runtime::new(psahost_sandbox::runtime::RuntimeConfig {
        cache_dir: Some(psahost_testkit::cache_dir()),
        ..Default::default()
    })
    .unwrap();
    let plugin = runtime
        .load(psahost_sandbox::runtime::PluginSource::File(
            plugin_artifacts::HOSTILE_RULE_PATH.into(),
        ))
        .await
        .unwrap();
    let rule = psahost_sandbox::rule::Rule::open(runtime, plugin).unwrap();
    let with_rule = psahost_matching::rules::RuleSet::from_toml(
        &DEFAULT_RULES.replacen(
            "[[identifier]]\nname = \"domain\"",
            "[[identifier]]\nrule = \"hostile-rule\"\ncandidates = \"preselected\"\n\n[[identifier]]\nname = \"domain\"",
            1,
        ),
        std::path::Path::new("customers.toml"),
    )
    .unwrap();
    let with_rule = Matcher::new(with_rule, &[rule]).unwrap();
    // Customers of the paired names only: the rule is asked about every one.
    let paired: Vec<Customer> = (0..CUSTOMERS)
        .map(|n| Customer {
            id: format!("p{n}"),
            name: Some(company_name(2 * n)),
            emails: Vec::new(),
            phones: Vec::new(),
            domain: None,
            address: None,
        })
        .collect();
    let paired_timed = async |matcher: &Matcher| {
        let started = Instant::now();
        let report = link_customers_kept(&store, "acme", matcher, &indexes, &paired, true)
            .await
            .unwrap();
        (started.elapsed(), report)
    };
    let (without, _) = paired_timed(&matcher).await;
    let (first, _) = paired_timed(&with_rule).await;
    let (again, report) = paired_timed(&with_rule).await;
    let calls = report
        .customers
        .iter()
        .filter(|c| c.decided_by.as_deref() == Some("hostile-rule"))
        .count();
    assert_eq!(calls, CUSTOMERS, "the rule decided every customer");
    println!(
        "{CUSTOMERS} customers of two companies each: without a rule {without:?}; with the rule below `name` {first:?} (first), {again:?}: {:?} per call",
        again.saturating_sub(without) / calls as u32
    );
}
