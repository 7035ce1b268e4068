//! A plugin's exports whatever contract version it was built for, in current types.

use super::ContractVersion;
use super::exports::psa::connector::connector_api::{
    self as api, AgreementPage, CompanyPage, ConfigurationPage, ConnectionReport, ConnectorInfo,
    ContactPage, DatasetPage, TicketPage,
};
use super::exports::psa::connector::rule_api::{
    self as rule, Candidate, RuleInfo, Subject, Verdict,
};
use super::psa::connector::types::{
    Agreement, Company, Configuration, ConfigurationChanges, Contact, Decimal, Error as PsaError,
    NewConfiguration, NewNote, NewTicket, Note, PageRequest, Reference, ReferenceKind, Ticket,
    TicketFilter,
};
use super::v0_1_0::{self as v1, Convert};
use crate::runtime::CallState;
use std::collections::HashMap;
use std::sync::Arc;
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Instance, InstancePre, Lift, Lower, TypedFunc,
};
use wasmtime::{AsContext, AsContextMut};

/// Where a connector's exports are, resolved once per plugin.
#[derive(Clone)]
pub(crate) enum ConnectorIndices {
    Current(Arc<LazyExports<api::GuestIndices>>),
    V0_1(Arc<LazyExports<v1::ConnectorIndices>>),
}

impl ConnectorIndices {
    pub(crate) fn new(
        pre: &InstancePre<CallState>,
        version: ContractVersion,
    ) -> wasmtime::Result<Self> {
        Ok(match version {
            ContractVersion::V0_2 => ConnectorIndices::Current(Arc::new(LazyExports::new(
                pre,
                api::GuestIndices::new(pre)?,
                CURRENT_INTERFACE,
                CurrentGuest::EXPORTS,
            )?)),
            ContractVersion::V0_1 => ConnectorIndices::V0_1(Arc::new(LazyExports::new(
                pre,
                v1::ConnectorIndices::new(pre)?,
                v1::CONNECTOR_INTERFACE,
                v1::ConnectorGuest::EXPORTS,
            )?)),
        })
    }

    /// The exports of `instance`, for a call: an export is type-checked when it is called
    /// ([`LazyGuest`]); the plugin's load checked them all ([`Self::load_checked`]).
    pub(crate) fn load(&self, instance: &Instance) -> ConnectorGuest {
        match self {
            ConnectorIndices::Current(exports) => ConnectorGuest::Current(exports.of(instance)),
            ConnectorIndices::V0_1(exports) => ConnectorGuest::V0_1(exports.of(instance)),
        }
    }

    /// As [`Self::load`], with every export of the interface type-checked first (bindgen's
    /// check): what the plugin's load runs, so a component whose exports do not have the
    /// contract's types is refused then, not at the call of the ill-typed export.
    pub(crate) fn load_checked(
        &self,
        mut store: impl AsContextMut,
        instance: &Instance,
    ) -> wasmtime::Result<ConnectorGuest> {
        // Bindgen's `Guest` is only the indices it checked: the check is what is wanted.
        match self {
            ConnectorIndices::Current(exports) => {
                exports.all.load(&mut store, instance)?;
            }
            ConnectorIndices::V0_1(exports) => {
                exports.all.load(&mut store, instance)?;
            }
        }
        Ok(self.load(instance))
    }
}

/// The exports of one version of the connector interface, resolved once per plugin.
pub(crate) struct LazyExports<I> {
    /// Bindgen's, to type-check the whole interface at the plugin's load.
    all: I,
    /// Each export by name, for the calls.
    by_name: HashMap<&'static str, ComponentExportIndex>,
}

impl<I> LazyExports<I> {
    fn new(
        pre: &InstancePre<CallState>,
        all: I,
        interface: &str,
        names: &[&'static str],
    ) -> wasmtime::Result<Self> {
        let component = pre.component();
        let interface_index = component
            .get_export_index(None, interface)
            .ok_or_else(|| wasmtime::format_err!("no exported instance named `{interface}`"))?;
        let mut by_name = HashMap::new();
        for &name in names {
            let index = component
                .get_export_index(Some(&interface_index), name)
                .ok_or_else(|| {
                    wasmtime::format_err!("`{interface}` does not have export `{name}`")
                })?;
            by_name.insert(name, index);
        }
        Ok(LazyExports { all, by_name })
    }

    /// These exports in `instance`.
    fn of(self: &Arc<Self>, instance: &Instance) -> LazyGuest<I> {
        LazyGuest {
            instance: *instance,
            exports: self.clone(),
        }
    }
}

/// One instance's exports of a version of the connector interface. Bindgen's `Guest` looks up
/// and type-checks every export of the interface for each instance, about a third of a small
/// call's cost (BENCHMARKS.md, "Next to an empty component"); a call uses one export, so only
/// that one is looked up and type-checked, when it is called. Its calls ([`lazy_calls!`]) have
/// the names, arguments and results of bindgen's `Guest` methods for the same version.
pub(crate) struct LazyGuest<I> {
    instance: Instance,
    exports: Arc<LazyExports<I>>,
}

impl<I> LazyGuest<I> {
    /// Export `name` of the interface, looked up and type-checked now.
    pub(super) fn func<P, R>(
        &self,
        store: impl AsContextMut,
        name: &str,
    ) -> wasmtime::Result<TypedFunc<P, R>>
    where
        P: ComponentNamedList + Lower,
        R: ComponentNamedList + Lift,
    {
        let index = self.exports.by_name.get(name).ok_or_else(|| {
            wasmtime::format_err!("`{name}` is not an export of the connector interface")
        })?;
        self.instance.get_typed_func::<P, R>(store, index)
    }
}

/// A current-contract connector's exports, for a call.
pub(crate) type CurrentGuest = LazyGuest<api::GuestIndices>;

/// The current interface's name, as bindgen looks it up.
const CURRENT_INTERFACE: &str = "psa:connector/connector-api@0.2.0";

/// [`LazyGuest`]'s calls for one version of the interface (its bindgen indices `$indices`), one
/// per export, and the list of the exports (`EXPORTS`).
macro_rules! lazy_calls {
    ($indices:ty { $( $call:ident = $export:literal ( $($arg:ident : $ty:ty),* ) -> $ret:ty; )* }) => {
        impl $crate::bindings::guests::LazyGuest<$indices> {
            /// The interface's exports.
            pub(crate) const EXPORTS: &[&str] = &[$($export),*];

            $(
                pub(crate) async fn $call<S: wasmtime::AsContextMut>(
                    &self,
                    mut store: S,
                    $($arg: $ty),*
                ) -> wasmtime::Result<$ret>
                where
                    <S as wasmtime::AsContext>::Data: Send,
                {
                    let func = self.func::<($($ty,)*), ($ret,)>(&mut store, $export)?;
                    let (answer,) = func.call_async(&mut store, ($($arg,)*)).await?;
                    Ok(answer)
                }
            )*
        }
    };
}
pub(crate) use lazy_calls;

lazy_calls! { api::GuestIndices {
    call_describe = "describe"() -> ConnectorInfo;
    call_test_connection = "test-connection"() -> Result<ConnectionReport, PsaError>;
    call_list_companies = "list-companies"(page: &PageRequest) -> Result<CompanyPage, PsaError>;
    call_get_company = "get-company"(id: &str) -> Result<Company, PsaError>;
    call_list_contacts = "list-contacts"(page: &PageRequest) -> Result<ContactPage, PsaError>;
    call_get_contact = "get-contact"(id: &str) -> Result<Contact, PsaError>;
    call_list_agreements = "list-agreements"(page: &PageRequest) -> Result<AgreementPage, PsaError>;
    call_get_agreement = "get-agreement"(id: &str) -> Result<Agreement, PsaError>;
    call_list_configurations = "list-configurations"(page: &PageRequest) -> Result<ConfigurationPage, PsaError>;
    call_get_configuration = "get-configuration"(id: &str) -> Result<Configuration, PsaError>;
    call_list_tickets = "list-tickets"(page: &PageRequest) -> Result<TicketPage, PsaError>;
    call_get_ticket = "get-ticket"(id: &str) -> Result<Ticket, PsaError>;
    call_list_dataset = "list-dataset"(dataset: &str, page: &PageRequest) -> Result<DatasetPage, PsaError>;
    call_list_references = "list-references"(kind: ReferenceKind) -> Result<Vec<Reference>, PsaError>;
    call_create_ticket = "create-ticket"(ticket: &NewTicket) -> Result<Ticket, PsaError>;
    call_add_ticket_note = "add-ticket-note"(note: &NewNote) -> Result<Note, PsaError>;
    call_find_open_tickets = "find-open-tickets"(filter: &TicketFilter) -> Result<Vec<Ticket>, PsaError>;
    call_find_note_by_marker = "find-note-by-marker"(ticket_id: &str, marker: &str) -> Result<Option<Note>, PsaError>;
    call_create_configuration = "create-configuration"(configuration: &NewConfiguration) -> Result<Configuration, PsaError>;
    call_update_configuration = "update-configuration"(id: &str, changes: &ConfigurationChanges) -> Result<Configuration, PsaError>;
    call_set_contract_service_quantity = "set-contract-service-quantity"(agreement_id: &str, service_id: &str, quantity: &Decimal) -> Result<(), PsaError>;
}}

/// One instance's connector exports.
pub(crate) enum ConnectorGuest {
    Current(CurrentGuest),
    V0_1(v1::ConnectorGuest),
}

type Answer<T> = wasmtime::Result<Result<T, PsaError>>;

/// The calls whose arguments every version takes: the current guest is called as generated;
/// a 0.1.x one with its arguments converted down and its answer converted up.
macro_rules! calls {
    ($( $call:ident ( $($arg:ident : $ty:ty => $down:expr),* ) -> $ret:ty; )*) => {
        impl ConnectorGuest {
            $(
                pub(crate) async fn $call<S: AsContextMut>(&self, store: S, $($arg: $ty),*) -> Answer<$ret>
                where
                    <S as AsContext>::Data: Send,
                {
                    match self {
                        ConnectorGuest::Current(g) => g.$call(store, $($arg),*).await,
                        ConnectorGuest::V0_1(g) => Ok(g.$call(store, $($down),*).await?.convert()),
                    }
                }
            )*
        }
    };
}

calls! {
    call_test_connection() -> ConnectionReport;
    call_list_companies(page: &PageRequest => &page.clone().convert()) -> CompanyPage;
    call_get_company(id: &str => id) -> Company;
    call_list_contacts(page: &PageRequest => &page.clone().convert()) -> ContactPage;
    call_get_contact(id: &str => id) -> Contact;
    call_list_agreements(page: &PageRequest => &page.clone().convert()) -> AgreementPage;
    call_get_agreement(id: &str => id) -> Agreement;
    call_list_configurations(page: &PageRequest => &page.clone().convert()) -> ConfigurationPage;
    call_get_configuration(id: &str => id) -> Configuration;
    call_list_tickets(page: &PageRequest => &page.clone().convert()) -> TicketPage;
    call_get_ticket(id: &str => id) -> Ticket;
    call_list_references(kind: ReferenceKind => kind.convert()) -> Vec<Reference>;
    call_set_contract_service_quantity(agreement_id: &str => agreement_id, service_id: &str => service_id, quantity: &Decimal => quantity) -> ();
}

/// The calls whose arguments a 0.1.x connector may not be able to take: converted down when
/// they can be, else answered by the host (`unsupported`).
macro_rules! fallible_calls {
    ($( $call:ident ( $arg:ident : $ty:ty => $down:path ) -> $ret:ty; )*) => {
        impl ConnectorGuest {
            $(
                pub(crate) async fn $call<S: AsContextMut>(&self, store: S, $arg: $ty) -> Answer<$ret>
                where
                    <S as AsContext>::Data: Send,
                {
                    match self {
                        ConnectorGuest::Current(g) => g.$call(store, $arg).await,
                        ConnectorGuest::V0_1(g) => match $down($arg) {
                            Ok(old) => Ok(g.$call(store, &old).await?.convert()),
                            Err(e) => Ok(Err(e)),
                        },
                    }
                }
            )*
        }
    };
}

fallible_calls! {
    call_create_ticket(ticket: &NewTicket => v1::new_ticket) -> Ticket;
    call_add_ticket_note(note: &NewNote => v1::new_note) -> Note;
    call_find_open_tickets(filter: &TicketFilter => v1::ticket_filter) -> Vec<Ticket>;
}

impl ConnectorGuest {
    pub(crate) async fn call_find_note_by_marker<S: AsContextMut>(
        &self,
        store: S,
        ticket_id: &str,
        marker: &str,
    ) -> Answer<Option<Note>>
    where
        <S as AsContext>::Data: Send,
    {
        match self {
            ConnectorGuest::Current(g) => {
                g.call_find_note_by_marker(store, ticket_id, marker).await
            }
            ConnectorGuest::V0_1(_) => Ok(Err(v1::no_note_markers())),
        }
    }

    pub(crate) async fn call_describe<S: AsContextMut>(
        &self,
        store: S,
    ) -> wasmtime::Result<ConnectorInfo>
    where
        <S as AsContext>::Data: Send,
    {
        match self {
            ConnectorGuest::Current(g) => g.call_describe(store).await,
            ConnectorGuest::V0_1(g) => Ok(g.call_describe(store).await?.convert()),
        }
    }

    pub(crate) async fn call_list_dataset<S: AsContextMut>(
        &self,
        store: S,
        dataset: &str,
        page: &PageRequest,
    ) -> Answer<DatasetPage>
    where
        <S as AsContext>::Data: Send,
    {
        match self {
            ConnectorGuest::Current(g) => g.call_list_dataset(store, dataset, page).await,
            ConnectorGuest::V0_1(_) => Ok(Err(v1::no_datasets(dataset))),
        }
    }

    pub(crate) async fn call_create_configuration<S: AsContextMut>(
        &self,
        store: S,
        configuration: &NewConfiguration,
    ) -> Answer<Configuration>
    where
        <S as AsContext>::Data: Send,
    {
        match self {
            ConnectorGuest::Current(g) => g.call_create_configuration(store, configuration).await,
            ConnectorGuest::V0_1(g) => match v1::new_configuration(configuration) {
                Ok(old) => Ok(g.call_create_configuration(store, &old).await?.convert()),
                Err(e) => Ok(Err(e)),
            },
        }
    }

    pub(crate) async fn call_update_configuration<S: AsContextMut>(
        &self,
        store: S,
        id: &str,
        changes: &ConfigurationChanges,
    ) -> Answer<Configuration>
    where
        <S as AsContext>::Data: Send,
    {
        match self {
            ConnectorGuest::Current(g) => g.call_update_configuration(store, id, changes).await,
            ConnectorGuest::V0_1(g) => match v1::configuration_changes(changes) {
                Ok(old) => Ok(g
                    .call_update_configuration(store, id, &old)
                    .await?
                    .convert()),
                Err(e) => Ok(Err(e)),
            },
        }
    }
}

/// Where a matching rule's exports are, resolved once per plugin.
#[derive(Clone)]
pub(crate) enum RuleIndices {
    Current(rule::GuestIndices),
    V0_1(v1::RuleIndices),
}

impl RuleIndices {
    pub(crate) fn new(
        pre: &InstancePre<CallState>,
        version: ContractVersion,
    ) -> wasmtime::Result<Self> {
        Ok(match version {
            ContractVersion::V0_2 => RuleIndices::Current(rule::GuestIndices::new(pre)?),
            ContractVersion::V0_1 => RuleIndices::V0_1(v1::RuleIndices::new(pre)?),
        })
    }

    pub(crate) fn load(
        &self,
        store: impl AsContextMut,
        instance: &Instance,
    ) -> wasmtime::Result<RuleGuest> {
        Ok(match self {
            RuleIndices::Current(i) => RuleGuest::Current(i.load(store, instance)?),
            RuleIndices::V0_1(i) => RuleGuest::V0_1(i.load(store, instance)?),
        })
    }

    /// As [`Self::load`], which type-checks every export of a rule already (a rule has two).
    pub(crate) fn load_checked(
        &self,
        store: impl AsContextMut,
        instance: &Instance,
    ) -> wasmtime::Result<RuleGuest> {
        self.load(store, instance)
    }
}

/// One instance's rule exports.
pub(crate) enum RuleGuest {
    Current(rule::Guest),
    V0_1(v1::RuleGuest),
}

impl RuleGuest {
    pub(crate) async fn call_describe<S: AsContextMut>(
        &self,
        store: S,
    ) -> wasmtime::Result<RuleInfo>
    where
        <S as AsContext>::Data: Send,
    {
        match self {
            RuleGuest::Current(g) => g.call_describe(store).await,
            RuleGuest::V0_1(g) => Ok(g.call_describe(store).await?.convert()),
        }
    }

    /// The verdicts on `candidates`; a 0.1.x rule gets them converted down (the records are
    /// the same) and its verdicts converted up.
    pub(crate) async fn call_evaluate<S: AsContextMut>(
        &self,
        store: S,
        subject: &Subject,
        candidates: &[Candidate],
    ) -> wasmtime::Result<Vec<Verdict>>
    where
        <S as AsContext>::Data: Send,
    {
        match self {
            RuleGuest::Current(g) => g.call_evaluate(store, subject, candidates).await,
            RuleGuest::V0_1(g) => {
                let old: Vec<_> = candidates.iter().map(|c| c.clone().convert()).collect();
                Ok(g.call_evaluate(store, &subject.clone().convert(), &old)
                    .await?
                    .convert())
            }
        }
    }
}
