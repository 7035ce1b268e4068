//! The PSA API dialects; each turns the shared data set and fault knobs into its vendor's HTTP API.

pub(crate) mod connectwise;

use std::sync::Arc;

use axum::Router;

use crate::config::Dialect;
use crate::state::Shared;

/// The HTTP router of the configured dialect.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    match shared.config.dialect {
        Dialect::ConnectWise => connectwise::router(shared),
    }
}
