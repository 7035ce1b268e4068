//! Kaseya BMS connector for psahost.
//!
//! Modules:
//! - [`client`] reads the settings, sends Bearer requests (signing in again once on 401),
//!   unwraps the `{"result": ...}` envelope, follows pages and maps error answers;
//! - [`auth`] signs in (`v2/security/authenticate`), keeps the access token in kv and names the
//!   setting a refused login is about;
//! - [`paging`] defines keyset page positions and the cursor format;
//! - [`datasets`] serves `list-dataset` (time logs, opportunities, projects, tasks, invoices,
//!   employees, CRM notes);
//! - [`map`] turns BMS JSON into the contract's records;
//! - [`references`] reads the picklists;
//! - [`writes`] creates tickets and notes, finds open tickets and sets contract service
//!   quantities.
//!
//! See `README.md` beside this crate for the settings, permissions and endpoints, and the dialect
//! it relies on.

pub mod auth;
pub mod client;
pub mod datasets;
pub mod map;
pub mod paging;
pub mod references;
pub mod writes;

#[cfg(test)]
mod host_tests;

use client::Client;
pub use paging::page_state;
use psa_sdk::prelude::*;
use serde_json::{Value, json};

/// BMS's published limit: calls per hour, counted per endpoint.
pub const CALLS_PER_HOUR: u32 = 1500;

/// The connector.
pub struct KaseyaBms;

/// What each paged entity reads.
struct Paged {
    /// The contract's entity (for `describe().paging`).
    kind: Entity,
    /// The cursor's entity name.
    name: &'static str,
    /// The API path under `{origin}/api/`.
    path: &'static str,
    /// The record's name in messages (`account 42 was not found`).
    what: &'static str,
}

const ACCOUNTS: Paged = Paged {
    kind: Entity::Companies,
    name: "accounts",
    path: "v2/crm/accounts",
    what: "account",
};
const CONTACTS: Paged = Paged {
    kind: Entity::Contacts,
    name: "contacts",
    path: "v2/crm/contacts",
    what: "contact",
};
const CONTRACTS: Paged = Paged {
    kind: Entity::Agreements,
    name: "contracts",
    path: "v2/finance/contracts",
    what: "contract",
};
const TICKETS: Paged = Paged {
    kind: Entity::Tickets,
    name: "tickets",
    path: "v2/servicedesk/tickets",
    what: "ticket",
};

/// Why configuration items are not supported.
const NO_CONFIGURATIONS: &str = "Kaseya BMS configuration items (assets) are not supported by this connector: BMS receives its assets from the RMM (VSA) and the BMS API dialect psahost uses has no asset endpoints; sync devices through the RMM's own integration";

/// A record whose `raw` becomes the text BMS sent for it (the mapping reads a `Value`, whose
/// text would reorder the keys).
trait WithRaw {
    fn with_raw(self, raw: String) -> Self;
}

macro_rules! with_raw {
    ($($t:ty),*) => {$(
        impl WithRaw for $t {
            fn with_raw(mut self, raw: String) -> Self {
                self.raw = raw;
                self
            }
        }
    )*};
}
with_raw!(Company, Contact, Agreement, Ticket);

/// Maps one record and keeps its own text as `raw`.
fn mapped<T: WithRaw>(
    (value, raw): client::Record,
    map: impl Fn(&Value) -> Result<T>,
) -> Result<T> {
    Ok(map(&value)?.with_raw(raw))
}

/// Reads one page of `entity` and maps each record.
fn read_page<T: WithRaw>(
    entity: &Paged,
    page: &PageRequest,
    map: impl Fn(&Value) -> Result<T>,
) -> Result<(Vec<T>, Option<String>, Option<u64>)> {
    read_list(entity.name, entity.path, page, |record| {
        mapped(record, &map)
    })
}

/// Reads one keyset page of the list at `path` (cursor entity `name`) and maps each record with
/// `map`: the records, the next cursor and, on the first page of a sweep, its total (BMS's
/// `totalRecords`, in the same answer: no request more).
pub(crate) fn read_list<T>(
    name: &str,
    path: &str,
    page: &PageRequest,
    map: impl Fn(client::Record) -> Result<T>,
) -> Result<(Vec<T>, Option<String>, Option<u64>)> {
    let state = page_state(name, page)?;
    let mut client = Client::connect()?;
    let (items, next, total) = client.get_page(path, &state, &[])?;
    let records = items.into_iter().map(map).collect::<Result<Vec<_>>>()?;
    psa_sdk::debug!(
        "{name}: {} records, {}",
        records.len(),
        if next.is_some() {
            "more pages"
        } else {
            "last page"
        }
    );
    // Later pages' `totalRecords` counts only the records after the keyset position.
    let total = total.filter(|_| state.after.is_none());
    Ok((records, next.map(|n| n.encode()), total))
}

/// Reads one record by id and maps it.
fn read_one<T: WithRaw>(entity: &Paged, id: &str, map: impl Fn(&Value) -> Result<T>) -> Result<T> {
    let id = map::parse_id("id", id)?;
    let mut client = Client::connect()?;
    let subject = format!("{} {id}", entity.what);
    mapped(
        client.get_record(&format!("{}/{id}", entity.path), Some(&subject))?,
        map,
    )
}

impl Connector for KaseyaBms {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "kaseya-bms".into(),
            name: "Kaseya BMS".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "psahost".into(),
            description: "Kaseya BMS over its REST API V2: accounts (customers and prospects), contacts, contracts with their services, and service desk tickets (incremental by modification time); queue, status, priority, type, source, note type and service picklists; tickets, ticket notes and contract service quantities written back. No configuration items.".into(),
            settings: settings_spec(),
            outbound_hosts: vec!["{server}".into()],
            operations: vec![
                Operation::TestConnection,
                Operation::ListCompanies,
                Operation::GetCompany,
                Operation::ListContacts,
                Operation::GetContact,
                Operation::ListAgreements,
                Operation::GetAgreement,
                Operation::ListTickets,
                Operation::GetTicket,
                Operation::ListReferences,
                Operation::CreateTicket,
                Operation::AddTicketNote,
                Operation::FindOpenTickets,
                Operation::FindNoteByMarker,
                Operation::SetContractServiceQuantity,
                Operation::ListDataset,
            ],
            // Kaseya: "The V2 API call limit is 1500 per hour per endpoint." The host enforces it;
            // the connector never sleeps.
            rate_limits: vec![RateLimitHint {
                scope: LimitScope::Endpoint,
                requests: CALLS_PER_HOUR,
                per_seconds: 3600,
                max_concurrent: 0,
            }],
            // Every list filters on `modifiedSince`; BMS serves at most 100 records a page.
            paging: [&ACCOUNTS, &CONTACTS, &CONTRACTS, &TICKETS]
                .iter()
                .map(|p| PagingSpec::new(p.kind, paging::MAX_PAGE_SIZE, true))
                .collect(),
            datasets: datasets::DATASETS.iter().map(|d| d.spec()).collect(),
            read_only_configuration_types: vec![],
        }
    }

    fn test_connection() -> Result<ConnectionReport> {
        let (mut client, info) = Client::connect_fresh()?;
        let query = [
            ("pageSize".to_string(), "1".to_string()),
            ("pageNumber".to_string(), "1".to_string()),
        ];
        let (_, accounts) = client.get_list(ACCOUNTS.path, &query)?;
        let s = client.settings();
        let host = psa_sdk::origin::host(&s.origin);
        let user = info.user_name.as_deref().unwrap_or(&s.username);
        let tenant = info.tenant_name.as_deref().unwrap_or(&s.tenant);
        let mut message = format!("connected to {host} as {user} in tenant {tenant}");
        if let Some(n) = accounts {
            message.push_str(&format!(", {n} accounts visible"));
        }
        let details = json!({
            "origin": s.origin,
            "tenant": tenant,
            "tenantId": info.tenant_id,
            "userName": user,
            "userId": info.user_id,
            "fullName": info.full_name,
            "tokenExpiresIn": info.expires_in,
            "accounts": accounts,
        });
        Ok(ConnectionReport {
            message,
            details: details.to_string(),
        })
    }

    fn list_companies(page: PageRequest) -> Result<CompanyPage> {
        let (items, next_cursor, total) = read_page(&ACCOUNTS, &page, map::company)?;
        Ok(CompanyPage {
            items,
            next_cursor,
            total,
        })
    }

    fn get_company(id: String) -> Result<Company> {
        read_one(&ACCOUNTS, &id, map::company)
    }

    fn list_contacts(page: PageRequest) -> Result<ContactPage> {
        let (items, next_cursor, total) = read_page(&CONTACTS, &page, map::contact)?;
        Ok(ContactPage {
            items,
            next_cursor,
            total,
        })
    }

    fn get_contact(id: String) -> Result<Contact> {
        read_one(&CONTACTS, &id, map::contact)
    }

    fn list_agreements(page: PageRequest) -> Result<AgreementPage> {
        let (items, next_cursor, total) = read_page(&CONTRACTS, &page, map::agreement)?;
        Ok(AgreementPage {
            items,
            next_cursor,
            total,
        })
    }

    fn get_agreement(id: String) -> Result<Agreement> {
        read_one(&CONTRACTS, &id, map::agreement)
    }

    fn list_configurations(_page: PageRequest) -> Result<ConfigurationPage> {
        Err(Error::unsupported(NO_CONFIGURATIONS))
    }

    fn get_configuration(_id: String) -> Result<Configuration> {
        Err(Error::unsupported(NO_CONFIGURATIONS))
    }

    fn list_tickets(page: PageRequest) -> Result<TicketPage> {
        let (items, next_cursor, total) = read_page(&TICKETS, &page, map::ticket)?;
        Ok(TicketPage {
            items,
            next_cursor,
            total,
        })
    }

    fn get_ticket(id: String) -> Result<Ticket> {
        read_one(&TICKETS, &id, map::ticket)
    }

    fn list_references(kind: ReferenceKind) -> Result<Vec<Reference>> {
        if let references::Source::Unsupported(why) = references::source(kind) {
            return Err(Error::unsupported(why));
        }
        references::read(&mut Client::connect()?, kind)
    }

    fn create_ticket(ticket: NewTicket) -> Result<Ticket> {
        writes::ticket_body(&ticket)?;
        writes::create_ticket(&mut Client::connect()?, &ticket)
    }

    fn add_ticket_note(note: NewNote) -> Result<Note> {
        map::parse_id("ticket-id", &note.ticket_id)?;
        writes::note_body(&note)?;
        writes::add_ticket_note(&mut Client::connect()?, &note)
    }

    fn find_open_tickets(filter: TicketFilter) -> Result<Vec<Ticket>> {
        writes::open_ticket_query(&filter)?;
        writes::find_open_tickets(&mut Client::connect()?, &filter)
    }

    fn find_note_by_marker(ticket_id: String, marker: String) -> Result<Option<Note>> {
        map::parse_id("ticket-id", &ticket_id)?;
        psa_sdk::marker::check(&marker)?;
        writes::find_note_by_marker(&mut Client::connect()?, &ticket_id, &marker)
    }

    fn create_configuration(_configuration: NewConfiguration) -> Result<Configuration> {
        Err(Error::unsupported(NO_CONFIGURATIONS))
    }

    fn update_configuration(_id: String, _changes: ConfigurationChanges) -> Result<Configuration> {
        Err(Error::unsupported(NO_CONFIGURATIONS))
    }

    fn set_contract_service_quantity(
        agreement_id: String,
        service_id: String,
        quantity: String,
    ) -> Result<()> {
        map::parse_id("agreement-id", &agreement_id)?;
        map::parse_id("service-id", &service_id)?;
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
            "server",
            "Server",
            "The Kaseya BMS server your company signs in to, as shown under My Settings (click your name in the top bar) as the server or gateway URL: bms.kaseya.com (North America), bmsemea.kaseya.com (Europe), bmsapac.kaseya.com (Asia Pacific), or your own host. A bare host means https; a full origin (https://bms.example.com:8443) is used as given; a pasted path is ignored.",
        )
        .required()
        .example("bms.kaseya.com"),
        setting(
            "username",
            "Username",
            "The user name of the BMS user the integration signs in as (the name typed on the BMS login page). Create a dedicated user for psahost whose role grants the permissions listed in the connector's README; check it after saving, browsers tend to autofill another name here.",
        )
        .required()
        .example("api.psahost"),
        setting(
            "tenant",
            "Tenant",
            "Your company (tenant) name as typed in the Company field of the BMS login page; also shown under My Settings.",
        )
        .required()
        .example("Acme MSP"),
        setting(
            "password",
            "Password",
            "The password of that BMS user. Used only to sign in; the access token BMS issues is kept by psahost until it expires.",
        )
        .required()
        .secret(),
    ]
}

psa_sdk::export_connector!(KaseyaBms);

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
        let paging: Vec<_> = KaseyaBms::describe()
            .paging
            .iter()
            .map(|p| (p.entity, p.max_page_size, p.updated_since))
            .collect();
        assert_eq!(
            paging,
            [
                (Entity::Companies, 100, true),
                (Entity::Contacts, 100, true),
                (Entity::Agreements, 100, true),
                (Entity::Tickets, 100, true),
            ]
        );
    }

    #[test]
    fn describes_itself() {
        let info = KaseyaBms::describe();
        assert_eq!(info.id, "kaseya-bms");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.outbound_hosts, vec!["{server}"]);
        assert_eq!(info.operations.len(), 16);
        for op in [
            Operation::ListConfigurations,
            Operation::CreateConfiguration,
            Operation::UpdateConfiguration,
        ] {
            assert!(!info.operations.contains(&op), "{op:?}");
        }
        let names: Vec<_> = info.settings.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["server", "username", "tenant", "password"]);
        for s in &info.settings {
            assert!(s.required, "{}", s.name);
            assert_eq!(s.secret, s.name == "password", "{}", s.name);
            assert!(!s.description.is_empty());
            assert_eq!(s.default_value, None);
        }
        assert_eq!(
            info.rate_limits,
            vec![RateLimitHint {
                scope: LimitScope::Endpoint,
                requests: 1500,
                per_seconds: 3600,
                max_concurrent: 0,
            }]
        );
    }

    #[test]
    fn configurations_are_unsupported_with_a_reason() {
        let page = request(None, None, 10);
        for e in [
            KaseyaBms::list_configurations(page).unwrap_err(),
            KaseyaBms::get_configuration("1".into()).unwrap_err(),
        ] {
            match e {
                Error::Unsupported(m) => assert!(m.contains("assets"), "{m}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn first_page_and_cursor_pages() {
        let first = page_state(
            ACCOUNTS.name,
            &request(None, Some("2026-01-01T02:00:00.750+02:00"), 5000),
        )
        .unwrap();
        assert_eq!(first.page_size, 100);
        assert_eq!(first.since.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(first.after, None);
        let second = first
            .next(&[1, 2, 3], first.more(3, Some(500)))
            .unwrap()
            .unwrap();
        let cursor = second.encode();
        // The host passes other values on the next call; the cursor's rule.
        let again = page_state(
            ACCOUNTS.name,
            &request(Some(&cursor), Some("2030-01-01T00:00:00Z"), 10),
        )
        .unwrap();
        assert_eq!(again, second);
        assert_eq!(again.since, first.since);
        assert_eq!(again.page_size, 100);

        let full = page_state(CONTRACTS.name, &request(None, None, 0)).unwrap();
        assert_eq!(full.page_size, paging::DEFAULT_PAGE_SIZE);
        assert_eq!(full.since, None);
        let blank = page_state(CONTRACTS.name, &request(Some(""), Some(" "), 7)).unwrap();
        assert_eq!((blank.page_size, blank.since), (7, None));
        // An accounts cursor is refused by tickets.
        assert!(page_state(TICKETS.name, &request(Some(&cursor), None, 10)).is_err());
        // A bad updated-since names the field.
        match page_state(TICKETS.name, &request(None, Some("last week"), 10)) {
            Err(Error::InvalidInput(p)) => assert_eq!(p.field, "updated-since"),
            other => panic!("{other:?}"),
        }
    }
}
