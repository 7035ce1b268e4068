//! Inventory sync: the tool's devices to PSA configuration items (issue 12).
//!
//! A batch of devices ([`devices`]) is matched to the connection's synced configurations by
//! the operator's identifiers in priority order, OR-combined (serial number, host name in the
//! notes or the name, device name; [`settings`]), through the matching engine
//! (`psahost-matching`): the first identifier that finds configurations decides, one is a
//! match, several are ambiguous (not synced, candidates reported), none creates a
//! configuration when creating is on. A device whose identifier values are all `Unknown` or
//! placeholders is not synced. [`plan`] decides per device, pure; [`run`] writes through the
//! connection and records each device's mapping state ([`state`]), an audit entry per write,
//! and an intent before each create (crash safety: see [`run`]).
//!
//! The re-discovery pitfall (with "only active" and "inactive on delete", a device deleted and
//! discovered again would create a duplicate): a device's stored mapping is followed before
//! any matching, whatever the configuration's active flag, and psahost reactivates a
//! configuration it inactivated itself.

pub mod devices;
pub mod plan;
pub mod run;
pub mod settings;
pub mod state;

pub use devices::{Device, parse_devices};
pub use run::{InventoryProgress, InventoryReport, list_devices, sync_inventory};
pub use settings::InventorySettings;

/// The most candidates an ambiguous device lists (the total is given beside).
pub const MAX_SHOWN_CANDIDATES: usize = 20;

/// An RFC 3339 time.
pub(crate) fn parse_time(text: &str) -> anyhow::Result<time::OffsetDateTime> {
    Ok(time::OffsetDateTime::parse(
        text,
        &time::format_description::well_known::Rfc3339,
    )?)
}
