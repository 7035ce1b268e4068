//! A small connector for Tiny PSA, a made-up PSA with a JSON API like HaloPSA's, for which the
//! host has no simulator dialect: the subject of the any-PSA conformance tests
//! (`psahost plugin check FILE --setting ... --grant ...`), whose fake server lives in the tests.
//!
//! The API: `GET {url}/api/companies?page_no=N&page_size=S[&updated_since=T]` answers
//! `{"record_count": n, "companies": [...]}` (contacts alike), `GET {url}/api/companies/{id}`
//! the record itself; `POST {url}/api/tickets` creates a ticket and
//! `POST {url}/api/tickets/{id}/notes` a note, each answering the record created; every request
//! carries `Authorization: Bearer {api-key}`.
//!
//! Its setting `defect` switches on one classic bug, each in `list-companies` only so that it
//! breaks exactly one check of the suite:
//! - `none`: behaves (the suite must pass it);
//! - `duplicate-across-pages`: counts pages from 0 where the API counts from 1 (and reads 0 as
//!   1), so the first page comes twice (it stops on a short page, so no record is missed);
//! - `ignore-updated-since`: never sends `updated_since`, so incremental reads return everything;
//! - `429-as-remote`: reports a 429 as a generic `remote` error instead of `rate-limited`.

use psa_sdk::http::Request;
use psa_sdk::prelude::*;
use psa_sdk::{json, paging, status, time};

struct TinyPsa;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Defect {
    None,
    DuplicateAcrossPages,
    IgnoreUpdatedSince,
    RateLimitAsRemote,
}

const DEFECTS: &str = "none, duplicate-across-pages, ignore-updated-since, 429-as-remote";

fn defect() -> Result<Defect> {
    match settings::get_or("defect", "none").as_str() {
        "none" => Ok(Defect::None),
        "duplicate-across-pages" => Ok(Defect::DuplicateAcrossPages),
        "ignore-updated-since" => Ok(Defect::IgnoreUpdatedSince),
        "429-as-remote" => Ok(Defect::RateLimitAsRemote),
        other => Err(Error::invalid(
            "defect",
            format!("`{other}` is not one of {DEFECTS}: set one of them"),
        )),
    }
}

/// Tiny PSA's largest page.
const MAX_PAGE: u32 = 100;

/// Sends `request` with the API key and maps any answer but 2xx to the contract's error.
fn send(
    request: Request,
    subject: Option<&str>,
    defect: Defect,
) -> Result<psa_sdk::http::Response> {
    let key = settings::require("api-key")?;
    let response = request
        .bearer_auth(&key)
        .header("accept", "application/json")
        .send()?;
    let errors = status::ErrorMap::new("Tiny PSA", "api-key")
        .subject(subject)
        .secret(&key)
        .hook(move |r, text| {
            (defect == Defect::RateLimitAsRemote && r.status == 429)
                .then(|| Error::remote(429, text.code.clone(), text.message.clone()))
        });
    response.check(&errors)
}

fn origin() -> Result<String> {
    Ok(settings::require("url")?.trim_end_matches('/').to_string())
}

/// One page of `entity` (`companies`, `contacts`): the records mapped by `map`, the next
/// cursor and the total.
fn list<T>(
    entity: &str,
    page: &PageRequest,
    defect: Defect,
    map: impl Fn(Record<'_>, &str) -> Result<T>,
) -> Result<(Vec<T>, Option<String>, Option<u64>)> {
    let pager = paging::PageNumber::start(entity, page, 50, MAX_PAGE)?;
    let page_no = match defect {
        Defect::DuplicateAcrossPages => pager.page - 1,
        _ => pager.page,
    };
    let mut request = Request::get(format!("{}/api/{entity}", origin()?))
        .query("page_no", page_no.to_string())
        .query("page_size", pager.page_size.to_string());
    if let Some(since) = pager
        .since
        .as_ref()
        .filter(|_| defect != Defect::IgnoreUpdatedSince)
    {
        request = request.query("updated_since", since.as_str());
    }
    let response = send(request, None, defect)?;
    let body = json::Envelope::parse(&response.body)?;
    let total = body.count("record_count");
    let items = body.map_records(entity, |r: Record<'_>, raw| map(r, raw))?;
    // The defect stops on a short page instead of the total, which its page numbers from 0
    // would reach a page early (and miss the last page).
    let known = total.filter(|_| defect != Defect::DuplicateAcrossPages);
    let next = pager.next(items.len() as u32, known).map(|n| n.encode());
    Ok((items, next, total))
}

/// One record of `entity` by id.
fn get<T>(entity: &str, id: &str, map: impl Fn(Record<'_>, &str) -> Result<T>) -> Result<T> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            "id",
            format!("`{id}` is not a Tiny PSA id: use the digits of a listed record's id"),
        ));
    }
    let subject = format!("{entity} {id}");
    let response = send(
        Request::get(format!("{}/api/{entity}/{id}", origin()?)),
        Some(&subject),
        Defect::None,
    )?;
    let raw = json::record(&response.body)?;
    map(json::typed(raw.get())?, raw.get())
}

/// The fields of a Tiny PSA record the connector reads.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Record<'a> {
    #[serde(borrow)]
    id: json::Scalar<'a>,
    #[serde(borrow)]
    name: json::Scalar<'a>,
    #[serde(borrow)]
    phone: json::Scalar<'a>,
    #[serde(borrow)]
    company_id: json::Scalar<'a>,
    #[serde(borrow)]
    first_name: json::Scalar<'a>,
    #[serde(borrow)]
    last_name: json::Scalar<'a>,
    #[serde(borrow)]
    email: json::Scalar<'a>,
    #[serde(borrow)]
    updated_at: json::Scalar<'a>,
    #[serde(borrow)]
    summary: json::Scalar<'a>,
    #[serde(borrow)]
    ticket_id: json::Scalar<'a>,
    #[serde(borrow)]
    text: json::Scalar<'a>,
    private: json::Scalar<'a>,
    #[serde(borrow)]
    created_at: json::Scalar<'a>,
}

/// What Tiny PSA takes to create a ticket.
#[derive(serde::Serialize)]
struct TicketBody<'a> {
    company_id: &'a str,
    summary: &'a str,
    details: Option<&'a str>,
}

/// What Tiny PSA takes to add a note.
#[derive(serde::Serialize)]
struct NoteBody<'a> {
    text: &'a str,
    private: bool,
}

/// Sends a write and maps the record it answers.
fn write<T>(request: Request, map: impl Fn(Record<'_>, &str) -> Result<T>) -> Result<T> {
    // A write is not safe to resend: the host must not retry it after a 429 or 503.
    let response = send(request.retryable(false), None, Defect::None)?;
    let raw = json::record(&response.body)?;
    map(json::typed(raw.get())?, raw.get())
}

impl Record<'_> {
    fn id(&self, entity: &str) -> Result<String> {
        self.id
            .id()
            .ok_or_else(|| Error::malformed(format!("a Tiny PSA {entity} without an id")))
    }

    fn updated_at(&self) -> Option<String> {
        self.updated_at.text().and_then(|t| time::to_utc(&t))
    }
}

fn company(r: Record<'_>, raw: &str) -> Result<Company> {
    Ok(Company {
        id: r.id("company")?,
        name: r.name.text().unwrap_or_default(),
        identifier: None,
        status: None,
        active: true,
        types: vec![],
        phone: r.phone.text(),
        website: None,
        address: None,
        parent_id: None,
        classification: None,
        market_segment: None,
        sites: vec![],
        updated_at: r.updated_at(),
        raw: raw.to_string(),
    })
}

fn ticket(r: Record<'_>, raw: &str) -> Result<Ticket> {
    Ok(Ticket {
        id: r.id("ticket")?,
        summary: r.summary.text().unwrap_or_default(),
        company_id: r.company_id.id(),
        contact_id: None,
        queue: None,
        status: None,
        priority: None,
        ticket_type: None,
        sub_type: None,
        source: None,
        agreement_id: None,
        closed: false,
        created_at: None,
        updated_at: r.updated_at(),
        raw: raw.to_string(),
    })
}

fn note(r: Record<'_>, raw: &str) -> Result<Note> {
    Ok(Note {
        id: r.id("note")?,
        ticket_id: r.ticket_id.id().unwrap_or_default(),
        text: r.text.text().unwrap_or_default(),
        internal: r.private.flag(false),
        resolution: false,
        created_at: r.created_at.text().and_then(|t| time::to_utc(&t)),
        created_by: None,
        raw: raw.to_string(),
    })
}

fn contact(r: Record<'_>, raw: &str) -> Result<Contact> {
    Ok(Contact {
        id: r.id("contact")?,
        company_id: r.company_id.id(),
        first_name: r.first_name.text(),
        last_name: r.last_name.text(),
        title: None,
        emails: r.email.text().into_iter().collect(),
        phones: r.phone.text().into_iter().collect(),
        active: true,
        primary: false,
        updated_at: r.updated_at(),
        raw: raw.to_string(),
    })
}

impl Connector for TinyPsa {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "tiny-psa".into(),
            name: "Tiny PSA".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "psahost tests".into(),
            description: "Companies, contacts and tickets of Tiny PSA, with one switchable defect"
                .into(),
            settings: vec![
                setting("url", "URL", "Tiny PSA's origin, e.g. https://tiny.example").required(),
                setting("api-key", "API key", "Settings > API > keys")
                    .required()
                    .secret(),
                setting("defect", "Defect", DEFECTS).default_value("none"),
            ],
            outbound_hosts: vec!["{url}".into()],
            operations: vec![
                Operation::TestConnection,
                Operation::ListCompanies,
                Operation::GetCompany,
                Operation::ListContacts,
                Operation::GetContact,
                Operation::GetTicket,
                Operation::CreateTicket,
                Operation::AddTicketNote,
            ],
            rate_limits: vec![],
            paging: vec![
                PagingSpec::new(Entity::Companies, MAX_PAGE, true),
                PagingSpec::new(Entity::Contacts, MAX_PAGE, true),
            ],
            datasets: vec![],
            read_only_configuration_types: vec![],
        }
    }

    fn test_connection() -> Result<ConnectionReport> {
        let defect = defect()?;
        let url = origin()?;
        send(
            Request::get(format!("{url}/api/companies"))
                .query("page_no", "1")
                .query("page_size", "1"),
            None,
            defect,
        )?;
        Ok(ConnectionReport {
            message: format!("connected to {url}"),
            details: "{}".into(),
        })
    }

    fn list_companies(page: PageRequest) -> Result<CompanyPage> {
        let (items, next_cursor, total) = list("companies", &page, defect()?, company)?;
        Ok(CompanyPage {
            items,
            next_cursor,
            total,
        })
    }

    fn get_company(id: String) -> Result<Company> {
        defect()?;
        get("companies", &id, company)
    }

    fn list_contacts(page: PageRequest) -> Result<ContactPage> {
        // The defects are in list-companies only: each breaks one check of the suite.
        defect()?;
        let (items, next_cursor, total) = list("contacts", &page, Defect::None, contact)?;
        Ok(ContactPage {
            items,
            next_cursor,
            total,
        })
    }

    fn get_contact(id: String) -> Result<Contact> {
        defect()?;
        get("contacts", &id, contact)
    }

    fn get_ticket(id: String) -> Result<Ticket> {
        defect()?;
        get("tickets", &id, ticket)
    }

    fn create_ticket(new: NewTicket) -> Result<Ticket> {
        defect()?;
        // Tiny PSA tickets have no field to keep a marker in: refuse it rather than drop it.
        if new.marker.is_some() {
            return Err(Error::invalid(
                "marker",
                "Tiny PSA tickets cannot keep a marker: create the ticket without one",
            ));
        }
        let body = TicketBody {
            company_id: &new.company_id,
            summary: &new.summary,
            details: new.description.as_deref(),
        };
        write(
            Request::post(format!("{}/api/tickets", origin()?)).json(&body)?,
            ticket,
        )
    }

    fn add_ticket_note(new: NewNote) -> Result<Note> {
        defect()?;
        if new.marker.is_some() {
            return Err(Error::invalid(
                "marker",
                "Tiny PSA notes cannot keep a marker: add the note without one",
            ));
        }
        if new.ticket_id.is_empty() || !new.ticket_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid(
                "ticket-id",
                format!("`{}` is not a Tiny PSA ticket id", new.ticket_id),
            ));
        }
        let body = NoteBody {
            text: &new.text,
            private: new.internal,
        };
        write(
            Request::post(format!("{}/api/tickets/{}/notes", origin()?, new.ticket_id))
                .json(&body)?,
            note,
        )
    }
}

psa_sdk::export_connector!(TinyPsa);
