//! psahost runs PSA integrations as sandboxed WebAssembly components.
//!
//! - [`runtime`]: the engine, plugin loading and the per-call sandbox;
//! - [`capabilities`]: what a connection's calls may use (http, kv, log, settings);
//! - [`connector`]: typed and JSON calls of a connector's exports for one connection;
//! - [`config`]: the operator's `psahost.toml`;
//! - [`conformance`]: the connector conformance suite against the simulator;
//! - [`records`]: the synced entities and their records as JSON with the WIT field names;
//! - [`store`]: the record store (records, change feed, sync state, run history);
//! - [`sync`]: the sync engine (incremental runs, full sweeps, resume, suspension);
//! - [`views`]: business views over the records (MRR, eligible companies);
//! - [`daemon`]: `psahost serve`: scheduler, plugin hot reload, graceful shutdown;
//! - [`api`]: the daemon's HTTP API (axum), its OpenAPI document and metrics;
//! - [`cli`]: the `psahost` command.

pub mod api;
pub mod bindings;
pub mod capabilities;
pub mod cli;
pub mod config;
pub mod conformance;
pub mod connector;
pub mod daemon;
pub mod records;
pub mod runtime;
pub mod simulated;
pub mod store;
pub mod sync;
pub mod views;
