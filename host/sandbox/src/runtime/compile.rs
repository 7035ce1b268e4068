//! Compiling a component, in a child process when the program provides one.
//!
//! wasmtime cannot cancel a compilation, and a small component can be made slow and hungry to
//! compile (a 170 KB loop nest takes half a minute): compiled in the host's process, it would
//! hold a CPU and any amount of memory for as long as it likes. With a [`ChildCompiler`], the
//! component is compiled by a child process (the program itself, run with a hidden command that
//! calls [`compile_child_main`]) for an engine built from the same settings; the host kills it
//! at [`CompileLimits::timeout`] or when its peak resident memory passes
//! [`CompileLimits::max_memory`], and loads the artifact it wrote.

use super::engine::{AllocatorChoice, AllocatorKind, EngineSettings, build_engine};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use wasmtime::Engine;
use wasmtime::component::Component;

/// The bounds of one compilation in a child process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompileLimits {
    /// The longest it may take.
    pub timeout: Duration,
    /// The most resident memory the compiling process may reach, in bytes (Linux; elsewhere
    /// only the time is bounded).
    pub max_memory: u64,
}

impl Default for CompileLimits {
    fn default() -> Self {
        // The first-party connectors (about 1 MiB) compile in seconds with a few hundred MiB.
        CompileLimits {
            timeout: Duration::from_secs(120),
            max_memory: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// The program that compiles components for this host: run as `PROGRAM ARGS... SETTINGS
/// INPUT OUTPUT`, it must call [`compile_child_main`] with the last three.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildCompiler {
    /// The executable (for `psahost`, itself).
    pub program: PathBuf,
    /// Arguments before the three of [`compile_child_main`] (the hidden command's name).
    pub args: Vec<String>,
}

/// Why a compilation failed.
pub(crate) enum CompileFailure {
    /// The component is invalid, or the compiler failed: the message says why.
    Invalid(String),
    /// The child ran past the time limit.
    Timeout(Duration),
    /// The child passed the memory limit.
    Memory(u64),
}

/// The child's side: compiles the component in `input` for an engine built from `settings`
/// (JSON, as the host passed it) and writes the serialized artifact to `output`.
pub fn compile_child_main(settings: &str, input: &Path, output: &Path) -> anyhow::Result<()> {
    let settings: EngineSettings =
        serde_json::from_str(settings).context("the compiler's engine settings do not parse")?;
    let (engine, _) = build_engine(&settings)?;
    let bytes =
        std::fs::read(input).with_context(|| format!("cannot read `{}`", input.display()))?;
    let component = Component::new(&engine, &bytes).map_err(|e| anyhow::anyhow!("{e:#}"))?;
    let artifact = component
        .serialize()
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    std::fs::write(output, artifact).with_context(|| format!("cannot write `{}`", output.display()))
}

/// Where the artifact of the component whose sha256 is `sha256`, compiled for `engine`, is
/// kept in the cache directory `cache_dir`: `psahost-artifacts/SHA256-ENGINE.cwasm`, ENGINE
/// hashing everything that makes an artifact compatible with an engine (wasmtime's version,
/// the compiler's and the runtime's settings), so a host with other settings never finds it.
fn artifact_path(engine: &Engine, cache_dir: &Path, sha256: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    cache_dir
        .join("psahost-artifacts")
        .join(format!("{sha256}-{:016x}.cwasm", hasher.finish()))
}

/// Keeps `artifact` at `path` for the next start (written aside, then renamed, so a reader
/// never sees half a file). A failure only costs a compilation next time: it is logged.
fn keep_artifact(path: &Path, artifact: &[u8]) {
    let result = (|| {
        let dir = path.parent().expect("an artifact path has a directory");
        std::fs::create_dir_all(dir)?;
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut file, artifact)?;
        file.persist(path).map_err(|e| e.error)?;
        Ok::<(), std::io::Error>(())
    })();
    if let Err(e) = result {
        tracing::warn!(
            "cannot keep the compiled component at `{}` ({e}); it is compiled again at the next start",
            path.display()
        );
    }
}

/// Compiles `bytes` (whose sha256 is `sha256`) for `engine`: in a child process when `child`
/// is set, else in process. With a child compiler and a cache directory, the artifact is kept
/// there and loaded from it by the next start, mapped from the file, without a child process.
pub(crate) async fn compile(
    engine: &Engine,
    settings: &EngineSettings,
    allocator: AllocatorKind,
    child: Option<&ChildCompiler>,
    limits: CompileLimits,
    (bytes, sha256): (Arc<[u8]>, &str),
) -> Result<Component, CompileFailure> {
    let Some(child) = child else {
        let engine = engine.clone();
        return tokio::task::spawn_blocking(move || Component::new(&engine, &bytes))
            .await
            .map_err(|e| CompileFailure::Invalid(format!("compilation task failed: {e}")))?
            .map_err(|e| CompileFailure::Invalid(format!("{e:#}")));
    };
    let kept = settings
        .cache_dir
        .as_deref()
        .map(|dir| artifact_path(engine, dir, sha256));
    if let Some(path) = kept.as_deref().filter(|p| p.is_file()) {
        // SAFETY: `deserialize_file` requires a file wasmtime itself serialized, unchanged
        // while it is mapped. This one was written by `keep_artifact` below, from our own
        // compiler process's output, into the operator's cache directory: the directory
        // wasmtime's own cache (which the compiler process reads) trusts the same way; it is
        // replaced only by a rename, never rewritten in place. wasmtime still checks the
        // artifact's version and engine compatibility and refuses a mismatch.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize_file(engine, path) };
        match component {
            Ok(component) => return Ok(component),
            Err(e) => tracing::warn!(
                "the compiled component kept at `{}` does not load ({e:#}); compiling it again",
                path.display()
            ),
        }
    }
    let artifact = in_child(settings, allocator, child, limits, &bytes).await?;
    if let Some(path) = &kept {
        keep_artifact(path, &artifact);
    }
    // SAFETY: `deserialize` requires bytes that wasmtime itself serialized. These were written
    // by our own compiler process (`compile_child_main`, the same wasmtime) into a fresh
    // directory only this user can reach, for an engine built from the same settings; wasmtime
    // still checks the artifact's version and engine compatibility and refuses a mismatch.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(engine, &artifact) };
    component
        .map_err(|e| CompileFailure::Invalid(format!("the compiled artifact does not load: {e:#}")))
}

async fn in_child(
    settings: &EngineSettings,
    allocator: AllocatorKind,
    child: &ChildCompiler,
    limits: CompileLimits,
    bytes: &[u8],
) -> Result<Vec<u8>, CompileFailure> {
    let io = |what: &str, e: std::io::Error| CompileFailure::Invalid(format!("{what}: {e}"));
    let dir = tempfile::tempdir().map_err(|e| io("cannot make a directory to compile in", e))?;
    let input = dir.path().join("component.wasm");
    let output = dir.path().join("component.cwasm");
    tokio::fs::write(&input, bytes)
        .await
        .map_err(|e| io("cannot write the component to compile", e))?;
    // The child builds exactly the engine this host runs, so the artifact is compatible.
    let settings = EngineSettings {
        allocator: match allocator {
            AllocatorKind::Pooling => AllocatorChoice::Pooling,
            AllocatorKind::OnDemand => AllocatorChoice::OnDemand,
        },
        ..settings.clone()
    };
    let settings = serde_json::to_string(&settings).expect("engine settings serialize");
    let mut process = tokio::process::Command::new(&child.program)
        .args(&child.args)
        .arg(&settings)
        .arg(&input)
        .arg(&output)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            io(
                &format!("cannot start the compiler `{}`", child.program.display()),
                e,
            )
        })?;
    let pid = process.id();
    let mut stderr = process.stderr.take().expect("piped");
    let errors = tokio::spawn(async move {
        // Bounded: the compiler's error message, not whatever it might print.
        let mut text = Vec::new();
        let _ = (&mut stderr).take(16 * 1024).read_to_end(&mut text).await;
        String::from_utf8_lossy(&text).trim().to_string()
    });
    let started = Instant::now();
    let status = loop {
        tokio::select! {
            status = process.wait() => break status,
            _ = tokio::time::sleep(Duration::from_millis(20)) => {
                if started.elapsed() > limits.timeout {
                    let _ = process.kill().await;
                    return Err(CompileFailure::Timeout(limits.timeout));
                }
                if let Some(peak) = pid.and_then(peak_resident_memory)
                    && peak > limits.max_memory
                {
                    let _ = process.kill().await;
                    return Err(CompileFailure::Memory(limits.max_memory));
                }
            }
        }
    }
    .map_err(|e| io("the compiler process failed", e))?;
    let message = errors.await.unwrap_or_default();
    if !status.success() {
        let message = message.strip_prefix("error: ").unwrap_or(&message);
        return Err(CompileFailure::Invalid(if message.is_empty() {
            format!("the compiler process ended with {status}")
        } else {
            message.to_string()
        }));
    }
    tokio::fs::read(&output)
        .await
        .map_err(|e| io("cannot read the compiled artifact", e))
}

/// The process's peak resident memory in bytes (`VmHWM`), where the system reports it.
fn peak_resident_memory(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
