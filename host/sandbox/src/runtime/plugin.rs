//! Loading a plugin: read, check it is a component of a supported world and WIT version,
//! compile (through the engine's cache), pre-instantiate, and call `describe`.

use super::compile::CompileFailure;
use super::{CallError, CallState, Runtime};
use crate::bindings::exports::psa::connector::connector_api::ConnectorInfo;
use crate::bindings::exports::psa::connector::rule_api::RuleInfo;
use crate::bindings::{ConnectorIndices, ContractVersion, RuleIndices, SUPPORTED_RANGE};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use wasmtime::component::{Component, InstancePre};

/// The current WIT package version; components built for any version in
/// [`SUPPORTED_RANGE`] load.
pub const SUPPORTED_WIT: &str = "psa:connector@0.2.0";
const PACKAGE: &str = "psa:connector";
const CONNECTOR_EXPORT: &str = "connector-api";
const RULE_EXPORT: &str = "rule-api";

/// Where a plugin comes from.
#[derive(Clone, Debug)]
pub enum PluginSource {
    /// A `.wasm` file.
    File(PathBuf),
    /// A connector bundled in the psahost binary (`builtin:connectwise-manage`).
    Builtin(String),
    /// Bytes from elsewhere, with a name for messages.
    Bytes {
        /// Shown in messages.
        name: String,
        /// The component.
        bytes: Arc<[u8]>,
    },
}

impl PluginSource {
    /// `builtin:NAME` or a file path.
    pub fn parse(text: &str) -> PluginSource {
        match text.strip_prefix("builtin:") {
            Some(name) => PluginSource::Builtin(name.to_string()),
            None => PluginSource::File(PathBuf::from(text)),
        }
    }

    /// The component's bytes, refused before they are read in full when there are more than
    /// `max_size` of them.
    fn read(&self, bundled: &BundledPlugins, max_size: u64) -> Result<Arc<[u8]>, LoadError> {
        let too_large = |size: u64| LoadError::TooLarge {
            source_name: self.to_string(),
            size,
            limit: max_size,
        };
        match self {
            PluginSource::File(path) => {
                let read_error = |e: std::io::Error| LoadError::Read {
                    source_name: self.to_string(),
                    message: e.to_string(),
                };
                let file = std::fs::File::open(path).map_err(read_error)?;
                let size = file.metadata().map_err(read_error)?.len();
                if size > max_size {
                    return Err(too_large(size));
                }
                // Read at most one byte past the limit: a file that grows meanwhile is caught too.
                let mut bytes = Vec::with_capacity(size as usize);
                std::io::Read::read_to_end(&mut std::io::Read::take(file, max_size + 1), &mut bytes)
                    .map_err(read_error)?;
                if bytes.len() as u64 > max_size {
                    return Err(too_large(bytes.len() as u64));
                }
                Ok(Arc::from(bytes))
            }
            PluginSource::Bytes { bytes, .. } if bytes.len() as u64 > max_size => {
                Err(too_large(bytes.len() as u64))
            }
            PluginSource::Builtin(name) => bundled.get(name).map(Arc::from).ok_or_else(|| {
                LoadError::Read {
                    source_name: self.to_string(),
                    message: if bundled.0.is_empty() {
                        format!(
                            "no bundled connector is called `{name}`: this program bundles none; give the plugin's .wasm file instead"
                        )
                    } else {
                        format!(
                            "no bundled connector is called `{name}`; bundled: {}",
                            bundled.names().collect::<Vec<_>>().join(", ")
                        )
                    },
                }
            }),
            PluginSource::Bytes { bytes, .. } => Ok(bytes.clone()),
        }
    }
}

impl fmt::Display for PluginSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginSource::File(path) => write!(f, "{}", path.display()),
            PluginSource::Builtin(name) => write!(f, "builtin:{name}"),
            PluginSource::Bytes { name, .. } => f.write_str(name),
        }
    }
}

/// The connectors a program bundles, by id: what `builtin:ID` names. The sandbox bundles
/// nothing itself; the `psahost` binary hands in the first-party connectors it embeds.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct BundledPlugins(pub &'static [(&'static str, &'static [u8])]);

impl BundledPlugins {
    /// The component of the bundled connector `id`.
    pub fn get(&self, id: &str) -> Option<&'static [u8]> {
        self.0
            .iter()
            .find(|(name, _)| *name == id)
            .map(|(_, bytes)| *bytes)
    }

    /// The ids, in bundling order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|(name, _)| *name)
    }
}

// Lists the ids only: the components are megabytes of bytes.
impl fmt::Debug for BundledPlugins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// Why a plugin did not load. Every message names the plugin and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read plugin `{source_name}`: {message}")]
    Read {
        /// The plugin's source.
        source_name: String,
        /// Why.
        message: String,
    },
    /// Not WebAssembly at all.
    #[error(
        "`{source_name}` is not a WebAssembly file (it does not start with the `\\0asm` magic)"
    )]
    NotWasm {
        /// The plugin's source.
        source_name: String,
    },
    /// A core module, not a component.
    #[error(
        "`{source_name}` is a core WebAssembly module, not a component: build it for the `wasm32-wasip2` target (or wrap it with `wasm-tools component new`)"
    )]
    NotComponent {
        /// The plugin's source.
        source_name: String,
    },
    /// The bytes do not match the operator's pin.
    #[error(
        "`{source_name}` has sha256 {actual}, but the configuration pins {expected}: the file changed; update the pin only if you trust the new file"
    )]
    HashMismatch {
        /// The plugin's source.
        source_name: String,
        /// The pinned hash.
        expected: String,
        /// The file's hash.
        actual: String,
    },
    /// Larger than the operator allows.
    #[error(
        "`{source_name}` is {size} bytes, more than `runtime.max-component-size` ({limit} bytes): it is refused before it is compiled; raise the limit if you trust it"
    )]
    TooLarge {
        /// The plugin's source.
        source_name: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Its compilation ran past the time limit and was stopped.
    #[error(
        "`{source_name}` took longer than `runtime.compile-timeout` ({limit_ms} ms) to compile and was stopped: a component this slow to compile is refused; raise the limit only if you trust it"
    )]
    CompileTimeout {
        /// The plugin's source.
        source_name: String,
        /// The limit.
        limit_ms: u64,
    },
    /// Its compilation needed more memory than the limit and was stopped.
    #[error(
        "`{source_name}` needed more than `runtime.compile-memory` ({limit} bytes) to compile and was stopped: a component this costly to compile is refused; raise the limit only if you trust it"
    )]
    CompileMemory {
        /// The plugin's source.
        source_name: String,
        /// The limit.
        limit: u64,
    },
    /// Invalid or uncompilable component.
    #[error("`{source_name}` is not a valid component: {message}")]
    Invalid {
        /// The plugin's source.
        source_name: String,
        /// The validator's or compiler's message.
        message: String,
    },
    /// A component, but of another world.
    #[error(
        "`{source_name}` is not a psahost plugin: it exports {exports} but neither `{PACKAGE}/{CONNECTOR_EXPORT}` (world `connector`) nor `{PACKAGE}/{RULE_EXPORT}` (world `matching-rule`)"
    )]
    WrongWorld {
        /// The plugin's source.
        source_name: String,
        /// What it exports instead.
        exports: String,
    },
    /// Built for a WIT version this host does not implement.
    #[error(
        "`{source_name}` was built for {found}, which this host does not support (it runs {SUPPORTED_RANGE}; its newest is {SUPPORTED_WIT}): rebuild the plugin against a supported version or upgrade psahost"
    )]
    UnsupportedVersion {
        /// The plugin's source.
        source_name: String,
        /// The package version it exports.
        found: String,
    },
    /// It needs imports the host does not provide, or its exports have the wrong shape.
    #[error("`{source_name}` does not fit this host: {message}")]
    Incompatible {
        /// The plugin's source.
        source_name: String,
        /// Which import or export.
        message: String,
    },
    /// `describe` failed or returned something unusable.
    #[error("`{source_name}` failed to describe itself: {message}")]
    Describe {
        /// The plugin's source.
        source_name: String,
        /// Why.
        message: String,
    },
}

/// What kind of plugin it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    /// World `connector`.
    Connector,
    /// World `matching-rule`.
    MatchingRule,
}

/// What the plugin said about itself.
#[derive(Clone, Debug)]
pub enum PluginInfo {
    /// A connector's description.
    Connector(ConnectorInfo),
    /// A rule's description.
    MatchingRule(RuleInfo),
}

#[derive(Clone)]
pub(crate) enum Exports {
    Connector(ConnectorIndices),
    Rule(RuleIndices),
}

/// A loaded plugin: compiled, linked and described. Cheap to share; every call instantiates it
/// afresh from the pre-instantiated form.
pub struct Plugin {
    source: PluginSource,
    sha256: String,
    wit_version: String,
    contract: ContractVersion,
    pre: InstancePre<CallState>,
    exports: Exports,
    info: PluginInfo,
}

impl Plugin {
    /// The plugin's id (from `describe`).
    pub fn id(&self) -> &str {
        match &self.info {
            PluginInfo::Connector(c) => &c.id,
            PluginInfo::MatchingRule(r) => &r.id,
        }
    }

    /// Where it was loaded from.
    pub fn source(&self) -> &PluginSource {
        &self.source
    }

    /// The sha256 of the component, hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The WIT package and version it exports (`psa:connector@0.1.0`).
    pub fn wit_version(&self) -> &str {
        &self.wit_version
    }

    /// The contract version it was built for.
    pub fn contract(&self) -> ContractVersion {
        self.contract
    }

    /// Connector or matching rule.
    pub fn kind(&self) -> PluginKind {
        match self.info {
            PluginInfo::Connector(_) => PluginKind::Connector,
            PluginInfo::MatchingRule(_) => PluginKind::MatchingRule,
        }
    }

    /// Its description.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// The connector description, if it is a connector.
    pub fn connector_info(&self) -> Option<&ConnectorInfo> {
        match &self.info {
            PluginInfo::Connector(c) => Some(c),
            PluginInfo::MatchingRule(_) => None,
        }
    }

    /// The name of its exported interface (`psa:connector/connector-api@0.1.0`).
    pub fn export_name(&self) -> String {
        let (package, version) = self
            .wit_version
            .split_once('@')
            .unwrap_or((PACKAGE, "0.1.0"));
        let interface = match self.kind() {
            PluginKind::Connector => CONNECTOR_EXPORT,
            PluginKind::MatchingRule => RULE_EXPORT,
        };
        format!("{package}/{interface}@{version}")
    }

    pub(crate) fn pre(&self) -> &InstancePre<CallState> {
        &self.pre
    }

    pub(crate) fn rule_indices(&self) -> Option<&RuleIndices> {
        match &self.exports {
            Exports::Rule(i) => Some(i),
            Exports::Connector(_) => None,
        }
    }

    /// The rule description, if it is a matching rule.
    pub fn rule_info(&self) -> Option<&RuleInfo> {
        match &self.info {
            PluginInfo::MatchingRule(r) => Some(r),
            PluginInfo::Connector(_) => None,
        }
    }

    pub(crate) fn connector_indices(&self) -> Option<&ConnectorIndices> {
        match &self.exports {
            Exports::Connector(i) => Some(i),
            Exports::Rule(_) => None,
        }
    }
}

pub(super) async fn load(
    runtime: &Arc<Runtime>,
    source: PluginSource,
    pin: Option<&str>,
) -> Result<Plugin, LoadError> {
    let source_name = source.to_string();
    let config = runtime.config();
    let bytes = source.read(&config.bundled, config.max_component_size)?;
    if !bytes.starts_with(b"\0asm") {
        return Err(LoadError::NotWasm { source_name });
    }
    // The preamble's version and layer: core modules are `01 00 00 00`, components have layer 1.
    if bytes.get(4..8) == Some(&[1, 0, 0, 0]) {
        return Err(LoadError::NotComponent { source_name });
    }
    let sha256 = hex::encode(Sha256::digest(&bytes));
    // Checked before anything of the plugin runs.
    if let Some(expected) = pin
        && !expected.eq_ignore_ascii_case(&sha256)
    {
        return Err(LoadError::HashMismatch {
            source_name,
            expected: expected.to_string(),
            actual: sha256,
        });
    }

    let component =
        runtime
            .compile(bytes.clone(), &sha256)
            .await
            .map_err(|failure| match failure {
                CompileFailure::Invalid(message) => LoadError::Invalid {
                    source_name: source_name.clone(),
                    message,
                },
                CompileFailure::Timeout(limit) => LoadError::CompileTimeout {
                    source_name: source_name.clone(),
                    limit_ms: limit.as_millis() as u64,
                },
                CompileFailure::Memory(limit) => LoadError::CompileMemory {
                    source_name: source_name.clone(),
                    limit,
                },
            })?;

    let (kind, wit_version, contract) = classify_exports(&component, runtime, &source_name)?;
    let pre =
        runtime
            .linker()
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Incompatible {
                source_name: source_name.clone(),
                message: format!("{e:#}"),
            })?;
    let incompatible = |e: wasmtime::Error| LoadError::Incompatible {
        source_name: source_name.clone(),
        message: format!("{e:#}"),
    };
    let exports = match kind {
        PluginKind::Connector => {
            Exports::Connector(ConnectorIndices::new(&pre, contract).map_err(incompatible)?)
        }
        PluginKind::MatchingRule => {
            Exports::Rule(RuleIndices::new(&pre, contract).map_err(incompatible)?)
        }
    };

    let mut plugin = Plugin {
        source,
        sha256,
        wit_version,
        contract,
        pre,
        exports,
        // Replaced below by what `describe` returns.
        info: PluginInfo::MatchingRule(RuleInfo {
            id: source_name.clone(),
            name: String::new(),
            version: String::new(),
            vendor: String::new(),
            description: String::new(),
            subject_kinds: Vec::new(),
            candidate_entities: Vec::new(),
        }),
    };
    let describe_error = |e: CallError| LoadError::Describe {
        source_name: source_name.clone(),
        message: e.to_string(),
    };
    // The two worlds' `describe` differ only in their types.
    macro_rules! describe {
        ($indices:expr) => {
            runtime
                .call(&plugin, None, "describe", |store, instance| {
                    Box::pin(async move {
                        $indices
                            .load_checked(&mut *store, instance)?
                            .call_describe(&mut *store)
                            .await
                    })
                })
                .await
                .map_err(describe_error)?
        };
    }
    plugin.info = match plugin.exports.clone() {
        Exports::Connector(indices) => PluginInfo::Connector(describe!(indices)),
        Exports::Rule(indices) => PluginInfo::MatchingRule(describe!(indices)),
    };
    validate_info(&plugin.info).map_err(|message| LoadError::Describe {
        source_name: source_name.clone(),
        message,
    })?;
    tracing::debug!(plugin = plugin.id(), source = %source_name, sha256 = %plugin.sha256, "plugin loaded");
    Ok(plugin)
}

/// Finds which psa:connector interface the component exports, and at which version.
fn classify_exports(
    component: &Component,
    runtime: &Runtime,
    source_name: &str,
) -> Result<(PluginKind, String, ContractVersion), LoadError> {
    let ty = component.component_type();
    let names: Vec<String> = ty
        .exports(runtime.engine())
        .map(|(name, _)| name.to_string())
        .collect();
    for name in &names {
        let Some(rest) = name.strip_prefix(&format!("{PACKAGE}/")) else {
            continue;
        };
        let (interface, version) = rest.split_once('@').unwrap_or((rest, ""));
        let kind = match interface {
            CONNECTOR_EXPORT => PluginKind::Connector,
            RULE_EXPORT => PluginKind::MatchingRule,
            _ => continue,
        };
        let Some(contract) = ContractVersion::of(version) else {
            return Err(LoadError::UnsupportedVersion {
                source_name: source_name.to_string(),
                found: format!(
                    "{PACKAGE}@{}",
                    if version.is_empty() {
                        "(unversioned)"
                    } else {
                        version
                    }
                ),
            });
        };
        return Ok((kind, format!("{PACKAGE}@{version}"), contract));
    }
    Err(LoadError::WrongWorld {
        source_name: source_name.to_string(),
        exports: if names.is_empty() {
            "nothing".to_string()
        } else {
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        },
    })
}

/// Whether `id` is lowercase kebab-case (`connectwise-manage`): the form of plugin and setting ids.
pub fn is_kebab_id(id: &str) -> bool {
    !id.is_empty()
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Most settings a connector's description may declare.
pub const MAX_SETTINGS: usize = 64;
/// Most datasets a connector's description may declare.
pub const MAX_DATASETS: usize = 256;
/// Most read-only configuration types a connector's description may name.
pub const MAX_READ_ONLY_TYPES: usize = 256;
/// The largest page a connector may declare for an entity or a dataset. The host asks for the
/// declared maximum by default, and a page's records are held in memory at once.
pub const MAX_PAGE_SIZE: u32 = 10_000;
/// The longest dataset name, in bytes: it is part of every stored record's key.
pub const MAX_DATASET_NAME: usize = 64;
/// The longest dataset label or description, in bytes.
const MAX_DATASET_TEXT: usize = 4096;

fn validate_info(info: &PluginInfo) -> Result<(), String> {
    let id = match info {
        PluginInfo::Connector(c) => &c.id,
        PluginInfo::MatchingRule(r) => &r.id,
    };
    if !is_kebab_id(id) {
        return Err(format!(
            "its id `{id}` is not lowercase kebab-case (like `connectwise-manage`)"
        ));
    }
    if let PluginInfo::Connector(c) = info {
        if c.settings.len() > MAX_SETTINGS {
            return Err(format!(
                "it declares {} settings; at most {MAX_SETTINGS} are allowed",
                c.settings.len()
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for s in &c.settings {
            if !is_kebab_id(&s.name) {
                return Err(format!(
                    "setting name `{}` is not lowercase kebab-case",
                    s.name
                ));
            }
            if !seen.insert(s.name.as_str()) {
                return Err(format!("setting `{}` is declared twice", s.name));
            }
        }
        for pattern in &c.outbound_hosts {
            for name in placeholders(pattern) {
                if !seen.contains(name) {
                    return Err(format!(
                        "outbound host `{pattern}` uses `{{{name}}}`, which is not one of its settings"
                    ));
                }
                // A host name goes to DNS and into TLS and logs in clear.
                if c.settings.iter().any(|s| s.name == name && s.secret) {
                    return Err(format!(
                        "outbound host `{pattern}` uses the secret setting `{name}`: a secret may never be part of a host"
                    ));
                }
            }
            check_requested_pattern(pattern)?;
        }
        validate_paging(c)?;
    }
    Ok(())
}

/// The 0.2.0 parts of a description: paging, datasets and read-only types, each bounded.
fn validate_paging(c: &ConnectorInfo) -> Result<(), String> {
    let mut entities = Vec::new();
    for p in &c.paging {
        if entities.contains(&p.entity) {
            return Err(format!("paging of {:?} is declared twice", p.entity));
        }
        entities.push(p.entity);
        check_page_size(&format!("paging of {:?}", p.entity), p.max_page_size)?;
    }
    if c.datasets.len() > MAX_DATASETS {
        return Err(format!(
            "it declares {} datasets; at most {MAX_DATASETS} are allowed",
            c.datasets.len()
        ));
    }
    let mut names = std::collections::BTreeSet::new();
    for d in &c.datasets {
        if !is_kebab_id(&d.name) || d.name.len() > MAX_DATASET_NAME {
            return Err(format!(
                "dataset name `{}` is not lowercase kebab-case of at most {MAX_DATASET_NAME} bytes (like `time-entries`)",
                crate::text::one_line(&d.name.chars().take(80).collect::<String>())
            ));
        }
        if !names.insert(d.name.as_str()) {
            return Err(format!("dataset `{}` is declared twice", d.name));
        }
        if d.label.len() > MAX_DATASET_TEXT || d.description.len() > MAX_DATASET_TEXT {
            return Err(format!(
                "dataset `{}` has a label or description over {MAX_DATASET_TEXT} bytes",
                d.name
            ));
        }
        check_page_size(&format!("dataset `{}`", d.name), d.max_page_size)?;
    }
    if c.read_only_configuration_types.len() > MAX_READ_ONLY_TYPES {
        return Err(format!(
            "it names {} read-only configuration types; at most {MAX_READ_ONLY_TYPES} are allowed",
            c.read_only_configuration_types.len()
        ));
    }
    Ok(())
}

fn check_page_size(what: &str, size: u32) -> Result<(), String> {
    if size == 0 || size > MAX_PAGE_SIZE {
        return Err(format!(
            "{what} has a maximum page size of {size}; it must be between 1 and {MAX_PAGE_SIZE}"
        ));
    }
    Ok(())
}

/// A requested pattern as far as it can be checked before settings: a fixed one must parse (no
/// wildcard over a public suffix) and none may ask for any port (`:*` is the operator's).
fn check_requested_pattern(pattern: &str) -> Result<(), String> {
    if pattern.trim_end_matches('/').ends_with(":*") {
        return Err(format!(
            "outbound host `{pattern}` asks for any port (`:*`), which only an operator's grant may do"
        ));
    }
    if placeholders(pattern).next().is_none() {
        let parsed = crate::capabilities::http::OriginPattern::parse(pattern)
            .map_err(|e| format!("outbound host `{pattern}` is not an origin: {e:#}"))?;
        if parsed.operator_only() {
            return Err(format!(
                "outbound host `{pattern}` asks for any port (`:*`), which only an operator's grant may do"
            ));
        }
    }
    Ok(())
}

/// The `{name}` placeholders of a pattern.
pub fn placeholders(pattern: &str) -> impl Iterator<Item = &str> {
    pattern
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab_ids() {
        assert!(is_kebab_id("connectwise-manage"));
        assert!(is_kebab_id("a1"));
        assert!(!is_kebab_id("ConnectWise"));
        assert!(!is_kebab_id("a--b"));
        assert!(!is_kebab_id(""));
        assert!(!is_kebab_id("a_b"));
    }

    #[test]
    fn requested_patterns_keep_to_the_plugins_forms() {
        assert!(check_requested_pattern("https://*.autotask.net").is_ok());
        assert!(check_requested_pattern("{site}").is_ok());
        for bad in [
            "https://*.com",
            "http://*.com:*",
            "https://*.co.uk",
            "http://{target}:*",
            "http://api.example.com:*",
        ] {
            assert!(check_requested_pattern(bad).is_err(), "{bad}");
        }
    }

    fn connector(settings: &[(&str, bool)], hosts: &[&str]) -> PluginInfo {
        use crate::bindings::exports::psa::connector::connector_api::SettingSpec;
        PluginInfo::Connector(ConnectorInfo {
            id: "probe".into(),
            name: "Probe".into(),
            version: "1.0.0".into(),
            vendor: "tests".into(),
            description: String::new(),
            settings: settings
                .iter()
                .map(|(name, secret)| SettingSpec {
                    name: name.to_string(),
                    label: name.to_string(),
                    description: String::new(),
                    required: false,
                    secret: *secret,
                    default_value: None,
                    example: None,
                })
                .collect(),
            outbound_hosts: hosts.iter().map(|h| h.to_string()).collect(),
            operations: vec![],
            rate_limits: vec![],
            paging: vec![],
            datasets: vec![],
            read_only_configuration_types: vec![],
        })
    }

    #[test]
    fn a_secret_setting_is_never_part_of_a_host() {
        let ok = connector(&[("site", false), ("token", true)], &["https://{site}"]);
        assert_eq!(validate_info(&ok), Ok(()));
        let bad = connector(
            &[("site", false), ("private-key", true)],
            &["https://{private-key}.example"],
        );
        let e = validate_info(&bad).unwrap_err();
        assert!(e.contains("secret setting `private-key`"), "{e}");
    }

    #[test]
    fn the_number_of_settings_is_bounded() {
        let names: Vec<String> = (0..=MAX_SETTINGS).map(|i| format!("s{i}")).collect();
        let specs: Vec<(&str, bool)> = names.iter().map(|n| (n.as_str(), true)).collect();
        assert_eq!(
            validate_info(&connector(&specs[..MAX_SETTINGS], &[])),
            Ok(())
        );
        let e = validate_info(&connector(&specs, &[])).unwrap_err();
        assert!(e.contains("at most 64"), "{e}");
    }

    #[test]
    fn finds_placeholders() {
        assert_eq!(
            placeholders("https://{site}:{port}").collect::<Vec<_>>(),
            vec!["site", "port"]
        );
        assert_eq!(placeholders("https://x").count(), 0);
    }
}
