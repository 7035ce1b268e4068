//! Autotask datasets: every entity pages through all its records, counts, filters on its own
//! last-modified field where it has one, and reads by id; company locations by company; the
//! forms of date-times; company classification, market segment and parent.

use std::collections::HashSet;

use psa_sim::{DataSet, Id};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::datetime;

use super::common::autotask::{At, ids, start};

const CUTOFF: OffsetDateTime = datetime!(2025-06-01 0:00 UTC);
const CUTOFF_TEXT: &str = "2025-06-01T00:00:00Z";

/// (entity, updated-since field, every served record's (id, last change)).
type Expected = (
    &'static str,
    Option<&'static str>,
    Vec<(Id, OffsetDateTime)>,
);

fn expected(d: &DataSet) -> Vec<Expected> {
    let ds = &d.datasets;
    // Entities without a change time: a placeholder, never compared.
    let never = OffsetDateTime::UNIX_EPOCH;
    vec![
        (
            "TimeEntries",
            Some("lastModifiedDateTime"),
            ds.time_entries
                .values()
                .map(|r| (r.id, r.info.last_updated))
                .collect(),
        ),
        (
            "Opportunities",
            Some("lastActivity"),
            ds.opportunities
                .values()
                .map(|r| (r.id, r.info.last_updated))
                .collect(),
        ),
        (
            "Projects",
            Some("lastActivityDateTime"),
            ds.projects
                .values()
                .map(|r| (r.id, r.info.last_updated))
                .collect(),
        ),
        (
            "Tasks",
            Some("lastActivityDateTime"),
            ds.project_tasks
                .values()
                .map(|r| (r.id, r.info.last_updated))
                .collect(),
        ),
        (
            "CompanyNotes",
            Some("lastModifiedDate"),
            ds.company_notes
                .values()
                .filter(|r| d.company_live(r.company_id))
                .map(|r| (r.id, r.info.last_updated))
                .collect(),
        ),
        (
            "Invoices",
            None,
            ds.invoices.keys().map(|id| (*id, never)).collect(),
        ),
        (
            "Resources",
            None,
            ds.members.keys().map(|id| (*id, never)).collect(),
        ),
        (
            "ContractBlocks",
            None,
            ds.contract_blocks.keys().map(|id| (*id, never)).collect(),
        ),
        (
            "ServiceLevelAgreementResults",
            None,
            ds.sla_results.keys().map(|id| (*id, never)).collect(),
        ),
        (
            "SurveyResults",
            None,
            ds.survey_results.keys().map(|id| (*id, never)).collect(),
        ),
        (
            "CompanyLocations",
            None,
            ds.sites
                .values()
                .filter(|s| d.company_live(s.company_id))
                .map(|s| (s.id, never))
                .collect(),
        ),
    ]
}

async fn count(at: &At, entity: &str, filter: Value) -> u64 {
    let r = at
        .post(&format!("{entity}/query/count"), &json!({"filter": filter}))
        .await;
    assert_eq!(r.status, 200, "{entity}: {}", r.body);
    r.json()["queryCount"].as_u64().unwrap()
}

#[tokio::test]
async fn every_dataset_pages_filters_counts_and_reads_by_id() {
    let sim = start(50, 1).await;
    let at = At::new(&sim);
    let lists = sim.state().read(expected);
    let all = json!([{"op": "gt", "field": "id", "value": 0}]);
    for (entity, updated, records) in lists {
        let want: Vec<Id> = records.iter().map(|r| r.0).collect();
        assert!(want.len() >= 2, "{entity} has records");
        let (items, pages) = at.query_all(entity, 7, all.clone()).await;
        assert_eq!(ids(&items), want, "{entity}: every record once, by id");
        assert_eq!(pages, want.len().div_ceil(7), "{entity}");
        assert_eq!(count(&at, entity, all.clone()).await, want.len() as u64);
        let one = at.item(entity, want[1]).await;
        assert_eq!(one, items[1], "{entity} by id");
        assert!(at.item(entity, 1).await.is_null(), "{entity}: no record 1");
        let fields = at
            .get(&format!("{entity}/entityInformation/fields"))
            .await
            .json();
        let names: HashSet<&str> = fields["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        for key in items[0].as_object().unwrap().keys() {
            assert!(
                names.contains(key.as_str()) || key == "userDefinedFields",
                "{entity}.{key} is described"
            );
        }
        let Some(field) = updated else { continue };
        let recent: Vec<Id> = records
            .iter()
            .filter(|r| r.1 >= CUTOFF)
            .map(|r| r.0)
            .collect();
        assert!(
            !recent.is_empty() && recent.len() < want.len(),
            "{entity}: the cutoff splits the records"
        );
        let since = json!([{"op": "gte", "field": field, "value": CUTOFF_TEXT}]);
        let (items, _) = at.query_all(entity, 500, since.clone()).await;
        assert_eq!(ids(&items), recent, "{entity} updated since the cutoff");
        assert_eq!(count(&at, entity, since).await, recent.len() as u64);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn company_locations_are_filtered_by_company() {
    let sim = start(50, 1).await;
    let at = At::new(&sim);
    let (a, b, of_a, of_both) = sim.state().read(|d| {
        let live: Vec<Id> = d
            .companies
            .values()
            .filter(|c| !c.deleted)
            .map(|c| c.id)
            .take(2)
            .collect();
        let of = |c: Id| d.datasets.sites_of(c).map(|s| s.id).collect::<Vec<_>>();
        let mut both = of(live[0]);
        both.extend(of(live[1]));
        both.sort_unstable();
        (live[0], live[1], of(live[0]), both)
    });
    let (items, _) = at
        .query_all(
            "CompanyLocations",
            500,
            json!([{"op": "eq", "field": "companyID", "value": a}]),
        )
        .await;
    assert_eq!(ids(&items), of_a);
    assert_eq!(
        items.iter().filter(|l| l["isPrimary"] == true).count(),
        1,
        "one primary location"
    );
    let (items, _) = at
        .query_all(
            "CompanyLocations",
            500,
            json!([{"op": "in", "field": "companyID", "value": [a, b]}]),
        )
        .await;
    assert_eq!(ids(&items), of_both);
    sim.shutdown().await;
}

#[tokio::test]
async fn date_times_come_in_several_forms_and_still_compare_as_instants() {
    let sim = start(50, 1).await;
    let at = At::new(&sim);
    let (items, _) = at
        .query_all(
            "TimeEntries",
            500,
            json!([{"op": "gt", "field": "id", "value": 0}]),
        )
        .await;
    let forms: HashSet<&str> = items
        .iter()
        .map(|e| {
            let t = e["lastModifiedDateTime"].as_str().unwrap();
            if t.ends_with(".000Z") {
                "millis"
            } else if t.ends_with('Z') {
                "zulu"
            } else if t.ends_with("+00:00") {
                "offset"
            } else {
                assert_eq!(t.len(), "2026-01-31T09:30:00.0000000".len(), "{t}");
                "dotnet"
            }
        })
        .collect();
    assert_eq!(forms.len(), 4, "{forms:?}");
    // One entry of each form, found by an equality filter on its exact instant.
    for entry in items.iter().take(12) {
        let text = entry["lastModifiedDateTime"].as_str().unwrap();
        let r = at
            .query(
                "TimeEntries",
                500,
                json!([{"op": "eq", "field": "lastModifiedDateTime", "value": text},
                       {"op": "eq", "field": "id", "value": entry["id"]}]),
            )
            .await;
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 1, "{text}");
    }
    // A company's dates also vary by record; filters on them agree with the data set.
    let created = sim.state().read(|d| {
        d.companies
            .values()
            .filter(|c| !c.deleted && c.date_entered >= datetime!(2020-01-01 0:00 UTC))
            .count() as u64
    });
    assert_eq!(
        count(
            &at,
            "Companies",
            json!([{"op": "gte", "field": "createDate", "value": "2020-01-01T00:00:00.0000000"}])
        )
        .await,
        created
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn companies_have_classification_market_segment_and_parents() {
    let sim = start(50, 1).await;
    let at = At::new(&sim);
    let (items, _) = at
        .query_all(
            "Companies",
            500,
            json!([{"op": "gt", "field": "id", "value": 0}]),
        )
        .await;
    let parents: Vec<&Value> = items
        .iter()
        .filter(|c| !c["parentCompanyID"].is_null())
        .collect();
    assert!(!parents.is_empty() && parents.len() < items.len() / 4);
    for child in parents {
        let parent = at
            .item("Companies", child["parentCompanyID"].as_u64().unwrap())
            .await;
        assert!(
            parent.is_object(),
            "the parent of {} is served",
            child["id"]
        );
    }
    assert!(items.iter().any(|c| c["classification"] == 1));
    assert!(items.iter().any(|c| c["marketSegmentID"] == 3));
    let fields = at.get("Companies/entityInformation/fields").await.json();
    let classification = fields["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "classification")
        .unwrap()
        .clone();
    assert_eq!(classification["isPickList"], true);
    assert_eq!(
        classification["picklistValues"][1]["label"], "Break/Fix",
        "{classification}"
    );
    sim.shutdown().await;
}
