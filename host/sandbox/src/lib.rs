//! The psahost sandbox: everything between a plugin's `.wasm` file and a typed call of one of
//! its exports for one connection.
//!
//! - [`bindings`]: the host's one `bindgen!` of the `psa:connector` WIT package;
//! - [`runtime`]: the engine, plugin loading and the per-call sandbox (memory cap, deadline);
//! - [`capabilities`]: what a connection's calls may use, one module per WIT import (`http`,
//!   `kv`, `log`, `settings`);
//! - [`connector`]: a [`connector::Connection`] (a connector, its settings, grant, limits and
//!   kv namespace) with typed and JSON calls of its exports;
//! - [`rule`]: a [`rule::Rule`] (a matching rule component) with typed, bounded calls of
//!   `evaluate`;
//! - [`text`]: untrusted text made safe to show on one line of a terminal or a log.
//!
//! This crate knows nothing of the record store, the workflows or the daemon: they build on it.

pub mod bindings;
pub mod capabilities;
pub mod connector;
pub mod rule;
pub mod runtime;
pub mod text;
