//! The delivery drain: one task per connection with `[connections.ID.delivery]`, which drains
//! the connection's delivery queue every `RunOptions::delivery_drain_every`, so alerts left
//! queued by a rate-limited or unavailable PSA (or by a restart) are delivered in order without
//! waiting for another request. It takes the connection's drain lock, as the API's drains do,
//! so one drain runs at a time; with `[cluster]`, only while this replica owns the connection.

use super::Daemon;
use psahost_workflows::delivery::Delivery;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Drains connection `id`'s delivery queue every `every` until `stop`.
pub async fn run_connection(
    daemon: Arc<Daemon>,
    id: String,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if !daemon.owns(&id) {
            continue;
        }
        let Some(settings) = daemon
            .config()
            .connections
            .get(&id)
            .and_then(|c| c.delivery.as_ref())
        else {
            return;
        };
        // Not open yet (its plugin is loading or was refused): the next round looks again.
        let Ok(conn) = daemon.connection(&id) else {
            continue;
        };
        let _drain = daemon.delivery_locks().lock(&id).await;
        let delivery = Delivery::new(daemon.store().as_ref(), &conn, settings);
        match delivery.drain(0).await {
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
