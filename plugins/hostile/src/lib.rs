//! A connector that misbehaves on purpose, so the host's sandbox can be tested against it.
//!
//! The setting `attack` picks what `test-connection` does:
//! - `spin`: loops forever (the deadline must end it);
//! - `memory`: allocates until the memory cap stops it;
//! - `fetch`: GETs the URL in setting `url` and reports the status and body length;
//! - `trap`: panics;
//! - `kv-write` / `kv-read`: writes setting `value` under setting `key` / reads `key`;
//! - `log-secret`: logs the secret setting `token` at every level, prints it, sends it as a
//!   bearer token to setting `url` (if set) and returns it in an error;
//! - `terminal`: answers a message and details full of terminal controls (CR, ESC sequences,
//!   BEL, a C1 CSI, a line break, a bidi override), or fails with that message when setting
//!   `value` is `fail`; the `banner` setting's description carries the same;
//! - `describe-only` or anything else: succeeds without doing anything.
//!
//! `list-companies` returns `count` (a setting) synthetic companies in one page, for benchmarks.

use psa_sdk::prelude::*;

struct Hostile;

/// Text that would rewrite the operator's terminal if printed raw: back to the line's start,
/// erase it, a fake verdict, a bell, a forged second line, a C1 CSI and a bidi override.
const FORGED: &str = "\r\u{1b}[2Kok: all checks passed\u{7}\nok: connected \u{9b}31m\u{202e}";

impl Connector for Hostile {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "hostile".into(),
            name: "Hostile test plugin".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "psahost tests".into(),
            description: "Misbehaves on purpose to exercise the sandbox".into(),
            settings: vec![
                setting("attack", "Attack", "What test-connection does").required(),
                setting("url", "URL", "The URL `fetch` requests"),
                setting("key", "Key", "The kv key of kv-read / kv-write"),
                setting("value", "Value", "The value kv-write stores"),
                setting("token", "Token", "A secret that must never reach the logs").secret(),
                setting(
                    "count",
                    "Count",
                    "How many companies list-companies returns",
                ),
                setting(
                    "target",
                    "Target",
                    "The host fetch may reach (a pattern parameter)",
                ),
                setting("banner", "Banner", FORGED),
            ],
            outbound_hosts: vec!["http://{target}".into(), "https://{target}".into()],
            operations: vec![Operation::TestConnection, Operation::ListCompanies],
            rate_limits: vec![],
        }
    }

    fn test_connection() -> Result<ConnectionReport> {
        let attack = settings::require("attack")?;
        match attack.as_str() {
            "spin" => spin(),
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                }
            }
            "trap" => panic!("the hostile plugin trapped on purpose"),
            "fetch" => {
                let url = settings::require("url")?;
                let response = http::Request::get(url).send()?;
                Ok(report(format!(
                    "status {} with {} bytes",
                    response.status,
                    response.body.len()
                )))
            }
            "kv-write" => {
                let key = settings::require("key")?;
                kv::set_string(&key, &settings::get_or("value", ""))?;
                Ok(report(format!("wrote {key}")))
            }
            "kv-read" => {
                let key = settings::require("key")?;
                let value = kv::get_string(&key)?;
                Ok(report(format!("{key} = {value:?}")))
            }
            "log-secret" => {
                let token = settings::require("token")?;
                psa_sdk::trace!("trace token={token}");
                psa_sdk::debug!("debug token={token}");
                psa_sdk::info!("info token={token}");
                psa_sdk::warn!("warn token={token}");
                psa_sdk::error!("error token={token}");
                println!("stdout token={token}");
                eprintln!("stderr token={token}");
                if let Some(url) = settings::get("url") {
                    // The secret travels in a header too, past the HTTP stack's own tracing.
                    let _ = http::Request::get(url).bearer_auth(&token).send();
                }
                Err(Error::unauthorized(
                    "token",
                    format!("the token {token} was refused"),
                ))
            }
            "terminal" => {
                if settings::get_or("value", "") == "fail" {
                    return Err(Error::remote(500, None, FORGED));
                }
                Ok(ConnectionReport {
                    message: FORGED.into(),
                    details: r#"{"note": "\u001b]0;owned\u0007\u009b2J\u202eexe.txt"}"#.into(),
                })
            }
            _ => Ok(report("nothing to do".into())),
        }
    }

    fn list_companies(page: PageRequest) -> Result<CompanyPage> {
        let count: usize = settings::get_or("count", "10").parse().unwrap_or(10);
        let items = (0..count.min(page.page_size as usize))
            .map(|i| Company {
                id: i.to_string(),
                name: format!("Company {i}"),
                identifier: None,
                status: None,
                active: true,
                types: vec![],
                phone: None,
                website: None,
                address: None,
                updated_at: None,
                raw: "{}".into(),
            })
            .collect();
        Ok(CompanyPage {
            items,
            next_cursor: None,
        })
    }
}

fn spin() -> ! {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_add(1));
    }
}

fn report(message: String) -> ConnectionReport {
    ConnectionReport {
        message,
        details: "{}".into(),
    }
}

psa_sdk::export_connector!(Hostile);
