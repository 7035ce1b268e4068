//! The PSA API dialects; each turns the shared data set and fault knobs into its vendor's HTTP API.

pub(crate) mod autotask;
pub(crate) mod connectwise;
pub(crate) mod http;
pub(crate) mod json;
pub(crate) mod kaseya_bms;
pub(crate) mod window;

use std::sync::Arc;

use axum::Router;

use crate::config::Dialect;
use crate::state::Shared;

/// The HTTP router of the configured dialect.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    match shared.config.dialect {
        Dialect::ConnectWise => connectwise::router(shared),
        Dialect::Autotask => autotask::router(shared),
        Dialect::KaseyaBms => kaseya_bms::router(shared),
    }
}
