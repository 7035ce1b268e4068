//! The connector's operations run natively against the SDK's fake host (`psa_sdk::fake`):
//! scripted ConnectWise answers, the requests the connector sent, what it cached in kv.

use super::*;
use psa_sdk::fake::{FakeHost, HttpError};
use serde_json::Value;

const SITE: &str = "https://cw.example";
const API: &str = "https://cw.example/v4_6_release/apis/3.0";
const PRIVATE_KEY: &str = "privSECRET456";

/// A fake host with the connection's settings and the codebase discovery answered.
fn connected() -> FakeHost {
    let host = FakeHost::new();
    host.setting("site", SITE)
        .setting("company-id", "acme")
        .setting("public-key", "pubKEY123")
        .setting("private-key", PRIVATE_KEY)
        .setting("client-id", "0d4a4b8e-0000-4000-8000-000000000001");
    host.on(Method::Get, &format!("{SITE}/login/companyinfo/acme"))
        .reply_json(
            200,
            &json!({"CompanyName": "Acme MSP", "Codebase": "v4_6_release/", "VersionCode": "v2026.4", "IsCloud": true}),
        );
    host
}

/// The test data's companies, `range` of them, as ConnectWise's answer body.
fn companies(range: core::ops::Range<usize>) -> String {
    let all: Vec<Value> =
        serde_json::from_str(include_str!("../tests/data/companies.json")).unwrap();
    Value::Array(all[range].to_vec()).to_string()
}

fn request(cursor: Option<String>, since: Option<&str>, page_size: u32) -> PageRequest {
    PageRequest {
        cursor,
        updated_since: since.map(str::to_string),
        page_size,
    }
}

fn ids(page: &CompanyPage) -> Vec<&str> {
    page.items.iter().map(|c| c.id.as_str()).collect()
}

#[test]
fn lists_companies_over_two_pages() {
    let host = connected();
    host.on(Method::Get, &format!("{API}/company/companies?*&page=1"))
        .header(
            "link",
            &format!(r#"<{API}/company/companies?pageSize=2&page=2>; rel="next", <{API}/company/companies?pageSize=2&page=2>; rel="last""#),
        )
        .reply(200, companies(0..2));
    host.on(Method::Get, &format!("{API}/company/companies?*&page=2"))
        .header(
            "link",
            &format!(r#"<{API}/company/companies?pageSize=2&page=1>; rel="first""#),
        )
        .reply(200, companies(2..4));
    host.on(Method::Get, &format!("{API}/company/companies/count?*"))
        .reply(200, r#"{"count": 4}"#);

    let first =
        ConnectWiseManage::list_companies(request(None, Some("2026-01-01T01:00:00+01:00"), 2))
            .unwrap();
    assert_eq!(ids(&first), ["19", "20"]);
    // The sweep's count, on its first page only.
    assert_eq!(first.total, Some(4));
    let cursor = first.next_cursor.clone().expect("a second page");
    // The host passes other values with the cursor; the cursor's page size and filter rule.
    let second = ConnectWiseManage::list_companies(request(Some(cursor), None, 500)).unwrap();
    assert_eq!(ids(&second), ["21", "22"]);
    assert_eq!(second.next_cursor, None);
    assert_eq!(second.total, None);
    // Each record keeps ConnectWise's own object.
    assert!(
        first.items[0].raw.contains(r#""name""#),
        "{}",
        first.items[0].raw
    );

    let sent = host.requests();
    // Discovery once: the second call reads the codebase from kv.
    assert_eq!(
        sent.iter()
            .map(|r| r.url.split('?').next().unwrap_or_default())
            .collect::<Vec<_>>(),
        [
            format!("{SITE}/login/companyinfo/acme"),
            format!("{API}/company/companies"),
            format!("{API}/company/companies/count"),
            format!("{API}/company/companies"),
        ]
    );
    // The count has the sweep's conditions and nothing else.
    assert_eq!(
        sent[2].url,
        format!(
            "{API}/company/companies/count?conditions={}",
            psa_sdk::http::encode_component(
                "lastUpdated >= [2026-01-01T00:00:00Z] and deletedFlag = false"
            )
        )
    );
    assert_eq!(
        host.kv("codebase/https://cw.example/acme").as_deref(),
        Some(&b"v4_6_release/"[..])
    );
    let (p1, p2) = (&sent[1], &sent[3]);
    let conditions = "lastUpdated >= [2026-01-01T00:00:00Z] and deletedFlag = false";
    for (page, number) in [(p1, "1"), (p2, "2")] {
        assert_eq!(page.query("conditions").as_deref(), Some(conditions));
        assert_eq!(page.query("pageSize").as_deref(), Some("2"));
        assert_eq!(page.query("page").as_deref(), Some(number));
        assert_eq!(page.query("orderBy").as_deref(), Some("id asc"));
        // Basic base64("acme+pubKEY123:privSECRET456"), the clientId and the pinned version.
        assert_eq!(
            page.header("authorization"),
            Some("Basic YWNtZStwdWJLRVkxMjM6cHJpdlNFQ1JFVDQ1Ng==")
        );
        assert_eq!(
            page.header("clientid"),
            Some("0d4a4b8e-0000-4000-8000-000000000001")
        );
        assert_eq!(
            page.header("accept"),
            Some("application/vnd.connectwise.com+json; version=2026.4")
        );
    }
    assert!(host.unmatched().is_empty());
}

#[test]
fn rate_limit_is_rate_limited_with_retry_after() {
    let host = connected();
    host.on(Method::Get, &format!("{API}/company/companies?*"))
        .header("retry-after", "12")
        .reply(
            429,
            r#"{"code":"TooManyRequests","message":"Request rate limit exceeded"}"#,
        );
    let e = ConnectWiseManage::list_companies(request(None, None, 0)).unwrap_err();
    assert_eq!(
        e,
        Error::rate_limited(
            Some(12_000),
            "ConnectWise rate limit: Request rate limit exceeded"
        )
    );
    // Asked once: the host, not the connector, waits and retries.
    assert_eq!(host.requests().len(), 2);
}

#[test]
fn refused_key_names_the_setting_without_the_secret() {
    let host = connected();
    host.on(Method::Get, &format!("{API}/company/companies/count"))
        .reply(
            401,
            format!(r#"{{"code":"Unauthorized","message":"key {PRIVATE_KEY} is not valid"}}"#),
        );
    match ConnectWiseManage::test_connection().unwrap_err() {
        Error::Unauthorized(p) => {
            assert_eq!(p.settings, ["private-key", "public-key"]);
            assert!(
                p.message.contains("public key `pubKEY123`"),
                "{}",
                p.message
            );
            assert!(!p.message.contains(PRIVATE_KEY), "{}", p.message);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn moved_codebase_is_discovered_again() {
    let host = connected();
    // A codebase cached by an earlier call, which the site no longer serves.
    host.set_kv("codebase/https://cw.example/acme", b"v2025_1/");
    host.on(
        Method::Get,
        &format!("{SITE}/v2025_1/apis/3.0/company/companies/7"),
    )
    .reply(404, "");
    host.on(Method::Get, &format!("{API}/company/companies/7"))
        .reply(200, companies(0..1).trim_matches(['[', ']']).to_string());
    let company = ConnectWiseManage::get_company("7".into()).unwrap();
    assert_eq!(company.id, "19");
    assert_eq!(
        host.kv("codebase/https://cw.example/acme").as_deref(),
        Some(&b"v4_6_release/"[..])
    );
    assert!(host.logged("codebase changed from v2025_1/ to v4_6_release/"));
}

#[test]
fn unreachable_site_is_unavailable_naming_the_setting() {
    let host = FakeHost::new();
    host.setting("site", SITE)
        .setting("company-id", "acme")
        .setting("public-key", "p")
        .setting("private-key", "k3y")
        .setting("client-id", "c");
    host.on_any("*")
        .fail(HttpError::Connection("dns: no such host".into()));
    match ConnectWiseManage::get_company("7".into()).unwrap_err() {
        Error::Unavailable(m) => assert!(m.contains("check the `site` setting"), "{m}"),
        other => panic!("{other:?}"),
    }
}

/// A test data file's records, `range` of them, as ConnectWise's answer body.
fn data(file: &str, range: core::ops::Range<usize>) -> String {
    let all: Vec<Value> = serde_json::from_str(file).unwrap();
    Value::Array(all[range].to_vec()).to_string()
}

const TIME_ENTRIES: &str = include_str!("../tests/data/time_entries.json");
const COMPANY_NOTES: &str = include_str!("../tests/data/company_notes.json");

#[test]
fn lists_a_flat_dataset_with_its_count() {
    let host = connected();
    host.on(Method::Get, &format!("{API}/time/entries?*&page=1"))
        .header(
            "link",
            &format!(r#"<{API}/time/entries?pageSize=1&page=2>; rel="next""#),
        )
        .reply(200, data(TIME_ENTRIES, 0..1));
    host.on(Method::Get, &format!("{API}/time/entries?*&page=2"))
        .reply(200, data(TIME_ENTRIES, 1..2));
    host.on(Method::Get, &format!("{API}/time/entries/count?*"))
        .reply(200, r#"{"count": 2}"#);

    let first = ConnectWiseManage::list_dataset(
        "time-entries".into(),
        request(None, Some("2026-03-01T00:00:00Z"), 1),
    )
    .unwrap();
    assert_eq!(first.total, Some(2));
    let entry = &first.items[0];
    assert_eq!(entry.id, "501");
    assert_eq!(entry.updated_at.as_deref(), Some("2026-03-02T10:31:12Z"));
    let raw: Value = serde_json::from_str(&entry.raw).unwrap();
    assert_eq!(raw["notes"], "Replaced the failed disk");
    assert_eq!(
        host.requests()[1].query("conditions").as_deref(),
        Some("lastUpdated >= [2026-03-01T00:00:00Z]")
    );

    let second = ConnectWiseManage::list_dataset(
        "time-entries".into(),
        request(first.next_cursor, None, 1000),
    )
    .unwrap();
    assert_eq!(second.items[0].id, "502");
    // An offset is normalised to UTC.
    assert_eq!(
        second.items[0].updated_at.as_deref(),
        Some("2026-03-02T13:05:00Z")
    );
    assert_eq!((second.next_cursor, second.total), (None, None));
    let last = host.requests().pop().unwrap();
    assert_eq!(last.query("page").as_deref(), Some("2"));
    assert_eq!(last.query("pageSize").as_deref(), Some("1"));
    assert_eq!(
        last.query("conditions").as_deref(),
        Some("lastUpdated >= [2026-03-01T00:00:00Z]")
    );
}

#[test]
fn an_unknown_dataset_is_invalid_input_without_a_request() {
    let host = connected();
    match ConnectWiseManage::list_dataset("tickets".into(), request(None, None, 10)).unwrap_err() {
        Error::InvalidInput(p) => {
            assert_eq!(p.field, "dataset");
            assert!(p.message.contains("`tickets`"), "{}", p.message);
        }
        other => panic!("{other:?}"),
    }
    assert!(host.requests().is_empty());
}

#[test]
fn company_notes_walk_the_companies() {
    let host = connected();
    // Companies 19, 20 and 21; fewer than asked for, so they are all of them.
    host.on(
        Method::Get,
        &format!("{API}/company/companies?*id%20%3E%200*"),
    )
    .reply(200, r#"[{"id": 19}, {"id": 20}, {"id": 21}]"#);
    host.on(
        Method::Get,
        &format!("{API}/company/companies?*id%20%3E%2019*"),
    )
    .reply(200, r#"[{"id": 20}, {"id": 21}]"#);
    // Company 19 has two notes: the first page (size 2) is full, so 19 may have more.
    host.on(
        Method::Get,
        &format!("{API}/company/companies/19/notes?*id%20%3E%209004*"),
    )
    .reply(200, "[]");
    host.on(Method::Get, &format!("{API}/company/companies/19/notes?*"))
        .reply(200, data(COMPANY_NOTES, 0..2));
    host.on(Method::Get, &format!("{API}/company/companies/20/notes?*"))
        .reply(200, "[]");
    host.on(Method::Get, &format!("{API}/company/companies/21/notes?*"))
        .reply(200, data(COMPANY_NOTES, 2..3));

    let first =
        ConnectWiseManage::list_dataset("company-notes".into(), request(None, None, 2)).unwrap();
    let ids: Vec<&str> = first.items.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["9001", "9004"]);
    assert_eq!(first.total, None);
    let second = ConnectWiseManage::list_dataset(
        "company-notes".into(),
        request(first.next_cursor, None, 2),
    )
    .unwrap();
    // 19 resumed after its last note (none left), 20 has none, 21 one; no company after 21.
    let ids: Vec<&str> = second.items.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["9010"]);
    assert_eq!(
        second.items[0].updated_at.as_deref(),
        Some("2026-03-03T09:00:00Z")
    );
    assert_eq!(second.next_cursor, None);

    let paths: Vec<String> = host
        .requests()
        .iter()
        .skip(1)
        .map(|r| {
            r.url
                .trim_start_matches(API)
                .split('?')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        paths,
        [
            "/company/companies",
            "/company/companies/19/notes",
            "/company/companies/19/notes",
            "/company/companies",
            "/company/companies/20/notes",
            "/company/companies/21/notes",
        ]
    );
    let requests = host.requests();
    // The parents are read by id, ids only; the room left in the page is asked for.
    assert_eq!(requests[1].query("fields").as_deref(), Some("id"));
    assert_eq!(
        requests[3].query("conditions").as_deref(),
        Some("id > 9004")
    );
    assert_eq!(requests[3].query("pageSize").as_deref(), Some("2"));
    assert_eq!(requests[6].query("pageSize").as_deref(), Some("2"));
    assert!(host.unmatched().is_empty());
}
