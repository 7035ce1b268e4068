//! The store conformance suite (`psahost_store::conformance`) on every backend, and each
//! backend's own tests.

mod pg_server;
mod postgres;
mod sled;
