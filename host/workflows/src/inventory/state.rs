//! What the host keeps per device, in the store's host data: the mapping state
//! ([`DeviceRecord`], kind [`DEVICES`]), the intent written before a create
//! ([`Intent`], kind [`INTENTS`]) and the makes mapped automatically ([`AutoMake`], kind
//! [`AUTO_MAKES`]).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The host data kind of the devices' mapping states (key: device id).
pub const DEVICES: &str = "inventory-devices";
/// The host data kind of the intents to create (key: device id).
pub const INTENTS: &str = "inventory-intents";
/// The host data kind of the automatic make mappings (key: the folded make).
pub const AUTO_MAKES: &str = "inventory-makes";

/// A device's mapping state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MappingState {
    /// It has no first online time yet: matched once it has.
    WaitingForOnlineTime,
    /// Received, to be matched by the run under way (or the next one).
    ReadyToMatch,
    /// A configuration is being created for it (an intent is stored).
    MatchingInProgress,
    /// Mapped to a configuration, which is kept in sync.
    MappedAndSyncing,
    /// Not synced, for the reason given.
    NotSynced,
}

impl MappingState {
    /// Its name (`mapped-and-syncing`).
    pub fn name(self) -> &'static str {
        match self {
            MappingState::WaitingForOnlineTime => "waiting-for-online-time",
            MappingState::ReadyToMatch => "ready-to-match",
            MappingState::MatchingInProgress => "matching-in-progress",
            MappingState::MappedAndSyncing => "mapped-and-syncing",
            MappingState::NotSynced => "not-synced",
        }
    }
}

/// Why a device is not synced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum NotSynced {
    /// Its only identifier values are `Unknown` or placeholders.
    OnlyIdentifierUnknown,
    /// It is not managed (and only managed devices are synced).
    Unmanaged,
    /// Its class maps to no configuration type.
    ClassNotMapped {
        /// The device class (none: it has none).
        class: Option<String>,
    },
    /// Several configurations match at the best priority.
    Ambiguous {
        /// The identifier that found them.
        identifier: String,
        /// Their ids (at most [`super::MAX_SHOWN_CANDIDATES`]).
        candidates: Vec<String>,
        /// How many there were.
        total: usize,
    },
    /// No configuration matches and creating is off.
    NoMatch,
    /// Its organisation has no PSA company (no explicit mapping, no customer link).
    CompanyNotLinked {
        /// The organisation (none: the device names none).
        organisation: Option<String>,
    },
    /// Deleted in the tool.
    Deleted,
    /// The PSA refused a write.
    Failed {
        /// What the PSA answered.
        error: String,
    },
}

impl NotSynced {
    /// The reason as one short line.
    pub fn describe(&self) -> String {
        match self {
            NotSynced::OnlyIdentifierUnknown => "only identifier unknown".into(),
            NotSynced::Unmanaged => "unmanaged".into(),
            NotSynced::ClassNotMapped { class } => match class {
                Some(c) => format!("class not mapped ({c})"),
                None => "class not mapped (no class)".into(),
            },
            NotSynced::Ambiguous {
                identifier,
                candidates,
                total,
            } => format!(
                "ambiguous by {identifier}: {}{}",
                candidates.join(", "),
                if *total > candidates.len() {
                    format!(" and {} more", total - candidates.len())
                } else {
                    String::new()
                }
            ),
            NotSynced::NoMatch => "no match (creating is off)".into(),
            NotSynced::CompanyNotLinked { organisation } => format!(
                "company not linked (organisation {})",
                organisation.as_deref().unwrap_or("none")
            ),
            NotSynced::Deleted => "deleted".into(),
            NotSynced::Failed { error } => format!("failed: {error}"),
        }
    }
}

/// A device's stored mapping state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DeviceRecord {
    /// The tool's id.
    pub device_id: String,
    /// Its site.
    pub site: Option<String>,
    /// Its name (or host name).
    pub device_name: Option<String>,
    /// The state.
    pub state: MappingState,
    /// The configuration it is mapped to (kept when the device is deleted, so that a
    /// re-discovered device finds it again).
    pub configuration_id: Option<String>,
    /// The PSA company.
    pub company_id: Option<String>,
    /// Why it is not synced.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub not_synced: Option<NotSynced>,
    /// A note on a mapped device (its configuration's type is read-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The device class (folded) when the configuration took its type: a class mapping
    /// edited later changes only configurations created afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapped_class: Option<String>,
    /// The make (folded) when the configuration took its vendor and manufacturer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapped_make: Option<String>,
    /// psahost marked the configuration inactive (the device was deleted), with the status it
    /// had before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactivated: Option<Inactivated>,
    /// When the state was last written (RFC 3339).
    pub updated_at: String,
}

/// A configuration psahost marked inactive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Inactivated {
    /// Its status before, if it had one.
    pub previous_status_id: Option<String>,
}

/// Written (and made durable) before a configuration is created, removed once the outcome is
/// recorded: an intent still there at the next run means the process died in between, and
/// the configuration is looked for in the PSA before anything is created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Intent {
    /// The tool's id.
    pub device_id: String,
    /// The PSA company.
    pub company_id: String,
    /// The identifier values the configuration is created with (the engine's subject fields).
    pub identifiers: BTreeMap<String, Vec<String>>,
    /// The configuration to create, as JSON (WIT field names).
    pub planned: serde_json::Value,
    /// The configurations of the company the identifiers matched before the create (an
    /// inactive one that "only active" set aside): never taken for the one created.
    #[serde(default)]
    pub known: Vec<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// A make mapped automatically (equal normalised names): never changed by a later
/// automatic mapping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct AutoMake {
    /// The make as the tool named it.
    pub make: String,
    /// The vendor's id.
    pub vendor_id: Option<String>,
    /// The manufacturer's id.
    pub manufacturer_id: Option<String>,
    /// When (RFC 3339).
    pub mapped_at: String,
}
