//! The first-party plugins, built for `wasm32-wasip2` by this crate's build script.
//!
//! `*_PATH` constants name the `.wasm` files (for tests and `psahost plugin` commands); bundled
//! connectors are also embedded as bytes so the `psahost` binary carries them.

include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));

/// The bundled connectors: (id, component bytes).
pub fn bundled() -> &'static [(&'static str, &'static [u8])] {
    BUNDLED
}
