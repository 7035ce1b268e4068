//! The psahost workflows: what the host does with connections ([`psahost_sandbox`]) and the
//! record store ([`psahost_store`]).
//!
//! - [`records`]: the WIT records as stored JSON (kebab-case WIT field names) and back;
//! - [`sync`]: the sync engine (incremental runs, full sweeps, resume, suspension);
//! - [`views`]: business views over the stored records (MRR, eligible companies).

pub mod records;
pub mod sync;
pub mod views;
