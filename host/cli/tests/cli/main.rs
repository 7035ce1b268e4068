//! The `psahost` binary as an operator runs it, one test binary with a module per command
//! family: help and errors ([`commands`]), `plugin call --all-pages` ([`all_pages`]), `plugin
//! check` against a vendor's server ([`plugin_check`]), `sync` ([`sync_cli`], [`sync_kill`]),
//! `link` ([`link`]), `inventory` ([`inventory`]), alert delivery and the billable sync ([`delivery`]) and `serve` ([`serve`], [`serve_cli`], [`serve_reload`]).

mod all_pages;
mod cluster;
mod commands;
mod delivery;
mod inventory;
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

/// What `psahost` printed and how it exited.
struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `psahost --config CONFIG ARGS...` to the end.
async fn run(config: &Path, args: &[&str]) -> Out {
    let out = psahost_testkit::sync::psahost_command(psahost_bin(), config, args)
        .output()
        .await
        .unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
