//! Conformance checks that need no knowledge of the PSA's data: they compare the connector's
//! answers with each other (paged small and large, filtered and not, listed and read by id),
//! so they hold for any PSA. Used for every dataset, and for the typed entities when no
//! simulator knows the data.

use crate::Kind;
use psahost_sandbox::bindings::psa::connector::types::{
    DatasetRecord, Error as PsaError, PageRequest,
};
use psahost_sandbox::connector::{Connection, ConnectorError, error_kind};
use psahost_store::parse_time;
use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

use crate::Outcome;

/// Most pages one read of the suite follows: a connector whose cursors never end fails
/// instead of hanging the suite.
pub(crate) const MAX_PAGES: usize = 10_000;

/// What is read: a dataset by name, or a typed entity (its records reduced to id, `updated-at`
/// and `raw`, which is all these checks compare).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Listing<'a> {
    Dataset(&'a str),
    Entity(Kind),
}

/// One page of a listing: its records, next cursor and total.
pub(crate) type Page = (Vec<DatasetRecord>, Option<String>, Option<u64>);

pub(crate) async fn page(
    conn: &Connection,
    listing: Listing<'_>,
    request: PageRequest,
) -> Result<Page, ConnectorError> {
    // Every typed page has `items` with `id`, `updated-at` and `raw`, `next-cursor` and `total`.
    macro_rules! rows {
        ($page:expr) => {{
            let p = $page.await?;
            let items = p.items.into_iter().map(|r| DatasetRecord {
                id: r.id,
                updated_at: r.updated_at,
                raw: r.raw,
            });
            (items.collect(), p.next_cursor, p.total)
        }};
    }
    Ok(match listing {
        Listing::Dataset(name) => {
            let p = conn.list_dataset(name, request).await?;
            (p.items, p.next_cursor, p.total)
        }
        Listing::Entity(Kind::Companies) => rows!(conn.list_companies(request)),
        Listing::Entity(Kind::Contacts) => rows!(conn.list_contacts(request)),
        Listing::Entity(Kind::Agreements) => rows!(conn.list_agreements(request)),
        Listing::Entity(Kind::Configurations) => rows!(conn.list_configurations(request)),
        Listing::Entity(Kind::Tickets) => rows!(conn.list_tickets(request)),
    })
}

/// A typed record read by id, reduced to its id and `raw`.
pub(crate) async fn get(
    conn: &Connection,
    kind: Kind,
    id: String,
) -> Result<(String, String), ConnectorError> {
    Ok(match kind {
        Kind::Companies => conn.get_company(id).await.map(|r| (r.id, r.raw))?,
        Kind::Contacts => conn.get_contact(id).await.map(|r| (r.id, r.raw))?,
        Kind::Agreements => conn.get_agreement(id).await.map(|r| (r.id, r.raw))?,
        Kind::Configurations => conn.get_configuration(id).await.map(|r| (r.id, r.raw))?,
        Kind::Tickets => conn.get_ticket(id).await.map(|r| (r.id, r.raw))?,
    })
}

/// One complete read of a dataset.
pub(crate) struct Read {
    pub(crate) records: Vec<DatasetRecord>,
    pub(crate) pages: usize,
    /// The total the first page reported.
    pub(crate) total: Option<u64>,
}

/// Every page of `listing`, from the first to the last or [`MAX_PAGES`].
pub(crate) async fn read(
    conn: &Connection,
    listing: Listing<'_>,
    page_size: u32,
    updated_since: Option<String>,
) -> Result<Read, ConnectorError> {
    let mut read = Read {
        records: Vec::new(),
        pages: 0,
        total: None,
    };
    let mut cursor = None;
    while read.pages < MAX_PAGES {
        let (items, next_cursor, total) = page(
            conn,
            listing,
            PageRequest {
                cursor: cursor.take(),
                updated_since: updated_since.clone(),
                page_size,
            },
        )
        .await?;
        if read.pages == 0 {
            read.total = total;
        }
        read.pages += 1;
        read.records.extend(items);
        match next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(read)
}

/// The outcome and detail of one check.
pub(crate) type Verdict = (Outcome, String);

/// How a listing pages, as its connector declares it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Declared {
    /// The largest page.
    pub(crate) max_page_size: u32,
    /// Whether it honours updated-since (its records then need an `updated-at`).
    pub(crate) updated_since: bool,
}

/// Paging: every record once over small pages, the same set with the largest page, each record
/// with an id and (for an incremental listing) a valid `updated-at`, and the first page's
/// total, when given, equal to what was read.
pub(crate) fn paging(spec: Declared, small: &Read, large: &Read, page_size: u32) -> Verdict {
    let ids: Vec<&str> = small.records.iter().map(|r| r.id.as_str()).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    let large_all: Vec<&str> = large.records.iter().map(|r| r.id.as_str()).collect();
    let large_ids: BTreeSet<&str> = large_all.iter().copied().collect();
    if large_ids.len() != large_all.len() {
        return (
            Outcome::Fail,
            format!(
                "{} records in {} pages of {}: {} returned twice",
                large_all.len(),
                large.pages,
                spec.max_page_size,
                large_all.len() - large_ids.len()
            ),
        );
    }
    if unique.len() != ids.len() {
        return (
            Outcome::Fail,
            format!(
                "{} records in {} pages of {page_size}: {} returned twice",
                ids.len(),
                small.pages,
                ids.len() - unique.len()
            ),
        );
    }
    if large_ids != unique {
        return (
            Outcome::Fail,
            format!(
                "pages of {page_size} return {} records, pages of {} return {}: other records",
                unique.len(),
                spec.max_page_size,
                large_ids.len()
            ),
        );
    }
    if let Some(r) = small.records.iter().find(|r| r.id.is_empty()) {
        return (
            Outcome::Fail,
            format!("a record has an empty id: {}", r.raw),
        );
    }
    for r in &small.records {
        match &r.updated_at {
            Some(t) if parse_time(t).is_err() => {
                return (
                    Outcome::Fail,
                    format!("record `{}` has `updated-at` {t:?}, not RFC 3339", r.id),
                );
            }
            None if spec.updated_since => {
                return (
                    Outcome::Fail,
                    format!(
                        "record `{}` has no `updated-at`, but updated-since is declared",
                        r.id
                    ),
                );
            }
            _ => {}
        }
        if serde_json::from_str::<serde_json::Value>(&r.raw).is_err() {
            return (
                Outcome::Fail,
                format!("record `{}` has a `raw` that is not JSON", r.id),
            );
        }
    }
    for (read, size) in [(small, page_size), (large, spec.max_page_size)] {
        if let Some(total) = read.total
            && total != read.records.len() as u64
        {
            return (
                Outcome::Fail,
                format!(
                    "the first page of {size} reported a total of {total}, but {} records were read",
                    read.records.len()
                ),
            );
        }
    }
    if small.pages < 2 {
        return (
            Outcome::Skip,
            format!(
                "{} records fit in one page of {page_size}: lower --page-size or add records",
                ids.len()
            ),
        );
    }
    (
        Outcome::Pass,
        format!(
            "{} records in {} pages of {page_size}, each once; same set with pages of {}{}",
            ids.len(),
            small.pages,
            spec.max_page_size,
            if small.total.is_some() {
                "; totals right"
            } else {
                ""
            }
        ),
    )
}

/// A time to filter by that splits the records: the median `updated-at`.
pub(crate) fn split_time(records: &[DatasetRecord]) -> Option<OffsetDateTime> {
    let mut times: Vec<OffsetDateTime> = records
        .iter()
        .filter_map(|r| r.updated_at.as_deref().and_then(|t| parse_time(t).ok()))
        .collect();
    times.sort();
    times.dedup();
    (times.len() >= 2).then(|| times[times.len() / 2])
}

/// Updated-since: the filtered read returns exactly the records updated at or after `since`.
pub(crate) fn updated_since(all: &Read, filtered: &Read, since: OffsetDateTime) -> Verdict {
    let time_of: BTreeMap<&str, Option<OffsetDateTime>> = all
        .records
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                r.updated_at.as_deref().and_then(|t| parse_time(t).ok()),
            )
        })
        .collect();
    let expected: BTreeSet<&str> = time_of
        .iter()
        .filter(|(_, t)| t.is_some_and(|t| t >= since))
        .map(|(id, _)| *id)
        .collect();
    let got: BTreeSet<&str> = filtered.records.iter().map(|r| r.id.as_str()).collect();
    if got == expected {
        return (
            Outcome::Pass,
            format!(
                "exactly the {} of {} records updated since {}",
                got.len(),
                all.records.len(),
                psahost_store::format_time(since)
            ),
        );
    }
    let missing = expected.difference(&got).count();
    let extra = got.difference(&expected).count();
    (
        Outcome::Fail,
        format!(
            "{} of {} records were updated since {}; got {}: {missing} missing, {extra} older ones returned",
            expected.len(),
            all.records.len(),
            psahost_store::format_time(since),
            got.len()
        ),
    )
}

/// An unknown dataset name is `invalid-input` naming the field `dataset`.
pub(crate) fn unknown(result: Result<Read, ConnectorError>) -> Verdict {
    match result {
        Err(ConnectorError::Psa(PsaError::InvalidInput(p))) if p.field == "dataset" => {
            (Outcome::Pass, format!("invalid-input: {}", p.message))
        }
        Err(ConnectorError::Psa(e)) => (
            Outcome::Fail,
            format!(
                "expected `invalid-input` with field `dataset`, got `{}`",
                error_kind(&e)
            ),
        ),
        Err(e) => (Outcome::Fail, e.to_string()),
        Ok(read) => (
            Outcome::Fail,
            format!(
                "answered {} records for a dataset it does not declare",
                read.records.len()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(ids: &[&str], pages: usize) -> Read {
        Read {
            records: ids
                .iter()
                .map(|id| DatasetRecord {
                    id: id.to_string(),
                    updated_at: Some(format!("2026-01-0{id}T00:00:00Z")),
                    raw: format!(r#"{{"id": {id}}}"#),
                })
                .collect(),
            pages,
            total: None,
        }
    }

    const DECLARED: Declared = Declared {
        max_page_size: 100,
        updated_since: true,
    };

    #[test]
    fn paging_fails_a_record_twice_in_either_read_and_another_set() {
        let all = read(&["1", "2", "3", "4"], 1);
        let (outcome, _) = paging(DECLARED, &read(&["1", "2", "3", "4"], 2), &all, 2);
        assert_eq!(outcome, Outcome::Pass);
        let (outcome, detail) = paging(DECLARED, &read(&["1", "2", "2", "3", "4"], 3), &all, 2);
        assert_eq!(
            (outcome, detail.contains("1 returned twice")),
            (Outcome::Fail, true)
        );
        let twice = read(&["1", "2", "3", "4", "4"], 1);
        let (outcome, detail) = paging(DECLARED, &read(&["1", "2", "3", "4"], 2), &twice, 2);
        assert_eq!(
            (outcome, detail.contains("pages of 100")),
            (Outcome::Fail, true),
            "{detail}"
        );
        let (outcome, _) = paging(DECLARED, &read(&["1", "2", "3"], 2), &all, 2);
        assert_eq!(outcome, Outcome::Fail);
    }

    #[test]
    fn updated_since_wants_exactly_the_records_at_or_after_the_time() {
        let all = read(&["1", "2", "3", "4"], 1);
        let since = split_time(&all.records).expect("four times");
        assert_eq!(psahost_store::format_time(since), "2026-01-03T00:00:00Z");
        let (outcome, _) = updated_since(&all, &read(&["3", "4"], 1), since);
        assert_eq!(outcome, Outcome::Pass);
        let (outcome, detail) = updated_since(&all, &all, since);
        assert_eq!(
            (outcome, detail.contains("2 older ones")),
            (Outcome::Fail, true),
            "{detail}"
        );
        let (outcome, _) = updated_since(&all, &read(&["4"], 1), since);
        assert_eq!(outcome, Outcome::Fail);
    }
}
