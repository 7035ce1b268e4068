//! Rate-limit utilisation (it prints the figures in BENCHMARKS.md):
//! `cargo run --release -p psahost-workflows --example rate_limit_bench`.
//!
//! The simulator (ConnectWise dialect) serves at most `QUOTA` API requests per fixed window of
//! `WINDOW` and answers 429 beyond, with `Retry-After` up to the window's end. A full sync of
//! its companies in pages of one record (one request a page) runs for several windows under
//! the connection's limit `rate = QUOTA per WINDOW`: once as a classic token bucket (no
//! `rate-burst`), once with `rate-burst = 1`. Rate-limited runs are resumed when the PSA said
//! (as the scheduler does). Printed: requests served as a share of the allowance over the
//! run's windows, and the 429s received.

use psahost_sandbox::capabilities::http::{HttpLimits, Rate, ScopeLimits};
use psahost_store::{Entity, RunStatus, SledStore};
use psahost_testkit::sync::{connect_limited, listed_company_ids, simulator};
use psahost_workflows::sync::{NoProgress, SyncEngine, SyncRequest, SyncSettings};
use std::sync::Arc;
use std::time::{Duration, Instant};

const QUOTA: u32 = 100;
const WINDOW: Duration = Duration::from_secs(2);
const COMPANIES: usize = 900;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    println!("PSA quota: {QUOTA} requests per {WINDOW:?} window; the host's limit: the same rate");
    println!("| limiter | requests served | windows | share of the allowance | 429s received |");
    println!("|---|---|---|---|---|");
    for burst in [None, Some(1)] {
        let sim = simulator(COMPANIES, None).await;
        let companies = listed_company_ids(&sim).len();
        let http = HttpLimits {
            max_retries: 0,
            connection: ScopeLimits {
                rate: Some(Rate {
                    burst,
                    ..Rate::new(QUOTA, WINDOW)
                }),
                max_concurrent: None,
            },
            ..HttpLimits::default()
        };
        let conn = connect_limited(&sim, "bench", http).await;
        let store = Arc::new(SledStore::temporary()?);
        let engine = SyncEngine::new(
            store,
            SyncSettings {
                page_size: Some(1),
                ..SyncSettings::default()
            },
        );
        let before = sim.faults().api_requests();
        sim.faults().set_window_quota(u64::from(QUOTA), WINDOW);
        let started = Instant::now();
        loop {
            let run = engine
                .sync_entity(&conn, Entity::Companies, SyncRequest::full(), &NoProgress)
                .await?;
            match run.status {
                RunStatus::Completed => break,
                RunStatus::Suspended => {
                    let until = run
                        .suspended_until
                        .expect("a suspended run says until when");
                    let wait = until - time::OffsetDateTime::now_utc();
                    tokio::time::sleep(wait.try_into().unwrap_or_default()).await;
                }
                other => anyhow::bail!("the run ended {other:?}: {:?}", run.error),
            }
        }
        let elapsed = started.elapsed();
        let sent = sim.faults().api_requests() - before;
        let throttled = sim.faults().throttled();
        let served = sent - throttled;
        // The windows the run touched (the last one partly): the allowance it could use.
        let windows = elapsed.as_secs_f64() / WINDOW.as_secs_f64();
        let share = served as f64 / (windows * f64::from(QUOTA));
        println!(
            "| {} | {served} ({companies} companies) | {windows:.2} | {:.1}% | {throttled} |",
            match burst {
                None => "token bucket, burst 100".to_string(),
                Some(b) => format!("`rate-burst = {b}`"),
            },
            share * 100.0
        );
        sim.shutdown().await;
    }
    Ok(())
}
