//! The workflows end to end: the real connectors (wasm) against the PSA simulator over
//! loopback, into a real sled store ([`sync`]) and a real PostgreSQL store ([`postgres`]); rule
//! sets with real custom rule components ([`rules`]); customer linking over the simulator
//! ([`linking`]); inventory sync against ConnectWise and Autotask ([`inventory`]); alert
//! delivery and the billable sync in each dialect ([`delivery`]).

mod delivery;
mod inventory;
mod linking;
mod postgres;
mod rules;
mod sync;
