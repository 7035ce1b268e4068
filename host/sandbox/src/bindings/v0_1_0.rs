//! `psa:connector@0.1.0`, the frozen first contract (`wit/v0.1.0/`): its bindings, its imports
//! served by the current capabilities, and its records adapted to the current types.
//!
//! This is the one place that knows 0.1.0. Everything above the sandbox sees current types
//! only: a 0.1.x plugin's records arrive with the 0.2.0 additions empty (no sites, questions
//! or datasets, `total` unknown, default paging), and a write 0.1.0 cannot express (a
//! configuration type change, question answers) is answered `unsupported` without calling
//! the plugin.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../../wit/v0.1.0",
    world: "psa:connector/host",
    imports: { default: async },
    exports: { default: async },
});

use super::exports::psa::connector::connector_api as cur_api;
use super::exports::psa::connector::rule_api as cur_rule;
use super::psa::connector as cur;
use crate::runtime::CallState;
use exports::psa::connector::connector_api as old_api;
use exports::psa::connector::rule_api as old_rule;
use psa::connector as old;
use wasmtime::component::{HasSelf, Linker};

/// Adds the 0.1.0 imports to `linker`, each served by the current capability.
pub(crate) fn link_imports(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    old::types::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    old::http::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    old::kv::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    old::log::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    old::settings::add_to_linker::<CallState, HasSelf<CallState>>(linker, |s| s)?;
    Ok(())
}

/// A value of one contract version as the same value of the other.
pub(crate) trait Convert<T> {
    fn convert(self) -> T;
}

macro_rules! identity {
    ($($t:ty),*) => { $(impl Convert<$t> for $t { fn convert(self) -> $t { self } })* };
}
identity!(String, bool, u8, u16, u32, u64, ());

impl<A: Convert<B>, B> Convert<Option<B>> for Option<A> {
    fn convert(self) -> Option<B> {
        self.map(Convert::convert)
    }
}

impl<A: Convert<B>, B> Convert<Vec<B>> for Vec<A> {
    fn convert(self) -> Vec<B> {
        self.into_iter().map(Convert::convert).collect()
    }
}

impl<A: Convert<C>, B: Convert<D>, C, D> Convert<(C, D)> for (A, B) {
    fn convert(self) -> (C, D) {
        (self.0.convert(), self.1.convert())
    }
}

impl<A: Convert<C>, B: Convert<D>, C, D> Convert<Result<C, D>> for Result<A, B> {
    fn convert(self) -> Result<C, D> {
        self.map(Convert::convert).map_err(Convert::convert)
    }
}

/// Records whose fields carry over by name; `; new: expr` fills fields only the target has.
macro_rules! record {
    ($from:path => $to:path { $($field:ident),* $(,)? } $(; $($new:ident : $value:expr),* )?) => {
        impl Convert<$to> for $from {
            fn convert(self) -> $to {
                $to { $($field: self.$field.convert(),)* $($($new: $value,)*)? }
            }
        }
    };
}

/// Enums (and variants without payloads) whose cases carry over by name.
macro_rules! cases {
    ($from:path => $to:path { $($case:ident),* $(,)? }) => {
        impl Convert<$to> for $from {
            fn convert(self) -> $to {
                use $from as F;
                use $to as T;
                match self { $(F::$case => T::$case,)* }
            }
        }
    };
}

// The imports: the guest's 0.1.0 values in, the current capability's answers out.

record!(old::http::Request => cur::http::Request { method, url, headers, body, endpoint, retryable });
cases!(old::http::Method => cur::http::Method { Get, Head, Post, Put, Patch, Delete });
record!(cur::http::Response => old::http::Response { status, headers, body });

impl Convert<old::http::HttpError> for cur::http::HttpError {
    fn convert(self) -> old::http::HttpError {
        use cur::http::HttpError as C;
        use old::http::HttpError as O;
        match self {
            C::Denied(m) => O::Denied(m),
            C::InvalidRequest(m) => O::InvalidRequest(m),
            C::Timeout(m) => O::Timeout(m),
            C::ResponseTooLarge(n) => O::ResponseTooLarge(n),
            C::RateLimited(n) => O::RateLimited(n),
            C::Connection(m) => O::Connection(m),
        }
    }
}

impl Convert<old::kv::KvError> for cur::kv::KvError {
    fn convert(self) -> old::kv::KvError {
        use cur::kv::KvError as C;
        use old::kv::KvError as O;
        match self {
            C::KeyTooLarge(n) => O::KeyTooLarge(n),
            C::ValueTooLarge(n) => O::ValueTooLarge(n),
            C::QuotaExceeded(n) => O::QuotaExceeded(n),
            C::Storage(m) => O::Storage(m),
        }
    }
}

cases!(old::log::Level => cur::log::Level { Trace, Debug, Info, Warn, Error });

impl old::types::Host for CallState {}

impl old::http::Host for CallState {
    async fn send(
        &mut self,
        request: old::http::Request,
    ) -> Result<old::http::Response, old::http::HttpError> {
        cur::http::Host::send(self, request.convert())
            .await
            .convert()
    }
}

impl old::kv::Host for CallState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, old::kv::KvError> {
        cur::kv::Host::get(self, key).await.convert()
    }
    async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), old::kv::KvError> {
        cur::kv::Host::set(self, key, value).await.convert()
    }
    async fn delete(&mut self, key: String) -> Result<(), old::kv::KvError> {
        cur::kv::Host::delete(self, key).await.convert()
    }
    async fn list_keys(&mut self, prefix: String) -> Result<Vec<String>, old::kv::KvError> {
        cur::kv::Host::list_keys(self, prefix).await.convert()
    }
}

impl old::log::Host for CallState {
    async fn log(&mut self, level: old::log::Level, message: String) {
        cur::log::Host::log(self, level.convert(), message).await
    }
}

impl old::settings::Host for CallState {
    async fn get(&mut self, name: String) -> Option<String> {
        cur::settings::Host::get(self, name).await
    }
}

// The exports' results: 0.1.0 records as current ones.

use cur::types as t;
use cur_api as a;
use cur_rule as r;

impl Convert<t::Error> for old::types::Error {
    fn convert(self) -> t::Error {
        use old::types::Error as O;
        match self {
            O::Unauthorized(p) => t::Error::Unauthorized(t::CredentialProblem {
                settings: vec![p.setting],
                message: p.message,
            }),
            O::Forbidden(p) => t::Error::Forbidden(p.convert()),
            O::NotFound(m) => t::Error::NotFound(m),
            O::InvalidInput(p) => t::Error::InvalidInput(p.convert()),
            O::RateLimited(h) => t::Error::RateLimited(h.convert()),
            O::Unavailable(m) => t::Error::Unavailable(m),
            O::Unsupported(m) => t::Error::Unsupported(m),
            O::Remote(p) => t::Error::Remote(p.convert()),
        }
    }
}
record!(old::types::PermissionProblem => t::PermissionProblem { permission, message });
record!(old::types::FieldProblem => t::FieldProblem { field, message });
record!(old::types::RetryHint => t::RetryHint { retry_after_ms, message });
record!(old::types::RemoteProblem => t::RemoteProblem { status, code, message });
record!(old::types::EntityRef => t::EntityRef { id, name });
record!(old::types::Address => t::Address { line1, line2, city, state, postal_code, country });
record!(old::types::Company => t::Company {
    id, name, identifier, status, active, types, phone, website, address, updated_at, raw
}; parent_id: None, classification: None, market_segment: None, sites: Vec::new());
record!(old::types::Contact => t::Contact {
    id, company_id, first_name, last_name, title, emails, phones, active, primary, updated_at, raw
});
cases!(old::types::BillingCycle => t::BillingCycle { Monthly, Quarterly, SemiAnnual, Annual, OneTime, Other });
record!(old::types::Agreement => t::Agreement {
    id, company_id, name, agreement_type, status, start_date, end_date, recurring, cancelled,
    billing_cycle, bill_amount, lines, updated_at, raw
});
record!(old::types::AgreementLine => t::AgreementLine {
    id, product, description, quantity, unit_price, billable, billing_cycle, effective_date,
    cancelled_date, raw
});
record!(old::types::Configuration => t::Configuration {
    id, company_id, name, configuration_type, status, active, serial_number, model_number,
    mac_address, ip_address, device_identifier, manufacturer, vendor, notes, updated_at, raw
}; questions: Vec::new());
record!(old::types::Ticket => t::Ticket {
    id, summary, company_id, contact_id, queue, status, priority, ticket_type, sub_type, source,
    agreement_id, closed, created_at, updated_at, raw
});
record!(old::types::Note => t::Note {
    id, ticket_id, text, internal, resolution, created_at, created_by, raw
});
record!(old::types::Reference => t::Reference { id, name, active, parent_id, raw });

record!(old_api::CompanyPage => a::CompanyPage { items, next_cursor }; total: None);
record!(old_api::ContactPage => a::ContactPage { items, next_cursor }; total: None);
record!(old_api::AgreementPage => a::AgreementPage { items, next_cursor }; total: None);
record!(old_api::ConfigurationPage => a::ConfigurationPage { items, next_cursor }; total: None);
record!(old_api::TicketPage => a::TicketPage { items, next_cursor }; total: None);
record!(old_api::ConnectionReport => a::ConnectionReport { message, details });
record!(old_api::SettingSpec => a::SettingSpec {
    name, label, description, required, secret, default_value, example
});
cases!(old_api::Operation => a::Operation {
    TestConnection, ListCompanies, GetCompany, ListContacts, GetContact, ListAgreements,
    GetAgreement, ListConfigurations, GetConfiguration, ListTickets, GetTicket, ListReferences,
    CreateTicket, AddTicketNote, FindOpenTickets, CreateConfiguration, UpdateConfiguration,
    SetContractServiceQuantity,
});
cases!(old_api::LimitScope => a::LimitScope { Connection, Endpoint });
record!(old_api::RateLimitHint => a::RateLimitHint { scope, requests, per_seconds, max_concurrent });
// A 0.1.x connector declared no paging: the host pages it as before (its default page size,
// full sweeps and updated-since as the operations say), and it has no datasets.
record!(old_api::ConnectorInfo => a::ConnectorInfo {
    id, name, version, vendor, description, settings, outbound_hosts, operations, rate_limits
}; paging: Vec::new(), datasets: Vec::new(), read_only_configuration_types: Vec::new());

record!(old_rule::RuleInfo => r::RuleInfo {
    id, name, version, vendor, description, subject_kinds, candidate_entities
});
record!(old_rule::Verdict => r::Verdict { candidate_id, matched, score, reason });

// The exports' arguments: current values as 0.1.0 ones.

use old::types as old_t;
record!(t::PageRequest => old_t::PageRequest { cursor, updated_since, page_size });
cases!(t::ReferenceKind => old_t::ReferenceKind {
    Queue, TicketStatus, TicketPriority, TicketType, TicketSubType, TicketCategory, TicketSource,
    NoteType, ConfigurationType, ConfigurationStatus, Manufacturer, Vendor, ContractService,
    CompanyStatus, CompanyType, AgreementType,
});
record!(r::Subject => old_rule::Subject { kind, id, fields, raw });
record!(r::Candidate => old_rule::Candidate { entity, id, fields, raw });

/// What a 0.1.x plugin cannot be asked: the error the host answers in its place.
fn inexpressible(what: &str) -> t::Error {
    t::Error::Unsupported(format!(
        "{what} needs contract 0.2.0 and this plugin was built for 0.1.x: upgrade the plugin"
    ))
}

/// A new configuration for a 0.1.x connector, which has no questions.
pub(crate) fn new_configuration(
    c: &t::NewConfiguration,
) -> Result<old_t::NewConfiguration, t::Error> {
    if !c.questions.is_empty() {
        return Err(inexpressible("answering configuration questions"));
    }
    let c = c.clone();
    Ok(old_t::NewConfiguration {
        company_id: c.company_id,
        name: c.name,
        configuration_type_id: c.configuration_type_id,
        status_id: c.status_id,
        serial_number: c.serial_number,
        model_number: c.model_number,
        mac_address: c.mac_address,
        ip_address: c.ip_address,
        device_identifier: c.device_identifier,
        manufacturer_id: c.manufacturer_id,
        vendor_id: c.vendor_id,
        notes: c.notes,
        extra: c.extra,
    })
}

/// A new ticket for a 0.1.x connector, which cannot store a marker.
pub(crate) fn new_ticket(n: &t::NewTicket) -> Result<old_t::NewTicket, t::Error> {
    if n.marker.is_some() {
        return Err(inexpressible("a ticket marker"));
    }
    let n = n.clone();
    Ok(old_t::NewTicket {
        company_id: n.company_id,
        contact_id: n.contact_id,
        summary: n.summary,
        description: n.description,
        queue_id: n.queue_id,
        status_id: n.status_id,
        priority_id: n.priority_id,
        ticket_type_id: n.ticket_type_id,
        sub_type_id: n.sub_type_id,
        category_id: n.category_id,
        source_id: n.source_id,
        agreement_id: n.agreement_id,
        extra: n.extra,
    })
}

/// A new note for a 0.1.x connector, which cannot store a marker.
pub(crate) fn new_note(n: &t::NewNote) -> Result<old_t::NewNote, t::Error> {
    if n.marker.is_some() {
        return Err(inexpressible("a note marker"));
    }
    let n = n.clone();
    Ok(old_t::NewNote {
        ticket_id: n.ticket_id,
        text: n.text,
        internal: n.internal,
        resolution: n.resolution,
        title: n.title,
        note_type_id: n.note_type_id,
        extra: n.extra,
    })
}

/// A ticket filter for a 0.1.x connector, which cannot find a ticket by marker.
pub(crate) fn ticket_filter(f: &t::TicketFilter) -> Result<old_t::TicketFilter, t::Error> {
    if f.marker.is_some() {
        return Err(inexpressible("finding a ticket by marker"));
    }
    let f = f.clone();
    Ok(old_t::TicketFilter {
        company_id: f.company_id,
        summary: f.summary,
        queue_id: f.queue_id,
        limit: f.limit,
    })
}

/// What `find-note-by-marker` answers for a 0.1.x connector, which has no such export.
pub(crate) fn no_note_markers() -> t::Error {
    inexpressible("finding a note by marker")
}

/// Configuration changes for a 0.1.x connector, which can change neither the type nor answers.
pub(crate) fn configuration_changes(
    c: &t::ConfigurationChanges,
) -> Result<old_t::ConfigurationChanges, t::Error> {
    if c.configuration_type_id.is_some() {
        return Err(inexpressible("changing a configuration's type"));
    }
    if !c.questions.is_empty() {
        return Err(inexpressible("answering configuration questions"));
    }
    let c = c.clone();
    Ok(old_t::ConfigurationChanges {
        name: c.name,
        status_id: c.status_id,
        active: c.active,
        serial_number: c.serial_number,
        model_number: c.model_number,
        mac_address: c.mac_address,
        ip_address: c.ip_address,
        device_identifier: c.device_identifier,
        manufacturer_id: c.manufacturer_id,
        vendor_id: c.vendor_id,
        notes: c.notes,
        extra: c.extra,
    })
}

/// A 0.1.x connector has no datasets: the answer `list-dataset` would have given.
pub(crate) fn no_datasets(dataset: &str) -> t::Error {
    t::Error::InvalidInput(t::FieldProblem {
        field: "dataset".into(),
        message: format!(
            "`{dataset}` is not a dataset of this connector: it was built for contract 0.1.x, which has no datasets"
        ),
    })
}

pub(crate) use old_api::GuestIndices as ConnectorIndices;
pub(crate) use old_rule::{Guest as RuleGuest, GuestIndices as RuleIndices};

/// The 0.1.0 connector interface's name, as bindgen looks it up.
pub(crate) const CONNECTOR_INTERFACE: &str = "psa:connector/connector-api@0.1.0";

/// A 0.1.x connector's exports, for a call (see [`super::guests::LazyGuest`]).
pub(crate) type ConnectorGuest = super::guests::LazyGuest<ConnectorIndices>;

use old::types::{
    Agreement, Company, Configuration, ConfigurationChanges, Contact, Error as OldError,
    NewConfiguration, NewNote, NewTicket, Note, PageRequest, Reference, ReferenceKind, Ticket,
    TicketFilter,
};
use old_api::{
    AgreementPage, CompanyPage, ConfigurationPage, ConnectionReport, ConnectorInfo, ContactPage,
    TicketPage,
};

super::guests::lazy_calls! { ConnectorIndices {
    call_describe = "describe"() -> ConnectorInfo;
    call_test_connection = "test-connection"() -> Result<ConnectionReport, OldError>;
    call_list_companies = "list-companies"(page: &PageRequest) -> Result<CompanyPage, OldError>;
    call_get_company = "get-company"(id: &str) -> Result<Company, OldError>;
    call_list_contacts = "list-contacts"(page: &PageRequest) -> Result<ContactPage, OldError>;
    call_get_contact = "get-contact"(id: &str) -> Result<Contact, OldError>;
    call_list_agreements = "list-agreements"(page: &PageRequest) -> Result<AgreementPage, OldError>;
    call_get_agreement = "get-agreement"(id: &str) -> Result<Agreement, OldError>;
    call_list_configurations = "list-configurations"(page: &PageRequest) -> Result<ConfigurationPage, OldError>;
    call_get_configuration = "get-configuration"(id: &str) -> Result<Configuration, OldError>;
    call_list_tickets = "list-tickets"(page: &PageRequest) -> Result<TicketPage, OldError>;
    call_get_ticket = "get-ticket"(id: &str) -> Result<Ticket, OldError>;
    call_list_references = "list-references"(kind: ReferenceKind) -> Result<Vec<Reference>, OldError>;
    call_create_ticket = "create-ticket"(ticket: &NewTicket) -> Result<Ticket, OldError>;
    call_add_ticket_note = "add-ticket-note"(note: &NewNote) -> Result<Note, OldError>;
    call_find_open_tickets = "find-open-tickets"(filter: &TicketFilter) -> Result<Vec<Ticket>, OldError>;
    call_create_configuration = "create-configuration"(configuration: &NewConfiguration) -> Result<Configuration, OldError>;
    call_update_configuration = "update-configuration"(id: &str, changes: &ConfigurationChanges) -> Result<Configuration, OldError>;
    call_set_contract_service_quantity = "set-contract-service-quantity"(agreement_id: &str, service_id: &str, quantity: &str) -> Result<(), OldError>;
}}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    /// 0.1.0 is released: its WIT stays byte for byte what vendors built against (commit
    /// `a2d83fc`). A change here strands their components; make a new version instead.
    #[test]
    fn the_0_1_0_contract_is_frozen() {
        let files: [(&str, &[u8], &str); 4] = [
            (
                "connector.wit",
                include_bytes!("../../../../wit/v0.1.0/connector.wit"),
                "d49aeb329232a8a8d15e8decbf17e7e06b67de3396b6944b83e98812d39be6af",
            ),
            (
                "host.wit",
                include_bytes!("../../../../wit/v0.1.0/host.wit"),
                "d64b179d12b9deeb02695ca87f45c22a3685aa6cf83b317696783268a993caad",
            ),
            (
                "matching.wit",
                include_bytes!("../../../../wit/v0.1.0/matching.wit"),
                "902057e53436df5e94f02f157e384d02a2672a1efb550a93aa2553a2f1133c82",
            ),
            (
                "types.wit",
                include_bytes!("../../../../wit/v0.1.0/types.wit"),
                "669d6e562790981e74a11448b5555f8f74259e54c26a856345a8815275b0c3cd",
            ),
        ];
        for (name, bytes, sha256) in files {
            assert_eq!(
                hex::encode(Sha256::digest(bytes)),
                sha256,
                "wit/v0.1.0/{name} changed"
            );
        }
    }
}
