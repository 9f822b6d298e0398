//! Regenerating the TDX vectors gives exactly the committed bytes, so
//! `test-vectors/tdx` is always what the testkit makes (and nobody edits
//! it by hand).
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::Path;

use cogito_testkit::vectorset::check_regenerates;

#[test]
fn regenerating_gives_the_committed_tdx_vectors() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/tdx");
    let started = std::time::Instant::now();
    let set = cogito_testkit::tdx::generate();
    let tmp = tempfile::tempdir().unwrap();
    set.write_to(tmp.path()).unwrap();
    eprintln!(
        "generated {} TDX cases in {:.1?}",
        set.cases.len(),
        started.elapsed()
    );

    // What write_to put on disk is exactly the set, and so is the
    // committed folder.
    let all = set.all_files();
    check_regenerates(&all, tmp.path()).unwrap();
    if let Err(diff) = check_regenerates(&all, &committed) {
        panic!(
            "test-vectors/tdx is out of date; run `cargo run -p cogito-testkit -- generate-tdx test-vectors/tdx`\n{diff}"
        );
    }
}

#[test]
fn write_to_refuses_a_folder_it_did_not_generate() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("precious.txt"), b"keep me").unwrap();
    let set = cogito_testkit::tdx::TdxVectorSet {
        files: Default::default(),
        cases: Vec::new(),
    };
    assert!(set.write_to(tmp.path()).is_err());
    assert_eq!(
        std::fs::read(tmp.path().join("precious.txt")).unwrap(),
        b"keep me"
    );
    // Nor does it write TDX vectors over an SNP set.
    std::fs::remove_file(tmp.path().join("precious.txt")).unwrap();
    std::fs::write(
        tmp.path().join("MANIFEST.toml"),
        cogito_testkit::vectors::MANIFEST_MARKER,
    )
    .unwrap();
    assert!(set.write_to(tmp.path()).is_err());
}
