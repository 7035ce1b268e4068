//! Signing in: the V2 login request, its answer, the access token kept in kv, and the login
//! errors, each naming the setting to fix.
//!
//! `POST {origin}/api/v2/security/authenticate` with the form fields `grantType=password`,
//! `userName`, `password` and `tenant` answers `{"result": {"accessToken", "expiresIn", ...}}`.
//! The token is kept in the connection's kv with the time it must be renewed (a little before it
//! expires), so most calls sign in not at all: the SDK's `psa_sdk::oauth2::Token` in its
//! `TokenCache`, keyed by a fingerprint of the server, tenant, user and password. The refresh token is not used: the password is at
//! hand on every call and signing in again costs the same one request.
//!
//! Everything here is pure (the clock is passed in); [`crate::client::Client`] does the I/O.

use crate::client::{Settings, parse_error_body};
use psa_sdk::Error;
use psa_sdk::oauth2::{Token, valid_token_text};
use serde_json::Value;

/// The token lifetime assumed when BMS does not say (`expiresIn` absent).
pub const DEFAULT_EXPIRES_IN: u64 = 3600;

/// Who signed in, from the login answer (for the connection test's report).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginInfo {
    /// The user's name as BMS knows it.
    pub user_name: Option<String>,
    /// The user's id.
    pub user_id: Option<String>,
    /// The user's display name.
    pub full_name: Option<String>,
    /// The tenant's name as BMS spells it.
    pub tenant_name: Option<String>,
    /// The tenant's id.
    pub tenant_id: Option<String>,
    /// The token lifetime in seconds.
    pub expires_in: u64,
}

/// The form fields of the login request.
pub fn login_form(settings: &Settings) -> [(&'static str, &str); 4] {
    [
        ("grantType", "password"),
        ("userName", settings.username.as_str()),
        ("password", settings.password.as_str()),
        ("tenant", settings.tenant.as_str()),
    ]
}

/// Reads a successful (2xx) login answer received at `now`.
pub fn parse_login(body: &[u8], now: u64) -> Result<(Token, LoginInfo), Error> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        Error::malformed(format!(
            "the BMS login answer is not JSON ({e}): check that `server` is the Kaseya BMS server; it answered: {}",
            psa_sdk::message::body_excerpt(body)
        ))
    })?;
    if v.get("success").and_then(Value::as_bool) == Some(false) {
        let e = parse_error_body(body);
        return Err(Error::remote(200, e.code, e.message));
    }
    let result = v.get("result").filter(|r| r.is_object()).ok_or_else(|| {
        Error::malformed("the BMS login answer has no `result` object: check that `server` is the Kaseya BMS server")
    })?;
    let token = result
        .get("accessToken")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| valid_token_text(t))
        .ok_or_else(|| {
            Error::malformed("the BMS login answer has no usable `result.accessToken`")
        })?;
    let expires_in = match result.get("expiresIn") {
        None | Some(Value::Null) => DEFAULT_EXPIRES_IN,
        Some(n) => n.as_u64().filter(|n| *n > 0).ok_or_else(|| {
            Error::malformed(format!(
                "the BMS login answer has an invalid `expiresIn`: {n}"
            ))
        })?,
    };
    let text = |k: &str| match result.get(k) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let info = LoginInfo {
        user_name: text("userName"),
        user_id: text("userId"),
        full_name: text("fullName"),
        tenant_name: text("tenantName"),
        tenant_id: text("tenantId"),
        expires_in,
    };
    Ok((Token::issued(token.to_string(), now, expires_in), info))
}

/// The settings a refused login may be about, the likeliest first: one when BMS's error code or
/// message says which, the password and the user name for a "user name or password" answer, and
/// the tenant too when the answer says nothing (a tenant BMS does not know can fail the same
/// way).
pub fn refused_settings(code: Option<&str>, message: &str) -> &'static [&'static str] {
    match code.map(str::to_ascii_lowercase).as_deref() {
        Some("invalidtenant") => return &["tenant"],
        Some("invalidusername") | Some("userdisabled") => return &["username"],
        Some("invalidpassword") => return &["password"],
        _ => {}
    }
    let lower = message.to_ascii_lowercase();
    let user = lower.contains("user name")
        || lower.contains("username")
        || lower.contains("disabled")
        || lower.contains("locked");
    let password = lower.contains("password");
    if lower.contains("tenant") || lower.contains("company") {
        &["tenant"]
    } else if user && password {
        &["password", "username"]
    } else if user {
        &["username"]
    } else if password {
        &["password"]
    } else {
        &["password", "username", "tenant"]
    }
}

/// The setting a login validation error is about (`userName` -> `username`).
fn login_field(field: &str) -> Option<&'static str> {
    match field.to_ascii_lowercase().as_str() {
        "username" => Some("username"),
        "password" => Some("password"),
        "tenant" => Some("tenant"),
        _ => None,
    }
}

/// Maps a non-2xx login answer to the contract's error, naming the setting to fix.
pub fn map_login_error(
    status: u16,
    retry_after_ms: Option<u64>,
    body: &[u8],
    settings: &Settings,
) -> Error {
    let e = parse_error_body(body);
    match status {
        401 => match refused_settings(e.code.as_deref(), &e.message) {
            ["tenant"] => Error::unauthorized(
                "tenant",
                format!(
                    "Kaseya BMS does not know tenant `{}`: {} (use the company name shown on the BMS login page, also under My Settings)",
                    settings.tenant, e.message
                ),
            ),
            ["username"] => Error::unauthorized(
                "username",
                format!(
                    "Kaseya BMS refused user name `{}` in tenant `{}`: {} (check `username`: a browser may have autofilled another one)",
                    settings.username, settings.tenant, e.message
                ),
            ),
            ["password"] => Error::unauthorized(
                "password",
                format!(
                    "Kaseya BMS refused the password of user `{}`: {}",
                    settings.username, e.message
                ),
            ),
            several => Error::unauthorized_any(
                several.iter().copied(),
                format!(
                    "Kaseya BMS refused the login of user `{}` in tenant `{}`: {} (check {})",
                    settings.username,
                    settings.tenant,
                    e.message,
                    psa_sdk::message::quoted_list(several)
                ),
            ),
        },
        403 => Error::forbidden(
            "API access for the BMS user",
            format!(
                "Kaseya BMS refused to sign in user `{}`: {}",
                settings.username, e.message
            ),
        ),
        400 | 422 => match e
            .validation
            .iter()
            .find_map(|(f, m)| Some((login_field(f)?, m)))
        {
            Some((setting, message)) => Error::invalid(setting, message.clone()),
            None => Error::remote(status, e.code, e.message),
        },
        404 | 405 => Error::invalid(
            "server",
            format!(
                "{} has no Kaseya BMS login at /api/v2/security/authenticate (it answered {status}): set `server` to the BMS server name, e.g. bms.kaseya.com",
                settings.origin
            ),
        ),
        429 => Error::rate_limited(
            retry_after_ms,
            format!("Kaseya BMS rate limit on signing in: {}", e.message),
        ),
        500..=599 => Error::unavailable(format!(
            "Kaseya BMS answered {status} to the login: {}",
            e.message
        )),
        _ => Error::remote(status, e.code, e.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::from_values("bms.kaseya.com", "api.psahost", "Psahost Demo", "s3cret pw").unwrap()
    }

    #[test]
    fn login_form_fields() {
        let s = settings();
        assert_eq!(
            login_form(&s),
            [
                ("grantType", "password"),
                ("userName", "api.psahost"),
                ("password", "s3cret pw"),
                ("tenant", "Psahost Demo"),
            ]
        );
    }

    #[test]
    fn parses_login_answers() {
        let body = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/login.json"
        ))
        .unwrap();
        let (token, info) = parse_login(&body, 10).unwrap();
        assert_eq!(token.access_token, "2b1f6c0e9d4a4f0bbd0c5a7e1e3f9a11");
        assert_eq!(token.expires_at, 3610);
        assert_eq!(info.user_name.as_deref(), Some("api.psahost"));
        assert_eq!(info.user_id.as_deref(), Some("12"));
        assert_eq!(info.tenant_name.as_deref(), Some("Psahost Demo"));
        assert_eq!(info.tenant_id.as_deref(), Some("1001"));
        assert_eq!(info.expires_in, 3600);

        let (t, i) = parse_login(br#"{"result":{"accessToken":"xyz"},"success":true}"#, 0).unwrap();
        assert_eq!(t.expires_at, DEFAULT_EXPIRES_IN);
        assert_eq!(i.user_name, None);

        for bad in [
            &b"<html>Kaseya BMS login</html>"[..],
            br#"{"result":{"accessTok"#,
            br#"{"result":null,"success":true}"#,
            br#"{"result":{"accessToken":""}}"#,
            br#"{"result":{"accessToken":"a\r\nb"}}"#,
            br#"{"result":{"accessToken":"abc","expiresIn":-5}}"#,
        ] {
            match parse_login(bad, 0) {
                Err(Error::Remote(p)) => assert_eq!(p.code.as_deref(), Some("malformed-response")),
                other => panic!("{}: {other:?}", String::from_utf8_lossy(bad)),
            }
        }
        match parse_login(
            br#"{"result":null,"success":false,"error":{"code":"Odd","message":"no"}}"#,
            0,
        ) {
            Err(Error::Remote(p)) => assert_eq!(p.code.as_deref(), Some("Odd")),
            other => panic!("{other:?}"),
        }
    }

    fn setting_of(e: &Error) -> String {
        match e {
            Error::Unauthorized(p) => p.settings.join(","),
            Error::InvalidInput(p) => p.field.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn login_errors_name_the_setting() {
        let s = settings();
        let cases = [
            (
                r#"{"result":null,"success":false,"error":{"code":"InvalidTenant","message":"Tenant 'Psahost Dem' was not found."}}"#,
                "tenant",
            ),
            (
                r#"{"result":null,"success":false,"error":{"code":"InvalidUserName","message":"User name 'api.psahots' was not found in tenant 'Psahost Demo'."}}"#,
                "username",
            ),
            (
                r#"{"result":null,"success":false,"error":{"code":"UserDisabled","message":"User 'disabled.user' is disabled."}}"#,
                "username",
            ),
            (
                r#"{"result":null,"success":false,"error":{"code":"InvalidPassword","message":"The password is incorrect for user 'api.psahost'."}}"#,
                "password",
            ),
            // Unknown codes: by the message.
            (r#"{"error":{"message":"Unknown tenant"}}"#, "tenant"),
            (
                r#"{"error":{"message":"Invalid user name or password"}}"#,
                "password,username",
            ),
            (r#"{"error":{"message":"Wrong password"}}"#, "password"),
            // Nothing says which: the tenant may be wrong too.
            (
                r#"{"error":{"message":"Login failed"}}"#,
                "password,username,tenant",
            ),
            ("", "password,username,tenant"),
        ];
        for (body, setting) in cases {
            let e = map_login_error(401, None, body.as_bytes(), &s);
            assert_eq!(setting_of(&e), setting, "{body}");
        }
        let e = map_login_error(
            401,
            None,
            br#"{"error":{"code":"InvalidUserName","message":"User name 'x' was not found in tenant 'Psahost Demo'."}}"#,
            &s,
        );
        match e {
            Error::Unauthorized(p) => {
                assert!(p.message.contains("`api.psahost`"), "{}", p.message);
                assert!(p.message.contains("autofill"), "{}", p.message);
                assert!(!p.message.contains("s3cret"), "{}", p.message);
            }
            other => panic!("{other:?}"),
        }
        let missing = br#"{"result":null,"success":false,"error":{"code":"ValidationError","message":"The login request is invalid.","validationErrors":[{"field":"userName","message":"userName is required."}]}}"#;
        assert_eq!(
            setting_of(&map_login_error(400, None, missing, &s)),
            "username"
        );
        assert_eq!(
            map_login_error(
                400,
                None,
                br#"{"error":{"code":"UnsupportedGrantType","message":"no"}}"#,
                &s
            )
            .kind(),
            "remote"
        );
        assert_eq!(
            setting_of(&map_login_error(404, None, b"<html>Not Found</html>", &s)),
            "server"
        );
        match map_login_error(
            429,
            Some(42_000),
            br#"{"error":{"code":"TooManyRequests","message":"API calls quota exceeded"}}"#,
            &s,
        ) {
            Error::RateLimited(h) => assert_eq!(h.retry_after_ms, Some(42_000)),
            other => panic!("{other:?}"),
        }
        assert_eq!(map_login_error(503, None, b"", &s).kind(), "unavailable");
        assert_eq!(map_login_error(403, None, b"{}", &s).kind(), "forbidden");
    }
}
