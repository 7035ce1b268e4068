//! The neutral record model: what a PSA holds, independent of any vendor's API shape.
//!
//! Dialects render these records in their vendor's JSON; references between records are ids
//! (into the same [`DataSet`](super::DataSet) or into its [`Picklists`](super::Picklists)).

use time::{Date, OffsetDateTime};

/// A record id. Every entity kind has its own id sequence.
pub type Id = u64;

/// Change-tracking information carried by every record.
#[derive(Clone, Debug, PartialEq)]
pub struct Info {
    /// When the record was last changed (whole seconds, UTC).
    pub last_updated: OffsetDateTime,
    /// Who changed it last (a member identifier).
    pub updated_by: String,
}

/// A customer, prospect, partner or vendor of the MSP.
#[derive(Clone, Debug, PartialEq)]
pub struct Company {
    /// Record id.
    pub id: Id,
    /// Short unique identifier without spaces (at most 25 characters).
    pub identifier: String,
    /// Display name.
    pub name: String,
    /// Company status (a [`CompanyStatus`](super::CompanyStatus) id).
    pub status_id: Id,
    /// Company types ([`CompanyType`](super::CompanyType) ids); vendors include the vendor type.
    pub type_ids: Vec<Id>,
    /// Main phone number (digits only).
    pub phone: String,
    /// Web site host name.
    pub website: String,
    /// First address line.
    pub address_line1: String,
    /// Second address line, if any.
    pub address_line2: Option<String>,
    /// City.
    pub city: String,
    /// State or region code.
    pub state: String,
    /// Postal code.
    pub zip: String,
    /// Country (a [`Country`](super::Country) id).
    pub country_id: Id,
    /// Deleted in the PSA (kept, but hidden from default listings).
    pub deleted: bool,
    /// The company's default contact, if it has one.
    pub default_contact_id: Option<Id>,
    /// When the company was entered.
    pub date_entered: OffsetDateTime,
    /// Change tracking.
    pub info: Info,
}

/// The kind of a contact communication item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommunicationKind {
    /// An email address.
    Email,
    /// A phone number.
    Phone,
    /// A fax number.
    Fax,
}

impl CommunicationKind {
    /// The kind's name as PSAs spell it ("Email", "Phone", "Fax").
    pub fn name(self) -> &'static str {
        match self {
            CommunicationKind::Email => "Email",
            CommunicationKind::Phone => "Phone",
            CommunicationKind::Fax => "Fax",
        }
    }
}

/// One email address or phone number of a contact.
#[derive(Clone, Debug, PartialEq)]
pub struct CommunicationItem {
    /// Item id (unique over all contacts).
    pub id: Id,
    /// Communication type (a [`CommunicationType`](super::CommunicationType) id: Email, Direct, Cell, Fax).
    pub type_id: Id,
    /// The address or number.
    pub value: String,
    /// The contact's default item of its kind.
    pub default_flag: bool,
}

/// A person at a company.
#[derive(Clone, Debug, PartialEq)]
pub struct Contact {
    /// Record id.
    pub id: Id,
    /// The company the contact belongs to.
    pub company_id: Id,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Job title, if known.
    pub title: Option<String>,
    /// No longer active.
    pub inactive: bool,
    /// The company's default contact.
    pub default_flag: bool,
    /// Emails and phone numbers (possibly none).
    pub communication_items: Vec<CommunicationItem>,
    /// Change tracking.
    pub info: Info,
}

impl Contact {
    /// "First Last".
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// How often an agreement bills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BillingCycle {
    /// Every month.
    Monthly,
    /// Every three months.
    Quarterly,
    /// Every six months.
    SemiAnnual,
    /// Every year.
    Annual,
    /// Once (no recurring revenue).
    OneTime,
}

impl BillingCycle {
    /// All cycles, in picklist order.
    pub const ALL: [BillingCycle; 5] = [
        BillingCycle::Monthly,
        BillingCycle::Quarterly,
        BillingCycle::SemiAnnual,
        BillingCycle::Annual,
        BillingCycle::OneTime,
    ];

    /// Months per billing period; `None` for one-time billing.
    pub fn months(self) -> Option<u32> {
        match self {
            BillingCycle::Monthly => Some(1),
            BillingCycle::Quarterly => Some(3),
            BillingCycle::SemiAnnual => Some(6),
            BillingCycle::Annual => Some(12),
            BillingCycle::OneTime => None,
        }
    }
}

/// The lifecycle state an agreement is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgreementStatus {
    /// Running (or signed with a start date in the future).
    Active,
    /// Cancelled before its end.
    Cancelled,
    /// Past its end date.
    Expired,
    /// Put on hold by the MSP.
    Inactive,
}

/// A contract with a customer; its billable lines are [`AgreementLine`]s.
#[derive(Clone, Debug, PartialEq)]
pub struct Agreement {
    /// Record id.
    pub id: Id,
    /// The customer.
    pub company_id: Id,
    /// Display name.
    pub name: String,
    /// Agreement type (an [`AgreementType`](super::AgreementType) id).
    pub type_id: Id,
    /// First day of the agreement.
    pub start_date: Date,
    /// Last day, or `None` when it has no end date.
    pub end_date: Option<Date>,
    /// When it was cancelled, if it was.
    pub cancelled_date: Option<Date>,
    /// How often it bills.
    pub billing_cycle: BillingCycle,
    /// Fixed amount billed each cycle on top of the lines, in cents.
    pub bill_amount_cents: i64,
    /// Lifecycle state.
    pub status: AgreementStatus,
    /// Change tracking.
    pub info: Info,
}

/// Whether a line is billed to the customer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BillCustomer {
    /// Billed each cycle.
    Billable,
    /// Not billed.
    DoNotBill,
    /// Shown on the invoice at no charge.
    NoCharge,
}

impl BillCustomer {
    /// The value as ConnectWise spells it.
    pub fn name(self) -> &'static str {
        match self {
            BillCustomer::Billable => "Billable",
            BillCustomer::DoNotBill => "DoNotBill",
            BillCustomer::NoCharge => "NoCharge",
        }
    }

    /// Parses "Billable", "DoNotBill" or "NoCharge" (case-insensitive).
    pub fn parse(value: &str) -> Option<BillCustomer> {
        [
            BillCustomer::Billable,
            BillCustomer::DoNotBill,
            BillCustomer::NoCharge,
        ]
        .into_iter()
        .find(|b| b.name().eq_ignore_ascii_case(value))
    }
}

/// A billable line of an agreement (ConnectWise "addition", Autotask "contract service").
#[derive(Clone, Debug, PartialEq)]
pub struct AgreementLine {
    /// Record id.
    pub id: Id,
    /// The agreement the line belongs to.
    pub agreement_id: Id,
    /// Catalog product (a [`Product`](super::Product) id).
    pub product_id: Id,
    /// Line description.
    pub description: String,
    /// Units billed per cycle (may be fractional).
    pub quantity: f64,
    /// Price per unit per cycle, in cents.
    pub unit_price_cents: i64,
    /// Cost per unit per cycle, in cents.
    pub unit_cost_cents: i64,
    /// Whether the customer is billed.
    pub bill_customer: BillCustomer,
    /// First day the line counts.
    pub effective_date: Date,
    /// When the line was cancelled, if it was.
    pub cancelled_date: Option<Date>,
    /// Change tracking.
    pub info: Info,
}

/// An answer to a configuration type question.
#[derive(Clone, Debug, PartialEq)]
pub struct QuestionAnswer {
    /// Question id (from the configuration type's questions).
    pub question_id: Id,
    /// The answer, if given.
    pub answer: Option<String>,
}

/// A configuration item: a device or service managed for a customer.
#[derive(Clone, Debug, PartialEq)]
pub struct Configuration {
    /// Record id.
    pub id: Id,
    /// The customer.
    pub company_id: Id,
    /// Name (usually the device name).
    pub name: String,
    /// Configuration type (a [`ConfigurationType`](super::ConfigurationType) id).
    pub type_id: Id,
    /// Configuration status (a [`ConfigurationStatus`](super::ConfigurationStatus) id).
    pub status_id: Id,
    /// Contact responsible, if any.
    pub contact_id: Option<Id>,
    /// Active flag (independent of the status, as in the PSAs).
    pub active: bool,
    /// Serial number.
    pub serial_number: Option<String>,
    /// Model number.
    pub model_number: Option<String>,
    /// Asset tag.
    pub tag_number: Option<String>,
    /// MAC address, in whatever format it was entered.
    pub mac_address: Option<String>,
    /// IP address.
    pub ip_address: Option<String>,
    /// Identifier given by a monitoring tool.
    pub device_identifier: Option<String>,
    /// Manufacturer (a [`Manufacturer`](super::Manufacturer) id).
    pub manufacturer_id: Option<Id>,
    /// Vendor (a [`Company`] id whose types include the vendor type).
    pub vendor_id: Option<Id>,
    /// Free-text notes (tools often put the host name here).
    pub notes: Option<String>,
    /// When it was installed.
    pub installation_date: Option<OffsetDateTime>,
    /// When its warranty ends.
    pub warranty_expiration: Option<OffsetDateTime>,
    /// Answers to the type's questions.
    pub questions: Vec<QuestionAnswer>,
    /// Change tracking.
    pub info: Info,
}

/// A service ticket.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    /// Record id.
    pub id: Id,
    /// One-line summary (at most 100 characters).
    pub summary: String,
    /// Service board (a [`Board`](super::Board) id).
    pub board_id: Id,
    /// Status on that board (a [`BoardStatus`](super::BoardStatus) id); closed statuses close the ticket.
    pub status_id: Id,
    /// Priority (a [`Priority`](super::Priority) id).
    pub priority_id: Id,
    /// The customer.
    pub company_id: Id,
    /// The contact, if any.
    pub contact_id: Option<Id>,
    /// Ticket type on the board, if set.
    pub type_id: Option<Id>,
    /// Ticket subtype on the board, if set.
    pub subtype_id: Option<Id>,
    /// Ticket item on the board, if set.
    pub item_id: Option<Id>,
    /// Source (a [`Source`](super::Source) id), if set.
    pub source_id: Option<Id>,
    /// The agreement the work is billed against, if any.
    pub agreement_id: Option<Id>,
    /// When it was entered.
    pub date_entered: OffsetDateTime,
    /// Who entered it.
    pub entered_by: String,
    /// Change tracking.
    pub info: Info,
}

/// A note on a ticket.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    /// Record id.
    pub id: Id,
    /// The ticket.
    pub ticket_id: Id,
    /// Note text.
    pub text: String,
    /// Part of the ticket's discussion (visible to the customer).
    pub detail_description: bool,
    /// Internal analysis (not visible to the customer).
    pub internal_analysis: bool,
    /// Part of the resolution.
    pub resolution: bool,
    /// When it was created.
    pub date_created: OffsetDateTime,
    /// Who created it.
    pub created_by: String,
    /// Change tracking.
    pub info: Info,
}
