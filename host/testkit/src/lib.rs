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

/// The component with a custom section appended: another valid build of the same connector
/// (a different sha256, the same behaviour).
pub fn component_variant(original: &[u8], tag: &str) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let name = b"psahost-test";
    let mut content = Vec::new();
    leb(name.len(), &mut content);
    content.extend_from_slice(name);
    content.extend_from_slice(tag.as_bytes());
    let mut out = original.to_vec();
    out.push(0); // custom section
    leb(content.len(), &mut out);
    out.extend_from_slice(&content);
    out
}
