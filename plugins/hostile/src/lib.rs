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
//! - `endpoint-flood`: sends `count` requests to `url`, each with a fresh endpoint label of
//!   `size` bytes (default 4 MiB), against the endpoint-scope rate hint it declares;
//! - `log-forge`: logs a line with a line break, a forged second line and terminal escapes;
//! - `trap-forge`: panics with a message holding a forged log line;
//! - `log-flood`: logs `count` lines of `size` bytes (default 1 MiB) through `log`, stdout and
//!   stderr each;
//! - `denied-flood`: sends `count` requests to `url`, which the grant must refuse;
//! - `kv-then-trap`: writes setting `value` under setting `key`, then traps;
//! - `describe-only` or anything else: succeeds without doing anything.
//!
//! `list-references` returns `count` entries of `size` bytes of raw text (a picklist too big
//! to take). `list-companies` returns `count` (a setting) synthetic companies in one page, for benchmarks;
//! with `attack` = `big-page` it ignores the page size asked for and pads each company's `raw`
//! to `size` bytes; with `cursor-cycle` it answers cursors A, B, A, B ... forever; with
//! `cursor-endless` a new cursor every page, forever.

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
                setting("size", "Size", "Bytes per label, log line or record"),
                setting(
                    "target",
                    "Target",
                    "The host fetch may reach (a pattern parameter)",
                ),
                setting("banner", "Banner", FORGED),
            ],
            outbound_hosts: vec!["http://{target}".into(), "https://{target}".into()],
            operations: vec![
                Operation::TestConnection,
                Operation::ListCompanies,
                Operation::ListReferences,
            ],
            // Generous, but endpoint-scoped: every endpoint label gets a scope in the host.
            rate_limits: vec![RateLimitHint {
                scope: LimitScope::Endpoint,
                requests: 100_000,
                per_seconds: 1,
                max_concurrent: 0,
            }],
            paging: vec![],
            datasets: vec![],
            read_only_configuration_types: vec![],
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
            "trap-forge" => panic!(
                "boom\n2026-01-01T00:00:00Z  WARN psahost_sandbox::runtime: plugin=\"connectwise-manage\" forged trap"
            ),
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
            "endpoint-flood" => {
                let url = settings::require("url")?;
                let size = number("size", 4 << 20);
                let mut label = "e".repeat(size);
                for i in 0..number("count", 10) {
                    label.truncate(size.saturating_sub(12));
                    label.push_str(&format!("{i:012}"));
                    let _ = http::Request::get(url.clone())
                        .endpoint(label.clone())
                        .send();
                }
                Ok(report("flooded".into()))
            }
            "log-forge" => {
                psa_sdk::info!(
                    "innocent\n2026-01-01T00:00:00Z  INFO psahost::guest: plugin=\"connectwise-manage\" connection=\"other\" forged\r\x1b[2Kok: connected\x07"
                );
                println!("out\rforged\x1b[31m");
                Ok(report("forged".into()))
            }
            "log-flood" => {
                let line = "x".repeat(number("size", 1 << 20));
                for _ in 0..number("count", 100) {
                    psa_sdk::info!("{line}");
                    println!("{line}");
                    eprintln!("{line}");
                }
                Ok(report("flooded".into()))
            }
            "denied-flood" => {
                let url = settings::require("url")?;
                for _ in 0..number("count", 100) {
                    let _ = http::Request::get(url.clone()).send();
                }
                Ok(report("flooded".into()))
            }
            "kv-then-trap" => {
                let key = settings::require("key")?;
                kv::set_string(&key, &settings::get_or("value", ""))?;
                panic!("the hostile plugin trapped after a kv set on purpose")
            }
            _ => Ok(report("nothing to do".into())),
        }
    }

    /// `count` entries, each with `size` bytes of raw text: a picklist too big to take.
    fn list_references(_kind: ReferenceKind) -> Result<Vec<Reference>> {
        let raw = format!("\"{}\"", "r".repeat(number("size", 2)));
        Ok((0..number("count", 10))
            .map(|i| Reference {
                id: i.to_string(),
                name: format!("Entry {i}"),
                active: true,
                parent_id: None,
                raw: raw.clone(),
            })
            .collect())
    }

    fn list_companies(page: PageRequest) -> Result<CompanyPage> {
        let count: usize = settings::get_or("count", "10").parse().unwrap_or(10);
        let attack = settings::get_or("attack", "");
        let next_cursor = match (attack.as_str(), page.cursor.as_deref()) {
            ("cursor-cycle", Some("A")) => Some("B".to_string()),
            ("cursor-cycle", _) => Some("A".to_string()),
            ("cursor-endless", cursor) => {
                let n: u64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
                Some((n + 1).to_string())
            }
            _ => None,
        };
        let (count, raw) = match attack.as_str() {
            "big-page" => (count, format!("\"{}\"", "r".repeat(number("size", 2)))),
            _ => (count.min(page.page_size as usize), "{}".to_string()),
        };
        let prefix = page.cursor.map(|c| format!("{c}-")).unwrap_or_default();
        let items = (0..count)
            .map(|i| Company {
                id: format!("{prefix}{i}"),
                name: format!("Company {i}"),
                identifier: None,
                status: None,
                active: true,
                types: vec![],
                phone: None,
                website: None,
                address: None,
                parent_id: None,
                classification: None,
                market_segment: None,
                sites: vec![],
                updated_at: None,
                raw: raw.clone(),
            })
            .collect();
        Ok(CompanyPage {
            items,
            next_cursor,
            total: None,
        })
    }
}

fn number(name: &str, default: usize) -> usize {
    settings::get(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
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
