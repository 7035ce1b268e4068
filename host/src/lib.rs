//! psahost (being written).
