//! The host side of the `psa:connector` WIT package: the host's one `bindgen!`.
//!
//! It generates the union world `host` (both plugin worlds): the import traits the
//! capabilities implement, and the export wrappers of `connector-api` and `rule-api`, which are
//! looked up per plugin through their `GuestIndices` (a plugin exports only one of them).
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../../wit",
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

use psa::connector::types::{NewNote, NewTicket, PageRequest};

impl PageRequest {
    /// The first page of a complete read.
    pub fn first(page_size: u32) -> Self {
        PageRequest {
            cursor: None,
            updated_since: None,
            page_size,
        }
    }
}

impl NewTicket {
    /// A ticket with a company and a summary; every other field left to the PSA's defaults.
    pub fn new(company_id: impl Into<String>, summary: impl Into<String>) -> Self {
        NewTicket {
            company_id: company_id.into(),
            contact_id: None,
            summary: summary.into(),
            description: None,
            queue_id: None,
            status_id: None,
            priority_id: None,
            ticket_type_id: None,
            sub_type_id: None,
            category_id: None,
            source_id: None,
            agreement_id: None,
            extra: None,
        }
    }
}

impl NewNote {
    /// A note on a ticket; not a resolution, no title or type.
    pub fn new(ticket_id: impl Into<String>, text: impl Into<String>, internal: bool) -> Self {
        NewNote {
            ticket_id: ticket_id.into(),
            text: text.into(),
            internal,
            resolution: false,
            title: None,
            note_type_id: None,
            extra: None,
        }
    }
}
