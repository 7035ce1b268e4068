//! The store conformance suite (`psahost_store::conformance`) on every backend, and each
//! backend's own tests.

mod postgres;
mod sled;
mod tls;
