//! The Autotask entities the dialect serves, their fields (what `entityInformation/fields`
//! lists, what filters may name, what writes accept) and their picklists.

use crate::data::{DataSet, Id};

/// An entity (the path segment after `/V1.0/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum AtEntity {
    Companies,
    Contacts,
    Contracts,
    ContractServices,
    ContractServiceUnits,
    ContractServiceAdjustments,
    ConfigurationItems,
    Tickets,
    TicketNotes,
    Services,
    TimeEntries,
    Opportunities,
    Projects,
    Tasks,
    Invoices,
    Resources,
    CompanyNotes,
    ContractBlocks,
    ServiceLevelAgreementResults,
    SurveyResults,
    CompanyLocations,
}

impl AtEntity {
    pub(crate) const ALL: [AtEntity; 21] = [
        AtEntity::Companies,
        AtEntity::Contacts,
        AtEntity::Contracts,
        AtEntity::ContractServices,
        AtEntity::ContractServiceUnits,
        AtEntity::ContractServiceAdjustments,
        AtEntity::ConfigurationItems,
        AtEntity::Tickets,
        AtEntity::TicketNotes,
        AtEntity::Services,
        AtEntity::TimeEntries,
        AtEntity::Opportunities,
        AtEntity::Projects,
        AtEntity::Tasks,
        AtEntity::Invoices,
        AtEntity::Resources,
        AtEntity::CompanyNotes,
        AtEntity::ContractBlocks,
        AtEntity::ServiceLevelAgreementResults,
        AtEntity::SurveyResults,
        AtEntity::CompanyLocations,
    ];

    /// The entity's name as Autotask spells it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            AtEntity::Companies => "Companies",
            AtEntity::Contacts => "Contacts",
            AtEntity::Contracts => "Contracts",
            AtEntity::ContractServices => "ContractServices",
            AtEntity::ContractServiceUnits => "ContractServiceUnits",
            AtEntity::ContractServiceAdjustments => "ContractServiceAdjustments",
            AtEntity::ConfigurationItems => "ConfigurationItems",
            AtEntity::Tickets => "Tickets",
            AtEntity::TicketNotes => "TicketNotes",
            AtEntity::Services => "Services",
            AtEntity::TimeEntries => "TimeEntries",
            AtEntity::Opportunities => "Opportunities",
            AtEntity::Projects => "Projects",
            AtEntity::Tasks => "Tasks",
            AtEntity::Invoices => "Invoices",
            AtEntity::Resources => "Resources",
            AtEntity::CompanyNotes => "CompanyNotes",
            AtEntity::ContractBlocks => "ContractBlocks",
            AtEntity::ServiceLevelAgreementResults => "ServiceLevelAgreementResults",
            AtEntity::SurveyResults => "SurveyResults",
            AtEntity::CompanyLocations => "CompanyLocations",
        }
    }

    /// The entity named `segment` (ignoring case).
    pub(crate) fn parse(segment: &str) -> Option<AtEntity> {
        AtEntity::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(segment))
    }

    /// Whether records can be queried and read by id (adjustments can only be created).
    pub(crate) fn queryable(self) -> bool {
        self != AtEntity::ContractServiceAdjustments
    }

    /// The entity's fields.
    pub(crate) fn fields(self) -> &'static [Field] {
        match self {
            AtEntity::Companies => COMPANY_FIELDS,
            AtEntity::Contacts => CONTACT_FIELDS,
            AtEntity::Contracts => CONTRACT_FIELDS,
            AtEntity::ContractServices => CONTRACT_SERVICE_FIELDS,
            AtEntity::ContractServiceUnits => CONTRACT_SERVICE_UNIT_FIELDS,
            AtEntity::ContractServiceAdjustments => ADJUSTMENT_FIELDS,
            AtEntity::ConfigurationItems => CONFIGURATION_ITEM_FIELDS,
            AtEntity::Tickets => TICKET_FIELDS,
            AtEntity::TicketNotes => TICKET_NOTE_FIELDS,
            AtEntity::Services => SERVICE_FIELDS,
            other => super::datasets::fields(other),
        }
    }

    /// The field named `name` (ignoring case).
    pub(crate) fn field(self, name: &str) -> Option<&'static Field> {
        self.fields()
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }
}

/// A field's data type (`dataType` in `entityInformation/fields`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    Integer,
    Long,
    Short,
    /// Text of at most this many characters.
    Text(u32),
    DateTime,
    Boolean,
    Double,
}

impl Ty {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Ty::Integer => "integer",
            Ty::Long => "long",
            Ty::Short => "short",
            Ty::Text(_) => "string",
            Ty::DateTime => "datetime",
            Ty::Boolean => "boolean",
            Ty::Double => "double",
        }
    }

    /// Whether values are compared as numbers.
    pub(crate) fn numeric(self) -> bool {
        matches!(self, Ty::Integer | Ty::Long | Ty::Short | Ty::Double)
    }
}

/// One field of an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) name: &'static str,
    pub(crate) ty: Ty,
    pub(crate) required: bool,
    pub(crate) read_only: bool,
    /// The entity a reference field points to ("" when it is not a reference).
    pub(crate) reference: &'static str,
    pub(crate) pick: Option<Pick>,
}

pub(super) const fn f(name: &'static str, ty: Ty) -> Field {
    Field {
        name,
        ty,
        required: false,
        read_only: false,
        reference: "",
        pick: None,
    }
}

impl Field {
    pub(super) const fn req(mut self) -> Field {
        self.required = true;
        self
    }
    pub(super) const fn ro(mut self) -> Field {
        self.read_only = true;
        self
    }
    pub(super) const fn refs(mut self, entity: &'static str) -> Field {
        self.reference = entity;
        self
    }
    pub(super) const fn pick(mut self, pick: Pick) -> Field {
        self.pick = Some(pick);
        self
    }
}

pub(super) const ID: Field = f("id", Ty::Long).ro();

static COMPANY_FIELDS: &[Field] = &[
    ID,
    f("companyName", Ty::Text(100)).req(),
    f("companyNumber", Ty::Text(50)),
    f("companyType", Ty::Short).req().pick(Pick::CompanyType),
    f("isActive", Ty::Boolean).req(),
    f("phone", Ty::Text(25)).req(),
    f("fax", Ty::Text(25)),
    f("webAddress", Ty::Text(255)),
    f("address1", Ty::Text(150)),
    f("address2", Ty::Text(150)),
    f("city", Ty::Text(50)),
    f("state", Ty::Text(25)),
    f("postalCode", Ty::Text(20)),
    f("countryID", Ty::Integer).refs("Country"),
    f("ownerResourceID", Ty::Integer).req().refs("Resource"),
    f("parentCompanyID", Ty::Integer).refs("Company"),
    f("classification", Ty::Integer).pick(Pick::Classification),
    f("marketSegmentID", Ty::Integer).pick(Pick::MarketSegment),
    f("isClientPortalActive", Ty::Boolean).ro(),
    f("isTaxExempt", Ty::Boolean),
    f("createDate", Ty::DateTime).ro(),
    f("lastActivityDate", Ty::DateTime).ro(),
    f("lastTrackedModifiedDateTime", Ty::DateTime).ro(),
];

static CONTACT_FIELDS: &[Field] = &[
    ID,
    f("companyID", Ty::Integer).req().refs("Company"),
    f("firstName", Ty::Text(50)).req(),
    f("lastName", Ty::Text(50)).req(),
    f("title", Ty::Text(50)),
    f("emailAddress", Ty::Text(254)),
    f("emailAddress2", Ty::Text(254)),
    f("emailAddress3", Ty::Text(254)),
    f("phone", Ty::Text(25)),
    f("mobilePhone", Ty::Text(25)),
    f("alternatePhone", Ty::Text(32)),
    f("faxNumber", Ty::Text(25)),
    f("isActive", Ty::Integer).req(),
    f("primaryContact", Ty::Boolean),
    f("createDate", Ty::DateTime).ro(),
    f("lastActivityDate", Ty::DateTime).ro(),
    f("lastModifiedDate", Ty::DateTime).ro(),
];

static CONTRACT_FIELDS: &[Field] = &[
    ID,
    f("companyID", Ty::Integer).req().refs("Company"),
    f("contractName", Ty::Text(100)).req(),
    f("contractNumber", Ty::Text(50)),
    f("contractType", Ty::Integer)
        .req()
        .pick(Pick::ContractType),
    f("contractCategory", Ty::Integer).pick(Pick::ContractCategory),
    f("contractPeriodType", Ty::Integer).pick(Pick::ContractPeriodType),
    f("status", Ty::Integer).req().pick(Pick::ContractStatus),
    f("startDate", Ty::DateTime).req(),
    f("endDate", Ty::DateTime).req(),
    f("description", Ty::Text(2000)),
    f("isDefaultContract", Ty::Boolean),
    f("setupFee", Ty::Double),
    f("estimatedRevenue", Ty::Double),
    f("contactID", Ty::Integer).refs("Contact"),
    f("purchaseOrderNumber", Ty::Text(50)),
];

static CONTRACT_SERVICE_FIELDS: &[Field] = &[
    ID,
    f("contractID", Ty::Integer).req().refs("Contract"),
    f("serviceID", Ty::Integer).req().refs("Service"),
    f("invoiceDescription", Ty::Text(1000)),
    f("internalDescription", Ty::Text(100)),
    f("unitPrice", Ty::Double),
    f("unitCost", Ty::Double),
    f("internalCurrencyUnitPrice", Ty::Double).ro(),
    f("quoteItemID", Ty::Long).refs("QuoteItem"),
];

static CONTRACT_SERVICE_UNIT_FIELDS: &[Field] = &[
    ID,
    f("contractID", Ty::Integer).ro().refs("Contract"),
    f("contractServiceID", Ty::Integer)
        .ro()
        .refs("ContractService"),
    f("serviceID", Ty::Integer).ro().refs("Service"),
    f("startDate", Ty::DateTime).ro(),
    f("endDate", Ty::DateTime).ro(),
    f("units", Ty::Integer).ro(),
    f("price", Ty::Double).ro(),
    f("cost", Ty::Double).ro(),
    f("approveAndPostDate", Ty::DateTime).ro(),
    f("vendorCompanyID", Ty::Integer).ro().refs("Company"),
];

static ADJUSTMENT_FIELDS: &[Field] = &[
    ID,
    f("contractID", Ty::Integer).req().refs("Contract"),
    f("contractServiceID", Ty::Integer)
        .req()
        .refs("ContractService"),
    f("effectiveDate", Ty::DateTime).req(),
    f("unitChange", Ty::Integer).req(),
    f("adjustedUnitPrice", Ty::Double),
];

static CONFIGURATION_ITEM_FIELDS: &[Field] = &[
    ID,
    f("companyID", Ty::Integer).req().refs("Company"),
    f("configurationItemType", Ty::Integer)
        .req()
        .pick(Pick::ConfigurationItemType),
    f("productID", Ty::Integer).req().refs("Product"),
    f("isActive", Ty::Boolean).req(),
    f("referenceTitle", Ty::Text(200)),
    f("referenceNumber", Ty::Text(50)),
    f("serialNumber", Ty::Text(100)),
    f("vendorID", Ty::Integer).refs("Company"),
    f("contactID", Ty::Integer).refs("Contact"),
    f("notes", Ty::Text(5000)),
    f("installDate", Ty::DateTime),
    f("warrantyExpirationDate", Ty::DateTime),
    f("rmmDeviceUID", Ty::Text(100)).ro(),
    f("rmmDeviceAuditHostname", Ty::Text(255)).ro(),
    f("rmmDeviceAuditMacAddress", Ty::Text(100)).ro(),
    f("rmmDeviceAuditIPAddress", Ty::Text(100)).ro(),
    f("createDate", Ty::DateTime).ro(),
    f("lastModifiedTime", Ty::DateTime).ro(),
];

static TICKET_FIELDS: &[Field] = &[
    ID,
    f("ticketNumber", Ty::Text(50)).ro(),
    f("title", Ty::Text(255)).req(),
    f("description", Ty::Text(8000)),
    f("companyID", Ty::Integer).req().refs("Company"),
    f("contactID", Ty::Integer).refs("Contact"),
    f("queueID", Ty::Integer).pick(Pick::Queue),
    f("status", Ty::Integer).req().pick(Pick::TicketStatus),
    f("priority", Ty::Integer).req().pick(Pick::Priority),
    f("issueType", Ty::Integer).pick(Pick::IssueType),
    f("subIssueType", Ty::Integer).pick(Pick::SubIssueType),
    f("ticketCategory", Ty::Integer).pick(Pick::TicketCategory),
    f("ticketType", Ty::Integer).pick(Pick::TicketType),
    f("source", Ty::Integer).pick(Pick::Source),
    f("contractID", Ty::Integer).refs("Contract"),
    f("externalID", Ty::Text(50)),
    f("configurationItemID", Ty::Integer).refs("ConfigurationItem"),
    f("assignedResourceID", Ty::Integer).refs("Resource"),
    f("assignedResourceRoleID", Ty::Integer).refs("Role"),
    f("dueDateTime", Ty::DateTime),
    f("completedDate", Ty::DateTime).ro(),
    f("createDate", Ty::DateTime).ro(),
    f("creatorResourceID", Ty::Integer).ro().refs("Resource"),
    f("lastActivityDate", Ty::DateTime).ro(),
    f("lastTrackedModificationDateTime", Ty::DateTime).ro(),
];

static TICKET_NOTE_FIELDS: &[Field] = &[
    ID,
    f("ticketID", Ty::Integer).req().refs("Ticket"),
    f("title", Ty::Text(250)).req(),
    f("description", Ty::Text(32000)).req(),
    f("noteType", Ty::Integer).req().pick(Pick::NoteType),
    f("publish", Ty::Integer).req().pick(Pick::Publish),
    f("createDateTime", Ty::DateTime).ro(),
    f("creatorResourceID", Ty::Integer).ro().refs("Resource"),
    f("createdByContactID", Ty::Integer).ro().refs("Contact"),
    f("lastActivityDate", Ty::DateTime).ro(),
];

static SERVICE_FIELDS: &[Field] = &[
    ID,
    f("name", Ty::Text(150)).req(),
    f("description", Ty::Text(400)),
    f("invoiceDescription", Ty::Text(1000)),
    f("unitPrice", Ty::Double),
    f("unitCost", Ty::Double),
    f("periodType", Ty::Integer)
        .req()
        .pick(Pick::ServicePeriodType),
    f("isActive", Ty::Boolean),
];

/// A picklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pick {
    CompanyType,
    ContractType,
    ContractCategory,
    ContractPeriodType,
    ContractStatus,
    ConfigurationItemType,
    Queue,
    TicketStatus,
    Priority,
    IssueType,
    SubIssueType,
    TicketCategory,
    TicketType,
    Source,
    NoteType,
    Publish,
    ServicePeriodType,
    Classification,
    MarketSegment,
}

/// One picklist value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PickValue {
    pub(crate) value: i64,
    pub(crate) label: String,
    pub(crate) default: bool,
    pub(crate) active: bool,
    pub(crate) parent: Option<i64>,
}

fn fixed(values: &[(i64, &str)], default: i64) -> Vec<PickValue> {
    values
        .iter()
        .map(|(value, label)| PickValue {
            value: *value,
            label: (*label).to_string(),
            default: *value == default,
            active: true,
            parent: None,
        })
        .collect()
}

fn neutral<'a>(items: impl Iterator<Item = (Id, &'a str, bool)>, default: Id) -> Vec<PickValue> {
    items
        .map(|(id, label, active)| PickValue {
            value: id as i64,
            label: label.to_string(),
            default: id == default,
            active,
            parent: None,
        })
        .collect()
}

/// Ticket statuses: (Autotask value, label, neutral status position on a board). Complete (5) is
/// the only closed one; both closed neutral statuses read as Complete.
pub(crate) const STATUSES: [(i64, &str, Id); 5] = [
    (1, "New", 1),
    (5, "Complete", 5),
    (7, "Waiting Customer", 3),
    (8, "In Progress", 2),
    (10, "Scheduled", 4),
];
/// The status of a ticket in neutral status position 1..=6 on its board.
pub(crate) fn status_of(position: Id) -> i64 {
    match position {
        6 => 5,
        p => STATUSES.iter().find(|s| s.2 == p).map_or(1, |s| s.0),
    }
}

/// Priorities: (Autotask value, label, neutral priority id).
pub(crate) const PRIORITIES: [(i64, &str, Id); 4] = [
    (1, "High", 2),
    (2, "Medium", 3),
    (3, "Low", 4),
    (4, "Critical", 1),
];

/// Company types: (Autotask value, label, neutral company type id). A neutral Competitor
/// (never generated) reads as Lead.
pub(crate) const COMPANY_TYPES: [(i64, &str, Option<Id>); 7] = [
    (1, "Customer", Some(1)),
    (2, "Lead", Some(5)),
    (3, "Prospect", Some(2)),
    (4, "Dead", None),
    (6, "Cancelation", None),
    (7, "Vendor", Some(4)),
    (8, "Partner", Some(3)),
];

/// Ticket categories by neutral board: Help Desk and Old Queue Standard, Alerts Alert, Projects Project.
pub(crate) const TICKET_CATEGORIES: [(i64, &str); 3] =
    [(1, "Standard"), (2, "Alert"), (3, "Project")];
/// Ticket types.
pub(crate) const TICKET_TYPES: [(i64, &str); 5] = [
    (1, "Service Request"),
    (2, "Incident"),
    (3, "Problem"),
    (4, "Change Request"),
    (5, "Alert"),
];
/// Contract types; 7 Recurring Service is the recurring one.
pub(crate) const CONTRACT_TYPES: [(i64, &str); 6] = [
    (1, "Time and Materials"),
    (3, "Fixed Price"),
    (4, "Block Hours"),
    (6, "Retainer"),
    (7, "Recurring Service"),
    (8, "Per Ticket"),
];
/// Note types; 1 is the connector's default.
pub(crate) const NOTE_TYPES: [(i64, &str); 3] =
    [(1, "Task Notes"), (2, "Task Detail"), (3, "Task Summary")];
/// Publish: 1 All Autotask Users, 2 Internal Only.
pub(crate) const PUBLISH: [(i64, &str); 2] = [(1, "All Autotask Users"), (2, "Internal Only")];
/// Billing periods (contracts' `contractPeriodType`, services' `periodType`).
pub(crate) const PERIODS: [(i64, &str); 4] = [
    (1, "Monthly"),
    (2, "Quarterly"),
    (3, "Semi-Annual"),
    (4, "Yearly"),
];

impl Pick {
    /// The picklist's values.
    pub(crate) fn values(self, data: &DataSet) -> Vec<PickValue> {
        let p = &data.picklists;
        match self {
            Pick::CompanyType => fixed(&COMPANY_TYPES.map(|(v, l, _)| (v, l)), 1),
            Pick::ContractType => fixed(&CONTRACT_TYPES, 7),
            Pick::ContractCategory => neutral(
                p.agreement_types
                    .iter()
                    .map(|t| (t.id, t.name.as_str(), true)),
                1,
            ),
            Pick::ContractPeriodType | Pick::ServicePeriodType => fixed(&PERIODS, 1),
            Pick::ContractStatus => fixed(&[(0, "Inactive"), (1, "Active")], 1),
            Pick::ConfigurationItemType => neutral(
                p.configuration_types
                    .iter()
                    .map(|t| (t.id, t.name.as_str(), true)),
                0,
            ),
            Pick::Queue => neutral(
                p.boards
                    .iter()
                    .map(|b| (b.id, b.name.as_str(), !b.inactive)),
                1,
            ),
            Pick::TicketStatus => fixed(&STATUSES.map(|(v, l, _)| (v, l)), 1),
            Pick::Priority => fixed(&PRIORITIES.map(|(v, l, _)| (v, l)), 2),
            Pick::IssueType => p
                .board_types
                .iter()
                .map(|t| PickValue {
                    value: t.id as i64,
                    label: t.name.clone(),
                    default: false,
                    active: p.boards.iter().any(|b| b.id == t.board_id && !b.inactive),
                    parent: None,
                })
                .collect(),
            Pick::SubIssueType => p
                .sub_issue_types()
                .map(|s| PickValue {
                    value: s.id as i64,
                    label: s.subtype.name.clone(),
                    default: false,
                    active: true,
                    parent: Some(s.issue_type.id as i64),
                })
                .collect(),
            Pick::TicketCategory => fixed(&TICKET_CATEGORIES, 1),
            Pick::TicketType => fixed(&TICKET_TYPES, 1),
            Pick::Source => neutral(
                p.sources.iter().map(|s| (s.id, s.name.as_str(), true)),
                p.default_source().unwrap_or(0),
            ),
            Pick::NoteType => fixed(&NOTE_TYPES, 1),
            Pick::Publish => fixed(&PUBLISH, 1),
            Pick::Classification => {
                fixed(&crate::data::CLASSIFICATIONS.map(|(v, l)| (v as i64, l)), 0)
            }
            Pick::MarketSegment => fixed(&crate::data::MARKETS.map(|(v, l)| (v as i64, l)), 0),
        }
    }

    /// Whether `value` is an active value of the picklist.
    pub(crate) fn allows(self, data: &DataSet, value: i64) -> bool {
        self.values(data)
            .iter()
            .any(|v| v.value == value && v.active)
    }
}

/// The neutral subtype of a sub-issue type value under `issue_type`, if it is one.
pub(crate) fn subtype_of(data: &DataSet, issue_type: Id, value: i64) -> Option<Id> {
    data.picklists
        .subtype_of(issue_type, u64::try_from(value).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fields_and_picklists() {
        assert_eq!(AtEntity::parse("tickets"), Some(AtEntity::Tickets));
        assert_eq!(AtEntity::parse("TICKETNOTES"), Some(AtEntity::TicketNotes));
        assert_eq!(AtEntity::parse("Nope"), None);
        assert_eq!(
            AtEntity::Tickets.field("LASTACTIVITYDATE").map(|f| f.name),
            Some("lastActivityDate")
        );
        for e in AtEntity::ALL {
            assert_eq!(e.fields()[0].name, "id", "{e:?}");
        }
        let data = DataSet::sample(1, 10);
        let statuses = Pick::TicketStatus.values(&data);
        assert!(statuses.iter().any(|s| s.value == 1 && s.label == "New"));
        assert!(
            statuses
                .iter()
                .any(|s| s.value == 5 && s.label == "Complete")
        );
        assert_eq!(status_of(6), 5);
        assert_eq!(status_of(2), 8);
        let subs = Pick::SubIssueType.values(&data);
        assert!(!subs.is_empty());
        for s in &subs {
            let parent = s.parent.unwrap() as u64;
            assert_eq!(
                subtype_of(&data, parent, s.value).map(|x| x % 100),
                Some(s.value as u64 % 100)
            );
        }
        assert_eq!(
            subtype_of(&data, 101, 20101),
            None,
            "another issue type's value"
        );
        assert!(Pick::Queue.allows(&data, 1));
        assert!(!Pick::Queue.allows(&data, 4), "inactive");
    }
}
