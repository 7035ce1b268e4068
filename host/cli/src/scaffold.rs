//! `psahost plugin new NAME`: a connector crate to start from.
//!
//! The crate is the author's guide's example (`plugins/README.md`) under the new name: a
//! `test-connection` and a paged `list-companies` against a placeholder PSA, every other
//! operation of the contract as a skeleton answering `unsupported`, and native tests on the
//! SDK's fake host. It builds for `wasm32-wasip2` and passes its tests as written.

use anyhow::{Context, anyhow};
use clap::Args;
use psahost_sandbox::runtime::is_kebab_id;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const CARGO_TOML: &str = include_str!("../templates/connector/Cargo.toml.in");
const LIB_RS: &str = include_str!("../templates/connector/lib.rs.in");

/// `psahost plugin new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The connector's id and crate name, lowercase kebab-case (`halo-psa`).
    #[arg(value_name = "NAME")]
    pub name: String,
    /// Where to write the crate (default: a new directory NAME here).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Use the SDK at this path instead of the published `psa-sdk` (for example an unpacked
    /// `psa-sdk-*.crate`, or `plugins/sdk` of a psahost checkout).
    #[arg(long, value_name = "PATH")]
    pub sdk_path: Option<PathBuf>,
}

pub(super) fn run(args: NewArgs) -> anyhow::Result<ExitCode> {
    let name = args.name.as_str();
    if !is_kebab_id(name) || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(anyhow!(
            "`{name}` is not a connector name: use lowercase kebab-case starting with a letter, like `halo-psa`"
        ));
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .with_context(|| format!("cannot read `{}`", dir.display()))?
            .next()
            .is_some()
    {
        return Err(anyhow!(
            "`{}` exists and is not empty: choose another --dir, nothing was written",
            dir.display()
        ));
    }
    let sdk = match &args.sdk_path {
        None => format!(
            "psa-sdk = \"{}\"",
            env!("CARGO_PKG_VERSION")
                .rsplit_once('.')
                .map_or("0.1", |(v, _)| v)
        ),
        Some(path) => {
            let path = std::path::absolute(path)
                .with_context(|| format!("--sdk-path `{}`", path.display()))?;
            if !path.join("Cargo.toml").is_file() {
                return Err(anyhow!(
                    "--sdk-path `{}` holds no Cargo.toml: give the directory of the psa-sdk crate",
                    path.display()
                ));
            }
            format!("psa-sdk = {{ path = {:?} }}", path.display().to_string())
        }
    };
    let vars = [
        ("{{crate-name}}", name.to_string()),
        ("{{id}}", name.to_string()),
        ("{{struct-name}}", struct_name(name)),
        ("{{title}}", title(name)),
        ("{{sdk-dependency}}", sdk),
    ];
    let fill = |template: &str| {
        vars.iter()
            .fold(template.to_string(), |text, (key, value)| {
                text.replace(key, value)
            })
    };
    write(&dir.join("Cargo.toml"), &fill(CARGO_TOML))?;
    write(&dir.join("src/lib.rs"), &fill(LIB_RS))?;
    write(&dir.join(".gitignore"), "/target\n")?;
    outln!("wrote the connector `{name}` in {}", dir.display());
    outln!("  cd {}", dir.display());
    outln!("  cargo test                                      # its tests, natively");
    outln!("  cargo build --release --target wasm32-wasip2    # the component");
    outln!(
        "  psahost plugin inspect target/wasm32-wasip2/release/{}.wasm",
        name.replace('-', "_")
    );
    Ok(ExitCode::SUCCESS)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write `{}`", path.display()))
}

/// `halo-psa` -> `HaloPsa`.
fn struct_name(name: &str) -> String {
    name.split('-').map(capitalized).collect()
}

/// `halo-psa` -> `Halo Psa`.
fn title(name: &str) -> String {
    name.split('-')
        .map(capitalized)
        .collect::<Vec<_>>()
        .join(" ")
}

fn capitalized(part: &str) -> String {
    let mut chars = part.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_ascii_uppercase().to_string() + chars.as_str()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(struct_name("halo-psa"), "HaloPsa");
        assert_eq!(struct_name("syncro2"), "Syncro2");
        assert_eq!(title("halo-psa"), "Halo Psa");
    }

    #[test]
    fn the_templates_hold_every_placeholder_they_use() {
        for template in [CARGO_TOML, LIB_RS] {
            let mut rest = template;
            while let Some(start) = rest.find("{{") {
                let end = rest[start..].find("}}").expect("closed") + start + 2;
                let key = &rest[start..end];
                assert!(
                    [
                        "{{crate-name}}",
                        "{{id}}",
                        "{{struct-name}}",
                        "{{title}}",
                        "{{sdk-dependency}}"
                    ]
                    .contains(&key),
                    "unknown placeholder {key}"
                );
                rest = &rest[end..];
            }
        }
    }
}
