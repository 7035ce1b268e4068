//! End to end: the real wasm plugins in the real sandbox, against the PSA simulator and test
//! servers over loopback. One module per concern: loading, the sandbox's bounds, secrets, each
//! first-party connector against its dialect, and the conformance suite.

mod autotask;
mod conformance;
mod connectwise;
mod datasets;
mod kaseya_bms;
mod loading;
mod sandbox;
mod secrets;
