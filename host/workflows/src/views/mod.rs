//! Business views computed from the synced records: MRR per company ([`mrr`]) and the companies
//! a tool may create customers from ([`eligible`]).
//!
//! The computations are pure functions of typed records; the `*_from_store` helpers read the
//! records of one connection from a [`RecordStore`] first.

pub mod eligible;
pub mod mrr;

use crate::records;
use anyhow::Context;
use psahost_sandbox::bindings::psa::connector::types::{Agreement, Company, Contact};
use psahost_store::Entity;
use psahost_store::{ListQuery, RecordStore};
use serde_json::Value;
use time::Date;

/// Every stored record of an entity, converted with `convert`.
pub async fn load_all<T>(
    store: &dyn RecordStore,
    connection: &str,
    entity: Entity,
    convert: fn(&Value) -> anyhow::Result<T>,
) -> anyhow::Result<Vec<T>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list(
                connection,
                entity,
                ListQuery {
                    after,
                    limit: 1000,
                    ..ListQuery::default()
                },
            )
            .await?;
        for r in &page.records {
            out.push(
                convert(&r.record)
                    .with_context(|| format!("stored {entity} `{}` of `{connection}`", r.id))?,
            );
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(out),
        }
    }
}

/// MRR per company of `connection` on `day`, from its stored agreements.
pub async fn mrr_from_store(
    store: &dyn RecordStore,
    connection: &str,
    day: Date,
) -> anyhow::Result<mrr::MrrReport> {
    let agreements: Vec<Agreement> = load_all(
        store,
        connection,
        Entity::Agreements,
        records::agreement_from_json,
    )
    .await?;
    Ok(mrr::compute(&agreements, day))
}

/// The eligibility of every stored company of `connection`, from its stored contacts.
pub async fn eligible_from_store(
    store: &dyn RecordStore,
    connection: &str,
) -> anyhow::Result<Vec<eligible::Eligibility>> {
    let (companies, contacts) = companies_and_contacts(store, connection).await?;
    Ok(eligible::eligible_companies(&companies, &contacts))
}

/// Every stored company and contact of `connection`.
pub async fn companies_and_contacts(
    store: &dyn RecordStore,
    connection: &str,
) -> anyhow::Result<(Vec<Company>, Vec<Contact>)> {
    let companies: Vec<Company> = load_all(
        store,
        connection,
        Entity::Companies,
        records::company_from_json,
    )
    .await?;
    let contacts: Vec<Contact> = load_all(
        store,
        connection,
        Entity::Contacts,
        records::contact_from_json,
    )
    .await?;
    Ok((companies, contacts))
}
