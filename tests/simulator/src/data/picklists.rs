//! Reference data (picklists): fixed, the same for every seed, so connectors and tests can rely on
//! the ids listed in the README.

use time::OffsetDateTime;
use time::macros::datetime;

use super::model::{CommunicationKind, Id};

/// When the reference data was last changed (it never changes at run time).
pub const PICKLIST_UPDATED: OffsetDateTime = datetime!(2019-03-04 09:30:00 UTC);

/// A company status.
#[derive(Clone, Debug, PartialEq)]
pub struct CompanyStatus {
    /// Id.
    pub id: Id,
    /// Name ("Active", "Inactive", "Not-Approved").
    pub name: String,
    /// Companies with this status count as inactive.
    pub inactive: bool,
    /// The default status of new companies.
    pub default: bool,
}

/// A company type.
#[derive(Clone, Debug, PartialEq)]
pub struct CompanyType {
    /// Id.
    pub id: Id,
    /// Name ("Client", "Prospect", "Partner", "Vendor", "Competitor").
    pub name: String,
    /// Companies of this type are vendors.
    pub vendor: bool,
}

/// A country.
#[derive(Clone, Debug, PartialEq)]
pub struct Country {
    /// Id.
    pub id: Id,
    /// Name.
    pub name: String,
}

/// A contact communication type (Email, Direct, Cell, Fax).
#[derive(Clone, Debug, PartialEq)]
pub struct CommunicationType {
    /// Id.
    pub id: Id,
    /// Name.
    pub name: String,
    /// Whether items of this type are emails, phones or faxes.
    pub kind: CommunicationKind,
}

/// An agreement type.
#[derive(Clone, Debug, PartialEq)]
pub struct AgreementType {
    /// Id.
    pub id: Id,
    /// Name.
    pub name: String,
}

/// A catalog product (what agreement lines bill).
#[derive(Clone, Debug, PartialEq)]
pub struct Product {
    /// Id.
    pub id: Id,
    /// Short identifier (SKU).
    pub identifier: String,
    /// Description.
    pub description: String,
    /// No longer sold.
    pub inactive: bool,
    /// List price per unit, in cents.
    pub price_cents: i64,
    /// Cost per unit, in cents.
    pub cost_cents: i64,
}

/// A service board (ticket queue).
#[derive(Clone, Debug, PartialEq)]
pub struct Board {
    /// Id.
    pub id: Id,
    /// Name.
    pub name: String,
    /// Hidden from new tickets.
    pub inactive: bool,
}

/// A ticket status of one board.
#[derive(Clone, Debug, PartialEq)]
pub struct BoardStatus {
    /// Id (unique over all boards).
    pub id: Id,
    /// The board.
    pub board_id: Id,
    /// Name.
    pub name: String,
    /// Tickets in this status are closed.
    pub closed: bool,
    /// The board's status for new tickets.
    pub default: bool,
    /// Position on the board.
    pub sort_order: u32,
}

/// A ticket type, subtype or item of one board.
#[derive(Clone, Debug, PartialEq)]
pub struct BoardEntry {
    /// Id (unique over all boards, per kind).
    pub id: Id,
    /// The board.
    pub board_id: Id,
    /// Name.
    pub name: String,
}

/// A ticket priority.
#[derive(Clone, Debug, PartialEq)]
pub struct Priority {
    /// Id.
    pub id: Id,
    /// Name ("Priority 1 - Critical" ...).
    pub name: String,
    /// Sort order (1 is the most urgent).
    pub sort_order: u32,
    /// The priority of new tickets.
    pub default: bool,
}

/// A ticket source (Email, Phone, Portal, ...).
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// Id.
    pub id: Id,
    /// Name.
    pub name: String,
    /// The source of new tickets.
    pub default: bool,
}

/// A question asked for configurations of one type.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeQuestion {
    /// Question id (unique over all types).
    pub id: Id,
    /// The question.
    pub question: String,
}

/// A configuration type.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigurationType {
    /// Id.
    pub id: Id,
    /// Name.
    pub name: String,
    /// Configurations of this type may be changed through the API (false for the types owned by
    /// RMM and backup integrations: Managed Server, Managed Workstation, ...).
    pub api_updatable: bool,
    /// Questions asked for configurations of this type.
    pub questions: Vec<TypeQuestion>,
}

/// A configuration status.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigurationStatus {
    /// Id.
    pub id: Id,
    /// Name ("Active", "Inactive", ...).
    pub name: String,
    /// Configurations in this status are closed (retired).
    pub closed: bool,
    /// The status of new configurations.
    pub default: bool,
}

/// A hardware or software manufacturer.
#[derive(Clone, Debug, PartialEq)]
pub struct Manufacturer {
    /// Id.
    pub id: Id,
    /// Name.
    pub name: String,
}

/// A sub-issue type: a board subtype under one of its board's types. Autotask and Kaseya BMS
/// classify tickets by issue type and sub-issue type (which belongs to one issue type); the
/// neutral model by board type and board subtype, so a sub-issue type is such a pair.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SubIssueType<'a> {
    /// `issue type id * 100 + the subtype's number on its board` (see [`Picklists::sub_issue_type_id`]).
    pub id: Id,
    /// The issue type: a board type.
    pub issue_type: &'a BoardEntry,
    /// The board subtype.
    pub subtype: &'a BoardEntry,
}

/// All reference data of a data set. Every list is sorted by id.
#[derive(Clone, Debug, PartialEq)]
pub struct Picklists {
    /// Company statuses.
    pub company_statuses: Vec<CompanyStatus>,
    /// Company types.
    pub company_types: Vec<CompanyType>,
    /// Countries.
    pub countries: Vec<Country>,
    /// Contact communication types.
    pub communication_types: Vec<CommunicationType>,
    /// Agreement types.
    pub agreement_types: Vec<AgreementType>,
    /// Catalog products.
    pub products: Vec<Product>,
    /// Service boards.
    pub boards: Vec<Board>,
    /// Statuses of all boards.
    pub board_statuses: Vec<BoardStatus>,
    /// Ticket types of all boards.
    pub board_types: Vec<BoardEntry>,
    /// Ticket subtypes of all boards.
    pub board_subtypes: Vec<BoardEntry>,
    /// Ticket items of all boards.
    pub board_items: Vec<BoardEntry>,
    /// Ticket priorities.
    pub priorities: Vec<Priority>,
    /// Ticket sources.
    pub sources: Vec<Source>,
    /// Configuration types.
    pub configuration_types: Vec<ConfigurationType>,
    /// Configuration statuses.
    pub configuration_statuses: Vec<ConfigurationStatus>,
    /// Manufacturers.
    pub manufacturers: Vec<Manufacturer>,
}

/// Company status ids.
pub mod company_status {
    use super::Id;
    /// Active.
    pub const ACTIVE: Id = 1;
    /// Inactive.
    pub const INACTIVE: Id = 2;
    /// Not approved (a prospect not yet accepted).
    pub const NOT_APPROVED: Id = 3;
}

/// Company type ids.
pub mod company_type {
    use super::Id;
    /// Client.
    pub const CLIENT: Id = 1;
    /// Prospect.
    pub const PROSPECT: Id = 2;
    /// Partner.
    pub const PARTNER: Id = 3;
    /// Vendor.
    pub const VENDOR: Id = 4;
    /// Competitor.
    pub const COMPETITOR: Id = 5;
}

/// Communication type ids.
pub mod communication_type {
    use super::Id;
    /// Email.
    pub const EMAIL: Id = 1;
    /// Direct phone.
    pub const DIRECT: Id = 2;
    /// Fax.
    pub const FAX: Id = 3;
    /// Mobile phone.
    pub const CELL: Id = 4;
}

/// Configuration status ids.
pub mod configuration_status {
    use super::Id;
    /// Active.
    pub const ACTIVE: Id = 1;
    /// Inactive.
    pub const INACTIVE: Id = 2;
    /// On order.
    pub const ON_ORDER: Id = 3;
    /// Decommissioned (closed).
    pub const DECOMMISSIONED: Id = 4;
}

impl Picklists {
    /// The fixed reference data.
    pub fn standard() -> Picklists {
        let s = |x: &str| x.to_string();
        let questions = |base: Id, qs: &[&str]| -> Vec<TypeQuestion> {
            qs.iter()
                .enumerate()
                .map(|(i, q)| TypeQuestion {
                    id: base + i as Id,
                    question: s(q),
                })
                .collect()
        };
        // (name, updatable through the API, questions)
        let config_types: [(&str, bool, &[&str]); 17] = [
            ("Workstation", true, &["Operating system", "Primary user"]),
            ("Laptop", true, &["Operating system", "Primary user"]),
            ("Server", true, &["Operating system", "Role"]),
            ("Firewall", true, &["Firmware version", "Support contract"]),
            ("Switch", true, &["Firmware version"]),
            ("Router", true, &["Firmware version"]),
            ("Access Point", true, &[]),
            ("Printer", true, &[]),
            ("UPS", true, &["Battery install date"]),
            ("Mobile Device", true, &[]),
            ("Managed Server", false, &[]),
            ("Managed Workstation", false, &[]),
            ("Network Security Appliance", false, &[]),
            ("Backup Stats", false, &[]),
            ("Spam Stats", false, &[]),
            ("CW SC Partner Server", false, &[]),
            ("Cymphonix Device", false, &[]),
        ];
        let configuration_types = config_types
            .iter()
            .enumerate()
            .map(|(i, (name, updatable, qs))| {
                let id = i as Id + 1;
                ConfigurationType {
                    id,
                    name: s(name),
                    api_updatable: *updatable,
                    questions: questions(id * 10, qs),
                }
            })
            .collect();

        let boards = vec![
            Board {
                id: 1,
                name: s("Help Desk"),
                inactive: false,
            },
            Board {
                id: 2,
                name: s("Alerts"),
                inactive: false,
            },
            Board {
                id: 3,
                name: s("Projects"),
                inactive: false,
            },
            Board {
                id: 4,
                name: s("Old Queue"),
                inactive: true,
            },
        ];
        // Each board has the same status names with their own ids, as in a real PSA.
        let status_names: [(&str, bool); 6] = [
            ("New", false),
            ("In Progress", false),
            ("Waiting on Customer", false),
            ("Scheduled", false),
            ("Completed", true),
            ("Closed", true),
        ];
        let mut board_statuses = Vec::new();
        for board in &boards {
            for (i, (name, closed)) in status_names.iter().enumerate() {
                board_statuses.push(BoardStatus {
                    id: board.id * 10 + i as Id + 1,
                    board_id: board.id,
                    name: s(name),
                    closed: *closed,
                    default: i == 0,
                    sort_order: i as u32 + 1,
                });
            }
        }
        let per_board = |names: &[(Id, &[&str])]| -> Vec<BoardEntry> {
            let mut out = Vec::new();
            for (board_id, list) in names {
                for (i, name) in list.iter().enumerate() {
                    out.push(BoardEntry {
                        id: board_id * 100 + i as Id + 1,
                        board_id: *board_id,
                        name: s(name),
                    });
                }
            }
            out
        };
        let board_types = per_board(&[
            (1, &["Incident", "Service Request", "Problem", "Change"]),
            (2, &["Security", "Performance", "Availability", "Backup"]),
            (3, &["Project Task", "Onboarding"]),
            (4, &["Legacy"]),
        ]);
        let board_subtypes = per_board(&[
            (1, &["Email", "Network", "Hardware", "Software", "Account"]),
            (2, &["Malware", "Disk", "CPU", "Offline", "Job Failed"]),
            (3, &["Migration", "Deployment"]),
            (4, &["Other"]),
        ]);
        let board_items = per_board(&[
            (1, &["Outlook", "VPN", "Printer", "Password"]),
            (2, &["Server", "Workstation", "Firewall"]),
            (3, &["Phase 1", "Phase 2"]),
            (4, &["Misc"]),
        ]);

        Picklists {
            company_statuses: vec![
                CompanyStatus {
                    id: company_status::ACTIVE,
                    name: s("Active"),
                    inactive: false,
                    default: true,
                },
                CompanyStatus {
                    id: company_status::INACTIVE,
                    name: s("Inactive"),
                    inactive: true,
                    default: false,
                },
                CompanyStatus {
                    id: company_status::NOT_APPROVED,
                    name: s("Not-Approved"),
                    inactive: true,
                    default: false,
                },
            ],
            company_types: vec![
                CompanyType {
                    id: company_type::CLIENT,
                    name: s("Client"),
                    vendor: false,
                },
                CompanyType {
                    id: company_type::PROSPECT,
                    name: s("Prospect"),
                    vendor: false,
                },
                CompanyType {
                    id: company_type::PARTNER,
                    name: s("Partner"),
                    vendor: false,
                },
                CompanyType {
                    id: company_type::VENDOR,
                    name: s("Vendor"),
                    vendor: true,
                },
                CompanyType {
                    id: company_type::COMPETITOR,
                    name: s("Competitor"),
                    vendor: false,
                },
            ],
            countries: vec![
                Country {
                    id: 1,
                    name: s("United States"),
                },
                Country {
                    id: 2,
                    name: s("Canada"),
                },
                Country {
                    id: 3,
                    name: s("United Kingdom"),
                },
                Country {
                    id: 4,
                    name: s("Australia"),
                },
            ],
            communication_types: vec![
                CommunicationType {
                    id: communication_type::EMAIL,
                    name: s("Email"),
                    kind: CommunicationKind::Email,
                },
                CommunicationType {
                    id: communication_type::DIRECT,
                    name: s("Direct"),
                    kind: CommunicationKind::Phone,
                },
                CommunicationType {
                    id: communication_type::FAX,
                    name: s("Fax"),
                    kind: CommunicationKind::Fax,
                },
                CommunicationType {
                    id: communication_type::CELL,
                    name: s("Cell"),
                    kind: CommunicationKind::Phone,
                },
            ],
            agreement_types: vec![
                AgreementType {
                    id: 1,
                    name: s("Managed Services"),
                },
                AgreementType {
                    id: 2,
                    name: s("Backup & Recovery"),
                },
                AgreementType {
                    id: 3,
                    name: s("Security Bundle"),
                },
                AgreementType {
                    id: 4,
                    name: s("Block Time"),
                },
                AgreementType {
                    id: 5,
                    name: s("Onboarding Project"),
                },
            ],
            products: vec![
                product(1, "MS-WS", "Managed workstation", 4500, 1200),
                product(2, "MS-SRV", "Managed server", 17500, 4000),
                product(3, "M365-BP", "Microsoft 365 Business Premium", 2200, 1980),
                product(4, "BACKUP-TB", "Cloud backup per TB", 9000, 3500),
                product(5, "EDR", "Endpoint detection and response", 800, 350),
                product(6, "FW-MGMT", "Managed firewall", 6500, 1500),
                product(
                    7,
                    "SEC-AWARE",
                    "Security awareness training per user",
                    300,
                    100,
                ),
                product(8, "ONBOARD", "Onboarding and documentation", 150000, 60000),
                product(9, "BLOCK-10H", "Block of 10 support hours", 125000, 50000),
                Product {
                    id: 10,
                    identifier: s("LEGACY-AV"),
                    description: s("Legacy antivirus (retired)"),
                    inactive: true,
                    price_cents: 500,
                    cost_cents: 300,
                },
            ],
            boards,
            board_statuses,
            board_types,
            board_subtypes,
            board_items,
            priorities: vec![
                Priority {
                    id: 1,
                    name: s("Priority 1 - Critical"),
                    sort_order: 1,
                    default: false,
                },
                Priority {
                    id: 2,
                    name: s("Priority 2 - High"),
                    sort_order: 2,
                    default: false,
                },
                Priority {
                    id: 3,
                    name: s("Priority 3 - Medium"),
                    sort_order: 3,
                    default: true,
                },
                Priority {
                    id: 4,
                    name: s("Priority 4 - Low"),
                    sort_order: 4,
                    default: false,
                },
            ],
            sources: vec![
                Source {
                    id: 1,
                    name: s("Email"),
                    default: false,
                },
                Source {
                    id: 2,
                    name: s("Phone"),
                    default: true,
                },
                Source {
                    id: 3,
                    name: s("Portal"),
                    default: false,
                },
                Source {
                    id: 4,
                    name: s("Monitoring Alert"),
                    default: false,
                },
                Source {
                    id: 5,
                    name: s("API"),
                    default: false,
                },
            ],
            configuration_types,
            configuration_statuses: vec![
                ConfigurationStatus {
                    id: configuration_status::ACTIVE,
                    name: s("Active"),
                    closed: false,
                    default: true,
                },
                ConfigurationStatus {
                    id: configuration_status::INACTIVE,
                    name: s("Inactive"),
                    closed: false,
                    default: false,
                },
                ConfigurationStatus {
                    id: configuration_status::ON_ORDER,
                    name: s("On Order"),
                    closed: false,
                    default: false,
                },
                ConfigurationStatus {
                    id: configuration_status::DECOMMISSIONED,
                    name: s("Decommissioned"),
                    closed: true,
                    default: false,
                },
            ],
            manufacturers: [
                "Dell",
                "HP",
                "Lenovo",
                "Apple",
                "Microsoft",
                "Cisco",
                "Fortinet",
                "SonicWall",
                "Ubiquiti",
                "Meraki",
                "APC",
                "Synology",
                "Brother",
                "Samsung",
            ]
            .iter()
            .enumerate()
            .map(|(i, name)| Manufacturer {
                id: i as Id + 1,
                name: s(name),
            })
            .collect(),
        }
    }

    /// The board status with this id.
    pub fn board_status(&self, id: Id) -> Option<&BoardStatus> {
        self.board_statuses.iter().find(|s| s.id == id)
    }

    /// The status new tickets on a board get.
    pub fn default_board_status(&self, board_id: Id) -> Option<&BoardStatus> {
        self.board_statuses
            .iter()
            .find(|s| s.board_id == board_id && s.default)
    }

    /// The configuration type with this id.
    pub fn configuration_type(&self, id: Id) -> Option<&ConfigurationType> {
        self.configuration_types.iter().find(|t| t.id == id)
    }

    /// The priority of new tickets.
    pub fn default_priority(&self) -> Id {
        self.priorities
            .iter()
            .find(|x| x.default)
            .map_or(3, |x| x.id)
    }

    /// The source of new tickets.
    pub fn default_source(&self) -> Option<Id> {
        self.sources.iter().find(|x| x.default).map(|x| x.id)
    }

    /// The status of new configurations.
    pub fn default_configuration_status(&self) -> Id {
        self.configuration_statuses
            .iter()
            .find(|x| x.default)
            .map_or(1, |x| x.id)
    }

    /// The sub-issue type id of board subtype `subtype` under board type `issue_type`.
    pub fn sub_issue_type_id(issue_type: Id, subtype: Id) -> Id {
        issue_type * 100 + subtype % 100
    }

    /// Every sub-issue type: each subtype of a board under each type of that board.
    pub fn sub_issue_types(&self) -> impl Iterator<Item = SubIssueType<'_>> {
        self.board_types.iter().flat_map(move |t| {
            self.board_subtypes
                .iter()
                .filter(move |s| s.board_id == t.board_id)
                .map(move |s| SubIssueType {
                    id: Picklists::sub_issue_type_id(t.id, s.id),
                    issue_type: t,
                    subtype: s,
                })
        })
    }

    /// The board subtype of sub-issue type `id` when it belongs to issue type `issue_type`.
    pub fn subtype_of(&self, issue_type: Id, id: Id) -> Option<Id> {
        self.sub_issue_types()
            .find(|s| s.id == id && s.issue_type.id == issue_type)
            .map(|s| s.subtype.id)
    }

    /// The communication type with this id.
    pub fn communication_type(&self, id: Id) -> Option<&CommunicationType> {
        self.communication_types.iter().find(|t| t.id == id)
    }
}

fn product(
    id: Id,
    identifier: &str,
    description: &str,
    price_cents: i64,
    cost_cents: i64,
) -> Product {
    Product {
        id,
        identifier: identifier.to_string(),
        description: description.to_string(),
        inactive: false,
        price_cents,
        cost_cents,
    }
}
