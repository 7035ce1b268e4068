//! The workflows end to end: the real connectors (wasm) against the PSA simulator over
//! loopback, into a real sled store ([`sync`]) and a real PostgreSQL store ([`postgres`]).

mod postgres;
mod sync;
