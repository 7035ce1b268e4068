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

/// A component that cranelift is slow and hungry to compile (with 12,000 locals: about 170 KB,
/// tens of seconds, hundreds of MiB; 6,000: a few seconds): one loop over `locals` locals, each step reading two and writing a third, so
/// every local is live across the whole loop (the register allocator's work grows faster
/// than the size).
pub fn slow_to_compile(locals: usize) -> Vec<u8> {
    let mut wat =
        String::from("(component (core module (func (export \"f\") (param i32) (result i32)\n");
    wat.push_str(&format!("(local{})\n(loop $l\n", " i32".repeat(locals)));
    for i in 0..locals {
        wat.push_str(&format!(
            "local.get {i} local.get {} i32.add local.set {}\n",
            (i * 7 + 3) % locals,
            (i * 13 + 5) % locals
        ));
    }
    wat.push_str("local.get 0 br_if $l)\n");
    for i in 0..locals {
        wat.push_str(&format!("local.get {i}\n"));
    }
    wat.push_str(&"i32.add\n".repeat(locals - 1));
    wat.push_str(")))");
    wat::parse_str(&wat).expect("valid component text")
}
