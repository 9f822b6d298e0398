//! The policy file format, as deserialized. Every table denies unknown
//! keys, and every value type validates itself (see [`crate::values`]), so a
//! file that deserializes is well-formed; [`crate::load`] then checks the
//! rules against each other.
//!
//! docs/policy.md is the reference for every key; keep the two in step.

use serde::Deserialize;

use crate::values::{
    AllowedStatus, Duration, Expiry, FirmwareVersion, HexBytes, LAny, LDigest, Mask, NonEmpty,
    RefList, L16, L32, L48, L64, L8,
};

/// A whole policy file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// `[policy]`: name, description, included reference-value files.
    pub policy: Meta,
    /// `[common]`: rules over the normalized claims, for every platform.
    #[serde(default)]
    pub common: Common,
    /// `[snp]`: present means SEV-SNP evidence may be accepted.
    pub snp: Option<Snp>,
    /// `[tdx]`: present means TDX evidence may be accepted.
    pub tdx: Option<Tdx>,
    /// `[cca]`: present means CCA evidence may be accepted.
    pub cca: Option<Cca>,
}

/// `[policy]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// A short identifier, used in logs and the EAR policy id.
    pub name: String,
    /// What the policy is for.
    pub description: Option<String>,
    /// Reference-value files (paths relative to this file) whose values
    /// join this policy's allow-lists.
    #[serde(default)]
    pub include: Vec<String>,
}

/// `[common]`: rules over cogito's normalized claims.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Common {
    /// Whether a debuggable guest may be accepted (SNP policy DEBUG, TDX
    /// TDATTRIBUTES.DEBUG, a CCA platform in a debug lifecycle state).
    /// Default false: a debuggable guest's memory is not confidential.
    pub debug_allowed: Option<bool>,
    /// Allowed launch measurements (SNP MEASUREMENT, TDX MRTD, CCA RIM).
    pub launch_measurements: Option<RefList<LDigest>>,
    /// Allowed init data (SNP HOST_DATA, TDX MRCONFIGID, CCA personalization value).
    pub init_data: Option<RefList<LAny>>,
    /// Allowed platform instances (SNP CHIP_ID, TDX PPID, CCA instance id).
    pub platform_instances: Option<RefList<LAny>>,
}

/// Minimum TCB components; absent components are not constrained.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinTcb {
    /// PSP bootloader SPL.
    pub bootloader: Option<u8>,
    /// PSP OS (TEE) SPL.
    pub tee: Option<u8>,
    /// SNP firmware SPL.
    pub snp: Option<u8>,
    /// Microcode patch level.
    pub microcode: Option<u8>,
    /// FMC SPL (Turin only; a report of another product fails this rule).
    pub fmc: Option<u8>,
    /// Minimums for Milan reports only, replacing the ones above component
    /// by component (each product line numbers its SPLs its own way).
    /// Milan has no FMC: `fmc` here is a load error.
    pub milan: Option<MinTcbParts>,
    /// Minimums for Genoa reports only (no FMC either).
    pub genoa: Option<MinTcbParts>,
    /// Minimums for Turin reports only.
    pub turin: Option<MinTcbParts>,
}

/// The per-product minimums of one product line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MinTcbParts {
    /// PSP bootloader SPL.
    pub bootloader: Option<u8>,
    /// PSP OS (TEE) SPL.
    pub tee: Option<u8>,
    /// SNP firmware SPL.
    pub snp: Option<u8>,
    /// Microcode patch level.
    pub microcode: Option<u8>,
    /// FMC SPL (Turin only).
    pub fmc: Option<u8>,
}

impl MinTcb {
    /// The minimums that apply to a report of `product` ("milan", "genoa",
    /// "turin"), per component (bootloader, tee, snp, microcode, fmc): the
    /// product's own value if it has one, else the general one, each with
    /// the key path it comes from (`genoa.microcode`, `snp`).
    pub fn effective(&self, product: &str) -> [(&'static str, Option<(u8, String)>); 5] {
        let own = match product {
            "milan" => self.milan.as_ref(),
            "genoa" => self.genoa.as_ref(),
            "turin" => self.turin.as_ref(),
            _ => None,
        }
        .map_or([None; 5], |t| {
            [t.bootloader, t.tee, t.snp, t.microcode, t.fmc]
        });
        let general = [
            self.bootloader,
            self.tee,
            self.snp,
            self.microcode,
            self.fmc,
        ];
        let names = ["bootloader", "tee", "snp", "microcode", "fmc"];
        let mut out: [(&'static str, Option<(u8, String)>); 5] = Default::default();
        for (((slot, name), own), general) in out.iter_mut().zip(names).zip(own).zip(general) {
            *slot = (
                name,
                match (own, general) {
                    (Some(v), _) => Some((v, format!("{product}.{name}"))),
                    (None, Some(v)) => Some((v, name.to_string())),
                    (None, None) => None,
                },
            );
        }
        out
    }
}

/// `[snp.guest_policy]`: the guest POLICY bits (SEV-SNP ABI spec 56860,
/// §4.3 "Guest Policy"). Permission bits (`*_allowed`) are ceilings: false
/// requires the guest to have forbidden it. Requirement bits (`*_required`)
/// are floors: true requires the guest to have demanded it. DEBUG is
/// `common.debug_allowed`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnpGuestPolicy {
    /// POLICY.SMT (bit 16).
    pub smt_allowed: Option<bool>,
    /// POLICY.MIGRATE_MA (bit 18).
    pub migrate_ma_allowed: Option<bool>,
    /// POLICY.CXL_ALLOW (bit 21).
    pub cxl_allowed: Option<bool>,
    /// POLICY.SINGLE_SOCKET (bit 20).
    pub single_socket_required: Option<bool>,
    /// POLICY.MEM_AES_256_XTS (bit 22).
    pub mem_aes_256_xts_required: Option<bool>,
    /// POLICY.RAPL_DIS (bit 23).
    pub rapl_disabled_required: Option<bool>,
    /// POLICY.CIPHERTEXT_HIDING (bit 24).
    pub ciphertext_hiding_required: Option<bool>,
    /// POLICY.PAGE_SWAP_DISABLE (bit 25).
    pub page_swap_disabled_required: Option<bool>,
    /// Minimum POLICY.ABI_MAJOR.ABI_MINOR, e.g. "1.51".
    pub min_abi: Option<String>,
}

/// `[snp.platform_info]`: PLATFORM_INFO bits, each required to equal the
/// given value when present.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnpPlatformInfo {
    /// SMT_EN.
    pub smt_enabled: Option<bool>,
    /// TSME_EN.
    pub tsme_enabled: Option<bool>,
    /// ECC_EN.
    pub ecc_enabled: Option<bool>,
    /// RAPL_DIS.
    pub rapl_disabled: Option<bool>,
    /// CIPHERTEXT_HIDING_EN.
    pub ciphertext_hiding_enabled: Option<bool>,
    /// ALIAS_CHECK_COMPLETE.
    pub alias_check_complete: Option<bool>,
    /// TIO_EN.
    pub tio_enabled: Option<bool>,
}

/// VCEK or VLEK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SigningKeyName {
    /// Versioned Chip Endorsement Key.
    Vcek,
    /// Versioned Loaded Endorsement Key.
    Vlek,
}

/// An AMD product line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProductName {
    /// Zen 3.
    Milan,
    /// Zen 4.
    Genoa,
    /// Zen 5.
    Turin,
}

/// A VMPL, 0–3.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Vmpl(pub u32);

impl std::fmt::Debug for Vmpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VMPL {}", self.0)
    }
}

impl<'de> Deserialize<'de> for Vmpl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        match u32::try_from(v) {
            Ok(v @ 0..=3) => Ok(Vmpl(v)),
            _ => Err(serde::de::Error::custom(format!(
                "VMPL {v} does not exist: SEV-SNP has VMPL 0 to 3"
            ))),
        }
    }
}

/// A TD VMID, 0–3 (TD 1.5 extended quote body, v5 body type 4): 0 is the
/// TD itself (or the L1 VMM of a partitioned TD), 1–3 a TD VM (L2 guest)
/// of a partitioned TD.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Vmid(pub u8);

impl std::fmt::Debug for Vmid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VMID {}", self.0)
    }
}

impl<'de> Deserialize<'de> for Vmid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        match u8::try_from(v) {
            Ok(v @ 0..=3) => Ok(Vmid(v)),
            _ => Err(serde::de::Error::custom(format!(
                "VMID {v} does not exist: a TD has VMID 0 to 3 (0: the TD itself or the L1 VMM of a partitioned TD; 1 to 3: its TD VMs)"
            ))),
        }
    }
}

/// `[snp]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snp {
    /// Allowed MEASUREMENT values.
    pub measurements: Option<RefList<L48>>,
    /// Allowed HOST_DATA values.
    pub host_data: Option<RefList<L32>>,
    /// Allowed FAMILY_ID values.
    pub family_ids: Option<RefList<L16>>,
    /// Allowed IMAGE_ID values.
    pub image_ids: Option<RefList<L16>>,
    /// Allowed ID_KEY_DIGEST values.
    pub id_key_digests: Option<RefList<L48>>,
    /// Allowed AUTHOR_KEY_DIGEST values.
    pub author_key_digests: Option<RefList<L48>>,
    /// Minimum GUEST_SVN.
    pub min_guest_svn: Option<u32>,
    /// Allowed VMPLs of the requesting software.
    pub vmpls: Option<NonEmpty<Vmpl>>,
    /// Allowed endorsement key kinds.
    pub signing_keys: Option<NonEmpty<SigningKeyName>>,
    /// Allowed product lines.
    pub products: Option<NonEmpty<ProductName>>,
    /// Whether provisional (uncommitted) firmware may be accepted. Default false.
    pub allow_provisional_firmware: Option<bool>,
    /// Minimum CURRENT firmware version.
    pub min_current_version: Option<FirmwareVersion>,
    /// Minimum COMMITTED firmware version.
    pub min_committed_version: Option<FirmwareVersion>,
    /// Minimum REPORTED_TCB (the TCB the VCEK is derived from).
    pub min_reported_tcb: Option<MinTcb>,
    /// Minimum LAUNCH_TCB.
    pub min_launch_tcb: Option<MinTcb>,
    /// Minimum COMMITTED_TCB.
    pub min_committed_tcb: Option<MinTcb>,
    /// Minimum CURRENT_TCB.
    pub min_current_tcb: Option<MinTcb>,
    /// Guest POLICY bits.
    pub guest_policy: Option<SnpGuestPolicy>,
    /// PLATFORM_INFO bits.
    pub platform_info: Option<SnpPlatformInfo>,
    /// Bits that must be set in LAUNCH_MIT_VECTOR (report version 5+).
    pub required_launch_mitigations: Option<Mask>,
    /// Bits that must be set in CURRENT_MIT_VECTOR (report version 5+).
    pub required_current_mitigations: Option<Mask>,
}

/// `[tdx.td_attributes]`: TDATTRIBUTES bits other than DEBUG (which is
/// `common.debug_allowed`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TdAttributesPolicy {
    /// SEPT_VE_DISABLE (bit 28) must be set.
    pub sept_ve_disable_required: Option<bool>,
    /// MIGRATABLE (bit 29) may be set.
    pub migratable_allowed: Option<bool>,
    /// PKS (bit 30) may be set.
    pub pks_allowed: Option<bool>,
    /// KL (bit 31) may be set.
    pub kl_allowed: Option<bool>,
    /// PERFMON (bit 63) may be set.
    pub perfmon_allowed: Option<bool>,
}

/// `[tdx.event_log]`: the CC event log must be supplied and replay to the
/// quote's RTMRs; these lists constrain individual events.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventLogPolicy {
    /// Allowed SHA-384 digests of the kernel image event.
    pub kernel: Option<RefList<L48>>,
    /// Allowed SHA-384 digests of the initrd event.
    pub initrd: Option<RefList<L48>>,
    /// Allowed kernel command lines (exact text; the event's data must be
    /// what its digest measures).
    pub cmdline: Option<NonEmpty<String>>,
    /// Allowed SHA-384 digests of the command-line event.
    pub cmdline_digests: Option<RefList<L48>>,
}

/// `[tdx]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tdx {
    /// Allowed MRTD values.
    pub mrtd: Option<RefList<L48>>,
    /// Allowed RTMR0 values.
    pub rtmr0: Option<RefList<L48>>,
    /// Allowed RTMR1 values.
    pub rtmr1: Option<RefList<L48>>,
    /// Allowed RTMR2 values.
    pub rtmr2: Option<RefList<L48>>,
    /// Allowed RTMR3 values.
    pub rtmr3: Option<RefList<L48>>,
    /// Allowed MRCONFIGID values.
    pub mrconfigid: Option<RefList<L48>>,
    /// Allowed MROWNER values.
    pub mrowner: Option<RefList<L48>>,
    /// Allowed MROWNERCONFIG values.
    pub mrownerconfig: Option<RefList<L48>>,
    /// Allowed MRSEAM values (TDX module builds).
    pub mrseam: Option<RefList<L48>>,
    /// Allowed MRSIGNERSEAM values.
    pub mrsignerseam: Option<RefList<L48>>,
    /// Allowed MRSERVICETD values (TD 1.5 quotes).
    pub mrservicetd: Option<RefList<L48>>,
    /// Allowed XFAM values.
    pub xfam: Option<RefList<L8>>,
    /// Allowed VMIDs (TD 1.5 extended bodies). Default: 0 only, because a
    /// TD VM (VMID 1–3) of a partitioned TD reports the L1 TD's MRTD and
    /// RTMRs, not its own launch. A quote without the extended body
    /// reports no VMID and counts as VMID 0.
    pub vmids: Option<NonEmpty<Vmid>>,
    /// Allowed INIT_SERVTD_HASH values (TD 1.5 extended bodies only).
    pub init_servicetd_hashes: Option<RefList<L48>>,
    /// Allowed INIT_SERVTD_ATTR values (TD 1.5 extended bodies only).
    pub init_servicetd_attributes: Option<RefList<L8>>,
    /// Allowed CUR_SERVTD_HASH values (TD 1.5 extended bodies only).
    pub cur_servicetd_hashes: Option<RefList<L48>>,
    /// Allowed CUR_SERVTD_ATTR values (TD 1.5 extended bodies only).
    pub cur_servicetd_attributes: Option<RefList<L8>>,
    /// TDATTRIBUTES bits.
    pub td_attributes: Option<TdAttributesPolicy>,
    /// Minimum TEE_TCB_SVN, compared component by component.
    pub min_tee_tcb_svn: Option<HexBytes<L16>>,
    /// Allowed converged TCB statuses. Default: UpToDate only.
    pub tcb_statuses: Option<NonEmpty<AllowedStatus>>,
    /// Advisory IDs (INTEL-SA-…) that refuse a quote whose TCB level lists them.
    pub refused_advisories: Option<NonEmpty<String>>,
    /// Minimum tcbEvaluationDataNumber of the TCB Info used.
    pub min_tcb_evaluation_data_number: Option<u32>,
    /// Maximum age of the collateral (time since its latest issue date).
    pub max_collateral_age: Option<Duration>,
    /// Event-log rules.
    pub event_log: Option<EventLogPolicy>,
}

/// One allowed CCA platform software component.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwComponentPolicy {
    /// The component type ("BL", "RMM", …); any when absent.
    #[serde(rename = "type")]
    pub component_type: Option<String>,
    /// The measurement value.
    pub measurement: HexBytes<LDigest>,
    /// The signer id; any when absent.
    pub signer_id: Option<HexBytes<LDigest>>,
    /// The version string; any when absent.
    pub version: Option<String>,
    /// From when this component is no longer accepted.
    pub expires: Option<Expiry>,
    /// What it is.
    pub note: Option<String>,
}

/// `[cca]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cca {
    /// Allowed realm initial measurements.
    pub rim: Option<RefList<LDigest>>,
    /// Allowed REM0 values.
    pub rem0: Option<RefList<LDigest>>,
    /// Allowed REM1 values.
    pub rem1: Option<RefList<LDigest>>,
    /// Allowed REM2 values.
    pub rem2: Option<RefList<LDigest>>,
    /// Allowed REM3 values.
    pub rem3: Option<RefList<LDigest>>,
    /// Allowed realm personalization values.
    pub personalization_values: Option<RefList<L64>>,
    /// Allowed platform lifecycle states. Default: secured only.
    pub lifecycles: Option<NonEmpty<String>>,
    /// Allowed platform implementation ids.
    pub implementation_ids: Option<RefList<LAny>>,
    /// Allowed platform configuration values.
    pub platform_configs: Option<RefList<LAny>>,
    /// Allowed platform software components: every reported component
    /// must match one entry.
    pub sw_components: Option<NonEmpty<SwComponentPolicy>>,
    /// Whether a platform key that is a published test key (accepted by
    /// verification only with --allow-test-keys) may be accepted. Default
    /// false: anyone can sign with a test key.
    pub allow_test_keys: Option<bool>,
}

/// A reference-value file (included by `[policy] include`, and what
/// `cogito measure --format policy` prints).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefValueFile {
    /// Default expiry of every value in the file.
    pub expires: Option<Expiry>,
    /// Default note.
    pub note: Option<String>,
    /// SNP values.
    pub snp: Option<toml::Spanned<SnpRefs>>,
    /// TDX values.
    pub tdx: Option<toml::Spanned<TdxRefs>>,
    /// CCA values.
    pub cca: Option<toml::Spanned<CcaRefs>>,
}

/// `[snp]` of a reference-value file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnpRefs {
    /// See [`Snp::measurements`].
    pub measurements: Option<RefList<L48>>,
    /// See [`Snp::host_data`].
    pub host_data: Option<RefList<L32>>,
    /// See [`Snp::family_ids`].
    pub family_ids: Option<RefList<L16>>,
    /// See [`Snp::image_ids`].
    pub image_ids: Option<RefList<L16>>,
    /// See [`Snp::id_key_digests`].
    pub id_key_digests: Option<RefList<L48>>,
    /// See [`Snp::author_key_digests`].
    pub author_key_digests: Option<RefList<L48>>,
}

/// `[tdx]` of a reference-value file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TdxRefs {
    /// See [`Tdx::mrtd`].
    pub mrtd: Option<RefList<L48>>,
    /// See [`Tdx::rtmr0`].
    pub rtmr0: Option<RefList<L48>>,
    /// See [`Tdx::rtmr1`].
    pub rtmr1: Option<RefList<L48>>,
    /// See [`Tdx::rtmr2`].
    pub rtmr2: Option<RefList<L48>>,
    /// See [`Tdx::rtmr3`].
    pub rtmr3: Option<RefList<L48>>,
    /// See [`Tdx::mrconfigid`].
    pub mrconfigid: Option<RefList<L48>>,
    /// See [`Tdx::mrowner`].
    pub mrowner: Option<RefList<L48>>,
    /// See [`Tdx::mrownerconfig`].
    pub mrownerconfig: Option<RefList<L48>>,
    /// See [`Tdx::mrseam`].
    pub mrseam: Option<RefList<L48>>,
    /// See [`Tdx::mrsignerseam`].
    pub mrsignerseam: Option<RefList<L48>>,
    /// See [`Tdx::mrservicetd`].
    pub mrservicetd: Option<RefList<L48>>,
    /// See [`Tdx::xfam`].
    pub xfam: Option<RefList<L8>>,
    /// See [`Tdx::init_servicetd_hashes`].
    pub init_servicetd_hashes: Option<RefList<L48>>,
    /// See [`Tdx::init_servicetd_attributes`].
    pub init_servicetd_attributes: Option<RefList<L8>>,
    /// See [`Tdx::cur_servicetd_hashes`].
    pub cur_servicetd_hashes: Option<RefList<L48>>,
    /// See [`Tdx::cur_servicetd_attributes`].
    pub cur_servicetd_attributes: Option<RefList<L8>>,
    /// See [`Tdx::event_log`]: the digest lists only.
    pub event_log: Option<EventLogRefs>,
}

/// `[tdx.event_log]` of a reference-value file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventLogRefs {
    /// See [`EventLogPolicy::kernel`].
    pub kernel: Option<RefList<L48>>,
    /// See [`EventLogPolicy::initrd`].
    pub initrd: Option<RefList<L48>>,
    /// See [`EventLogPolicy::cmdline_digests`].
    pub cmdline_digests: Option<RefList<L48>>,
}

/// `[cca]` of a reference-value file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CcaRefs {
    /// See [`Cca::rim`].
    pub rim: Option<RefList<LDigest>>,
    /// See [`Cca::rem0`].
    pub rem0: Option<RefList<LDigest>>,
    /// See [`Cca::rem1`].
    pub rem1: Option<RefList<LDigest>>,
    /// See [`Cca::rem2`].
    pub rem2: Option<RefList<LDigest>>,
    /// See [`Cca::rem3`].
    pub rem3: Option<RefList<LDigest>>,
    /// See [`Cca::personalization_values`].
    pub personalization_values: Option<RefList<L64>>,
    /// See [`Cca::implementation_ids`].
    pub implementation_ids: Option<RefList<LAny>>,
    /// See [`Cca::platform_configs`].
    pub platform_configs: Option<RefList<LAny>>,
    /// See [`Cca::sw_components`].
    pub sw_components: Option<NonEmpty<SwComponentPolicy>>,
}
