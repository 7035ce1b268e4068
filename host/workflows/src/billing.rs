//! Billable users -> contract service quantity: once per period (a calendar month), on the
//! configured day of the month (past a short month's end: its last day), for each organisation
//! with a mapped contract.
//!
//! Each organisation's period is a link of kind `billing-periods`, key `ORG/YYYY-MM`: written
//! `sending` with the count before the PSA call and `written` after. Setting a quantity is
//! idempotent, so a `sending` period (a crash, a failed call) is simply written again. A count
//! that changes after the period was written waits for the next period unless forced. Every
//! quantity written is in the audit trail.
//!
//! The counts posted (API, `--input`) are kept, per organisation with when they were posted
//! (links of kind `billable-counts`), so the period is written on its day even when the
//! operator's product posted the counts before it: the daemon's background loop calls
//! [`sync_kept`] with them.

use std::collections::BTreeMap;

use anyhow::Context;
use psahost_sandbox::connector::Connection;
use psahost_store::RecordStore;
use serde::Serialize;
use serde_json::{Value, json};
use time::{Date, Month};

use crate::delivery::DeliverySettings;

/// Link kind of the billing periods.
pub const PERIODS: &str = "billing-periods";
/// Link kind of the latest counts posted, by organisation.
pub const COUNTS: &str = "billable-counts";
/// The most organisations one input holds.
pub const MAX_COUNTS: usize = 10_000;

/// What happened to one organisation's count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct BillingOutcome {
    /// The tool's organisation.
    pub organisation: String,
    /// The period, `YYYY-MM`.
    pub period: String,
    /// The billable user count.
    pub count: u64,
    /// `written`, `already-written`, `pending-next-period` (the period was written with
    /// another count), `not-due` (before the sync day), `no-contract`, `not-mapped`, `failed`.
    pub action: String,
    /// The contract (agreement) id.
    pub contract: Option<String>,
    /// The contract service id.
    pub service: Option<String>,
    /// Why, in one line.
    pub reason: Option<String>,
}

/// The day of `month` of `year` the sync runs: `day`, or the month's last day when shorter.
pub fn sync_day(year: i32, month: Month, day: u8) -> u8 {
    day.min(time::util::days_in_month(month, year))
}

/// Billable counts from JSON: an object `{"org": 12}` or an array of
/// `{"organisation": "org", "count": 12}`; at most [`MAX_COUNTS`].
pub fn parse_counts(text: &str) -> anyhow::Result<BTreeMap<String, u64>> {
    let v: Value = serde_json::from_str(text).context(
        "the billable counts are not JSON: give {\"org\": 12, ...} or [{\"organisation\": \"org\", \"count\": 12}]",
    )?;
    let mut out = BTreeMap::new();
    let mut put = |org: &str, count: &Value| -> anyhow::Result<()> {
        let n = count.as_u64().with_context(|| {
            format!(
                "the count of organisation `{}` is `{count}`, not a whole number of users",
                crate::delivery::short(org, 80)
            )
        })?;
        if org.trim().is_empty() || org.chars().count() > 200 {
            anyhow::bail!("an organisation name is empty or longer than 200 characters");
        }
        out.insert(org.to_string(), n);
        Ok(())
    };
    match &v {
        Value::Object(map) => {
            for (org, count) in map.iter().take(MAX_COUNTS + 1) {
                put(org, count)?;
            }
        }
        Value::Array(items) => {
            for item in items.iter().take(MAX_COUNTS + 1) {
                let org = item
                    .get("organisation")
                    .and_then(Value::as_str)
                    .context("an entry has no `organisation` text")?;
                put(org, item.get("count").unwrap_or(&Value::Null))?;
            }
        }
        _ => anyhow::bail!("the billable counts must be a JSON object or array"),
    }
    if out.len() > MAX_COUNTS {
        anyhow::bail!("more than {MAX_COUNTS} organisations: send them in parts");
    }
    Ok(out)
}

/// Keeps `counts` as the latest posted counts of their organisations (those mapped with a
/// contract: the others are never written, so the kept counts stay bounded by the settings).
pub async fn keep_counts(
    store: &dyn RecordStore,
    connection: &str,
    settings: &DeliverySettings,
    counts: &BTreeMap<String, u64>,
) -> anyhow::Result<()> {
    let at = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    for (org, count) in counts {
        if settings
            .organisation(org)
            .is_some_and(|o| o.contract.is_some())
        {
            store
                .set_link(
                    connection,
                    COUNTS,
                    org,
                    Some(json!({ "count": count, "posted-at": at })),
                )
                .await?;
        }
    }
    store.flush().await
}

/// The latest counts posted, by organisation.
pub async fn kept_counts(
    store: &dyn RecordStore,
    connection: &str,
) -> anyhow::Result<BTreeMap<String, u64>> {
    let mut out = BTreeMap::new();
    let mut after = None;
    loop {
        let page = store.links(connection, COUNTS, after, 500).await?;
        let Some((last, _)) = page.last() else {
            return Ok(out);
        };
        after = Some(last.clone());
        for (org, v) in page {
            if let Some(n) = v.get("count").and_then(Value::as_u64) {
                out.insert(org, n);
            }
        }
        if out.len() > MAX_COUNTS {
            return Ok(out);
        }
    }
}

/// Keeps the posted `counts` ([`keep_counts`]), then writes them ([`write_counts`]).
pub async fn sync_billable(
    store: &dyn RecordStore,
    conn: &Connection,
    settings: &DeliverySettings,
    counts: &BTreeMap<String, u64>,
    today: Date,
    force: bool,
) -> anyhow::Result<Vec<BillingOutcome>> {
    enabled(settings, conn.id())?;
    keep_counts(store, conn.id(), settings, counts).await?;
    write_counts(store, conn, settings, counts, today, force).await
}

/// The background sync: on or past the period's day, the kept counts of the organisations
/// whose period is not written yet are written (never forced). Before the day, or with every
/// period written, nothing is asked of the PSA and nothing is returned.
pub async fn sync_kept(
    store: &dyn RecordStore,
    conn: &Connection,
    settings: &DeliverySettings,
    today: Date,
) -> anyhow::Result<Vec<BillingOutcome>> {
    let Some(billing) = &settings.billing else {
        return Ok(Vec::new());
    };
    if today.day() < sync_day(today.year(), today.month(), billing.day) {
        return Ok(Vec::new());
    }
    let period = period_of(today);
    let mut due = BTreeMap::new();
    for (org, count) in kept_counts(store, conn.id()).await? {
        let held = store
            .get_link(conn.id(), PERIODS, &format!("{org}/{period}"))
            .await?;
        let written = held
            .as_ref()
            .and_then(|v| v.get("state"))
            .and_then(Value::as_str)
            == Some("written");
        if !written {
            due.insert(org, count);
        }
    }
    if due.is_empty() {
        return Ok(Vec::new());
    }
    write_counts(store, conn, settings, &due, today, false).await
}

fn period_of(today: Date) -> String {
    format!("{:04}-{:02}", today.year(), u8::from(today.month()))
}

fn enabled<'s>(
    settings: &'s DeliverySettings,
    connection: &str,
) -> anyhow::Result<&'s crate::delivery::settings::BillingSettings> {
    settings.billing.as_ref().with_context(|| {
        format!(
            "billable sync is not enabled for connection `{connection}`: set [connections.{connection}.delivery.billing] with a service and a day"
        )
    })
}

/// Writes each organisation's billable count as its contract service's quantity, once per
/// period, when `today` is on or past the period's sync day. `force` writes a changed count
/// within a period that was already written.
pub async fn write_counts(
    store: &dyn RecordStore,
    conn: &Connection,
    settings: &DeliverySettings,
    counts: &BTreeMap<String, u64>,
    today: Date,
    force: bool,
) -> anyhow::Result<Vec<BillingOutcome>> {
    let billing = enabled(settings, conn.id())?;
    let connection = conn.id();
    let period = period_of(today);
    let due = today.day() >= sync_day(today.year(), today.month(), billing.day);
    let mut out = Vec::new();
    for (org_name, &count) in counts {
        let mut outcome = BillingOutcome {
            organisation: org_name.clone(),
            period: period.clone(),
            count,
            action: String::new(),
            contract: None,
            service: None,
            reason: None,
        };
        let Some(org) = settings.organisation(org_name) else {
            outcome.action = "not-mapped".into();
            out.push(outcome);
            continue;
        };
        let Some(contract) = &org.contract else {
            outcome.action = "no-contract".into();
            out.push(outcome);
            continue;
        };
        let service = org
            .service
            .clone()
            .unwrap_or_else(|| billing.service.clone());
        outcome.contract = Some(contract.clone());
        outcome.service = Some(service.clone());
        if !due {
            outcome.action = "not-due".into();
            out.push(outcome);
            continue;
        }
        let key = format!("{org_name}/{period}");
        let held = store.get_link(connection, PERIODS, &key).await?;
        let state = held
            .as_ref()
            .and_then(|v| v.get("state"))
            .and_then(Value::as_str);
        let held_count = held
            .as_ref()
            .and_then(|v| v.get("count"))
            .and_then(Value::as_u64);
        if state == Some("written") && (held_count == Some(count) || !force) {
            outcome.action = if held_count == Some(count) {
                "already-written".into()
            } else {
                outcome.reason = Some(format!(
                    "{} was written for {period}; {count} applies from the next period (force to write it now)",
                    held_count.unwrap_or(0)
                ));
                "pending-next-period".into()
            };
            out.push(outcome);
            continue;
        }
        let record = |state: &str| {
            json!({"state": state, "count": count, "contract": contract, "service": service,
                   "at": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()})
        };
        // The service is a picklist entry (a product); the quantity is the contract's line of it.
        let line = match conn.get_agreement(contract.clone()).await {
            Ok(a) => a
                .lines
                .iter()
                .find(|l| l.product.as_ref().is_some_and(|p| p.id == service))
                .map(|l| l.id.clone()),
            Err(e) => {
                outcome.action = "failed".into();
                outcome.reason = Some(crate::delivery::short(
                    &format!("cannot read contract {contract}: {e}"),
                    500,
                ));
                out.push(outcome);
                continue;
            }
        };
        let Some(line) = line else {
            outcome.action = "failed".into();
            outcome.reason = Some(format!(
                "contract {contract} has no line of service {service}: add the service to the contract in the PSA"
            ));
            out.push(outcome);
            continue;
        };
        store
            .set_link(connection, PERIODS, &key, Some(record("sending")))
            .await?;
        store.flush().await?;
        match conn
            .set_contract_service_quantity(contract.clone(), line.clone(), count.to_string())
            .await
        {
            Ok(()) => {
                store
                    .set_link(connection, PERIODS, &key, Some(record("written")))
                    .await?;
                store
                    .append_audit(
                        connection,
                        json!({
                            "workflow": "billing",
                            "event": "quantity-written",
                            "organisation": org_name,
                            "period": period,
                            "contract": contract,
                            "service": service,
                            "line": line,
                            "count": count,
                            "previous": held_count,
                            "forced": force && state == Some("written"),
                        }),
                    )
                    .await?;
                store.flush().await?;
                outcome.action = "written".into();
            }
            Err(e) => {
                outcome.action = "failed".into();
                outcome.reason = Some(crate::delivery::short(&e.to_string(), 500));
            }
        }
        out.push(outcome);
    }
    Ok(out)
}
