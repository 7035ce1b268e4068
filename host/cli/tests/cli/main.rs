//! The `psahost` binary as an operator runs it, one test binary with a module per command
//! family: help and errors ([`commands`]), `plugin call --all-pages` ([`all_pages`]), `plugin
//! check` against a vendor's server ([`plugin_check`]), `sync` ([`sync_cli`], [`sync_kill`]),
//! `link` ([`link`]) and `serve` ([`serve`], [`serve_cli`], [`serve_reload`]).

mod all_pages;
mod commands;
mod link;
mod plugin_check;
mod serve;
mod serve_cli;
mod serve_reload;
mod sync_cli;
mod sync_kill;

use std::path::Path;

/// The `psahost` binary cargo built for these tests.
fn psahost_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_psahost"))
}
