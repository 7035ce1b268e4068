//! The delivery drain: one task per connection, which every `RunOptions::delivery_drain_every`
//! takes the connection's delivery settings in effect (set through the API, else
//! `[connections.ID.delivery]`; none: nothing to do this round) and
//! - writes the billable counts kept from the last posting when the period's day has come and
//!   the period is not written yet ([`billing::sync_kept`]; at most once a day per process
//!   unless it failed, then again after [`BILLING_RETRY`]);
//! - drains the connection's delivery queue, so alerts left queued by a rate-limited or
//!   unavailable PSA (or by a restart) are delivered in order without waiting for another
//!   request.
//!
//! It takes the connection's drain lock, as the API's drains do, so one drain runs at a time;
//! with `[cluster]`, only while this replica owns the connection.

use super::Daemon;
use psahost_sandbox::connector::Connection;
use psahost_workflows::billing;
use psahost_workflows::delivery::{Delivery, DeliverySettings};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long the background billable sync waits before it tries again after a failure.
pub const BILLING_RETRY: Duration = Duration::from_secs(600);

/// Drains connection `id`'s delivery queue (and writes its due billable counts) every `every`
/// until `stop`; `today` is the date of the billing periods (UTC).
pub async fn run_connection(
    daemon: Arc<Daemon>,
    id: String,
    every: Duration,
    today: fn() -> time::Date,
    mut stop: watch::Receiver<bool>,
) {
    // The day the billable sync last ran here with nothing failed, or when it last failed.
    let mut billed: Option<time::Date> = None;
    let mut billing_failed: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if !daemon.owns(&id) {
            continue;
        }
        let Some(config) = daemon.config().connections.get(&id) else {
            return;
        };
        // The work of a round is boxed (here and below): inline, its futures would size this
        // task's, which sleeps between rounds for each of thousands of connections.
        let settings = match Box::pin(psahost_config::delivery::effective(
            daemon.store().as_ref(),
            &id,
            config.delivery.as_ref(),
        ))
        .await
        {
            Ok(Some(e)) => e.settings,
            // No settings (yet: they may be set through the API).
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(
                    connection = id.as_str(),
                    "cannot read the delivery settings: {e:#}; trying again in {every:?}"
                );
                continue;
            }
        };
        // Not open yet (its plugin is loading or was refused): the next round looks again.
        let Ok(conn) = daemon.connection(&id) else {
            continue;
        };
        let _drain = daemon.delivery_locks().lock(&id).await;
        let day = today();
        let retry_due = billing_failed.is_none_or(|at| at.elapsed() >= BILLING_RETRY);
        if settings.billing.is_some() && billed != Some(day) && retry_due {
            match Box::pin(bill(&daemon, &conn, &settings, day)).await {
                Ok(()) => {
                    billed = Some(day);
                    billing_failed = None;
                }
                Err(()) => billing_failed = Some(Instant::now()),
            }
        }
        let delivery = Delivery::new(daemon.store().as_ref(), &conn, &settings);
        match Box::pin(delivery.drain(0)).await {
            Ok(report) => {
                let done = report.delivered + report.grouped + report.failed + report.resolved;
                if done > 0 {
                    tracing::info!(
                        connection = id.as_str(),
                        delivered = report.delivered,
                        grouped = report.grouped,
                        failed = report.failed,
                        resolved = report.resolved,
                        still_queued = report.still_queued,
                        "queued deliveries drained"
                    );
                } else if report.still_queued > 0 {
                    tracing::debug!(
                        connection = id.as_str(),
                        still_queued = report.still_queued,
                        blocked = ?report.blocked,
                        "deliveries still queued; trying again in {every:?}"
                    );
                }
            }
            Err(e) => tracing::warn!(
                connection = id.as_str(),
                "the delivery drain failed: {e:#}; trying again in {every:?}"
            ),
        }
    }
}

/// The background billable sync of one round; `Err` when something failed (logged).
async fn bill(
    daemon: &Daemon,
    conn: &Connection,
    settings: &DeliverySettings,
    today: time::Date,
) -> Result<(), ()> {
    let id = conn.id();
    match billing::sync_kept(daemon.store().as_ref(), conn, settings, today).await {
        Ok(outcomes) => {
            let mut failed = false;
            for o in &outcomes {
                if o.action == "failed" {
                    failed = true;
                    tracing::warn!(
                        connection = id,
                        organisation = o.organisation.as_str(),
                        period = o.period.as_str(),
                        "the billable count was not written: {}; trying again in {BILLING_RETRY:?}",
                        o.reason.as_deref().unwrap_or("")
                    );
                } else if o.action == "written" {
                    tracing::info!(
                        connection = id,
                        organisation = o.organisation.as_str(),
                        period = o.period.as_str(),
                        count = o.count,
                        "billable count written as the contract quantity"
                    );
                }
            }
            if failed { Err(()) } else { Ok(()) }
        }
        Err(e) => {
            tracing::warn!(
                connection = id,
                "the background billable sync failed: {e:#}; trying again in {BILLING_RETRY:?}"
            );
            Err(())
        }
    }
}
