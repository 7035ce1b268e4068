//! Linking the tool's customers to PSA companies (audIT): per customer the matched company with
//! the score and the evidence, the ambiguous candidates with theirs, or none, each with the
//! company's eligibility; accepted (matched) links stored, listed and removed.
//!
//! The candidates are the connection's synced companies, each with the e-mails, e-mail domains
//! and phones of its contacts, so a renamed company is still found through a contact's e-mail.
//! The default rule set ([`DEFAULT_RULES`]) decides by, in priority order: a contact's e-mail,
//! the company name without legal forms, the company domain (website or contacts' e-mails,
//! free-mail never), a phone, and a similar name.

use super::kept::CompanyIndexes;
use super::{Matcher, SubjectRecord};
use crate::views::eligible::Ineligible;
use anyhow::{Context, bail};
use psahost_matching::rules::{Evidence, Fields, Found, Outcome, RuleSet, Subject};
use psahost_store::{Entity, RecordStore};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The store's kind of customer links.
pub const LINK_KIND: &str = "customers";

/// The most customers one request links.
pub const MAX_CUSTOMERS: usize = 100_000;

/// The longest line of JSON-lines input (one customer), in bytes.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// The most e-mails or phones one customer lists.
pub const MAX_VALUES: usize = 50;

/// The longest text of one field, in bytes.
pub const MAX_TEXT_BYTES: usize = 1024;

/// The most candidates an ambiguous result lists (the total is given beside).
pub const MAX_SHOWN_CANDIDATES: usize = 20;

/// The rule set customers are linked by unless the operator gives one.
pub const DEFAULT_RULES: &str = r#"
[[identifier]]
name = "email"
subject = "email"
candidate = "email"
compare = "email"

[[identifier]]
name = "name"
subject = "name"
candidate = "name"
compare = "company-name"

[[identifier]]
name = "domain"
subject = "domain"
candidate = "domain"
compare = "domain"

[[identifier]]
name = "phone"
subject = "phone"
candidate = "phone"
compare = "phone"

[[identifier]]
name = "similar-name"
subject = "name"
candidate = "name"
compare = "similar"
threshold = 0.93
"#;

/// The default rule set ([`DEFAULT_RULES`]).
pub fn default_rules() -> RuleSet {
    RuleSet::from_toml(DEFAULT_RULES, Path::new("<built-in customer rules>"))
        .expect("the built-in customer rules are valid")
}

/// One of the tool's customers, validated.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Customer {
    /// The tool's id.
    pub id: String,
    /// Its name.
    pub name: Option<String>,
    /// Its e-mail addresses.
    pub emails: Vec<String>,
    /// Its phone numbers.
    pub phones: Vec<String>,
    /// Its domain (`acme.example`) or website.
    pub domain: Option<String>,
    /// Its address, one line.
    pub address: Option<String>,
}

/// A customer as the tool sends it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCustomer {
    id: Value,
    name: Option<String>,
    #[serde(default)]
    emails: Vec<String>,
    #[serde(default)]
    phones: Vec<String>,
    domain: Option<String>,
    address: Option<Value>,
}

impl RawCustomer {
    fn validate(self) -> anyhow::Result<Customer> {
        let id = match self.id {
            Value::String(s) if !s.trim().is_empty() => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            other => bail!("`id` must be a non-empty string or a number, not `{other}`"),
        };
        let text = |field: &str, v: Option<String>| -> anyhow::Result<Option<String>> {
            match v {
                Some(s) if s.len() > MAX_TEXT_BYTES => {
                    bail!("`{field}` is {} bytes, over {MAX_TEXT_BYTES}", s.len())
                }
                Some(s) if s.trim().is_empty() => Ok(None),
                other => Ok(other),
            }
        };
        let list = |field: &str, v: Vec<String>| -> anyhow::Result<Vec<String>> {
            if v.len() > MAX_VALUES {
                bail!("`{field}` lists {} values, over {MAX_VALUES}", v.len());
            }
            if let Some(long) = v.iter().find(|s| s.len() > MAX_TEXT_BYTES) {
                bail!(
                    "a value of `{field}` is {} bytes, over {MAX_TEXT_BYTES}",
                    long.len()
                );
            }
            Ok(v)
        };
        if id.len() > MAX_TEXT_BYTES {
            bail!("`id` is {} bytes, over {MAX_TEXT_BYTES}", id.len());
        }
        // The id keys the stored link (and appears in paths and terminals): no controls.
        if id.chars().any(char::is_control) {
            bail!(
                "`id` `{}` holds a control character: use printable ids",
                id.escape_debug()
            );
        }
        let address = match self.address {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s),
            // A structured address as its text values joined (in key order): only compared as text.
            Some(Value::Object(parts)) => Some(
                parts
                    .values()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Some(other) => bail!("`address` must be a string or an object, not `{other}`"),
        };
        Ok(Customer {
            name: text("name", self.name)?,
            emails: list("emails", self.emails)?,
            phones: list("phones", self.phones)?,
            domain: text("domain", self.domain)?,
            address: text("address", address)?,
            id,
        })
    }
}

/// Customers from a JSON array or JSON lines (one object a line; blank lines skipped). Errors
/// name the customer's position (or line) and say what is wrong; ids must be unique.
pub fn parse_customers(text: &str) -> anyhow::Result<Vec<Customer>> {
    let raw: Vec<(String, RawCustomer)> = crate::input::read(
        text,
        &crate::input::Records {
            noun: "customer",
            plural: "customers",
            max: MAX_CUSTOMERS,
            max_line_bytes: MAX_LINE_BYTES,
            fields: "id, name, emails, phones, domain, address",
        },
    )?;
    let mut seen = HashSet::new();
    raw.into_iter()
        .map(|(at, c)| {
            let c = c.validate().with_context(|| at.clone())?;
            if !seen.insert(c.id.clone()) {
                bail!(
                    "{at}: customer id `{}` appears twice: ids must be unique",
                    c.id
                );
            }
            Ok(c)
        })
        .collect()
}

/// One field pair that agreed, in the customer's terms.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Agreed {
    /// The identifier (or custom rule) it came from.
    pub identifier: String,
    /// The customer's value.
    pub customer_value: String,
    /// The company's value (its own, or one of its contacts').
    pub company_value: String,
    /// How well they agreed, 0 to 1.
    pub score: f64,
    /// A custom rule's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A PSA company a customer matched or may match.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CompanyMatch {
    /// The PSA company's id.
    pub company_id: String,
    /// Its name.
    pub name: String,
    /// The deciding identifier's score, 0 to 1.
    pub score: f64,
    /// Everything that agreed.
    pub evidence: Vec<Agreed>,
    /// Whether a tool may import it (active, with an active contact).
    pub eligible: bool,
    /// Why not, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ineligible: Option<Ineligible>,
}

/// What became of one customer.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CustomerLink {
    /// The tool's id.
    pub customer_id: String,
    /// `matched`, `ambiguous`, `none` or `error`.
    pub outcome: &'static str,
    /// The identifier (or custom rule) that decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// The matched company.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<CompanyMatch>,
    /// The ambiguous candidates, best first (at most [`MAX_SHOWN_CANDIDATES`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<CompanyMatch>,
    /// How many candidates there were in all, when ambiguous.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidates_total: Option<usize>,
    /// Why the customer could not be decided (a custom rule failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether the link was stored (a match, without a dry run).
    pub stored: bool,
}

/// The answer of one linking request.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LinkReport {
    /// Nothing was stored.
    pub dry_run: bool,
    /// Customers matched to one company.
    pub matched: usize,
    /// Customers with several candidates.
    pub ambiguous: usize,
    /// Customers with none.
    pub none: usize,
    /// Customers a custom rule failed on.
    pub errors: usize,
    /// Per customer, in the order given.
    pub customers: Vec<CustomerLink>,
}

/// A stored link, as listed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct StoredLink {
    /// The tool's id.
    pub customer_id: String,
    /// The PSA company's id.
    pub company_id: String,
    /// The company's name when the link was made.
    pub company_name: String,
    /// The identifier (or custom rule) that decided.
    pub decided_by: String,
    /// The deciding score, 0 to 1.
    pub score: f64,
    /// When (RFC 3339).
    pub linked_at: String,
    /// `linked`, or `company-deleted` when the company is no longer in the store (deleted or
    /// merged in the PSA); filled in when listed.
    #[serde(default)]
    pub status: String,
}

/// The customer as the engine's subject and a custom rule's.
fn subject(customer: &Customer) -> SubjectRecord {
    let mut fields = Fields::new();
    let mut add = |field: &str, value: &str| {
        fields
            .entry(field.to_string())
            .or_default()
            .push(value.to_string());
    };
    if let Some(name) = &customer.name {
        add("name", name);
    }
    for email in &customer.emails {
        add("email", email);
        add("domain", email);
    }
    if let Some(domain) = &customer.domain {
        add("domain", domain);
    }
    for phone in &customer.phones {
        add("phone", phone);
    }
    if let Some(address) = &customer.address {
        add("address", address);
    }
    SubjectRecord {
        subject: Subject {
            id: customer.id.clone(),
            fields,
            company: None,
            kind: None,
        },
        kind: "customer".into(),
        raw: serde_json::to_string(customer).unwrap_or_else(|_| "{}".into()),
    }
}

/// Links `customers` to the companies of `connection` in `store` by `matcher`; unless
/// `dry_run`, stores each matched customer's link (replacing an earlier one). The companies
/// are loaded and indexed for this request alone: [`link_customers_kept`] keeps them.
pub async fn link_customers(
    store: &dyn RecordStore,
    connection: &str,
    matcher: &Matcher,
    customers: &[Customer],
    dry_run: bool,
) -> anyhow::Result<LinkReport> {
    let indexes = CompanyIndexes::new(1);
    link_customers_kept(store, connection, matcher, &indexes, customers, dry_run).await
}

/// [`link_customers`] with the companies' index kept in `indexes` between requests: only the
/// companies changed since the last request (by the change feed) are indexed again.
pub async fn link_customers_kept(
    store: &dyn RecordStore,
    connection: &str,
    matcher: &Matcher,
    indexes: &CompanyIndexes,
    customers: &[Customer],
    dry_run: bool,
) -> anyhow::Result<LinkReport> {
    let kept = indexes
        .up_to_date(store, connection, matcher.rules())
        .await?;
    let companies = kept.as_ref().expect("an index up to date is there");
    let index = companies.index().view();
    let company = |found: Found| -> CompanyMatch {
        let (name, eligibility) = companies.company(&found.candidate).unwrap_or(("", None));
        CompanyMatch {
            name: name.to_string(),
            score: found.score,
            evidence: found.evidence.into_iter().map(agreed).collect(),
            eligible: eligibility.is_some_and(|e| e.eligible),
            ineligible: eligibility.and_then(|e| e.reason),
            company_id: found.candidate,
        }
    };
    let now = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    let mut report = LinkReport {
        dry_run,
        matched: 0,
        ambiguous: 0,
        none: 0,
        errors: 0,
        customers: Vec::with_capacity(customers.len()),
    };
    for customer in customers {
        let decided = matcher.decide(&index, companies, &subject(customer)).await;
        let mut link = CustomerLink {
            customer_id: customer.id.clone(),
            outcome: "none",
            decided_by: None,
            company: None,
            candidates: Vec::new(),
            candidates_total: None,
            error: None,
            stored: false,
        };
        match decided {
            Ok(Outcome::Matched { identifier, found }) => {
                report.matched += 1;
                let matched = company(found);
                if !dry_run {
                    let stored = StoredLink {
                        customer_id: customer.id.clone(),
                        company_id: matched.company_id.clone(),
                        company_name: matched.name.clone(),
                        decided_by: identifier.clone(),
                        score: matched.score,
                        linked_at: now.clone(),
                        status: String::new(),
                    };
                    store
                        .set_link(
                            connection,
                            LINK_KIND,
                            &customer.id,
                            Some(serde_json::to_value(&stored)?),
                        )
                        .await?;
                    link.stored = true;
                }
                link.outcome = "matched";
                link.decided_by = Some(identifier);
                link.company = Some(matched);
            }
            Ok(Outcome::Ambiguous { identifier, found }) => {
                report.ambiguous += 1;
                link.outcome = "ambiguous";
                link.decided_by = Some(identifier);
                link.candidates_total = Some(found.len());
                link.candidates = found
                    .into_iter()
                    .take(MAX_SHOWN_CANDIDATES)
                    .map(company)
                    .collect();
            }
            Ok(Outcome::None) => report.none += 1,
            Err(e) => {
                report.errors += 1;
                link.outcome = "error";
                link.error = Some(e.to_string());
            }
        }
        report.customers.push(link);
    }
    if !dry_run {
        store.flush().await?;
    }
    Ok(report)
}

fn agreed(e: Evidence) -> Agreed {
    Agreed {
        identifier: e.identifier,
        customer_value: e.subject_value,
        company_value: e.candidate_value,
        score: e.score,
        note: e.note,
    }
}

/// The stored links of `connection` by customer id, after `after`, at most `limit` (0: 100),
/// each with its status: `company-deleted` when its company is no longer in the store.
pub async fn list_links(
    store: &dyn RecordStore,
    connection: &str,
    after: Option<String>,
    limit: usize,
) -> anyhow::Result<Vec<StoredLink>> {
    let mut out = Vec::new();
    for (key, value) in store.links(connection, LINK_KIND, after, limit).await? {
        let mut link: StoredLink = serde_json::from_value(value)
            .with_context(|| format!("the stored link of customer `{key}` is damaged"))?;
        let present = store
            .get(connection, Entity::Companies, &link.company_id)
            .await?
            .is_some();
        link.status = if present { "linked" } else { "company-deleted" }.into();
        out.push(link);
    }
    Ok(out)
}

/// Removes the link of customer `customer_id`; false when it had none.
pub async fn remove_link(
    store: &dyn RecordStore,
    connection: &str,
    customer_id: &str,
) -> anyhow::Result<bool> {
    let removed = store
        .set_link(connection, LINK_KIND, customer_id, None)
        .await?;
    if removed {
        store.flush().await?;
    }
    Ok(removed)
}

/// What to say when customer `customer_id` has no link to remove.
pub fn no_link(connection: &str, customer_id: &str) -> String {
    format!(
        "customer `{customer_id}` has no link in connection `{connection}`: `psahost link list {connection}` shows the links"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_from_json_lines_or_an_array() {
        let lines = "{\"id\": \"c1\", \"name\": \"Acme Inc\", \"emails\": [\"a@acme.example\"]}\n\n{\"id\": 2, \"address\": {\"street\": \"1 Main St\", \"city\": \"Tampa\"}}\n";
        let got = parse_customers(lines).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].id, "2");
        assert_eq!(got[1].address.as_deref(), Some("Tampa, 1 Main St"));
        let array =
            "[{\"id\": \"c1\", \"phones\": [\"+1 555 0100\"], \"domain\": \"acme.example\"}]";
        assert_eq!(parse_customers(array).unwrap()[0].phones, ["+1 555 0100"]);
    }

    #[test]
    fn bad_customers_are_named() {
        let err = |text: &str| parse_customers(text).unwrap_err();
        let e = format!(
            "{:#}",
            err("{\"id\": \"c1\"}\n{\"id\": \"c2\", \"fax\": \"1\"}\n")
        );
        assert!(e.contains("line 2") && e.contains("fax"), "{e}");
        let e = format!("{:#}", err("{\"id\": \"c1\"}\n{\"id\": \"c1\"}\n"));
        assert!(
            e.contains("line 2") && e.contains("`c1` appears twice"),
            "{e}"
        );
        let e = format!("{:#}", err("[{\"id\": \"a\\u0000b\"}]"));
        assert!(
            e.contains("control character") && e.contains("a\\0b"),
            "{e}"
        );
        let e = format!("{:#}", err("[{\"id\": \"\"}]"));
        assert!(e.contains("customer 1") && e.contains("`id`"), "{e}");
        let long = format!(
            "{{\"id\": \"c\", \"name\": \"{}\"}}",
            "x".repeat(MAX_LINE_BYTES)
        );
        let e = format!("{:#}", err(&long));
        assert!(e.contains("line 1") && e.contains("over the 65536"), "{e}");
        let many = format!(
            "{{\"id\": \"c\", \"emails\": [{}]}}",
            vec!["\"a@b.example\""; MAX_VALUES + 1].join(",")
        );
        let e = format!("{:#}", err(&many));
        assert!(e.contains("`emails` lists 51 values"), "{e}");
    }

    #[test]
    fn the_default_rules_parse() {
        let rules = default_rules();
        let names: Vec<&str> = rules.identifiers.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["email", "name", "domain", "phone", "similar-name"]);
    }
}
