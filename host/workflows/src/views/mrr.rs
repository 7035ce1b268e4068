//! Monthly recurring revenue (MRR) per company, computed from agreements on a given day.
//!
//! The rules (also in `docs/mrr.md`):
//! 1. An agreement counts only when it is **active on the day**: not `cancelled`, its
//!    `start-date` is on or before the day (no start date: started), and its `end-date` is on or
//!    after the day (no end date: open-ended). The status text is not interpreted; connectors
//!    map a cancelled status to `cancelled`.
//! 2. It counts only when it is **recurring** (Autotask: a recurring service contract).
//! 3. With lines, only **billable** lines count, and only lines in effect on the day: no
//!    `effective-date` or one on or before the day, and no `cancelled-date` or one after the day.
//!    A line's amount per cycle is `quantity x unit-price`.
//! 4. Without lines, the agreement's `bill-amount` is its amount per cycle (none: 0, reported).
//! 5. An amount per cycle is **normalised to a month** by the line's own cycle, else the
//!    agreement's: monthly x1, quarterly /3, semi-annual /6, annual /12, one-time 0.
//!    A cycle of `other` cannot be normalised: the line (or the line-less agreement) is
//!    excluded and reported.
//! 6. Arithmetic is decimal (`rust_decimal`, 28 significant digits), never floating point.
//!    Line and agreement amounts are exact; a company's MRR is the exact sum of its agreements
//!    and the total the exact sum of all companies, each then rounded to cents, half away from
//!    zero. So `100.00` billed quarterly is `33.33` a month, and three such agreements are
//!    `100.00`, not `99.99`.
//!
//! Everything left out is listed in [`MrrReport::excluded`] with its reason, so a difference to
//! the PSA's own figure can be explained.

use crate::records::billing_cycle_name;
use psahost_sandbox::bindings::psa::connector::types::{Agreement, AgreementLine, BillingCycle};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use std::collections::BTreeMap;
use std::str::FromStr;
use time::Date;
use time::macros::format_description;

/// MRR of every company with at least one counted agreement on one day.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct MrrReport {
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// Companies by id (byte order).
    pub companies: Vec<CompanyMrr>,
    /// The sum over all companies, rounded to cents.
    pub total: Decimal,
    /// Agreements and lines left out, with why.
    pub excluded: Vec<Excluded>,
}

/// One company's MRR.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CompanyMrr {
    /// The company's id.
    pub company_id: String,
    /// The sum of its agreements, rounded to cents.
    pub mrr: Decimal,
    /// The agreements that counted.
    pub agreements: Vec<AgreementMrr>,
}

/// What one agreement contributes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AgreementMrr {
    /// The agreement's id.
    pub agreement_id: String,
    /// Its name.
    pub name: String,
    /// Its exact monthly amount.
    pub mrr: Decimal,
    /// Whether the amount comes from lines or from the bill amount.
    pub basis: Basis,
    /// The lines that counted (empty for [`Basis::BillAmount`]).
    pub lines: Vec<LineMrr>,
}

/// Where an agreement's amount comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// Its billable lines.
    Lines,
    /// Its bill amount (it has no lines).
    BillAmount,
}

/// What one line contributes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LineMrr {
    /// The line's id.
    pub line_id: String,
    /// The cycle used (the line's, else the agreement's).
    pub cycle: &'static str,
    /// `quantity x unit-price` per cycle.
    pub per_cycle: Decimal,
    /// The exact monthly amount.
    pub monthly: Decimal,
}

/// An agreement or line that did not count.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Excluded {
    /// The agreement.
    pub agreement_id: String,
    /// Its company.
    pub company_id: String,
    /// The line, when only a line is excluded.
    pub line_id: Option<String>,
    /// Why.
    pub reason: Exclusion,
}

/// Why something does not count toward MRR.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "reason")]
pub enum Exclusion {
    /// The agreement is cancelled.
    Cancelled,
    /// The agreement starts after the day.
    NotStarted {
        /// Its start date.
        start: String,
    },
    /// The agreement ended before the day.
    Ended {
        /// Its end date.
        end: String,
    },
    /// The agreement does not bill on a recurring cycle.
    NotRecurring,
    /// The line is not billed to the customer.
    NotBillable,
    /// The line takes effect after the day.
    NotYetEffective {
        /// Its effective date.
        effective: String,
    },
    /// The line was cancelled on or before the day.
    LineCancelled {
        /// Its cancelled date.
        cancelled: String,
    },
    /// The cycle is `other`: it cannot be normalised to a month.
    OtherCycle,
    /// The agreement has neither lines nor a bill amount.
    NoAmount,
    /// A field is not a valid decimal or date.
    Invalid {
        /// The WIT field name.
        field: String,
        /// Its value.
        value: String,
    },
}

/// Parses a `YYYY-MM-DD` day.
pub fn parse_day(s: &str) -> anyhow::Result<Date> {
    Date::parse(s, format_description!("[year]-[month]-[day]"))
        .map_err(|e| anyhow::anyhow!("`{s}` is not a date (YYYY-MM-DD): {e}"))
}

fn format_day(d: Date) -> String {
    d.format(format_description!("[year]-[month]-[day]"))
        .unwrap_or_else(|_| d.to_string())
}

/// The divisor that turns an amount per `cycle` into an amount per month; `None` for `other`,
/// `Some(None)` for one-time (counts 0).
fn months(cycle: BillingCycle) -> Option<Option<Decimal>> {
    match cycle {
        BillingCycle::Monthly => Some(Some(Decimal::ONE)),
        BillingCycle::Quarterly => Some(Some(Decimal::from(3))),
        BillingCycle::SemiAnnual => Some(Some(Decimal::from(6))),
        BillingCycle::Annual => Some(Some(Decimal::from(12))),
        BillingCycle::OneTime => Some(None),
        BillingCycle::Other => None,
    }
}

/// `per_cycle` as a monthly amount; `None` for the `other` cycle.
pub fn monthly(per_cycle: Decimal, cycle: BillingCycle) -> Option<Decimal> {
    months(cycle).map(|divisor| match divisor {
        Some(d) => per_cycle / d,
        None => Decimal::ZERO,
    })
}

fn round_cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Computes MRR per company on `day` from `agreements` (with their lines).
pub fn compute(agreements: &[Agreement], day: Date) -> MrrReport {
    let mut companies: BTreeMap<String, Vec<AgreementMrr>> = BTreeMap::new();
    let mut excluded = Vec::new();
    for a in agreements {
        let mut exclude = |line_id: Option<&str>, reason: Exclusion| {
            excluded.push(Excluded {
                agreement_id: a.id.clone(),
                company_id: a.company_id.clone(),
                line_id: line_id.map(str::to_string),
                reason,
            })
        };
        if let Some(reason) = agreement_inactive(a, day) {
            exclude(None, reason);
            continue;
        }
        if !a.recurring {
            exclude(None, Exclusion::NotRecurring);
            continue;
        }
        let counted = if a.lines.is_empty() {
            let Some(amount) = &a.bill_amount else {
                exclude(None, Exclusion::NoAmount);
                continue;
            };
            let Ok(per_cycle) = Decimal::from_str(amount.trim()) else {
                exclude(None, invalid("bill-amount", amount));
                continue;
            };
            let Some(mrr) = monthly(per_cycle, a.billing_cycle) else {
                exclude(None, Exclusion::OtherCycle);
                continue;
            };
            AgreementMrr {
                agreement_id: a.id.clone(),
                name: a.name.clone(),
                mrr,
                basis: Basis::BillAmount,
                lines: Vec::new(),
            }
        } else {
            let mut lines = Vec::new();
            for l in &a.lines {
                match line_mrr(l, a.billing_cycle, day) {
                    Ok(line) => lines.push(line),
                    Err(reason) => exclude(Some(&l.id), reason),
                }
            }
            AgreementMrr {
                agreement_id: a.id.clone(),
                name: a.name.clone(),
                mrr: lines.iter().map(|l| l.monthly).sum(),
                basis: Basis::Lines,
                lines,
            }
        };
        companies
            .entry(a.company_id.clone())
            .or_default()
            .push(counted);
    }
    let mut total = Decimal::ZERO;
    let companies = companies
        .into_iter()
        .map(|(company_id, agreements)| {
            let exact: Decimal = agreements.iter().map(|a| a.mrr).sum();
            total += exact;
            CompanyMrr {
                company_id,
                mrr: round_cents(exact),
                agreements,
            }
        })
        .collect();
    MrrReport {
        day: format_day(day),
        companies,
        total: round_cents(total),
        excluded,
    }
}

fn invalid(field: &str, value: &str) -> Exclusion {
    Exclusion::Invalid {
        field: field.into(),
        value: value.into(),
    }
}

/// Why the agreement is not active on `day`, if it is not.
fn agreement_inactive(a: &Agreement, day: Date) -> Option<Exclusion> {
    if a.cancelled {
        return Some(Exclusion::Cancelled);
    }
    if let Some(start) = &a.start_date {
        match parse_day(start) {
            Ok(s) if s > day => {
                return Some(Exclusion::NotStarted {
                    start: start.clone(),
                });
            }
            Ok(_) => {}
            Err(_) => return Some(invalid("start-date", start)),
        }
    }
    if let Some(end) = &a.end_date {
        match parse_day(end) {
            Ok(e) if e < day => return Some(Exclusion::Ended { end: end.clone() }),
            Ok(_) => {}
            Err(_) => return Some(invalid("end-date", end)),
        }
    }
    None
}

fn line_mrr(l: &AgreementLine, default: BillingCycle, day: Date) -> Result<LineMrr, Exclusion> {
    if !l.billable {
        return Err(Exclusion::NotBillable);
    }
    if let Some(effective) = &l.effective_date {
        match parse_day(effective) {
            Ok(e) if e > day => {
                return Err(Exclusion::NotYetEffective {
                    effective: effective.clone(),
                });
            }
            Ok(_) => {}
            Err(_) => return Err(invalid("effective-date", effective)),
        }
    }
    if let Some(cancelled) = &l.cancelled_date {
        match parse_day(cancelled) {
            Ok(c) if c <= day => {
                return Err(Exclusion::LineCancelled {
                    cancelled: cancelled.clone(),
                });
            }
            Ok(_) => {}
            Err(_) => return Err(invalid("cancelled-date", cancelled)),
        }
    }
    let quantity =
        Decimal::from_str(l.quantity.trim()).map_err(|_| invalid("quantity", &l.quantity))?;
    let price =
        Decimal::from_str(l.unit_price.trim()).map_err(|_| invalid("unit-price", &l.unit_price))?;
    let per_cycle = quantity
        .checked_mul(price)
        .ok_or_else(|| invalid("quantity", &l.quantity))?;
    let cycle = l.billing_cycle.unwrap_or(default);
    let monthly = monthly(per_cycle, cycle).ok_or(Exclusion::OtherCycle)?;
    Ok(LineMrr {
        line_id: l.id.clone(),
        cycle: billing_cycle_name(cycle),
        per_cycle,
        monthly,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn line(id: &str, qty: &str, price: &str, cycle: Option<BillingCycle>) -> AgreementLine {
        AgreementLine {
            id: id.into(),
            product: None,
            description: None,
            quantity: qty.into(),
            unit_price: price.into(),
            billable: true,
            billing_cycle: cycle,
            effective_date: None,
            cancelled_date: None,
            raw: "{}".into(),
        }
    }

    fn agreement(
        id: &str,
        company: &str,
        cycle: BillingCycle,
        lines: Vec<AgreementLine>,
    ) -> Agreement {
        Agreement {
            id: id.into(),
            company_id: company.into(),
            name: format!("agreement {id}"),
            agreement_type: None,
            status: Some("Active".into()),
            start_date: Some("2026-01-01".into()),
            end_date: None,
            recurring: true,
            cancelled: false,
            billing_cycle: cycle,
            bill_amount: None,
            lines,
            updated_at: None,
            raw: "{}".into(),
        }
    }

    fn day() -> Date {
        parse_day("2026-03-15").unwrap()
    }

    fn company<'a>(r: &'a MrrReport, id: &str) -> &'a CompanyMrr {
        r.companies.iter().find(|c| c.company_id == id).unwrap()
    }

    #[test]
    fn lines_are_normalised_per_month() {
        use BillingCycle::*;
        // Company 1, one monthly agreement:
        //   line a: 10 seats x 25.00 monthly             = 250.00 / 1  = 250.00
        //   line b: 1 x 1200.00 annual (line's own cycle)  = 1200.00 / 12 = 100.00
        //   line c: 2 x 150.00 quarterly                   = 300.00 / 3  = 100.00
        //   line d: 1 x 600.00 semi-annual                 = 600.00 / 6  = 100.00
        //   line e: 1 x 500.00 one-time                    = 0
        //   total 250 + 100 + 100 + 100 + 0                = 550.00
        let a1 = agreement(
            "1",
            "c1",
            Monthly,
            vec![
                line("a", "10", "25.00", None),
                line("b", "1", "1200.00", Some(Annual)),
                line("c", "2", "150.00", Some(Quarterly)),
                line("d", "1", "600.00", Some(SemiAnnual)),
                line("e", "1", "500.00", Some(OneTime)),
            ],
        );
        // Company 2, a quarterly agreement whose lines inherit its cycle:
        //   line x: 3 x 33.33 = 99.99 / 3 = 33.33
        //   line y: 0.5 x 10.01 = 5.005 / 3 = 1.668333...
        //   exact 33.33 + 1.668333... = 34.998333..., rounded to cents = 35.00
        let a2 = agreement(
            "2",
            "c2",
            Quarterly,
            vec![
                line("x", "3", "33.33", None),
                line("y", "0.5", "10.01", None),
            ],
        );
        let r = compute(&[a1, a2], day());
        assert_eq!(company(&r, "c1").mrr, d("550.00"));
        let a = &company(&r, "c1").agreements[0];
        assert_eq!(a.basis, Basis::Lines);
        let monthly: Vec<Decimal> = a.lines.iter().map(|l| l.monthly).collect();
        assert_eq!(
            monthly,
            vec![d("250"), d("100"), d("100"), d("100"), d("0")]
        );
        assert_eq!(a.lines[2].cycle, "quarterly");
        assert_eq!(company(&r, "c2").mrr, d("35.00"));
        // Total: 550 + 34.998333... = 584.998333... -> 585.00
        assert_eq!(r.total, d("585.00"));
        assert!(r.excluded.is_empty(), "{:?}", r.excluded);
    }

    #[test]
    fn sums_are_exact_before_rounding() {
        // Three agreements of 100.00 billed quarterly without lines (bill-amount):
        //   each 100.00 / 3 = 33.333...; the company's exact sum is 99.999...9 -> 100.00,
        //   not 3 x 33.33 = 99.99.
        let make = |id: &str| Agreement {
            bill_amount: Some("100.00".into()),
            ..agreement(id, "c1", BillingCycle::Quarterly, vec![])
        };
        let r = compute(&[make("1"), make("2"), make("3")], day());
        assert_eq!(company(&r, "c1").mrr, d("100.00"));
        assert_eq!(company(&r, "c1").agreements[0].basis, Basis::BillAmount);
        assert_eq!(r.total, d("100.00"));
        // Midpoint rounds away from zero: 0.125 monthly -> 0.13 (bill 1.50 annual = 0.125).
        let r = compute(
            &[Agreement {
                bill_amount: Some("1.50".into()),
                ..agreement("4", "c2", BillingCycle::Annual, vec![])
            }],
            day(),
        );
        assert_eq!(r.total, d("0.13"));
    }

    #[test]
    fn only_active_recurring_agreements_count() {
        use BillingCycle::Monthly;
        let one = || vec![line("l", "1", "100", None)];
        let base = |id: &str| agreement(id, "c1", Monthly, one());
        let agreements = vec![
            // counts: started on the day, ends on the day                    = 100
            Agreement {
                start_date: Some("2026-03-15".into()),
                end_date: Some("2026-03-15".into()),
                ..base("on-the-day")
            },
            // no start and no end date: counts                               = 100
            Agreement {
                start_date: None,
                ..base("open")
            },
            Agreement {
                cancelled: true,
                ..base("cancelled")
            },
            Agreement {
                start_date: Some("2026-03-16".into()),
                ..base("future")
            },
            Agreement {
                end_date: Some("2026-03-14".into()),
                ..base("ended")
            },
            Agreement {
                recurring: false,
                ..base("one-off")
            },
            Agreement {
                start_date: Some("15/03/2026".into()),
                ..base("bad-date")
            },
        ];
        let r = compute(&agreements, day());
        // 100 + 100 = 200.00
        assert_eq!(r.total, d("200.00"));
        let reasons: Vec<(&str, &Exclusion)> = r
            .excluded
            .iter()
            .map(|e| (e.agreement_id.as_str(), &e.reason))
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("cancelled", &Exclusion::Cancelled),
                (
                    "future",
                    &Exclusion::NotStarted {
                        start: "2026-03-16".into()
                    }
                ),
                (
                    "ended",
                    &Exclusion::Ended {
                        end: "2026-03-14".into()
                    }
                ),
                ("one-off", &Exclusion::NotRecurring),
                (
                    "bad-date",
                    &Exclusion::Invalid {
                        field: "start-date".into(),
                        value: "15/03/2026".into()
                    }
                ),
            ]
        );
    }

    #[test]
    fn line_rules_and_other_cycle_are_reported() {
        use BillingCycle::*;
        // Counted: only line "ok": 4 x 12.50 monthly = 50.00.
        //   "free" is not billable, "later" starts 2026-04-01, "gone" was cancelled on the day,
        //   "odd" has the `other` cycle, "nan" has a quantity that is not a number.
        //   "until-tomorrow" is cancelled 2026-03-16 (after the day): counts 2 x 5 = 10.00.
        let a = agreement(
            "1",
            "c1",
            Monthly,
            vec![
                line("ok", "4", "12.50", None),
                AgreementLine {
                    billable: false,
                    ..line("free", "1", "99", None)
                },
                AgreementLine {
                    effective_date: Some("2026-04-01".into()),
                    ..line("later", "1", "99", None)
                },
                AgreementLine {
                    cancelled_date: Some("2026-03-15".into()),
                    ..line("gone", "1", "99", None)
                },
                AgreementLine {
                    cancelled_date: Some("2026-03-16".into()),
                    ..line("until-tomorrow", "2", "5", None)
                },
                line("odd", "1", "99", Some(Other)),
                line("nan", "lots", "99", None),
            ],
        );
        // A line-less agreement with the `other` cycle and one without any amount: reported.
        let b = Agreement {
            bill_amount: Some("10".into()),
            ..agreement("2", "c1", Other, vec![])
        };
        let c = agreement("3", "c1", Monthly, vec![]);
        let r = compute(&[a, b, c], day());
        // 50.00 + 10.00 = 60.00
        assert_eq!(company(&r, "c1").mrr, d("60.00"));
        let reasons: Vec<(Option<&str>, &Exclusion)> = r
            .excluded
            .iter()
            .map(|e| (e.line_id.as_deref(), &e.reason))
            .collect();
        assert_eq!(
            reasons,
            vec![
                (Some("free"), &Exclusion::NotBillable),
                (
                    Some("later"),
                    &Exclusion::NotYetEffective {
                        effective: "2026-04-01".into()
                    }
                ),
                (
                    Some("gone"),
                    &Exclusion::LineCancelled {
                        cancelled: "2026-03-15".into()
                    }
                ),
                (Some("odd"), &Exclusion::OtherCycle),
                (
                    Some("nan"),
                    &Exclusion::Invalid {
                        field: "quantity".into(),
                        value: "lots".into()
                    }
                ),
                (None, &Exclusion::OtherCycle),
                (None, &Exclusion::NoAmount),
            ]
        );
    }

    #[test]
    fn negative_and_fractional_amounts() {
        // A credit line: -1 x 30.00 monthly = -30.00; plus 1 x 100.00 annual = 8.333...
        // exact -21.666..., rounded half away from zero -> -21.67.
        let a = agreement(
            "1",
            "c1",
            BillingCycle::Monthly,
            vec![
                line("credit", "-1", "30.00", None),
                line("yearly", "1", "100.00", Some(BillingCycle::Annual)),
            ],
        );
        let r = compute(&[a], day());
        assert_eq!(r.total, d("-21.67"));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["total"], "-21.67");
        assert_eq!(json["day"], "2026-03-15");
    }
}
