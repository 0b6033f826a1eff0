//! The AOT cache: the component is compiled once per (component, Wasmtime version and
//! configuration) and the native artifact is kept on disk, so a worker starts in
//! milliseconds instead of spending hundreds compiling.
//!
//! Deserializing trusts its input completely (it is native code), so every artifact is
//! stored with a BLAKE3 checksum beside it, read into memory once, verified, and exactly
//! those verified bytes are deserialized: a file swapped after the check is never run. A
//! corrupt, truncated or incompatible artifact is rebuilt, never loaded.
//!
//! The directory must be the current user's and not writable by group or others (anyone
//! who can write there can make the worker run their code); otherwise the cache is refused
//! with a warning saying why, and the component is compiled in memory.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::component::Component;
use wasmtime::error::Context;
use wasmtime::Engine;

/// Whether the precompiled component came from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheOutcome {
    Hit,
    Miss,
    Disabled,
    /// The directory is not safe to load code from; compiled in memory instead.
    Refused,
}

impl CacheOutcome {
    pub const ALL: [CacheOutcome; 4] = [Self::Hit, Self::Miss, Self::Disabled, Self::Refused];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hit => "hit",
            Self::Miss => "miss",
            Self::Disabled => "disabled",
            Self::Refused => "refused",
        }
    }
}

/// Loads the component from the cache when a verified artifact exists, otherwise compiles
/// it and stores the artifact. An empty `cache_dir` disables the cache.
pub fn load(
    engine: &Engine,
    wasm: &[u8],
    cache_dir: &Path,
) -> wasmtime::Result<(Component, CacheOutcome)> {
    if cache_dir.as_os_str().is_empty() {
        let component = Component::new(engine, wasm).context("compiling the component")?;
        return Ok((component, CacheOutcome::Disabled));
    }
    if let Err(reason) = private_dir(cache_dir) {
        tracing::warn!(path = %cache_dir.display(), "AOT cache refused: {reason}; compiling in memory");
        let component = Component::new(engine, wasm).context("compiling the component")?;
        return Ok((component, CacheOutcome::Refused));
    }
    let artifact = artifact_path(engine, wasm, cache_dir);
    if let Some(component) = load_verified(engine, &artifact) {
        return Ok((component, CacheOutcome::Hit));
    }
    let compiled = engine
        .precompile_component(wasm)
        .context("compiling the component")?;
    if let Err(e) = store(&artifact, &compiled) {
        tracing::warn!(path = %artifact.display(), error = %e, "cannot write the AOT cache; continuing without it");
    }
    // SAFETY: the bytes were produced by this engine's `precompile_component` just now.
    let component = unsafe { Component::deserialize(engine, &compiled) }
        .context("loading the compiled component")?;
    Ok((component, CacheOutcome::Miss))
}

/// What RipTide's patched Cranelift translator (worker/patched/wasmtime-internal-cranelift)
/// changes in compiled code. Wasmtime's own compatibility hash does not see the patch, and an
/// artifact compiled without it runs correctly but slower, so the cache key carries it: a
/// change to the patch changes this text.
const COMPILER_PATCHES: &str =
    "fuel checks call out-of-gas through a register-preserving trampoline";

/// `<dir>/<component hash>-<engine hash>.cwasm`: a new component, Wasmtime version, engine
/// configuration or compiler patch gets a new file.
pub fn artifact_path(engine: &Engine, wasm: &[u8], cache_dir: &Path) -> PathBuf {
    let component_hash = blake3::hash(wasm).to_hex();
    // DefaultHasher::new() has fixed keys: stable for a given build of this binary, which
    // is all the key needs (another build may carry another Wasmtime).
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    COMPILER_PATCHES.hash(&mut hasher);
    cache_dir.join(format!(
        "{}-{:016x}.cwasm",
        &component_hash[..32],
        hasher.finish()
    ))
}

fn checksum_path(artifact: &Path) -> PathBuf {
    artifact.with_extension("cwasm.blake3")
}

fn load_verified(engine: &Engine, artifact: &Path) -> Option<Component> {
    let expected = std::fs::read_to_string(checksum_path(artifact)).ok()?;
    let bytes = std::fs::read(artifact).ok()?;
    if blake3::hash(&bytes).to_hex().as_str() != expected.trim() {
        tracing::warn!(path = %artifact.display(), "AOT artifact does not match its checksum; rebuilding");
        return None;
    }
    // SAFETY: these bytes, read once and held in memory, are byte-for-byte what this cache
    // wrote (checksum verified above) in a directory only this user can write; deserialize
    // still checks the Wasmtime version and configuration recorded in the artifact.
    match unsafe { Component::deserialize(engine, &bytes) } {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!(path = %artifact.display(), error = %e, "AOT artifact rejected; rebuilding");
            None
        }
    }
}

/// Creates the directory (owner-only) if needed, and checks that it is owned by this user
/// and writable by nobody else.
fn private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create it: {e}"))?;
    let metadata = std::fs::metadata(dir).map_err(|e| format!("cannot inspect it: {e}"))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if metadata.uid() != me {
        return Err(format!(
            "it is owned by uid {}, not by this user ({me})",
            metadata.uid()
        ));
    }
    if metadata.mode() & 0o022 != 0 {
        return Err(format!(
            "it is writable by group or others (mode {:o}); chmod go-w it",
            metadata.mode() & 0o777
        ));
    }
    Ok(())
}

/// Writes atomically (temporary file, then rename), the checksum last: a reader never sees
/// a checksum for an incomplete artifact.
fn store(artifact: &Path, compiled: &[u8]) -> wasmtime::Result<()> {
    let tmp = artifact.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, compiled)?;
    std::fs::rename(&tmp, artifact)?;
    let checksum = checksum_path(artifact);
    let tmp = checksum.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, blake3::hash(compiled).to_hex().as_bytes())?;
    std::fs::rename(&tmp, checksum)?;
    Ok(())
}
