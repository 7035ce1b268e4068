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
use wasmtime::component::{Instance, InstancePre};
use wasmtime::{AsContext, AsContextMut};

/// Where a connector's exports are, resolved once per plugin.
#[derive(Clone)]
pub(crate) enum ConnectorIndices {
    Current(api::GuestIndices),
    V0_1(v1::ConnectorIndices),
}

impl ConnectorIndices {
    pub(crate) fn new(
        pre: &InstancePre<CallState>,
        version: ContractVersion,
    ) -> wasmtime::Result<Self> {
        Ok(match version {
            ContractVersion::V0_2 => ConnectorIndices::Current(api::GuestIndices::new(pre)?),
            ContractVersion::V0_1 => ConnectorIndices::V0_1(v1::ConnectorIndices::new(pre)?),
        })
    }

    pub(crate) fn load(
        &self,
        store: impl AsContextMut,
        instance: &Instance,
    ) -> wasmtime::Result<ConnectorGuest> {
        Ok(match self {
            ConnectorIndices::Current(i) => ConnectorGuest::Current(i.load(store, instance)?),
            ConnectorIndices::V0_1(i) => ConnectorGuest::V0_1(i.load(store, instance)?),
        })
    }
}

/// One instance's connector exports.
pub(crate) enum ConnectorGuest {
    Current(api::Guest),
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
