//! Signed DCAP collateral, byte-exact like Intel PCS v4 bodies:
//! `{"tcbInfo":<object>,"signature":"<hex r‖s>"}` and
//! `{"enclaveIdentity":<object>,"signature":"<hex r‖s>"}`.
//!
//! The object text is written once, in Intel's field order and without
//! whitespace, signed as those exact bytes (ECDSA P-256 / SHA-256 by the
//! TCB Signing key) and spliced into the body unchanged, so a verifier
//! must check the signature over the raw bytes, never a re-serialisation.

use std::fmt::Write as _;

use super::pki::P256Key;

/// A TCB status as Intel spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TcbStatus {
    /// UpToDate.
    UpToDate,
    /// SWHardeningNeeded.
    SwHardeningNeeded,
    /// ConfigurationNeeded.
    ConfigurationNeeded,
    /// ConfigurationAndSWHardeningNeeded.
    ConfigurationAndSwHardeningNeeded,
    /// OutOfDate.
    OutOfDate,
    /// OutOfDateConfigurationNeeded.
    OutOfDateConfigurationNeeded,
    /// Revoked.
    Revoked,
    /// TDRelaunchAdvised.
    TdRelaunchAdvised,
    /// TDRelaunchAdvisedConfigurationNeeded.
    TdRelaunchAdvisedConfigurationNeeded,
}

impl TcbStatus {
    /// Every status, in the order above.
    pub const ALL: [TcbStatus; 9] = [
        TcbStatus::UpToDate,
        TcbStatus::SwHardeningNeeded,
        TcbStatus::ConfigurationNeeded,
        TcbStatus::ConfigurationAndSwHardeningNeeded,
        TcbStatus::OutOfDate,
        TcbStatus::OutOfDateConfigurationNeeded,
        TcbStatus::Revoked,
        TcbStatus::TdRelaunchAdvised,
        TcbStatus::TdRelaunchAdvisedConfigurationNeeded,
    ];

    /// Intel's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TcbStatus::UpToDate => "UpToDate",
            TcbStatus::SwHardeningNeeded => "SWHardeningNeeded",
            TcbStatus::ConfigurationNeeded => "ConfigurationNeeded",
            TcbStatus::ConfigurationAndSwHardeningNeeded => "ConfigurationAndSWHardeningNeeded",
            TcbStatus::OutOfDate => "OutOfDate",
            TcbStatus::OutOfDateConfigurationNeeded => "OutOfDateConfigurationNeeded",
            TcbStatus::Revoked => "Revoked",
            TcbStatus::TdRelaunchAdvised => "TDRelaunchAdvised",
            TcbStatus::TdRelaunchAdvisedConfigurationNeeded => {
                "TDRelaunchAdvisedConfigurationNeeded"
            }
        }
    }

    /// The platform status after a TDX module or QE status `other` is
    /// folded in (the rule the manifest states):
    /// `other` OutOfDate turns UpToDate / SWHardeningNeeded into OutOfDate
    /// and ConfigurationNeeded / ConfigurationAndSWHardeningNeeded into
    /// OutOfDateConfigurationNeeded; `other` Revoked gives Revoked; any
    /// other `other` leaves the status as it is.
    pub fn converge(self, other: TcbStatus) -> TcbStatus {
        use TcbStatus::*;
        match (other, self) {
            (Revoked, _) => Revoked,
            (OutOfDate, UpToDate | SwHardeningNeeded) => OutOfDate,
            (OutOfDate, ConfigurationNeeded | ConfigurationAndSwHardeningNeeded) => {
                OutOfDateConfigurationNeeded
            }
            _ => self,
        }
    }
}

/// Upper-case hex, as Intel writes it in collateral.
pub fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Lower-case hex (the `signature` field).
pub fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A JSON string (the testkit only writes ASCII without escapes).
fn js(s: &str) -> String {
    assert!(
        s.bytes().all(|b| b.is_ascii_graphic() || b == b' ') && !s.contains(['"', '\\']),
        "collateral strings are plain ASCII"
    );
    format!("\"{s}\"")
}

fn advisories_json(ids: &[String]) -> String {
    let items: Vec<String> = ids.iter().map(|a| js(a)).collect();
    format!(",\"advisoryIDs\":[{}]", items.join(","))
}

/// A `tcbLevels` entry of a TDX module identity or the QE Identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IsvsvnLevel {
    /// `tcb.isvsvn`.
    pub isvsvn: u16,
    /// `tcbDate`.
    pub tcb_date: String,
    /// `tcbStatus`.
    pub status: TcbStatus,
    /// `advisoryIDs`, written only when not empty.
    pub advisory_ids: Vec<String>,
}

impl IsvsvnLevel {
    /// A level without advisories.
    pub fn new(isvsvn: u16, tcb_date: &str, status: TcbStatus) -> IsvsvnLevel {
        IsvsvnLevel {
            isvsvn,
            tcb_date: tcb_date.to_string(),
            status,
            advisory_ids: Vec::new(),
        }
    }

    /// The same level with advisories.
    pub fn with_advisories(mut self, ids: &[&str]) -> IsvsvnLevel {
        self.advisory_ids = ids.iter().map(|s| s.to_string()).collect();
        self
    }

    fn json(&self) -> String {
        let mut s = format!(
            "{{\"tcb\":{{\"isvsvn\":{}}},\"tcbDate\":{},\"tcbStatus\":{}",
            self.isvsvn,
            js(&self.tcb_date),
            js(self.status.as_str())
        );
        if !self.advisory_ids.is_empty() {
            s.push_str(&advisories_json(&self.advisory_ids));
        }
        s.push('}');
        s
    }
}

fn levels_json(levels: &[IsvsvnLevel]) -> String {
    let items: Vec<String> = levels.iter().map(IsvsvnLevel::json).collect();
    format!("[{}]", items.join(","))
}

/// One `tdxModuleIdentities` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleIdentity {
    /// `TDX_%02X` of TEE_TCB_SVN[1].
    pub id: String,
    /// mrsigner, 48 bytes.
    pub mrsigner: [u8; 48],
    /// attributes, 8 bytes.
    pub attributes: [u8; 8],
    /// attributesMask, 8 bytes.
    pub attributes_mask: [u8; 8],
    /// tcbLevels, highest first.
    pub tcb_levels: Vec<IsvsvnLevel>,
}

/// The `tdxModule` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TdxModule {
    /// mrsigner, 48 bytes.
    pub mrsigner: [u8; 48],
    /// attributes, 8 bytes.
    pub attributes: [u8; 8],
    /// attributesMask, 8 bytes.
    pub attributes_mask: [u8; 8],
}

/// Intel's descriptions of the TCB components, where it gives one:
/// (category, type) per index of sgxtcbcomponents.
const SGX_COMPONENT_NAMES: [(Option<&str>, Option<&str>); 16] = [
    (Some("BIOS"), Some("Early Microcode Update")),
    (Some("OS/VMM"), Some("SGX Late Microcode Update")),
    (Some("OS/VMM"), Some("TXT SINIT")),
    (Some("BIOS"), None),
    (Some("BIOS"), None),
    (Some("BIOS"), None),
    (None, None),
    (Some("OS/VMM"), Some("SEAMLDR ACM")),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
];

/// The same for tdxtcbcomponents.
const TDX_COMPONENT_NAMES: [(Option<&str>, Option<&str>); 16] = [
    (Some("OS/VMM"), Some("TDX Module")),
    (Some("OS/VMM"), Some("TDX Module")),
    (Some("OS/VMM"), Some("TDX Late Microcode Update")),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
    (None, None),
];

fn components_json(svns: &[u8; 16], names: &[(Option<&str>, Option<&str>); 16]) -> String {
    let items: Vec<String> = svns
        .iter()
        .zip(names)
        .map(|(svn, (category, ty))| {
            let mut s = format!("{{\"svn\":{svn}");
            if let Some(c) = category {
                let _ = write!(s, ",\"category\":{}", js(c));
            }
            if let Some(t) = ty {
                let _ = write!(s, ",\"type\":{}", js(t));
            }
            s.push('}');
            s
        })
        .collect();
    format!("[{}]", items.join(","))
}

/// A platform `tcbLevels` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformLevel {
    /// sgxtcbcomponents[].svn.
    pub sgx_components: [u8; 16],
    /// pcesvn.
    pub pcesvn: u16,
    /// tdxtcbcomponents[].svn.
    pub tdx_components: [u8; 16],
    /// tcbDate.
    pub tcb_date: String,
    /// tcbStatus.
    pub status: TcbStatus,
    /// advisoryIDs, written only when not empty.
    pub advisory_ids: Vec<String>,
}

impl PlatformLevel {
    fn json(&self) -> String {
        let mut s = format!(
            "{{\"tcb\":{{\"sgxtcbcomponents\":{},\"pcesvn\":{},\"tdxtcbcomponents\":{}}},\"tcbDate\":{},\"tcbStatus\":{}",
            components_json(&self.sgx_components, &SGX_COMPONENT_NAMES),
            self.pcesvn,
            components_json(&self.tdx_components, &TDX_COMPONENT_NAMES),
            js(&self.tcb_date),
            js(self.status.as_str())
        );
        if !self.advisory_ids.is_empty() {
            s.push_str(&advisories_json(&self.advisory_ids));
        }
        s.push('}');
        s
    }
}

/// TCB Info v3 for TDX (`id` "TDX").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcbInfo {
    /// `id` (Intel: "TDX").
    pub id: String,
    /// `version` (3).
    pub version: u32,
    /// issueDate (RFC 3339, `Z`).
    pub issue_date: String,
    /// nextUpdate.
    pub next_update: String,
    /// fmspc, 6 bytes.
    pub fmspc: [u8; 6],
    /// pceId, 2 bytes.
    pub pce_id: [u8; 2],
    /// tcbType (0).
    pub tcb_type: u32,
    /// tcbEvaluationDataNumber.
    pub tcb_evaluation_data_number: u32,
    /// tdxModule.
    pub tdx_module: TdxModule,
    /// tdxModuleIdentities (Intel lists TDX_03 before TDX_01).
    pub tdx_module_identities: Vec<ModuleIdentity>,
    /// tcbLevels, highest first.
    pub tcb_levels: Vec<PlatformLevel>,
}

impl TcbInfo {
    /// The `tcbInfo` object text, exactly as signed.
    pub fn object_json(&self) -> String {
        let module = &self.tdx_module;
        let identities: Vec<String> = self
            .tdx_module_identities
            .iter()
            .map(|m| {
                format!(
                    "{{\"id\":{},\"mrsigner\":{},\"attributes\":{},\"attributesMask\":{},\"tcbLevels\":{}}}",
                    js(&m.id),
                    js(&hex_upper(&m.mrsigner)),
                    js(&hex_upper(&m.attributes)),
                    js(&hex_upper(&m.attributes_mask)),
                    levels_json(&m.tcb_levels)
                )
            })
            .collect();
        let levels: Vec<String> = self.tcb_levels.iter().map(PlatformLevel::json).collect();
        format!(
            "{{\"id\":{},\"version\":{},\"issueDate\":{},\"nextUpdate\":{},\"fmspc\":{},\"pceId\":{},\"tcbType\":{},\"tcbEvaluationDataNumber\":{},\"tdxModule\":{{\"mrsigner\":{},\"attributes\":{},\"attributesMask\":{}}},\"tdxModuleIdentities\":[{}],\"tcbLevels\":[{}]}}",
            js(&self.id),
            self.version,
            js(&self.issue_date),
            js(&self.next_update),
            js(&hex_upper(&self.fmspc)),
            js(&hex_upper(&self.pce_id)),
            self.tcb_type,
            self.tcb_evaluation_data_number,
            js(&hex_upper(&module.mrsigner)),
            js(&hex_upper(&module.attributes)),
            js(&hex_upper(&module.attributes_mask)),
            identities.join(","),
            levels.join(",")
        )
    }

    /// `tcb_info.json`: the object signed by `key`.
    pub fn signed_body(&self, key: &P256Key) -> Vec<u8> {
        splice("tcbInfo", &self.object_json(), key)
    }
}

/// QE Identity v2 (`id` "TD_QE").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QeIdentity {
    /// `id`.
    pub id: String,
    /// `version` (2).
    pub version: u32,
    /// issueDate.
    pub issue_date: String,
    /// nextUpdate.
    pub next_update: String,
    /// tcbEvaluationDataNumber.
    pub tcb_evaluation_data_number: u32,
    /// miscselect.
    pub miscselect: [u8; 4],
    /// miscselectMask.
    pub miscselect_mask: [u8; 4],
    /// attributes.
    pub attributes: [u8; 16],
    /// attributesMask.
    pub attributes_mask: [u8; 16],
    /// mrsigner.
    pub mrsigner: [u8; 32],
    /// isvprodid.
    pub isvprodid: u16,
    /// tcbLevels, highest first.
    pub tcb_levels: Vec<IsvsvnLevel>,
}

impl QeIdentity {
    /// The `enclaveIdentity` object text, exactly as signed.
    pub fn object_json(&self) -> String {
        format!(
            "{{\"id\":{},\"version\":{},\"issueDate\":{},\"nextUpdate\":{},\"tcbEvaluationDataNumber\":{},\"miscselect\":{},\"miscselectMask\":{},\"attributes\":{},\"attributesMask\":{},\"mrsigner\":{},\"isvprodid\":{},\"tcbLevels\":{}}}",
            js(&self.id),
            self.version,
            js(&self.issue_date),
            js(&self.next_update),
            self.tcb_evaluation_data_number,
            js(&hex_upper(&self.miscselect)),
            js(&hex_upper(&self.miscselect_mask)),
            js(&hex_upper(&self.attributes)),
            js(&hex_upper(&self.attributes_mask)),
            js(&hex_upper(&self.mrsigner)),
            self.isvprodid,
            levels_json(&self.tcb_levels)
        )
    }

    /// `qe_identity.json`: the object signed by `key`.
    pub fn signed_body(&self, key: &P256Key) -> Vec<u8> {
        splice("enclaveIdentity", &self.object_json(), key)
    }
}

/// `{"<field>":<object>,"signature":"<hex>"}` with the signature over the
/// object's exact bytes.
pub fn splice(field: &str, object: &str, key: &P256Key) -> Vec<u8> {
    let sig = key.sign_raw(object.as_bytes());
    format!(
        "{{\"{field}\":{object},\"signature\":\"{}\"}}",
        hex_lower(&sig)
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use TcbStatus::*;

    #[test]
    fn convergence_rule() {
        assert_eq!(UpToDate.converge(UpToDate), UpToDate);
        assert_eq!(UpToDate.converge(OutOfDate), OutOfDate);
        assert_eq!(SwHardeningNeeded.converge(OutOfDate), OutOfDate);
        assert_eq!(
            ConfigurationNeeded.converge(OutOfDate),
            OutOfDateConfigurationNeeded
        );
        assert_eq!(
            ConfigurationAndSwHardeningNeeded.converge(OutOfDate),
            OutOfDateConfigurationNeeded
        );
        assert_eq!(ConfigurationNeeded.converge(Revoked), Revoked);
        assert_eq!(SwHardeningNeeded.converge(UpToDate), SwHardeningNeeded);
    }

    /// The real QE Identity of the dcap-qvl sample, rebuilt from its
    /// values, gives the same object text byte for byte.
    #[test]
    fn qe_identity_text_matches_intel() {
        let real = r#"{"id":"TD_QE","version":2,"issueDate":"2025-06-19T10:32:27Z","nextUpdate":"2025-07-19T10:32:27Z","tcbEvaluationDataNumber":17,"miscselect":"00000000","miscselectMask":"FFFFFFFF","attributes":"11000000000000000000000000000000","attributesMask":"FBFFFFFFFFFFFFFF0000000000000000","mrsigner":"DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5","isvprodid":2,"tcbLevels":[{"tcb":{"isvsvn":4},"tcbDate":"2024-03-13T00:00:00Z","tcbStatus":"UpToDate"}]}"#;
        let mut attributes = [0u8; 16];
        attributes[0] = 0x11;
        let mut mask = [0u8; 16];
        mask[..8].copy_from_slice(&[0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        let mrsigner: Vec<u8> = (0..32)
            .map(|i| {
                u8::from_str_radix(
                    &"DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5"
                        [2 * i..2 * i + 2],
                    16,
                )
                .unwrap()
            })
            .collect();
        let qe = QeIdentity {
            id: "TD_QE".into(),
            version: 2,
            issue_date: "2025-06-19T10:32:27Z".into(),
            next_update: "2025-07-19T10:32:27Z".into(),
            tcb_evaluation_data_number: 17,
            miscselect: [0; 4],
            miscselect_mask: [0xff; 4],
            attributes,
            attributes_mask: mask,
            mrsigner: mrsigner.try_into().unwrap(),
            isvprodid: 2,
            tcb_levels: vec![IsvsvnLevel::new(4, "2024-03-13T00:00:00Z", UpToDate)],
        };
        assert_eq!(qe.object_json(), real);
    }

    /// One platform level of the real TCB Info, same text.
    #[test]
    fn platform_level_text_matches_intel() {
        let real = r#"{"tcb":{"sgxtcbcomponents":[{"svn":2,"category":"BIOS","type":"Early Microcode Update"},{"svn":2,"category":"OS/VMM","type":"SGX Late Microcode Update"},{"svn":2,"category":"OS/VMM","type":"TXT SINIT"},{"svn":2,"category":"BIOS"},{"svn":3,"category":"BIOS"},{"svn":1,"category":"BIOS"},{"svn":0},{"svn":5,"category":"OS/VMM","type":"SEAMLDR ACM"},{"svn":0},{"svn":0},{"svn":0},{"svn":0},{"svn":0},{"svn":0},{"svn":0},{"svn":0}],"pcesvn":11,"tdxtcbcomponents":[{"svn":5,"category":"OS/VMM","type":"TDX Module"},{"svn":0,"category":"OS/VMM","type":"TDX Module"},{"svn":2,"category":"OS/VMM","type":"TDX Late Microcode Update"},{"svn":0},{"svn":0},{"svn":0},{"svn":0},{"svn":0},{"svn":0},{"svn":0},{"svn":0},{"svn":0},{"svn":0},{"svn":0},{"svn":0},{"svn":0}]},"tcbDate":"2024-03-13T00:00:00Z","tcbStatus":"UpToDate"}"#;
        let level = PlatformLevel {
            sgx_components: [2, 2, 2, 2, 3, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0],
            pcesvn: 11,
            tdx_components: [5, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            tcb_date: "2024-03-13T00:00:00Z".into(),
            status: UpToDate,
            advisory_ids: vec![],
        };
        assert_eq!(level.json(), real);
    }
}
