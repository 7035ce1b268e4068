//! Word lists the generator draws realistic names from. Invented, not taken from any real data set.

/// Members who "edited" generated records.
pub(crate) const MEMBERS: &[&str] = &["jsmith", "mlopez", "akhan", "tnguyen", "Admin1"];

/// Given names of contacts.
pub(crate) const FIRST_NAMES: &[&str] = &[
    "Alice", "Andre", "Anna", "Ben", "Bianca", "Carlos", "Chloe", "Daniel", "Dana", "Diego",
    "Elena", "Emma", "Ethan", "Fatima", "Felix", "Grace", "Hannah", "Hugo", "Ines", "Isaac",
    "Jamal", "Jana", "Jonas", "Julia", "Kai", "Karen", "Leo", "Lena", "Liam", "Lucia", "Maya",
    "Marco", "Mia", "Nadia", "Noah", "Olivia", "Omar", "Paula", "Priya", "Quinn", "Rafael", "Rosa",
    "Ryan", "Sara", "Sam", "Sofia", "Tariq", "Tess", "Tom", "Uma", "Victor", "Vera", "Will",
    "Xena", "Yusuf", "Zoe",
];

/// Family names of contacts.
pub(crate) const LAST_NAMES: &[&str] = &[
    "Abbott", "Alvarez", "Baker", "Bennett", "Brooks", "Carter", "Chen", "Collins", "Dawson",
    "Diaz", "Ellis", "Evans", "Fischer", "Flores", "Foster", "Garcia", "Gray", "Hansen", "Harper",
    "Hughes", "Ito", "Jensen", "Kaur", "Keller", "Khan", "Kim", "Larsen", "Lopez", "Mason",
    "Meyer", "Murphy", "Nguyen", "Novak", "O'Brien", "Okafor", "Patel", "Perez", "Quinlan",
    "Reyes", "Rossi", "Russo", "Schmidt", "Silva", "Singh", "Sato", "Tanaka", "Turner", "Vargas",
    "Walsh", "Weber", "Young", "Zimmer",
];

/// First word of client company names.
pub(crate) const COMPANY_PREFIXES: &[&str] = &[
    "Acme",
    "Alder",
    "Apex",
    "Aspen",
    "Atlas",
    "Beacon",
    "Birch",
    "Blue Ridge",
    "Bright",
    "Canyon",
    "Cedar",
    "Clearwater",
    "Coastal",
    "Copper",
    "Crescent",
    "Delta",
    "Eagle",
    "Evergreen",
    "Falcon",
    "Frontier",
    "Granite",
    "Harbor",
    "Heritage",
    "Highland",
    "Horizon",
    "Iron",
    "Juniper",
    "Keystone",
    "Lakeside",
    "Liberty",
    "Maple",
    "Meridian",
    "Midtown",
    "Northwind",
    "Oak",
    "Orchard",
    "Pacific",
    "Pinnacle",
    "Prairie",
    "Quarry",
    "Redwood",
    "Riverside",
    "Sierra",
    "Silver",
    "Summit",
    "Sunrise",
    "Tidewater",
    "Trinity",
    "Union",
    "Valley",
    "Vista",
    "Westbrook",
    "Willow",
    "Zenith",
];

/// Trade of client companies (second part of their names).
pub(crate) const COMPANY_TRADES: &[&str] = &[
    "Accounting",
    "Architects",
    "Auto Repair",
    "Bakery",
    "Builders",
    "Chiropractic",
    "Consulting",
    "Dental",
    "Design",
    "Electric",
    "Engineering",
    "Family Medicine",
    "Financial",
    "Fitness",
    "Insurance",
    "Landscaping",
    "Law",
    "Logistics",
    "Manufacturing",
    "Marketing",
    "Medical",
    "Pharmacy",
    "Plumbing",
    "Printing",
    "Properties",
    "Realty",
    "Roofing",
    "Veterinary",
    "Wealth",
];

/// Legal form or trailing word of client company names.
pub(crate) const COMPANY_SUFFIXES: &[&str] = &[
    "Group",
    "Partners",
    "Associates",
    "LLC",
    "Inc.",
    "& Co.",
    "Services",
    "Clinic",
    "Ltd.",
    "",
];

/// Names of vendor (distributor) companies.
pub(crate) const VENDOR_NAMES: &[&str] = &[
    "Ingram Micro",
    "TD SYNNEX",
    "D&H Distributing",
    "Pax8",
    "CDW",
    "Arrow Electronics",
    "Insight Enterprises",
    "SHI International",
];

/// Cities with their state and a zip code prefix.
pub(crate) const CITIES: &[(&str, &str, &str)] = &[
    ("Tampa", "FL", "336"),
    ("Orlando", "FL", "328"),
    ("Austin", "TX", "787"),
    ("Dallas", "TX", "752"),
    ("Denver", "CO", "802"),
    ("Boise", "ID", "837"),
    ("Portland", "OR", "972"),
    ("Seattle", "WA", "981"),
    ("Phoenix", "AZ", "850"),
    ("Raleigh", "NC", "276"),
    ("Columbus", "OH", "432"),
    ("Madison", "WI", "537"),
    ("Nashville", "TN", "372"),
    ("Omaha", "NE", "681"),
    ("Richmond", "VA", "232"),
    ("Albany", "NY", "122"),
    ("Burlington", "VT", "054"),
    ("Savannah", "GA", "314"),
    ("Tucson", "AZ", "857"),
    ("Spokane", "WA", "992"),
];

/// Street names for address lines.
pub(crate) const STREETS: &[&str] = &[
    "Main St",
    "Oak Ave",
    "Pine St",
    "Maple Dr",
    "Cedar Ln",
    "Elm St",
    "Lake Rd",
    "Hill St",
    "Park Ave",
    "River Rd",
    "Market St",
    "Church St",
    "Mill Rd",
    "Highland Ave",
    "Commerce Blvd",
];

/// Job titles of contacts.
pub(crate) const TITLES: &[&str] = &[
    "Office Manager",
    "Owner",
    "CEO",
    "CFO",
    "Practice Manager",
    "IT Coordinator",
    "Controller",
    "Operations Director",
    "Managing Partner",
    "Administrator",
    "Receptionist",
    "Bookkeeper",
];

/// Ticket summaries; `{c}` is replaced by a contact name, `{d}` by a configuration name.
pub(crate) const TICKET_SUMMARIES: &[&str] = &[
    "Password reset for {c}",
    "New user onboarding: {c}",
    "Printer offline in front office",
    "VPN not connecting for {c}",
    "Outlook keeps asking for credentials",
    "[Alert] Disk space low on {d}",
    "[Alert] {d} offline",
    "[Alert] Backup job failed on {d}",
    "Slow network in the back office",
    "Replace failing UPS battery",
    "Install accounting software update",
    "Phishing email reported by {c}",
    "Wi-Fi drops in conference room",
    "Offboarding: disable account of {c}",
    "Quarterly business review preparation",
    "Firewall firmware upgrade",
    "Shared drive permissions for {c}",
    "Monitor flickering on {d}",
];

/// Texts of ticket notes.
pub(crate) const NOTE_TEXTS: &[&str] = &[
    "Called the user and reproduced the issue.",
    "Remoted in and collected logs.",
    "Waiting on the customer to confirm a maintenance window.",
    "Escalated to the network team.",
    "Applied the fix and verified with the user.",
    "Vendor case opened; awaiting reply.",
    "Rebooted the device; monitoring for recurrence.",
    "Customer confirmed the issue is resolved.",
];
