//! The connection's settings, as the operator configured them.

use crate::error::{Error, Result};

/// The value of setting `name`, if set and not blank.
pub fn get(name: &str) -> Option<String> {
    crate::host::setting(name).filter(|v| !v.trim().is_empty())
}

/// The value of setting `name`, or an `invalid-input` error naming it.
pub fn require(name: &str) -> Result<String> {
    get(name).ok_or_else(|| {
        Error::invalid(
            name,
            format!("setting `{name}` is required: set it in the connection's settings"),
        )
    })
}

/// The value of setting `name`, or `default`.
pub fn get_or(name: &str, default: &str) -> String {
    get(name).unwrap_or_else(|| default.to_string())
}
