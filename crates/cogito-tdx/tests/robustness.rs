//! Robustness of cogito-tdx on the real TDX quotes: every truncation and
//! tens of thousands of deterministic mutations of each quote (full and
//! signature-only cases), and thousands of mutations of each collateral
//! file, must never panic. A quote whose protected bytes changed — the
//! bytes the quote signature covers (header ‖ v5 descriptor ‖ body: 632
//! bytes for v4, 702 for v5 TD 1.5), the quote signature, the attestation
//! key, the QE report, its signature or the QE authentication data — must
//! always be rejected, and never by a check that runs after the signatures
//! (that would mean a forged quote got past them). Collateral whose signed
//! bytes changed (the inner `tcbInfo` / `enclaveIdentity` object text, a
//! CRL's TBSCertList, a chain certificate's TBSCertificate) must never be
//! accepted.
//!
//! The quote layout used to decide what a mutation touched is computed here
//! from the quote format, independently of `Quote::parse`, so a parser that
//! reads a field from the wrong offset cannot hide its own mistake.
//!
//! The vectors live beside the checkout in `../shared/vectors` (override
//! with `COGITO_VECTORS`); without them the tests print a notice and pass,
//! except under `CI=true`, where the folder is required.
//!
//! The PRNG is the testkit's xorshift64* seeded per case, so every run feeds the
//! same inputs; a failure prints the case, the mutation and the input in hex.
//! `COGITO_ROBUSTNESS_MUTATIONS` overrides the per-case mutation counts.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::collections::{BTreeMap, HashSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use cogito_core::anchors::certificates_from_pem_or_der;
use cogito_core::{CogitoError, VerificationTime};
use cogito_tdx::{
    builtin_anchors, verify_quote, Collateral, Options, Quote, TdxError, VerifiedCache,
};
use cogito_testkit::mutate::Rng;
use serde_json::value::RawValue;
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::revocation_list::CertificateRevocationList;

/// Random mutations per quote (at least 10,000 as required).
const QUOTE_MUTATIONS: usize = 12_000;
/// Random mutations of each collateral file of each distinct collateral set.
const COLLATERAL_MUTATIONS: usize = 2_000;

// ---------------------------------------------------------------------------
// Vectors

fn vectors_dir() -> Option<PathBuf> {
    cogito_testkit::real_vectors::dir()
}

/// One TDX quote `[[vector]]` (full or signature-only), loaded.
struct Case {
    id: String,
    quote: Vec<u8>,
    collateral: Option<Collateral>,
    at: VerificationTime,
    options: Options,
    /// `None` when the manifest expects acceptance, else the error code.
    expected_error: Option<&'static str>,
}

fn reason_code(reason: &str) -> &'static str {
    match reason {
        "no TCB level matches" => "tdx.tcb.no_matching_level",
        other => panic!("manifest reason {other:?} has no expected code in this test: add one"),
    }
}

fn load_cases(root: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(root.join("MANIFEST.toml")).expect("read MANIFEST.toml");
    let manifest: toml::Table = toml::from_str(&text).expect("MANIFEST.toml is TOML");
    let vectors = manifest["vector"].as_array().expect("[[vector]] tables");
    let mut cases = Vec::new();
    for v in vectors {
        let mode = v["mode"].as_str().expect("mode");
        if v["platform"].as_str() != Some("tdx") || mode == "eventlog-only" {
            continue;
        }
        let id = v["id"].as_str().expect("id").to_string();
        let dir = root.join(v["dir"].as_str().expect("dir"));
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .unwrap_or_else(|e| panic!("{id}: {}: {e}", dir.join(name).display()))
        };
        let collateral = (mode == "full").then(|| Collateral {
            tcb_info: read("tcb_info.json"),
            tcb_info_issuer_chain: read("tcb_info_issuer_chain.pem"),
            qe_identity: read("qe_identity.json"),
            qe_identity_issuer_chain: read("qe_identity_issuer_chain.pem"),
            pck_crl: read("pck_crl.der"),
            pck_crl_issuer_chain: read("pck_crl_issuer_chain.pem"),
            root_ca_crl: read("root_ca_crl.der"),
        });
        let at = VerificationTime::parse_rfc3339(v["verify_at"].as_str().expect("verify_at"))
            .expect("verify_at is RFC 3339");
        let expected_error = match v["expected"].as_str() {
            Some("accept") => None,
            Some("reject") => Some(reason_code(
                v["expected_reason"].as_str().expect("expected_reason"),
            )),
            other => panic!("{id}: expected = {other:?}"),
        };
        cases.push(Case {
            quote: read("quote.bin"),
            collateral,
            at,
            options: Options {
                signature_only: mode == "signature-only",
                ..Options::default()
            },
            expected_error,
            id,
        });
    }
    assert!(
        cases.iter().any(|c| c.collateral.is_some())
            && cases.iter().any(|c| c.options.signature_only),
        "MANIFEST.toml lists no full or no signature-only tdx quote vectors"
    );
    cases
}

fn verify(
    case: &Case,
    quote: &[u8],
    collateral: Option<&Collateral>,
    cache: &VerifiedCache,
) -> Result<cogito_core::Verified<cogito_tdx::TdxClaims>, TdxError> {
    verify_quote(
        quote,
        collateral,
        builtin_anchors(),
        case.at,
        &case.options,
        cache,
    )
}

// ---------------------------------------------------------------------------
// The quote layout, from the format (Intel TDX DCAP Quoting Library API,
// "Quote Format"), independent of `Quote::parse`.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    /// Header ‖ (v5 descriptor) ‖ body: what the quote signature covers.
    signed_len: usize,
    /// QUOTE_SIGNATURE_DATA_LEN (u32) sits at `signed_len`.
    sig_at: usize,
    att_key_at: usize,
    cert_type_at: usize,
    cert_size_at: usize,
    qe_report_at: usize,
    qe_sig_at: usize,
    auth_size_at: usize,
    auth_len: usize,
    inner_type_at: usize,
    inner_size_at: usize,
    pem_at: usize,
    pem_len: usize,
    /// End of the signature data (zero padding may follow).
    end: usize,
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?).into())
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

fn layout(q: &[u8]) -> Option<Layout> {
    let signed_len = match u16_at(q, 0)? {
        4 => 48 + 584,
        5 => 48 + 6 + u32_at(q, 50)?,
        _ => return None,
    };
    let sig_len = u32_at(q, signed_len)?;
    let sig_at = signed_len + 4;
    let end = sig_at.checked_add(sig_len)?;
    let cert_type_at = sig_at + 128;
    let cert_size_at = cert_type_at + 2;
    let qe_report_at = cert_size_at + 4;
    let qe_sig_at = qe_report_at + 384;
    let auth_size_at = qe_sig_at + 64;
    let auth_len = u16_at(q, auth_size_at)?;
    let inner_type_at = auth_size_at + 2 + auth_len;
    let inner_size_at = inner_type_at + 2;
    let pem_at = inner_size_at + 4;
    let pem_len = u32_at(q, inner_size_at)?;
    let l = Layout {
        signed_len,
        sig_at,
        att_key_at: sig_at + 64,
        cert_type_at,
        cert_size_at,
        qe_report_at,
        qe_sig_at,
        auth_size_at,
        auth_len,
        inner_type_at,
        inner_size_at,
        pem_at,
        pem_len,
        end,
    };
    (pem_at.checked_add(pem_len)? <= q.len() && end <= q.len()).then_some(l)
}

impl Layout {
    /// The protected ranges other than the two signatures: signed bytes,
    /// attestation key, QE report, QE auth data (with its size).
    fn protected(&self) -> [(usize, usize); 4] {
        [
            (0, self.signed_len),
            (self.att_key_at, self.att_key_at + 64),
            (self.qe_report_at, self.qe_sig_at),
            (self.auth_size_at, self.inner_type_at),
        ]
    }

    fn protected_bytes<'a>(&self, q: &'a [u8]) -> Vec<&'a [u8]> {
        self.protected().iter().map(|&(a, b)| &q[a..b]).collect()
    }

    /// (signed bytes ‖ attestation key ‖ quote signature) and
    /// (QE report ‖ QE report signature).
    fn signed_pairs(&self, q: &[u8]) -> [Vec<u8>; 2] {
        [
            [
                &q[..self.signed_len],
                &q[self.att_key_at..self.att_key_at + 64],
                &q[self.sig_at..self.sig_at + 64],
            ]
            .concat(),
            q[self.qe_report_at..self.qe_sig_at + 64].to_vec(),
        ]
    }
}

/// Every (message, signature) pair of the real quotes: ECDSA signatures
/// are randomised, so two quotes of one platform can carry two different
/// valid signatures over the same QE report (tdx-v4-sigonly-dcap-qvl-hex
/// and -tappd do); swapping one for the other changes bytes but not the
/// evidence, and must be allowed.
type GenuinePairs = HashSet<Vec<u8>>;

fn genuine_pairs(cases: &[Case]) -> GenuinePairs {
    cases
        .iter()
        .flat_map(|c| layout(&c.quote).expect("layout").signed_pairs(&c.quote))
        .collect()
}

/// Did the edit change a protected byte? Yes when the mutant's protected
/// fields differ from the genuine ones, or (for same-length edits) a byte
/// at a protected offset of the genuine quote changed, or a signature
/// changed to one that no real quote carries over the same bytes, or the
/// mutant has no recognisable layout.
fn protected_changed(genuine: &[u8], g: &Layout, m: &[u8], known: &GenuinePairs) -> bool {
    let Some(ml) = layout(m) else { return true };
    if ml.protected_bytes(m) != g.protected_bytes(genuine) {
        return true;
    }
    if m.len() == genuine.len() && g.protected().iter().any(|&(a, b)| m[a..b] != genuine[a..b]) {
        return true;
    }
    ml.signed_pairs(m)
        .iter()
        .zip(g.signed_pairs(genuine))
        .any(|(mp, gp)| *mp != gp && !known.contains(mp))
}

/// Names the region of the genuine quote an offset falls in.
fn region(l: &Layout, off: usize) -> &'static str {
    if off < l.signed_len {
        "signed"
    } else if off < l.sig_at {
        "signature data length"
    } else if off < l.cert_type_at {
        "signature/attestation key"
    } else if off < l.qe_report_at {
        "certification data type/size"
    } else if off < l.auth_size_at {
        "QE report/signature"
    } else if off < l.inner_type_at {
        "QE auth data"
    } else if off < l.pem_at {
        "PCK chain type/size"
    } else if off < l.pem_at + l.pem_len {
        "PCK chain"
    } else {
        "padding"
    }
}

// ---------------------------------------------------------------------------
// Deterministic randomness and mutations

/// A length or type value: small deltas, boundaries, or anything.
fn length_value(rng: &mut Rng, current: usize, max: usize) -> usize {
    match rng.below(6) {
        0 => current.wrapping_add(1 + rng.below(8)),
        1 => current.wrapping_sub(1 + rng.below(8)),
        2 => 0,
        3 => max,
        4 => current ^ (1 << rng.below(32)),
        _ => rng.next() as usize,
    }
}

fn put_u16(buf: &mut [u8], at: usize, v: usize) -> bool {
    match buf.get_mut(at..at + 2) {
        Some(s) => {
            s.copy_from_slice(&(v as u16).to_le_bytes());
            true
        }
        None => false,
    }
}

fn put_u32(buf: &mut [u8], at: usize, v: usize) -> bool {
    match buf.get_mut(at..at + 4) {
        Some(s) => {
            s.copy_from_slice(&(v as u32).to_le_bytes());
            true
        }
        None => false,
    }
}

/// Quote-specific edits on the current buffer's own layout: header and
/// descriptor values, every length and type field, consistent length
/// changes (so the result still parses), and whole-region splices from
/// another real quote. `None` when the buffer has no layout.
fn quote_edit(rng: &mut Rng, buf: &mut Vec<u8>, donors: &[&[u8]]) -> Option<String> {
    if rng.below(2) == 0 {
        // Header / descriptor / body fields: these exist even when the
        // rest of the layout does not.
        let any = rng.next() as usize;
        let (name, at, width, v) = match rng.below(8) {
            0 => ("VERSION", 0, 2, rng.pick(&[0, 3, 4, 5, 6, 0xffff, any])),
            1 => ("ATT_KEY_TYPE", 2, 2, rng.pick(&[0, 1, 2, 3, 0xffff, any])),
            2 => ("TEE_TYPE", 4, 4, rng.pick(&[0, 0x80, 0x81, 0x181, any])),
            3 => ("QE_SVN/PCE_SVN", 8, 4, any),
            4 => ("BODY_TYPE", 48, 2, rng.pick(&[0, 1, 2, 3, 4, any])),
            5 => ("BODY_SIZE", 50, 4, rng.pick(&[0, 584, 648, 646, 650, any])),
            6 => (
                "TEE_TCB_SVN",
                if buf.first() == Some(&5) { 54 } else { 48 },
                2,
                any,
            ),
            _ => ("QE_VENDOR_ID", 12 + rng.below(16), 1, any),
        };
        let ok = match width {
            1 => buf.get_mut(at).map(|b| *b = v as u8).is_some(),
            2 => put_u16(buf, at, v),
            _ => put_u32(buf, at, v),
        };
        return ok.then(|| format!("{name} = {:#x}", v & ((1 << (8 * width)) - 1)));
    }
    let l = layout(buf)?;
    Some(match rng.below(9) {
        0 => {
            let v = length_value(rng, l.end - l.sig_at, buf.len());
            put_u32(buf, l.signed_len, v);
            format!("QUOTE_SIGNATURE_DATA_LEN = {v:#x}")
        }
        1 => {
            let any = rng.next() as usize;
            let v = rng.pick(&[0, 1, 5, 6, 7, 0xffff, any]);
            put_u16(buf, l.cert_type_at, v);
            format!("CERTIFICATION_DATA_TYPE = {v}")
        }
        2 => {
            let cur = u32_at(buf, l.cert_size_at)?;
            let v = length_value(rng, cur, buf.len());
            put_u32(buf, l.cert_size_at, v);
            format!("CERTIFICATION_DATA_SIZE = {v:#x}")
        }
        3 => {
            let v = length_value(rng, l.auth_len, 0xffff);
            put_u16(buf, l.auth_size_at, v);
            format!("QE_AUTH_DATA_SIZE = {v:#x}")
        }
        4 => {
            let v = rng.pick(&[0, 1, 2, 3, 4, 5, 6, 7, 0xffff]);
            put_u16(buf, l.inner_type_at, v);
            format!("QE_CERTIFICATION_DATA_TYPE = {v}")
        }
        5 => {
            let v = length_value(rng, l.pem_len, buf.len());
            put_u32(buf, l.inner_size_at, v);
            format!("QE_CERTIFICATION_DATA_SIZE = {v:#x}")
        }
        6 => {
            // Grow or shrink the PCK chain or the QE auth data by k bytes
            // and fix every enclosing length, so the quote still parses.
            let k = 1 + rng.below(48);
            let grow = rng.below(2) == 0;
            let auth = rng.below(2) == 0;
            let (size_at, at, len) = if auth {
                (l.auth_size_at, l.auth_size_at + 2, l.auth_len)
            } else {
                (l.inner_size_at, l.pem_at, l.pem_len)
            };
            let zero = rng.below(2) == 0;
            if grow {
                let fill: Vec<u8> = (0..k).map(|_| if zero { 0 } else { rng.byte() }).collect();
                buf.splice(at + len..at + len, fill);
            } else {
                let k = k.min(len);
                buf.drain(at + len - k..at + len);
            }
            let d = |v: usize| {
                if grow {
                    v + k
                } else {
                    v.saturating_sub(k.min(len))
                }
            };
            if auth {
                put_u16(buf, size_at, d(len));
            } else {
                put_u32(buf, size_at, d(len));
            }
            let cert_size = d(u32_at(buf, l.cert_size_at)?);
            put_u32(buf, l.cert_size_at, cert_size);
            put_u32(buf, l.signed_len, d(l.end - l.sig_at));
            format!(
                "{} {} by {k} ({} fill), lengths fixed",
                if auth { "QE auth data" } else { "PCK chain" },
                if grow { "grown" } else { "shrunk" },
                if zero { "zero" } else { "random" }
            )
        }
        7 => {
            // Splice one whole region from another real quote.
            let donor = rng.pick(donors);
            let dl = layout(donor)?;
            let (name, a, b, da, db) = match rng.below(6) {
                0 => ("body", 48, l.signed_len, 48, dl.signed_len),
                1 => (
                    "quote signature",
                    l.sig_at,
                    l.sig_at + 64,
                    dl.sig_at,
                    dl.sig_at + 64,
                ),
                2 => (
                    "attestation key",
                    l.att_key_at,
                    l.att_key_at + 64,
                    dl.att_key_at,
                    dl.att_key_at + 64,
                ),
                3 => (
                    "QE report + signature",
                    l.qe_report_at,
                    l.auth_size_at,
                    dl.qe_report_at,
                    dl.auth_size_at,
                ),
                4 => (
                    "PCK chain",
                    l.inner_type_at,
                    l.pem_at + l.pem_len,
                    dl.inner_type_at,
                    dl.pem_at + dl.pem_len,
                ),
                _ => ("signature data", l.signed_len, l.end, dl.signed_len, dl.end),
            };
            if a > b || b > buf.len() || da > db || db > donor.len() {
                return None;
            }
            buf.splice(a..b, donor[da..db].iter().copied());
            format!("splice donor's whole {name}")
        }
        _ => {
            // Trailing bytes: more zero padding (allowed), or non-zero.
            let n = 1 + rng.below(64);
            let v = if rng.below(2) == 0 {
                0
            } else {
                1 + rng.below(255) as u8
            };
            buf.extend(std::iter::repeat_n(v, n));
            format!("append {n} × {v:#04x}")
        }
    })
}

/// Applies one to four random edits to `buf`; returns what it did.
/// `donors` are other real inputs of the same kind, for splicing; `fields`
/// are (offset, length) ranges worth hitting on purpose; `quote` enables
/// the quote-specific edits.
fn mutate(
    rng: &mut Rng,
    buf: &mut Vec<u8>,
    donors: &[&[u8]],
    fields: &[(usize, usize)],
    quote: bool,
) -> String {
    let ops = if rng.below(4) == 0 {
        2 + rng.below(3)
    } else {
        1
    };
    let mut what = Vec::with_capacity(ops);
    for _ in 0..ops {
        if buf.is_empty() {
            buf.push(rng.byte());
            what.push("push byte into empty".to_string());
            continue;
        }
        let len = buf.len();
        let off = rng.below(len);
        match rng.below(14) {
            0 => {
                let bit = rng.below(8);
                buf[off] ^= 1 << bit;
                what.push(format!("flip bit {bit} at {off:#x}"));
            }
            1 => {
                let v = rng.byte();
                buf[off] = v;
                what.push(format!("set {off:#x} = {v:#04x}"));
            }
            2 | 3 => {
                let n = (1 + rng.below(64)).min(len - off);
                let fill = rng.below(3);
                for b in &mut buf[off..off + n] {
                    *b = match fill {
                        0 => 0,
                        1 => 0xff,
                        _ => rng.byte(),
                    };
                }
                what.push(format!("overwrite {off:#x}..+{n} (fill {fill})"));
            }
            4..=6 if !fields.is_empty() => {
                let (f, flen) = rng.pick(fields);
                if f < len && flen > 0 {
                    let o = f + rng.below(flen.min(len - f));
                    if rng.below(2) == 0 {
                        let bit = rng.below(8);
                        buf[o] ^= 1 << bit;
                        what.push(format!("field {f:#x}: flip bit {bit} at {o:#x}"));
                    } else {
                        let v = rng.byte();
                        buf[o] = v;
                        what.push(format!("field {f:#x}: set {o:#x} = {v:#04x}"));
                    }
                }
            }
            7 | 8 if quote => match quote_edit(rng, buf, donors) {
                Some(w) => what.push(w),
                None => {
                    buf[off] ^= 1;
                    what.push(format!("flip bit 0 at {off:#x} (no layout)"));
                }
            },
            9 if !donors.is_empty() => {
                let donor = rng.pick(donors);
                let n = 1 + rng.below(96);
                let end = (off + n).min(len).min(donor.len());
                if off < end {
                    buf[off..end].copy_from_slice(&donor[off..end]);
                    what.push(format!("splice donor {off:#x}..{end:#x}"));
                }
            }
            10 => {
                let d = if rng.below(2) == 0 { 1u8 } else { 0xff };
                buf[off] = buf[off].wrapping_add(d);
                what.push(format!("{} at {off:#x}", if d == 1 { "+1" } else { "-1" }));
            }
            11 => {
                if rng.below(2) == 0 {
                    buf.remove(off);
                    what.push(format!("delete {off:#x}"));
                } else {
                    let v = rng.byte();
                    buf.insert(off, v);
                    what.push(format!("insert {v:#04x} at {off:#x}"));
                }
            }
            12 => {
                buf.truncate(off);
                what.push(format!("truncate to {off}"));
            }
            _ => {
                buf[off] ^= 0x80;
                what.push(format!("flip bit 7 at {off:#x}"));
            }
        }
    }
    what.join("; ")
}

// ---------------------------------------------------------------------------
// Failure collection

/// Failures are collected (with their input) rather than asserted at once,
/// so one run reports every broken case.
#[derive(Default)]
struct Failures(Mutex<Vec<String>>);

impl Failures {
    fn add(&self, case: &str, what: &str, problem: String, input: &[u8]) {
        let mut f = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if f.len() < 20 {
            f.push(format!(
                "{case}: {what}: {problem}\n  input ({} bytes): {}",
                input.len(),
                hex::encode(input)
            ));
        } else if f.len() == 20 {
            f.push("… further failures omitted".into());
        }
    }
    fn assert_none(self) {
        let f = self.0.into_inner().unwrap_or_else(|e| e.into_inner());
        assert!(f.is_empty(), "{} failure(s):\n{}", f.len(), f.join("\n"));
    }
}

/// Runs `f`, turning a panic into its message.
fn no_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into())
    })
}

/// Error codes `verify_quote` only returns after the PCK chain, the QE
/// report signature and binding and the quote signature all verified
/// (steps 5–8). Seeing one for a quote whose protected bytes changed means
/// a forged quote got past the signature checks.
fn after_signature_checks(code: &str) -> bool {
    matches!(
        code,
        "tdx.collateral.mismatch"
            | "tdx.chain.revoked"
            | "tdx.qe_identity.mismatch"
            | "tdx.module.identity"
            | "tdx.tcb.no_matching_level"
            | "tdx.tcb.revoked"
            | "tdx.tcb.status_not_allowed"
            | "tdx.report_data.mismatch"
    )
}

/// Runs `work` for each item on all available cores.
fn parallel<T: Sync>(items: &[T], work: impl Fn(&T) + Sync) {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items.len().max(1));
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                match items.get(i) {
                    Some(item) => work(item),
                    None => break,
                }
            });
        }
    });
}

fn mutation_count(default: usize) -> usize {
    std::env::var("COGITO_ROBUSTNESS_MUTATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The claims as JSON without the trailing padding count (zero padding is
/// tolerated, so a quote with more or less of it is the same evidence).
fn claims_json(v: &cogito_core::Verified<cogito_tdx::TdxClaims>) -> serde_json::Value {
    let mut json = serde_json::to_value(&v.platform).expect("claims serialise");
    if let Some(o) = json.as_object_mut() {
        o.remove("trailing_padding");
    }
    json
}

/// Compares the certificates of a mutated PEM chain that was accepted with
/// the genuine ones. Every certificate but the last must be unchanged; the
/// last (the supplied root) may differ outside its key, because the
/// verifier pins the root by key and uses its own copy of the anchor in its
/// place. Returns a problem, or whether the root stand-in was used.
fn accepted_chain(genuine: &[u8], mutated: &[u8]) -> Result<bool, String> {
    let trim = |p: &[u8]| {
        let end = p.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
        certificates_from_pem_or_der(&p[..end])
    };
    let g = trim(genuine).map_err(|e| format!("genuine chain: {e}"))?;
    let m = trim(mutated).map_err(|e| format!("accepted chain does not decode: {e}"))?;
    if g.len() != m.len() {
        return Err(format!(
            "{} certificates accepted, {} genuine",
            m.len(),
            g.len()
        ));
    }
    let last = g.len() - 1;
    for i in 0..last {
        if g[i] != m[i] {
            return Err(format!("certificate {i} changed and was accepted"));
        }
    }
    if g[last] == m[last] {
        return Ok(false);
    }
    let spki = |der: &[u8]| {
        X509Certificate::from_der(der)
            .ok()
            .map(|(_, c)| c.tbs_certificate.subject_pki.raw.to_vec())
    };
    match (spki(&g[last]), spki(&m[last])) {
        (Some(a), Some(b)) if a == b => Ok(true),
        _ => Err("the supplied root changed its key and was accepted".into()),
    }
}

// ---------------------------------------------------------------------------
// Tests

/// Each case verifies (or not) as the manifest says, and the independent
/// layout agrees with `Quote::parse`; otherwise the mutation tests below
/// would test the wrong thing.
#[test]
fn real_vectors_verify_as_expected() {
    let Some(root) = vectors_dir() else { return };
    let cache = VerifiedCache::default();
    for c in load_cases(&root) {
        let r = verify(&c, &c.quote, c.collateral.as_ref(), &cache);
        match (&r, c.expected_error) {
            (Ok(_), None) => {}
            (Err(e), Some(code)) if e.code() == code => {}
            _ => panic!(
                "{}: expected {:?}, got {:?}",
                c.id,
                c.expected_error.unwrap_or("accept"),
                r.as_ref().map(|_| "accepted").map_err(|e| e.to_string())
            ),
        }
        let l = layout(&c.quote).expect("layout");
        let q = Quote::parse(&c.quote).expect("parse");
        assert_eq!(q.signed, &c.quote[..l.signed_len], "{}", c.id);
        assert_eq!(
            l.signed_len,
            if q.version == 4 { 632 } else { 702 },
            "{}",
            c.id
        );
        assert_eq!(&q.signature[..], &c.quote[l.sig_at..l.sig_at + 64]);
        assert_eq!(
            &q.attestation_key[..],
            &c.quote[l.att_key_at..l.att_key_at + 64]
        );
        assert_eq!(q.qe_report_raw, &c.quote[l.qe_report_at..l.qe_sig_at]);
        assert_eq!(
            &q.qe_report_signature[..],
            &c.quote[l.qe_sig_at..l.qe_sig_at + 64]
        );
        assert_eq!(
            q.qe_auth_data,
            &c.quote[l.auth_size_at + 2..l.inner_type_at]
        );
        assert!(c.quote[l.pem_at..].starts_with(q.cert_data), "{}", c.id);
        assert_eq!(q.trailing_padding, c.quote.len() - l.end, "{}", c.id);
    }
}

#[test]
fn quote_truncations_are_rejected_without_panic() {
    let Some(root) = vectors_dir() else { return };
    let started = Instant::now();
    let cases = load_cases(&root);
    let cache = VerifiedCache::default();
    let failures = Failures::default();
    parallel(&cases, |c| {
        let l = layout(&c.quote).expect("layout");
        let genuine = verify(c, &c.quote, c.collateral.as_ref(), &cache)
            .map(|v| claims_json(&v))
            .map_err(|e| e.code());
        for len in 0..c.quote.len() {
            let input = &c.quote[..len];
            let what = format!("length {len}");
            match no_panic(|| verify(c, input, c.collateral.as_ref(), &cache)) {
                Err(p) => failures.add(&c.id, &what, format!("verify_quote panicked: {p}"), input),
                // Cutting only zero padding leaves the same quote.
                Ok(r) if len >= l.end => {
                    let r = r.map(|v| claims_json(&v)).map_err(|e| e.code());
                    if r != genuine {
                        failures.add(
                            &c.id,
                            &what,
                            "cutting zero padding changed the outcome".into(),
                            input,
                        );
                    }
                }
                Ok(Ok(_)) => failures.add(&c.id, &what, "verify_quote accepted".into(), input),
                Ok(Err(e)) if e.code() != "tdx.quote.truncated" => failures.add(
                    &c.id,
                    &what,
                    format!("unexpected error {} ({e})", e.code()),
                    input,
                ),
                Ok(Err(_)) => {}
            }
            if let Err(p) = no_panic(|| Quote::parse(input).is_ok()) {
                failures.add(&c.id, &what, format!("Quote::parse panicked: {p}"), input);
            }
        }
    });
    eprintln!(
        "quote truncations: {} quotes in {:.1?}",
        cases.len(),
        started.elapsed()
    );
    failures.assert_none();
}

#[test]
fn quote_mutations_are_rejected_without_panic() {
    let Some(root) = vectors_dir() else { return };
    let started = Instant::now();
    let cases = load_cases(&root);
    let donors: Vec<&[u8]> = cases.iter().map(|c| c.quote.as_slice()).collect();
    let known = genuine_pairs(&cases);
    let n = mutation_count(QUOTE_MUTATIONS);
    // One cache for all iterations and cases: each PCK chain and QE report
    // is verified once and every mutation that leaves them alone reuses it.
    let cache = VerifiedCache::default();
    let failures = Failures::default();
    let protected_mutations = AtomicUsize::new(0);
    let parsed_protected = AtomicUsize::new(0);
    let quote_signature_reached = AtomicUsize::new(0);
    let accepted = Mutex::new(BTreeMap::<&'static str, usize>::new());
    parallel(&cases, |c| {
        let mut rng = Rng::seeded(&c.id, 1);
        let g = layout(&c.quote).expect("layout");
        let genuine_claims = verify(c, &c.quote, c.collateral.as_ref(), &cache)
            .ok()
            .map(|v| claims_json(&v));
        let fields: Vec<(usize, usize)> = vec![
            (0, 48),                          // header
            (48, g.signed_len - 48),          // (descriptor ‖) body
            (g.signed_len, 4),                // signature data length
            (g.sig_at, 64),                   // quote signature
            (g.att_key_at, 64),               // attestation key
            (g.cert_type_at, 6),              // certification data type, size
            (g.qe_report_at, 384),            // QE report
            (g.qe_sig_at, 64),                // QE report signature
            (g.auth_size_at, 2 + g.auth_len), // QE auth data
            (g.inner_type_at, 6),             // PCK chain type, size
            (g.pem_at, 64),                   // PCK chain start
            (g.pem_at + g.pem_len - 64, 64),  // PCK chain end
            (g.end, c.quote.len() - g.end),   // padding
        ];
        let mut done = 0;
        while done < n {
            let mut m = c.quote.clone();
            let what = mutate(&mut rng, &mut m, &donors, &fields, true);
            if m == c.quote {
                continue; // a no-op edit, draw again
            }
            done += 1;
            let changed = protected_changed(&c.quote, &g, &m, &known);
            if changed {
                protected_mutations.fetch_add(1, Ordering::Relaxed);
            }
            let parses = no_panic(|| Quote::parse(&m).is_ok());
            if let Err(p) = &parses {
                failures.add(&c.id, &what, format!("Quote::parse panicked: {p}"), &m);
            }
            if changed && parses == Ok(true) {
                parsed_protected.fetch_add(1, Ordering::Relaxed);
            }
            match no_panic(|| verify(c, &m, c.collateral.as_ref(), &cache)) {
                Err(p) => failures.add(&c.id, &what, format!("verify_quote panicked: {p}"), &m),
                Ok(Ok(v)) => {
                    if changed {
                        failures.add(
                            &c.id,
                            &what,
                            "verify_quote accepted a quote whose protected bytes changed".into(),
                            &m,
                        );
                        continue;
                    }
                    // Only unprotected bytes changed: the evidence must be
                    // the genuine one.
                    if Some(claims_json(&v)) != genuine_claims {
                        failures.add(
                            &c.id,
                            &what,
                            "accepted with claims that differ from the genuine quote's".into(),
                            &m,
                        );
                    }
                    let ml = layout(&m).expect("layout of an accepted quote");
                    let kind = match accepted_chain(
                        &c.quote[g.pem_at..g.pem_at + g.pem_len],
                        &m[ml.pem_at..ml.pem_at + ml.pem_len],
                    ) {
                        Err(problem) => {
                            failures.add(&c.id, &what, problem, &m);
                            continue;
                        }
                        Ok(true) => "PCK chain root stand-in (same key, other bytes)",
                        Ok(false) if m.len() == c.quote.len() => {
                            let first = m.iter().zip(&c.quote).position(|(a, b)| a != b);
                            first.map_or("?", |o| region(&g, o))
                        }
                        Ok(false) => "length change (padding or PEM whitespace)",
                    };
                    *accepted
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(kind)
                        .or_default() += 1;
                }
                Ok(Err(e)) => {
                    if changed && after_signature_checks(e.code()) {
                        failures.add(
                            &c.id,
                            &what,
                            format!(
                                "protected bytes changed but rejected only after the signature checks: {} ({e})",
                                e.code()
                            ),
                            &m,
                        );
                    }
                    if matches!(
                        e,
                        TdxError::BadSignature {
                            what: "quote signature by the attestation key"
                        }
                    ) {
                        quote_signature_reached.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    });
    eprintln!(
        "quote mutations: {} quotes × {n} in {:.1?}; {} changed protected bytes ({} of those still parsed); {} reached the quote signature check; accepted (unprotected edits only): {:?}",
        cases.len(),
        started.elapsed(),
        protected_mutations.load(Ordering::Relaxed),
        parsed_protected.load(Ordering::Relaxed),
        quote_signature_reached.load(Ordering::Relaxed),
        accepted.into_inner().unwrap_or_else(|e| e.into_inner()),
    );
    // Guard against a parser that rejects everything: the signature checks
    // must have seen many forged-but-well-formed quotes.
    assert!(
        parsed_protected.load(Ordering::Relaxed) > cases.len() * n / 10,
        "too few mutated quotes reached the signature checks"
    );
    assert!(
        quote_signature_reached.load(Ordering::Relaxed) > cases.len() * n / 20,
        "too few mutated quotes reached the quote signature check"
    );
    failures.assert_none();
}

/// The collateral files of one case, by field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum File {
    TcbInfo,
    TcbInfoChain,
    QeIdentity,
    QeIdentityChain,
    PckCrl,
    PckCrlChain,
    RootCaCrl,
}

const FILES: [File; 7] = [
    File::TcbInfo,
    File::TcbInfoChain,
    File::QeIdentity,
    File::QeIdentityChain,
    File::PckCrl,
    File::PckCrlChain,
    File::RootCaCrl,
];

impl File {
    fn get(self, c: &Collateral) -> &Vec<u8> {
        match self {
            File::TcbInfo => &c.tcb_info,
            File::TcbInfoChain => &c.tcb_info_issuer_chain,
            File::QeIdentity => &c.qe_identity,
            File::QeIdentityChain => &c.qe_identity_issuer_chain,
            File::PckCrl => &c.pck_crl,
            File::PckCrlChain => &c.pck_crl_issuer_chain,
            File::RootCaCrl => &c.root_ca_crl,
        }
    }
    fn get_mut(self, c: &mut Collateral) -> &mut Vec<u8> {
        match self {
            File::TcbInfo => &mut c.tcb_info,
            File::TcbInfoChain => &mut c.tcb_info_issuer_chain,
            File::QeIdentity => &mut c.qe_identity,
            File::QeIdentityChain => &mut c.qe_identity_issuer_chain,
            File::PckCrl => &mut c.pck_crl,
            File::PckCrlChain => &mut c.pck_crl_issuer_chain,
            File::RootCaCrl => &mut c.root_ca_crl,
        }
    }
}

/// The signed bytes of a collateral document as a verifier must read them:
/// the inner object's exact text, or a CRL's TBSCertList. `None` when the
/// bytes are not such a document at all.
fn signed_part(file: File, bytes: &[u8]) -> Option<Vec<u8>> {
    let key = match file {
        File::TcbInfo => "tcbInfo",
        File::QeIdentity => "enclaveIdentity",
        File::PckCrl | File::RootCaCrl => {
            let (rest, crl) = CertificateRevocationList::from_der(bytes).ok()?;
            return rest.is_empty().then(|| crl.tbs_cert_list.as_ref().to_vec());
        }
        _ => return None,
    };
    let outer: BTreeMap<String, &RawValue> = serde_json::from_slice(bytes).ok()?;
    outer.get(key).map(|r| r.get().as_bytes().to_vec())
}

/// Byte ranges of a collateral file worth hitting on purpose.
fn collateral_fields(file: File, bytes: &[u8]) -> Vec<(usize, usize)> {
    let find = |needle: &[u8]| bytes.windows(needle.len()).position(|w| w == needle);
    match file {
        File::TcbInfo | File::QeIdentity => {
            let mut f = Vec::new();
            // Around every key and value of the inner object.
            for (i, b) in bytes.iter().enumerate() {
                if *b == b':' {
                    f.push((i.saturating_sub(4), 12));
                }
            }
            if let Some(s) = find(b"\"signature\"") {
                f.push((s, bytes.len() - s));
            }
            f
        }
        File::PckCrl | File::RootCaCrl => {
            // DER headers: the first bytes, the TBS and the signature tail.
            vec![(0, 16), (bytes.len().saturating_sub(80), 80)]
        }
        _ => {
            let mut f = vec![];
            let mut at = 0;
            while let Some(s) = bytes[at..].windows(5).position(|w| w == b"-----") {
                f.push((at + s, 40));
                at += s + 5;
            }
            f
        }
    }
}

/// Mutated collateral never panics, and collateral whose signed bytes
/// changed is never accepted.
#[test]
fn collateral_mutations_never_panic_or_accept_changed_signed_bytes() {
    let Some(root) = vectors_dir() else { return };
    let started = Instant::now();
    let mut cases: Vec<Case> = load_cases(&root)
        .into_iter()
        .filter(|c| c.collateral.is_some())
        .collect();
    // Cases that share a collateral set share the test: keep the one whose
    // quote is accepted, so an accepted mutation shows.
    cases.sort_by_key(|c| c.expected_error.is_some());
    let mut distinct: Vec<Case> = Vec::new();
    for c in cases {
        if !distinct.iter().any(|d| d.collateral == c.collateral) {
            distinct.push(c);
        }
    }
    let jobs: Vec<(&Case, File)> = distinct
        .iter()
        .flat_map(|c| FILES.iter().map(move |f| (c, *f)))
        .collect();
    let cache = VerifiedCache::default();
    let failures = Failures::default();
    let n = mutation_count(COLLATERAL_MUTATIONS).min(COLLATERAL_MUTATIONS);
    let accepted = Mutex::new(BTreeMap::<String, usize>::new());
    parallel(&jobs, |&(c, file)| {
        let genuine_col = c.collateral.as_ref().expect("full case");
        let genuine = File::get(file, genuine_col);
        let genuine_signed = signed_part(file, genuine);
        let genuine_result = verify(c, &c.quote, Some(genuine_col), &cache)
            .map(|v| claims_json(&v))
            .map_err(|e| e.code());
        let label = format!("{}/{file:?}", c.id);
        let fields = collateral_fields(file, genuine);
        let mut rng = Rng::seeded(&label, 2);
        let mut done = 0;
        while done < n {
            let mut m = genuine.clone();
            let what = mutate(&mut rng, &mut m, &[], &fields, false);
            if m == *genuine {
                continue;
            }
            done += 1;
            let mut col = genuine_col.clone();
            *file.get_mut(&mut col) = m.clone();
            let what = format!("{file:?}: {what}");
            match no_panic(|| verify(c, &c.quote, Some(&col), &cache)) {
                Err(p) => failures.add(&c.id, &what, format!("verify_quote panicked: {p}"), &m),
                Ok(Err(_)) => {}
                Ok(Ok(v)) => {
                    let kind = match file {
                        File::TcbInfo | File::QeIdentity | File::PckCrl | File::RootCaCrl => {
                            if signed_part(file, &m) != genuine_signed {
                                failures.add(
                                    &c.id,
                                    &what,
                                    "collateral with changed signed bytes was accepted".into(),
                                    &m,
                                );
                                continue;
                            }
                            "signed bytes unchanged"
                        }
                        _ => match accepted_chain(genuine, &m) {
                            Err(problem) => {
                                failures.add(&c.id, &what, problem, &m);
                                continue;
                            }
                            Ok(true) => "root stand-in (same key, other bytes)",
                            Ok(false) => "certificates unchanged",
                        },
                    };
                    if Ok(claims_json(&v)) != genuine_result {
                        failures.add(
                            &c.id,
                            &what,
                            "accepted with claims that differ from the genuine collateral's".into(),
                            &m,
                        );
                    }
                    *accepted
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .entry(format!("{file:?}: {kind}"))
                        .or_default() += 1;
                }
            }
        }
    });
    eprintln!(
        "collateral mutations: {} collateral sets × {} files × {n} in {:.1?}; accepted: {:?}",
        distinct.len(),
        FILES.len(),
        started.elapsed(),
        accepted.into_inner().unwrap_or_else(|e| e.into_inner()),
    );
    failures.assert_none();
}
