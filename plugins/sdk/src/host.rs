//! Where the SDK's host calls go: the host's imports in a wasm build; the in-process fake of
//! [`crate::fake`] in a native build (unit tests), where the imports do not exist and the
//! generated bindings would abort the test binary (`unreachable`).
//!
//! The SDK's wrappers ([`crate::http`], [`crate::kv`], [`crate::log`], [`crate::settings`],
//! [`crate::time::now_unix`]) call these and nothing else, so a connector's code runs unchanged
//! on both.

#[cfg(target_family = "wasm")]
mod imp {
    use crate::bindings::psa::connector::{http, kv, log, settings};

    pub fn send(request: &http::Request) -> Result<http::Response, http::HttpError> {
        http::send(request)
    }
    pub fn kv_get(key: &str) -> Result<Option<Vec<u8>>, kv::KvError> {
        kv::get(key)
    }
    pub fn kv_set(key: &str, value: &[u8]) -> Result<(), kv::KvError> {
        kv::set(key, value)
    }
    pub fn kv_delete(key: &str) -> Result<(), kv::KvError> {
        kv::delete(key)
    }
    pub fn kv_list_keys(prefix: &str) -> Result<Vec<String>, kv::KvError> {
        kv::list_keys(prefix)
    }
    pub fn log(level: log::Level, message: &str) {
        log::log(level, message)
    }
    pub fn setting(name: &str) -> Option<String> {
        settings::get(name)
    }
    /// The sandbox's clock is the real one.
    pub fn clock() -> Option<u64> {
        None
    }
}

#[cfg(not(target_family = "wasm"))]
mod imp {
    pub use crate::fake::host::*;
}

pub(crate) use imp::*;
