//! Test support shared by the host crates' integration tests (as cargo's own
//! `cargo-test-support`): never a dependency of a shipped crate.
//!
//! - [`sync`]: the simulator, the real ConnectWise connector bound to it, store queries, and a
//!   `psahost.toml` for the CLI's sync commands;
//! - [`daemon`]: a `psahost.toml` with an `[api]` section, an API client, `psahost serve` as a
//!   child process, and a validator of answers against the OpenAPI document.

pub mod daemon;
pub mod sync;

use std::path::PathBuf;

/// The compiled-component cache shared by the test runs.
pub fn cache_dir() -> PathBuf {
    std::env::temp_dir().join("psahost-test-cache")
}
