//! Verifying an SEV-SNP report: a pure function of (report bytes,
//! collateral, trust anchors, time, options).
//!
//! [`verify_report`] performs, in order — a caller must not skip any:
//!
//! 1. Parse the report ([`Report::parse`]): version 2/3/5, SIGNATURE_ALGO 1,
//!    SIGNING_KEY not reserved, every MBZ range zero.
//! 2. Pick the endorsement certificate the report names (VCEK or VLEK).
//! 3. Decide the product line from `--product`, the report's CPUID (v3+)
//!    and the certificate's productName; all that are present must agree.
//! 4. Check that every supplied ASK/ASVK/ARK is a pinned anchor of that
//!    product (by public key).
//! 5. Verify the chain against the pinned anchors: ARK self-signed and a CA,
//!    ARK→ASK (VCEK) or ARK→ASVK (VLEK), ASK/ASVK→leaf, AMD's RSASSA-PSS
//!    parameters, names, CA constraints, validity of all three at `at`.
//! 6. Check supplied CRLs (issuer, signature, window) and revocation.
//! 7. Verify the report signature with the leaf key.
//! 8. Bind the report to the certificate: REPORTED_TCB equals the
//!    certificate's SPLs (fmcSPL on Turin), CHIP_ID equals hwID (VCEK,
//!    unless MASK_CHIP_ID).
//! 9. TCB consistency: REPORTED_TCB ≤ CURRENT_TCB, COMMITTED_TCB ≤
//!    CURRENT_TCB; unless provisional firmware is permitted, COMMITTED_TCB
//!    and the committed version equal the current ones.
//! 10. REPORT_DATA equals the expected value, when one is given.
//!
//! Steps 4–6 are remembered in a [`VerifiedCache`], so a second report with
//! the same certificate costs one ECDSA verification plus comparisons.

use std::sync::Arc;

use cogito_core::claims::Check;
use cogito_core::{
    AmdKeyRole, AmdProduct, AnchorRole, TrustAnchor, TrustAnchors, VerificationTime, Verified,
};
use x509_parser::prelude::X509Certificate;

use crate::cache::{VerifiedCache, VerifiedChain};
use crate::cert::{self, VcekExtensions};
use crate::cert_table::{parse_cert_table, CertTableKind};
use crate::claims::{
    normalized, CertificateClaims, CrlClaims, EndorsementClaims, ReportClaims, SnpClaims,
};
use crate::crl::{self, CheckedCrl};
use crate::crypto::{self, P384Key};
use crate::error::{MissingCollateral, SnpError};
use crate::report::{Report, SigningKey};
use crate::tcb::TcbParts;

/// Certificates and CRLs that endorse a report. Everything is DER.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collateral {
    /// The VCEK for this chip and TCB.
    pub vcek: Option<Vec<u8>>,
    /// The VLEK the host loaded.
    pub vlek: Option<Vec<u8>>,
    /// Any supplied ASK, ASVK and ARK certificates, in any order. They are
    /// only checked against the pinned anchors; verification always uses
    /// the pinned anchors themselves.
    pub chain: Vec<Vec<u8>>,
    /// CRLs (AMD's, signed by the ARK; or one signed by the ASK/ASVK).
    pub crls: Vec<Vec<u8>>,
    /// How the certificates of a host certificate table were encoded, when
    /// one was added (reported in the claims).
    pub cert_table_encoding: Option<TableEncoding>,
}

/// How the certificate entries of a host certificate table were encoded.
/// The GHCB specification expects DER; some hosts write PEM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TableEncoding {
    /// Every certificate entry was DER.
    Der,
    /// Every certificate entry was one strict PEM block.
    Pem,
    /// Some entries were DER, some PEM.
    Mixed,
}

impl Collateral {
    /// Adds the certificates of a host-supplied certificate table (the
    /// GUID table of an extended report / configfs-tsm `auxblob`). Each
    /// known entry (VCEK, VLEK, ASK, ARK) is strict DER or exactly one
    /// strict PEM block ([`cogito_core::pem`]); entries of other GUIDs are
    /// not read.
    pub fn add_certificate_table(&mut self, table: &[u8]) -> Result<(), SnpError> {
        let mut pem = 0usize;
        let mut der_count = 0usize;
        for entry in parse_cert_table(table)? {
            if entry.kind == CertTableKind::Other {
                continue;
            }
            let der = if cogito_core::pem::looks_like_pem(entry.data) {
                pem += 1;
                cogito_core::pem::decode_certificate(entry.data).map_err(|e| {
                    SnpError::MalformedCertTable {
                        reason: format!(
                            "the {:?} entry at offset {:#x} is PEM but {e}",
                            entry.kind, entry.offset
                        ),
                    }
                })?
            } else {
                der_count += 1;
                entry.data.to_vec()
            };
            match entry.kind {
                CertTableKind::Vcek => self.vcek = Some(der),
                CertTableKind::Vlek => self.vlek = Some(der),
                CertTableKind::Ask | CertTableKind::Ark => self.chain.push(der),
                CertTableKind::Other => {}
            }
        }
        self.cert_table_encoding = match (der_count, pem) {
            (0, 0) => self.cert_table_encoding,
            (_, 0) => Some(TableEncoding::Der),
            (0, _) => Some(TableEncoding::Pem),
            _ => Some(TableEncoding::Mixed),
        };
        Ok(())
    }
}

/// What the verifier requires beyond authenticity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The product line, when known (required for version 2 reports whose
    /// certificate carries no productName).
    pub product: Option<AmdProduct>,
    /// Accept firmware that is running but not committed (CURRENT_TCB ≠
    /// COMMITTED_TCB). Off by default, as in go-sev-guest.
    pub permit_provisional_firmware: bool,
    /// The exact REPORT_DATA expected (e.g. a nonce binding).
    pub expected_report_data: Option<[u8; 64]>,
}

/// Something the verifier needs in order to verify a report: what a
/// collateral resolver (bundle directory, cache, AMD KDS) must provide.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CollateralRequest {
    /// The VCEK for a chip and TCB (KDS `/vcek/v1/{product}/{hwid}?…`).
    Vcek {
        /// Product line.
        product: AmdProduct,
        /// CHIP_ID (64 bytes; the first 8 on Turin).
        hw_id: Vec<u8>,
        /// REPORTED_TCB decoded with the product's layout.
        tcb: TcbParts,
    },
    /// A VLEK: only the host can supply it (it is not published by the KDS).
    Vlek {
        /// Product line.
        product: AmdProduct,
    },
    /// AMD's CRL for a product and key family.
    Crl {
        /// Product line.
        product: AmdProduct,
        /// VCEK or VLEK family.
        kind: SigningKey,
    },
}

impl Report {
    /// What must be fetched to verify this report, given what is known of
    /// its product line (`product` overrides the report's CPUID).
    pub fn collateral_needed(
        &self,
        product: Option<AmdProduct>,
    ) -> Result<Vec<CollateralRequest>, SnpError> {
        let product = match (product, self.product_from_cpuid()?) {
            (Some(p), _) | (None, Some(p)) => p,
            (None, None) => {
                return Err(SnpError::ProductUnknown {
                    version: self.version,
                })
            }
        };
        Ok(match self.signing_key {
            SigningKey::Vcek => {
                if self.chip_id_masked() {
                    return Err(SnpError::CollateralMissing {
                        what: MissingCollateral::VcekOfMaskedChip,
                    });
                }
                let len = if product == AmdProduct::Turin { 8 } else { 64 };
                vec![
                    CollateralRequest::Vcek {
                        product,
                        hw_id: self.chip_id.get(..len).unwrap_or_default().to_vec(),
                        tcb: self.reported_tcb.decode(product),
                    },
                    CollateralRequest::Crl {
                        product,
                        kind: SigningKey::Vcek,
                    },
                ]
            }
            SigningKey::Vlek => vec![
                CollateralRequest::Vlek { product },
                CollateralRequest::Crl {
                    product,
                    kind: SigningKey::Vlek,
                },
            ],
            SigningKey::None => return Err(SnpError::Unsigned),
        })
    }
}

/// Verifies an SEV-SNP report; see the module documentation for the steps.
pub fn verify_report(
    report_bytes: &[u8],
    collateral: &Collateral,
    anchors: &TrustAnchors,
    at: VerificationTime,
    options: &Options,
    cache: &VerifiedCache,
) -> Result<Verified<SnpClaims>, SnpError> {
    let report = Report::parse(report_bytes)?;
    verify_parsed(&report, collateral, anchors, at, options, cache)
}

/// As [`verify_report`], for a report already parsed.
pub fn verify_parsed(
    report: &Report,
    collateral: &Collateral,
    anchors: &TrustAnchors,
    at: VerificationTime,
    options: &Options,
    cache: &VerifiedCache,
) -> Result<Verified<SnpClaims>, SnpError> {
    let mut checks = Vec::with_capacity(10);
    checks.push(Check {
        name: "report_format",
        detail: format!(
            "version {} report, SIGNATURE_ALGO 1, all reserved ranges zero",
            report.version
        ),
    });

    // Step 2: the endorsement certificate.
    let (kind, leaf_der) = match report.signing_key {
        SigningKey::None => return Err(SnpError::Unsigned),
        SigningKey::Vcek => match (&collateral.vcek, &collateral.vlek) {
            (Some(v), _) => (SigningKey::Vcek, v.as_slice()),
            (None, Some(_)) => {
                return Err(SnpError::KeyKindMismatch {
                    report: "VCEK",
                    supplied: "VLEK",
                })
            }
            (None, None) => {
                return Err(SnpError::CollateralMissing {
                    what: MissingCollateral::Vcek,
                })
            }
        },
        SigningKey::Vlek => match (&collateral.vlek, &collateral.vcek) {
            (Some(v), _) => (SigningKey::Vlek, v.as_slice()),
            (None, Some(_)) => {
                return Err(SnpError::KeyKindMismatch {
                    report: "VLEK",
                    supplied: "VCEK",
                })
            }
            (None, None) => {
                return Err(SnpError::CollateralMissing {
                    what: MissingCollateral::Vlek,
                })
            }
        },
    };

    // Steps 3–6, from the cache when possible.
    let cpuid_product = report.product_from_cpuid()?;
    let key = cache_key(leaf_der, &collateral.crls);
    let chain = match cache.get(&key) {
        // The entry must also have been verified for the product this
        // call resolves to: a cached Milan chain must not answer a call
        // that says Genoa.
        Some(c)
            if cache_entry_usable(&c, kind, at, anchors)
                && resolve_product(
                    report.version,
                    options.product,
                    cpuid_product,
                    c.extensions.product(),
                )
                .is_ok_and(|(p, _)| p == c.product) =>
        {
            c
        }
        _ => {
            let c = Arc::new(verify_chain(
                report,
                leaf_der,
                kind,
                options.product,
                collateral,
                anchors,
                at,
            )?);
            cache.insert(key, c.clone());
            c
        }
    };
    let product = chain.product;
    let product_source = resolve_product(
        report.version,
        options.product,
        cpuid_product,
        chain.extensions.product(),
    )?
    .1;
    check_supplied_chain_pinned(&collateral.chain, product, anchors)?;
    checks.push(Check {
        name: "product",
        detail: format!("{product} (from {product_source})"),
    });
    checks.push(Check {
        name: "endorsement_chain",
        detail: format!(
            "ARK-{product} ({}) → {} ({}) → {}: RSASSA-PSS SHA-384 signatures, names, CA constraints and validity at {at}",
            anchor_origin(chain.certificates[2].builtin_anchor),
            if kind == SigningKey::Vcek { "ASK" } else { "ASVK" },
            anchor_origin(chain.certificates[1].builtin_anchor),
            kind.as_str()
        ),
    });
    if !chain.crls.is_empty() {
        checks.push(Check {
            name: "revocation",
            detail: format!(
                "{} CRL(s) signed and current; no certificate of the chain is revoked",
                chain.crls.len()
            ),
        });
    }

    // Step 7: the report signature.
    chain
        .key
        .verify(report.signed_bytes(), &report.signature)
        .map_err(|_| SnpError::BadReportSignature { key: kind.as_str() })?;
    checks.push(Check {
        name: "report_signature",
        detail: format!(
            "ECDSA P-384/SHA-384 over bytes 0x000–0x29F by the {}",
            kind.as_str()
        ),
    });

    // Step 8: bind the report to the certificate.
    check_tcb_binding(report, product, kind, &chain.extensions)?;
    checks.push(Check {
        name: "tcb_binding",
        detail: format!(
            "REPORTED_TCB ({}) equals the {} SPLs",
            report.reported_tcb.decode(product),
            kind.as_str()
        ),
    });
    if kind == SigningKey::Vcek {
        if check_chip_id(report, product, &chain.extensions)? {
            checks.push(Check {
                name: "chip_id",
                detail: "CHIP_ID equals the VCEK hwID".into(),
            });
        } else {
            checks.push(Check {
                name: "chip_id",
                detail:
                    "CHIP_ID is masked (zero); the VCEK key is per chip and still binds the TCB"
                        .into(),
            });
        }
    }

    // Step 9: TCB consistency and provisional firmware.
    let provisional = check_tcb_consistency(report, product, options.permit_provisional_firmware)?;
    checks.push(Check {
        name: "tcb_consistency",
        detail: if provisional {
            "REPORTED_TCB ≤ CURRENT_TCB and COMMITTED_TCB ≤ CURRENT_TCB; provisional firmware permitted".into()
        } else {
            "REPORTED_TCB ≤ CURRENT_TCB; COMMITTED_TCB and version equal CURRENT".into()
        },
    });

    // Step 10: REPORT_DATA.
    if let Some(expected) = &options.expected_report_data {
        if expected != &report.report_data {
            return Err(SnpError::ReportDataMismatch {
                expected: Box::new(*expected),
                found: Box::new(report.report_data),
            });
        }
        checks.push(Check {
            name: "report_data",
            detail: "REPORT_DATA equals the expected value".into(),
        });
    }

    let platform = SnpClaims {
        product,
        product_source,
        report: ReportClaims::new(report, product),
        endorsement: EndorsementClaims {
            kind,
            extensions: chain.extensions.clone(),
            chain: chain.certificates.to_vec(),
            crls: chain.crls.clone(),
            cert_table_encoding: collateral.cert_table_encoding,
        },
        provisional_firmware: provisional,
    };
    Ok(Verified {
        claims: normalized(report, provisional),
        platform,
        checks,
        verified_at: at,
    })
}

/// Where a pinned anchor came from, for the checks summary.
fn anchor_origin(builtin: bool) -> &'static str {
    if builtin {
        "pinned, built in"
    } else {
        "pinned, from the caller's trust anchors"
    }
}

fn cache_key(leaf_der: &[u8], crls: &[Vec<u8>]) -> [u8; 32] {
    let mut parts: Vec<&[u8]> = Vec::with_capacity(1 + crls.len());
    parts.push(leaf_der);
    parts.extend(crls.iter().map(Vec::as_slice));
    crypto::sha256_parts(&parts)
}

fn cache_entry_usable(
    c: &VerifiedChain,
    kind: SigningKey,
    at: VerificationTime,
    anchors: &TrustAnchors,
) -> bool {
    c.kind == kind
        && c.window.contains(at)
        && anchors.iter().any(|a| a.der == c.issuer_der)
        && anchors.iter().any(|a| a.der == c.root_der)
}

/// Step 3: all product sources present must agree.
fn resolve_product(
    version: u32,
    option: Option<AmdProduct>,
    cpuid: Option<AmdProduct>,
    cert: Option<AmdProduct>,
) -> Result<(AmdProduct, &'static str), SnpError> {
    let sources = [
        ("the product given by the caller", option),
        ("report CPUID", cpuid),
        ("certificate productName", cert),
    ];
    let mut chosen: Option<(AmdProduct, &'static str)> = None;
    for (name, p) in sources {
        if let Some(p) = p {
            match chosen {
                None => chosen = Some((p, name)),
                Some((q, qname)) if q != p => {
                    return Err(SnpError::ProductMismatch {
                        first_source: qname,
                        first: q,
                        second_source: name,
                        second: p,
                    })
                }
                Some(_) => {}
            }
        }
    }
    chosen.ok_or(SnpError::ProductUnknown { version })
}

fn anchor_for(
    anchors: &TrustAnchors,
    product: AmdProduct,
    role: AmdKeyRole,
) -> impl Iterator<Item = &TrustAnchor> {
    anchors.with_role(AnchorRole::Amd { product, role })
}

/// Step 4: every supplied intermediate/root must be a pinned key of the
/// product: byte-identical to one of its anchors, or carrying one of their
/// public keys (AMD may re-issue a certificate for the same key).
fn check_supplied_chain_pinned(
    supplied: &[Vec<u8>],
    product: AmdProduct,
    anchors: &TrustAnchors,
) -> Result<(), SnpError> {
    let of_product = || {
        anchors
            .iter()
            .filter(move |a| matches!(a.role, AnchorRole::Amd { product: p, .. } if p == product))
    };
    for der in supplied {
        if of_product().any(|a| &a.der == der) {
            continue;
        }
        let c = cert::parse_certificate(der, "supplied chain certificate")?;
        let spki = c.tbs_certificate.subject_pki.raw;
        let pinned = of_product().any(|a| {
            cert::parse_certificate(&a.der, "anchor")
                .map(|ac| ac.tbs_certificate.subject_pki.raw == spki)
                .unwrap_or(false)
        });
        if !pinned {
            let cn = c
                .subject()
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
                .unwrap_or("");
            let which = if cn.starts_with("ARK-") {
                "ARK"
            } else if cn.starts_with("SEV-VLEK-") {
                "ASVK"
            } else {
                "ASK"
            };
            return Err(SnpError::NotPinned {
                which,
                product,
                subject: c.subject().to_string(),
            });
        }
    }
    Ok(())
}

fn cert_claims(
    role: &'static str,
    c: &X509Certificate<'_>,
    der: &[u8],
    builtin: bool,
) -> CertificateClaims {
    CertificateClaims {
        role,
        subject: c.subject().to_string(),
        serial: hex::encode(crl::normalize_serial(c.raw_serial())),
        validity: cert::validity(c),
        sha256: hex::encode(crypto::sha256(der)),
        builtin_anchor: builtin,
    }
}

/// Steps 3, 5 and 6 (step 4 runs on every call).
fn verify_chain(
    report: &Report,
    leaf_der: &[u8],
    kind: SigningKey,
    option_product: Option<AmdProduct>,
    collateral: &Collateral,
    anchors: &TrustAnchors,
    at: VerificationTime,
) -> Result<VerifiedChain, SnpError> {
    let leaf_name: &'static str = kind.as_str();
    let leaf = cert::parse_certificate(leaf_der, leaf_name)?;
    let extensions = VcekExtensions::parse(&leaf, leaf_name)?;
    let (product, _) = resolve_product(
        report.version,
        option_product,
        report.product_from_cpuid()?,
        extensions.product(),
    )?;
    check_supplied_chain_pinned(&collateral.chain, product, anchors)?;

    let issuer_role = if kind == SigningKey::Vcek {
        AmdKeyRole::Ask
    } else {
        AmdKeyRole::Asvk
    };
    let leaf_key_bytes = cert::p384_public_key(&leaf, leaf_name)?;
    let leaf_key =
        P384Key::from_sec1(leaf_key_bytes).map_err(|_| SnpError::MalformedCertificate {
            which: leaf_name.into(),
            reason: "the P-384 public key is not a valid point".into(),
        })?;
    cert::check_not_ca(&leaf, leaf_name)?;

    // The pinned ASK/ASVK that issued the leaf, then the pinned ARK that
    // issued it (and signed itself).
    let (issuer_anchor, issuer) =
        find_pinned_issuer(&leaf, leaf_name, anchors, product, issuer_role, |_| Ok(()))?;
    cert::check_ca(&issuer, issuer_role.as_str())?;
    let (root_anchor, root) = find_pinned_issuer(
        &issuer,
        issuer_role.as_str(),
        anchors,
        product,
        AmdKeyRole::Ark,
        |rc| cert::verify_issued_by(rc, "ARK", rc, "ARK (self-signed)"),
    )?;
    cert::check_ca(&root, "ARK")?;

    // Validity of all three at `at` (RFC 5280 §6.1.3 (a)(2)).
    let leaf_window = cert::validity(&leaf);
    let issuer_window = cert::validity(&issuer);
    let root_window = cert::validity(&root);
    cert::check_window(&root_window, "ARK", at)?;
    cert::check_window(&issuer_window, issuer_role.as_str(), at)?;
    cert::check_window(&leaf_window, &format!("{leaf_name} certificate"), at)?;
    let mut window = leaf_window
        .intersect(&issuer_window)
        .intersect(&root_window);

    // Step 6: CRLs.
    let mut crls = Vec::new();
    for der in &collateral.crls {
        let parsed = crl::parse_crl(der)?;
        let issuer_raw = parsed.issuer_der.as_slice();
        let (checked, target, target_serial): (CheckedCrl, &'static str, &[u8]) =
            if issuer_raw == root.subject().as_raw() {
                let c = crl::verify_crl(&parsed, &root, "ARK", at)?;
                (c, issuer_role.as_str(), issuer.raw_serial())
            } else if issuer_raw == issuer.subject().as_raw() {
                let c = crl::verify_crl(&parsed, &issuer, issuer_role.as_str(), at)?;
                (c, leaf_name, leaf.raw_serial())
            } else {
                return Err(SnpError::UnrelatedCrl {
                    issuer: parsed.issuer.clone(),
                    product,
                });
            };
        if checked.revokes(target_serial) {
            return Err(SnpError::Revoked {
                which: target,
                serial: crl::normalize_serial(target_serial).to_vec(),
                crl_issuer: checked.issuer.clone(),
            });
        }
        window = window.intersect(&checked.window);
        crls.push(CrlClaims {
            issuer: checked.issuer,
            validity: checked.window,
            revoked_count: checked.revoked_count,
        });
    }

    Ok(VerifiedChain {
        key: leaf_key,
        kind,
        product,
        certificates: [
            cert_claims(leaf_name, &leaf, leaf_der, false),
            cert_claims(
                issuer_role.as_str(),
                &issuer,
                &issuer_anchor.der,
                issuer_anchor.builtin,
            ),
            cert_claims("ARK", &root, &root_anchor.der, root_anchor.builtin),
        ],
        extensions,
        window,
        issuer_der: issuer_anchor.der.clone(),
        root_der: root_anchor.der.clone(),
        crls,
    })
}

/// Finds the pinned anchor of `role` whose subject is `child`'s issuer and
/// whose key verifies `child`'s signature (plus `also`, e.g. the ARK's
/// self-signature). Without a candidate by name the issuer is untrusted;
/// with candidates that all fail, the last failure is reported.
fn find_pinned_issuer<'a>(
    child: &X509Certificate<'_>,
    child_name: &'static str,
    anchors: &'a TrustAnchors,
    product: AmdProduct,
    role: AmdKeyRole,
    also: impl Fn(&X509Certificate<'a>) -> Result<(), SnpError>,
) -> Result<(&'a TrustAnchor, X509Certificate<'a>), SnpError> {
    let mut last_err = None;
    for anchor in anchor_for(anchors, product, role) {
        let candidate = cert::parse_certificate(&anchor.der, role.as_str())?;
        if candidate.subject().as_raw() != child.issuer().as_raw() {
            continue;
        }
        match cert::verify_issued_by(child, child_name, &candidate, role.as_str())
            .and_then(|()| also(&candidate))
        {
            Ok(()) => return Ok((anchor, candidate)),
            Err(e) => last_err = Some(e),
        }
    }
    Err(last_err.unwrap_or_else(|| SnpError::UntrustedIssuer {
        which: child_name,
        issuer: child.issuer().to_string(),
        product,
        expected_issuer: role.as_str(),
    }))
}

/// Step 8a: REPORTED_TCB equals the certificate's SPLs (VCEK spec §3.1;
/// the VCEK is derived for exactly that TCB).
fn check_tcb_binding(
    report: &Report,
    product: AmdProduct,
    kind: SigningKey,
    ext: &VcekExtensions,
) -> Result<(), SnpError> {
    let which = kind.as_str();
    let t = report.reported_tcb.decode(product);
    let mut pairs = vec![
        ("bootloader", t.bootloader, ext.bl_spl),
        ("tee", t.tee, ext.tee_spl),
        ("snp", t.snp, ext.snp_spl),
        ("microcode", t.microcode, ext.ucode_spl),
    ];
    if product == AmdProduct::Turin {
        let fmc = ext.fmc_spl.ok_or(SnpError::Extension {
            which,
            name: "fmcSPL",
            oid: cert::FMC_SPL_OID,
            problem: "is missing (required on Turin)".into(),
        })?;
        pairs.insert(0, ("fmc", t.fmc.unwrap_or(0), fmc));
    }
    for (component, report_v, cert_v) in pairs {
        if report_v != cert_v {
            return Err(SnpError::TcbMismatch {
                which,
                component,
                report: report_v,
                cert: cert_v,
            });
        }
    }
    if !report.reported_tcb.reserved_is_zero(product) {
        return Err(SnpError::ReservedBits {
            field: "REPORTED_TCB",
            offset: 0x180,
            value: u64::from_le_bytes(report.reported_tcb.0),
        });
    }
    Ok(())
}

/// Step 8b: CHIP_ID equals hwID — 64 bytes on Milan/Genoa, the first 8 on
/// Turin (whose remaining CHIP_ID bytes must be zero). Returns false when
/// the chip id is masked and nothing could be compared.
fn check_chip_id(
    report: &Report,
    product: AmdProduct,
    ext: &VcekExtensions,
) -> Result<bool, SnpError> {
    if report.chip_id_masked() {
        return Ok(false);
    }
    let hw_id = ext.hw_id.as_deref().ok_or(SnpError::Extension {
        which: "VCEK",
        name: "hwID",
        oid: cert::HW_ID_OID,
        problem: "is missing".into(),
    })?;
    let expected_len = if product == AmdProduct::Turin { 8 } else { 64 };
    if hw_id.len() != expected_len {
        return Err(SnpError::Extension {
            which: "VCEK",
            name: "hwID",
            oid: cert::HW_ID_OID,
            problem: format!(
                "is {} bytes; {product} VCEKs carry {expected_len}",
                hw_id.len()
            ),
        });
    }
    let (head, tail) = report.chip_id.split_at(expected_len);
    if head != hw_id || tail.iter().any(|b| *b != 0) {
        return Err(SnpError::ChipIdMismatch {
            report_prefix: hex::encode(report.chip_id.get(..8).unwrap_or_default()),
            cert_prefix: hex::encode(hw_id.get(..8).unwrap_or_default()),
        });
    }
    Ok(true)
}

/// Step 9. Returns whether the firmware is provisional.
fn check_tcb_consistency(
    report: &Report,
    product: AmdProduct,
    permit_provisional: bool,
) -> Result<bool, SnpError> {
    let current = report.current_tcb.decode(product);
    let reported = report.reported_tcb.decode(product);
    let committed = report.committed_tcb.decode(product);
    if let Some((component, lower, upper)) = reported.first_component_above(&current) {
        return Err(SnpError::TcbInconsistent {
            lower_name: "REPORTED_TCB",
            upper_name: "CURRENT_TCB",
            component,
            lower,
            upper,
        });
    }
    let provisional = report.committed_tcb != report.current_tcb
        || report.committed_version != report.current_version;
    if provisional {
        if !permit_provisional {
            return Err(SnpError::ProvisionalFirmware {
                committed: report.committed_tcb,
                current: report.current_tcb,
                committed_version: report.committed_version,
                current_version: report.current_version,
            });
        }
        // Even when provisional firmware is allowed, the committed TCB can
        // never be ahead of the running one.
        if let Some((component, lower, upper)) = committed.first_component_above(&current) {
            return Err(SnpError::TcbInconsistent {
                lower_name: "COMMITTED_TCB",
                upper_name: "CURRENT_TCB",
                component,
                lower,
                upper,
            });
        }
    }
    Ok(provisional)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_sources_must_agree() {
        use AmdProduct::*;
        assert_eq!(
            resolve_product(3, None, Some(Genoa), None).unwrap(),
            (Genoa, "report CPUID")
        );
        assert_eq!(
            resolve_product(2, Some(Milan), None, Some(Milan))
                .unwrap()
                .0,
            Milan
        );
        assert!(matches!(
            resolve_product(3, Some(Milan), Some(Genoa), None),
            Err(SnpError::ProductMismatch { .. })
        ));
        assert!(matches!(
            resolve_product(5, None, Some(Turin), Some(Genoa)),
            Err(SnpError::ProductMismatch { .. })
        ));
        assert_eq!(
            resolve_product(2, None, None, None),
            Err(SnpError::ProductUnknown { version: 2 })
        );
    }
}
