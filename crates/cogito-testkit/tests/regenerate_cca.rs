//! Regenerating the CCA vectors gives exactly the committed bytes, so
//! `test-vectors/cca` is always what the testkit makes (and nobody edits
//! it by hand).
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::Path;

use cogito_testkit::vectorset::{check_regenerates, existing_files};

#[test]
fn regenerating_gives_the_committed_cca_vectors() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/cca");
    let started = std::time::Instant::now();
    let set = cogito_testkit::cca::generate();
    let tmp = tempfile::tempdir().unwrap();
    set.write_to(tmp.path()).unwrap();
    eprintln!(
        "generated {} CCA cases in {:.1?}",
        set.cases.len(),
        started.elapsed()
    );

    // What write_to put on disk is exactly the set, and so is the
    // committed folder.
    let all = set.all_files();
    check_regenerates(&all, tmp.path()).unwrap();
    if let Err(diff) = check_regenerates(&all, &committed) {
        panic!(
            "test-vectors/cca is out of date; run `cargo run -p cogito-testkit -- generate-cca test-vectors/cca`\n{diff}"
        );
    }
}

#[test]
fn write_to_refuses_a_folder_it_did_not_generate() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("precious.txt"), b"keep me").unwrap();
    let set = cogito_testkit::cca::CcaVectorSet {
        files: Default::default(),
        cases: Vec::new(),
    };
    assert!(set.write_to(tmp.path()).is_err());
    assert_eq!(
        std::fs::read(tmp.path().join("precious.txt")).unwrap(),
        b"keep me"
    );
    // Nor does it write CCA vectors over a TDX or SNP set.
    std::fs::remove_file(tmp.path().join("precious.txt")).unwrap();
    for marker in [
        cogito_testkit::tdx::vectors::MANIFEST_MARKER,
        cogito_testkit::vectors::MANIFEST_MARKER,
    ] {
        std::fs::write(tmp.path().join("MANIFEST.toml"), marker).unwrap();
        assert!(set.write_to(tmp.path()).is_err());
    }
}

#[test]
fn rewriting_removes_files_no_longer_generated() {
    let tmp = tempfile::tempdir().unwrap();
    let set = cogito_testkit::cca::generate();
    set.write_to(tmp.path()).unwrap();
    std::fs::create_dir_all(tmp.path().join("old-case")).unwrap();
    std::fs::write(tmp.path().join("old-case/token.cbor"), b"stale").unwrap();
    set.write_to(tmp.path()).unwrap();
    assert!(!tmp.path().join("old-case").exists());
    assert_eq!(
        existing_files(tmp.path()).unwrap().len(),
        set.all_files().len()
    );
}
