//! The cases of cogito's performance page (docs/performance.md): one
//! verification per platform and evidence version, each with what it
//! cannot avoid — its signature floor — so that a figure is read next to
//! the cost of the cryptography it must do.
//!
//! | case | evidence | floor |
//! |---|---|---|
//! | `snp-milan-v2` | real Milan report v2 (virtee) | 1 ECDSA P-384 verification |
//! | `snp-genoa-v3` | real Genoa report v3 (Azure, Trustee) | 1 ECDSA P-384 |
//! | `snp-turin-v5` | real Turin report v5 (OpenAnolis) | 1 ECDSA P-384 |
//! | `tdx-v4` | real quote v4, TD 1.0 (dcap-qvl), full collateral | 1 ECDSA P-256 |
//! | `tdx-v5-td10` | quote v5, TD 1.0 body (cogito testkit, FAKE roots) | 1 ECDSA P-256 |
//! | `tdx-v5-td15` | real quote v5, TD 1.5 body (go-tdx-guest) | 1 ECDSA P-256 |
//! | `cca` | real CCA token (rust-ccatoken) | 2 ECDSA P-384 |
//!
//! No real TDX quote v5 with a TD 1.0 body has been published with its
//! collateral, so that row verifies the testkit's, chained to the testkit
//! root, trusted explicitly.
//!
//! - **Cached** is what a server pays for a platform it has seen: the SNP
//!   and TDX caches hold the verified chains and collateral
//!   (`VerifiedCache`); the evidence's own signature is always checked.
//! - **Cold** is the first verification of a new platform: a fresh, empty
//!   cache each time, so every certificate, CRL and collateral signature
//!   is checked. CCA has no cache: its two signatures are all there is.
//! - The floors call AWS-LC directly, keys parsed as a verifier would
//!   hold them: the VCEK and the TDX attestation key once, the CCA
//!   platform key (CPAK, a trust anchor) once, and the realm key (RAK)
//!   every time, as an `UnparsedPublicKey` (the cheapest way AWS-LC
//!   offers to verify with a key seen once) — each realm brings its own.
//!
//! [`measured`] is the function CI counts instructions of (valgrind's
//! callgrind, `tests/instructions.rs`), so it stays `#[inline(never)]`
//! and keeps its name.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use aws_lc_rs::signature::{
    ParsedPublicKey, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED,
};
use cogito_core::anchors::certificates_from_pem_or_der;
use cogito_core::{TrustAnchors, VerificationTime};
use x509_parser::prelude::{FromDer, X509Certificate};

/// The platform a case belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// AMD SEV-SNP.
    Snp,
    /// Intel TDX.
    Tdx,
    /// Arm CCA.
    Cca,
}

impl Platform {
    /// Lower-case name, as in the JSON rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Snp => "snp",
            Platform::Tdx => "tdx",
            Platform::Cca => "cca",
        }
    }
}

/// Where a case's files come from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// `../shared/vectors`, by MANIFEST.toml id.
    Real(&'static str),
    /// `test-vectors/tdx` in this repository, by case id.
    TestkitTdx(&'static str),
}

/// The cases, in table order: (name, label, platform, source).
const CASES: [(&str, &str, Platform, Source); 7] = [
    (
        "snp-milan-v2",
        "SNP Milan, report v2",
        Platform::Snp,
        Source::Real("snp-milan-v2-virtee"),
    ),
    (
        "snp-genoa-v3",
        "SNP Genoa, report v3",
        Platform::Snp,
        Source::Real("snp-genoa-v3-azure-trustee"),
    ),
    (
        "snp-turin-v5",
        "SNP Turin, report v5",
        Platform::Snp,
        Source::Real("snp-turin-v5-openanolis"),
    ),
    (
        "tdx-v4",
        "TDX quote v4, TD 1.0",
        Platform::Tdx,
        Source::Real("tdx-v4-uptodate-dcap-qvl"),
    ),
    (
        "tdx-v5-td10",
        "TDX quote v5, TD 1.0 (testkit)",
        Platform::Tdx,
        Source::TestkitTdx("v5-td10"),
    ),
    (
        "tdx-v5-td15",
        "TDX quote v5, TD 1.5",
        Platform::Tdx,
        Source::Real("tdx-v5-td15-uptodate-go-tdx-guest"),
    ),
    (
        "cca",
        "CCA token (tag 399)",
        Platform::Cca,
        Source::Real("cca-token-01-rust-ccatoken"),
    ),
];

/// The names of every case, in table order.
pub fn case_names() -> impl Iterator<Item = &'static str> {
    CASES.iter().map(|c| c.0)
}

/// The verification cache of a case's platform (the other platform's is
/// disabled: it would never be used, and a live one allocates its maps).
pub struct Caches {
    snp: cogito_snp::VerifiedCache,
    tdx: cogito_tdx::VerifiedCache,
}

impl Caches {
    /// Empty caches for a verification of `platform`.
    pub fn empty(platform: Platform) -> Caches {
        let live = |p: Platform| platform == p;
        Caches {
            snp: if live(Platform::Snp) {
                cogito_snp::VerifiedCache::default()
            } else {
                cogito_snp::VerifiedCache::disabled()
            },
            tdx: if live(Platform::Tdx) {
                cogito_tdx::VerifiedCache::default()
            } else {
                cogito_tdx::VerifiedCache::disabled()
            },
        }
    }
}

/// What a case verifies, with its inputs.
enum Evidence {
    Snp {
        report: Vec<u8>,
        collateral: cogito_snp::Collateral,
        anchors: &'static TrustAnchors,
        at: VerificationTime,
        options: cogito_snp::Options,
    },
    Tdx {
        quote: Vec<u8>,
        collateral: cogito_tdx::Collateral,
        anchors: TrustAnchors,
        at: VerificationTime,
        options: cogito_tdx::Options,
    },
    Cca {
        token: Vec<u8>,
        anchors: cogito_cca::CcaTrustAnchors,
        options: cogito_cca::Options,
    },
}

/// What the floor verifies: the signatures the case cannot avoid.
enum Floor {
    /// One signature, key parsed once.
    One {
        key: ParsedPublicKey,
        message: Vec<u8>,
        signature: Vec<u8>,
    },
    /// CCA: the platform signature with the CPAK (parsed once) and the
    /// realm signature with the RAK, parsed each time.
    Cca {
        cpak: ParsedPublicKey,
        platform_tbs: Vec<u8>,
        platform_sig: Vec<u8>,
        rak_point: Vec<u8>,
        realm_tbs: Vec<u8>,
        realm_sig: Vec<u8>,
    },
}

/// One row of the performance page, loaded and checked.
pub struct Case {
    /// Short name (`snp-milan-v2`).
    pub name: &'static str,
    /// What a reader sees (`SNP Milan, report v2`).
    pub label: &'static str,
    /// Its platform.
    pub platform: Platform,
    /// Where the evidence came from (a MANIFEST.toml id or a testkit case).
    pub source: String,
    /// What the floor is, in words.
    pub floor_label: &'static str,
    evidence: Evidence,
    floor: Floor,
    /// Warmed by [`load_all`]'s first verification.
    warm: Caches,
}

/// Where the files are.
pub struct Paths {
    /// `../shared/vectors` (or `$COGITO_VECTORS`).
    pub vectors: PathBuf,
    /// The repository root (for `test-vectors/`).
    pub repo: PathBuf,
}

impl Paths {
    /// The real vectors where `cogito_testkit::real_vectors::dir` finds
    /// them (`$COGITO_VECTORS`, else `../shared/vectors`); `None`, with a
    /// notice, when they are absent — a panic under `CI=true`.
    pub fn locate() -> Option<Paths> {
        Some(Paths {
            vectors: cogito_testkit::real_vectors::dir()?,
            repo: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")),
        })
    }
}

type Result<T> = std::result::Result<T, String>;

fn read(dir: &Path, file: &str) -> Result<Vec<u8>> {
    std::fs::read(dir.join(file)).map_err(|e| format!("{}: {e}", dir.join(file).display()))
}

fn table_of<'a>(tables: &'a [toml::Value], key: &str, id: &str) -> Result<&'a toml::Value> {
    tables
        .iter()
        .find(|v| v.get(key).and_then(toml::Value::as_str) == Some(id))
        .ok_or_else(|| format!("{id}: not in the manifest"))
}

fn str_field<'a>(table: &'a toml::Value, key: &str) -> Result<&'a str> {
    table
        .get(key)
        .and_then(toml::Value::as_str)
        .ok_or_else(|| format!("manifest entry without `{key}`"))
}

fn manifest(path: &Path, array: &str) -> Result<Vec<toml::Value>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut doc: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    match doc.remove(array) {
        Some(toml::Value::Array(a)) => Ok(a),
        _ => Err(format!("{}: no [[{array}]]", path.display())),
    }
}

fn p384(point: &[u8]) -> Result<ParsedPublicKey> {
    ParsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, point)
        .map_err(|_| "not a P-384 point".to_string())
}

/// Every case, loaded and verified once (a case that does not verify is
/// an error: timing a refusal would measure the wrong thing).
pub fn load_all(paths: &Paths) -> Result<Vec<Case>> {
    let real = manifest(&paths.vectors.join("MANIFEST.toml"), "vector")?;
    let testkit_tdx_dir = paths.repo.join("test-vectors/tdx");
    let testkit_tdx = manifest(&testkit_tdx_dir.join("MANIFEST.toml"), "case")?;
    CASES
        .iter()
        .map(|&(name, label, platform, source)| {
            // (folder, verify_at, where it came from, a testkit root to trust)
            let (dir, at, source, testkit_root) = match source {
                Source::Real(id) => {
                    let t = table_of(&real, "id", id)?;
                    (
                        paths.vectors.join(str_field(t, "dir")?),
                        str_field(t, "verify_at")?,
                        id.to_string(),
                        None,
                    )
                }
                Source::TestkitTdx(id) => {
                    let t = table_of(&testkit_tdx, "id", id)?;
                    (
                        testkit_tdx_dir.join(str_field(t, "dir")?),
                        str_field(t, "verify_at")?,
                        format!("test-vectors/tdx {id}"),
                        Some(testkit_tdx_dir.join("anchors/root.pem")),
                    )
                }
            };
            let at = VerificationTime::parse_rfc3339(at).map_err(|e| format!("{name}: {e}"))?;
            let case = match platform {
                Platform::Snp => snp_case(&dir, at)?,
                Platform::Tdx => tdx_case(&dir, at, testkit_root.as_deref())?,
                Platform::Cca => cca_case(&dir)?,
            };
            let (evidence, floor, floor_label) = case;
            let c = Case {
                name,
                label,
                platform,
                source,
                floor_label,
                evidence,
                floor,
                warm: Caches::empty(platform),
            };
            c.verify_cached()
                .map_err(|e| format!("{name}: refused: {e}"))?;
            c.verify_cold()
                .map_err(|e| format!("{name}: refused cold: {e}"))?;
            if !c.floor() {
                return Err(format!("{name}: the floor's signatures do not verify"));
            }
            Ok(c)
        })
        .collect()
}

type Loaded = (Evidence, Floor, &'static str);

fn snp_case(dir: &Path, at: VerificationTime) -> Result<Loaded> {
    let report = read(dir, "report.bin")?;
    let vcek = read(dir, "vcek.der")?;
    let chain = certificates_from_pem_or_der(&read(dir, "cert_chain.pem")?)?;
    let (_, cert) = X509Certificate::from_der(&vcek).map_err(|e| format!("vcek.der: {e}"))?;
    let key = p384(&cert.public_key().subject_public_key.data)?;
    let parsed = cogito_snp::Report::parse(&report).map_err(|e| e.to_string())?;
    let floor = Floor::One {
        key,
        message: parsed.signed_bytes().to_vec(),
        signature: parsed.signature.to_vec(),
    };
    let evidence = Evidence::Snp {
        report,
        collateral: cogito_snp::Collateral {
            vcek: Some(vcek),
            chain,
            ..cogito_snp::Collateral::default()
        },
        anchors: cogito_snp::builtin_anchors(),
        at,
        options: cogito_snp::Options::default(),
    };
    Ok((evidence, floor, "1× ECDSA P-384"))
}

fn tdx_case(dir: &Path, at: VerificationTime, testkit_root: Option<&Path>) -> Result<Loaded> {
    let quote = read(dir, "quote.bin")?;
    let collateral = cogito_collateral::load_tdx_bundle(dir)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{}: no TDX collateral", dir.display()))?
        .collateral;
    let mut anchors = cogito_tdx::builtin_anchors().clone();
    if let Some(root) = testkit_root {
        let pem = std::fs::read(root).map_err(|e| format!("{}: {e}", root.display()))?;
        anchors
            .add_pem_or_der(&pem, false, "testkit root")
            .map_err(|e| format!("{}: {e}", root.display()))?;
    }
    let parsed = cogito_tdx::Quote::parse(&quote).map_err(|e| e.to_string())?;
    let mut point = vec![4u8];
    point.extend_from_slice(&parsed.attestation_key);
    let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .map_err(|_| "attestation key is not a P-256 point".to_string())?;
    let floor = Floor::One {
        key,
        message: parsed.signed.to_vec(),
        signature: parsed.signature.to_vec(),
    };
    let evidence = Evidence::Tdx {
        quote,
        collateral,
        anchors,
        at,
        options: cogito_tdx::Options::default(),
    };
    Ok((evidence, floor, "1× ECDSA P-256"))
}

fn cca_case(dir: &Path) -> Result<Loaded> {
    let token = read(dir, "token.cbor")?;
    let anchors = cogito_cca::CcaTrustAnchors::from_jwk(&read(dir, "cpak.jwk")?, "cpak.jwk")
        .map_err(|e| e.to_string())?;
    let parsed = cogito_cca::CcaToken::parse(&token).map_err(|e| e.to_string())?;
    let cpak = anchors
        .entries()
        .first()
        .ok_or("cpak.jwk: no key")?
        .key
        .point()
        .to_vec();
    let floor = Floor::Cca {
        cpak: p384(&cpak)?,
        platform_tbs: parsed.platform.to_be_signed(),
        platform_sig: parsed.platform.signature.to_vec(),
        rak_point: parsed.rak.point().to_vec(),
        realm_tbs: parsed.realm.to_be_signed(),
        realm_sig: parsed.realm.signature.to_vec(),
    };
    let evidence = Evidence::Cca {
        token,
        anchors,
        // The CPAK of this published token is a published test key.
        options: cogito_cca::Options {
            allow_test_keys: true,
            ..cogito_cca::Options::default()
        },
    };
    Ok((evidence, floor, "2× ECDSA P-384"))
}

impl Case {
    /// Verifies with this case's warm cache (the cached path).
    pub fn verify_cached(&self) -> Result<()> {
        self.verify_with(&self.warm)
    }

    /// Verifies with a fresh, empty cache (the cold path: the first
    /// verification of a new platform).
    pub fn verify_cold(&self) -> Result<()> {
        self.verify_with(&self.empty_cache())
    }

    /// An empty cache of this case's platform, to make before the clock
    /// starts: a server makes its cache once, not per verification (and
    /// making one allocates its maps, which is not verifying anything).
    pub fn empty_cache(&self) -> Caches {
        Caches::empty(self.platform)
    }

    /// Verifies with `caches` (see [`Case::empty_cache`] for a cold run).
    pub fn verify_with(&self, caches: &Caches) -> Result<()> {
        match &self.evidence {
            Evidence::Snp {
                report,
                collateral,
                anchors,
                at,
                options,
            } => cogito_snp::verify_report(report, collateral, anchors, *at, options, &caches.snp)
                .map(drop)
                .map_err(|e| e.to_string()),
            Evidence::Tdx {
                quote,
                collateral,
                anchors,
                at,
                options,
            } => cogito_tdx::verify_quote(
                quote,
                Some(collateral),
                anchors,
                *at,
                options,
                &caches.tdx,
            )
            .map(drop)
            .map_err(|e| e.to_string()),
            Evidence::Cca {
                token,
                anchors,
                options,
            } => cogito_cca::verify_token(token, anchors, options)
                .map(drop)
                .map_err(|e| e.to_string()),
        }
    }

    /// The floor: the case's inherent signature verifications, through
    /// AWS-LC directly. True when they all verify.
    pub fn floor(&self) -> bool {
        match &self.floor {
            Floor::One {
                key,
                message,
                signature,
            } => key.verify_sig(message, signature).is_ok(),
            Floor::Cca {
                cpak,
                platform_tbs,
                platform_sig,
                rak_point,
                realm_tbs,
                realm_sig,
            } => {
                cpak.verify_sig(platform_tbs, platform_sig).is_ok()
                    & UnparsedPublicKey::new(&ECDSA_P384_SHA384_FIXED, rak_point)
                        .verify(realm_tbs, realm_sig)
                        .is_ok()
            }
        }
    }
}

/// `n` cached verifications of `case`; the number that succeeded.
///
/// CI's instruction count (`tests/instructions.rs`) is callgrind's count
/// inside this function, found by its name: keep both.
#[inline(never)]
pub fn measured(case: &Case, n: u32) -> usize {
    (0..n)
        .filter(|_| std::hint::black_box(case).verify_cached().is_ok())
        .count()
}

/// A cold verification of `case` with each of `caches` (fresh ones, see
/// [`Case::empty_cache`]); the number that succeeded.
#[inline(never)]
pub fn measured_cold(case: &Case, caches: &[Caches]) -> usize {
    caches
        .iter()
        .filter(|c| std::hint::black_box(case).verify_with(c).is_ok())
        .count()
}
