//! Reading the files a command names: evidence, anchors, policies. The
//! libraries take bytes; this is where paths become bytes.

use std::path::{Path, PathBuf};

use cogito_core::TrustAnchors;
use cogito_policy::{Policy, PolicyError};

use crate::failure::Failure;

/// Reads a whole file.
pub fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure::bad_input("input.unreadable", format!("{}: {e}", path.display())))
}

/// Adds every certificate file in `dir` to `anchors`.
pub fn load_anchors_dir(dir: &Path, anchors: &mut TrustAnchors) -> Result<(), Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::bad_input("input.unreadable", format!("{}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(Failure::bad_input(
            "anchors.empty",
            format!("{}: no certificate files", dir.display()),
        ));
    }
    for p in paths {
        let bytes = read(&p)?;
        anchors.add_pem_or_der(&bytes, false, &p.display().to_string())?;
    }
    Ok(())
}

/// Loads a policy file, resolving includes relative to its directory.
pub fn load_policy(path: &Path) -> Result<Policy, PolicyError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| PolicyError::unreadable(&name, &e))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    cogito_policy::load(&name, &text, &mut |inc: &str| {
        std::fs::read_to_string(dir.join(inc))
            .map_err(|e| format!("{}: {e}", dir.join(inc).display()))
    })
}
