//! The fixture shared by the comparison benchmark: the real
//! `tdx-v4-uptodate-dcap-qvl` quote and its collateral, in cogito's form
//! (the PCS-native files) and in dcap-qvl's `QuoteCollateralV3`. Also
//! dcap-qvl's published TD 1.5 extended sample (quote v5 body type 4), found
//! in the dcap-qvl package cargo downloaded ([`td15ex_sample`]), with its
//! collateral converted the other way, into cogito's form.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use cogito_core::VerificationTime;
use cogito_tdx::Collateral;
use dcap_qvl::QuoteCollateralV3;
use serde_json::value::RawValue;

/// The vector both verifiers are timed on.
pub const CASE_ID: &str = "tdx-v4-uptodate-dcap-qvl";

/// One quote with its collateral and verification time.
pub struct Fixture {
    /// `quote.bin`.
    pub quote: Vec<u8>,
    /// The PCS-native files, as cogito reads them.
    pub collateral: Collateral,
    /// The same collateral as dcap-qvl takes it.
    pub dcap: QuoteCollateralV3,
    /// The manifest's `verify_at`.
    pub at: VerificationTime,
}

/// `{"<key>":{…},"signature":"<hex>"}` → (exact inner text, signature).
fn split_signed_json(body: &[u8], key: &str) -> (String, Vec<u8>) {
    let outer: BTreeMap<String, &RawValue> =
        serde_json::from_slice(body).unwrap_or_else(|e| panic!("{key}: {e}"));
    let inner = outer.get(key).unwrap_or_else(|| panic!("no {key:?}"));
    let sig: String =
        serde_json::from_str(outer.get("signature").expect("signature").get()).expect("string");
    (
        inner.get().to_string(),
        hex::decode(sig).expect("signature is hex"),
    )
}

/// Loads the fixture, or `None` without the vectors.
pub fn fixture() -> Option<Fixture> {
    // `$COGITO_VECTORS`, else `../shared/vectors`; a notice when absent.
    let root = cogito_testkit::real_vectors::dir()?;
    let vectors = cogito_testkit::real_vectors::manifest_vectors(&root);
    let case = vectors
        .iter()
        .find(|v| v["id"].as_str() == Some(CASE_ID))
        .expect("tdx-v4-uptodate-dcap-qvl in MANIFEST.toml");
    let dir = root.join(case["dir"].as_str().expect("dir"));
    let at = VerificationTime::parse_rfc3339(case["verify_at"].as_str().expect("verify_at"))
        .expect("verify_at");
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let text = |f: &str| String::from_utf8(read(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let collateral = Collateral {
        tcb_info: read("tcb_info.json"),
        tcb_info_issuer_chain: read("tcb_info_issuer_chain.pem"),
        qe_identity: read("qe_identity.json"),
        qe_identity_issuer_chain: read("qe_identity_issuer_chain.pem"),
        pck_crl: read("pck_crl.der"),
        pck_crl_issuer_chain: read("pck_crl_issuer_chain.pem"),
        root_ca_crl: read("root_ca_crl.der"),
    };
    let (tcb_info, tcb_info_signature) = split_signed_json(&collateral.tcb_info, "tcbInfo");
    let (qe_identity, qe_identity_signature) =
        split_signed_json(&collateral.qe_identity, "enclaveIdentity");
    let dcap = QuoteCollateralV3 {
        pck_crl_issuer_chain: text("pck_crl_issuer_chain.pem"),
        root_ca_crl: collateral.root_ca_crl.clone(),
        pck_crl: collateral.pck_crl.clone(),
        tcb_info_issuer_chain: text("tcb_info_issuer_chain.pem"),
        tcb_info,
        tcb_info_signature,
        qe_identity_issuer_chain: text("qe_identity_issuer_chain.pem"),
        qe_identity,
        qe_identity_signature,
        // Type-5 quotes carry their PCK chain; dcap-qvl reads it there.
        pck_certificate_chain: None,
    };
    Some(Fixture {
        quote: read("quote.bin"),
        collateral,
        dcap,
        at,
    })
}

/// `verify_at` as dcap-qvl's `now_secs`.
pub fn now_secs(f: &Fixture) -> u64 {
    u64::try_from(f.at.unix()).expect("verify_at after 1970")
}

/// The dcap-qvl release whose `sample/` folder the TD 1.5 extended
/// cross-check reads (the one `Cargo.lock` pins).
pub const DCAP_QVL_VERSION: &str = "0.7.1";

/// The time dcap-qvl's own `td15_ex_quote_verifies` test verifies its
/// sample at (`now_from_collateral`: inside every collateral window).
pub const TD15EX_SAMPLE_AT: &str = "2026-11-06T23:45:10Z";

/// dcap-qvl's TD 1.5 extended sample: the quote, its collateral in both
/// forms, and the verification time.
pub struct Td15exSample {
    /// The `sample/` folder it was read from.
    pub dir: PathBuf,
    /// `sample/tdx_quote_td15ex` (a raw quote).
    pub quote: Vec<u8>,
    /// `sample/tdx_quote_td15ex_collateral.json`, as dcap-qvl reads it.
    pub dcap: QuoteCollateralV3,
    /// The same collateral as the PCS-native files cogito reads.
    pub collateral: Collateral,
    /// [`TD15EX_SAMPLE_AT`].
    pub at: VerificationTime,
}

/// `sample/` of the dcap-qvl package cargo resolved for this crate: first
/// where `cargo metadata --offline` says the package is, else
/// `$CARGO_HOME/registry/src/*/dcap-qvl-<DCAP_QVL_VERSION>/sample`. `None`,
/// with a notice, when neither holds the TD 1.5 extended sample (run
/// `cargo fetch` here first). Nothing is copied into the repository.
pub fn dcap_qvl_sample_dir() -> Option<PathBuf> {
    let has_sample = |d: &Path| d.join("tdx_quote_td15ex").is_file();
    if let Some(d) = sample_dir_from_metadata().filter(|d| has_sample(d)) {
        return Some(d);
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let registry = cargo_home.map(|h| h.join("registry").join("src"));
    let found = registry.as_deref().and_then(|r| {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(r)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| {
                e.path()
                    .join(format!("dcap-qvl-{DCAP_QVL_VERSION}"))
                    .join("sample")
            })
            .filter(|d| has_sample(d))
            .collect();
        dirs.sort();
        dirs.into_iter().next()
    });
    if found.is_none() {
        eprintln!(
            "skipping: dcap-qvl {DCAP_QVL_VERSION}'s sample/tdx_quote_td15ex is neither where `cargo metadata --offline` puts the package nor under {}; run `cargo fetch` in bench/tdx-vs-dcap-qvl",
            registry.map_or_else(
                || "$CARGO_HOME/registry/src (no CARGO_HOME or HOME)".into(),
                |r| r.display().to_string()
            )
        );
    }
    found
}

/// The dcap-qvl package's folder from `cargo metadata` (offline: the
/// package must already be downloaded).
fn sample_dir_from_metadata() -> Option<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--manifest-path",
        ])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let package = meta["packages"].as_array()?.iter().find(|p| {
        p["name"].as_str() == Some("dcap-qvl") && p["version"].as_str() == Some(DCAP_QVL_VERSION)
    })?;
    let manifest = PathBuf::from(package["manifest_path"].as_str()?);
    Some(manifest.parent()?.join("sample"))
}

/// `{"<key>":<inner>,"signature":"<hex>"}`: the PCS body cogito reads,
/// with the signed object spliced in byte for byte (the inverse of
/// `split_signed_json`).
fn join_signed_json(key: &str, inner: &str, signature: &[u8]) -> Vec<u8> {
    format!(
        "{{\"{key}\":{inner},\"signature\":\"{}\"}}",
        hex::encode(signature)
    )
    .into_bytes()
}

/// dcap-qvl's `QuoteCollateralV3` as the PCS-native files cogito reads.
pub fn cogito_collateral(c: &QuoteCollateralV3) -> Collateral {
    Collateral {
        tcb_info: join_signed_json("tcbInfo", &c.tcb_info, &c.tcb_info_signature),
        tcb_info_issuer_chain: c.tcb_info_issuer_chain.clone().into_bytes(),
        qe_identity: join_signed_json("enclaveIdentity", &c.qe_identity, &c.qe_identity_signature),
        qe_identity_issuer_chain: c.qe_identity_issuer_chain.clone().into_bytes(),
        pck_crl: c.pck_crl.clone(),
        pck_crl_issuer_chain: c.pck_crl_issuer_chain.clone().into_bytes(),
        root_ca_crl: c.root_ca_crl.clone(),
    }
}

/// Loads dcap-qvl's TD 1.5 extended sample, or `None` (with a notice)
/// when the dcap-qvl package is not on this machine.
pub fn td15ex_sample() -> Option<Td15exSample> {
    let dir = dcap_qvl_sample_dir()?;
    let quote = std::fs::read(dir.join("tdx_quote_td15ex")).expect("tdx_quote_td15ex");
    let json =
        std::fs::read(dir.join("tdx_quote_td15ex_collateral.json")).expect("collateral JSON");
    // dcap-qvl's own reading: hex strings for the byte fields.
    let dcap: QuoteCollateralV3 =
        serde_json::from_slice(&json).expect("tdx_quote_td15ex_collateral.json");
    let collateral = cogito_collateral(&dcap);
    Some(Td15exSample {
        dir,
        quote,
        dcap,
        collateral,
        at: VerificationTime::parse_rfc3339(TD15EX_SAMPLE_AT).expect("TD15EX_SAMPLE_AT"),
    })
}
