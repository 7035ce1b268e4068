//! Kaseya BMS: the password login and its distinct errors, Bearer tokens, their expiry, the
//! read-only user.

use std::time::Duration;

use crate::common::bms::{Bms, error, login_form, start, validation};
use crate::common::read;
use psa_sim::{SimConfig, Simulator, demo};
use serde_json::json;

const TENANT: &str = demo::kaseya_bms::TENANT;

fn form<'a>(user: &'a str, password: &'a str, tenant: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("grantType", "password"),
        ("userName", user),
        ("password", password),
        ("tenant", tenant),
    ]
}

#[tokio::test]
async fn a_login_returns_a_bearer_token() {
    let sim = start(5, 1).await;
    let r = login_form(
        &sim.origin(),
        &form(" API.PSAHOST ", "demo-password", "psahost demo"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let v = r.json();
    assert_eq!((&v["success"], &v["error"]), (&json!(true), &json!(null)));
    let result = &v["result"];
    for key in ["accessToken", "refreshToken"] {
        let token = result[key].as_str().unwrap();
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    }
    assert_eq!(
        (
            &result["tokenType"],
            &result["expiresIn"],
            &result["userName"],
            &result["tenantName"]
        ),
        (
            &json!("Bearer"),
            &json!(3600),
            &json!("api.psahost"),
            &json!(TENANT)
        )
    );
    assert!(
        result["userId"].is_u64() && result["tenantId"].is_u64() && result["fullName"].is_string()
    );
    // Several tokens of one user are valid at once; the refresh token is not an access token.
    let a = Bms::login(&sim).await;
    let b = Bms::login(&sim).await;
    assert_ne!(a.token, b.token);
    assert_eq!(a.get("v2/crm/accounts").await.status, 200);
    assert_eq!(b.get("v2/crm/accounts").await.status, 200);
    let refresh = a.with_token(result["refreshToken"].as_str().unwrap());
    assert_eq!(
        error(&refresh.get("v2/crm/accounts").await).0,
        "InvalidToken"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn each_login_problem_has_its_own_answer() {
    let sim = start(5, 1).await;
    let origin = sim.origin();
    let cases = [
        (
            form("api.psahost", "demo-password", "Nope Inc"),
            401,
            "InvalidTenant",
            "Tenant 'Nope Inc' was not found.",
        ),
        (
            form("bob", "demo-password", TENANT),
            401,
            "InvalidUserName",
            "User name 'bob' was not found in tenant 'Psahost Demo'.",
        ),
        (
            form("disabled.user", "anything", TENANT),
            401,
            "UserDisabled",
            "User 'disabled.user' is disabled.",
        ),
        (
            form("api.psahost", "Demo-Password", TENANT),
            401,
            "InvalidPassword",
            "The password is incorrect for user 'api.psahost'.",
        ),
    ];
    for (fields, status, code, message) in cases {
        let r = login_form(&origin, &fields).await;
        assert_eq!(r.status, status, "{}", r.body);
        assert_eq!(error(&r), (code.to_string(), message.to_string()));
    }
    let r = login_form(
        &origin,
        &[
            ("grantType", "refresh_token"),
            ("userName", "a"),
            ("password", "b"),
            ("tenant", "c"),
        ],
    )
    .await;
    assert_eq!(
        (r.status, error(&r)),
        (
            400,
            (
                "UnsupportedGrantType".to_string(),
                "Grant type 'refresh_token' is not supported: use 'password'.".to_string()
            )
        )
    );
    let r = login_form(&origin, &[("grantType", "password"), ("userName", " ")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        error(&r),
        (
            "ValidationError".to_string(),
            "The login request is invalid.".to_string()
        )
    );
    assert_eq!(
        validation(&r),
        vec![
            ("userName".to_string(), "userName is required.".to_string()),
            ("password".into(), "password is required.".into()),
            ("tenant".into(), "tenant is required.".into()),
        ]
    );
    let r = read(
        reqwest::Client::new()
            .post(format!("{origin}/api/v2/security/authenticate"))
            .header("Content-Type", "application/json")
            .body(json!({"userName": "api.psahost"}).to_string()),
    )
    .await;
    assert_eq!(
        (r.status, error(&r)),
        (
            415,
            (
                "UnsupportedMediaType".to_string(),
                "The login must be posted as application/x-www-form-urlencoded.".to_string()
            )
        )
    );
    let r =
        read(reqwest::Client::new().get(format!("{origin}/api/v2/security/authenticate"))).await;
    assert_eq!(r.status, 405);
    sim.shutdown().await;
}

#[tokio::test]
async fn tokens_expire_and_can_be_revoked() {
    let sim = start(5, 1).await;
    let client = Bms::login(&sim).await;
    let r = read(reqwest::Client::new().get(client.url("v2/crm/accounts"))).await;
    assert_eq!(
        (r.status, r.header("www-authenticate")),
        (401, Some("Bearer"))
    );
    assert_eq!(
        error(&r),
        (
            "Unauthorized".to_string(),
            "A Bearer access token is required.".to_string()
        )
    );
    let bogus = client.with_token("0123456789abcdef0123456789abcdef");
    assert_eq!(
        error(&bogus.get("v2/crm/accounts").await),
        (
            "InvalidToken".to_string(),
            "The access token is not valid.".to_string()
        )
    );
    sim.state().expire_bms_tokens();
    let r = client.get("v2/crm/accounts").await;
    assert_eq!(
        (r.status, r.header("www-authenticate")),
        (401, Some("Bearer"))
    );
    assert_eq!(
        error(&r),
        (
            "TokenExpired".to_string(),
            "The access token has expired.".to_string()
        )
    );
    // A new login works; a short lifetime makes tokens expire on their own.
    sim.state().set_bms_token_lifetime(1);
    let short = Bms::login(&sim).await;
    assert_eq!(short.get("v2/crm/accounts").await.status, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(error(&short.get("v2/crm/accounts").await).0, "TokenExpired");
    let fresh = Bms::login(&sim).await;
    assert_eq!(fresh.get("v2/crm/accounts").await.status, 200);
    sim.state().revoke_bms_tokens();
    assert_eq!(error(&fresh.get("v2/crm/accounts").await).0, "InvalidToken");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_token_lifetime_comes_from_the_config() {
    let mut config = SimConfig::kaseya_bms(3, 1);
    config.kaseya_bms.token_lifetime_secs = 120;
    config.kaseya_bms.password = "other".into();
    let sim = Simulator::start(config).await.unwrap();
    let r = login_form(&sim.origin(), &form("api.psahost", "other", TENANT)).await;
    assert_eq!(r.json()["result"]["expiresIn"], 120);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_read_only_user_reads_but_may_not_write() {
    let sim = start(20, 1).await;
    let c = sim.config().kaseya_bms.clone();
    let ro = Bms::login_as(&sim, &c.readonly_username, &c.readonly_password).await;
    assert_eq!(ro.get("v2/servicedesk/tickets").await.status, 200);
    let ticket = ro.result("v2/servicedesk/tickets?pageSize=1").await[0]["id"]
        .as_u64()
        .unwrap();
    let contract = ro.result("v2/finance/contracts?pageSize=1").await[0].clone();
    let line = contract["services"][0]["id"].as_u64().unwrap();
    let cases = [
        (
            ro.post("v2/servicedesk/tickets", &json!({"title": "x"}))
                .await,
            "Service Desk > Tickets (Add)",
        ),
        (
            ro.post(
                &format!("v2/servicedesk/tickets/{ticket}/notes"),
                &json!({"details": "x"}),
            )
            .await,
            "Service Desk > Notes (Add)",
        ),
        (
            ro.patch(
                &format!("v2/finance/contracts/{}/services/{line}", contract["id"]),
                &json!([{"op": "replace", "path": "/quantity", "value": 1}]),
            )
            .await,
            "Finance > Contracts (Edit)",
        ),
    ];
    for (r, permission) in cases {
        assert_eq!(r.status, 403);
        assert_eq!(
            error(&r),
            (
                "Forbidden".to_string(),
                format!(
                    "You do not have permission to perform this action: the user's role lacks {permission}"
                )
            )
        );
    }
    sim.shutdown().await;
}
