//! Autotask PSA connector for psahost.
//!
//! Modules:
//! - [`client`] reads the settings, discovers and caches the zone, sends authenticated requests,
//!   follows pages and maps error answers;
//! - [`paging`] defines page positions and the cursor format;
//! - [`query`] builds query bodies and filters;
//! - [`datasets`] serves `list-dataset` (time entries, opportunities, ... SLA and survey
//!   results);
//! - [`map`] turns Autotask JSON into the contract's records;
//! - [`references`] reads the picklists;
//! - [`writes`] creates tickets, notes and configuration items, updates configuration items and
//!   adjusts contract service units.
//!
//! See `README.md` beside this crate for the settings, the API user and the endpoints.

pub mod client;
pub mod datasets;
pub mod map;
pub mod paging;
pub mod query;
pub mod references;
pub mod writes;

#[cfg(test)]
mod host_tests;

use client::Client;
use paging::{DEFAULT_PAGE_SIZE, PageState};
use psa_sdk::prelude::*;
use query::{Filter, MAX_RECORDS, Query};
use serde_json::{Value, json};

/// Contracts cost two more queries per page (their services and service units, with the page's
/// contract ids in an `in` filter), so their pages are smaller.
pub const AGREEMENT_PAGE_MAX: u32 = 100;

/// Autotask's hourly request budget per tenant database.
pub const HOURLY_REQUESTS: u32 = 10_000;
/// Autotask's limit of concurrent requests per API user, tracking identifier and entity.
pub const THREADS_PER_ENDPOINT: u32 = 3;

/// The connector.
pub struct Autotask;

/// A keyset sweep of one Autotask entity (a typed entity or a dataset).
pub struct Paged {
    /// The cursor's entity name.
    pub name: &'static str,
    /// The Autotask entity (path segment).
    pub path: &'static str,
    /// The date-time fields an updated-since filter compares (`or`-ed); empty when the entity has
    /// none and every sweep is complete.
    pub since_fields: &'static [&'static str],
    /// The largest page.
    pub max_page: u32,
}

/// `Companies`, incremental by last activity or last tracked modification.
pub const COMPANIES: Paged = Paged {
    name: "companies",
    path: "Companies",
    since_fields: &["lastActivityDate", "lastTrackedModifiedDateTime"],
    max_page: MAX_RECORDS,
};
/// `Contacts`, incremental by last modification or last activity.
pub const CONTACTS: Paged = Paged {
    name: "contacts",
    path: "Contacts",
    since_fields: &["lastModifiedDate", "lastActivityDate"],
    max_page: MAX_RECORDS,
};
/// `Contracts`: no modification time, so always complete.
pub const AGREEMENTS: Paged = Paged {
    name: "agreements",
    path: "Contracts",
    since_fields: &[],
    max_page: AGREEMENT_PAGE_MAX,
};
/// `ConfigurationItems`, incremental by last modification.
pub const CONFIGURATIONS: Paged = Paged {
    name: "configurations",
    path: "ConfigurationItems",
    since_fields: &["lastModifiedTime"],
    max_page: MAX_RECORDS,
};
/// `Tickets`, incremental by last activity or last tracked modification.
pub const TICKETS: Paged = Paged {
    name: "tickets",
    path: "Tickets",
    since_fields: &["lastActivityDate", "lastTrackedModificationDateTime"],
    max_page: MAX_RECORDS,
};

/// Every paged entity, in the contract's order.
const PAGED: [(Entity, &Paged); 5] = [
    (Entity::Companies, &COMPANIES),
    (Entity::Contacts, &CONTACTS),
    (Entity::Agreements, &AGREEMENTS),
    (Entity::Configurations, &CONFIGURATIONS),
    (Entity::Tickets, &TICKETS),
];

impl Paged {
    /// Whether `updated-since` is honoured: an entity without a modification time has no
    /// incremental sweep.
    pub fn incremental(&self) -> bool {
        !self.since_fields.is_empty()
    }

    /// The page state of a request: the cursor's when there is one (its updated-since and page
    /// size rule the whole sweep), else the first page built from `updated-since` and
    /// `page-size`.
    pub fn page_state(&self, page: &PageRequest) -> Result<PageState> {
        let mut state = PageState::start(self.name, page, DEFAULT_PAGE_SIZE, self.max_page)?;
        // An entity without a modification time reads everything (a cursor keeps its own).
        if state.after.is_none() && self.since_fields.is_empty() {
            state.since = None;
        }
        Ok(state)
    }

    /// The query of a page.
    pub fn query(&self, state: &PageState) -> Query {
        let incremental = query::updated_since(self.since_fields, state.since.as_deref());
        Query::new(state.page_size, paging::filter(state, incremental))
    }
}

/// One page of a sweep: the client (for the page's extra queries), the records, the next
/// cursor and, on the first page, the number of records the sweep reads.
pub(crate) struct Page<T> {
    pub client: Client,
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    pub total: Option<u64>,
}

/// Reads one page of `entity` as `Value`s.
fn read_page(entity: &Paged, page: &PageRequest) -> Result<Page<Value>> {
    read_page_with(
        entity,
        page,
        |client, query| client.query_page(entity.path, query),
        |v| v.get("id").and_then(Value::as_u64),
    )
}

/// Reads one page of `entity` with `fetch` (the records and whether Autotask announces a next
/// page); `id_of` reads a record's id, the keyset position. On the first page of a sweep that
/// has more, `{Entity}/query/count` with the sweep's filter gives the total: one request more
/// per sweep.
pub(crate) fn read_page_with<T>(
    entity: &Paged,
    page: &PageRequest,
    fetch: impl FnOnce(&mut Client, &Query) -> Result<(Vec<T>, Option<String>)>,
    id_of: impl Fn(&T) -> Option<u64>,
) -> Result<Page<T>> {
    let state = entity.page_state(page)?;
    let mut client = Client::connect()?;
    let query = entity.query(&state);
    let (items, next_url) = fetch(&mut client, &query)?;
    let ids: Vec<u64> = items.iter().filter_map(&id_of).collect();
    let next = state.next(&ids, next_url.is_some())?;
    psa_sdk::debug!(
        "{}: {} records, {}",
        entity.name,
        items.len(),
        if next.is_some() {
            "more pages"
        } else {
            "last page"
        }
    );
    let total = if state.after.is_some() {
        None
    } else if next.is_none() {
        // A sweep of one page: its records are the total.
        Some(items.len() as u64)
    } else {
        count(&mut client, entity.path, query.filter)
    };
    Ok(Page {
        client,
        items,
        next_cursor: next.map(|n| n.encode()),
        total,
    })
}

/// The number of records of a query, for progress only: a failed count is logged and the total
/// left unknown rather than failing the page.
fn count(client: &mut Client, entity: &str, filter: Vec<Filter>) -> Option<u64> {
    client
        .count(entity, filter)
        .map_err(|e| psa_sdk::warn!("cannot count {entity} (the total stays unknown): {e:?}"))
        .ok()
}

/// Maps every record of a page.
fn map_all<T>(items: &[Value], map: impl Fn(&Value) -> Result<T>) -> Result<Vec<T>> {
    items.iter().map(map).collect()
}

/// Reads one record by id.
fn read_one(entity: &Paged, what: &str, id: &str) -> Result<(Client, Value)> {
    let id = query::id("id", id)?;
    let mut client = Client::connect()?;
    let v = client.get_item(entity.path, id, &format!("{what} {id}"))?;
    Ok((client, v))
}

/// The ids of records.
fn ids(items: &[Value]) -> Vec<u64> {
    items
        .iter()
        .filter_map(|v| v.get("id").and_then(Value::as_u64))
        .collect()
}

/// Contracts with their services and today's units (two queries for the whole page).
fn agreements(client: &mut Client, contracts: &[Value]) -> Result<Vec<Agreement>> {
    let ids = ids(contracts);
    if ids.is_empty() {
        return map_all(contracts, |c| map::agreement(c, &[], &[], ""));
    }
    let today = psa_sdk::time::today_utc();
    let services =
        client.query_all("ContractServices", vec![Filter::in_ids("contractID", &ids)])?;
    let units = client.query_all(
        "ContractServiceUnits",
        vec![
            Filter::in_ids("contractID", &ids),
            Filter::cmp("gte", "endDate", query::midnight(&today)),
        ],
    )?;
    map_all(contracts, |c| map::agreement(c, &services, &units, &today))
}

impl Connector for Autotask {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "autotask".into(),
            name: "Autotask PSA".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "psahost".into(),
            description: "Datto/Kaseya Autotask PSA over its REST API v1.0: companies, contacts, contracts with their services (recurring service contracts flagged), configuration items and tickets (incremental by last activity/modification); queue, status, priority, issue type, category, source, note type and service picklists; tickets, ticket notes, configuration items and contract service units written back.".into(),
            settings: settings_spec(),
            outbound_hosts: vec![
                "{discovery-url}".into(),
                "https://*.autotask.net".into(),
                "{zone-url}".into(),
            ],
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
            rate_limits: vec![
                RateLimitHint {
                    scope: LimitScope::Connection,
                    requests: HOURLY_REQUESTS,
                    per_seconds: 3600,
                    max_concurrent: 0,
                },
                RateLimitHint {
                    scope: LimitScope::Endpoint,
                    requests: 0,
                    per_seconds: 0,
                    max_concurrent: THREADS_PER_ENDPOINT,
                },
            ],
            paging: PAGED
                .iter()
                .map(|(entity, p)| PagingSpec::new(*entity, p.max_page, p.incremental()))
                .collect(),
            datasets: datasets::DATASETS.iter().map(|d| d.spec()).collect(),
            // Autotask updates every configuration item type through the API.
            read_only_configuration_types: vec![],
        }
    }

    fn test_connection() -> Result<ConnectionReport> {
        let mut client = Client::connect_fresh()?;
        let threshold = client.threshold()?;
        let companies = client.count("Companies", vec![Filter::id_after(0)])?;
        let s = client.settings();
        let zone = client.zone();
        let used = threshold
            .get("currentTimeframeRequestCount")
            .and_then(Value::as_u64);
        let limit = threshold
            .get("externalRequestThreshold")
            .and_then(Value::as_u64);
        let minutes = threshold
            .get("requestThresholdTimeframe")
            .and_then(Value::as_u64);
        let mut message = format!("connected to {}", zone.host());
        if let Some(name) = &zone.zone_name {
            message.push_str(&format!(" (zone {name})"));
        }
        message.push_str(&format!(
            " as {}: {companies} companies visible",
            s.username
        ));
        if let (Some(used), Some(limit)) = (used, limit) {
            message.push_str(&format!(", {used} of {limit} requests used"));
            if let Some(minutes) = minutes {
                message.push_str(&format!(" in the last {minutes} minutes"));
            }
        }
        let details = json!({
            "zoneUrl": zone.url,
            "zoneName": zone.zone_name,
            "webUrl": zone.web_url,
            "ci": zone.ci,
            "zoneFromSetting": s.zone_url.is_some(),
            "discoveryUrl": s.discovery_origin,
            "username": s.username,
            "companies": companies,
            "threshold": threshold,
        });
        Ok(ConnectionReport {
            message,
            details: details.to_string(),
        })
    }

    fn list_companies(page: PageRequest) -> Result<CompanyPage> {
        let page = read_page(&COMPANIES, &page)?;
        Ok(CompanyPage {
            items: map_all(&page.items, map::company)?,
            next_cursor: page.next_cursor,
            total: page.total,
        })
    }

    fn get_company(id: String) -> Result<Company> {
        map::company(&read_one(&COMPANIES, "company", &id)?.1)
    }

    fn list_contacts(page: PageRequest) -> Result<ContactPage> {
        let page = read_page(&CONTACTS, &page)?;
        Ok(ContactPage {
            items: map_all(&page.items, map::contact)?,
            next_cursor: page.next_cursor,
            total: page.total,
        })
    }

    fn get_contact(id: String) -> Result<Contact> {
        map::contact(&read_one(&CONTACTS, "contact", &id)?.1)
    }

    fn list_agreements(page: PageRequest) -> Result<AgreementPage> {
        let mut page = read_page(&AGREEMENTS, &page)?;
        Ok(AgreementPage {
            items: agreements(&mut page.client, &page.items)?,
            next_cursor: page.next_cursor,
            total: page.total,
        })
    }

    fn get_agreement(id: String) -> Result<Agreement> {
        let (mut client, v) = read_one(&AGREEMENTS, "contract", &id)?;
        Ok(agreements(&mut client, &[v])?.remove(0))
    }

    fn list_configurations(page: PageRequest) -> Result<ConfigurationPage> {
        let page = read_page(&CONFIGURATIONS, &page)?;
        Ok(ConfigurationPage {
            items: map_all(&page.items, map::configuration)?,
            next_cursor: page.next_cursor,
            total: page.total,
        })
    }

    fn get_configuration(id: String) -> Result<Configuration> {
        map::configuration(&read_one(&CONFIGURATIONS, "configuration item", &id)?.1)
    }

    fn list_tickets(page: PageRequest) -> Result<TicketPage> {
        let page = read_page(&TICKETS, &page)?;
        Ok(TicketPage {
            items: map_all(&page.items, map::ticket)?,
            next_cursor: page.next_cursor,
            total: page.total,
        })
    }

    fn get_ticket(id: String) -> Result<Ticket> {
        map::ticket(&read_one(&TICKETS, "ticket", &id)?.1)
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
        writes::open_ticket_filter(&filter)?;
        if filter.limit == 0 {
            return Ok(Vec::new());
        }
        writes::find_open_tickets(&mut Client::connect()?, &filter)
    }

    fn find_note_by_marker(ticket_id: String, marker: String) -> Result<Option<Note>> {
        writes::note_marker_filter(&ticket_id, &marker)?;
        writes::find_note_by_marker(&mut Client::connect()?, &ticket_id, &marker)
    }

    fn create_configuration(configuration: NewConfiguration) -> Result<Configuration> {
        writes::configuration_body(&configuration)?;
        writes::create_configuration(&mut Client::connect()?, &configuration)
    }

    fn update_configuration(id: String, changes: ConfigurationChanges) -> Result<Configuration> {
        writes::configuration_patch(query::id("id", &id)?, &changes)?;
        writes::update_configuration(&mut Client::connect()?, &id, &changes)
    }

    fn set_contract_service_quantity(
        agreement_id: String,
        service_id: String,
        quantity: String,
    ) -> Result<()> {
        query::id("agreement-id", &agreement_id)?;
        query::id("service-id", &service_id)?;
        writes::whole_quantity(&quantity)?;
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
            "username",
            "API username",
            "The username of the integration's API user, which Autotask generates when the user is created (it looks like an e-mail address, e.g. abc123defg@acme.example). In Autotask: Admin > Account Settings & Users > Resources/Users > New > New API User, with Security Level \"API User (system)\"; the username is on the user's Security section. Check it was not replaced by a browser autofill.",
        )
        .required()
        .example("abc123defg@acme.example"),
        setting(
            "secret",
            "API secret",
            "The secret (password) of the same API user, generated on its Security section (Generate Secret). Autotask shows it when it is generated; if it was lost, generate a new one.",
        )
        .required()
        .secret(),
        setting(
            "integration-code",
            "API integration code",
            "The API tracking identifier of the integration, on the API user's Security section under API Tracking Identifier: the vendor's identifier for a listed integration, or a Custom (internal integration) identifier. Sent as the `ApiIntegrationCode` header.",
        )
        .required()
        .secret(),
        setting(
            "zone-url",
            "Zone URL (override)",
            "Leave empty: the connector discovers the tenant's zone from the username. Set it only to pin the zone's REST URL, e.g. https://webservices2.autotask.net/atservicesrest (a bare host gets /atservicesrest).",
        )
        .example("https://webservices2.autotask.net/atservicesrest"),
        setting(
            "discovery-url",
            "Zone discovery URL",
            "The origin of Autotask's zone discovery (zoneInformation). Leave the default unless you run against a simulator (its loopback origin, e.g. http://127.0.0.1:41234).",
        )
        .default_value(client::DEFAULT_DISCOVERY_URL)
        .example(client::DEFAULT_DISCOVERY_URL),
    ]
}

psa_sdk::export_connector!(Autotask);

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
    fn describes_paging() {
        let paging: Vec<_> = Autotask::describe()
            .paging
            .iter()
            .map(|p| (p.entity, p.max_page_size, p.updated_since))
            .collect();
        assert_eq!(
            paging,
            [
                (Entity::Companies, 500, true),
                (Entity::Contacts, 500, true),
                // Contracts have no modification time; each page costs two more queries.
                (Entity::Agreements, 100, false),
                (Entity::Configurations, 500, true),
                (Entity::Tickets, 500, true),
            ]
        );
    }

    #[test]
    fn describes_itself() {
        let info = Autotask::describe();
        assert_eq!(info.id, "autotask");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(
            info.outbound_hosts,
            vec!["{discovery-url}", "https://*.autotask.net", "{zone-url}"]
        );
        assert_eq!(info.operations.len(), 20);
        let names: Vec<_> = info.settings.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "username",
                "secret",
                "integration-code",
                "zone-url",
                "discovery-url"
            ]
        );
        for s in &info.settings {
            let optional = ["zone-url", "discovery-url"].contains(&s.name.as_str());
            assert_eq!(s.required, !optional, "{}", s.name);
            assert_eq!(
                s.secret,
                ["secret", "integration-code"].contains(&s.name.as_str()),
                "{}",
                s.name
            );
            assert!(!s.description.is_empty());
        }
        let discovery = info
            .settings
            .iter()
            .find(|s| s.name == "discovery-url")
            .unwrap();
        assert_eq!(
            discovery.default_value.as_deref(),
            Some("https://webservices.autotask.net")
        );
        assert_eq!(
            info.rate_limits,
            vec![
                RateLimitHint {
                    scope: LimitScope::Connection,
                    requests: 10_000,
                    per_seconds: 3600,
                    max_concurrent: 0,
                },
                RateLimitHint {
                    scope: LimitScope::Endpoint,
                    requests: 0,
                    per_seconds: 0,
                    max_concurrent: 3,
                },
            ]
        );
    }

    #[test]
    fn first_page_and_cursor_pages() {
        let first = COMPANIES
            .page_state(&request(None, Some("2026-01-01T01:00:00+01:00"), 5000))
            .unwrap();
        assert_eq!(first.page_size, 500);
        assert_eq!(first.since.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(
            COMPANIES.query(&first).to_json(),
            json!({
                "MaxRecords": 500,
                "IncludeFields": [],
                "Filter": [
                    {"op": "or", "items": [
                        {"op": "gte", "field": "lastActivityDate", "value": "2026-01-01T00:00:00Z"},
                        {"op": "gte", "field": "lastTrackedModifiedDateTime", "value": "2026-01-01T00:00:00Z"},
                    ]},
                    {"op": "gt", "field": "id", "value": 0},
                ]
            })
        );
        let second = first.next(&[174, 250], true).unwrap().unwrap();
        let cursor = second.encode();
        // The host passes other values on the next call; the cursor's rule.
        let again = COMPANIES
            .page_state(&request(Some(&cursor), Some("2030-01-01T00:00:00Z"), 10))
            .unwrap();
        assert_eq!(again, second);
        assert_eq!(
            COMPANIES.query(&again).to_json()["Filter"][1],
            json!({"op": "gt", "field": "id", "value": 250})
        );
        assert_eq!(
            COMPANIES.query(&again).to_json()["Filter"][0],
            COMPANIES.query(&first).to_json()["Filter"][0]
        );

        // Contracts have no modification time: updated-since is ignored, pages are smaller.
        let agreements = AGREEMENTS
            .page_state(&request(None, Some("2026-01-01T00:00:00Z"), 0))
            .unwrap();
        assert_eq!(agreements.page_size, AGREEMENT_PAGE_MAX);
        assert_eq!(agreements.since, None);
        assert_eq!(
            AGREEMENTS.query(&agreements).to_json()["Filter"],
            json!([{"op": "gt", "field": "id", "value": 0}])
        );
        let cis = CONFIGURATIONS
            .page_state(&request(None, Some("2026-01-01T00:00:00Z"), 50))
            .unwrap();
        assert_eq!(
            CONFIGURATIONS.query(&cis).to_json()["Filter"][0],
            json!({"op": "gte", "field": "lastModifiedTime", "value": "2026-01-01T00:00:00Z"})
        );
        // A companies cursor is refused by tickets.
        assert!(
            TICKETS
                .page_state(&request(Some(&cursor), None, 10))
                .is_err()
        );
        // A bad updated-since names the field, even for contracts.
        for entity in [&TICKETS, &AGREEMENTS] {
            match entity.page_state(&request(None, Some("last week"), 10)) {
                Err(Error::InvalidInput(p)) => assert_eq!(p.field, "updated-since"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn page_ids() {
        assert_eq!(
            ids(&[json!({"id": 3}), json!({"name": "x"}), json!({"id": 7})]),
            vec![3, 7]
        );
    }
}
