//! The plumbing every generated vector set shares (SNP, TDX, CCA): the
//! full file map with its `MANIFEST.toml`, writing it to a folder without
//! trampling a folder some other generator (or a person) owns, and
//! checking that a committed folder is exactly what a generator makes.

use std::collections::BTreeMap;
use std::path::Path;

/// `files` plus `MANIFEST.toml` holding `manifest`, by relative path.
pub fn with_manifest(
    files: &BTreeMap<String, Vec<u8>>,
    manifest: String,
) -> BTreeMap<String, Vec<u8>> {
    let mut all = files.clone();
    all.insert("MANIFEST.toml".into(), manifest.into_bytes());
    all
}

/// Writes every file of `all` under `dir`. If `dir` already holds a set
/// whose MANIFEST.toml starts with `marker`, files that are no longer
/// generated are removed; a non-empty folder that is not such a set is
/// refused. `kind` names the set in that refusal (`""`, `"TDX "`,
/// `"CCA "`).
pub fn write_set(
    all: &BTreeMap<String, Vec<u8>>,
    dir: &Path,
    marker: &str,
    kind: &str,
) -> std::io::Result<()> {
    if dir.exists() {
        let existing = existing_files(dir)?;
        if !existing.is_empty() {
            let manifest = std::fs::read_to_string(dir.join("MANIFEST.toml")).unwrap_or_default();
            if !manifest.starts_with(marker) {
                return Err(std::io::Error::other(format!(
                    "{} is not empty and holds no generated {kind}MANIFEST.toml; refusing to write into it",
                    dir.display()
                )));
            }
            for stale in existing.iter().filter(|p| !all.contains_key(*p)) {
                std::fs::remove_file(dir.join(stale))?;
            }
            remove_empty_dirs(dir)?;
        }
    }
    for (path, bytes) in all {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(full, bytes)?;
    }
    Ok(())
}

/// Relative `/`-separated paths of every file under `dir`.
pub fn existing_files(dir: &Path) -> std::io::Result<Vec<String>> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(base, &path, out)?;
            } else {
                let rel = path.strip_prefix(base).map_err(std::io::Error::other)?;
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn remove_empty_dirs(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            let path = entry.path();
            remove_empty_dirs(&path)?;
            if std::fs::read_dir(&path)?.next().is_none() {
                std::fs::remove_dir(&path)?;
            }
        }
    }
    Ok(())
}

/// Checks that `dir` holds exactly `files`: no file missing, none extra,
/// every byte the same. The error lists the paths that are missing, stale
/// and differing.
pub fn check_regenerates(files: &BTreeMap<String, Vec<u8>>, dir: &Path) -> Result<(), String> {
    let on_disk = existing_files(dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    let missing: Vec<&String> = files.keys().filter(|p| !on_disk.contains(p)).collect();
    let stale: Vec<&String> = on_disk.iter().filter(|p| !files.contains_key(*p)).collect();
    let mut differ: Vec<&String> = Vec::new();
    for (path, bytes) in files {
        if on_disk.contains(path) {
            let disk = std::fs::read(dir.join(path))
                .map_err(|e| format!("reading {}: {e}", dir.join(path).display()))?;
            if &disk != bytes {
                differ.push(path);
            }
        }
    }
    if missing.is_empty() && stale.is_empty() && differ.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "missing: {missing:?}\nstale: {stale:?}\ndiffering: {differ:?}"
        ))
    }
}
