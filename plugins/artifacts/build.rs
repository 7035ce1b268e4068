//! Builds every plugin crate of the workspace for `wasm32-wasip2` with a nested cargo, so that
//! `cargo build`, `cargo run` and `cargo test` at the root need no manual step.
//!
//! The nested build uses its own target directory (`target/wasm32-plugins`), which keeps cargo's
//! lock on the outer target directory out of the way and lets debug, release and clippy builds of
//! the host share one set of plugin artifacts.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// (package, role). `bundled` plugins are embedded in the psahost binary; the others are only
/// reachable by path (test and example plugins).
const PLUGINS: &[(&str, bool)] = &[
    ("connectwise-manage", true),
    ("autotask", true),
    ("kaseya-bms", true),
    ("example-rule", false),
    ("flawed", false),
    ("hostile", false),
    ("tiny-psa", false),
    ("hostile-rule", false),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.join("../..").canonicalize().unwrap();
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    let target_dir = env::var_os("PSAHOST_PLUGIN_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/wasm32-plugins"));

    for watched in ["plugins", "wit", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=PSAHOST_PLUGIN_TARGET_DIR");

    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .arg("build")
        .arg("--profile=plugin")
        .arg("--target=wasm32-wasip2")
        .arg("--target-dir")
        .arg(&target_dir);
    for (package, _) in PLUGINS {
        cmd.arg("--package").arg(package);
    }
    // The outer build's flags and wrappers (clippy, coverage) are for the host target.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_LLVM_COV",
        "LLVM_PROFILE_FILE",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the wasm plugins: {e}"));
    if !status.success() {
        panic!(
            "building the wasm plugins failed (see above). Is the target installed? \
             Run `rustup target add wasm32-wasip2`."
        );
    }

    let release = target_dir.join("wasm32-wasip2/plugin");
    let mut code = String::new();
    let mut bundled_list = String::new();
    for (package, bundled) in PLUGINS {
        let file = format!("{}.wasm", package.replace('-', "_"));
        let built = release.join(&file);
        let copy = out_dir.join(&file);
        copy_if_changed(&built, &copy);
        let konst = package.replace('-', "_").to_uppercase();
        writeln!(
            code,
            "/// Path of the `{package}` component as built by this crate's build script.\n\
             pub const {konst}_PATH: &str = {:?};",
            copy.display().to_string()
        )
        .unwrap();
        if *bundled {
            writeln!(
                code,
                "/// The `{package}` component, embedded.\n\
                 pub const {konst}: &[u8] = include_bytes!({:?});",
                copy.display().to_string()
            )
            .unwrap();
            writeln!(bundled_list, "    ({package:?}, {konst}),").unwrap();
        }
    }
    writeln!(
        code,
        "/// The bundled connectors: (id, component bytes).\n\
         pub const BUNDLED: &[(&str, &[u8])] = &[\n{bundled_list}];"
    )
    .unwrap();
    std::fs::write(out_dir.join("artifacts.rs"), code).unwrap();
}

fn copy_if_changed(from: &Path, to: &Path) {
    let new = std::fs::read(from)
        .unwrap_or_else(|e| panic!("the plugin build did not produce {}: {e}", from.display()));
    if std::fs::read(to).ok().as_deref() != Some(&new[..]) {
        std::fs::write(to, new).unwrap();
    }
}
