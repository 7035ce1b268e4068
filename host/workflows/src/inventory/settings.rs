//! The operator's inventory settings, validated (`[connections.ID.inventory]`, read by
//! `psahost-config`): identifiers in priority order, options, mappings. Picklist entries
//! (configuration types, statuses, vendors, manufacturers) are named by id or name and
//! resolved against the PSA's picklists when a run starts ([`super::catalog`]).

use std::collections::BTreeMap;

/// Where a device's host name is looked for in the PSA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostNameField {
    /// The configuration's notes.
    Notes,
    /// The configuration's name.
    Name,
}

/// One device identifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Identifier {
    /// The device's serial number against the configuration's serial number.
    SerialNumber,
    /// The device's host name against the configuration's notes or name.
    HostName(HostNameField),
    /// The device's name against the configuration's name.
    DeviceName,
}

impl Identifier {
    /// Its name in the configuration and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Identifier::SerialNumber => "serial-number",
            Identifier::HostName(_) => "host-name",
            Identifier::DeviceName => "device-name",
        }
    }
}

/// A device field a field mapping reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceField {
    /// The tool's id of the device.
    DeviceId,
    /// Host name.
    HostName,
    /// Device name.
    DeviceName,
    /// IP address.
    IpAddress,
    /// MAC address.
    MacAddress,
    /// Model name.
    Model,
    /// Serial number.
    SerialNumber,
    /// The site.
    Site,
    /// The device class, through the class -> configuration type mappings.
    DeviceClass,
    /// The make, through the make -> vendor / manufacturer mappings.
    Make,
    /// The day of the run (`yyyy-mm-dd`, UTC): when the device was last mapped.
    LastMapped,
    /// One of the device's field values (`firmware`, `software-version`, `warranty`...).
    Value(String),
}

impl DeviceField {
    /// Parses a field name (`ip-address`, `value:firmware`).
    pub fn parse(name: &str) -> Option<DeviceField> {
        Some(match name {
            "device-id" => DeviceField::DeviceId,
            "host-name" => DeviceField::HostName,
            "device-name" => DeviceField::DeviceName,
            "ip-address" => DeviceField::IpAddress,
            "mac-address" => DeviceField::MacAddress,
            "model" => DeviceField::Model,
            "serial-number" => DeviceField::SerialNumber,
            "site" => DeviceField::Site,
            "device-class" => DeviceField::DeviceClass,
            "make" => DeviceField::Make,
            "last-mapped" => DeviceField::LastMapped,
            other => {
                let value = other.strip_prefix("value:")?;
                if value.is_empty() {
                    return None;
                }
                DeviceField::Value(value.to_string())
            }
        })
    }

    /// The field names [`DeviceField::parse`] accepts.
    pub const NAMES: &'static str = "device-id, host-name, device-name, ip-address, mac-address, model, serial-number, site, device-class, make, last-mapped, value:NAME";
}

/// A configuration field a field mapping writes to every configuration type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigurationField {
    /// Name.
    Name,
    /// Notes.
    Notes,
    /// Serial number.
    SerialNumber,
    /// Model number.
    ModelNumber,
    /// MAC address.
    MacAddress,
    /// IP address.
    IpAddress,
    /// The PSA's device identifier field.
    DeviceIdentifier,
    /// The configuration type (only from `device-class`).
    ConfigurationType,
    /// The vendor (only from `make`).
    Vendor,
    /// The manufacturer (only from `make`).
    Manufacturer,
}

impl ConfigurationField {
    /// Parses a field name (the WIT's: `ip-address`, `configuration-type`).
    pub fn parse(name: &str) -> Option<ConfigurationField> {
        Some(match name {
            "name" => ConfigurationField::Name,
            "notes" => ConfigurationField::Notes,
            "serial-number" => ConfigurationField::SerialNumber,
            "model-number" => ConfigurationField::ModelNumber,
            "mac-address" => ConfigurationField::MacAddress,
            "ip-address" => ConfigurationField::IpAddress,
            "device-identifier" => ConfigurationField::DeviceIdentifier,
            "configuration-type" => ConfigurationField::ConfigurationType,
            "vendor" => ConfigurationField::Vendor,
            "manufacturer" => ConfigurationField::Manufacturer,
            _ => return None,
        })
    }

    /// Its WIT name.
    pub fn name(self) -> &'static str {
        match self {
            ConfigurationField::Name => "name",
            ConfigurationField::Notes => "notes",
            ConfigurationField::SerialNumber => "serial-number",
            ConfigurationField::ModelNumber => "model-number",
            ConfigurationField::MacAddress => "mac-address",
            ConfigurationField::IpAddress => "ip-address",
            ConfigurationField::DeviceIdentifier => "device-identifier",
            ConfigurationField::ConfigurationType => "configuration-type",
            ConfigurationField::Vendor => "vendor",
            ConfigurationField::Manufacturer => "manufacturer",
        }
    }

    /// The field names [`ConfigurationField::parse`] accepts.
    pub const NAMES: &'static str = "name, notes, serial-number, model-number, mac-address, ip-address, device-identifier, configuration-type, vendor, manufacturer";
}

/// Where a field mapping writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A configuration field, on configurations of every type.
    Field(ConfigurationField),
    /// A question of one configuration type.
    Question {
        /// The configuration type (id or name).
        configuration_type: String,
        /// The question's text.
        question: String,
        /// The question's id, when the PSA has ids (ConnectWise needs it to write an answer).
        question_id: Option<String>,
    },
}

/// One field sync mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldMapping {
    /// What it reads of the device.
    pub device: DeviceField,
    /// Where it writes.
    pub target: Target,
}

/// A make's vendor and manufacturer (ids or names; either may be absent).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MakeMapping {
    /// The vendor (a PSA company of the vendor type).
    pub vendor: Option<String>,
    /// The manufacturer.
    pub manufacturer: Option<String>,
}

/// A configuration status change an option makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusChange {
    /// The status to set (id or name); none where the PSA has no statuses (Autotask): only
    /// the active flag changes then.
    pub status: Option<String>,
}

/// `[connections.ID.inventory]`, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct InventorySettings {
    /// The identifiers, highest priority first (at least one; host name and device name never
    /// both).
    pub identifiers: Vec<Identifier>,
    /// Create a configuration for a device no identifier matches.
    pub create_missing: bool,
    /// A configuration matches only when its type is the one the device's class maps to.
    pub use_type_when_matching: bool,
    /// Only active configurations match (a device's stored mapping is still followed).
    pub only_active: bool,
    /// Mark matched configurations active (with this status).
    pub mark_active: Option<StatusChange>,
    /// Mark a deleted device's configuration inactive (with this status).
    pub inactivate_on_delete: Option<StatusChange>,
    /// Only managed devices are synced.
    pub only_managed: bool,
    /// Device class (folded, see [`psahost_matching::normalize::fold`]) -> configuration
    /// type (id or name).
    pub class_types: BTreeMap<String, String>,
    /// Make (folded) -> vendor and manufacturer.
    pub makes: BTreeMap<String, MakeMapping>,
    /// Map makes not mapped yet to the vendor and manufacturer of equal normalised name.
    pub auto_makes: bool,
    /// Field sync mappings.
    pub fields: Vec<FieldMapping>,
    /// The tool's organisation -> PSA company id, before the stored customer links.
    pub companies: BTreeMap<String, String>,
    /// PSA-specific fields of every created configuration (Autotask: `{"productID": n}`).
    pub create_extra: Option<serde_json::Map<String, serde_json::Value>>,
}
