//! List parameters (`pageSize`, `pageNumber`, `orderBy`, `modifiedSince`, `idGreaterThan` and
//! each list's own filters), checked together, and paging over the matching records.

use axum::response::Response;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::{BmsError, FieldError, list};
use crate::data::Id;
use crate::dialect::http::Pair;

/// The default page size.
pub(crate) const DEFAULT_PAGE_SIZE: usize = 25;
/// The largest page; larger requests are clamped.
pub(crate) const MAX_PAGE_SIZE: usize = 100;

/// An entity-specific filter a list accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Extra {
    AccountId,
    QueueId,
    IsClosed,
    Title,
    ExternalReference,
}

impl Extra {
    fn name(self) -> &'static str {
        match self {
            Extra::AccountId => "accountId",
            Extra::QueueId => "queueId",
            Extra::IsClosed => "isClosed",
            Extra::Title => "title",
            Extra::ExternalReference => "externalReference",
        }
    }
}

/// A parsed list request.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ListQuery {
    pub(crate) page_size: usize,
    pub(crate) page_number: usize,
    pub(crate) descending: bool,
    pub(crate) modified_since: Option<OffsetDateTime>,
    pub(crate) id_greater_than: Option<Id>,
    pub(crate) account_id: Option<Id>,
    pub(crate) queue_id: Option<Id>,
    pub(crate) is_closed: Option<bool>,
    /// Trimmed and lower-cased.
    pub(crate) title: Option<String>,
    /// Compared exactly.
    pub(crate) external_reference: Option<String>,
}

fn positive(raw: &str) -> Option<usize> {
    raw.trim().parse::<usize>().ok().filter(|n| *n >= 1)
}

fn id(raw: &str) -> Option<Id> {
    raw.trim().parse::<Id>().ok()
}

impl ListQuery {
    /// Parses the query string of a list that takes `extras` besides the common parameters;
    /// every problem is reported at once.
    pub(crate) fn parse(pairs: &[Pair], extras: &[Extra]) -> Result<ListQuery, BmsError> {
        let mut q = ListQuery {
            page_size: DEFAULT_PAGE_SIZE,
            page_number: 1,
            ..ListQuery::default()
        };
        let mut errors = Vec::new();
        for pair in pairs {
            let name = pair.raw.split('=').next().unwrap_or("");
            let name = url::form_urlencoded::parse(name.as_bytes())
                .next()
                .map_or_else(String::new, |(k, _)| k.into_owned());
            let v = pair.value.as_str();
            let mut fail =
                |field: &str, message: String| errors.push(FieldError::new(field, message));
            match pair.key.as_str() {
                "pagesize" => match v.trim().parse::<i64>() {
                    Ok(n) if n >= 1 => q.page_size = (n as usize).min(MAX_PAGE_SIZE),
                    _ => fail(
                        "pageSize",
                        format!("'{v}' is not a valid page size: use 1 to {MAX_PAGE_SIZE}."),
                    ),
                },
                "pagenumber" => match positive(v) {
                    Some(n) => q.page_number = n,
                    None => fail(
                        "pageNumber",
                        format!("'{v}' is not a valid page number: use 1 or more."),
                    ),
                },
                "orderby" => match v
                    .trim()
                    .to_ascii_lowercase()
                    .split_whitespace()
                    .collect::<Vec<_>>()[..]
                {
                    ["id"] | ["id", "asc"] => q.descending = false,
                    ["id", "desc"] => q.descending = true,
                    _ => fail(
                        "orderBy",
                        format!("'{v}' is not a supported order: use 'id asc' or 'id desc'."),
                    ),
                },
                "modifiedsince" => match OffsetDateTime::parse(v.trim(), &Rfc3339) {
                    Ok(t) => q.modified_since = Some(t),
                    Err(_) => fail(
                        "modifiedSince",
                        format!("'{v}' is not an ISO 8601 UTC time such as 2026-01-31T09:30:00Z."),
                    ),
                },
                "idgreaterthan" => match id(v) {
                    Some(n) => q.id_greater_than = Some(n),
                    None => fail("idGreaterThan", format!("'{v}' is not an integer id.")),
                },
                key if extras.iter().any(|e| e.name().eq_ignore_ascii_case(key)) => {
                    let extra = extras
                        .iter()
                        .find(|e| e.name().eq_ignore_ascii_case(key))
                        .copied();
                    match extra {
                        Some(Extra::AccountId) => match id(v) {
                            Some(n) => q.account_id = Some(n),
                            None => fail("accountId", format!("'{v}' is not an integer id.")),
                        },
                        Some(Extra::QueueId) => match id(v) {
                            Some(n) => q.queue_id = Some(n),
                            None => fail("queueId", format!("'{v}' is not an integer id.")),
                        },
                        Some(Extra::IsClosed) => match v.trim().to_ascii_lowercase().as_str() {
                            "true" => q.is_closed = Some(true),
                            "false" => q.is_closed = Some(false),
                            _ => fail("isClosed", format!("'{v}' is not true or false.")),
                        },
                        Some(Extra::Title) => q.title = Some(v.trim().to_lowercase()),
                        Some(Extra::ExternalReference) => {
                            q.external_reference = Some(v.to_string())
                        }
                        None => {}
                    }
                }
                _ => fail(&name, format!("Unknown query parameter '{name}'.")),
            }
        }
        if errors.is_empty() {
            Ok(q)
        } else {
            Err(BmsError::validation("The request is invalid.", errors))
        }
    }

    /// Whether a record passes the common filters.
    pub(crate) fn keeps(&self, id: Id, modified: OffsetDateTime) -> bool {
        self.id_greater_than.is_none_or(|after| id > after)
            && self.modified_since.is_none_or(|since| modified >= since)
    }

    /// One page of `matching` (in ascending id order) as the list answer.
    pub(crate) fn page<T>(&self, mut matching: Vec<T>, render: impl Fn(&T) -> Value) -> Response {
        let total = matching.len();
        if self.descending {
            matching.reverse();
        }
        let skip = (self.page_number - 1).saturating_mul(self.page_size);
        let records = matching
            .iter()
            .skip(skip)
            .take(self.page_size)
            .map(render)
            .collect();
        list(records, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::http::pairs;

    fn q(text: &str, extras: &[Extra]) -> Result<ListQuery, Vec<(String, String)>> {
        ListQuery::parse(&pairs(Some(text)), extras).map_err(|e| {
            e.validation
                .into_iter()
                .map(|f| (f.field, f.message))
                .collect()
        })
    }

    #[test]
    fn defaults_clamping_and_filters() {
        let d = q("", &[]).unwrap();
        assert_eq!((d.page_size, d.page_number, d.descending), (25, 1, false));
        let l = q(
            "orderBy=ID%20DESC&pageSize=500&pageNumber=3&modifiedSince=2026-01-01T02:00:00%2B02:00&idGreaterThan=7&accountId=9&isClosed=FALSE&title=%20Disk%20Full%20",
            &[Extra::AccountId, Extra::IsClosed, Extra::Title],
        )
        .unwrap();
        assert_eq!((l.page_size, l.page_number, l.descending), (100, 3, true));
        assert_eq!(l.modified_since.unwrap().unix_timestamp(), 1_767_225_600);
        assert_eq!(
            (l.id_greater_than, l.account_id, l.is_closed),
            (Some(7), Some(9), Some(false))
        );
        assert_eq!(l.title.as_deref(), Some("disk full"));
        assert!(l.keeps(8, l.modified_since.unwrap()));
        assert!(!l.keeps(7, l.modified_since.unwrap()));
    }

    #[test]
    fn every_bad_parameter_is_named() {
        assert_eq!(
            q("pageSize=0&pageNumber=x&orderBy=name&modifiedSince=yesterday&idGreaterThan=-1&modifiedAfter=1&accountId=1", &[]).unwrap_err(),
            vec![
                ("pageSize".into(), "'0' is not a valid page size: use 1 to 100.".into()),
                ("pageNumber".into(), "'x' is not a valid page number: use 1 or more.".into()),
                ("orderBy".into(), "'name' is not a supported order: use 'id asc' or 'id desc'.".into()),
                ("modifiedSince".into(), "'yesterday' is not an ISO 8601 UTC time such as 2026-01-31T09:30:00Z.".into()),
                ("idGreaterThan".into(), "'-1' is not an integer id.".into()),
                ("modifiedAfter".into(), "Unknown query parameter 'modifiedAfter'.".into()),
                ("accountId".into(), "Unknown query parameter 'accountId'.".into()),
            ]
        );
        assert!(
            q("modifiedSince=2026-01-01T00:00:00", &[]).is_err(),
            "needs Z or an offset"
        );
        assert!(q("modifiedSince=2026-01-01T00:00:00.123Z", &[]).is_ok());
    }
}
