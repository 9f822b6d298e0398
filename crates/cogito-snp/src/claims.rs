//! The typed SEV-SNP claims cogito reports (every report field, decoded),
//! and their mapping to cogito's normalized claims.

use cogito_core::hexser::Hex;
use cogito_core::time::Window;
use cogito_core::{AmdProduct, Claims, Signer, TcbStatus, Tee};
use serde::Serialize;

use crate::cert::VcekExtensions;
use crate::report::{Report, SigningKey};
use crate::tcb::{TcbParts, TcbVersion};

/// A TCB_VERSION: raw bytes and the decoded components.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TcbClaims {
    /// Raw 8 bytes, hex, report byte order.
    pub raw: String,
    /// Decoded with the product's layout.
    #[serde(flatten)]
    pub parts: TcbParts,
}

impl TcbClaims {
    fn new(t: &TcbVersion, product: AmdProduct) -> Self {
        TcbClaims {
            raw: t.hex(),
            parts: t.decode(product),
        }
    }
}

/// POLICY, raw and by bit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyClaims {
    /// Raw value, `0x…`.
    pub raw: String,
    /// Minimum ABI major.
    pub abi_major: u8,
    /// Minimum ABI minor.
    pub abi_minor: u8,
    /// Bit 16.
    pub smt_allowed: bool,
    /// Bit 18.
    pub migrate_ma_allowed: bool,
    /// Bit 19.
    pub debug_allowed: bool,
    /// Bit 20.
    pub single_socket_required: bool,
    /// Bit 21.
    pub cxl_allowed: bool,
    /// Bit 22.
    pub mem_aes_256_xts_required: bool,
    /// Bit 23.
    pub rapl_disabled_required: bool,
    /// Bit 24.
    pub ciphertext_hiding_required: bool,
    /// Bit 25.
    pub page_swap_disabled: bool,
}

/// PLATFORM_INFO, raw and by bit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformInfoClaims {
    /// Raw value, `0x…`.
    pub raw: String,
    /// Bit 0.
    pub smt_enabled: bool,
    /// Bit 1.
    pub tsme_enabled: bool,
    /// Bit 2.
    pub ecc_enabled: bool,
    /// Bit 3.
    pub rapl_disabled: bool,
    /// Bit 4.
    pub ciphertext_hiding_enabled: bool,
    /// Bit 5.
    pub alias_check_complete: bool,
    /// Bit 6 (set on Turin; not named in the public ABI revision followed).
    pub bit6: bool,
    /// Bit 7.
    pub tio_enabled: bool,
}

/// CPUID of the chip (version 3+).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CpuidClaims {
    /// Family, `0x..`.
    pub family: String,
    /// Model, `0x..`.
    pub model: String,
    /// Stepping, `0x..`.
    pub stepping: String,
}

/// Every field of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportClaims {
    /// VERSION.
    pub version: u32,
    /// GUEST_SVN.
    pub guest_svn: u32,
    /// POLICY.
    pub policy: PolicyClaims,
    /// FAMILY_ID.
    pub family_id: Hex,
    /// IMAGE_ID.
    pub image_id: Hex,
    /// VMPL.
    pub vmpl: u32,
    /// SIGNATURE_ALGO.
    pub signature_algo: u32,
    /// CURRENT_TCB.
    pub current_tcb: TcbClaims,
    /// PLATFORM_INFO.
    pub platform_info: PlatformInfoClaims,
    /// AUTHOR_KEY_EN.
    pub author_key_en: bool,
    /// MASK_CHIP_ID (the KEY_INFO bit).
    pub mask_chip_id: bool,
    /// Whether CHIP_ID carries no identity (MASK_CHIP_ID set, or all zero).
    pub chip_id_masked: bool,
    /// SIGNING_KEY.
    pub signing_key: SigningKey,
    /// REPORT_DATA.
    pub report_data: Hex,
    /// MEASUREMENT.
    pub measurement: Hex,
    /// HOST_DATA.
    pub host_data: Hex,
    /// ID_KEY_DIGEST.
    pub id_key_digest: Hex,
    /// AUTHOR_KEY_DIGEST.
    pub author_key_digest: Hex,
    /// REPORT_ID.
    pub report_id: Hex,
    /// REPORT_ID_MA.
    pub report_id_ma: Hex,
    /// REPORTED_TCB.
    pub reported_tcb: TcbClaims,
    /// CPUID (version 3+).
    pub cpuid: Option<CpuidClaims>,
    /// CHIP_ID.
    pub chip_id: Hex,
    /// COMMITTED_TCB.
    pub committed_tcb: TcbClaims,
    /// CURRENT firmware version, `major.minor.build`.
    pub current_version: String,
    /// COMMITTED firmware version.
    pub committed_version: String,
    /// LAUNCH_TCB.
    pub launch_tcb: TcbClaims,
    /// LAUNCH_MIT_VECTOR (version 5+), `0x…`.
    pub launch_mit_vector: Option<String>,
    /// CURRENT_MIT_VECTOR (version 5+), `0x…`.
    pub current_mit_vector: Option<String>,
}

impl ReportClaims {
    /// All fields of `r`, TCBs decoded with `product`'s layout.
    pub fn new(r: &Report, product: AmdProduct) -> Self {
        let p = r.policy;
        let pi = r.platform_info;
        ReportClaims {
            version: r.version,
            guest_svn: r.guest_svn,
            policy: PolicyClaims {
                raw: format!("{:#x}", p.0),
                abi_major: p.abi_major(),
                abi_minor: p.abi_minor(),
                smt_allowed: p.smt_allowed(),
                migrate_ma_allowed: p.migrate_ma_allowed(),
                debug_allowed: p.debug_allowed(),
                single_socket_required: p.single_socket_required(),
                cxl_allowed: p.cxl_allowed(),
                mem_aes_256_xts_required: p.mem_aes_256_xts_required(),
                rapl_disabled_required: p.rapl_disabled_required(),
                ciphertext_hiding_required: p.ciphertext_hiding_required(),
                page_swap_disabled: p.page_swap_disabled(),
            },
            family_id: Hex::from_slice(&r.family_id),
            image_id: Hex::from_slice(&r.image_id),
            vmpl: r.vmpl,
            signature_algo: r.signature_algo,
            current_tcb: TcbClaims::new(&r.current_tcb, product),
            platform_info: PlatformInfoClaims {
                raw: format!("{:#x}", pi.0),
                smt_enabled: pi.smt_enabled(),
                tsme_enabled: pi.tsme_enabled(),
                ecc_enabled: pi.ecc_enabled(),
                rapl_disabled: pi.rapl_disabled(),
                ciphertext_hiding_enabled: pi.ciphertext_hiding_enabled(),
                alias_check_complete: pi.alias_check_complete(),
                bit6: pi.bit6(),
                tio_enabled: pi.tio_enabled(),
            },
            author_key_en: r.author_key_en,
            mask_chip_id: r.mask_chip_id,
            chip_id_masked: r.chip_id_masked(),
            signing_key: r.signing_key,
            report_data: Hex::from_slice(&r.report_data),
            measurement: Hex::from_slice(&r.measurement),
            host_data: Hex::from_slice(&r.host_data),
            id_key_digest: Hex::from_slice(&r.id_key_digest),
            author_key_digest: Hex::from_slice(&r.author_key_digest),
            report_id: Hex::from_slice(&r.report_id),
            report_id_ma: Hex::from_slice(&r.report_id_ma),
            reported_tcb: TcbClaims::new(&r.reported_tcb, product),
            cpuid: r.cpuid.map(|c| CpuidClaims {
                family: format!("{:#04x}", c.family),
                model: format!("{:#04x}", c.model),
                stepping: format!("{:#04x}", c.stepping),
            }),
            chip_id: Hex::from_slice(&r.chip_id),
            committed_tcb: TcbClaims::new(&r.committed_tcb, product),
            current_version: r.current_version.to_string(),
            committed_version: r.committed_version.to_string(),
            launch_tcb: TcbClaims::new(&r.launch_tcb, product),
            launch_mit_vector: r.launch_mit_vector.map(|v| format!("{v:#x}")),
            current_mit_vector: r.current_mit_vector.map(|v| format!("{v:#x}")),
        }
    }
}

/// A certificate of the chain, for claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateClaims {
    /// Role (`VCEK`, `ASK`, `ARK`, …).
    pub role: &'static str,
    /// Subject.
    pub subject: String,
    /// Serial number, hex.
    pub serial: String,
    /// Validity.
    pub validity: Window,
    /// SHA-256 of the DER, hex.
    pub sha256: String,
    /// Whether it is one of cogito's built-in anchors.
    pub builtin_anchor: bool,
}

/// A CRL that was checked, for claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrlClaims {
    /// Issuer.
    pub issuer: String,
    /// thisUpdate … nextUpdate.
    pub validity: Window,
    /// Number of revoked entries.
    pub revoked_count: usize,
}

/// The endorsement key and its chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndorsementClaims {
    /// VCEK or VLEK.
    pub kind: SigningKey,
    /// The leaf's AMD extensions.
    pub extensions: VcekExtensions,
    /// Leaf, issuer (ASK/ASVK) and root (ARK).
    pub chain: Vec<CertificateClaims>,
    /// CRLs checked (empty when none was supplied).
    pub crls: Vec<CrlClaims>,
    /// How the host's certificate table encoded its certificates, when the
    /// collateral came with one (`der`, `pem` or `mixed`).
    pub cert_table_encoding: Option<crate::verify::TableEncoding>,
}

/// Everything cogito knows about a verified SEV-SNP report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnpClaims {
    /// The product line.
    pub product: AmdProduct,
    /// Where the product line came from.
    pub product_source: &'static str,
    /// Every report field.
    pub report: ReportClaims,
    /// The endorsement key and chain.
    pub endorsement: EndorsementClaims,
    /// Whether the firmware is provisional (CURRENT ≠ COMMITTED).
    pub provisional_firmware: bool,
}

/// Maps an SNP report into the normalized claims.
pub fn normalized(r: &Report, provisional: bool) -> Claims {
    let mut signer = Vec::new();
    if r.id_key_digest.iter().any(|b| *b != 0) {
        signer.push(Signer {
            kind: "id_key_digest",
            value: Hex::from_slice(&r.id_key_digest),
        });
    }
    if r.author_key_en {
        signer.push(Signer {
            kind: "author_key_digest",
            value: Hex::from_slice(&r.author_key_digest),
        });
    }
    Claims {
        tee: Tee::Snp,
        launch_measurement: Hex::from_slice(&r.measurement),
        runtime_measurements: Vec::new(),
        report_data: Hex::from_slice(&r.report_data),
        init_data: Hex::from_slice(&r.host_data),
        debug: r.policy.debug_allowed(),
        tcb_status: if provisional {
            TcbStatus::Provisional
        } else {
            TcbStatus::Committed
        },
        platform_instance: (!r.chip_id_masked()).then(|| Hex::from_slice(&r.chip_id)),
        signer,
    }
}
