//! The connection's private key-value store: discovered endpoints, tokens, small caches.
//!
//! Values survive across calls and restarts of the host; they are bound to one connection and
//! never visible to another.

use crate::error::Result;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The raw bytes stored under `key`.
pub fn get(key: &str) -> Result<Option<Vec<u8>>> {
    Ok(crate::host::kv_get(key)?)
}

/// Stores raw bytes under `key`.
pub fn set(key: &str, value: &[u8]) -> Result<()> {
    Ok(crate::host::kv_set(key, value)?)
}

/// Removes `key`.
pub fn delete(key: &str) -> Result<()> {
    Ok(crate::host::kv_delete(key)?)
}

/// The keys that start with `prefix`.
pub fn list_keys(prefix: &str) -> Result<Vec<String>> {
    Ok(crate::host::kv_list_keys(prefix)?)
}

/// The UTF-8 text stored under `key`; a value that is not UTF-8 reads as absent.
pub fn get_string(key: &str) -> Result<Option<String>> {
    Ok(get(key)?.and_then(|v| String::from_utf8(v).ok()))
}

/// Stores text under `key`.
pub fn set_string(key: &str, value: &str) -> Result<()> {
    set(key, value.as_bytes())
}

/// The JSON value stored under `key`; a value that does not parse as `T` reads as absent, so a
/// connector upgrade that changes a cached shape simply re-discovers it.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>> {
    Ok(get(key)?.and_then(|v| serde_json::from_slice(&v).ok()))
}

/// Stores `value` as JSON under `key`.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec(value)?;
    set(key, &bytes)
}
