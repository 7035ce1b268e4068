//! The psahost workflows: what the host does with connections ([`psahost_sandbox`]) and the
//! record store ([`psahost_store`]).
//!
//! - [`inventory`]: inventory sync, the tool's devices to PSA configuration items;
//! - [`delivery`]: alerts routed to PSA accounts and delivered as tickets or grouped notes,
//!   exactly once through a durable queue; its settings checked against the PSA's picklists;
//! - [`billing`]: billable-user counts written as contract service quantities once per period;
//! - [`input`]: the tool's records (customers, devices) read from a JSON array or JSON lines;
//! - [`linking`]: rule sets with custom rule components decided (the sandbox calls around
//!   the pure [`psahost_matching`] engine), and linking the tool's customers to PSA companies;
//! - [`records`]: the WIT records as stored JSON (kebab-case WIT field names) and back;
//! - [`sync`]: the sync engine (incremental runs, full sweeps, resume, suspension);
//! - [`views`]: business views over the stored records (MRR, eligible companies).

pub mod billing;
pub mod delivery;
pub mod input;
pub mod inventory;
pub mod linking;
pub mod locks;
pub mod records;
pub mod sync;
pub mod views;
