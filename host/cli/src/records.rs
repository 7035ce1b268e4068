//! `psahost records list|get|changes`: the synced records and the change feed, from the store
//! of the configuration or from a running daemon (`--api`). Output is JSON, in the API's shapes.

use super::client::{Source, Target, segment};
use crate::terminal;
use anyhow::{anyhow, bail};
use clap::Subcommand;
use psahost_store::Entity;
use psahost_store::{ListQuery, parse_time};
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;

/// Record commands.
#[derive(Debug, Subcommand)]
pub enum RecordsCommand {
    /// One page of an entity's records, in id order (JSON: records and `next`).
    List {
        /// The connection's id.
        #[arg(value_name = "CONNECTION")]
        connection: String,
        /// companies, contacts, agreements, configurations, tickets, or a dataset of the
        /// connection's connector (time-entries, invoices, ...: `psahost plugin inspect`).
        #[arg(value_name = "ENTITY", value_parser = parse_entity)]
        entity: Entity,
        /// Only records whose FIELD equals VALUE (repeatable; WIT field names, nested with `/`,
        /// for example `company-id=42` or `status/name=Active`).
        #[arg(long = "where", value_name = "FIELD=VALUE")]
        filters: Vec<String>,
        /// Only records updated at or after this RFC 3339 time.
        #[arg(long, value_name = "TIME")]
        updated_since: Option<String>,
        /// Start after this id (the previous page's `next`).
        #[arg(long, value_name = "ID")]
        after: Option<String>,
        /// Records per page (1 to 1000).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        /// Where to read.
        #[command(flatten)]
        target: Target,
    },
    /// One record (JSON), as stored.
    Get {
        /// The connection's id.
        #[arg(value_name = "CONNECTION")]
        connection: String,
        /// companies, contacts, agreements, configurations, tickets, or a dataset of the
        /// connection's connector (time-entries, invoices, ...: `psahost plugin inspect`).
        #[arg(value_name = "ENTITY", value_parser = parse_entity)]
        entity: Entity,
        /// The record's PSA id.
        #[arg(value_name = "ID")]
        id: String,
        /// Where to read.
        #[command(flatten)]
        target: Target,
    },
    /// The change feed: changes after a sequence number (JSON: changes and `next-after`).
    Changes {
        /// The connection's id.
        #[arg(value_name = "CONNECTION")]
        connection: String,
        /// The last sequence number already read.
        #[arg(long, default_value_t = 0, value_name = "SEQ")]
        after: u64,
        /// Changes per page (1 to 1000).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        /// Where to read.
        #[command(flatten)]
        target: Target,
    },
}

pub(super) fn parse_entity(s: &str) -> Result<Entity, String> {
    s.parse().map_err(|e: anyhow::Error| e.to_string())
}

/// Runs a `psahost records` command.
pub(super) async fn run(cmd: RecordsCommand, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let value = match cmd {
        RecordsCommand::List {
            connection,
            entity,
            filters,
            updated_since,
            after,
            limit,
            target,
        } => {
            let mut equals = Vec::new();
            for f in &filters {
                let (field, value) = f
                    .split_once('=')
                    .ok_or_else(|| anyhow!("--where `{f}`: write FIELD=VALUE"))?;
                equals.push((field.trim().to_string(), value.to_string()));
            }
            match target.open(config).await? {
                Source::Store { config, store } => {
                    config.connection(&connection)?;
                    let query = ListQuery {
                        equals: equals
                            .into_iter()
                            .map(|(k, v)| (k, Value::String(v)))
                            .collect(),
                        updated_since: updated_since.as_deref().map(parse_time).transpose()?,
                        after,
                        limit: limit as usize,
                    };
                    json!(store.list(&connection, entity, query).await?)
                }
                Source::Api(api) => {
                    let mut query: Vec<(&str, String)> = vec![("limit", limit.to_string())];
                    if let Some(a) = after {
                        query.push(("after", a));
                    }
                    if let Some(t) = updated_since {
                        query.push(("updated-since", t));
                    }
                    let reserved = ["limit", "after", "updated-since"];
                    for (k, v) in &equals {
                        if reserved.contains(&k.as_str()) {
                            bail!("--where `{k}`: this field name is reserved by the API");
                        }
                        query.push((k.as_str(), v.clone()));
                    }
                    api.get(
                        &format!("v1/connections/{}/records/{entity}", segment(&connection)),
                        &query,
                    )
                    .await?
                }
            }
        }
        RecordsCommand::Get {
            connection,
            entity,
            id,
            target,
        } => match target.open(config).await? {
            Source::Store { config, store } => {
                config.connection(&connection)?;
                match store.get(&connection, entity, &id).await? {
                    Some(r) => json!(r),
                    None => bail!("no {entity} `{id}` is stored for connection `{connection}`"),
                }
            }
            Source::Api(api) => {
                api.get(
                    &format!(
                        "v1/connections/{}/records/{entity}/{}",
                        segment(&connection),
                        segment(&id)
                    ),
                    &[],
                )
                .await?
            }
        },
        RecordsCommand::Changes {
            connection,
            after,
            limit,
            target,
        } => match target.open(config).await? {
            Source::Store { config, store } => {
                config.connection(&connection)?;
                let changes = store.changes(&connection, after, limit as usize).await?;
                let next = changes.last().map_or(after, |c| c.seq);
                json!({"changes": changes, "next-after": next})
            }
            Source::Api(api) => {
                api.get(
                    &format!("v1/connections/{}/changes", segment(&connection)),
                    &[("after", after.to_string()), ("limit", limit.to_string())],
                )
                .await?
            }
        },
    };
    outln!("{}", terminal::json(&value)?);
    Ok(ExitCode::SUCCESS)
}
