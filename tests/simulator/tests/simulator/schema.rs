//! Every record the ConnectWise and Autotask dialects serve, validated against the vendor's JSON
//! schema of it: each entity and dataset, listed and read by id. The schemas are test data
//! extracted from the vendor descriptions by `schemas/extract.py` (see `schemas/README.md`);
//! `schemas/index.json` names the endpoints and their schemas. Kaseya BMS has no vendor
//! description, so it has no schema test.

use std::collections::BTreeMap;
use std::path::PathBuf;

use jsonschema::Validator;
use psa_sim::{DataSet, Id};
use serde_json::{Value, json};

use super::common::autotask::{self, At};
use super::common::{Client, start};

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/simulator/schemas")
}

/// The endpoints of a vendor and their schema names, from `index.json`.
fn index(vendor: &str) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(schemas_dir().join("index.json")).expect("index.json");
    let index: Value = serde_json::from_str(&text).expect("index.json is JSON");
    serde_json::from_value(index[vendor].clone()).expect("a map of endpoints")
}

/// Fields the simulator serves that the vendor description lacks, on purpose.
const NEWER_FIELDS: &[(&str, &str)] = &[
    // Autotask added it after the 2024-04 Swagger; tenants answer with it, connectors read it.
    ("TicketNoteModel", "createdByContactID"),
    // Served since contract 0.1.0 and read by the connector (which falls back to
    // invoiceDescription, the 2026.4 description's name); kept so older builds keep working.
    ("Addition", "description"),
];

/// The validator of `vendor/name.json`: date-time and other formats are checked, and a record
/// has no field the schema does not name (a misspelt field fails).
fn validator(vendor: &str, name: &str) -> Validator {
    let path = schemas_dir().join(vendor).join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut schema: Value = serde_json::from_str(&text).expect("a JSON schema");
    // A required field is a field, even where the description forgot to list it (ConnectWise's
    // CatalogItem.description).
    let required: Vec<String> =
        serde_json::from_value(schema["required"].clone()).unwrap_or_default();
    let newer = NEWER_FIELDS
        .iter()
        .filter(|(s, _)| *s == name)
        .map(|(_, f)| f.to_string());
    for field in required.into_iter().chain(newer) {
        if schema["properties"].get(&field).is_none() {
            schema["properties"][field] = json!({});
        }
    }
    schema["additionalProperties"] = json!(false);
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every violation of `record`, one line each.
fn violations(validator: &Validator, what: &str, record: &Value) -> Vec<String> {
    validator
        .iter_errors(record)
        .map(|e| format!("{what}: {} at '{}'", e, e.instance_path()))
        .collect()
}

fn report(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{} violations, the first ones:\n{}",
        problems.len(),
        problems
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The parent id of a path with `{parentId}`: a record with children of that kind.
fn parent(d: &DataSet, path: &str) -> Id {
    if path.starts_with("finance/agreements/") {
        *d.agreements.keys().next().unwrap()
    } else if path.starts_with("service/tickets/") {
        d.notes.values().next().unwrap().ticket_id
    } else if path.starts_with("service/boards/") {
        1
    } else {
        // A company with several notes and sites.
        d.companies
            .keys()
            .copied()
            .find(|c| d.datasets.notes_of(*c).count() >= 2 && d.datasets.sites_of(*c).count() >= 2)
            .unwrap()
    }
}

fn has_contacts(sim: &psa_sim::Simulator, company: &Value) -> bool {
    let company = company.as_u64().unwrap_or(0);
    sim.state()
        .read(|d| d.contacts.values().any(|c| c.company_id == company))
}

#[tokio::test]
async fn connectwise_records_match_the_vendor_schemas() {
    let sim = start(50, 1).await;
    let client = Client::new(&sim);
    let mut problems = Vec::new();
    let mut validated = 0;
    for (template, name) in index("connectwise") {
        let v = validator("connectwise", &name);
        let path = template.replace(
            "{parentId}",
            &sim.state().read(|d| parent(d, &template)).to_string(),
        );
        // Deleted companies too: they are served by id and with a deletedFlag condition.
        let query = if path == "company/companies" {
            "?pageSize=1000&conditions=deletedFlag%20=%20true%20or%20deletedFlag%20=%20false"
        } else {
            "?pageSize=1000"
        };
        let mut url = client.url(&format!("{path}{query}"));
        let mut records = Vec::new();
        loop {
            let r = client.get_url(&url, &[]).await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            records.extend(r.json().as_array().unwrap().clone());
            match r.link("next") {
                Some(next) => url = next,
                None => break,
            }
        }
        assert!(!records.is_empty(), "{path} lists records");
        let cw_violations = |what: String, record: &Value| {
            let mut found = violations(&v, &what, record);
            // The one known gap: ConnectWise requires an agreement's contact, but the data set
            // has companies without contacts, and their agreements have none to name.
            if path == "finance/agreements" && !has_contacts(&sim, &record["company"]["id"]) {
                found.retain(|p| !p.ends_with("\"contact\" is a required property at ''"));
            }
            found
        };
        for record in &records {
            problems.extend(cw_violations(format!("{path} {}", record["id"]), record));
        }
        for record in records.iter().take(5) {
            let r = client.get(&format!("{path}/{}", record["id"])).await;
            assert_eq!(r.status, 200, "{path}/{}: {}", record["id"], r.body);
            problems.extend(cw_violations(format!("{path}/{}", record["id"]), &r.json()));
        }
        validated += records.len();
    }
    assert!(validated > 1000, "{validated} records validated");
    report(&problems);
    sim.shutdown().await;
}

#[tokio::test]
async fn autotask_records_match_the_vendor_schemas() {
    let sim = autotask::start(50, 1).await;
    let at = At::new(&sim);
    let mut problems = Vec::new();
    let mut validated = 0;
    for (entity, name) in index("autotask") {
        let v = validator("autotask", &name);
        let (items, _) = at
            .query_all(
                &entity,
                500,
                json!([{"op": "gt", "field": "id", "value": 0}]),
            )
            .await;
        assert!(!items.is_empty(), "{entity} has records");
        for item in &items {
            problems.extend(violations(&v, &format!("{entity} {}", item["id"]), item));
        }
        for item in items.iter().take(5) {
            let id = item["id"].as_u64().unwrap();
            let one = at.item(&entity, id).await;
            problems.extend(violations(&v, &format!("{entity}/{id}"), &one));
        }
        validated += items.len();
    }
    assert!(validated > 1000, "{validated} records validated");
    report(&problems);
    sim.shutdown().await;
}

#[test]
fn a_wrong_record_fails_validation() {
    let time_entry = validator("connectwise", "TimeEntry");
    let good = json!({"id": 1, "timeStart": "2026-01-31T09:30:00Z", "chargeToType": "ServiceTicket",
        "member": {"id": 5, "identifier": "jsmith", "name": "J Smith"}, "actualHours": 1.5});
    assert!(violations(&time_entry, "good", &good).is_empty());
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("timeStart");
    assert!(
        !violations(&time_entry, "missing", &missing).is_empty(),
        "required timeStart"
    );
    let mut null_string = good.clone();
    null_string["timeStart"] = Value::Null;
    assert!(
        !violations(&time_entry, "null", &null_string).is_empty(),
        "no null strings"
    );
    let mut bad_enum = good.clone();
    bad_enum["chargeToType"] = json!("Ticket");
    assert!(
        !violations(&time_entry, "enum", &bad_enum).is_empty(),
        "enum"
    );
    let mut bad_time = good;
    bad_time["timeStart"] = json!("31/01/2026");
    assert!(
        !violations(&time_entry, "format", &bad_time).is_empty(),
        "date-time format"
    );

    let mut misspelt = json!({"id": 1, "timeStart": "2026-01-31T09:30:00Z"});
    misspelt["timestart"] = json!("2026-01-31T09:30:00Z");
    assert!(
        !violations(&time_entry, "name", &misspelt).is_empty(),
        "unknown field"
    );

    let company = validator("autotask", "CompanyModel");
    assert!(
        violations(
            &company,
            "good",
            &json!({"id": 1, "classification": null, "parentCompanyID": 7})
        )
        .is_empty()
    );
    assert!(
        !violations(
            &company,
            "type",
            &json!({"id": 1, "parentCompanyID": "seven"})
        )
        .is_empty()
    );
}
