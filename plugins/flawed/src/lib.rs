//! A deliberately small ConnectWise Manage connector (companies only) whose setting `defect`
//! switches on one classic connector bug, so that `psahost plugin check` can be shown to catch
//! each of them:
//!
//! - `none`: behaves (the suite must pass it);
//! - `skip-page`: silently drops every second page when following `Link` headers;
//! - `ignore-updated-since`: never sends the `lastUpdated` condition, so incremental reads
//!   return everything;
//! - `wrong-error-kind`: reports refused credentials as a generic `remote` error instead of
//!   `unauthorized` naming the setting.

use psa_sdk::http::{Request, Response, link_next, query_param};
use psa_sdk::prelude::*;
use serde_json::Value;

struct Flawed;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Defect {
    None,
    SkipPage,
    IgnoreUpdatedSince,
    WrongErrorKind,
}

fn defect() -> Result<Defect> {
    match settings::get_or("defect", "none").as_str() {
        "none" => Ok(Defect::None),
        "skip-page" => Ok(Defect::SkipPage),
        "ignore-updated-since" => Ok(Defect::IgnoreUpdatedSince),
        "wrong-error-kind" => Ok(Defect::WrongErrorKind),
        other => Err(Error::invalid(
            "defect",
            format!(
                "`{other}` is not one of none, skip-page, ignore-updated-since, wrong-error-kind"
            ),
        )),
    }
}

struct Api {
    base: String,
    company_id: String,
    public_key: String,
    private_key: String,
    client_id: String,
}

impl Api {
    fn connect() -> Result<Api> {
        let site = settings::require("site")?;
        let origin = if site.contains("://") {
            site
        } else {
            format!("https://{site}")
        };
        let company_id = settings::require("company-id")?;
        let info = Request::get(format!("{origin}/login/companyinfo/{company_id}")).send()?;
        if info.status == 404 {
            return Err(Error::unauthorized(
                "company-id",
                format!("company `{company_id}` was not found"),
            ));
        }
        let info: Value = check(info)?.json()?;
        let codebase = info["Codebase"].as_str().unwrap_or("v4_6_release/");
        Ok(Api {
            base: format!("{origin}/{codebase}apis/3.0/"),
            company_id,
            public_key: settings::require("public-key")?,
            private_key: settings::require("private-key")?,
            client_id: settings::require("client-id")?,
        })
    }

    fn get(&self, url: &str) -> Result<Response> {
        let user = format!("{}+{}", self.company_id, self.public_key);
        check(
            Request::get(url)
                .basic_auth(&user, &self.private_key)
                .header("clientId", &self.client_id)
                .header("accept", "application/json")
                .send()?,
        )
    }
}

fn check(response: Response) -> Result<Response> {
    let message = || {
        serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| response.text())
    };
    match response.status {
        200..=299 => Ok(response),
        401 if defect()? == Defect::WrongErrorKind => Err(Error::remote(401, None, message())),
        401 => Err(Error::unauthorized("private-key", message())),
        403 => Err(Error::forbidden("security role", message())),
        404 => Err(Error::not_found(message())),
        429 => Err(Error::rate_limited(response.retry_after_ms(), message())),
        500..=599 => Err(Error::unavailable(message())),
        s => Err(Error::remote(s, None, message())),
    }
}

fn company(c: &Value) -> Company {
    let text = |v: &Value| v.as_str().map(str::to_string);
    Company {
        id: c["id"].to_string(),
        name: c["name"].as_str().unwrap_or_default().to_string(),
        identifier: text(&c["identifier"]),
        status: c["status"]["id"]
            .as_u64()
            .map(|id| EntityRef::new(id.to_string(), text(&c["status"]["name"]))),
        active: c["status"]["name"].as_str() == Some("Active"),
        types: vec![],
        phone: text(&c["phoneNumber"]),
        website: text(&c["website"]),
        address: None,
        parent_id: None,
        classification: None,
        market_segment: None,
        sites: vec![],
        updated_at: text(&c["_info"]["lastUpdated"]),
        raw: c.to_string(),
    }
}

impl Connector for Flawed {
    fn describe() -> ConnectorInfo {
        ConnectorInfo {
            id: "flawed".into(),
            name: "Flawed ConnectWise connector".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            vendor: "psahost tests".into(),
            description: "Companies from ConnectWise, with one switchable defect".into(),
            settings: vec![
                setting("site", "Site", "ConnectWise API host or origin").required(),
                setting("company-id", "Company id", "The login company").required(),
                setting("public-key", "Public key", "API key, public half").required(),
                setting("private-key", "Private key", "API key, private half")
                    .required()
                    .secret(),
                setting(
                    "client-id",
                    "Client id",
                    "developer.connectwise.com client id",
                )
                .required(),
                setting(
                    "defect",
                    "Defect",
                    "none, skip-page, ignore-updated-since or wrong-error-kind",
                )
                .default_value("none"),
            ],
            outbound_hosts: vec!["{site}".into()],
            operations: vec![
                Operation::TestConnection,
                Operation::ListCompanies,
                Operation::GetCompany,
            ],
            rate_limits: vec![],
            // Declared like the real connector: the `ignore-updated-since` defect must be
            // caught by the conformance suite, not excused by the description.
            paging: vec![PagingSpec::new(Entity::Companies, 1000, true)],
            datasets: vec![],
            read_only_configuration_types: vec![],
        }
    }

    fn test_connection() -> Result<ConnectionReport> {
        defect()?;
        let api = Api::connect()?;
        api.get(&format!("{}company/companies?pageSize=1", api.base))?;
        Ok(ConnectionReport {
            message: "connected".into(),
            details: "{}".into(),
        })
    }

    fn list_companies(page: PageRequest) -> Result<CompanyPage> {
        let defect = defect()?;
        let api = Api::connect()?;
        let url = match page.cursor {
            Some(cursor) => format!("{}{cursor}", api.base),
            None => {
                let mut conditions = "deletedFlag = false".to_string();
                if let Some(since) = page
                    .updated_since
                    .filter(|_| defect != Defect::IgnoreUpdatedSince)
                {
                    conditions.push_str(&format!(" and lastUpdated >= [{since}]"));
                }
                Request::get(format!("{}company/companies", api.base))
                    .query("conditions", conditions)
                    .query("orderBy", "id asc")
                    .query("pageSize", page.page_size.clamp(1, 1000).to_string())
                    .query("page", "1")
                    .url()
            }
        };
        let response = api.get(&url)?;
        let records: Vec<Value> = response.json()?;
        let next = response.header("link").and_then(link_next);
        let next_cursor = next.map(|next| {
            let relative = next.strip_prefix(&api.base).unwrap_or(&next).to_string();
            if defect == Defect::SkipPage {
                let page: u32 = query_param(&relative, "page")
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(2);
                relative.replace(&format!("page={page}"), &format!("page={}", page + 1))
            } else {
                relative
            }
        });
        Ok(CompanyPage {
            items: records.iter().map(company).collect(),
            next_cursor,
            total: None,
        })
    }

    fn get_company(id: String) -> Result<Company> {
        defect()?;
        let api = Api::connect()?;
        let record: Value = api
            .get(&format!("{}company/companies/{id}", api.base))?
            .json()?;
        Ok(company(&record))
    }
}

psa_sdk::export_connector!(Flawed);
