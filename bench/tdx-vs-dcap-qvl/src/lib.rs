//! The fixture shared by the comparison benchmark: the real
//! `tdx-v4-uptodate-dcap-qvl` quote and its collateral, in cogito's form
//! (the PCS-native files) and in dcap-qvl's `QuoteCollateralV3`.

use std::collections::BTreeMap;
use std::path::PathBuf;

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

/// The real-vector folder: `$COGITO_VECTORS`, else `../shared/vectors`
/// beside the checkout. `None`, with a notice, when it is absent.
pub fn vectors_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("COGITO_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/vectors"
            ))
        });
    if dir.join("MANIFEST.toml").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: real vectors not found at {} (set COGITO_VECTORS)",
            dir.display()
        );
        None
    }
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
    let root = vectors_dir()?;
    let manifest = std::fs::read_to_string(root.join("MANIFEST.toml")).expect("MANIFEST.toml");
    let manifest: toml::Table = toml::from_str(&manifest).expect("MANIFEST.toml is TOML");
    let case = manifest["vector"]
        .as_array()
        .expect("[[vector]]")
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
