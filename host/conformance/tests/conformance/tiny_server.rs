//! A fake Tiny PSA (the made-up PSA of `plugins/tiny-psa`) for the any-PSA conformance tests:
//! a few dozen deterministic companies and contacts behind a bearer token, and the tickets and
//! notes created, served by axum on a loopback port. Not a simulator dialect: just enough API
//! for the connector, as a vendor would write for their own PSA. Also used by the CLI's tests
//! (`host/cli/tests/cli/`).

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The one API key the server accepts (`Authorization: Bearer ...`).
pub const API_KEY: &str = "tiny-key-0123456789";

/// The largest page the server serves; larger requests are capped silently, as PSAs do.
const MAX_PAGE: usize = 100;

/// A running fake server; it stops when dropped.
pub struct TinyServer {
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
    data: Arc<Data>,
    task: tokio::task::JoinHandle<()>,
}

impl TinyServer {
    /// The tickets created, with their notes (`"notes": [...]`).
    #[allow(dead_code)] // the conformance tests look; the CLI's only run the suite
    pub fn tickets(&self) -> Vec<Value> {
        self.data.lock_tickets().clone()
    }
}

impl Drop for TinyServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The records, by entity name, each with its `updated_at` time.
struct Data {
    companies: Vec<(OffsetDateTime, Value)>,
    contacts: Vec<(OffsetDateTime, Value)>,
    tickets: Mutex<Vec<Value>>,
}

impl Data {
    fn new() -> Data {
        let start = OffsetDateTime::parse("2026-01-05T08:00:00Z", &Rfc3339).expect("a time");
        // Times repeat (two records a step), so the filter's `at or after` bound matters.
        let at = |i: i64| start + time::Duration::minutes(47 * (i / 2));
        let text = |t: OffsetDateTime| t.format(&Rfc3339).expect("formats");
        let companies = (1..=40)
            .map(|i| {
                let t = at((i * 7) % 40);
                let record = json!({
                    "id": i,
                    "name": format!("Company {i}"),
                    "phone": format!("+1 555 01{i:02}"),
                    "updated_at": text(t),
                });
                (t, record)
            })
            .collect();
        let contacts = (1..=55)
            .map(|i| {
                let t = at((i * 11) % 55);
                let record = json!({
                    "id": 1000 + i,
                    "company_id": 1 + i % 40,
                    "first_name": format!("First{i}"),
                    "last_name": format!("Last{i}"),
                    "email": format!("person{i}@example.com"),
                    "updated_at": text(t),
                });
                (t, record)
            })
            .collect();
        Data {
            companies,
            contacts,
            tickets: Mutex::new(Vec::new()),
        }
    }

    fn lock_tickets(&self) -> std::sync::MutexGuard<'_, Vec<Value>> {
        self.tickets.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn records(&self, entity: &str) -> Option<&[(OffsetDateTime, Value)]> {
        match entity {
            "companies" => Some(&self.companies),
            "contacts" => Some(&self.contacts),
            _ => None,
        }
    }
}

/// Starts the server on a free loopback port.
pub async fn start() -> TinyServer {
    let data = Arc::new(Data::new());
    let app = Router::new()
        .route("/api/{entity}", get(list).post(create_ticket))
        .route("/api/{entity}/{id}", get(one))
        .route("/api/tickets/{id}/notes", post(add_note))
        .with_state(data.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let origin = format!("http://{}", listener.local_addr().expect("an address"));
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("the fake server runs");
    });
    TinyServer { origin, data, task }
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "message": message }))).into_response()
}

/// The 401 answer, unless the request carries the API key.
fn refused(headers: &HeaderMap) -> Option<Response> {
    let expected = format!("Bearer {API_KEY}");
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(value) if value == expected => None,
        _ => Some(error(StatusCode::UNAUTHORIZED, "invalid API key")),
    }
}

/// `GET /api/{entity}?page_no=N&page_size=S[&updated_since=T]`, ordered by id: page numbers
/// count from 1 (0 is read as 1), and `record_count` counts every record the filter matches.
async fn list(
    State(data): State<Arc<Data>>,
    Path(entity): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = refused(&headers) {
        return refused;
    }
    let Some(records) = data.records(&entity) else {
        return error(StatusCode::NOT_FOUND, "no such list");
    };
    let number = |name: &str, default: usize| match query.get(name) {
        None => Ok(default),
        Some(v) => v.parse::<usize>().map_err(|_| v.clone()),
    };
    let (page_no, page_size) = match (number("page_no", 1), number("page_size", 50)) {
        (Ok(n), Ok(s)) => (n.max(1), s.clamp(1, MAX_PAGE)),
        _ => return error(StatusCode::BAD_REQUEST, "page_no and page_size are numbers"),
    };
    let since = match query
        .get("updated_since")
        .map(|t| OffsetDateTime::parse(t, &Rfc3339))
    {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "updated_since is not RFC 3339"),
    };
    let matching: Vec<&Value> = records
        .iter()
        .filter(|(t, _)| since.is_none_or(|since| *t >= since))
        .map(|(_, r)| r)
        .collect();
    let page: Vec<&Value> = matching
        .iter()
        .skip((page_no - 1) * page_size)
        .take(page_size)
        .copied()
        .collect();
    Json(json!({ "record_count": matching.len(), entity: page })).into_response()
}

/// `GET /api/{entity}/{id}`: the record itself.
async fn one(
    State(data): State<Arc<Data>>,
    Path((entity, id)): Path<(String, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = refused(&headers) {
        return refused;
    }
    let found = match entity.as_str() {
        "tickets" => data.lock_tickets().iter().find(|t| t["id"] == id).cloned(),
        _ => data
            .records(&entity)
            .and_then(|records| records.iter().find(|(_, r)| r["id"] == id))
            .map(|(_, r)| r.clone()),
    };
    found
        .map(|r| Json(r).into_response())
        .unwrap_or_else(|| error(StatusCode::NOT_FOUND, "no such record"))
}

/// `POST /api/tickets` with `{"company_id", "summary", "details"}`: the ticket created.
async fn create_ticket(
    State(data): State<Arc<Data>>,
    Path(entity): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refused) = refused(&headers) {
        return refused;
    }
    let company = body["company_id"]
        .as_str()
        .and_then(|c| c.parse::<u64>().ok());
    let known = company.is_some_and(|c| data.companies.iter().any(|(_, r)| r["id"] == c));
    match (entity.as_str(), body["summary"].as_str()) {
        ("tickets", Some(summary)) if known => {
            let mut tickets = data.lock_tickets();
            let ticket = json!({
                "id": 5001 + tickets.len(),
                "company_id": company,
                "summary": summary,
                "details": body["details"],
                "updated_at": "2026-02-01T00:00:00Z",
            });
            tickets.push(ticket.clone());
            (StatusCode::CREATED, Json(ticket)).into_response()
        }
        ("tickets", _) => error(StatusCode::BAD_REQUEST, "a known company_id and a summary"),
        _ => error(StatusCode::METHOD_NOT_ALLOWED, "only tickets are created"),
    }
}

/// `POST /api/tickets/{id}/notes` with `{"text", "private"}`: the note added.
async fn add_note(
    State(data): State<Arc<Data>>,
    Path(id): Path<u64>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(refused) = refused(&headers) {
        return refused;
    }
    let mut tickets = data.lock_tickets();
    let Some(ticket) = tickets.iter_mut().find(|t| t["id"] == id) else {
        return error(StatusCode::NOT_FOUND, "no such ticket");
    };
    let notes = ticket["notes"].as_array().map_or(0, Vec::len);
    let note = json!({
        "id": id * 100 + notes as u64 + 1,
        "ticket_id": id,
        "text": body["text"],
        "private": body["private"],
        "created_at": "2026-02-01T00:00:00Z",
    });
    match ticket["notes"].as_array_mut() {
        Some(notes) => notes.push(note.clone()),
        None => ticket["notes"] = json!([note.clone()]),
    }
    (StatusCode::CREATED, Json(note)).into_response()
}
