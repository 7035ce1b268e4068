//! The host side of the `psa:connector` WIT package: the host's one `bindgen!`.
//!
//! It generates the union world `host` (both plugin worlds): the import traits the
//! capabilities implement, and the export wrappers of `connector-api` and `rule-api`, which are
//! looked up per plugin through their `GuestIndices` (a plugin exports only one of them).
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "psa:connector/host",
    imports: { default: async },
    exports: { default: async },
    additional_derives: [PartialEq],
});

use crate::runtime::CallState;
use wasmtime::component::{HasSelf, Linker};

/// Adds the psa:connector imports (http, kv, log, settings, types) to `linker`.
pub fn link_imports(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    psa::connector::types::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    psa::connector::http::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    psa::connector::kv::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    psa::connector::log::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    psa::connector::settings::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    Ok(())
}

impl psa::connector::types::Host for CallState {}
