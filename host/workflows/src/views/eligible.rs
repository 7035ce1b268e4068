//! Eligible companies: the audIT rule for which PSA companies a tool may create customers from.
//!
//! A company is eligible when it is **active** (the connector's `active`: in ConnectWise, not
//! deleted and a status that is not inactive) and has **at least one active contact**. Every
//! company gets a verdict; a non-eligible one gets the first reason that applies, in this order:
//! 1. [`Ineligible::Inactive`]: the company is not active;
//! 2. [`Ineligible::NoContact`]: no contact belongs to it;
//! 3. [`Ineligible::OnlyInactiveContacts`]: it has contacts, but none is active.

use psahost_sandbox::bindings::psa::connector::types::{Company, Contact};
use serde::Serialize;
use std::collections::HashMap;

/// Why a company is not eligible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ineligible {
    /// The company is not active in the PSA.
    Inactive,
    /// The company has no contact.
    NoContact,
    /// Every contact of the company is inactive.
    OnlyInactiveContacts,
}

impl Ineligible {
    /// A sentence for the operator.
    pub fn describe(self) -> &'static str {
        match self {
            Ineligible::Inactive => "the company is not active in the PSA",
            Ineligible::NoContact => "the company has no contact",
            Ineligible::OnlyInactiveContacts => "every contact of the company is inactive",
        }
    }
}

/// The verdict on one company.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Eligibility {
    /// The company's id.
    pub company_id: String,
    /// Its name.
    pub name: String,
    /// Whether it is eligible.
    pub eligible: bool,
    /// Why not, when it is not.
    pub reason: Option<Ineligible>,
    /// Its contacts.
    pub contacts: usize,
    /// Its active contacts.
    pub active_contacts: usize,
}

/// The verdict on every company, in the order given.
pub fn eligible_companies(companies: &[Company], contacts: &[Contact]) -> Vec<Eligibility> {
    // company id -> (contacts, active contacts)
    let mut counts: HashMap<&str, (usize, usize)> = HashMap::new();
    for c in contacts {
        if let Some(company) = c.company_id.as_deref() {
            let entry = counts.entry(company).or_default();
            entry.0 += 1;
            entry.1 += usize::from(c.active);
        }
    }
    companies
        .iter()
        .map(|company| {
            let (all, active) = counts.get(company.id.as_str()).copied().unwrap_or_default();
            let reason = if !company.active {
                Some(Ineligible::Inactive)
            } else if all == 0 {
                Some(Ineligible::NoContact)
            } else if active == 0 {
                Some(Ineligible::OnlyInactiveContacts)
            } else {
                None
            };
            Eligibility {
                company_id: company.id.clone(),
                name: company.name.clone(),
                eligible: reason.is_none(),
                reason,
                contacts: all,
                active_contacts: active,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn company(id: &str, active: bool) -> Company {
        Company {
            id: id.into(),
            name: format!("Company {id}"),
            identifier: None,
            status: None,
            active,
            types: vec![],
            phone: None,
            website: None,
            address: None,
            parent_id: None,
            classification: None,
            market_segment: None,
            sites: vec![],
            updated_at: None,
            raw: "{}".into(),
        }
    }

    fn contact(id: &str, company: Option<&str>, active: bool) -> Contact {
        Contact {
            id: id.into(),
            company_id: company.map(Into::into),
            first_name: None,
            last_name: None,
            title: None,
            emails: vec![],
            phones: vec![],
            active,
            primary: false,
            updated_at: None,
            raw: "{}".into(),
        }
    }

    #[test]
    fn each_company_gets_a_verdict_and_a_reason() {
        let companies = [
            company("ok", true),
            company("mixed", true),
            company("inactive", false),
            company("lonely", true),
            company("stale", true),
        ];
        let contacts = [
            contact("1", Some("ok"), true),
            contact("2", Some("mixed"), false),
            contact("3", Some("mixed"), true),
            // An inactive company with an active contact is still not eligible.
            contact("4", Some("inactive"), true),
            contact("5", Some("stale"), false),
            contact("6", Some("stale"), false),
            // A contact without a company counts for nobody.
            contact("7", None, true),
        ];
        let verdicts = eligible_companies(&companies, &contacts);
        let summary: Vec<(&str, bool, Option<Ineligible>, usize, usize)> = verdicts
            .iter()
            .map(|v| {
                (
                    v.company_id.as_str(),
                    v.eligible,
                    v.reason,
                    v.contacts,
                    v.active_contacts,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("ok", true, None, 1, 1),
                ("mixed", true, None, 2, 1),
                ("inactive", false, Some(Ineligible::Inactive), 1, 1),
                ("lonely", false, Some(Ineligible::NoContact), 0, 0),
                ("stale", false, Some(Ineligible::OnlyInactiveContacts), 2, 0),
            ]
        );
        let json = serde_json::to_value(&verdicts[4]).unwrap();
        assert_eq!(json["reason"], "only-inactive-contacts");
        assert_eq!(json["active-contacts"], 0);
    }
}
