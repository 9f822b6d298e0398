//! Locating the real evidence in `../shared/vectors` (beside the checkout).

use std::path::{Path, PathBuf};

/// The real-vector folder: `$COGITO_VECTORS`, else `../shared/vectors`
/// relative to the workspace root. `None`, with a printed notice, when it
/// is absent — except under `CI=true`, where absence is a failure (CI
/// always has the vectors, so a silent skip there would hide a broken
/// set-up).
pub fn dir() -> Option<PathBuf> {
    let dir = std::env::var_os("COGITO_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/vectors"
            ))
        });
    if dir.join("MANIFEST.toml").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true but the real vectors are missing: {} has no MANIFEST.toml",
            dir.display()
        );
    }
    eprintln!(
        "skipping: real vectors not found at {} (set COGITO_VECTORS)",
        dir.display()
    );
    None
}

/// The `[[vector]]` tables of `dir`'s MANIFEST.toml. Test helper: panics
/// on a missing or malformed manifest.
pub fn manifest_vectors(dir: &Path) -> Vec<toml::Value> {
    let text = std::fs::read_to_string(dir.join("MANIFEST.toml")).expect("MANIFEST.toml");
    let manifest: toml::Value = toml::from_str(&text).expect("MANIFEST.toml is TOML");
    manifest["vector"]
        .as_array()
        .expect("MANIFEST.toml has [[vector]] tables")
        .clone()
}
