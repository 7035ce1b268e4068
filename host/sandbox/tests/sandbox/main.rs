//! The sandbox's tests with real components: typed rule calls (`rule`).

mod rule;
