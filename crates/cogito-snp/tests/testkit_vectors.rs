//! Verifies every case of `test-vectors/snp` (FAKE keys made by
//! cogito-testkit) and checks the outcome, stable error code and class the
//! manifest records.
//!
//! Each case folder is loaded like a real-vector folder: `report.bin`,
//! `vcek.der` / `vlek.der`, `cert_chain.pem`, `crl.der`, `auxblob` (the
//! host certificate table). The anchors are cogito's built-in AMD roots
//! plus, when the case says `trust_testkit_anchors`, every PEM in
//! `test-vectors/snp/anchors/`.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::{Path, PathBuf};

use cogito_core::anchors::certificates_from_pem_or_der;
use cogito_core::{AmdProduct, CogitoError, TrustAnchors, VerificationTime};
use cogito_snp::{builtin_anchors, verify_report, Collateral, Options, VerifiedCache};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-vectors/snp")
}

fn manifest() -> toml::Table {
    let path = vectors_dir().join("MANIFEST.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `cargo run -p cogito-testkit -- generate test-vectors/snp`)",
            path.display()
        )
    });
    text.parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn s<'a>(t: &'a toml::Table, key: &str) -> &'a str {
    t.get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("case field {key} missing or not a string: {t:?}"))
}

fn b(t: &toml::Table, key: &str) -> bool {
    t.get(key)
        .and_then(|v| v.as_bool())
        .unwrap_or_else(|| panic!("case field {key} missing or not a bool: {t:?}"))
}

fn testkit_anchors() -> TrustAnchors {
    let dir = vectors_dir().join("anchors");
    let mut anchors = builtin_anchors().clone();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    let mut added = 0;
    for path in entries {
        let bytes = std::fs::read(&path).unwrap();
        added += anchors
            .add_pem_or_der(&bytes, false, &path.display().to_string())
            .unwrap_or_else(|e| panic!("{e}"))
            .len();
    }
    assert_eq!(
        added, 9,
        "anchors/ holds ARK, ASK and ASVK for three products"
    );
    anchors
}

/// The collateral in a case folder.
fn load_collateral(dir: &Path) -> Collateral {
    let read = |name: &str| std::fs::read(dir.join(name)).ok();
    let mut c = Collateral {
        vcek: read("vcek.der"),
        vlek: read("vlek.der"),
        ..Collateral::default()
    };
    if let Some(pem) = read("cert_chain.pem") {
        c.chain = certificates_from_pem_or_der(&pem)
            .unwrap_or_else(|e| panic!("{}/cert_chain.pem: {e}", dir.display()));
    }
    if let Some(crl) = read("crl.der") {
        c.crls.push(crl);
    }
    if let Some(table) = read("auxblob") {
        c.add_certificate_table(&table)
            .unwrap_or_else(|e| panic!("{}/auxblob: {e}", dir.display()));
    }
    c
}

fn hex_array<const N: usize>(text: &str) -> [u8; N] {
    let v = hex::decode(text).unwrap();
    v.try_into()
        .unwrap_or_else(|v: Vec<u8>| panic!("expected {N} bytes, got {}", v.len()))
}

/// Runs every case, each with a fresh cache or all with `shared`; returns
/// the number of cases and the failures as text.
fn run_all(shared: Option<&VerifiedCache>) -> (usize, Vec<String>) {
    let m = manifest();
    let cases = m["case"].as_array().expect("[[case]] tables");
    let with_testkit = testkit_anchors();
    let mut failures = Vec::new();
    for case in cases {
        let case = case.as_table().unwrap();
        let id = s(case, "id");
        let dir = vectors_dir().join(s(case, "dir"));
        let report = std::fs::read(dir.join("report.bin")).unwrap();
        let collateral = load_collateral(&dir);
        let anchors = if b(case, "trust_testkit_anchors") {
            &with_testkit
        } else {
            builtin_anchors()
        };
        let at = VerificationTime::parse_rfc3339(s(case, "verify_at")).unwrap();
        let options = Options {
            product: case
                .get("options_product")
                .and_then(|v| v.as_str())
                .map(|p| AmdProduct::from_name(p).unwrap()),
            permit_provisional_firmware: b(case, "permit_provisional_firmware"),
            expected_report_data: case
                .get("expected_report_data")
                .and_then(|v| v.as_str())
                .map(hex_array::<64>),
        };
        let claims = case["key_claims"].as_table().unwrap();
        let fresh = VerifiedCache::default();
        let cache = shared.unwrap_or(&fresh);
        let outcome = verify_report(&report, &collateral, anchors, at, &options, cache);
        match (s(case, "expected"), outcome) {
            ("accept", Ok(v)) => {
                let want_m = s(claims, "measurement");
                let got_m = hex::encode(&v.claims.launch_measurement.0);
                if got_m != want_m {
                    failures.push(format!("{id}: measurement {got_m}, manifest says {want_m}"));
                }
                let want_p = AmdProduct::from_name(s(claims, "product")).unwrap();
                if v.platform.product != want_p {
                    failures.push(format!(
                        "{id}: product {}, manifest says {want_p}",
                        v.platform.product
                    ));
                }
                let want_v = claims["report_version"].as_integer().unwrap();
                if i64::from(v.platform.report.version) != want_v {
                    failures.push(format!(
                        "{id}: version {}, manifest says {want_v}",
                        v.platform.report.version
                    ));
                }
                if v.platform.provisional_firmware != b(claims, "provisional_firmware") {
                    failures.push(format!(
                        "{id}: provisional_firmware {}",
                        v.platform.provisional_firmware
                    ));
                }
            }
            ("accept", Err(e)) => failures.push(format!(
                "{id}: expected accept, got {} ({}): {e}",
                e.code(),
                e.class().as_str()
            )),
            ("reject", Ok(_)) => failures.push(format!(
                "{id}: expected reject {}, but it was ACCEPTED",
                s(case, "expected_code")
            )),
            ("reject", Err(e)) => {
                let (code, class) = (s(case, "expected_code"), s(case, "expected_class"));
                if e.code() != code || e.class().as_str() != class {
                    failures.push(format!(
                        "{id}: expected {code} ({class}), got {} ({}): {e}",
                        e.code(),
                        e.class().as_str()
                    ));
                }
            }
            (other, _) => failures.push(format!("{id}: unknown expected = {other:?}")),
        }
    }
    (cases.len(), failures)
}

/// Cases whose manifest outcome (what the specs require) cogito does not
/// yet produce, with the reason. Each entry must still fail: once the
/// verifier is fixed the test says so and the entry must be removed.
const KNOWN_VERIFIER_BUGS: &[(&str, &str)] = &[];

/// As [`KNOWN_VERIFIER_BUGS`], only when every case shares one cache.
const KNOWN_SHARED_CACHE_BUGS: &[(&str, &str)] = &[];

/// Fails on unexpected failures, and on known bugs that no longer fail.
fn check(n: usize, failures: &[String], known: &[(&str, &str)], what: &str) {
    let is_known = |f: &String| {
        known
            .iter()
            .any(|(id, _)| f.starts_with(&format!("{id}: ")))
    };
    let unexpected: Vec<&String> = failures.iter().filter(|f| !is_known(f)).collect();
    assert!(
        unexpected.is_empty(),
        "{} of {n} cases failed{what}:\n{}",
        unexpected.len(),
        unexpected
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    for (id, reason) in known {
        let still = failures.iter().find(|f| f.starts_with(&format!("{id}: ")));
        let Some(failure) = still else {
            panic!("{id} now has its expected outcome{what}: the known bug ({reason}) is fixed, remove it from the list");
        };
        eprintln!("known verifier bug{what} ({reason}), still failing: {failure}");
    }
}

#[test]
fn every_testkit_case_has_its_expected_outcome() {
    let (n, failures) = run_all(None);
    assert!(n >= 90, "only {n} cases in the manifest");
    check(n, &failures, KNOWN_VERIFIER_BUGS, "");
}

/// The same cases through one shared cache, twice: a chain verified for
/// one case must never let another case (other anchors, time, CRLs,
/// supplied chain) through.
#[test]
fn outcomes_do_not_depend_on_a_shared_cache() {
    let cache = VerifiedCache::default();
    for round in 1..=2 {
        let (n, failures) = run_all(Some(&cache));
        let known: Vec<(&str, &str)> = KNOWN_VERIFIER_BUGS
            .iter()
            .chain(KNOWN_SHARED_CACHE_BUGS)
            .copied()
            .collect();
        check(
            n,
            &failures,
            &known,
            &format!(" with a shared cache (round {round})"),
        );
    }
    assert!(cache.stats().0 > 0, "the shared cache was never hit");
}
