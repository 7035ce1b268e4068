//! The connector's sign-in and paging run natively against the SDK's fake host
//! (`psa_sdk::fake`): the token cached in kv, renewed once after a 401, never in an error.

use super::*;
use psa_sdk::fake::FakeHost;
use psa_sdk::http::Method;

const SERVER: &str = "https://bms.example";
const LOGIN: &str = "https://bms.example/api/v2/security/authenticate";
const ACCOUNTS_URL: &str = "https://bms.example/api/v2/crm/accounts?*";

fn login_answer(token: &str) -> String {
    format!(r#"{{"result": {{"accessToken": "{token}", "expiresIn": 3600}}, "success": true}}"#)
}

fn signed_in() -> FakeHost {
    let host = FakeHost::new();
    host.set_clock(1_000_000);
    host.setting("server", SERVER)
        .setting("username", "api.psahost")
        .setting("tenant", "Psahost Demo")
        .setting("password", "pw SECRET");
    host
}

fn first_page() -> PageRequest {
    PageRequest {
        cursor: None,
        updated_since: None,
        page_size: 2,
    }
}

fn logins(host: &FakeHost) -> usize {
    host.requests().iter().filter(|r| r.url == LOGIN).count()
}

#[test]
fn signs_in_once_pages_by_keyset_and_renews_a_refused_token() {
    let host = signed_in();
    host.on(Method::Post, LOGIN)
        .times(1)
        .reply(200, login_answer("tok-ONE"));
    host.on(Method::Post, LOGIN)
        .reply(200, login_answer("tok-TWO"));
    host.on(
        Method::Get,
        "https://bms.example/api/v2/crm/accounts?*idGreaterThan=2*",
    )
    .times(1)
    .reply(
        401,
        r#"{"error": {"code": "TokenExpired", "message": "expired"}}"#,
    );
    host.on(
        Method::Get,
        "https://bms.example/api/v2/crm/accounts?*idGreaterThan=2*",
    )
    .reply(
        200,
        r#"{"result": [{"id": 3, "name": "Gamma"}], "totalRecords": 1, "success": true}"#,
    );
    host.on(Method::Get, ACCOUNTS_URL).reply(
        200,
        r#"{"result": [{"id": 1, "name": "Alpha"}, {"id": 2, "name": "Beta"}], "totalRecords": 3, "success": true}"#,
    );

    let first = KaseyaBms::list_companies(first_page()).unwrap();
    assert_eq!(first.items.len(), 2);
    // Each record's `raw` is the text BMS sent for it.
    assert_eq!(first.items[1].raw, r#"{"id": 2, "name": "Beta"}"#);
    let cursor = first.next_cursor.expect("a second page");
    assert_eq!(cursor, "v=1&e=accounts&size=2&after=2");
    assert_eq!(logins(&host), 1);

    // The second call reuses the cached token; BMS refuses it; one new sign-in, sent again.
    let second = KaseyaBms::list_companies(PageRequest {
        cursor: Some(cursor),
        ..first_page()
    })
    .unwrap();
    assert_eq!(second.items[0].id, "3");
    assert_eq!(second.next_cursor, None);
    assert_eq!(logins(&host), 2);
    let sent = host.requests();
    let pages: Vec<Option<&str>> = sent
        .iter()
        .filter(|r| r.url != LOGIN)
        .map(|r| r.header("authorization"))
        .collect();
    assert_eq!(
        pages,
        [
            Some("Bearer tok-ONE"),
            Some("Bearer tok-ONE"),
            Some("Bearer tok-TWO")
        ]
    );
    assert!(host.logged("signing in again"));
    assert!(!host.logs().iter().any(|(_, m)| m.contains("tok-")));
}

#[test]
fn a_token_refused_right_after_sign_in_is_unauthorized_without_it() {
    let host = signed_in();
    host.on(Method::Post, LOGIN)
        .reply(200, login_answer("tok-ONE"));
    host.on(Method::Get, ACCOUNTS_URL).reply(
        401,
        r#"{"error": {"code": "TokenInvalid", "message": "token tok-ONE is invalid"}}"#,
    );
    match KaseyaBms::list_companies(first_page()).unwrap_err() {
        Error::Unauthorized(p) => {
            assert_eq!(p.settings, ["password"]);
            assert!(!p.message.contains("tok-ONE"), "{}", p.message);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(logins(&host), 1);
}

#[test]
fn one_account_keeps_its_own_text() {
    let host = signed_in();
    host.on(Method::Post, LOGIN)
        .reply(200, login_answer("tok-ONE"));
    host.on(Method::Get, "https://bms.example/api/v2/crm/accounts/9")
        .reply(
            200,
            r#"{"result": {"accountName": "Zed",  "id": 9}, "success": true}"#,
        );
    let company = KaseyaBms::get_company("9".into()).unwrap();
    assert_eq!((company.id.as_str(), company.name.as_str()), ("9", "Zed"));
    // Key order and blanks as sent (a re-serialised `Value` would sort the keys).
    assert_eq!(company.raw, r#"{"accountName": "Zed",  "id": 9}"#);
}

#[test]
fn time_logs_by_keyset_with_the_first_pages_total() {
    let host = signed_in();
    host.on(Method::Post, LOGIN)
        .reply(200, login_answer("tok-ONE"));
    host.on(
        Method::Get,
        "https://bms.example/api/v2/servicedesk/timelogs?*idGreaterThan=7004*",
    )
    .reply(
        200,
        r#"{"result": [{"id": 7009, "hours": 2, "modifiedOn": "2026-03-03T08:00:00Z"}], "totalRecords": 1, "success": true}"#,
    );
    host.on(
        Method::Get,
        "https://bms.example/api/v2/servicedesk/timelogs?*",
    )
    .reply(200, include_str!("../tests/data/timelogs.json"));
    let first = KaseyaBms::list_dataset(
        "time-entries".into(),
        PageRequest {
            cursor: None,
            updated_since: Some("2026-03-01T00:00:00Z".into()),
            page_size: 2,
        },
    )
    .unwrap();
    let read: Vec<(&str, Option<&str>)> = first
        .items
        .iter()
        .map(|r| (r.id.as_str(), r.updated_at.as_deref()))
        .collect();
    assert_eq!(
        read,
        [
            ("7001", Some("2026-03-02T10:31:12Z")),
            ("7004", Some("2026-03-02T14:05:00Z"))
        ]
    );
    assert!(first.items[1].raw.contains(r#""notes": "Remote session""#));
    assert_eq!(first.total, Some(3));
    let second = KaseyaBms::list_dataset(
        "time-entries".into(),
        PageRequest {
            cursor: first.next_cursor,
            updated_since: None,
            page_size: 100,
        },
    )
    .unwrap();
    assert_eq!(second.items[0].id, "7009");
    // Later pages' `totalRecords` counts what is left, not the sweep.
    assert_eq!((second.next_cursor, second.total), (None, None));
    let sent: Vec<_> = host
        .requests()
        .into_iter()
        .filter(|r| r.url != LOGIN)
        .collect();
    for r in &sent {
        assert_eq!(
            r.query("modifiedSince").as_deref(),
            Some("2026-03-01T00:00:00Z")
        );
        assert_eq!(r.query("pageSize").as_deref(), Some("2"));
        assert_eq!(r.query("orderBy").as_deref(), Some("id asc"));
    }
    assert_eq!(sent[1].query("idGreaterThan").as_deref(), Some("7004"));
    match KaseyaBms::list_dataset("timelogs".into(), first_page()).unwrap_err() {
        Error::InvalidInput(p) => assert_eq!(p.field, "dataset"),
        other => panic!("{other:?}"),
    }
}
