//! Customer linking over the simulator's companies and contacts, synced by the real
//! ConnectWise connector: exact names, other legal suffixes, a renamed company found through a
//! contact's e-mail, two companies of one name (ambiguous) and customers with no PSA company.

use psahost_matching::normalize::company_name;
use psahost_sandbox::bindings::psa::connector::types::Company;
use psahost_store::{Entity, RecordStore, SledStore};
use psahost_testkit::sync::*;
use psahost_workflows::linking::Matcher;
use psahost_workflows::linking::customers::{
    Customer, LinkReport, default_rules, link_customers, link_customers_kept, list_links,
    remove_link,
};
use psahost_workflows::records;
use psahost_workflows::sync::{NoProgress, SyncEngine, SyncRequest, SyncSettings};
use psahost_workflows::views::{self, load_all};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

fn customer(id: &str, name: &str, emails: &[&str]) -> Customer {
    Customer {
        id: id.into(),
        name: Some(name.into()),
        emails: emails.iter().map(|e| e.to_string()).collect(),
        phones: Vec::new(),
        domain: None,
        address: None,
    }
}

fn outcome(report: &LinkReport, id: &str) -> (String, Option<String>, Vec<String>) {
    let c = report
        .customers
        .iter()
        .find(|c| c.customer_id == id)
        .unwrap_or_else(|| panic!("customer {id} in the report"));
    (
        format!("{}:{}", c.outcome, c.decided_by.as_deref().unwrap_or("-")),
        c.company.as_ref().map(|m| m.company_id.clone()),
        c.candidates.iter().map(|m| m.company_id.clone()).collect(),
    )
}

/// The simulator's companies and contacts synced into a fresh store as connection `acme`, and
/// the stored companies.
async fn synced(
    sim: &psa_sim::Simulator,
) -> (
    psahost_sandbox::connector::Connection,
    Arc<dyn RecordStore>,
    SyncEngine,
    Vec<Company>,
) {
    let conn = connect(sim, "acme").await;
    let store: Arc<dyn RecordStore> = Arc::new(SledStore::temporary().unwrap());
    let engine = SyncEngine::new(store.clone(), SyncSettings::default());
    for entity in [Entity::Companies, Entity::Contacts] {
        engine
            .sync_entity(&conn, entity, SyncRequest::full(), &NoProgress)
            .await
            .unwrap();
    }
    let companies = load_all(
        store.as_ref(),
        "acme",
        Entity::Companies,
        records::company_from_json,
    )
    .await
    .unwrap();
    (conn, store, engine, companies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_link_to_the_simulators_companies() {
    let sim = simulator(200, Some(0)).await;
    let (conn, store, engine, companies) = synced(&sim).await;
    let contacts = load_all(
        store.as_ref(),
        "acme",
        Entity::Contacts,
        records::contact_from_json,
    )
    .await
    .unwrap();

    // The cases, found in the synced data: companies by their name without legal forms.
    let mut by_key: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for c in &companies {
        by_key
            .entry(company_name(&c.name).unwrap())
            .or_default()
            .push(&c.id);
    }
    let unique = |c: &&Company| by_key[&company_name(&c.name).unwrap()].len() == 1;
    let exact = companies
        .iter()
        .find(unique)
        .expect("a company of a unique name");
    let suffixed = companies
        .iter()
        .filter(unique)
        .find(|c| c.id != exact.id && c.name.ends_with(" LLC"))
        .expect("a company of a unique name ending in LLC");
    let (same_name, twins) = by_key
        .iter()
        .find(|(_, ids)| ids.len() == 2)
        .expect("two companies of one name");
    // A contact whose e-mail no other contact has, of a company of a unique name.
    let mut email_count: HashMap<&str, usize> = HashMap::new();
    for c in &contacts {
        for e in &c.emails {
            *email_count.entry(e.as_str()).or_default() += 1;
        }
    }
    let (renamed, email) = contacts
        .iter()
        .filter_map(|c| {
            let company = companies
                .iter()
                .find(|x| Some(&x.id) == c.company_id.as_ref())?;
            let email = c.emails.iter().find(|e| email_count[e.as_str()] == 1)?;
            (unique(&company) && company.id != exact.id && company.id != suffixed.id)
                .then_some((company, email.clone()))
        })
        .next()
        .expect("a contact with an e-mail of its own");

    let customers = vec![
        customer("t-exact", &exact.name, &[]),
        customer("t-suffix", &suffixed.name.replace(" LLC", " GmbH"), &[]),
        customer("t-renamed", "Entirely New Name Holdings", &[&email]),
        customer("t-twins", same_name, &[]),
        customer("t-nobody", "Nonexistent Widgets GmbH", &["owner@gmail.com"]),
        Customer {
            phones: vec!["+44 20 7946 0000".into()],
            ..customer("t-nobody-2", "Zyxwv Quarry Ltd", &[])
        },
    ];
    let matcher = Matcher::new(default_rules(), &[]).unwrap();

    let dry = link_customers(store.as_ref(), "acme", &matcher, &customers, true)
        .await
        .unwrap();
    assert_eq!(
        outcome(&dry, "t-exact"),
        ("matched:name".into(), Some(exact.id.clone()), vec![])
    );
    assert_eq!(
        outcome(&dry, "t-suffix"),
        ("matched:name".into(), Some(suffixed.id.clone()), vec![])
    );
    assert_eq!(
        outcome(&dry, "t-renamed"),
        ("matched:email".into(), Some(renamed.id.clone()), vec![])
    );
    let mut twin_ids: Vec<String> = twins.iter().map(|s| s.to_string()).collect();
    let (what, company, mut candidates) = outcome(&dry, "t-twins");
    candidates.sort();
    twin_ids.sort();
    assert_eq!(
        (what.as_str(), company, candidates),
        ("ambiguous:name", None, twin_ids)
    );
    for nobody in ["t-nobody", "t-nobody-2"] {
        assert_eq!(outcome(&dry, nobody), ("none:-".into(), None, vec![]));
    }
    assert_eq!(
        (dry.matched, dry.ambiguous, dry.none, dry.errors),
        (3, 1, 2, 0)
    );
    assert!(dry.customers.iter().all(|c| !c.stored));
    assert!(
        list_links(store.as_ref(), "acme", None, 0)
            .await
            .unwrap()
            .is_empty(),
        "a dry run stores nothing"
    );

    // The evidence says which fields agreed; eligibility is the eligible view's.
    let renamed_link = dry
        .customers
        .iter()
        .find(|c| c.customer_id == "t-renamed")
        .unwrap();
    let m = renamed_link.company.as_ref().unwrap();
    assert!(
        m.evidence.iter().any(|e| e.identifier == "email"
            && e.customer_value == email
            && e.company_value == email),
        "{:?}",
        m.evidence
    );
    let eligibility: HashMap<String, bool> = views::eligible_from_store(store.as_ref(), "acme")
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.company_id, e.eligible))
        .collect();
    for c in &dry.customers {
        for m in c.company.iter().chain(&c.candidates) {
            assert_eq!(m.eligible, eligibility[&m.company_id], "{}", m.company_id);
            assert_eq!(m.ineligible.is_some(), !m.eligible);
        }
    }

    // For real: the three matches are stored, listed, and one whose company the PSA deleted
    // is reported as such after the next full sweep.
    let real = link_customers(store.as_ref(), "acme", &matcher, &customers, false)
        .await
        .unwrap();
    let stored: Vec<&str> = real
        .customers
        .iter()
        .filter(|c| c.stored)
        .map(|c| c.customer_id.as_str())
        .collect();
    assert_eq!(stored, ["t-exact", "t-suffix", "t-renamed"]);
    let links = list_links(store.as_ref(), "acme", None, 0).await.unwrap();
    let listed: Vec<(&str, &str, &str, &str)> = links
        .iter()
        .map(|l| {
            (
                l.customer_id.as_str(),
                l.company_id.as_str(),
                l.decided_by.as_str(),
                l.status.as_str(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("t-exact", exact.id.as_str(), "name", "linked"),
            ("t-renamed", renamed.id.as_str(), "email", "linked"),
            ("t-suffix", suffixed.id.as_str(), "name", "linked"),
        ]
    );
    assert!(
        sim.state()
            .delete(psa_sim::Entity::Company, exact.id.parse().unwrap())
    );
    engine
        .sync_entity(&conn, Entity::Companies, SyncRequest::full(), &NoProgress)
        .await
        .unwrap();
    let links = list_links(store.as_ref(), "acme", None, 0).await.unwrap();
    assert_eq!(links[0].customer_id, "t-exact");
    assert_eq!(links[0].status, "company-deleted", "{links:?}");
    assert_eq!(links[1].status, "linked");

    assert!(
        remove_link(store.as_ref(), "acme", "t-exact")
            .await
            .unwrap()
    );
    assert!(
        !remove_link(store.as_ref(), "acme", "t-exact")
            .await
            .unwrap(),
        "already removed"
    );
    assert_eq!(
        list_links(store.as_ref(), "acme", None, 0)
            .await
            .unwrap()
            .len(),
        2
    );
}

/// A custom rule below the name identifier judges two companies of one name: when it fails
/// (the hostile rule traps) that customer's result is an error naming it, nothing is stored,
/// and the other customers are decided as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_custom_rule_is_an_error_in_the_report_never_a_link() {
    let sim = simulator(200, Some(0)).await;
    let (_, store, _, companies) = synced(&sim).await;
    let mut by_key: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for c in &companies {
        by_key
            .entry(company_name(&c.name).unwrap())
            .or_default()
            .push(&c.name);
    }
    let (_, twins) = by_key
        .iter()
        .find(|(_, names)| names.len() == 2)
        .expect("two companies of one name");
    let (_, single) = by_key
        .iter()
        .find(|(_, names)| names.len() == 1)
        .expect("a company of a unique name");

    let rules = psahost_matching::rules::RuleSet::from_toml(
        &psahost_workflows::linking::customers::DEFAULT_RULES.replacen(
            "[[identifier]]\nname = \"domain\"",
            "[[identifier]]\nrule = \"hostile-rule\"\ncandidates = \"preselected\"\n\n[[identifier]]\nname = \"domain\"",
            1,
        ),
        std::path::Path::new("customers.toml"),
    )
    .unwrap();
    let runtime = psahost_sandbox::runtime::Runtime::new(psahost_sandbox::runtime::RuntimeConfig {
        cache_dir: Some(psahost_testkit::cache_dir()),
        call_timeout: std::time::Duration::from_secs(5),
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
    let matcher = Matcher::new(rules, &[rule]).unwrap();
    let customers = vec![
        Customer {
            address: Some("trap".into()),
            ..customer("t-trapped", twins[0], &[])
        },
        customer("t-twins", twins[0], &[]),
        customer("t-single", single[0], &[]),
    ];
    // The index kept for the default rules serves this rule set too (they differ only in the
    // custom rule), and the custom rule is still asked.
    let indexes = psahost_workflows::linking::kept::CompanyIndexes::new(2);
    let default = Matcher::new(default_rules(), &[]).unwrap();
    let plain = link_customers_kept(store.as_ref(), "acme", &default, &indexes, &customers, true)
        .await
        .unwrap();
    assert_eq!(outcome(&plain, "t-twins").0, "ambiguous:name");
    let report = link_customers_kept(
        store.as_ref(),
        "acme",
        &matcher,
        &indexes,
        &customers,
        false,
    )
    .await
    .unwrap();
    assert_eq!(indexes.stats().cold_builds, 1);
    let trapped = &report.customers[0];
    assert_eq!(trapped.outcome, "error");
    assert!(!trapped.stored && trapped.company.is_none());
    let error = trapped.error.as_deref().unwrap_or_default();
    assert!(error.contains("plugin `hostile-rule` crashed"), "{error}");
    // Well-behaved, the hostile rule matches both: still ambiguous, never a guess.
    assert_eq!(outcome(&report, "t-twins").0, "ambiguous:hostile-rule");
    assert_eq!(outcome(&report, "t-single").0, "matched:name");
    assert_eq!((report.matched, report.ambiguous, report.errors), (1, 1, 1));
    let stored: Vec<String> = list_links(store.as_ref(), "acme", None, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.customer_id)
        .collect();
    assert_eq!(stored, ["t-single"]);
}

/// A kept index follows the change feed: after a sync that changes one company, the next
/// request rebuilds that one candidate, and answers as an index built from the whole store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_index_applies_only_the_changed_companies() {
    use psahost_workflows::linking::kept::{CompanyIndexes, IndexStats};

    let sim = simulator(200, Some(0)).await;
    let (conn, store, engine, companies) = synced(&sim).await;
    // Every company by its name, and one name no company has.
    let mut customers: Vec<Customer> = companies
        .iter()
        .map(|c| customer(&format!("t-{}", c.id), &c.name, &[]))
        .collect();
    customers.push(customer("t-nobody", "Nonexistent Widgets GmbH", &[]));
    let matcher = Matcher::new(default_rules(), &[]).unwrap();
    let indexes = CompanyIndexes::new(2);
    let kept = async || {
        link_customers_kept(store.as_ref(), "acme", &matcher, &indexes, &customers, true)
            .await
            .unwrap()
    };
    let cold = async || {
        link_customers(store.as_ref(), "acme", &matcher, &customers, true)
            .await
            .unwrap()
    };

    let first = kept().await;
    assert_eq!(first, cold().await);
    assert_eq!(
        indexes.stats(),
        IndexStats {
            cold_builds: 1,
            ..IndexStats::default()
        }
    );
    assert_eq!(kept().await, first, "nothing changed");
    assert_eq!(
        (
            indexes.stats().warm_requests,
            indexes.stats().candidates_rebuilt
        ),
        (1, 0)
    );

    // The PSA edits one company: an incremental sync stores one change.
    let edited: u64 = companies[3].id.parse().unwrap();
    assert!(sim.state().touch(psa_sim::Entity::Company, edited));
    engine
        .sync_entity(
            &conn,
            Entity::Companies,
            SyncRequest::incremental(),
            &NoProgress,
        )
        .await
        .unwrap();
    assert_eq!(kept().await, cold().await);
    assert_eq!(
        (
            indexes.stats().warm_requests,
            indexes.stats().candidates_rebuilt
        ),
        (2, 1)
    );

    // The PSA deletes a matched company: its customer no longer matches it, warm or cold.
    let gone = &first
        .customers
        .iter()
        .find(|c| c.outcome == "matched")
        .expect("a matched customer")
        .customer_id;
    let gone_id = gone.trim_start_matches("t-").to_string();
    assert!(
        sim.state()
            .delete(psa_sim::Entity::Company, gone_id.parse().unwrap())
    );
    engine
        .sync_entity(&conn, Entity::Companies, SyncRequest::full(), &NoProgress)
        .await
        .unwrap();
    let after = kept().await;
    assert_eq!(after, cold().await);
    assert_eq!(
        indexes.stats(),
        IndexStats {
            cold_builds: 1,
            warm_requests: 3,
            candidates_rebuilt: 2,
            evicted: 0,
        }
    );
    let now = after
        .customers
        .iter()
        .find(|c| &c.customer_id == gone)
        .unwrap();
    assert!(
        now.company.as_ref().is_none_or(|m| m.company_id != gone_id),
        "{now:?}"
    );

    // A contact leaves the PSA: its company's candidate (its e-mails) is rebuilt, that one.
    let contact = load_all(
        store.as_ref(),
        "acme",
        Entity::Contacts,
        records::contact_from_json,
    )
    .await
    .unwrap()
    .into_iter()
    .find(|c| {
        // Of a company in the store (not every contact's company is), not the gone one.
        c.company_id
            .as_ref()
            .is_some_and(|id| *id != gone_id && companies.iter().any(|x| x.id == *id))
            && !c.emails.is_empty()
    })
    .expect("a contact with an e-mail and a company");
    assert!(
        sim.state()
            .delete(psa_sim::Entity::Contact, contact.id.parse().unwrap())
    );
    engine
        .sync_entity(&conn, Entity::Contacts, SyncRequest::full(), &NoProgress)
        .await
        .unwrap();
    let after = kept().await;
    assert_eq!(after, cold().await);
    assert_eq!(
        (
            indexes.stats().warm_requests,
            indexes.stats().candidates_rebuilt
        ),
        (4, 3)
    );

    // Bounded: two more connections' indexes evict the least recently used.
    for other in ["other-1", "other-2"] {
        link_customers_kept(
            store.as_ref(),
            other,
            &matcher,
            &indexes,
            &customers[..1],
            true,
        )
        .await
        .unwrap();
    }
    assert_eq!((indexes.len(), indexes.stats().evicted), (2, 1));
    assert_eq!(kept().await, after);
    assert_eq!(indexes.stats().cold_builds, 4, "acme's was evicted");
}
