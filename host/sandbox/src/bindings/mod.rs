//! The host side of the `psa:connector` WIT package: one `bindgen!` per supported version.
//!
//! This module generates the current contract (`wit/`, 0.2.0): the union world `host` (both
//! plugin worlds), the import traits the capabilities implement, and the export wrappers of
//! `connector-api` and `rule-api`, looked up per plugin (a plugin exports only one of them).
//! [`v0_1_0`] generates the frozen 0.1.0 contract and adapts it. [`ConnectorGuest`] and
//! [`RuleGuest`] are a plugin's exports whatever version it was built for, in current types:
//! the rest of the host never sees an older version.
#![allow(missing_docs)]

pub mod v0_1_0;

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "psa:connector/host",
    imports: { default: async },
    exports: { default: async },
    additional_derives: [PartialEq],
});

use crate::runtime::CallState;
use wasmtime::component::{HasSelf, Linker};

/// Adds the psa:connector imports (http, kv, log, settings, types) of every supported version
/// to `linker`.
pub fn link_imports(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    psa::connector::types::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    psa::connector::http::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    psa::connector::kv::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    psa::connector::log::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    psa::connector::settings::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    v0_1_0::link_imports(linker)
}

/// The contract versions this host runs plugins of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContractVersion {
    /// `psa:connector@0.1.x`, adapted by [`v0_1_0`].
    V0_1,
    /// `psa:connector@0.2.x`, the current contract.
    V0_2,
}

impl ContractVersion {
    /// The version a component's export names (`0.1.0`, `0.2.3`), if this host supports it.
    pub fn of(version: &str) -> Option<ContractVersion> {
        let mut parts = version.split('.');
        let (major, minor) = (parts.next()?, parts.next()?);
        let patch = parts.next()?;
        if parts.next().is_some() || patch.is_empty() || !patch.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        match (major, minor) {
            ("0", "1") => Some(ContractVersion::V0_1),
            ("0", "2") => Some(ContractVersion::V0_2),
            _ => None,
        }
    }
}

/// The range of contract versions this host loads, for messages.
pub const SUPPORTED_RANGE: &str = "psa:connector 0.1.x and 0.2.x";

mod guests;
pub(crate) use guests::{ConnectorGuest, ConnectorIndices, RuleIndices};

impl psa::connector::types::Host for CallState {}

use psa::connector::types::{ConfigurationChanges, NewNote, NewTicket, PageRequest};

impl ConfigurationChanges {
    /// No change; set the fields that should change.
    pub fn none() -> Self {
        ConfigurationChanges {
            name: None,
            configuration_type_id: None,
            status_id: None,
            active: None,
            serial_number: None,
            model_number: None,
            mac_address: None,
            ip_address: None,
            device_identifier: None,
            manufacturer_id: None,
            vendor_id: None,
            notes: None,
            questions: Vec::new(),
            extra: None,
        }
    }
}

impl psa::connector::types::CredentialProblem {
    /// The settings named, joined for a message (`public-key` or `client-id, client-secret`).
    pub fn settings_text(&self) -> String {
        self.settings.join(", ")
    }
}

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
            marker: None,
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
            marker: None,
        }
    }
}

use exports::psa::connector::connector_api::{Entity, Operation};

impl Entity {
    /// The entity's name in the contract and the store (`companies`).
    pub fn name(self) -> &'static str {
        match self {
            Entity::Companies => "companies",
            Entity::Contacts => "contacts",
            Entity::Agreements => "agreements",
            Entity::Configurations => "configurations",
            Entity::Tickets => "tickets",
        }
    }
}

impl Operation {
    /// The operation's name in the contract (`list-companies`), which is also its export's.
    pub fn name(self) -> &'static str {
        match self {
            Operation::TestConnection => "test-connection",
            Operation::ListCompanies => "list-companies",
            Operation::GetCompany => "get-company",
            Operation::ListContacts => "list-contacts",
            Operation::GetContact => "get-contact",
            Operation::ListAgreements => "list-agreements",
            Operation::GetAgreement => "get-agreement",
            Operation::ListConfigurations => "list-configurations",
            Operation::GetConfiguration => "get-configuration",
            Operation::ListTickets => "list-tickets",
            Operation::GetTicket => "get-ticket",
            Operation::ListReferences => "list-references",
            Operation::CreateTicket => "create-ticket",
            Operation::AddTicketNote => "add-ticket-note",
            Operation::FindOpenTickets => "find-open-tickets",
            Operation::FindNoteByMarker => "find-note-by-marker",
            Operation::CreateConfiguration => "create-configuration",
            Operation::UpdateConfiguration => "update-configuration",
            Operation::SetContractServiceQuantity => "set-contract-service-quantity",
            Operation::ListDataset => "list-dataset",
        }
    }
}
