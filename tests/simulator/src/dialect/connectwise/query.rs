//! Query parameters and headers of list requests: paging, ordering, filtering, partial fields.

use axum::http::HeaderMap;

use super::conditions::{self, Expr, FieldPath};
use super::error::CwError;
use crate::data::Id;
pub(crate) use crate::dialect::http::pairs;
use crate::dialect::http::{Pair, param, request_origin};

/// The default page size.
pub(crate) const DEFAULT_PAGE_SIZE: usize = 25;
/// The largest page size; larger requests are clamped.
pub(crate) const MAX_PAGE_SIZE: usize = 1000;

/// One `orderBy` key.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OrderKey {
    pub(crate) field: FieldPath,
    pub(crate) descending: bool,
}

/// A parsed list request.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ListQuery {
    pub(crate) pairs: Vec<Pair>,
    /// `http://host/path` of the request, for paging links.
    pub(crate) base_url: String,
    pub(crate) conditions: Option<Expr>,
    pub(crate) child_conditions: Option<Expr>,
    pub(crate) order: Vec<OrderKey>,
    pub(crate) page: usize,
    pub(crate) page_size: usize,
    pub(crate) page_id: Option<Id>,
    pub(crate) forward_only: bool,
    pub(crate) fields: Option<Vec<FieldPath>>,
}

impl ListQuery {
    /// True when records come in id order (ascending unless `orderBy=id desc`).
    pub(crate) fn by_id(&self) -> bool {
        self.order.is_empty() || (self.order.len() == 1 && self.order[0].field.is(&["id"]))
    }

    /// True for `orderBy=id desc`.
    pub(crate) fn descending_ids(&self) -> bool {
        self.by_id() && self.order.first().is_some_and(|o| o.descending)
    }
}

/// Parses `fields=a,b/c`.
pub(crate) fn fields(pairs: &[Pair]) -> Result<Option<Vec<FieldPath>>, CwError> {
    let Some(raw) = param(pairs, "fields").filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    raw.split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| {
            FieldPath::parse(f)
                .ok_or_else(|| CwError::bad_param("fields", format!("'{f}' is not a field name")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn order(raw: &str) -> Result<Vec<OrderKey>, CwError> {
    let mut keys = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = part.split_whitespace();
        let name = words.next().unwrap_or_default();
        let field = FieldPath::parse(name).ok_or_else(|| {
            CwError::bad_param("orderBy", format!("'{name}' is not a field name"))
        })?;
        let descending = match words.next() {
            None => false,
            Some(d) if d.eq_ignore_ascii_case("asc") => false,
            Some(d) if d.eq_ignore_ascii_case("desc") => true,
            Some(d) => {
                return Err(CwError::bad_param(
                    "orderBy",
                    format!("'{d}' is not a direction; use asc or desc"),
                ));
            }
        };
        if let Some(extra) = words.next() {
            return Err(CwError::bad_param(
                "orderBy",
                format!("unexpected '{extra}' in '{part}'"),
            ));
        }
        keys.push(OrderKey { field, descending });
    }
    Ok(keys)
}

fn positive(name: &str, raw: &str) -> Result<usize, CwError> {
    match raw.trim().parse::<i64>() {
        Ok(n) if n >= 1 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        Ok(_) => Err(CwError::bad_param(
            name,
            format!("'{raw}' must be 1 or more"),
        )),
        Err(_) => Err(CwError::bad_param(
            name,
            format!("'{raw}' is not a whole number"),
        )),
    }
}

fn condition(pairs: &[Pair], name: &str, key: &str) -> Result<Option<Expr>, CwError> {
    match param(pairs, key) {
        None => Ok(None),
        Some(text) => conditions::parse(text).map_err(|e| CwError::bad_param(name, e.message)),
    }
}

impl ListQuery {
    /// Parses the query string and headers of a list request to `path`.
    pub(crate) fn parse(
        query: Option<&str>,
        path: &str,
        headers: &HeaderMap,
        origin: &str,
    ) -> Result<ListQuery, CwError> {
        let pairs = pairs(query);
        let forward_only = match headers
            .get("pagination-type")
            .map(|v| v.to_str().unwrap_or("?"))
        {
            None => false,
            Some(v) if v.trim().eq_ignore_ascii_case("forward-only") => true,
            Some(v) => {
                return Err(CwError::bad_param(
                    "pagination-type",
                    format!("'{v}' is not supported; use forward-only"),
                ));
            }
        };
        let page = match param(&pairs, "page") {
            Some(raw) if !forward_only => positive("page", raw)?,
            _ => 1,
        };
        let page_size = match param(&pairs, "pagesize") {
            Some(raw) => positive("pageSize", raw)?.min(MAX_PAGE_SIZE),
            None => DEFAULT_PAGE_SIZE,
        };
        let page_id = match param(&pairs, "pageid") {
            None => None,
            Some(_) if !forward_only => {
                return Err(CwError::bad_param(
                    "pageId",
                    "needs the request header 'pagination-type: forward-only'",
                ));
            }
            Some(raw) => match raw.trim().parse::<Id>() {
                Ok(id) => Some(id),
                Err(_) => {
                    return Err(CwError::bad_param(
                        "pageId",
                        format!("'{raw}' is not a record id"),
                    ));
                }
            },
        };
        let order = order(param(&pairs, "orderby").unwrap_or(""))?;
        let query = ListQuery {
            conditions: condition(&pairs, "conditions", "conditions")?,
            child_conditions: condition(&pairs, "childConditions", "childconditions")?,
            fields: fields(&pairs)?,
            base_url: format!("{}{path}", request_origin(headers, origin)),
            pairs,
            order,
            page,
            page_size,
            page_id,
            forward_only,
        };
        if forward_only && (!query.by_id() || query.descending_ids()) {
            return Err(CwError::bad_param(
                "orderBy",
                "forward-only pagination always orders by id asc",
            ));
        }
        Ok(query)
    }

    /// The URL of another page: every original parameter kept, `page`/`pageId` replaced by `param=value`.
    pub(crate) fn link(&self, param: &str, value: impl std::fmt::Display) -> String {
        let mut parts = Vec::with_capacity(self.pairs.len() + 1);
        let mut placed = false;
        for p in &self.pairs {
            if p.key == "page" || p.key == "pageid" {
                if !placed {
                    parts.push(format!("{param}={value}"));
                    placed = true;
                }
            } else {
                parts.push(p.raw.clone());
            }
        }
        if !placed {
            parts.push(format!("{param}={value}"));
        }
        format!("{}?{}", self.base_url, parts.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::header::HOST;

    use super::*;

    fn q(query: &str, forward_only: bool) -> Result<ListQuery, String> {
        let mut h = HeaderMap::new();
        h.insert(HOST, "127.0.0.1:9".parse().unwrap());
        if forward_only {
            h.insert("pagination-type", "forward-only".parse().unwrap());
        }
        ListQuery::parse(Some(query), "/cb/apis/3.0/x", &h, "http://o").map_err(|e| e.message)
    }

    #[test]
    fn reads_paging_with_defaults_and_clamping() {
        let d = q("", false).unwrap();
        assert_eq!((d.page, d.page_size, d.forward_only), (1, 25, false));
        let l = q("PAGE=3&pageSize=5000", false).unwrap();
        assert_eq!((l.page, l.page_size), (3, 1000));
        let f = q("pageId=77&pageSize=10", true).unwrap();
        assert_eq!(
            (f.page_id, f.page_size, f.forward_only),
            (Some(77), 10, true)
        );
    }

    #[test]
    fn rejects_bad_values_quoting_them() {
        assert_eq!(
            q("page=abc", false).unwrap_err(),
            "page: 'abc' is not a whole number"
        );
        assert_eq!(
            q("page=0", false).unwrap_err(),
            "page: '0' must be 1 or more"
        );
        assert_eq!(
            q("pageSize=-5", false).unwrap_err(),
            "pageSize: '-5' must be 1 or more"
        );
        assert_eq!(
            q("pageId=5", false).unwrap_err(),
            "pageId: needs the request header 'pagination-type: forward-only'"
        );
        assert_eq!(
            q("pageId=x", true).unwrap_err(),
            "pageId: 'x' is not a record id"
        );
        assert_eq!(
            q("orderBy=name%20up", false).unwrap_err(),
            "orderBy: 'up' is not a direction; use asc or desc"
        );
        assert_eq!(
            q("orderBy=name", true).unwrap_err(),
            "orderBy: forward-only pagination always orders by id asc"
        );
        assert_eq!(
            q("conditions=name%20%3D", false).unwrap_err(),
            "conditions: expected a value after 'name =' but found the end"
        );
        assert_eq!(
            q("fields=a,b//c", false).unwrap_err(),
            "fields: 'b//c' is not a field name"
        );
    }

    #[test]
    fn links_keep_every_parameter_verbatim() {
        let l = q(
            "conditions=name+like+%22A*%22&pageSize=2&page=1&orderBy=id%20desc",
            false,
        )
        .unwrap();
        assert_eq!(
            l.link("page", 2),
            "http://127.0.0.1:9/cb/apis/3.0/x?conditions=name+like+%22A*%22&pageSize=2&page=2&orderBy=id%20desc"
        );
        let f = q("pageSize=2", true).unwrap();
        assert_eq!(
            f.link("pageId", 10),
            "http://127.0.0.1:9/cb/apis/3.0/x?pageSize=2&pageId=10"
        );
        assert!(matches!(l.conditions, Some(Expr::Cmp(_))));
        assert!(l.descending_ids());
    }
}
