//! FAKE platforms that make evidence on the fly, valid at the time they are
//! built: for end-to-end tests of a service that verifies at the current
//! time with a fresh nonce in the report data, for load generators and for
//! demos.
//!
//! Unlike the vectors (fixed dates, e.g. verified at 2025-06-01), each
//! platform here issues its time-bound objects around the `now` it is
//! given: the SNP VCEK, the TDX PCK and TCB Signing certificates, TCB Info,
//! QE Identity and CRLs. The CAs and roots are the testkit's usual FAKE
//! ones (the same anchors as `test-vectors/*`).
//!
//! Everything that does not depend on the caller's arguments is built once
//! in the constructor: keys are parsed, certificates issued, collateral
//! signed, and the evidence laid out as a template. A call then writes the
//! caller's fields into a copy of the template and makes exactly one ECDSA
//! signature (P-384 for SNP and CCA, P-256 for TDX).
//!
//! That signature is made by AWS-LC, not by the RustCrypto keys the rest of
//! the testkit signs with: RustCrypto's P-384 signing takes about a
//! millisecond, AWS-LC's a small fraction of that (the `time_per_call` test
//! of `tests/live.rs` prints both). The keys are the same testkit keys; only
//! the ECDSA nonces differ: AWS-LC draws them at random, so unlike the
//! vectors, live evidence is not byte-for-byte reproducible.

use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, EcdsaSigningAlgorithm, ECDSA_P256_SHA256_FIXED_SIGNING,
    ECDSA_P384_SHA384_FIXED_SIGNING,
};
use cogito_core::AmdProduct;
use cogito_snp::{build_cert_table, CertTableKind};

use crate::cca::cbor::Cbor;
use crate::cca::cose::{protected_header, sig_structure, Key, Sign1, ES384};
use crate::cca::token::{
    Envelope, RealmClaims, LABEL_PLATFORM, LABEL_REALM, PLATFORM_PROFILE_2023, TAG_CCA_TOKEN,
};
use crate::cca::vectors::{cpak_jwk, CcaWorld};
use crate::hierarchy::{slug, LeafKind, LeafSpec, ProductCa};
use crate::keys::{sha384, EcKey};
use crate::pem;
use crate::report::{offset, put_signature, signing_key, ReportFields, SIGNED_LEN};
use crate::tdx::collateral::{QeIdentity, TcbInfo, TcbStatus};
use crate::tdx::pki::{cn, make_issued, serial_for, EcCa, P256Key};
use crate::tdx::quote::{td_offset, QuoteLayout};
use crate::tdx::vectors::{standard_qe_identity, standard_quote_spec, standard_tcb_info, TdxWorld};
use crate::vectors::{chip_id_field, hw_id, leaf_key, standard_tcb};

/// One day, in seconds.
const DAY: i64 = 24 * 60 * 60;

/// A testkit ECDSA key loaded into AWS-LC once, signing `r ‖ s` with the
/// curve's hash (SHA-384 on P-384, SHA-256 on P-256).
#[derive(Debug, Clone)]
struct FastKey(Arc<EcdsaKeyPair>);

impl FastKey {
    fn load(alg: &'static EcdsaSigningAlgorithm, scalar: &[u8], public_sec1: &[u8]) -> FastKey {
        let pair = EcdsaKeyPair::from_private_key_and_public_key(alg, scalar, public_sec1)
            .expect("AWS-LC takes the testkit's key");
        FastKey(Arc::new(pair))
    }

    fn p384(key: &EcKey) -> FastKey {
        Self::load(
            &ECDSA_P384_SHA384_FIXED_SIGNING,
            &key.private_scalar(),
            &key.public_sec1(),
        )
    }

    fn p256(key: &P256Key) -> FastKey {
        Self::load(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key.private_scalar(),
            &key.public_sec1(),
        )
    }

    /// `r ‖ s`, each coordinate-sized and big-endian.
    fn sign(&self, message: &[u8]) -> Vec<u8> {
        // AWS-LC draws the nonce itself; the rng argument is ignored.
        self.0
            .sign(&SystemRandom::new(), message)
            .expect("ECDSA signing")
            .as_ref()
            .to_vec()
    }
}

/// RFC 3339 UTC with whole seconds (`2026-01-31T12:00:00Z`), as Intel
/// writes collateral dates.
fn rfc3339(unix: i64) -> String {
    cogito_core::VerificationTime::from_unix(unix).to_rfc3339()
}

fn pem_chain(certs: &[&[u8]]) -> String {
    certs
        .iter()
        .map(|c| pem::encode("CERTIFICATE", c))
        .collect()
}

/// A FAKE SEV-SNP platform: a product line's testkit ARK/ASK and one VCEK,
/// whose certificates are valid around `now`.
///
/// The ARK and ASK are those of [`ProductCa::new`] (valid 2024 to
/// 2054/2049, the anchors of `test-vectors/snp`); the VCEK is the testkit
/// VCEK key of the product's chip "a" ([`leaf_key`], [`hw_id`]), certified
/// for [`standard_tcb`] and valid from a day before `now` for seven years.
#[derive(Debug, Clone)]
pub struct LiveSnp {
    product: AmdProduct,
    vcek_key: FastKey,
    /// The report with every field but REPORT_DATA, MEASUREMENT and the
    /// signature final.
    template: Vec<u8>,
    cert_table: Vec<u8>,
    vcek: Vec<u8>,
    anchors: Vec<(String, String)>,
}

impl LiveSnp {
    /// The platform of `product` at `now_unix`. Slow: [`ProductCa::new`]
    /// generates the ARK, ASK and ASVK RSA keys (about 1.5 s in the test
    /// profile); build one per product and share it (it is `Send + Sync`).
    pub fn new(product: AmdProduct, now_unix: i64) -> LiveSnp {
        let ca = ProductCa::new(product);
        let tcb = standard_tcb(product);
        let hw = hw_id(product, "a");
        let vcek_key = leaf_key(product, LeafKind::Vcek);
        let mut spec = LeafSpec::amd(product, LeafKind::Vcek, tcb, &hw);
        spec.not_before = now_unix - DAY;
        spec.not_after = now_unix + 7 * 365 * DAY;
        let vcek = spec.issue(&vcek_key, &ca.ask);

        let mut fields = ReportFields::new(product, 3, tcb, chip_id_field(&hw), signing_key::VCEK);
        fields.guest_svn = 1;
        fields.measurement = Self::measurement_default();
        fields.report_id =
            crate::keys::sha256(format!("live/{}/report id", slug(product)).as_bytes());
        let template = fields.to_unsigned_bytes();

        let cert_table = build_cert_table(&[
            (CertTableKind::Vcek, &vcek),
            (CertTableKind::Ask, &ca.ask.cert),
            (CertTableKind::Ark, &ca.ark.cert),
        ]);
        let s = slug(product);
        let anchors = vec![
            (
                format!("{s}-ark.pem"),
                pem::encode("CERTIFICATE", &ca.ark.cert),
            ),
            (
                format!("{s}-ask.pem"),
                pem::encode("CERTIFICATE", &ca.ask.cert),
            ),
        ];
        LiveSnp {
            product,
            vcek_key: FastKey::p384(&vcek_key),
            template,
            cert_table,
            vcek,
            anchors,
        }
    }

    /// The product line.
    pub fn product(&self) -> AmdProduct {
        self.product
    }

    /// The ARK and ASK (PEM) a verifier must trust (as `--trust-anchors`
    /// takes them): (file name, PEM text), e.g. `milan-ark.pem`.
    pub fn anchors_pem(&self) -> Vec<(String, String)> {
        self.anchors.clone()
    }

    /// The VCEK certificate (DER), also in every certificate table.
    pub fn vcek_der(&self) -> &[u8] {
        &self.vcek
    }

    /// A signed report (1184 bytes) with this REPORT_DATA and MEASUREMENT,
    /// and the host certificate table (the GHCB GUID table of
    /// [`cogito_snp::build_cert_table`]) holding the VCEK, ASK and ARK, as a
    /// guest would send them.
    ///
    /// The other fields are constant: version 3 with the product's CPUID,
    /// guest policy 0x30000 (SMT allowed, no debug, no migration agent),
    /// VMPL 0, GUEST_SVN 1, every TCB equal to the VCEK's, committed
    /// firmware equal to current, CHIP_ID of chip "a", signed by the VCEK.
    pub fn evidence(&self, report_data: [u8; 64], measurement: [u8; 48]) -> (Vec<u8>, Vec<u8>) {
        self.evidence_edited(report_data, measurement, |_| {})
    }

    /// [`LiveSnp::evidence`] with `edit` applied to the report before it is
    /// signed (offsets in [`crate::report::offset`]): a debuggable guest, an
    /// older report version, as genuine firmware would sign them.
    pub fn evidence_edited(
        &self,
        report_data: [u8; 64],
        measurement: [u8; 48],
        edit: impl FnOnce(&mut [u8]),
    ) -> (Vec<u8>, Vec<u8>) {
        let mut report = self.template.clone();
        report[offset::REPORT_DATA..offset::REPORT_DATA + 64].copy_from_slice(&report_data);
        report[offset::MEASUREMENT..offset::MEASUREMENT + 48].copy_from_slice(&measurement);
        edit(&mut report[..SIGNED_LEN]);
        let signature = self.vcek_key.sign(&report[..SIGNED_LEN]);
        put_signature(&mut report, &signature.try_into().expect("96 bytes"));
        (report, self.cert_table.clone())
    }

    /// The MEASUREMENT of a caller that does not care (SHA-384 of a label).
    pub fn measurement_default() -> [u8; 48] {
        sha384(b"cogito-testkit live/snp measurement")
    }
}

/// A FAKE Intel platform: the testkit root, PCK chain, TCB Info, QE Identity
/// and CRLs valid around `now` (issueDate/thisUpdate a day before,
/// nextUpdate 30 days after), TCB status UpToDate for its quotes.
///
/// The root and PCK Platform CA are those of [`TdxWorld::new`] (the anchor
/// of `test-vectors/tdx`, valid 2024 to 2049 and 2039); the PCK leaf (the
/// world's PCK key and SGX extensions) and the TCB Signing certificate (the
/// world's key) are issued anew, valid from a day before `now` for seven
/// years. TCB Info and QE Identity are the standard ones of the vectors,
/// which put the FAKE platform and QE at UpToDate levels, with new dates.
#[derive(Debug, Clone)]
pub struct LiveTdx {
    att_key: FastKey,
    /// The quote with every field but REPORTDATA, MRTD and the quote
    /// signature final (QE report, its signature and the PCK chain are).
    template: Vec<u8>,
    layout: QuoteLayout,
    root: Vec<u8>,
    files: Vec<(String, Vec<u8>)>,
}

impl LiveTdx {
    /// The platform at `now_unix` (milliseconds: P-256 only).
    pub fn new(now_unix: i64) -> LiveTdx {
        Self::with_tcb_status(now_unix, TcbStatus::UpToDate)
    }

    /// [`LiveTdx::new`] with TCB Info putting the platform's level at
    /// `status` (e.g. `Revoked`), and nothing else changed.
    pub fn with_tcb_status(now_unix: i64, status: TcbStatus) -> LiveTdx {
        let world = TdxWorld::new();
        let validity = (now_unix - DAY, now_unix + 7 * 365 * DAY);
        let this_update = now_unix - DAY;
        let next_update = now_unix + 30 * DAY;

        // The PCK chain the quote embeds.
        let mut pck = world.pck_spec();
        pck.serial = serial_for("tdx/live pck");
        pck.not_before = validity.0;
        pck.not_after = validity.1;
        let leaf = pck.issue(&world.pck_key, &world.platform_ca);
        let mut chain = pem_chain(&[&leaf, &world.platform_ca.cert, &world.root.cert]).into_bytes();
        chain.push(0); // NUL-terminated, as Intel's QE writes it

        let mut spec = standard_quote_spec("live", 4, false);
        spec.td.mrtd = Self::mrtd_default();
        spec.pck_chain = chain;
        let (template, layout) = spec.build(&world.att_key, &world.pck_key);

        // The collateral.
        let tcb_signing: EcCa = make_issued(
            &world.root,
            world.tcb_signing.key.clone(),
            cn::TCB_SIGNING,
            "tdx/live tcb signing",
            false,
            validity,
        );
        let mut tcb_info = TcbInfo {
            issue_date: rfc3339(this_update),
            next_update: rfc3339(next_update),
            ..standard_tcb_info()
        };
        if let Some(level) = tcb_info.tcb_levels.first_mut() {
            level.status = status;
        }
        let qe_identity = QeIdentity {
            issue_date: rfc3339(this_update),
            next_update: rfc3339(next_update),
            ..standard_qe_identity()
        };
        let signing_chain = pem_chain(&[&tcb_signing.cert, &world.root.cert]).into_bytes();
        let pck_crl = world.platform_ca.crl(
            this_update,
            next_update,
            &[
                serial_for("tdx/revoked pck 1"),
                serial_for("tdx/revoked pck 2"),
            ],
        );
        let root_crl = world.root.crl(this_update, next_update, &[]);
        let files = vec![
            (
                "tcb_info.json".to_string(),
                tcb_info.signed_body(&tcb_signing.key),
            ),
            (
                "tcb_info_issuer_chain.pem".to_string(),
                signing_chain.clone(),
            ),
            (
                "qe_identity.json".to_string(),
                qe_identity.signed_body(&tcb_signing.key),
            ),
            ("qe_identity_issuer_chain.pem".to_string(), signing_chain),
            ("pck_crl.der".to_string(), pck_crl),
            (
                "pck_crl_issuer_chain.pem".to_string(),
                pem_chain(&[&world.platform_ca.cert, &world.root.cert]).into_bytes(),
            ),
            ("root_ca_crl.der".to_string(), root_crl),
        ];
        LiveTdx {
            att_key: FastKey::p256(&world.att_key),
            template,
            layout,
            root: world.root.cert,
            files,
        }
    }

    /// The FAKE Intel SGX Root CA (PEM), the one anchor a verifier must
    /// trust: (file name `root.pem`, PEM text).
    pub fn anchors_pem(&self) -> Vec<(String, String)> {
        vec![(
            "root.pem".to_string(),
            pem::encode("CERTIFICATE", &self.root),
        )]
    }

    /// The collateral as the files of an offline bundle directory (what
    /// `cogito verify --certs DIR` reads for TDX, see `docs/bundle.md`):
    /// `tcb_info.json`, `tcb_info_issuer_chain.pem`, `qe_identity.json`,
    /// `qe_identity_issuer_chain.pem`, `pck_crl.der`,
    /// `pck_crl_issuer_chain.pem`, `root_ca_crl.der`: (file name, bytes).
    pub fn collateral_files(&self) -> Vec<(String, Vec<u8>)> {
        self.files.clone()
    }

    /// A v4 quote (TD 1.0 body) with this REPORTDATA and MRTD, signed by
    /// the attestation key, with its PCK chain embedded (certification data
    /// type 5). Everything else is the vectors' standard TD on the FAKE
    /// platform (`standard_quote_spec`).
    pub fn quote(&self, report_data: [u8; 64], mrtd: [u8; 48]) -> Vec<u8> {
        self.sign_quote(report_data, mrtd, None)
    }

    /// [`LiveTdx::quote`] with this MRCONFIGID (where a VMM puts the
    /// digest of a guest's init-data).
    pub fn quote_with_config_id(
        &self,
        report_data: [u8; 64],
        mrtd: [u8; 48],
        mr_config_id: [u8; 48],
    ) -> Vec<u8> {
        self.sign_quote(report_data, mrtd, Some(mr_config_id))
    }

    fn sign_quote(
        &self,
        report_data: [u8; 64],
        mrtd: [u8; 48],
        mr_config_id: Option<[u8; 48]>,
    ) -> Vec<u8> {
        let mut q = self.template.clone();
        let body = self.layout.body;
        if let Some(id) = mr_config_id {
            q[body + td_offset::MRCONFIGID..body + td_offset::MRCONFIGID + 48].copy_from_slice(&id);
        }
        q[body + td_offset::MRTD..body + td_offset::MRTD + 48].copy_from_slice(&mrtd);
        q[body + td_offset::REPORT_DATA..body + td_offset::REPORT_DATA + 64]
            .copy_from_slice(&report_data);
        // The signature covers header ‖ body: everything before the u32
        // length of the signature data.
        let signed_end = self.layout.sig_data - 4;
        let signature = self.att_key.sign(&q[..signed_end]);
        q[self.layout.sig_data..self.layout.sig_data + 64].copy_from_slice(&signature);
        q
    }

    /// The MRTD of a caller that does not care (SHA-384 of a label).
    pub fn mrtd_default() -> [u8; 48] {
        sha384(b"cogito-testkit live/tdx mrtd")
    }
}

/// A FAKE Arm CCA platform: a CPAK (the testkit's P-384 CPAK, not one of
/// the published test keys) and tokens.
///
/// Tokens are tag 399 with the 2023 platform profile and a 2024-profile
/// realm (as [`CcaWorld::spec`] makes them), lifecycle "secured", the realm
/// measured with SHA-384 (48-byte RIM and REMs). The platform token does not
/// depend on the realm's challenge or RIM (its challenge binds the RAK), so
/// it is signed once; a call signs the realm token only.
#[derive(Debug, Clone)]
pub struct LiveCca {
    cpak: Key,
    rak: FastKey,
    realm: RealmClaims,
    rak_claim: Vec<u8>,
    /// The encoded platform COSE_Sign1.
    platform: Vec<u8>,
}

impl LiveCca {
    /// The platform (milliseconds).
    pub fn new() -> LiveCca {
        let world = CcaWorld::new();
        let cpak = world.cpak_p384.clone();
        let mut spec = world.spec("live", Envelope::Tag399, PLATFORM_PROFILE_2023, &cpak);
        spec.realm.hash_algo = "sha-384".into();
        spec.realm.rim = Self::rim_default().to_vec();
        spec.realm.rems = (0..4)
            .map(|i| sha384(format!("cogito-testkit live/cca rem{i}").as_bytes()).to_vec())
            .collect();
        let built = spec.build();
        let Key::P384(rak) = &spec.rak else {
            panic!("the testkit RAK is P-384")
        };
        LiveCca {
            cpak,
            rak: FastKey::p384(rak),
            realm: spec.realm,
            rak_claim: built.rak_claim,
            platform: built.platform.encode(),
        }
    }

    /// The CPAK as a public JWK (what `cogito verify --cca-trust-anchors
    /// FILE` takes).
    pub fn cpak_jwk(&self) -> String {
        String::from_utf8(cpak_jwk(&self.cpak)).expect("a JWK is ASCII")
    }

    /// A tag-399 token whose realm challenge is `challenge` and RIM is
    /// `rim`, lifecycle "secured".
    pub fn token(&self, challenge: [u8; 64], rim: [u8; 48]) -> Vec<u8> {
        let mut claims = self.realm.clone();
        claims.challenge = challenge.to_vec();
        claims.rim = rim.to_vec();
        let payload = Cbor::Map(claims.entries(&self.rak_claim)).encode();
        let protected = protected_header(ES384);
        let signature = self.rak.sign(&sig_structure(&protected, &payload));
        let realm = Sign1 {
            protected,
            unprotected: Cbor::Map(vec![]),
            payload,
            signature,
            tagged: true,
        };
        Cbor::tag(
            TAG_CCA_TOKEN,
            Cbor::Map(vec![
                (
                    Cbor::int(LABEL_PLATFORM),
                    Cbor::Bytes(self.platform.clone()),
                ),
                (Cbor::int(LABEL_REALM), Cbor::Bytes(realm.encode())),
            ]),
        )
        .encode()
    }

    /// The RIM of a caller that does not care (SHA-384 of a label).
    pub fn rim_default() -> [u8; 48] {
        sha384(b"cogito-testkit live/cca rim")
    }
}

impl Default for LiveCca {
    fn default() -> Self {
        LiveCca::new()
    }
}
