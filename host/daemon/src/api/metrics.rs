//! Prometheus metrics of `psahost serve`, served at `/metrics` (OpenMetrics text).
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `psahost_plugin_calls_total` | plugin, operation, outcome | connector calls; outcome `ok`, a contract error (`rate-limited`, ...) or a sandbox failure (`deadline`, `memory-cap`, `trap`, `result-too-large`, `setup`) |
//! | `psahost_plugin_call_duration_seconds` | plugin, operation | their duration |
//! | `psahost_plugin_reloads_total` | plugin, outcome | hot reloads: `swapped` or `rejected` |
//! | `psahost_http_requests_total` | connection | outbound requests sent (each retry counts) |
//! | `psahost_http_responses_total` | connection, class | responses by status class (`2xx` ...) |
//! | `psahost_http_denied_total` | connection | requests refused by the grant |
//! | `psahost_http_rate_limit_waits_total` | connection | requests that waited for, or were refused by, the rate limit |
//! | `psahost_http_retries_total` | connection | retries after 429/503 |
//! | `psahost_http_rejected_endpoint_labels_total` | connection | endpoint labels that got no rate-limit scope of their own (too long, or too many) |
//! | `psahost_http_response_bytes_total` | connection | response body bytes |
//! | `psahost_sync_runs_total` | connection, entity, mode, outcome | sync runs that stopped (`completed`, `held`, `suspended`, `failed`) |
//! | `psahost_sync_run_duration_seconds` | connection, entity, mode, outcome | wall time of each (resumed part of a) run |
//! | `psahost_sync_records_total` | connection, entity, change | records `created`, `updated`, `unchanged`, `deleted` by sync runs |
//!
//! The HTTP figures are read at scrape time from each connection's counters
//! ([`HttpStats`]); the counters of a connection re-opened by a plugin reload are kept and
//! added, so every series only grows.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use psahost_sandbox::capabilities::http::HttpStats;
use psahost_sandbox::runtime::CallObserver;
use psahost_store::RunRecord;
use psahost_workflows::linking::kept::CompanyIndexes;
use psahost_workflows::sync::{Progress, ProgressSink};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    plugin: String,
    operation: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    plugin: String,
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    plugin: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    connection: String,
    entity: String,
    mode: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LeaseLabels {
    change: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RecordLabels {
    connection: String,
    entity: String,
    change: String,
}

/// Every metric of the daemon, and the registry that encodes them.
pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    call_seconds: Family<OperationLabels, Histogram>,
    reloads: Family<ReloadLabels, Counter>,
    runs: Family<RunLabels, Counter>,
    run_seconds: Family<RunLabels, Histogram>,
    records: Family<RecordLabels, Counter>,
    leases_held: Gauge,
    peers: Gauge,
    lease_changes: Family<LeaseLabels, Counter>,
    http: Arc<HttpCollector>,
    linking: Arc<LinkingCollector>,
    /// Runs in progress: (connection, run id) -> when this part started, counts then.
    running: Mutex<HashMap<(String, u64), RunStart>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// When a run (or its resumed part) started, and its created/updated/unchanged/deleted then.
type RunStart = (Instant, [u64; 4]);

/// The HTTP counters of every connection (all of its openings), read at scrape time.
#[derive(Debug, Default)]
struct HttpCollector {
    stats: Mutex<BTreeMap<String, Vec<Arc<HttpStats>>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "psahost_plugin_calls",
            "Connector calls by plugin, operation and outcome",
            calls.clone(),
        );
        let call_seconds =
            Family::<OperationLabels, Histogram>::new_with_constructor(call_histogram as fn() -> _);
        registry.register(
            "psahost_plugin_call_duration_seconds",
            "Duration of connector calls",
            call_seconds.clone(),
        );
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "psahost_plugin_reloads",
            "Plugin hot reloads by outcome (swapped, rejected)",
            reloads.clone(),
        );
        let runs = Family::<RunLabels, Counter>::default();
        registry.register(
            "psahost_sync_runs",
            "Sync runs that stopped, by outcome (completed, held, suspended, failed)",
            runs.clone(),
        );
        let run_seconds =
            Family::<RunLabels, Histogram>::new_with_constructor(run_histogram as fn() -> _);
        registry.register(
            "psahost_sync_run_duration_seconds",
            "Wall time of sync runs (each resumed part counts on its own)",
            run_seconds.clone(),
        );
        let records = Family::<RecordLabels, Counter>::default();
        registry.register(
            "psahost_sync_records",
            "Records written by sync runs, by change (created, updated, unchanged, deleted)",
            records.clone(),
        );
        let leases_held = Gauge::default();
        registry.register(
            "psahost_cluster_leases_held",
            "Connections this replica holds the lease of (with [cluster]; else 0)",
            leases_held.clone(),
        );
        let peers = Gauge::default();
        registry.register(
            "psahost_cluster_peers",
            "Live replicas other than this one, as of the last membership round",
            peers.clone(),
        );
        let lease_changes = Family::<LeaseLabels, Counter>::default();
        registry.register(
            "psahost_cluster_lease_changes",
            "Leases this replica took, gave up (rebalancing) or lost (expired before renewal)",
            lease_changes.clone(),
        );
        let http = Arc::new(HttpCollector::default());
        registry.register_collector(Box::new(http.clone()));
        let linking = Arc::new(LinkingCollector::default());
        registry.register_collector(Box::new(linking.clone()));
        Metrics {
            registry,
            calls,
            call_seconds,
            reloads,
            runs,
            run_seconds,
            records,
            leases_held,
            peers,
            lease_changes,
            http,
            linking,
            running: Mutex::default(),
        }
    }

    /// Reports the counters of the linking workflow's kept indexes (read at scrape time).
    pub fn track_linking(&self, indexes: Arc<CompanyIndexes>) {
        *self
            .linking
            .indexes
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(indexes);
    }

    /// A membership round ended with `held` leases and `peers` live other replicas.
    pub fn cluster_round(&self, held: usize, peers: usize) {
        self.leases_held.set(held as i64);
        self.peers.set(peers as i64);
    }

    /// Counts a lease `taken`, `given-up` or `lost`.
    pub fn lease_change(&self, change: &str) {
        self.lease_changes
            .get_or_create(&LeaseLabels {
                change: change.to_string(),
            })
            .inc();
    }

    /// Counts the outbound HTTP of `connection` through `stats` (one more opening of it).
    pub fn track_http(&self, connection: &str, stats: Arc<HttpStats>) {
        let mut map = self.http.stats.lock().unwrap_or_else(|e| e.into_inner());
        let list = map.entry(connection.to_string()).or_default();
        if !list.iter().any(|s| Arc::ptr_eq(s, &stats)) {
            list.push(stats);
        }
    }

    /// Counts a plugin reload: `swapped` or `rejected`.
    pub fn plugin_reload(&self, plugin: &str, outcome: &str) {
        self.reloads
            .get_or_create(&ReloadLabels {
                plugin: plugin.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// The metrics as OpenMetrics text.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!("cannot encode the metrics: {e}");
        }
        out
    }

    fn run_finished(&self, connection: &str, run: &RunRecord) {
        let key = (connection.to_string(), run.id);
        let counts = counts(run);
        let started = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
        let (elapsed, before) = match started {
            Some((at, before)) => (at.elapsed(), before),
            None => (Duration::ZERO, counts),
        };
        let labels = RunLabels {
            connection: connection.to_string(),
            entity: run.entity.name().to_string(),
            mode: run.mode.name().to_string(),
            outcome: run.status.name().to_string(),
        };
        self.runs.get_or_create(&labels).inc();
        self.run_seconds
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        for (i, change) in ["created", "updated", "unchanged", "deleted"]
            .into_iter()
            .enumerate()
        {
            let delta = counts[i].saturating_sub(before[i]);
            if delta > 0 {
                self.records
                    .get_or_create(&RecordLabels {
                        connection: connection.to_string(),
                        entity: run.entity.name().to_string(),
                        change: change.to_string(),
                    })
                    .inc_by(delta);
            }
        }
    }
}

fn call_histogram() -> Histogram {
    // 1 ms .. ~16 s
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn run_histogram() -> Histogram {
    // 10 ms .. ~1.4 h
    Histogram::new(exponential_buckets(0.01, 3.0, 14))
}

fn counts(run: &RunRecord) -> [u64; 4] {
    [run.created, run.updated, run.unchanged, run.deleted]
}

impl CallObserver for Metrics {
    fn call_finished(&self, plugin: &str, operation: &str, outcome: &str, elapsed: Duration) {
        self.calls
            .get_or_create(&CallLabels {
                plugin: plugin.to_string(),
                operation: operation.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
        self.call_seconds
            .get_or_create(&OperationLabels {
                plugin: plugin.to_string(),
                operation: operation.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }
}

impl ProgressSink for Metrics {
    fn event(&self, event: &Progress<'_>) {
        match event {
            Progress::Started {
                connection, run, ..
            } => {
                self.running
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(
                        (connection.to_string(), run.id),
                        (Instant::now(), counts(run)),
                    );
            }
            Progress::Finished { connection, run } => self.run_finished(connection, run),
            Progress::Page { .. } | Progress::Retrying { .. } => {}
        }
    }
}

/// The counters of the kept linking indexes, read at scrape time.
#[derive(Default)]
struct LinkingCollector {
    indexes: Mutex<Option<Arc<CompanyIndexes>>>,
}

impl std::fmt::Debug for LinkingCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkingCollector").finish_non_exhaustive()
    }
}

impl Collector for LinkingCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(indexes) = self
            .indexes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        else {
            return Ok(());
        };
        let stats = indexes.stats();
        for (name, help, value) in [
            (
                "psahost_linking_index_cold_builds",
                "Linking indexes built from every company and contact of the store",
                stats.cold_builds,
            ),
            (
                "psahost_linking_index_warm_requests",
                "Linking requests whose kept index was brought up to date from the change feed",
                stats.warm_requests,
            ),
            (
                "psahost_linking_index_candidates_rebuilt",
                "Companies rebuilt in kept indexes from the change feed",
                stats.candidates_rebuilt,
            ),
            (
                "psahost_linking_index_evictions",
                "Kept linking indexes dropped to keep their number bound",
                stats.evicted,
            ),
        ] {
            let metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            ConstCounter::new(value).encode(metric)?;
        }
        Ok(())
    }
}

impl Collector for HttpCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        // Sums per connection over every opening of it.
        let map = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let sum = |list: &Vec<Arc<HttpStats>>, f: &dyn Fn(&HttpStats) -> u64| -> u64 {
            list.iter().map(|s| f(s)).sum()
        };
        type Field = (&'static str, &'static str, fn(&HttpStats) -> u64);
        let simple: [Field; 6] = [
            (
                "psahost_http_requests",
                "Outbound requests sent (each retry counts)",
                |s| s.requests.load(Ordering::Relaxed),
            ),
            (
                "psahost_http_denied",
                "Outbound requests refused by the grant",
                |s| s.denied.load(Ordering::Relaxed),
            ),
            (
                "psahost_http_rate_limit_waits",
                "Outbound requests that waited for, or were refused by, the rate limit",
                |s| s.rate_limited.load(Ordering::Relaxed),
            ),
            ("psahost_http_retries", "Retries after 429/503", |s| {
                s.retries.load(Ordering::Relaxed)
            }),
            (
                "psahost_http_rejected_endpoint_labels",
                "Endpoint labels that got no rate-limit scope of their own (too long, or too many)",
                |s| s.rejected_endpoint_labels.load(Ordering::Relaxed),
            ),
            (
                "psahost_http_response_bytes",
                "Bytes of response bodies received",
                |s| s.bytes_received.load(Ordering::Relaxed),
            ),
        ];
        for (name, help, read) in simple {
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (connection, list) in map.iter() {
                let labels = [("connection", connection.as_str())];
                let family = metric.encode_family(&labels)?;
                ConstCounter::new(sum(list, &read)).encode(family)?;
            }
        }
        let mut metric = encoder.encode_descriptor(
            "psahost_http_responses",
            "Responses by status class",
            None,
            MetricType::Counter,
        )?;
        for (connection, list) in map.iter() {
            for (class, name) in ["1xx", "2xx", "3xx", "4xx", "5xx"].iter().enumerate() {
                let labels = [("connection", connection.as_str()), ("class", name)];
                let family = metric.encode_family(&labels)?;
                let value = sum(list, &|s: &HttpStats| {
                    s.responses_by_class[class + 1].load(Ordering::Relaxed)
                });
                ConstCounter::new(value).encode(family)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use psahost_store::Entity;
    use psahost_store::{RunStatus, SyncMode};

    #[test]
    fn encodes_calls_runs_and_http() {
        let m = Metrics::new();
        m.call_finished("cw", "list-companies", "ok", Duration::from_millis(3));
        let stats = Arc::new(HttpStats::default());
        stats.requests.fetch_add(3, Ordering::Relaxed);
        stats.responses_by_class[2].fetch_add(2, Ordering::Relaxed);
        stats.responses_by_class[4].fetch_add(1, Ordering::Relaxed);
        m.track_http("acme", stats.clone());
        m.track_http("acme", stats);
        let mut run = RunRecord::new(1, Entity::Companies, SyncMode::Full);
        m.event(&Progress::Started {
            connection: "acme",
            run: &run,
            resumed: false,
        });
        run.created = 5;
        run.status = RunStatus::Completed;
        m.event(&Progress::Finished {
            connection: "acme",
            run: &run,
        });
        let text = m.encode();
        for line in [
            r#"psahost_plugin_calls_total{plugin="cw",operation="list-companies",outcome="ok"} 1"#,
            r#"psahost_http_requests_total{connection="acme"} 3"#,
            r#"psahost_http_responses_total{connection="acme",class="2xx"} 2"#,
            r#"psahost_http_responses_total{connection="acme",class="4xx"} 1"#,
            r#"psahost_sync_runs_total{connection="acme",entity="companies",mode="full",outcome="completed"} 1"#,
            r#"psahost_sync_records_total{connection="acme",entity="companies",change="created"} 5"#,
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
    }
}
