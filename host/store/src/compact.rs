//! Compaction of an embedded (sled) database directory, offline: every tree is copied into a
//! fresh directory, the copy is checked against the original, and then put in its place.
//!
//! sled reuses the space of what was dropped or overwritten only as later writes fill it: after
//! the one-time move to the shared layout a 1,000-connection store holding 15 MB took 1,082 MB
//! on disk (BENCHMARKS.md). The record store and the kv store are both sled databases, and
//! both go through here (`psahost store compact`).
//!
//! The swap is two renames: `DIR` -> `DIR.before-compact`, then `DIR.compacting` -> `DIR`. The
//! first is made only after the copy was verified, so a directory left as `DIR.before-compact`
//! beside `DIR.compacting`, with `DIR` missing, is always finished by the second rename; the
//! stores refuse to open until then ([`check_not_interrupted`]), rather than start empty.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};

/// Entries copied in one atomic batch. Measured on a 1,000-connection record store of 13.1 MB
/// (14,001 entries): batches of 1 gave a 25.8 MB copy, 100 gave 15.7 MB, 1,000 gave 18.4 MB and
/// 100,000 gave 18.9 MB (sled rewrites the nodes a batch splits).
const BATCH: usize = 100;

/// What a compaction did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Compacted {
    /// Trees copied (sled's default tree included).
    pub trees: usize,
    /// Entries copied.
    pub entries: u64,
    /// The directory's size before, in bytes.
    pub bytes_before: u64,
    /// Its size after, in bytes.
    pub bytes_after: u64,
    /// Whether the copy replaced the original: not when it was no smaller (a store written
    /// steadily is already about as compact as a copy of it).
    pub replaced: bool,
}

/// Where a compaction of `dir` writes its copy.
fn copy_dir(dir: &Path) -> PathBuf {
    with_suffix(dir, ".compacting")
}

/// Where a compaction of `dir` moves the original before deleting it.
fn original_dir(dir: &Path) -> PathBuf {
    with_suffix(dir, ".before-compact")
}

fn with_suffix(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    dir.with_file_name(name)
}

/// Whether there is anything to compact at `dir`: a store, or a compaction of one that
/// stopped before it finished.
pub fn is_present(dir: &Path) -> bool {
    dir.exists() || original_dir(dir).exists()
}

/// Refuses to open `dir` when a compaction of it stopped between its two renames (the store
/// would otherwise start empty where the data was): the message says how to finish it.
pub fn check_not_interrupted(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() && original_dir(dir).exists() {
        bail!(
            "a compaction of `{}` stopped before it finished (the verified copy is `{}`): \
             run `psahost store compact` again to finish it",
            dir.display(),
            copy_dir(dir).display()
        );
    }
    Ok(())
}

/// Compacts the sled database at `dir`, which no process may have open. `progress` is called
/// with the entries copied so far. Nothing changes unless the copy matches the original and is
/// smaller.
pub fn compact_sled(dir: &Path, progress: &mut dyn FnMut(u64)) -> anyhow::Result<Compacted> {
    let (copy, original) = (copy_dir(dir), original_dir(dir));
    if !dir.exists() {
        if original.exists() && copy.exists() {
            return finish(dir, &copy, &original, None);
        }
        if original.exists() {
            // The copy is gone (removed by hand): the original is whole, put it back.
            std::fs::rename(&original, dir).with_context(|| {
                format!(
                    "cannot move `{}` back to `{}`",
                    original.display(),
                    dir.display()
                )
            })?;
            let size = dir_size(dir)?;
            let (trees, entries) = count(dir)?;
            return Ok(Compacted {
                trees,
                entries,
                bytes_before: size,
                bytes_after: size,
                replaced: false,
            });
        }
        bail!("there is no store at `{}`", dir.display());
    }
    if original.exists() {
        // The swap finished and only the old directory's deletion did not.
        std::fs::remove_dir_all(&original)
            .with_context(|| format!("cannot remove `{}`", original.display()))?;
    }
    if copy.exists() {
        // A copy that was never verified: the original is intact, start over.
        std::fs::remove_dir_all(&copy)
            .with_context(|| format!("cannot remove the unfinished copy `{}`", copy.display()))?;
    }
    let bytes_before = dir_size(dir)?;
    let from = sled::open(dir).with_context(|| {
        format!(
            "cannot open `{}`: stop the `psahost serve` (or other psahost command) using this \
             data directory first",
            dir.display()
        )
    })?;
    let to = sled::open(&copy)
        .with_context(|| format!("cannot create the copy `{}`", copy.display()))?;
    let copied = copy_trees(&from, &to, progress);
    let verified = copied.and_then(|(trees, entries)| {
        to.flush().context("cannot flush the copy")?;
        let (a, b) = (from.checksum()?, to.checksum()?);
        if a != b || from.tree_names() != to.tree_names() {
            bail!("the copy differs from the original (checksums {a:08x} and {b:08x})");
        }
        Ok((trees, entries))
    });
    drop((from, to));
    let (trees, entries) = match verified {
        Ok(counts) => counts,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&copy);
            return Err(e.context(format!(
                "`{}` was not compacted and is unchanged",
                dir.display()
            )));
        }
    };
    let copy_size = dir_size(&copy)?;
    if copy_size >= bytes_before {
        std::fs::remove_dir_all(&copy)
            .with_context(|| format!("cannot remove the copy `{}`", copy.display()))?;
        return Ok(Compacted {
            trees,
            entries,
            bytes_before,
            bytes_after: bytes_before,
            replaced: false,
        });
    }
    std::fs::rename(dir, &original).with_context(|| {
        format!(
            "cannot move `{}` aside to `{}`",
            dir.display(),
            original.display()
        )
    })?;
    finish(dir, &copy, &original, Some((trees, entries, bytes_before)))
}

/// The second rename and the old directory's deletion.
fn finish(
    dir: &Path,
    copy: &Path,
    original: &Path,
    counts: Option<(usize, u64, u64)>,
) -> anyhow::Result<Compacted> {
    let (trees, entries, bytes_before) = match counts {
        Some(c) => c,
        // Finishing an interrupted run: what it copied is what the copy holds.
        None => {
            let (trees, entries) = count(copy)?;
            (trees, entries, dir_size(original)?)
        }
    };
    std::fs::rename(copy, dir).with_context(|| {
        format!(
            "cannot move the compacted copy `{}` to `{}`",
            copy.display(),
            dir.display()
        )
    })?;
    std::fs::remove_dir_all(original)
        .with_context(|| format!("cannot remove the old directory `{}`", original.display()))?;
    Ok(Compacted {
        trees,
        entries,
        bytes_before,
        bytes_after: dir_size(dir)?,
        replaced: true,
    })
}

/// The trees and entries of the sled database at `dir`.
fn count(dir: &Path) -> anyhow::Result<(usize, u64)> {
    let db = sled::open(dir).with_context(|| format!("cannot open `{}`", dir.display()))?;
    let trees = db.tree_names();
    let mut entries = 0;
    for name in &trees {
        entries += db.open_tree(name)?.len() as u64;
    }
    Ok((trees.len(), entries))
}

fn copy_trees(
    from: &sled::Db,
    to: &sled::Db,
    progress: &mut dyn FnMut(u64),
) -> anyhow::Result<(usize, u64)> {
    let names = from.tree_names();
    let mut entries = 0u64;
    for name in &names {
        let (source, target) = (from.open_tree(name)?, to.open_tree(name)?);
        let mut batch = sled::Batch::default();
        let mut in_batch = 0;
        for entry in source.iter() {
            let (key, value) = entry?;
            batch.insert(key, value);
            in_batch += 1;
            if in_batch == BATCH {
                target.apply_batch(std::mem::take(&mut batch))?;
                entries += in_batch as u64;
                in_batch = 0;
                progress(entries);
            }
        }
        target.apply_batch(batch)?;
        entries += in_batch as u64;
        progress(entries);
    }
    Ok((names.len(), entries))
}

/// Bytes of the files under `dir`.
fn dir_size(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in
        std::fs::read_dir(dir).with_context(|| format!("cannot read `{}`", dir.display()))?
    {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_name_siblings() {
        let dir = Path::new("/data/store");
        assert_eq!(copy_dir(dir), Path::new("/data/store.compacting"));
        assert_eq!(original_dir(dir), Path::new("/data/store.before-compact"));
    }
}
