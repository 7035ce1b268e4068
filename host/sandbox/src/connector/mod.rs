//! A connection: a connector plugin with one operator-configured set of settings, grants and
//! limits. Typed calls for the host's own use (sync, demo) and JSON calls by operation name for
//! the plugin author's test bench.

pub mod wit_json;

use crate::bindings::ConnectorGuest as Guest;
use crate::bindings::exports::psa::connector::connector_api::{
    AgreementPage, CompanyPage, ConfigurationPage, ConnectionReport, ContactPage, DatasetPage,
    TicketPage,
};
use crate::bindings::psa::connector::types::{
    Agreement, Company, Configuration, ConfigurationChanges, Contact, Error as PsaError,
    NewConfiguration, NewNote, NewTicket, Note, PageRequest, Reference, ReferenceKind, Ticket,
    TicketFilter,
};
use crate::capabilities::kv::KvStore;
use crate::capabilities::settings::{Redactor, Settings};
use crate::capabilities::{Capabilities, ConnectionPolicy};
use crate::runtime::{CallError, CallState, Plugin, PluginKind, Runtime};
use anyhow::{Context, anyhow, bail};
use std::sync::Arc;
use wasmtime::Store;
use wasmtime::component::Val;

/// A failed connector call.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// The connector returned an error from the PSA contract.
    #[error("{}", describe_psa_error(.0))]
    Psa(PsaError),
    /// The sandbox stopped the call.
    #[error(transparent)]
    Call(#[from] CallError),
}

impl ConnectorError {
    /// The contract error, if the connector returned one.
    pub fn psa(&self) -> Option<&PsaError> {
        match self {
            ConnectorError::Psa(e) => Some(e),
            ConnectorError::Call(_) => None,
        }
    }
}

/// The name of a contract error's case (`unauthorized`, `rate-limited`, ...).
pub fn error_kind(e: &PsaError) -> &'static str {
    match e {
        PsaError::Unauthorized(_) => "unauthorized",
        PsaError::Forbidden(_) => "forbidden",
        PsaError::NotFound(_) => "not-found",
        PsaError::InvalidInput(_) => "invalid-input",
        PsaError::RateLimited(_) => "rate-limited",
        PsaError::Unavailable(_) => "unavailable",
        PsaError::Unsupported(_) => "unsupported",
        PsaError::Remote(_) => "remote",
    }
}

/// A contract error as a sentence for the operator.
pub fn describe_psa_error(e: &PsaError) -> String {
    match e {
        PsaError::Unauthorized(p) => match p.settings.as_slice() {
            [one] => format!(
                "unauthorized: the PSA refused the credential in setting `{one}`: {}",
                p.message
            ),
            settings => format!(
                "unauthorized: the PSA refused a credential in one of the settings {}: {}",
                settings
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                p.message
            ),
        },
        PsaError::Forbidden(p) => format!(
            "forbidden: the credentials lack the permission {}: {}",
            p.permission, p.message
        ),
        PsaError::NotFound(what) => format!("not found: {what}"),
        PsaError::InvalidInput(p) => format!("invalid input in `{}`: {}", p.field, p.message),
        PsaError::RateLimited(h) => match h.retry_after_ms {
            Some(ms) => format!("rate limited: retry after {ms} ms: {}", h.message),
            None => format!("rate limited: {}", h.message),
        },
        PsaError::Unavailable(m) => format!("unavailable: {m}"),
        PsaError::Unsupported(m) => format!("unsupported: {m}"),
        PsaError::Remote(r) => format!(
            "the PSA answered {}{}: {}",
            r.status,
            r.code
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default(),
            r.message
        ),
    }
}

type GuestFuture<'a, R> = crate::runtime::CallFuture<'a, Result<R, PsaError>>;

/// A connector plugin bound to one connection's settings, grant, limits and kv namespace.
#[derive(Clone)]
pub struct Connection {
    runtime: Arc<Runtime>,
    plugin: Arc<Plugin>,
    capabilities: Arc<Capabilities>,
}

impl Connection {
    /// Binds `plugin` (a connector) to connection `id`. Fails with a message naming the setting
    /// when a required one is missing, an unknown one is given, or the outbound hosts the plugin
    /// requests cannot be formed from the settings.
    pub fn open(
        runtime: Arc<Runtime>,
        plugin: Arc<Plugin>,
        id: &str,
        settings: Settings,
        policy: &ConnectionPolicy,
        kv: &KvStore,
    ) -> anyhow::Result<Connection> {
        let info = plugin.connector_info().ok_or_else(|| {
            anyhow!(
                "plugin `{}` is a matching rule, not a connector: a connection needs a connector",
                plugin.id()
            )
        })?;
        let capabilities = Capabilities::open(id, info, settings, policy, kv)
            .with_context(|| format!("connection `{id}`"))?;
        Ok(Connection {
            runtime,
            plugin,
            capabilities: Arc::new(capabilities),
        })
    }

    /// The connection's id.
    pub fn id(&self) -> &str {
        &self.capabilities.connection
    }

    /// The connector.
    pub fn plugin(&self) -> &Arc<Plugin> {
        &self.plugin
    }

    /// The connection's capabilities (settings, HTTP counters, kv).
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn invoke<R: Send>(
        &self,
        operation: &'static str,
        body: impl for<'a> FnOnce(Guest, &'a mut Store<CallState>) -> GuestFuture<'a, R>
        + Send
        + 'static,
    ) -> Result<R, ConnectorError> {
        self.invoke_checked(operation, body, |_| Ok(())).await
    }

    /// Like `invoke`, with `check` of a successful result before anything else sees it (and
    /// before the observer counts the call).
    async fn invoke_checked<R: Send>(
        &self,
        operation: &'static str,
        body: impl for<'a> FnOnce(Guest, &'a mut Store<CallState>) -> GuestFuture<'a, R>
        + Send
        + 'static,
        check: impl FnOnce(&R) -> Result<(), CallError>,
    ) -> Result<R, ConnectorError> {
        let indices = self
            .plugin
            .connector_indices()
            .expect("a connection always holds a connector")
            .clone();
        let started = std::time::Instant::now();
        let result = self
            .runtime
            .call(
                &self.plugin,
                Some(self.capabilities.clone()),
                operation,
                |store, instance| {
                    Box::pin(async move {
                        let guest = indices.load(instance);
                        body(guest, store).await
                    })
                },
            )
            .await;
        let result = match result {
            Ok(Ok(value)) => check(&value).map(|()| Ok(value)),
            other => other,
        };
        if let Some(observer) = self.runtime.observer() {
            let outcome = match &result {
                Ok(Ok(_)) => "ok",
                Ok(Err(e)) => error_kind(e),
                Err(e) => e.kind(),
            };
            observer.call_finished(self.plugin.id(), operation, outcome, started.elapsed());
        }
        result?.map_err(|e| ConnectorError::Psa(redact_error(e, &self.capabilities.redactor)))
    }

    /// Runs export `operation` with JSON arguments (one per parameter) and returns its result
    /// as JSON. Unknown operations and ill-typed arguments are errors naming what is wrong.
    pub async fn call_json(
        &self,
        operation: &str,
        args: Vec<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        call_json(
            &self.runtime,
            &self.plugin,
            Some(self.capabilities.clone()),
            operation,
            args,
        )
        .await
    }
}

/// Runs export `operation` of any plugin with JSON arguments; see [`Connection::call_json`].
pub async fn call_json(
    runtime: &Runtime,
    plugin: &Plugin,
    capabilities: Option<Arc<Capabilities>>,
    operation: &str,
    args: Vec<serde_json::Value>,
) -> anyhow::Result<serde_json::Value> {
    let redactor = capabilities
        .as_ref()
        .map(|c| c.redactor.clone())
        .unwrap_or_default();
    let capabilities_present = capabilities.as_ref().map(|_| ());
    let export = plugin.export_name();
    let plugin_id = plugin.id().to_string();
    let operation_name = operation.to_string();
    let started = std::time::Instant::now();
    let result = runtime
        .call(plugin, capabilities, operation, move |store, instance| {
            Box::pin(async move {
                let interface = instance
                    .get_export_index(&mut *store, None, &export)
                    .ok_or_else(|| {
                        wasmtime::format_err!("the plugin does not export `{export}`")
                    })?;
                let Some(index) =
                    instance.get_export_index(&mut *store, Some(&interface), &operation_name)
                else {
                    return Ok(Err(format!(
                        "plugin `{plugin_id}` has no operation `{operation_name}` in `{export}`"
                    )));
                };
                let func = instance
                    .get_func(&mut *store, index)
                    .ok_or_else(|| wasmtime::format_err!("`{operation_name}` is not a function"))?;
                let ty = func.ty(&*store);
                let params: Vec<(String, wasmtime::component::Type)> =
                    ty.params().map(|(n, t)| (n.to_string(), t)).collect();
                if args.len() != params.len() {
                    return Ok(Err(format!(
                        "`{operation_name}` takes {} argument{} ({}), {} given",
                        params.len(),
                        if params.len() == 1 { "" } else { "s" },
                        params
                            .iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        args.len()
                    )));
                }
                let mut vals = Vec::with_capacity(args.len());
                for ((name, ty), arg) in params.iter().zip(&args) {
                    match wit_json::from_json(arg, ty) {
                        Ok(v) => vals.push(v),
                        Err(e) => return Ok(Err(format!("argument `{name}`: {e:#}"))),
                    }
                }
                let mut results: Vec<Val> = ty.results().map(|_| Val::Bool(false)).collect();
                func.call_async(&mut *store, &vals, &mut results).await?;
                Ok(Ok(match results.as_slice() {
                    [] => serde_json::Value::Null,
                    [one] => wit_json::to_json(one),
                    many => serde_json::Value::Array(many.iter().map(wit_json::to_json).collect()),
                }))
            })
        })
        .await;
    if let (Some(observer), Some(_)) = (runtime.observer(), &capabilities_present) {
        let outcome = match &result {
            Ok(Ok(value)) => json_outcome(value),
            Ok(Err(_)) => "invalid-call",
            Err(e) => e.kind(),
        };
        observer.call_finished(plugin.id(), operation, outcome, started.elapsed());
    }
    let result = result?;
    let mut value = result.map_err(|m| anyhow!(m))?;
    redact_json(&mut value, &redactor);
    Ok(value)
}

/// The outcome of a JSON call for metrics: the contract error's case of an `{"err": {case: ..}}`
/// result, else `ok`.
fn json_outcome(value: &serde_json::Value) -> &'static str {
    const CASES: [&str; 8] = [
        "unauthorized",
        "forbidden",
        "not-found",
        "invalid-input",
        "rate-limited",
        "unavailable",
        "unsupported",
        "remote",
    ];
    let case = value.get("err").and_then(|e| match e {
        serde_json::Value::String(s) => Some(s.as_str()),
        serde_json::Value::Object(m) => m.keys().next().map(String::as_str),
        _ => None,
    });
    match case {
        Some(case) => CASES
            .iter()
            .find(|c| **c == case)
            .copied()
            .unwrap_or("error"),
        None => "ok",
    }
}

/// Replaces the connection's secrets in every string of `value`.
fn redact_json(value: &mut serde_json::Value, redactor: &Redactor) {
    match value {
        serde_json::Value::String(s) => {
            if let std::borrow::Cow::Owned(r) = redactor.redact(s) {
                *s = r;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_json(v, redactor)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| redact_json(v, redactor)),
        _ => {}
    }
}

/// A contract error with the connection's secrets replaced: a connector may quote what it sent.
fn redact_error(e: PsaError, redactor: &Redactor) -> PsaError {
    let r = |s: String| redactor.redact(&s).into_owned();
    match e {
        PsaError::Unauthorized(mut p) => {
            p.message = r(p.message);
            PsaError::Unauthorized(p)
        }
        PsaError::Forbidden(mut p) => {
            p.message = r(p.message);
            p.permission = r(p.permission);
            PsaError::Forbidden(p)
        }
        PsaError::NotFound(m) => PsaError::NotFound(r(m)),
        PsaError::InvalidInput(mut p) => {
            p.message = r(p.message);
            PsaError::InvalidInput(p)
        }
        PsaError::RateLimited(mut h) => {
            h.message = r(h.message);
            PsaError::RateLimited(h)
        }
        PsaError::Unavailable(m) => PsaError::Unavailable(r(m)),
        PsaError::Unsupported(m) => PsaError::Unsupported(r(m)),
        PsaError::Remote(mut p) => {
            p.message = r(p.message);
            PsaError::Remote(p)
        }
    }
}

/// Declares the typed methods of [`Connection`], one per connector export.
macro_rules! typed_operations {
    ($( $(#[$doc:meta])* $name:ident ( $($arg:ident : $ty:ty => $pass:expr),* ) -> $ret:ty = $export:literal, $call:ident; )*) => {
        impl Connection {
            $(
                $(#[$doc])*
                pub async fn $name(&self, $($arg: $ty),*) -> Result<$ret, ConnectorError> {
                    self.invoke($export, move |guest, store| {
                        Box::pin(async move { guest.$call(store, $($pass),*).await })
                    })
                    .await
                }
            )*
        }
    };
}

/// Declares the paged methods of [`Connection`]: the page the guest returns is refused (before
/// the host does anything with it) if it holds more records than the page size asked for, or
/// more record text (`raw`) than `runtime.max-result-size`.
macro_rules! paged_operations {
    ($( $(#[$doc:meta])* $name:ident -> $ret:ty = $export:literal, $call:ident; )*) => {
        impl Connection {
            $(
                $(#[$doc])*
                pub async fn $name(&self, page: PageRequest) -> Result<$ret, ConnectorError> {
                    let page_size = page.page_size;
                    self.invoke_checked(
                        $export,
                        move |guest, store| {
                            Box::pin(async move { guest.$call(store, &page).await })
                        },
                        |page| {
                            let raw_bytes = page.items.iter().map(|i| i.raw.len() as u64).sum();
                            self.check_page($export, page_size, page.items.len(), raw_bytes)
                        },
                    )
                    .await
                }
            )*
        }
    };
}

paged_operations! {
    /// One page of companies.
    list_companies -> CompanyPage = "list-companies", call_list_companies;
    /// One page of contacts.
    list_contacts -> ContactPage = "list-contacts", call_list_contacts;
    /// One page of agreements with their lines.
    list_agreements -> AgreementPage = "list-agreements", call_list_agreements;
    /// One page of configuration items.
    list_configurations -> ConfigurationPage = "list-configurations", call_list_configurations;
    /// One page of tickets.
    list_tickets -> TicketPage = "list-tickets", call_list_tickets;
}

impl Connection {
    /// One page of dataset `dataset`, bounded like the entities' pages.
    pub async fn list_dataset(
        &self,
        dataset: &str,
        page: PageRequest,
    ) -> Result<DatasetPage, ConnectorError> {
        let page_size = page.page_size;
        let dataset = dataset.to_string();
        self.invoke_checked(
            "list-dataset",
            move |guest, store| {
                Box::pin(async move { guest.call_list_dataset(store, &dataset, &page).await })
            },
            |page| {
                let raw_bytes = page
                    .items
                    .iter()
                    .map(|i| (i.id.len() + i.raw.len()) as u64)
                    .sum();
                self.check_page("list-dataset", page_size, page.items.len(), raw_bytes)
            },
        )
        .await
    }
}

impl Connection {
    /// Changes a configuration item, unless its PSA refuses updates of its type: when the
    /// connector names read-only configuration types, the host reads the item first and
    /// answers `invalid-input` (field `configuration-type`) for an item of such a type, or a
    /// change to such a type, without sending the change.
    pub async fn update_configuration(
        &self,
        id: String,
        changes: ConfigurationChanges,
    ) -> Result<Configuration, ConnectorError> {
        let read_only = self
            .plugin
            .connector_info()
            .map(|i| i.read_only_configuration_types.clone())
            .unwrap_or_default();
        if !read_only.is_empty() {
            let is_read_only = |name: &str| {
                read_only
                    .iter()
                    .any(|t| t.trim().eq_ignore_ascii_case(name.trim()))
            };
            let current = self.get_configuration(id.clone()).await?;
            let kind = current.configuration_type.as_ref();
            if let Some(name) = kind.and_then(|t| t.name.as_deref())
                && is_read_only(name)
            {
                return Err(read_only_type(format!(
                    "configuration `{id}` is a `{name}`, a type the PSA does not let integrations update; psahost never changes it"
                )));
            }
            if let Some(target) = &changes.configuration_type_id
                && current.configuration_type.as_ref().map(|t| &t.id) != Some(target)
            {
                let types = self
                    .list_references(ReferenceKind::ConfigurationType)
                    .await?;
                if let Some(t) = types
                    .iter()
                    .find(|t| &t.id == target && is_read_only(&t.name))
                {
                    return Err(read_only_type(format!(
                        "configuration type `{}` ({}) is one the PSA does not let integrations update; psahost never moves a configuration to it",
                        t.name, t.id
                    )));
                }
            }
        }
        self.invoke("update-configuration", move |guest, store| {
            Box::pin(async move { guest.call_update_configuration(store, &id, &changes).await })
        })
        .await
    }
}

fn read_only_type(message: String) -> ConnectorError {
    ConnectorError::Psa(PsaError::InvalidInput(
        crate::bindings::psa::connector::types::FieldProblem {
            field: "configuration-type".into(),
            message,
        },
    ))
}

/// The most entries the host takes from an export that is not paged (a picklist, a ticket
/// search): more is a connector's fault, refused like an oversized page.
pub const MAX_UNPAGED_ITEMS: usize = 100_000;

impl Connection {
    /// A complete picklist: at most [`MAX_UNPAGED_ITEMS`] entries and
    /// `runtime.max-result-size` of text.
    pub async fn list_references(
        &self,
        kind: ReferenceKind,
    ) -> Result<Vec<Reference>, ConnectorError> {
        self.invoke_checked(
            "list-references",
            move |guest, store| {
                Box::pin(async move { guest.call_list_references(store, kind).await })
            },
            |items| {
                let bytes = items
                    .iter()
                    .map(|r| (r.id.len() + r.name.len() + r.raw.len()) as u64)
                    .sum();
                self.check_unpaged("list-references", items.len(), bytes)
            },
        )
        .await
    }

    /// Open tickets matching a filter: at most [`MAX_UNPAGED_ITEMS`] and
    /// `runtime.max-result-size` of record text.
    pub async fn find_open_tickets(
        &self,
        filter: TicketFilter,
    ) -> Result<Vec<Ticket>, ConnectorError> {
        self.invoke_checked(
            "find-open-tickets",
            move |guest, store| {
                Box::pin(async move { guest.call_find_open_tickets(store, &filter).await })
            },
            |items| {
                let bytes = items.iter().map(|t| t.raw.len() as u64).sum();
                self.check_unpaged("find-open-tickets", items.len(), bytes)
            },
        )
        .await
    }

    fn check_unpaged(&self, operation: &str, items: usize, bytes: u64) -> Result<(), CallError> {
        let limit = self.runtime.config().max_result_bytes;
        if items > MAX_UNPAGED_ITEMS {
            self.refuse(
                operation,
                format!("returned {items} entries: an answer that is not paged holds at most {MAX_UNPAGED_ITEMS}"),
            )
        } else if bytes > limit {
            self.refuse(
                operation,
                format!(
                    "returned {bytes} bytes of text, over `runtime.max-result-size` ({limit} bytes)"
                ),
            )
        } else {
            Ok(())
        }
    }

    /// Refuses what a call returned: `result-too-large`, logged once.
    fn refuse(&self, operation: &str, message: String) -> Result<(), CallError> {
        let err = CallError::ResultTooLarge {
            plugin: self.plugin.id().to_string(),
            operation: operation.to_string(),
            message,
        };
        tracing::warn!(plugin = self.plugin.id(), connection = self.id(), "{err}");
        Err(err)
    }

    fn check_page(
        &self,
        operation: &str,
        page_size: u32,
        records: usize,
        raw_bytes: u64,
    ) -> Result<(), CallError> {
        let limit = self.runtime.config().max_result_bytes;
        if records > page_size.max(1) as usize {
            self.refuse(
                operation,
                format!(
                    "returned {records} records for a page of {page_size}: a page holds at most the page size asked for"
                ),
            )
        } else if raw_bytes > limit {
            self.refuse(
                operation,
                format!(
                    "returned {raw_bytes} bytes of record text in one page, over `runtime.max-result-size` ({limit} bytes)"
                ),
            )
        } else {
            Ok(())
        }
    }
}

typed_operations! {
    /// Checks the settings against the PSA.
    test_connection() -> ConnectionReport = "test-connection", call_test_connection;
    /// One company.
    get_company(id: String => &id) -> Company = "get-company", call_get_company;
    /// One contact.
    get_contact(id: String => &id) -> Contact = "get-contact", call_get_contact;
    /// One agreement.
    get_agreement(id: String => &id) -> Agreement = "get-agreement", call_get_agreement;
    /// One configuration item.
    get_configuration(id: String => &id) -> Configuration = "get-configuration", call_get_configuration;
    /// One ticket.
    get_ticket(id: String => &id) -> Ticket = "get-ticket", call_get_ticket;
    /// Creates a ticket.
    create_ticket(ticket: NewTicket => &ticket) -> Ticket = "create-ticket", call_create_ticket;
    /// Adds a note to a ticket.
    add_ticket_note(note: NewNote => &note) -> Note = "add-ticket-note", call_add_ticket_note;
    /// The note of a ticket added with a marker, if any.
    find_note_by_marker(ticket_id: String => &ticket_id, marker: String => &marker) -> Option<Note> = "find-note-by-marker", call_find_note_by_marker;
    /// Creates a configuration item.
    create_configuration(configuration: NewConfiguration => &configuration) -> Configuration = "create-configuration", call_create_configuration;
    /// Sets a contract service's quantity.
    set_contract_service_quantity(agreement_id: String => &agreement_id, service_id: String => &service_id, quantity: String => &quantity) -> () = "set-contract-service-quantity", call_set_contract_service_quantity;
}

/// Checks that `plugin` is a connector, for commands that need one.
pub fn require_connector(plugin: &Plugin) -> anyhow::Result<()> {
    if plugin.kind() != PluginKind::Connector {
        bail!(
            "`{}` is a matching rule, not a connector: this command needs a connector",
            plugin.source()
        );
    }
    Ok(())
}
