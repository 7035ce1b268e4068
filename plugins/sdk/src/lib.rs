//! # psa-sdk: write psahost connectors and matching rules in Rust
//!
//! A *connector* is a WebAssembly component that speaks one PSA's API on behalf of the psahost
//! host. The host gives it outbound HTTP (to the hosts the operator granted), a small private
//! key-value store, logging and the connection's settings; the connector returns typed records.
//!
//! ```no_run
//! use psa_sdk::prelude::*;
//!
//! struct Acme;
//!
//! impl Connector for Acme {
//!     fn describe() -> ConnectorInfo {
//!         ConnectorInfo {
//!             id: "acme-psa".into(),
//!             name: "Acme PSA".into(),
//!             version: env!("CARGO_PKG_VERSION").into(),
//!             vendor: "Acme".into(),
//!             description: "Companies from Acme PSA".into(),
//!             settings: vec![
//!                 setting("site", "Site", "The API host, e.g. api.acme.example").required(),
//!                 setting("api-key", "API key", "Settings > API").required().secret(),
//!             ],
//!             outbound_hosts: vec!["https://{site}".into()],
//!             operations: vec![Operation::TestConnection, Operation::ListCompanies],
//!             rate_limits: vec![],
//!             // Acme serves 200 companies a page and filters them by `updatedSince`.
//!             paging: vec![PagingSpec::new(Entity::Companies, 200, true)],
//!             datasets: vec![],
//!             read_only_configuration_types: vec![],
//!         }
//!     }
//!
//!     fn test_connection() -> Result<ConnectionReport> {
//!         let site = settings::require("site")?;
//!         let key = settings::require("api-key")?;
//!         // 401 -> unauthorized naming `api-key`, 429 -> rate-limited, 5xx -> unavailable, ...
//!         http::Request::get(format!("https://{site}/v1/me"))
//!             .bearer_auth(&key)
//!             .send()?
//!             .check(&status::ErrorMap::new("Acme PSA", "api-key"))?;
//!         Ok(ConnectionReport { message: format!("connected to {site}"), details: "{}".into() })
//!     }
//! }
//!
//! psa_sdk::export_connector!(Acme);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` and inspect the result with
//! `psahost plugin inspect target/wasm32-wasip2/release/acme_psa.wasm`. See `plugins/README.md`.
//!
//! ## Helpers every connector needs
//!
//! Small pure functions (no host call, so they unit-test natively) for what every PSA's connector
//! would otherwise write again. They add no dependency beyond `serde_json`.
//!
//! - [`json`]: lenient field accessors for PSA records (ids as numbers or strings, blank text as
//!   absent, flags as `true` or `1`).
//! - [`decimal`]: money and quantities from JSON numbers as decimal strings without float
//!   artefacts (`0.3`, never `0.30000000000000004`), and validation of decimal input.
//! - [`time`]: RFC 3339 times from the PSA or the host normalised to the contract's UTC form
//!   (`2026-03-01T10:00:00Z`), date parts, invalid times named by their input, and the clock.
//! - [`input`]: the contract's inputs validated: record ids given as text, and the `extra` JSON
//!   object of PSA fields that writes accept.
//! - [`origin`]: the origin (`https://host[:port]`) of a server setting as operators type it (a
//!   bare host, a full origin, or a pasted address with a path).
//! - [`cursor`]: a small versioned `key=value` codec for the opaque cursors of paged reads, which
//!   refuses (naming `cursor`) a cursor of another version, entity or connector.
//! - [`dataset`]: the dataset a `list-dataset` call names (or `invalid-input` naming `dataset`),
//!   and a list answer's records as dataset records (id, last change in UTC, own text).
//! - [`paging`]: pagers for keyset (`id > last`), page-number-with-total (adapting to a silently
//!   capped page size) and next-URL paging, each with its cursor.
//! - `fake` (native builds only): an in-process fake of the host (scripted HTTP answers,
//!   settings, an in-memory kv, captured logs, the requests sent) so a connector's code that
//!   calls the host runs in a plain `cargo test`.
//! - [`oauth2`]: OAuth2 client credentials (token endpoint, scope, tenant parameter) and a kv
//!   cache of any token keyed by a fingerprint of the credentials, renewed before it expires
//!   and once after a 401, never in an error or a log line.
//! - [`message`] and [`Error::redact`]: secrets redacted from errors and log lines, long PSA
//!   answers shortened to an excerpt.
//! - [`status`]: a PSA's error answer mapped to the contract's error (401, 403, 404, 429 with
//!   `Retry-After`, 5xx, anything else with an excerpt), with the connector's hook for what only
//!   its PSA says.
//!
//! ```
//! use psa_sdk::{decimal, json, time};
//! use serde_json::json;
//!
//! let line = json!({"id": 101, "quantity": 2.5, "unitPrice": 45.1, "lastUpdated": "2026-03-01T12:00:00+02:00"});
//! assert_eq!(json::id(&line["id"]).as_deref(), Some("101"));
//! assert_eq!(decimal::from_json(&line["unitPrice"]).as_deref(), Some("45.1"));
//! assert_eq!(
//!     json::text(&line, "lastUpdated").and_then(|t| time::to_utc(&t)).as_deref(),
//!     Some("2026-03-01T10:00:00Z")
//! );
//! ```

extern crate self as psa_sdk;

pub mod bindings;
pub mod cursor;
pub mod dataset;
pub mod decimal;
pub mod error;
#[cfg(not(target_family = "wasm"))]
pub mod fake;
mod host;
pub mod http;
pub mod input;
pub mod json;
pub mod kv;
pub mod log;
pub mod marker;
pub mod message;
pub mod oauth2;
pub mod origin;
pub mod paging;
pub mod settings;
pub mod status;
pub mod time;

pub use error::{Error, Result};

/// The version of the `psa:connector` WIT package this SDK is generated from (the `@0.2.0` of
/// `package psa:connector@0.2.0;`). The host refuses a plugin built against a package version
/// it does not implement; `psahost plugin inspect` shows the version a component was built with.
pub const WIT_VERSION: &str = "0.2.0";

/// The WIT package name, `psa:connector`.
pub const WIT_PACKAGE: &str = "psa:connector";

/// The records, inputs and helper types of the contract.
pub mod types {
    pub use crate::bindings::exports::psa::connector::connector_api::{
        AgreementPage, CompanyPage, ConfigurationPage, ConnectionReport, ConnectorInfo,
        ContactPage, DatasetPage, DatasetSpec, Entity, LimitScope, Operation, PagingSpec,
        RateLimitHint, SettingSpec, TicketPage,
    };
    pub use crate::bindings::psa::connector::types::{
        Address, Agreement, AgreementLine, BillingCycle, Company, ConfigurationAnswer,
        ConfigurationChanges, Contact, DatasetRecord, EntityRef, NewConfiguration, NewNote,
        NewTicket, Note, PageRequest, Reference, ReferenceKind, Site, Ticket, TicketFilter,
    };
    pub use crate::bindings::rule::exports::psa::connector::rule_api::{
        Candidate, RuleInfo, Subject, Verdict,
    };
    // `Configuration` is also a wit-bindgen name; keep the contract's meaning explicit.
    pub use crate::bindings::psa::connector::types::Configuration;

    impl BillingCycle {
        /// A billing cycle from the name a PSA gives it (`Monthly`, `Quarterly`, `Semi-Annual`,
        /// `Semi-Annually`, `Annual`, `Yearly`, `One Time`, ...: case, blanks and punctuation
        /// ignored); unknown names are `other`.
        pub fn from_name(name: &str) -> BillingCycle {
            let key: String = name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            match key.as_str() {
                "monthly" | "month" => BillingCycle::Monthly,
                "quarterly" | "quarter" => BillingCycle::Quarterly,
                "semiannual" | "semiannually" | "biannual" | "biannually" | "halfyearly" => {
                    BillingCycle::SemiAnnual
                }
                "annual" | "annually" | "yearly" | "year" => BillingCycle::Annual,
                "onetime" | "once" => BillingCycle::OneTime,
                _ => BillingCycle::Other,
            }
        }
    }

    /// A setting description with the common defaults (optional, not secret, no default value).
    pub fn setting(name: &str, label: &str, description: &str) -> SettingSpec {
        SettingSpec {
            name: name.into(),
            label: label.into(),
            description: description.into(),
            required: false,
            secret: false,
            default_value: None,
            example: None,
        }
    }

    impl SettingSpec {
        /// Marks the setting required.
        pub fn required(mut self) -> Self {
            self.required = true;
            self
        }

        /// Marks the setting secret: the host redacts it everywhere.
        pub fn secret(mut self) -> Self {
            self.secret = true;
            self
        }

        /// Sets the value used when the operator gives none.
        pub fn default_value(mut self, value: &str) -> Self {
            self.default_value = Some(value.into());
            self
        }

        /// Sets an example value.
        pub fn example(mut self, value: &str) -> Self {
            self.example = Some(value.into());
            self
        }
    }

    impl PagingSpec {
        /// How `entity` is paged: at most `max_page_size` records a page, and whether
        /// `updated-since` is honoured.
        pub fn new(entity: Entity, max_page_size: u32, updated_since: bool) -> Self {
            PagingSpec {
                entity,
                max_page_size,
                updated_since,
            }
        }
    }

    impl DatasetSpec {
        /// A dataset `name` (lowercase, dashes, plural) shown as `label`, described by
        /// `description` (which PSA entity or endpoint), served at most `max_page_size` records
        /// a page, in full sweeps only until [`DatasetSpec::incremental`].
        pub fn new(name: &str, label: &str, description: &str, max_page_size: u32) -> Self {
            DatasetSpec {
                name: name.into(),
                label: label.into(),
                description: description.into(),
                updated_since: false,
                max_page_size,
            }
        }

        /// Marks the dataset incremental: `updated-since` is honoured and every record has its
        /// `updated-at`.
        pub fn incremental(mut self) -> Self {
            self.updated_since = true;
            self
        }
    }

    impl EntityRef {
        /// A reference with an id and an optional name.
        pub fn new(id: impl Into<String>, name: Option<String>) -> Self {
            EntityRef {
                id: id.into(),
                name,
            }
        }
    }
}

/// Everything a connector usually needs, for `use psa_sdk::prelude::*`.
pub mod prelude {
    pub use crate::error::{Error, Result};
    pub use crate::types::*;
    pub use crate::{Connector, MatchingRule, http, kv, log, settings, status};
}

use types::*;

fn not_implemented<T>(operation: &str) -> Result<T> {
    Err(Error::unsupported(format!(
        "this connector does not implement `{operation}`"
    )))
}

/// A PSA connector. Implement `describe` and the operations your PSA supports; the others answer
/// `unsupported`. Export the type with [`export_connector!`].
///
/// Every call runs in a fresh sandbox: keep state in [`kv`], not in statics.
#[allow(unused_variables)]
pub trait Connector {
    /// The connector's identity, settings, outbound hosts, operations and rate-limit hints.
    fn describe() -> ConnectorInfo;

    /// Checks the settings against the PSA; errors name the setting to fix.
    fn test_connection() -> Result<ConnectionReport> {
        not_implemented("test-connection")
    }
    /// One page of companies.
    fn list_companies(page: PageRequest) -> Result<CompanyPage> {
        not_implemented("list-companies")
    }
    /// One company.
    fn get_company(id: String) -> Result<Company> {
        not_implemented("get-company")
    }
    /// One page of contacts.
    fn list_contacts(page: PageRequest) -> Result<ContactPage> {
        not_implemented("list-contacts")
    }
    /// One contact.
    fn get_contact(id: String) -> Result<Contact> {
        not_implemented("get-contact")
    }
    /// One page of agreements with their lines.
    fn list_agreements(page: PageRequest) -> Result<AgreementPage> {
        not_implemented("list-agreements")
    }
    /// One agreement with its lines.
    fn get_agreement(id: String) -> Result<Agreement> {
        not_implemented("get-agreement")
    }
    /// One page of configuration items.
    fn list_configurations(page: PageRequest) -> Result<ConfigurationPage> {
        not_implemented("list-configurations")
    }
    /// One configuration item.
    fn get_configuration(id: String) -> Result<Configuration> {
        not_implemented("get-configuration")
    }
    /// One page of tickets.
    fn list_tickets(page: PageRequest) -> Result<TicketPage> {
        not_implemented("list-tickets")
    }
    /// One ticket.
    fn get_ticket(id: String) -> Result<Ticket> {
        not_implemented("get-ticket")
    }
    /// A complete picklist.
    fn list_references(kind: ReferenceKind) -> Result<Vec<Reference>> {
        not_implemented("list-references")
    }
    /// Creates a ticket.
    fn create_ticket(ticket: NewTicket) -> Result<Ticket> {
        not_implemented("create-ticket")
    }
    /// Adds a note to a ticket.
    fn add_ticket_note(note: NewNote) -> Result<Note> {
        not_implemented("add-ticket-note")
    }
    /// Open tickets matching a filter (with `filter.marker`: the ticket created with that
    /// marker, open or closed; see [`marker`]).
    fn find_open_tickets(filter: TicketFilter) -> Result<Vec<Ticket>> {
        not_implemented("find-open-tickets")
    }
    /// The note of a ticket added with `new-note.marker` = `marker`, if any (see [`marker`]).
    fn find_note_by_marker(ticket_id: String, marker: String) -> Result<Option<Note>> {
        let _ = (ticket_id, marker);
        not_implemented("find-note-by-marker")
    }
    /// Creates a configuration item.
    fn create_configuration(configuration: NewConfiguration) -> Result<Configuration> {
        not_implemented("create-configuration")
    }
    /// Changes a configuration item.
    fn update_configuration(id: String, changes: ConfigurationChanges) -> Result<Configuration> {
        not_implemented("update-configuration")
    }
    /// Sets the quantity of a service on a contract.
    fn set_contract_service_quantity(
        agreement_id: String,
        service_id: String,
        quantity: String,
    ) -> Result<()> {
        not_implemented("set-contract-service-quantity")
    }
    /// One page of dataset `dataset` (a name of `describe().datasets`); an unknown name is
    /// `invalid-input` naming `dataset`.
    fn list_dataset(dataset: String, page: PageRequest) -> Result<DatasetPage> {
        not_implemented("list-dataset")
    }
}

/// A matching rule. Export the type with [`export_rule!`].
pub trait MatchingRule {
    /// The rule's identity.
    fn describe() -> RuleInfo;
    /// One verdict per candidate.
    fn evaluate(subject: Subject, candidates: Vec<Candidate>) -> Vec<Verdict>;
}

/// Adapts a [`Connector`] to the generated export trait. Used by [`export_connector!`].
#[doc(hidden)]
pub struct ConnectorExport<T>(core::marker::PhantomData<T>);

impl<T: Connector> bindings::exports::psa::connector::connector_api::Guest for ConnectorExport<T> {
    fn describe() -> ConnectorInfo {
        T::describe()
    }
    fn test_connection() -> Result<ConnectionReport> {
        T::test_connection()
    }
    fn list_companies(page: PageRequest) -> Result<CompanyPage> {
        T::list_companies(page)
    }
    fn get_company(id: String) -> Result<Company> {
        T::get_company(id)
    }
    fn list_contacts(page: PageRequest) -> Result<ContactPage> {
        T::list_contacts(page)
    }
    fn get_contact(id: String) -> Result<Contact> {
        T::get_contact(id)
    }
    fn list_agreements(page: PageRequest) -> Result<AgreementPage> {
        T::list_agreements(page)
    }
    fn get_agreement(id: String) -> Result<Agreement> {
        T::get_agreement(id)
    }
    fn list_configurations(page: PageRequest) -> Result<ConfigurationPage> {
        T::list_configurations(page)
    }
    fn get_configuration(id: String) -> Result<Configuration> {
        T::get_configuration(id)
    }
    fn list_tickets(page: PageRequest) -> Result<TicketPage> {
        T::list_tickets(page)
    }
    fn get_ticket(id: String) -> Result<Ticket> {
        T::get_ticket(id)
    }
    fn list_references(kind: ReferenceKind) -> Result<Vec<Reference>> {
        T::list_references(kind)
    }
    fn create_ticket(ticket: NewTicket) -> Result<Ticket> {
        T::create_ticket(ticket)
    }
    fn add_ticket_note(note: NewNote) -> Result<Note> {
        T::add_ticket_note(note)
    }
    fn find_open_tickets(filter: TicketFilter) -> Result<Vec<Ticket>> {
        T::find_open_tickets(filter)
    }
    fn find_note_by_marker(ticket_id: String, marker: String) -> Result<Option<Note>> {
        T::find_note_by_marker(ticket_id, marker)
    }
    fn create_configuration(configuration: NewConfiguration) -> Result<Configuration> {
        T::create_configuration(configuration)
    }
    fn update_configuration(id: String, changes: ConfigurationChanges) -> Result<Configuration> {
        T::update_configuration(id, changes)
    }
    fn set_contract_service_quantity(
        agreement_id: String,
        service_id: String,
        quantity: String,
    ) -> Result<()> {
        T::set_contract_service_quantity(agreement_id, service_id, quantity)
    }
    fn list_dataset(dataset: String, page: PageRequest) -> Result<DatasetPage> {
        T::list_dataset(dataset, page)
    }
}

/// Adapts a [`MatchingRule`] to the generated export trait. Used by [`export_rule!`].
#[doc(hidden)]
pub struct RuleExport<T>(core::marker::PhantomData<T>);

impl<T: MatchingRule> bindings::rule::exports::psa::connector::rule_api::Guest for RuleExport<T> {
    fn describe() -> RuleInfo {
        T::describe()
    }
    fn evaluate(subject: Subject, candidates: Vec<Candidate>) -> Vec<Verdict> {
        T::evaluate(subject, candidates)
    }
}

/// Exports a [`Connector`] implementation as the component's `connector` world.
/// Invoke it once, at the root of the plugin crate.
#[macro_export]
macro_rules! export_connector {
    ($connector:ty) => {
        // Only a wasm build exports the world: a native build (unit tests) would put the
        // component-model export names (`psa:connector/...#op`) into the cdylib's linker version
        // script, which the native linker rejects.
        #[cfg(target_family = "wasm")]
        #[allow(unsafe_code)]
        const _: () = {
            type PsaSdkConnectorExport = $crate::ConnectorExport<$connector>;
            $crate::bindings::__export_connector_world!(
                PsaSdkConnectorExport with_types_in $crate::bindings
            );
        };
        // A native build (unit tests) only checks the type is a connector, and uses it.
        #[cfg(not(target_family = "wasm"))]
        const _: fn() -> $crate::types::ConnectorInfo = <$connector as $crate::Connector>::describe;
    };
}

/// Exports a [`MatchingRule`] implementation as the component's `matching-rule` world.
/// Invoke it once, at the root of the plugin crate.
#[macro_export]
macro_rules! export_rule {
    ($rule:ty) => {
        // Only a wasm build exports the world (see `export_connector!`).
        #[cfg(target_family = "wasm")]
        #[allow(unsafe_code)]
        const _: () = {
            type PsaSdkRuleExport = $crate::RuleExport<$rule>;
            $crate::bindings::rule::__export_rule_world!(
                PsaSdkRuleExport with_types_in $crate::bindings::rule
            );
        };
        // A native build (unit tests) only checks the type is a rule, and uses it.
        #[cfg(not(target_family = "wasm"))]
        const _: fn() -> $crate::types::RuleInfo = <$rule as $crate::MatchingRule>::describe;
    };
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}

#[cfg(test)]
mod wit_tests {
    use super::{WIT_PACKAGE, WIT_VERSION};
    use std::path::{Path, PathBuf};

    /// The `.wit` files of a directory, sorted by name.
    fn wit_files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "wit"))
            .collect();
        files.sort();
        files
    }

    fn sdk_wit() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("wit")
    }

    /// Every file of the SDK's WIT declares the package at [`WIT_VERSION`].
    #[test]
    fn wit_version_matches_the_wit_text() {
        let files = wit_files(&sdk_wit());
        assert!(files.len() >= 4, "{files:?}");
        let expected = format!("package {WIT_PACKAGE}@{WIT_VERSION};");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let declared = text
                .lines()
                .find(|l| l.trim_start().starts_with("package "))
                .map(str::trim);
            assert_eq!(declared, Some(expected.as_str()), "{}", file.display());
        }
    }

    /// The SDK's `wit/` is an exact copy of the repository's root `wit/` (the one source of
    /// truth, which the host is generated from). A packaged crate has no root `wit/`: skipped.
    #[test]
    fn wit_copy_matches_the_root() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wit");
        if !root.is_dir() {
            eprintln!(
                "skipped: no {} (a packaged crate has only its own wit/)",
                root.display()
            );
            return;
        }
        let name = |p: &PathBuf| p.file_name().unwrap().to_os_string();
        let ours = wit_files(&sdk_wit());
        let theirs = wit_files(&root);
        assert_eq!(
            ours.iter().map(name).collect::<Vec<_>>(),
            theirs.iter().map(name).collect::<Vec<_>>(),
            "plugins/sdk/wit/ and wit/ hold different files: copy wit/*.wit into plugins/sdk/wit/"
        );
        for (a, b) in ours.iter().zip(&theirs) {
            assert!(
                std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
                "{} differs from {}: copy wit/*.wit into plugins/sdk/wit/",
                a.display(),
                b.display()
            );
        }
    }
}
