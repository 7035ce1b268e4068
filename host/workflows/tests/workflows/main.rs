//! The workflows end to end: the real connectors (wasm) against the PSA simulator over
//! loopback, into a real sled store ([`sync`]) and a real PostgreSQL store ([`postgres`]); rule
//! sets with real custom rule components ([`rules`]).

mod postgres;
mod rules;
mod sync;
