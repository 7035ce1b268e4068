//! The connector's operations run natively against the SDK's fake host (`psa_sdk::fake`):
//! `nextPageUrl` followed with the SDK's next-URL pager, keyset pages, throttling.

use super::*;
use psa_sdk::fake::FakeHost;
use psa_sdk::http::Method;
use serde_json::json;

const ZONE: &str = "https://webservices2.autotask.net/atservicesrest";

fn connected() -> FakeHost {
    let host = FakeHost::new();
    host.setting("username", "api@acme.example")
        .setting("secret", "s3cretVALUE")
        .setting("integration-code", "TRACKING4INTEGRATION")
        .setting("zone-url", ZONE);
    host
}

fn page(items: Value, next: Option<&str>) -> Value {
    json!({"items": items, "pageDetails": {"count": 1, "requestCount": 500, "prevPageUrl": null, "nextPageUrl": next}})
}

#[test]
fn contract_services_follow_next_page_urls() {
    let host = connected();
    let next = format!("{ZONE}/V1.0/Services/query/next?paging=abc");
    host.on(Method::Post, &format!("{ZONE}/V1.0/Services/query"))
        .reply_json(
            200,
            &page(json!([{"id": 1, "name": "Backup"}]), Some(&next)),
        );
    host.on(Method::Post, &next).reply_json(
        200,
        &page(
            json!([{"id": 2, "name": "Monitoring", "isActive": false}]),
            None,
        ),
    );
    let services = Autotask::list_references(ReferenceKind::ContractService).unwrap();
    let read: Vec<(&str, &str, bool)> = services
        .iter()
        .map(|r| (r.id.as_str(), r.name.as_str(), r.active))
        .collect();
    assert_eq!(read, [("1", "Backup", true), ("2", "Monitoring", false)]);
    let sent = host.requests();
    assert_eq!(sent.len(), 2);
    // The same query re-posted to the next page, with the API user's headers.
    assert_eq!(sent[1].body_json(), sent[0].body_json());
    for r in &sent {
        assert_eq!(r.header("UserName"), Some("api@acme.example"));
        assert_eq!(r.header("ApiIntegrationCode"), Some("TRACKING4INTEGRATION"));
        assert_eq!(
            (r.endpoint.as_deref(), r.retryable),
            (Some("Services"), Some(true))
        );
    }
}

#[test]
fn a_next_page_on_another_origin_is_refused() {
    let host = connected();
    host.on(Method::Post, &format!("{ZONE}/V1.0/Services/query"))
        .reply_json(
            200,
            &page(
                json!([{"id": 1, "name": "Backup"}]),
                Some("https://evil.example/V1.0/Services/query/next?paging=abc"),
            ),
        );
    match Autotask::list_references(ReferenceKind::ContractService).unwrap_err() {
        Error::Remote(p) => assert_eq!(p.code.as_deref(), Some("malformed-response")),
        other => panic!("{other:?}"),
    }
    // The credentials never went there.
    assert_eq!(host.requests().len(), 1);
}

#[test]
fn companies_by_keyset_and_throttling_is_rate_limited() {
    let host = connected();
    host.on(Method::Post, &format!("{ZONE}/V1.0/Companies/query"))
        .times(1)
        .reply_json(
            200,
            &page(
                json!([{"id": 174, "companyName": "Alpha"}, {"id": 250, "companyName": "Beta"}]),
                Some(&format!("{ZONE}/V1.0/Companies/query/next?paging=x")),
            ),
        );
    host.on(Method::Post, &format!("{ZONE}/V1.0/Companies/query/count"))
        .reply(200, r#"{"queryCount": 7}"#);
    host.on(Method::Post, &format!("{ZONE}/V1.0/Companies/query"))
        .reply_json(
            500,
            &json!({"errors": ["The request was rejected: thread threshold of 3 exceeded for Companies"]}),
        );
    let request = PageRequest {
        cursor: None,
        updated_since: None,
        page_size: 2,
    };
    let first = Autotask::list_companies(request.clone()).unwrap();
    let cursor = first.next_cursor.expect("a second page");
    assert_eq!(cursor, "v=1&e=companies&size=2&after=250");
    // The sweep's count, with the first page's filter, once.
    assert_eq!(first.total, Some(7));
    assert_eq!(
        host.requests()[1].body_json()["Filter"],
        json!([{"op": "gt", "field": "id", "value": 0}])
    );
    let e = Autotask::list_companies(PageRequest {
        cursor: Some(cursor),
        ..request
    })
    .unwrap_err();
    assert_eq!(e.kind(), "rate-limited");
    // The second page asked for the records after the first page's last id.
    let filter = host.requests()[2].body_json()["Filter"].clone();
    assert_eq!(filter, json!([{"op": "gt", "field": "id", "value": 250}]));
}

#[test]
fn one_company_from_its_item_envelope() {
    let host = connected();
    host.on(Method::Get, &format!("{ZONE}/V1.0/Companies/174"))
        .reply(200, r#"{"item": {"id": 174, "companyName": "Alpha"}}"#);
    host.on(Method::Get, &format!("{ZONE}/V1.0/Companies/175"))
        .reply(200, r#"{"item": null}"#);
    host.on(Method::Get, &format!("{ZONE}/V1.0/Companies/176"))
        .reply(200, r#"{"items": []}"#);
    assert_eq!(Autotask::get_company("174".into()).unwrap().name, "Alpha");
    assert_eq!(
        Autotask::get_company("175".into()).unwrap_err(),
        Error::not_found("company 175 was not found in Autotask")
    );
    match Autotask::get_company("176".into()).unwrap_err() {
        Error::Remote(p) => assert!(p.message.contains("without `item`"), "{}", p.message),
        other => panic!("{other:?}"),
    }
}

#[test]
fn time_entries_by_keyset_with_their_count() {
    let host = connected();
    host.on(Method::Post, &format!("{ZONE}/V1.0/TimeEntries/query"))
        .reply(200, include_str!("../tests/data/time_entries.json"));
    host.on(
        Method::Post,
        &format!("{ZONE}/V1.0/TimeEntries/query/count"),
    )
    .reply(200, r#"{"queryCount": 5}"#);
    let page = Autotask::list_dataset(
        "time-entries".into(),
        PageRequest {
            cursor: None,
            updated_since: Some("2026-03-01T00:00:00Z".into()),
            page_size: 2,
        },
    )
    .unwrap();
    let read: Vec<(&str, Option<&str>)> = page
        .items
        .iter()
        .map(|r| (r.id.as_str(), r.updated_at.as_deref()))
        .collect();
    // Seven fraction digits without an offset (UTC), and two with one.
    assert_eq!(
        read,
        [
            ("30001", Some("2026-03-02T10:31:12Z")),
            ("30007", Some("2026-03-02T19:05:00Z"))
        ]
    );
    // The record's own text.
    assert!(page.items[0].raw.starts_with("{\n      \"id\": 30001,"));
    assert_eq!(page.total, Some(5));
    assert_eq!(
        page.next_cursor.as_deref(),
        Some("v=1&e=time-entries&size=2&after=30007&since=2026-03-01T00%3A00%3A00Z")
    );
    let sent = host.requests();
    assert_eq!(
        sent[0].body_json(),
        json!({
            "MaxRecords": 2,
            "IncludeFields": [],
            "Filter": [
                {"op": "gte", "field": "lastModifiedDateTime", "value": "2026-03-01T00:00:00Z"},
                {"op": "gt", "field": "id", "value": 0}
            ]
        })
    );
    assert_eq!(sent[1].body_json()["Filter"], sent[0].body_json()["Filter"]);
}

#[test]
fn a_dataset_without_modification_time_sweeps_in_full() {
    let host = connected();
    host.on(
        Method::Post,
        &format!("{ZONE}/V1.0/ServiceLevelAgreementResults/query"),
    )
    .reply(200, include_str!("../tests/data/sla_results.json"));
    let page = Autotask::list_dataset(
        "sla-results".into(),
        PageRequest {
            cursor: None,
            updated_since: Some("2026-03-01T00:00:00Z".into()),
            page_size: 0,
        },
    )
    .unwrap();
    assert_eq!(page.items[0].id, "88");
    assert_eq!(page.items[0].updated_at, None);
    // One page: its records are the total, without a count request.
    assert_eq!((page.next_cursor, page.total), (None, Some(1)));
    let sent = host.requests();
    assert_eq!(sent.len(), 1);
    // No updated-since filter: the entity has no modification time.
    assert_eq!(
        sent[0].body_json()["Filter"],
        json!([{"op": "gt", "field": "id", "value": 0}])
    );
    assert_eq!(sent[0].body_json()["MaxRecords"], 500);
    match Autotask::list_dataset(
        "sla".into(),
        PageRequest {
            cursor: None,
            updated_since: None,
            page_size: 0,
        },
    )
    .unwrap_err()
    {
        Error::InvalidInput(p) => assert_eq!(p.field, "dataset"),
        other => panic!("{other:?}"),
    }
}
