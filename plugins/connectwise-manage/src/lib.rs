//! ConnectWise Manage (ConnectWise PSA) connector for psahost.
//!
//! Modules:
//! - [`client`] reads the settings, discovers and caches the codebase, sends authenticated
//!   requests, follows pages and maps error answers;
//! - [`paging`] defines page positions and the cursor format;
//! - [`conditions`] builds `conditions` expressions with correct quoting;
//! - [`datasets`] serves `list-dataset` (time entries, opportunities, ... and the per-company and
//!   per-agreement lists);
//! - [`map`] turns ConnectWise JSON into the contract's records;
//! - [`references`] reads the picklists;
//! - [`writes`] creates tickets, notes and configurations and patches configurations and
//!   agreement addition quantities.
//!
//! See `README.md` beside this crate for the settings, permissions and endpoints.

pub mod client;
pub mod conditions;
pub mod datasets;
pub mod map;
pub mod paging;
pub mod references;
pub mod writes;

#[cfg(test)]
mod host_tests;

use client::Client;
use paging::{MAX_PAGE_SIZE, PageState, clamp_page_size};
use psa_sdk::http::Method;
use psa_sdk::prelude::*;
use serde_json::{Value, json};

/// Agreements cost one more request each (their additions), so their pages are smaller: a page
/// must finish within one call's deadline.
pub const AGREEMENT_PAGE_MAX: u32 = 100;

/// The connector.
pub struct ConnectWiseManage;

/// What each paged entity reads.
struct Paged {
    /// The contract's entity (for `describe().paging`).
    kind: Entity,
    /// The cursor's entity name.
    name: &'static str,
    /// The API path.
    path: &'static str,
    /// Conditions on every page besides `lastUpdated`.
    fixed: &'static [(&'static str, &'static str, &'static str)],
    /// The largest page.
    max_page: u32,
}

const COMPANIES: Paged = Paged {
    kind: Entity::Companies,
    name: "companies",
    path: "company/companies",
    fixed: &[("deletedFlag", "=", "false")],
    max_page: MAX_PAGE_SIZE,
};
const CONTACTS: Paged = Paged {
    kind: Entity::Contacts,
    name: "contacts",
    path: "company/contacts",
    fixed: &[],
    max_page: MAX_PAGE_SIZE,
};
const AGREEMENTS: Paged = Paged {
    kind: Entity::Agreements,
    name: "agreements",
    path: "finance/agreements",
    fixed: &[],
    max_page: AGREEMENT_PAGE_MAX,
};
const CONFIGURATIONS: Paged = Paged {
    kind: Entity::Configurations,
    name: "configurations",
    path: "company/configurations",
    fixed: &[],
    max_page: MAX_PAGE_SIZE,
};
const TICKETS: Paged = Paged {
    kind: Entity::Tickets,
    name: "tickets",
    path: "service/tickets",
    fixed: &[],
    max_page: MAX_PAGE_SIZE,
};

/// Every paged entity, in the contract's order.
const PAGED: [&Paged; 5] = [
    &COMPANIES,
    &CONTACTS,
    &AGREEMENTS,
    &CONFIGURATIONS,
    &TICKETS,
];

/// The configuration types ConnectWise refuses to update through the API (their items are
/// written by ConnectWise's own agents).
pub const READ_ONLY_CONFIGURATION_TYPES: &[&str] = &[
    "Managed Server",
    "Managed Workstation",
    "Network Security Appliance",
    "Backup Stats",
    "Spam Stats",
    "CW SC Partner Server",
    "Cymphonix Device",
];

/// The page state of a request: the cursor's when there is one (its conditions and page size
/// rule the whole sweep), else the first page built from `updated-since` and `page-size`.
pub fn page_state(
    entity_name: &str,
    fixed: &[(&str, &str, &str)],
    max_page: u32,
    page: &PageRequest,
) -> Result<PageState> {
    match page.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(cursor) => PageState::decode(entity_name, cursor),
        None => Ok(PageState::first(
            entity_name,
            clamp_page_size(page.page_size, max_page),
            conditions::incremental(page.updated_since.as_deref(), fixed)?,
        )),
    }
}

/// Reads one page of `entity`; `map` reads the answer's body (a JSON array) into records.
fn read_page<T>(
    entity: &Paged,
    page: &PageRequest,
    map: impl FnOnce(&mut Client, &[u8]) -> Result<Vec<T>>,
) -> Result<(Vec<T>, Option<String>, Option<u64>)> {
    read_page_counted(
        entity.name,
        entity.path,
        entity.fixed,
        entity.max_page,
        page,
        map,
    )
}

/// Reads one page of the list at `path` (cursor entity `name`, fixed conditions `fixed`, pages
/// of at most `max_page`): its records read by `map`, the next cursor, and on the first page of
/// a sweep the number of records the sweep will read (`{path}/count` with the sweep's
/// conditions: one request more per sweep).
pub(crate) fn read_page_counted<T>(
    name: &str,
    path: &str,
    fixed: &[(&str, &str, &str)],
    max_page: u32,
    page: &PageRequest,
    map: impl FnOnce(&mut Client, &[u8]) -> Result<Vec<T>>,
) -> Result<(Vec<T>, Option<String>, Option<u64>)> {
    let state = page_state(name, fixed, max_page, page)?;
    let mut client = Client::connect()?;
    let (response, next) = client.get_page(path, &state, &[])?;
    let records = map(&mut client, &response.body)?;
    psa_sdk::debug!(
        "{name}: {} records, {}",
        records.len(),
        if next.is_some() {
            "more pages"
        } else {
            "last page"
        }
    );
    let first = page.cursor.as_deref().is_none_or(str::is_empty);
    let total = if !first {
        None
    } else if next.is_none() {
        // A sweep of one page: its records are the total, no count needed.
        Some(records.len() as u64)
    } else {
        count(&mut client, path, state.conditions.as_deref())
    };
    Ok((records, next.map(|n| n.encode()), total))
}

/// The number of records of `path` matching `conditions`, for progress only: a failed count
/// is logged and the total left unknown rather than failing the page.
fn count(client: &mut Client, path: &str, conditions: Option<&str>) -> Option<u64> {
    let query: Vec<(String, String)> = conditions
        .map(|c| vec![("conditions".to_string(), c.to_string())])
        .unwrap_or_default();
    match client.get_json(&format!("{path}/count"), &query, None) {
        Ok(v) => v.get("count").and_then(Value::as_u64),
        Err(e) => {
            psa_sdk::warn!("cannot count {path} (the total stays unknown): {e:?}");
            None
        }
    }
}

/// Reads one record by id: the client and the answer's body (the record's JSON).
fn read_one(path: &str, what: &str, id: &str) -> Result<(Client, Vec<u8>)> {
    let id = conditions::id("id", id)?;
    let mut client = Client::connect()?;
    let subject = format!("{what} {id}");
    let response = client.send(
        Method::Get,
        &format!("{path}/{id}"),
        &[],
        &[],
        None,
        Some(&subject),
    )?;
    Ok((client, response.body))
}

/// Every addition of agreement `id` as a line, all pages.
fn additions(client: &mut Client, id: &str) -> Result<Vec<AgreementLine>> {
    client.get_all_with(
        &format!("finance/agreements/{id}/additions"),
        None,
        &[],
        |page| map::agreement_lines_page(&page.body),
    )
}

impl Connector for ConnectWiseManage {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "connectwise-manage".into(),
            name: "ConnectWise Manage".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "psahost".into(),
            description: "ConnectWise Manage (ConnectWise PSA) over its REST API 3.0: companies, contacts, agreements with their additions, configurations and tickets (incremental by last update); board, status, priority, type and catalog picklists; tickets, ticket notes, configurations and agreement addition quantities written back.".into(),
            settings: settings_spec(),
            outbound_hosts: vec!["{site}".into()],
            operations: vec![
                Operation::TestConnection,
                Operation::ListCompanies,
                Operation::GetCompany,
                Operation::ListContacts,
                Operation::GetContact,
                Operation::ListAgreements,
                Operation::GetAgreement,
                Operation::ListConfigurations,
                Operation::GetConfiguration,
                Operation::ListTickets,
                Operation::GetTicket,
                Operation::ListReferences,
                Operation::CreateTicket,
                Operation::AddTicketNote,
                Operation::FindOpenTickets,
                Operation::FindNoteByMarker,
                Operation::CreateConfiguration,
                Operation::UpdateConfiguration,
                Operation::SetContractServiceQuantity,
                Operation::ListDataset,
            ],
            // ConnectWise publishes no numeric limit; cloud sites answer 429 with Retry-After,
            // which the host honours.
            rate_limits: vec![],
            // Every entity filters on `lastUpdated` (see `conditions::incremental`).
            paging: PAGED
                .iter()
                .map(|p| PagingSpec::new(p.kind, p.max_page, true))
                .collect(),
            datasets: datasets::DATASETS.iter().map(|d| d.spec()).collect(),
            read_only_configuration_types: READ_ONLY_CONFIGURATION_TYPES
                .iter()
                .map(|t| t.to_string())
                .collect(),
        }
    }

    fn test_connection() -> Result<ConnectionReport> {
        let (mut client, info) = Client::connect_fresh()?;
        let count = client.get_json("company/companies/count", &[], None)?;
        let companies = count.get("count").and_then(Value::as_u64);
        let s = client.settings();
        let mut message = format!(
            "connected to {} as company {}",
            psa_sdk::origin::host(&s.origin),
            s.company_id
        );
        if let Some(name) = &info.company_name {
            message.push_str(&format!(" ({name})"));
        }
        message.push_str(&format!(", codebase {}", info.codebase));
        if let Some(n) = companies {
            message.push_str(&format!(", {n} companies visible"));
        }
        let details = json!({
            "origin": s.origin,
            "companyId": s.company_id,
            "companyName": info.company_name,
            "codebase": info.codebase,
            "versionCode": info.version_code,
            "isCloud": info.is_cloud,
            "apiVersion": s.api_version,
            "publicKey": s.public_key,
            "companies": companies,
        });
        Ok(ConnectionReport {
            message,
            details: details.to_string(),
        })
    }

    fn list_companies(page: PageRequest) -> Result<CompanyPage> {
        let (items, next_cursor, total) =
            read_page(&COMPANIES, &page, |_, body| map::companies_page(body))?;
        Ok(CompanyPage {
            items,
            next_cursor,
            total,
        })
    }

    fn get_company(id: String) -> Result<Company> {
        map::one(
            &read_one(COMPANIES.path, "company", &id)?.1,
            map::company_json,
        )
    }

    fn list_contacts(page: PageRequest) -> Result<ContactPage> {
        let (items, next_cursor, total) =
            read_page(&CONTACTS, &page, |_, body| map::contacts_page(body))?;
        Ok(ContactPage {
            items,
            next_cursor,
            total,
        })
    }

    fn get_contact(id: String) -> Result<Contact> {
        map::one(
            &read_one(CONTACTS.path, "contact", &id)?.1,
            map::contact_json,
        )
    }

    fn list_agreements(page: PageRequest) -> Result<AgreementPage> {
        let (items, next_cursor, total) = read_page(&AGREEMENTS, &page, |client, body| {
            map::agreements_page(body, |id| additions(client, id))
        })?;
        Ok(AgreementPage {
            items,
            next_cursor,
            total,
        })
    }

    fn get_agreement(id: String) -> Result<Agreement> {
        let (mut client, body) = read_one(AGREEMENTS.path, "agreement", &id)?;
        map::one(&body, |raw| {
            map::agreement_json(raw, |id| additions(&mut client, id))
        })
    }

    fn list_configurations(page: PageRequest) -> Result<ConfigurationPage> {
        let (items, next_cursor, total) = read_page(&CONFIGURATIONS, &page, |_, body| {
            map::configurations_page(body)
        })?;
        Ok(ConfigurationPage {
            items,
            next_cursor,
            total,
        })
    }

    fn get_configuration(id: String) -> Result<Configuration> {
        map::one(
            &read_one(CONFIGURATIONS.path, "configuration", &id)?.1,
            map::configuration_json,
        )
    }

    fn list_tickets(page: PageRequest) -> Result<TicketPage> {
        let (items, next_cursor, total) =
            read_page(&TICKETS, &page, |_, body| map::tickets_page(body))?;
        Ok(TicketPage {
            items,
            next_cursor,
            total,
        })
    }

    fn get_ticket(id: String) -> Result<Ticket> {
        map::one(&read_one(TICKETS.path, "ticket", &id)?.1, map::ticket_json)
    }

    fn list_references(kind: ReferenceKind) -> Result<Vec<Reference>> {
        if let references::Source::Unsupported(why) = references::source(kind) {
            return Err(Error::unsupported(why));
        }
        references::list(&mut Client::connect()?, kind)
    }

    fn create_ticket(ticket: NewTicket) -> Result<Ticket> {
        writes::ticket_body(&ticket)?;
        writes::create_ticket(&mut Client::connect()?, &ticket)
    }

    fn add_ticket_note(note: NewNote) -> Result<Note> {
        writes::note_body(&note)?;
        writes::add_ticket_note(&mut Client::connect()?, &note)
    }

    fn find_open_tickets(filter: TicketFilter) -> Result<Vec<Ticket>> {
        writes::open_ticket_conditions(&filter)?;
        writes::find_open_tickets(&mut Client::connect()?, &filter)
    }

    fn find_note_by_marker(ticket_id: String, marker: String) -> Result<Option<Note>> {
        writes::note_marker_conditions(&marker)?;
        writes::find_note_by_marker(&mut Client::connect()?, &ticket_id, &marker)
    }

    fn create_configuration(configuration: NewConfiguration) -> Result<Configuration> {
        writes::configuration_body(&configuration)?;
        writes::create_configuration(&mut Client::connect()?, &configuration)
    }

    fn update_configuration(id: String, changes: ConfigurationChanges) -> Result<Configuration> {
        writes::configuration_patch(&changes)?;
        writes::update_configuration(&mut Client::connect()?, &id, &changes)
    }

    fn set_contract_service_quantity(
        agreement_id: String,
        service_id: String,
        quantity: String,
    ) -> Result<()> {
        writes::quantity_patch(&quantity)?;
        writes::set_contract_service_quantity(
            &mut Client::connect()?,
            &agreement_id,
            &service_id,
            &quantity,
        )
    }

    fn list_dataset(dataset: String, page: PageRequest) -> Result<DatasetPage> {
        datasets::list(&dataset, &page)
    }
}

/// The settings the operator fills in.
pub fn settings_spec() -> Vec<SettingSpec> {
    vec![
        setting(
            "site",
            "Site",
            "The ConnectWise API host. Cloud: api-na.myconnectwise.net (North America), api-eu.myconnectwise.net (Europe), api-au.myconnectwise.net (Australia), api-staging.connectwisedev.com (staging): the host you log in to with `api-` in front. On-premise: your ConnectWise server's host name. A full origin (https://cw.example.com:8443) is used as given.",
        )
        .required()
        .example("api-na.myconnectwise.net"),
        setting(
            "company-id",
            "Company ID",
            "The company identifier typed in the Company field of the ConnectWise login screen (not the company's display name).",
        )
        .required()
        .example("acmemsp"),
        setting(
            "public-key",
            "Public key",
            "The public key of an API key of the integration's API member: in ConnectWise, System > Members > API Members tab > (the API member, for example `psahost`) > API Keys tab > + (New). Create a dedicated API member with a security role that grants the permissions listed in the connector's README.",
        )
        .required()
        .example("aBcD1234eFgH5678"),
        setting(
            "private-key",
            "Private key",
            "The private key of the same API key. ConnectWise shows it once, when the key is created; if it was lost, create a new API key.",
        )
        .required()
        .secret(),
        setting(
            "client-id",
            "Client ID",
            "The clientId of this integration (a GUID), from the ConnectWise developer portal: developer.connectwise.com > Client ID > create one for your product. Sent as the `clientId` header on every request.",
        )
        .required()
        .example("1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"),
        setting(
            "api-version",
            "API version",
            "The ConnectWise REST API version to pin (sent as `Accept: application/vnd.connectwise.com+json; version=...`). Leave the default unless ConnectWise support asks otherwise.",
        )
        .default_value(client::DEFAULT_API_VERSION)
        .example(client::DEFAULT_API_VERSION),
    ]
}

psa_sdk::export_connector!(ConnectWiseManage);

#[cfg(test)]
mod tests {
    use super::*;

    fn request(cursor: Option<&str>, since: Option<&str>, size: u32) -> PageRequest {
        PageRequest {
            cursor: cursor.map(str::to_string),
            updated_since: since.map(str::to_string),
            page_size: size,
        }
    }

    #[test]
    fn describes_itself() {
        let info = ConnectWiseManage::describe();
        assert_eq!(info.id, "connectwise-manage");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.outbound_hosts, vec!["{site}"]);
        assert_eq!(info.operations.len(), 20);
        let names: Vec<_> = info.settings.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "site",
                "company-id",
                "public-key",
                "private-key",
                "client-id",
                "api-version"
            ]
        );
        for s in &info.settings {
            assert_eq!(s.required, s.name != "api-version", "{}", s.name);
            assert_eq!(s.secret, s.name == "private-key", "{}", s.name);
            assert!(!s.description.is_empty());
        }
        let version = info
            .settings
            .iter()
            .find(|s| s.name == "api-version")
            .unwrap();
        assert_eq!(version.default_value.as_deref(), Some("2026.4"));
    }

    #[test]
    fn describes_paging_and_read_only_types() {
        let info = ConnectWiseManage::describe();
        let paging: Vec<_> = info
            .paging
            .iter()
            .map(|p| (p.entity, p.max_page_size, p.updated_since))
            .collect();
        assert_eq!(
            paging,
            [
                (Entity::Companies, 1000, true),
                (Entity::Contacts, 1000, true),
                // Each agreement costs one more request (its additions).
                (Entity::Agreements, 100, true),
                (Entity::Configurations, 1000, true),
                (Entity::Tickets, 1000, true),
            ]
        );
        assert_eq!(info.read_only_configuration_types.len(), 7);
        assert!(
            info.read_only_configuration_types
                .iter()
                .any(|t| t == "Managed Server")
        );
    }

    #[test]
    fn first_page_and_cursor_pages() {
        let first = page_state(
            COMPANIES.name,
            COMPANIES.fixed,
            COMPANIES.max_page,
            &request(None, Some("2026-01-01T00:00:00Z"), 5000),
        )
        .unwrap();
        assert_eq!(first.page_size, 1000);
        assert_eq!(
            first.conditions.as_deref(),
            Some("lastUpdated >= [2026-01-01T00:00:00Z] and deletedFlag = false")
        );
        let second = first
            .next(Some(r#"<http://x/?page=2>; rel="next""#))
            .unwrap();
        let cursor = second.encode();
        // The host passes other values on the next call; the cursor's rule.
        let again = page_state(
            COMPANIES.name,
            COMPANIES.fixed,
            COMPANIES.max_page,
            &request(Some(&cursor), Some("2030-01-01T00:00:00Z"), 10),
        )
        .unwrap();
        assert_eq!(again, second);
        assert_eq!(again.query()[0].1, first.query()[0].1);

        let agreements = page_state(
            AGREEMENTS.name,
            AGREEMENTS.fixed,
            AGREEMENTS.max_page,
            &request(None, None, 500),
        )
        .unwrap();
        assert_eq!(agreements.page_size, AGREEMENT_PAGE_MAX);
        assert_eq!(agreements.conditions, None);
        // A companies cursor is refused by tickets.
        assert!(
            page_state(
                TICKETS.name,
                TICKETS.fixed,
                TICKETS.max_page,
                &request(Some(&cursor), None, 10)
            )
            .is_err()
        );
        // A bad updated-since names the field.
        match page_state(
            TICKETS.name,
            TICKETS.fixed,
            TICKETS.max_page,
            &request(None, Some("last week"), 10),
        ) {
            Err(Error::InvalidInput(p)) => assert_eq!(p.field, "updated-since"),
            other => panic!("{other:?}"),
        }
    }
}
