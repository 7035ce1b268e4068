//! PSA simulator (being written).
