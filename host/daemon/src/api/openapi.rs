//! The OpenAPI 3.1 document of the API, written by hand next to the handlers.
//!
//! It is served at `/openapi.json` and checked in as `docs/openapi.json`; the API tests keep
//! them identical (`PSAHOST_UPDATE_OPENAPI=1 cargo test -p psahost-daemon --test daemon` rewrites the
//! file), check that every route of [`super::ROUTES`] is documented and nothing else, and
//! validate the answers of a live daemon against the schemas documented here.

use serde_json::{Value, json};

/// The document's text as served: pretty JSON with a final newline.
pub fn document_text() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
}

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn nullable(t: &str) -> Value {
    json!({ "type": [t, "null"] })
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn error(description: &str) -> Value {
    ok(description, r("Error"))
}

fn path_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": { "type": "string" } })
}

fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

fn connection_param() -> Value {
    path_param("id", "The connection's id in the configuration.")
}

fn entity_param() -> Value {
    json!({ "name": "entity", "in": "path", "required": true, "description": "The entity.", "schema": r("Entity") })
}

fn limit_param() -> Value {
    query_param(
        "limit",
        "At most this many items (1 to 1000, default 100).",
        json!({ "type": "integer", "minimum": 1, "maximum": 1000 }),
    )
}

fn sync_params() -> Vec<Value> {
    vec![
        query_param(
            "full",
            "A full sweep: read every record and delete the stored records the PSA no longer has (behind the mass-delete guard).",
            json!({ "type": "boolean" }),
        ),
        query_param(
            "allow-mass-delete",
            "With `full`: apply the sweep's deletions even when the mass-delete guard would hold them (`sync.mass-delete-share`, `sync.mass-delete-floor`).",
            json!({ "type": "boolean" }),
        ),
    ]
}

/// Operation: summary, tag, parameters, responses; protected ones get the 401 answer.
fn op(
    summary: &str,
    tag: &str,
    params: Vec<Value>,
    mut responses: Value,
    protected: bool,
) -> Value {
    if protected {
        responses["401"] = error("The bearer token is missing or wrong.");
    }
    let mut o = json!({ "summary": summary, "tags": [tag], "responses": responses });
    if !params.is_empty() {
        o["parameters"] = Value::Array(params);
    }
    if !protected {
        o["security"] = json!([]);
    }
    o
}

fn not_found(what: &str) -> Value {
    error(&format!("{what} is not configured or not found."))
}

fn paths() -> Value {
    json!({
        "/health": { "get": op("Liveness: the process answers.", "operations", vec![], json!({
            "200": ok("Alive.", json!({ "type": "object", "required": ["status"], "properties": { "status": { "const": "ok" } } })),
        }), false) },
        "/ready": { "get": op("Readiness: configuration loaded, store open, every plugin loaded and connection open; with `[cluster]`, the replica joined, and its leases and peers.", "operations", vec![], json!({
            "200": ok("Ready.", r("Readiness")),
            "503": ok("Not ready (or shutting down); the body says what is missing.", r("Readiness")),
        }), false) },
        "/metrics": { "get": op("Prometheus metrics (OpenMetrics text).", "operations", vec![], json!({
            "200": { "description": "The metrics.", "content": { "application/openmetrics-text": { "schema": { "type": "string" } } } },
        }), true) },
        "/openapi.json": { "get": op("This document.", "operations", vec![], json!({
            "200": ok("The OpenAPI document.", json!({ "type": "object" })),
        }), true) },
        "/v1/plugins": { "get": op("The configured plugins and the versions in use.", "plugins", vec![], json!({
            "200": ok("The plugins.", json!({ "type": "object", "required": ["plugins"], "properties": { "plugins": { "type": "array", "items": r("Plugin") } } })),
        }), true) },
        "/v1/connections": { "get": op("The configured connections.", "connections", vec![], json!({
            "200": ok("The connections.", json!({ "type": "object", "required": ["connections"], "properties": { "connections": { "type": "array", "items": r("ConnectionSummary") } } })),
        }), true) },
        "/v1/connections/{id}": { "get": op("A connection's status: per entity sync state, stored count and last run; its last runs.", "connections", vec![connection_param()], json!({
            "200": ok("The status.", r("ConnectionStatus")),
            "404": not_found("The connection"),
        }), true) },
        "/v1/connections/{id}/runs": { "get": op("A connection's sync runs, newest first.", "connections", vec![connection_param(), limit_param()], json!({
            "200": ok("The runs.", json!({ "type": "object", "required": ["runs"], "properties": { "runs": { "type": "array", "items": r("Run") } } })),
            "404": not_found("The connection"),
        }), true) },
        "/v1/connections/{id}/test": { "post": op("Runs the connector's test-connection with the connection's settings.", "connections", vec![connection_param()], json!({
            "200": ok("The test ran; `ok` says whether it passed and `error` what is wrong.", r("TestResult")),
            "404": not_found("The connection"),
            "503": error("The connection is not open (its plugin did not load)."),
        }), true) },
        "/v1/connections/{id}/sync": { "post": op("Sync now: syncs the connection's entities (every entity, or those named by `entity`) and returns the runs.", "sync", {
            let mut p = vec![connection_param(), query_param("entity", "Sync only this entity (repeatable).", r("Entity"))];
            p.extend(sync_params());
            p
        }, json!({
            "200": ok("The runs (completed, held, suspended or failed) and the entities skipped.", r("SyncResult")),
            "400": error("A parameter is wrong."),
            "404": not_found("The connection"),
            "409": error("With `[cluster]`: the request could not reach the connection's owner (the replicas are rebalancing, or the owner advertises no address: the message names it), or arrived forwarded at a replica that no longer owns it. Otherwise a request sent to a replica that does not own the connection is forwarded to its owner (see the header `psahost-replica`)."),
            "502": error("With `[cluster]`: forwarding to the connection's owner failed (`owner-unreachable`), or the connector or the PSA failed (`connector-error`)."),
            "503": error("The connection is not open (its plugin did not load)."),
        }), true) },
        "/v1/connections/{id}/sync/{entity}": { "post": op("Syncs one entity of the connection and returns the run.", "sync", {
            let mut p = vec![connection_param(), entity_param()];
            p.extend(sync_params());
            p
        }, json!({
            "200": ok("The run.", r("SyncResult")),
            "400": error("A parameter is wrong."),
            "404": not_found("The connection or entity"),
            "409": error("With `[cluster]`: the request could not reach the connection's owner (the replicas are rebalancing, or the owner advertises no address: the message names it), or arrived forwarded at a replica that no longer owns it. Otherwise a request sent to a replica that does not own the connection is forwarded to its owner (see the header `psahost-replica`)."),
            "502": error("With `[cluster]`: forwarding to the connection's owner failed (`owner-unreachable`), or the connector or the PSA failed (`connector-error`)."),
            "503": error("The connection is not open (its plugin did not load)."),
        }), true) },
        "/v1/connections/{id}/records/{entity}": { "get": op("Stored records of an entity, in id order, filtered and paged. Every query parameter other than `after`, `limit` and `updated-since` is a filter: the record's field (WIT name, nested with `/`, e.g. `company-id`, `status/name`) equals the value.", "records", vec![
            connection_param(),
            entity_param(),
            query_param("after", "Start after this id (the previous page's `next`).", json!({ "type": "string" })),
            limit_param(),
            query_param("updated-since", "Only records whose `updated-at` is at or after this RFC 3339 time.", json!({ "type": "string", "format": "date-time" })),
        ], json!({
            "200": ok("A page of records.", r("RecordPage")),
            "400": error("A parameter is wrong."),
            "404": not_found("The connection or entity"),
        }), true) },
        "/v1/connections/{id}/records/{entity}/{record}": { "get": op("One stored record.", "records", vec![connection_param(), entity_param(), path_param("record", "The record's PSA id.")], json!({
            "200": ok("The record.", r("StoredRecord")),
            "404": not_found("The connection, entity or record"),
        }), true) },
        "/v1/connections/{id}/records/{entity}/{record}/sync": { "post": op("Syncs one record by id from the PSA (the \"Sync\" on one customer). A record the PSA no longer has is deleted from the store.", "sync", vec![connection_param(), entity_param(), path_param("record", "The record's PSA id.")], json!({
            "200": ok("What changed, and the record as now stored.", r("RecordSyncResult")),
            "404": not_found("The connection or entity"),
            "409": error("With `[cluster]`: the request could not reach the connection's owner (the replicas are rebalancing, or the owner advertises no address: the message names it), or arrived forwarded at a replica that no longer owns it. Otherwise a request sent to a replica that does not own the connection is forwarded to its owner (see the header `psahost-replica`)."),
            "502": error("With `[cluster]`: forwarding to the connection's owner failed (`owner-unreachable`), or the connector or the PSA failed (`connector-error`)."),
            "503": error("The connection is not open (its plugin did not load)."),
        }), true) },
        "/v1/connections/{id}/changes": { "get": op("The change feed: every change of the connection's records after sequence `after`, in order. Read again from `next-after` to continue.", "records", vec![
            connection_param(),
            query_param("after", "The last sequence number already read (default 0: from the start).", json!({ "type": "integer", "minimum": 0 })),
            limit_param(),
        ], json!({
            "200": ok("A page of changes.", r("ChangesPage")),
            "400": error("A parameter is wrong."),
            "404": not_found("The connection"),
        }), true) },
        "/v1/connections/{id}/mrr": { "get": op("Monthly recurring revenue per company on a day, from the stored agreements (rules in docs/mrr.md).", "views", vec![
            connection_param(),
            query_param("day", "The day, YYYY-MM-DD (default: today, UTC).", json!({ "type": "string", "format": "date" })),
        ], json!({
            "200": ok("MRR per company.", r("MrrReport")),
            "400": error("The day is not YYYY-MM-DD."),
            "404": not_found("The connection"),
        }), true) },
        "/v1/connections/{id}/eligible": { "get": op("Every stored company with whether a tool may create a customer from it (active, with an active contact) and why not.", "views", vec![connection_param()], json!({
            "200": ok("The verdicts.", r("EligibleResult")),
            "404": not_found("The connection"),
        }), true) },
        "/v1/connections/{id}/references/{kind}": { "get": op("A picklist, read through the connector (`list-references`).", "connections", vec![
            connection_param(),
            path_param("kind", "The picklist (WIT reference-kind): queue, ticket-status, ticket-priority, ticket-type, ticket-sub-type, ticket-category, ticket-source, note-type, configuration-type, configuration-status, manufacturer, vendor, contract-service, company-status, company-type, ..."),
        ], json!({
            "200": ok("The picklist.", r("ReferenceList")),
            "404": not_found("The connection or picklist kind"),
            "502": error("The connector or the PSA failed."),
            "503": error("The connection is not open (its plugin did not load)."),
        }), true) },
    })
}

/// The objects' entries together.
fn merged(parts: &[Value]) -> Value {
    let mut all = serde_json::Map::new();
    for part in parts {
        all.extend(part.as_object().cloned().unwrap_or_default());
    }
    Value::Object(all)
}

fn paths_linking() -> Value {
    json!({
        "/v1/connections/{id}/link/customers": { "post": {
            "summary": "Links the tool's customers to the connection's synced PSA companies by the connection's customer rules (`[connections.ID.linking] customers-rules`, with the matching rule components of `rule-plugins`) or, without them, the built-in ones (a contact's e-mail, the name without legal forms, the domain, a phone, a similar name, in that order): per customer the matched company with the score and the evidence, the ambiguous candidates with theirs, or none, each with its eligibility. Without `dry-run`, matched customers' links are stored (replacing earlier ones).",
            "tags": ["linking"],
            "parameters": [
                connection_param(),
                query_param("dry-run", "Store nothing.", json!({ "type": "boolean" })),
            ],
            "requestBody": { "required": true, "description": "The customers (at most 100,000; 64 MiB): a JSON array of objects, or JSON lines (one object a line, at most 64 KiB each). Each: `id` (string or number, unique), `name`, `emails` and `phones` (at most 50 each), `domain`, `address` (a string or an object of strings); texts at most 1 KiB.", "content": {
                "application/json": { "schema": { "type": "array", "items": r("Customer") } },
                "application/x-ndjson": { "schema": { "type": "string" } },
            } },
            "responses": {
                "200": ok("What became of each customer.", r("LinkReport")),
                "400": error("The body is not customers: the message names the line or position and the field."),
                "401": error("The bearer token is missing or wrong."),
                "404": not_found("The connection"),
                "413": { "description": "The body is over 64 MiB." },
                "500": error("The connection's customer rules cannot run: a component of `rule-plugins` did not load, or the rule set names a rule none of them is (the message names the file)."),
            },
        } },
        "/v1/connections/{id}/links/customers": { "get": op("The stored customer links by customer id, each with its status: `company-deleted` when its PSA company is no longer in the store (deleted or merged in the PSA).", "linking", vec![
            connection_param(),
            query_param("after", "Start after this customer id (the previous page's `next`).", json!({ "type": "string" })),
            limit_param(),
        ], json!({
            "200": ok("One page of links.", r("CustomerLinks")),
            "400": error("A bad `limit`."),
            "404": not_found("The connection"),
        }), true) },
        "/v1/connections/{id}/links/customers/{customer}": { "delete": op("Removes one customer's link.", "linking", vec![
            connection_param(),
            path_param("customer", "The tool's customer id."),
        ], json!({
            "200": ok("Removed.", json!({ "type": "object", "required": ["connection", "removed"], "properties": {
                "connection": { "type": "string" }, "removed": { "type": "string" } } })),
            "404": not_found("The connection or the customer's link"),
        }), true) },
    })
}

fn paths_delivery() -> Value {
    let alerts_body = json!({ "required": true, "description": "One alert, a JSON array of alerts or JSON lines (at most 10,000 alerts; 16 MiB).", "content": {
        "application/json": { "schema": { "oneOf": [r("Alert"), { "type": "array", "items": r("Alert") }] } },
        "application/x-ndjson": { "schema": { "type": "string" } },
    } });
    json!({
        "/v1/connections/{id}/alerts": { "post": {
            "summary": "Queues the alerts and delivers the connection's queue in order: each alert is routed (organisation mapping, else the catch-all account), rendered (subject template, priority by severity, issue type overrides by respond rule, IOC rule or alert type) and becomes a ticket, or a note on the account's open ticket with the same subject. An alert id already known is not queued again (exactly once); a rate-limited or unavailable PSA leaves the account's deliveries queued: the daemon drains each connection's queue in the background (and at each request). With `dry-run`, the tickets and notes are rendered and nothing is sent or stored. The settings are checked first, once per process (`GET .../delivery/check`).",
            "tags": ["delivery"],
            "parameters": [
                connection_param(),
                query_param("dry-run", "Render, send and store nothing.", json!({ "type": "boolean" })),
            ],
            "requestBody": alerts_body,
            "responses": {
                "200": ok("What was queued and what the drain did, or the previews of a dry run.", json!({ "type": "object", "required": ["connection"], "properties": {
                    "connection": { "type": "string" },
                    "dry-run": { "type": "boolean" },
                    "previews": { "type": "array", "items": r("DeliveryPreview") },
                    "accepted": { "type": "array", "items": r("AcceptedAlert") },
                    "report": r("DrainReport"),
                } })),
                "400": error("The body is not alerts, or the delivery settings are incomplete (every problem named)."),
                "401": error("The bearer token is missing or wrong."),
                "404": not_found("The connection or its delivery settings"),
                "413": { "description": "The body is over 16 MiB." },
                "502": error("The settings were never checked in this process and the PSA could not answer the check (`connector-error`): nothing was queued. Once checked, alerts are queued whatever the PSA answers."),
                "503": error("The connection is not open."),
            },
        } },
        "/v1/connections/{id}/deliveries": { "get": op("The deliveries by alert id: queued, sending (outcome unknown, resolved by the marker next), delivered (ticket id), grouped (ticket and note id), failed (reason), skipped (ticket creation off).", "delivery", vec![
            connection_param(),
            query_param("after", "Start after this alert id (the previous page's `next`).", json!({ "type": "string" })),
            limit_param(),
        ], json!({
            "200": ok("One page of deliveries.", json!({ "type": "object", "required": ["connection", "deliveries", "next"], "properties": {
                "connection": { "type": "string" },
                "deliveries": { "type": "array", "items": r("Delivery") },
                "next": { "type": ["string", "null"] },
            } })),
            "400": error("A bad `limit`."),
            "404": not_found("The connection or its delivery settings"),
        }), true) },
        "/v1/connections/{id}/deliveries/{alert}/retry": { "post": op("Queues a failed delivery again (a delivery whose write was sent is looked for by its marker first) and delivers the queue.", "delivery", vec![
            connection_param(),
            path_param("alert", "The alert id."),
        ], json!({
            "200": ok("Queued again, and the drain's report.", json!({ "type": "object", "required": ["connection", "alert-id", "report"], "properties": {
                "connection": { "type": "string" }, "alert-id": { "type": "string" }, "report": r("DrainReport") } })),
            "400": error("No such delivery, or it is not failed."),
            "404": not_found("The connection or its delivery settings"),
            "503": error("The connection is not open."),
        }), true) },
        "/v1/connections/{id}/delivery/check": { "get": op("Checks the delivery settings as the set-up wizard would, against the PSA's picklists and the synced companies and contacts: each missing required default, unknown id or inactive value names its field and the valid choices.", "delivery", vec![
            connection_param(),
        ], json!({
            "200": ok("The problems (none: complete).", json!({ "type": "object", "required": ["connection", "ok", "problems"], "properties": {
                "connection": { "type": "string" }, "ok": { "type": "boolean" },
                "problems": { "type": "array", "items": { "type": "object", "required": ["field", "message"], "properties": {
                    "field": { "type": "string" }, "message": { "type": "string" } } } } } })),
            "404": not_found("The connection or its delivery settings"),
            "503": error("The connection is not open."),
        }), true) },
        "/v1/connections/{id}/delivery/settings": {
            "get": op("The connection's delivery settings in effect and where they come from: `api` (set with `PUT`, stored, seen by every replica; they replace the TOML table until cleared), `toml` (`[connections.ID.delivery]`), or `null` (none).", "delivery", vec![
                connection_param(),
            ], json!({
                "200": ok("The settings in effect.", r("DeliverySettingsAnswer")),
                "404": not_found("The connection"),
            }), true),
            "put": {
                "summary": "Sets the connection's delivery settings: a JSON object of the `[connections.ID.delivery]` table's shape (kebab-case keys; `null` is an absent field), validated as the configuration file is, then checked against the PSA's picklists and the synced companies and contacts as the set-up wizard checks them. Complete settings are stored (an audit entry), replace the TOML table until `DELETE`, and are used at once by the deliveries, the background drain and the billable sync of every replica.",
                "tags": ["delivery"],
                "parameters": [connection_param()],
                "requestBody": { "required": true, "description": "The settings (at most 16 MiB).", "content": {
                    "application/json": { "schema": r("DeliverySettingsDocument") },
                } },
                "responses": {
                    "200": ok("Stored: the settings now in effect.", r("DeliverySettingsAnswer")),
                    "400": error("The body is not JSON."),
                    "401": error("The bearer token is missing or wrong."),
                    "404": not_found("The connection"),
                    "413": { "description": "The body is over 16 MiB." },
                    "422": ok("The settings are invalid or incomplete; nothing was stored. Every problem names its field (as in the TOML table) and, for an id, the valid choices.", r("SettingsInvalid")),
                    "502": error("The PSA could not answer the check; nothing was stored."),
                    "503": error("The connection is not open."),
                },
            },
            "delete": op("Clears the delivery settings set through the API (an audit entry): the connection's `[connections.ID.delivery]`, if any, is in effect again.", "delivery", vec![
                connection_param(),
            ], json!({
                "200": ok("The settings now in effect.", r("DeliverySettingsAnswer")),
                "404": not_found("The connection"),
            }), true),
        },
        "/v1/connections/{id}/billable": { "post": {
            "summary": "Writes each organisation's billable user count as the quantity of its contract's line of the billing service, once per month from the configured day (the 31st: a short month's last day). A count that changed after the month was written waits for the next month unless `force`. Every quantity written is in the audit trail.",
            "tags": ["delivery"],
            "parameters": [
                connection_param(),
                query_param("date", "The day to act as (YYYY-MM-DD, UTC); default today.", json!({ "type": "string", "format": "date" })),
                query_param("force", "Write a changed count within a month already written.", json!({ "type": "boolean" })),
            ],
            "requestBody": { "required": true, "description": "`{\"organisation\": count}` or `[{\"organisation\": \"...\", \"count\": n}]` (at most 10,000).", "content": {
                "application/json": { "schema": { "type": ["object", "array"] } },
            } },
            "responses": {
                "200": ok("One outcome per organisation.", json!({ "type": "object", "required": ["connection", "outcomes"], "properties": {
                    "connection": { "type": "string" },
                    "outcomes": { "type": "array", "items": r("BillingOutcome") } } })),
                "400": error("The body is not counts, a bad `date`, or the billable sync is not enabled."),
                "401": error("The bearer token is missing or wrong."),
                "404": not_found("The connection or its delivery settings"),
                "503": error("The connection is not open."),
            },
        } },
    })
}

fn schemas_delivery() -> Value {
    let text = json!({ "type": "string" });
    let opt = json!({ "type": ["string", "null"] });
    json!({
        "Alert": { "type": "object", "required": ["id", "organisation", "severity", "type", "title", "time"], "additionalProperties": false, "properties": {
            "id": text, "organisation": text,
            "severity": { "type": "string", "description": "critical, high, medium or low (case ignored)." },
            "type": text, "respond-rule": opt, "ioc-rule": opt, "title": text, "description": opt,
            "email": opt, "time": { "type": "string", "format": "date-time" },
        } },
        "AcceptedAlert": { "type": "object", "required": ["alert-id", "state", "duplicate"], "properties": {
            "alert-id": text, "state": r("DeliveryState"), "duplicate": { "type": "boolean" } } },
        "DeliveryState": { "enum": ["queued", "sending", "delivered", "grouped", "failed", "skipped"] },
        "Delivery": { "type": "object", "required": ["alert", "state", "account", "seq", "marker", "attempts", "updated-at"], "properties": {
            "alert": r("Alert"), "state": r("DeliveryState"), "account": text,
            "seq": { "type": "integer" }, "marker": text,
            "intent": { "type": ["object", "null"], "properties": { "kind": { "enum": ["ticket", "note"] }, "ticket-id": text } },
            "ticket-id": opt, "note-id": opt, "reason": opt,
            "attempts": { "type": "integer" }, "updated-at": text,
            "subject": { "type": "string", "description": "The ticket's subject when the last write was sent (a connector without markers: the ticket is looked for by it)." },
            "sent-at": { "type": "string", "description": "When the last write was sent (RFC 3339)." },
        } },
        "DrainReport": { "type": "object", "required": ["delivered", "grouped", "failed", "resolved", "still-queued", "psa-calls", "blocked"], "properties": {
            "delivered": { "type": "integer" }, "grouped": { "type": "integer" }, "failed": { "type": "integer" },
            "resolved": { "type": "integer", "description": "Found in the PSA by the marker after an unknown outcome." },
            "still-queued": { "type": "integer" }, "psa-calls": { "type": "integer" },
            "blocked": { "type": "array", "items": text },
        } },
        "DeliveryPreview": { "type": "object", "required": ["alert-id", "account", "action", "record"], "properties": {
            "alert-id": text, "account": text, "action": { "enum": ["ticket", "note", "skipped", "failed"] },
            "ticket-id": opt, "record": { "description": "The new ticket or note, WIT field names (null when skipped or failed)." }, "reason": opt,
        } },
        "DeliverySettingsDocument": { "type": "object", "description": "The `[connections.ID.delivery]` table as JSON: `catch-all` (`account`, `contact`), `attach-contacts`, `ignored-accounts`, `account-filter` (`types`, `classifications`, `market-segments`), `organisations` (by name: `account`, `contact`, `tickets`, `contract`, `service`), `ticket` (`category`, `ticket-type`, `status`, `queue`, `source`, `subject`, `priorities`), `note` (`note-type`, `visibility`, `title`), `overrides` (`alert-types`, `respond-rules`, `ioc-rules`: `ticket-type`, `sub-type`), `billing` (`service`, `day`). See the README.",
            "properties": {
                "catch-all": { "type": "object", "required": ["account"], "properties": { "account": text, "contact": opt } },
                "attach-contacts": { "type": "boolean" },
                "ignored-accounts": { "type": "array", "items": text },
                "account-filter": { "type": "object" },
                "organisations": { "type": "object", "additionalProperties": { "type": "object", "required": ["account"] } },
                "ticket": { "type": "object" },
                "note": { "type": "object" },
                "overrides": { "type": "object" },
                "billing": { "type": ["object", "null"], "properties": { "service": text, "day": { "type": "integer", "minimum": 1, "maximum": 31 } } },
            } },
        "DeliverySettingsAnswer": { "type": "object", "required": ["connection", "source", "version", "set-at", "settings"], "properties": {
            "connection": text,
            "source": { "enum": ["api", "toml", null], "description": "`api`: set through the API (they replace the TOML table until cleared); `toml`: the configuration's table; null: none." },
            "version": { "type": ["integer", "null"], "description": "The stored settings' version (api)." },
            "set-at": { "type": ["string", "null"], "description": "When they were set through the API (RFC 3339)." },
            "settings": { "oneOf": [r("DeliverySettingsDocument"), { "type": "null" }] },
        } },
        "SettingsInvalid": { "type": "object", "required": ["error"], "properties": { "error": {
            "type": "object", "required": ["code", "message", "problems"], "properties": {
                "code": { "const": "invalid-settings" },
                "message": text,
                "problems": { "type": "array", "items": { "type": "object", "required": ["field", "message"], "properties": {
                    "field": text, "message": text } } },
            } } } },
        "BillingOutcome": { "type": "object", "required": ["organisation", "period", "count", "action"], "properties": {
            "organisation": text, "period": text, "count": { "type": "integer" },
            "action": { "enum": ["written", "already-written", "pending-next-period", "not-due", "no-contract", "not-mapped", "failed"] },
            "contract": opt, "service": opt, "reason": opt,
        } },
    })
}

fn schemas_linking() -> Value {
    let company = json!({ "type": "object", "required": ["company-id", "name", "score", "evidence", "eligible"], "properties": {
        "company-id": { "type": "string" },
        "name": { "type": "string" },
        "score": { "type": "number", "minimum": 0, "maximum": 1 },
        "evidence": { "type": "array", "items": { "type": "object", "required": ["identifier", "customer-value", "company-value", "score"], "properties": {
            "identifier": { "type": "string", "description": "The identifier (or custom rule) that agreed." },
            "customer-value": { "type": "string" },
            "company-value": { "type": "string", "description": "The company's value or one of its contacts'." },
            "score": { "type": "number" },
            "note": { "type": "string", "description": "A custom rule's reason." },
        } } },
        "eligible": { "type": "boolean", "description": "Active, with an active contact." },
        "ineligible": { "enum": ["inactive", "no-contact", "only-inactive-contacts"] },
    } });
    json!({
        "Customer": { "type": "object", "required": ["id"], "additionalProperties": false, "properties": {
            "id": { "type": ["string", "number"] },
            "name": { "type": "string" },
            "emails": { "type": "array", "items": { "type": "string" }, "maxItems": 50 },
            "phones": { "type": "array", "items": { "type": "string" }, "maxItems": 50 },
            "domain": { "type": "string" },
            "address": { "type": ["string", "object"] },
        } },
        "CompanyMatch": company,
        "LinkReport": { "type": "object", "required": ["dry-run", "matched", "ambiguous", "none", "errors", "customers"], "properties": {
            "dry-run": { "type": "boolean" },
            "matched": { "type": "integer" },
            "ambiguous": { "type": "integer" },
            "none": { "type": "integer" },
            "errors": { "type": "integer" },
            "customers": { "type": "array", "items": { "type": "object", "required": ["customer-id", "outcome", "stored"], "properties": {
                "customer-id": { "type": "string" },
                "outcome": { "enum": ["matched", "ambiguous", "none", "error"] },
                "decided-by": { "type": "string" },
                "company": r("CompanyMatch"),
                "candidates": { "type": "array", "items": r("CompanyMatch"), "maxItems": 20 },
                "candidates-total": { "type": "integer" },
                "error": { "type": "string", "description": "A custom rule failed: the message names it." },
                "stored": { "type": "boolean" },
            } } },
        } },
        "CustomerLinks": { "type": "object", "required": ["connection", "links", "next"], "properties": {
            "connection": { "type": "string" },
            "links": { "type": "array", "items": { "type": "object", "required": ["customer-id", "company-id", "company-name", "decided-by", "score", "linked-at", "status"], "properties": {
                "customer-id": { "type": "string" },
                "company-id": { "type": "string" },
                "company-name": { "type": "string" },
                "decided-by": { "type": "string" },
                "score": { "type": "number" },
                "linked-at": { "type": "string" },
                "status": { "enum": ["linked", "company-deleted"] },
            } } },
            "next": nullable("string"),
        } },
    })
}

fn schemas() -> Value {
    let mut all = serde_json::Map::new();
    all.extend(schemas_0().as_object().cloned().unwrap_or_default());
    all.extend(schemas_1().as_object().cloned().unwrap_or_default());
    all.extend(schemas_2().as_object().cloned().unwrap_or_default());
    all.extend(schemas_3().as_object().cloned().unwrap_or_default());
    all.extend(schemas_4().as_object().cloned().unwrap_or_default());
    all.extend(schemas_5().as_object().cloned().unwrap_or_default());
    all.extend(schemas_6().as_object().cloned().unwrap_or_default());
    all.extend(schemas_7().as_object().cloned().unwrap_or_default());
    all.extend(schemas_8().as_object().cloned().unwrap_or_default());
    all.extend(schemas_linking().as_object().cloned().unwrap_or_default());
    all.extend(schemas_inventory().as_object().cloned().unwrap_or_default());
    all.extend(schemas_delivery().as_object().cloned().unwrap_or_default());
    Value::Object(all)
}

fn schemas_0() -> Value {
    #[allow(unused)]
    let time = || nullable("string");
    json!({
        "Error": { "type": "object", "required": ["error"], "properties": { "error": {
            "type": "object", "required": ["code", "message"], "properties": {
                "code": { "enum": ["unauthorized", "not-found", "bad-request", "not-owner", "owner-unreachable", "not-configured", "busy", "invalid-settings", "unavailable", "connector-error", "internal"] },
                "message": { "type": "string" },
            } } } },
        "Entity": { "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 64,
            "description": "A typed entity (`companies`, `contacts`, `agreements`, `configurations`, `tickets`) or a dataset the connection's connector declares (`time-entries`, `sla-results`, ...; see `psahost plugin inspect`). Datasets are stored as `{id, updated-at, raw}`.",
            "examples": ["companies", "contacts", "agreements", "configurations", "tickets", "time-entries"] },
        "Readiness": { "type": "object", "required": ["ready", "config", "store", "plugins-not-loaded", "connections-not-open", "shutting-down"], "properties": {
            "ready": { "type": "boolean" },
            "config": { "type": "string" },
            "store": { "type": "boolean" },
            "plugins-not-loaded": { "type": "object", "additionalProperties": { "type": "string" } },
            "connections-not-open": { "type": "object", "additionalProperties": { "type": "string" } },
            "shutting-down": { "type": "boolean" },
            "cluster": { "description": "Only with `[cluster]`: this replica, whether it joined (heartbeated and took its share once; not ready before), the leases it holds and the live peers.",
                "type": "object", "required": ["replica", "joined", "leases", "peers"], "additionalProperties": false, "properties": {
                "replica": { "type": "string" },
                "joined": { "type": "boolean" },
                "leases": { "type": "array", "items": { "type": "object", "required": ["connection", "epoch", "expires-at"], "additionalProperties": false, "properties": {
                    "connection": { "type": "string" },
                    "epoch": { "type": "integer", "minimum": 1 },
                    "expires-at": { "type": "string", "format": "date-time" },
                } } },
                "peers": { "type": "array", "items": { "type": "string" } },
            } },
        } },
    })
}

fn schemas_1() -> Value {
    #[allow(unused)]
    let time = || nullable("string");
    json!({        "Plugin": { "type": "object", "required": ["id", "source", "loaded", "loading", "reloads"], "properties": {
            "id": { "type": "string", "description": "The id connections refer to." },
            "source": { "type": "string" },
            "loaded": { "type": "boolean" },
            "loading": { "type": "boolean", "description": "Its first load (compilation) is still running: the daemon answers meanwhile, and its connections open when it is done." },
            "plugin-id": nullable("string"),
            "version": nullable("string"),
            "sha256": nullable("string"),
            "wit": { "type": ["string", "null"], "description": "The contract version the plugin was built for (`psa:connector@0.1.0`); the host runs 0.1.x and 0.2.x." },
            "datasets": { "type": "array", "items": { "type": "string" }, "description": "The datasets the connector declares (empty for a matching rule or a 0.1.x connector)." },
            "loaded-at": time(),
            "reloads": { "type": "integer" },
            "error": { "type": ["string", "null"], "description": "The last load error; a rejected new version keeps the old one running." },
        } },
        "Schedule": { "type": "object", "required": ["entities", "full-sweep"], "properties": {
            "entities": { "type": "object", "additionalProperties": { "type": "string" }, "description": "Incremental interval per entity." },
            "full-sweep": nullable("string"),
        } },
        "ConnectionSummary": { "type": "object", "required": ["id", "plugin", "open", "schedule"], "properties": {
            "id": { "type": "string" },
            "plugin": { "type": "string" },
            "plugin-version": nullable("string"),
            "plugin-sha256": nullable("string"),
            "open": { "type": "boolean" },
            "error": nullable("string"),
            "schedule": r("Schedule"),
        } },
    })
}

fn schemas_2() -> Value {
    #[allow(unused)]
    let time = || nullable("string");
    json!({        "ConnectionStatus": { "allOf": [r("ConnectionSummary"), { "type": "object", "required": ["entities", "runs"], "properties": {
            "entities": { "type": "array", "items": r("EntityStatus") },
            "runs": { "type": "array", "items": r("Run") },
        } }] },
        "EntityStatus": { "type": "object", "required": ["entity", "stored", "state"], "properties": {
            "entity": r("Entity"),
            "schedule": nullable("string"),
            "stored": { "type": "integer" },
            "state": r("SyncState"),
            "last-run": { "oneOf": [r("Run"), { "type": "null" }] },
        } },
        "SyncState": { "type": "object", "properties": {
            "in-progress": { "type": ["object", "null"], "description": "The unfinished run's checkpoint." },
            "high-water": time(),
            "last-full-sweep": time(),
            "suspended-until": time(),
            "last-run": nullable("integer"),
        } },
    })
}

fn schemas_3() -> Value {
    #[allow(unused)]
    let time = || nullable("string");
    json!({        "Run": { "type": "object", "required": ["id", "entity", "mode", "status", "started-at", "pages", "created", "updated", "unchanged", "deleted", "resumed"], "properties": {
            "id": { "type": "integer" },
            "entity": r("Entity"),
            "mode": { "enum": ["incremental", "full"] },
            "status": { "enum": ["running", "completed", "held", "suspended", "failed"] },
            "started-at": { "type": "string", "format": "date-time" },
            "finished-at": time(),
            "pages": { "type": "integer" },
            "created": { "type": "integer" },
            "updated": { "type": "integer" },
            "unchanged": { "type": "integer" },
            "deleted": { "type": "integer" },
            "resumed": { "type": "integer" },
            "total": { "type": "integer", "description": "The PSA's count of the records the run reads, when the connector reported it (progress and ETA: records read / total)." },
            "error": nullable("string"),
            "suspended-until": time(),
            "held": { "type": ["object", "null"], "description": "Deletions held by the mass-delete guard: would-delete, stored, max-share, floor, sample." },
        } },
        "SyncResult": { "type": "object", "required": ["connection", "all-completed", "runs", "skipped"], "properties": {
            "connection": { "type": "string" },
            "all-completed": { "type": "boolean" },
            "runs": { "type": "array", "items": r("Run") },
            "skipped": { "type": "array", "items": { "type": "object", "required": ["entity", "reason"], "properties": {
                "entity": r("Entity"), "reason": { "type": "string" } } } },
        } },
    })
}

fn schemas_4() -> Value {
    #[allow(unused)]
    let time = || nullable("string");
    json!({        "StoredRecord": { "type": "object", "required": ["entity", "id", "hash", "seq", "changed-at", "record"], "properties": {
            "entity": r("Entity"),
            "id": { "type": "string" },
            "hash": { "type": "string", "description": "SHA-256 of the record's JSON." },
            "seq": { "type": "integer", "description": "The sequence number of its last change." },
            "changed-at": { "type": "string", "format": "date-time" },
            "record": { "type": "object", "description": "The record with the WIT field names (kebab-case), `raw` holding the PSA's own JSON." },
        } },
        "RecordPage": { "type": "object", "required": ["records", "next"], "properties": {
            "records": { "type": "array", "items": r("StoredRecord") },
            "next": { "type": ["string", "null"], "description": "The `after` of the next page; null on the last page." },
        } },
        "RecordSyncResult": { "type": "object", "required": ["connection", "entity", "id", "found", "change", "record"], "properties": {
            "connection": { "type": "string" },
            "entity": r("Entity"),
            "id": { "type": "string" },
            "found": { "type": "boolean", "description": "Whether the PSA has the record." },
            "change": { "enum": ["created", "updated", "deleted", null] },
            "record": { "oneOf": [r("StoredRecord"), { "type": "null" }] },
        } },
    })
}

fn schemas_5() -> Value {
    #[allow(unused)]
    let time = || nullable("string");
    json!({        "Change": { "type": "object", "required": ["seq", "entity", "id", "kind", "at"], "properties": {
            "seq": { "type": "integer" },
            "entity": r("Entity"),
            "id": { "type": "string" },
            "kind": { "enum": ["created", "updated", "deleted"] },
            "at": { "type": "string", "format": "date-time" },
        } },
        "ChangesPage": { "type": "object", "required": ["changes", "next-after"], "properties": {
            "changes": { "type": "array", "items": r("Change") },
            "next-after": { "type": "integer", "description": "The `after` of the next read." },
        } },
    })
}

fn schemas_6() -> Value {
    #[allow(unused)]
    let time = || nullable("string");
    json!({        "MrrReport": { "type": "object", "required": ["day", "companies", "total", "excluded"], "properties": {
            "day": { "type": "string", "format": "date" },
            "companies": { "type": "array", "items": { "type": "object", "required": ["company-id", "mrr", "agreements"], "properties": {
                "company-id": { "type": "string" },
                "mrr": { "type": "string", "description": "Decimal, rounded to cents." },
                "agreements": { "type": "array", "items": { "type": "object", "required": ["agreement-id", "name", "mrr", "basis", "lines"], "properties": {
                    "agreement-id": { "type": "string" },
                    "name": { "type": "string" },
                    "mrr": { "type": "string" },
                    "basis": { "enum": ["lines", "bill-amount"] },
                    "lines": { "type": "array", "items": { "type": "object" } },
                } } },
            } } },
            "total": { "type": "string" },
            "excluded": { "type": "array", "items": { "type": "object", "required": ["agreement-id", "company-id", "reason"], "properties": {
                "agreement-id": { "type": "string" },
                "company-id": { "type": "string" },
                "line-id": nullable("string"),
                "reason": { "type": "object", "required": ["reason"] },
            } } },
        } },
    })
}

fn schemas_7() -> Value {
    #[allow(unused)]
    let time = || nullable("string");
    json!({        "EligibleResult": { "type": "object", "required": ["connection", "eligible", "companies"], "properties": {
            "connection": { "type": "string" },
            "eligible": { "type": "integer", "description": "How many companies are eligible." },
            "companies": { "type": "array", "items": { "type": "object", "required": ["company-id", "name", "eligible", "reason", "reason-text", "contacts", "active-contacts"], "properties": {
                "company-id": { "type": "string" },
                "name": { "type": "string" },
                "eligible": { "type": "boolean" },
                "reason": { "enum": ["inactive", "no-contact", "only-inactive-contacts", null] },
                "reason-text": nullable("string"),
                "contacts": { "type": "integer" },
                "active-contacts": { "type": "integer" },
            } } },
        } },
    })
}

fn schemas_8() -> Value {
    #[allow(unused)]
    let time = || nullable("string");
    json!({        "TestResult": { "type": "object", "required": ["connection", "plugin", "ok"], "properties": {
        "connection": { "type": "string" },
        "plugin": { "type": "object", "required": ["id", "sha256"], "properties": {
            "id": { "type": "string" }, "version": nullable("string"), "sha256": { "type": "string" } } },
        "ok": { "type": "boolean" },
        "message": { "type": "string" },
        "details": {},
        "error": { "type": "object", "required": ["kind", "message"], "properties": {
            "kind": { "type": "string", "description": "The contract error's case (unauthorized, forbidden, ...) or `sandbox`." },
            "message": { "type": "string" } } },
    } },
    "ReferenceList": { "type": "object", "required": ["connection", "kind", "references"], "properties": {
        "connection": { "type": "string" },
        "kind": { "type": "string" },
        "references": { "type": "array", "items": { "type": "object", "required": ["id", "name", "active"], "properties": {
            "id": { "type": "string" },
            "name": { "type": "string" },
            "active": { "type": "boolean" },
            "parent-id": nullable("string"),
            "raw": { "type": "string" },
        } } },
    } },
    })
}

/// The document.
pub fn document() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "psahost API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The HTTP API of `psahost serve`: connections and their sync state, sync now (a connection, an entity, one record), the synced records and their change feed, MRR and eligible companies, picklists, customer linking, inventory sync; health, readiness and Prometheus metrics. Every route but /health and /ready needs `Authorization: Bearer <token>` ([api] token). Errors are {\"error\": {\"code\", \"message\"}}.",
        },
        "security": [{ "bearer": [] }],
        "tags": [
            { "name": "operations", "description": "Health, readiness, metrics, this document." },
            { "name": "plugins", "description": "Loaded plugins (hot reloaded when their files change)." },
            { "name": "connections", "description": "Connections, their status, test and picklists." },
            { "name": "sync", "description": "Sync now: a connection, an entity or one record." },
            { "name": "records", "description": "Synced records and the change feed." },
            { "name": "views", "description": "Business views: MRR, eligible companies." },
            { "name": "linking", "description": "Linking the tool's customers to PSA companies." },
            { "name": "inventory", "description": "Inventory sync: the tool's devices to PSA configuration items." },
            { "name": "delivery", "description": "Alerts delivered as PSA tickets or grouped notes, exactly once; billable user counts as contract quantities." },
        ],
        "paths": merged(&[paths(), paths_linking(), paths_inventory(), paths_delivery()]),
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "The [api] token of the configuration." } },
            "schemas": schemas(),
        },
    })
}

fn paths_inventory() -> Value {
    json!({
        "/v1/connections/{id}/inventory/devices": {
            "post": {
                "summary": "Syncs a batch of the tool's devices to the connection's configuration items by its `[connections.ID.inventory]` settings: matched by the identifiers in priority order (serial number, host name, device name; the first that finds configurations decides, several are ambiguous), created when nothing matches (when enabled), kept in sync by the field mappings, marked active or inactive as the options say. A device's stored mapping is followed before any matching (a re-discovered device finds its inactivated configuration). Devices not in the batch are left alone. With `dry-run` nothing is written (the configurations are still refreshed from the PSA).",
                "tags": ["inventory"],
                "parameters": [
                    connection_param(),
                    query_param("dry-run", "Plan and answer, write nothing (to the PSA, the states or the audit trail).", json!({ "type": "boolean" })),
                ],
                "requestBody": { "required": true, "description": "The devices (at most 100,000; 64 MiB): a JSON array of objects, or JSON lines (at most 64 KiB each).", "content": {
                    "application/json": { "schema": { "type": "array", "items": r("Device") } },
                    "application/x-ndjson": { "schema": { "type": "string" } },
                } },
                "responses": {
                    "200": ok("What became of each device.", r("InventoryReport")),
                    "400": error("The body is not devices: the message names the line or position and the field; or a bad `dry-run`."),
                    "401": error("The bearer token is missing or wrong."),
                    "404": not_found("The connection"),
                    "409": error("The connection has no inventory settings (`not-configured`), an inventory sync of it is under way (`busy`), or another replica owns it (`not-owner`)."),
                    "413": { "description": "The body is over 64 MiB." },
                    "500": error("The PSA could not be read (configurations, picklists) or a setting names a picklist entry the PSA does not have: the message says which."),
                    "503": error("The connection is not open (its plugin failed to load)."),
                },
            },
            "get": op("The devices' mapping states by device id: site, name, configuration, state, and why a device is not synced.", "inventory", vec![
                connection_param(),
                query_param("after", "Start after this device id (the previous page's `next`).", json!({ "type": "string" })),
                limit_param(),
            ], json!({
                "200": ok("One page of devices.", r("InventoryDevices")),
                "400": error("A bad `limit`."),
                "404": not_found("The connection"),
            }), true),
        },
        "/v1/connections/{id}/inventory/audit": { "get": op("The inventory entries of the connection's audit trail, oldest first: every write to the PSA (create, update, activate, inactivate) and every intent of an interrupted run resolved, with when, which device, the request and the PSA's answer.", "inventory", vec![
            connection_param(),
            query_param("after", "Only entries after this sequence number (the previous page's `next`).", json!({ "type": "integer", "minimum": 0 })),
            limit_param(),
        ], json!({
            "200": ok("One page of the trail (a page may hold fewer inventory entries than `limit`: the trail is shared by the workflows).", r("InventoryAudit")),
            "400": error("A bad `limit` or `after`."),
            "404": not_found("The connection"),
        }), true) },
    })
}

fn schemas_inventory() -> Value {
    let text = || json!({ "type": "string" });
    let reason = json!({ "enum": ["only-identifier-unknown", "unmanaged", "class-not-mapped", "ambiguous", "no-match", "company-not-linked", "deleted", "failed"] });
    let state = json!({ "enum": ["waiting-for-online-time", "ready-to-match", "matching-in-progress", "mapped-and-syncing", "not-synced"] });
    let not_synced = json!({ "type": "object", "required": ["reason"], "properties": {
        "reason": reason,
        "class": nullable("string"),
        "identifier": text(),
        "candidates": { "type": "array", "items": text(), "maxItems": 20 },
        "total": { "type": "integer" },
        "organisation": nullable("string"),
        "error": text(),
    } });
    let device = json!({ "type": "object", "required": ["id", "managed"], "additionalProperties": false, "properties": {
            "id": { "type": ["string", "number"] },
            "site": text(), "organisation": { "type": ["string", "number"] },
            "device-name": text(), "host-name": text(), "serial-number": text(),
            "mac-address": text(), "ip-address": text(), "device-class": text(),
            "make": text(), "model": text(),
            "managed": { "type": "boolean" },
            "first-online": { "type": ["string", "null"], "description": "RFC 3339; null: not online yet (the device waits)." },
            "deleted": { "type": "boolean" },
            "values": { "type": "object", "description": "Other field values (firmware, software version, warranty...), at most 64.", "additionalProperties": { "type": ["string", "number", "boolean", "null"] } },
        } });
    let results = json!({ "type": "object", "required": ["dry-run", "devices", "created", "updated", "activated", "inactivated", "unchanged", "not-synced", "waiting", "failed", "writes", "intents-resolved", "makes-mapped", "configurations", "timings", "results"], "properties": {
            "dry-run": { "type": "boolean" },
            "devices": { "type": "integer" }, "created": { "type": "integer" }, "updated": { "type": "integer" },
            "activated": { "type": "integer" }, "inactivated": { "type": "integer" }, "unchanged": { "type": "integer" },
            "not-synced": { "type": "integer" }, "waiting": { "type": "integer" }, "failed": { "type": "integer" },
            "writes": { "type": "integer", "description": "Write calls made to the PSA." },
            "intents-resolved": { "type": "integer", "description": "Creates of an interrupted run looked up in the PSA first." },
            "makes-mapped": { "type": "array", "items": text(), "description": "Makes mapped automatically by this run." },
            "stopped": { "type": "string", "description": "The run stopped early (the PSA's rate limit): send the batch again later." },
            "configurations": { "type": "integer", "description": "Configurations indexed." },
            "timings": { "type": "object", "properties": {
                "refresh-seconds": { "type": "number" }, "index-seconds": { "type": "number" },
                "matching-seconds": { "type": "number" }, "writes-seconds": { "type": "number" },
            } },
            "results": { "type": "array", "items": r("InventoryResult") },
        } });
    let result = json!({ "type": "object", "required": ["device-id", "action", "state"], "properties": {
                "device-id": text(),
                "action": { "enum": ["create", "update", "activate", "inactivate", "none"] },
                "state": state,
                "configuration-id": text(),
                "decided-by": text(),
                "changes": { "type": "array", "items": { "type": "object", "required": ["field", "from", "to"], "properties": {
                    "field": text(), "from": nullable("string"), "to": nullable("string") } } },
                "reason": text(),
                "not-synced": not_synced,
                "note": text(),
            } });
    let listed = json!({ "type": "object", "required": ["connection", "devices", "next"], "properties": {
            "connection": text(),
            "devices": { "type": "array", "items": { "type": "object", "required": ["device-id", "state", "updated-at"], "properties": {
                "device-id": text(), "site": nullable("string"), "device-name": nullable("string"),
                "state": state, "configuration-id": nullable("string"), "company-id": nullable("string"),
                "reason": reason, "class": nullable("string"), "identifier": text(),
                "candidates": { "type": "array", "items": text() }, "total": { "type": "integer" },
                "organisation": nullable("string"), "error": text(),
                "note": text(), "mapped-class": text(), "mapped-make": text(),
                "inactivated": { "type": "object", "properties": { "previous-status-id": nullable("string") } },
                "updated-at": text(),
            } } },
            "next": nullable("string"),
        } });
    let audit = json!({ "type": "object", "required": ["connection", "entries", "next"], "properties": {
            "connection": text(),
            "entries": { "type": "array", "items": { "type": "object", "required": ["seq", "entry"], "properties": {
                "seq": { "type": "integer" },
                "entry": { "type": "object", "required": ["at", "workflow", "device-id", "action", "answer"], "properties": {
                    "at": text(), "workflow": { "const": "inventory" }, "device-id": text(),
                    "action": { "enum": ["create", "update", "activate", "inactivate", "resolve-intent"] },
                    "configuration-id": nullable("string"),
                    "request": { "type": "object" }, "intent": { "type": "object" },
                    "answer": { "type": "object", "required": ["ok"], "properties": { "ok": { "type": "boolean" } } },
                } },
            } } },
            "next": { "type": ["integer", "null"] },
        } });
    json!({
        "Device": device,
        "InventoryReport": results,
        "InventoryResult": result,
        "InventoryDevices": listed,
        "InventoryAudit": audit,
    })
}
