//! The first-party plugins, built for `wasm32-wasip2` by this crate's build script.
//!
//! `*_PATH` constants name the `.wasm` files (for tests and `psahost plugin` commands); bundled
//! connectors are also embedded as bytes so the `psahost` binary carries them.

include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));

/// The bundled connectors: (id, component bytes).
pub fn bundled() -> &'static [(&'static str, &'static [u8])] {
    BUNDLED
}

/// The ConnectWise Manage connector as built for contract 0.1.0 (a frozen test artifact, see
/// `plugins/compat/v0.1.0/README.md`): proof that a host upgrade never strands a vendor's file.
pub const CONNECTWISE_MANAGE_V0_1_0_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../compat/v0.1.0/connectwise-manage-0.1.0.wasm"
);

/// The example matching rule as built for contract 0.1.0 (a frozen test artifact).
pub const EXAMPLE_RULE_V0_1_0_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../compat/v0.1.0/example-rule-0.1.0.wasm"
);
