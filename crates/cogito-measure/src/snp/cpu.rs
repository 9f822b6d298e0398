//! vCPU types and their CPUID signatures.
//!
//! The signature is CPUID Fn0000_0001_EAX (AMD CPUID Specification 25481):
//! stepping in 3:0, base model 7:4, base family 11:8 (0xF when extended),
//! extended model 19:16, extended family 27:20. QEMU puts it in RDX of the
//! initial VMSA. The named types are those QEMU's `builtin_x86_defs`
//! declares, with the family/model/stepping QEMU gives them.

use crate::MeasureError;

/// The CPUID signature for a family, model and stepping.
pub fn cpu_sig(family: u32, model: u32, stepping: u32) -> u32 {
    let (fam_lo, fam_hi) = if family > 0xf {
        (0xf, (family - 0xf) & 0xff)
    } else {
        (family, 0)
    };
    (fam_hi << 20)
        | (((model >> 4) & 0xf) << 16)
        | (fam_lo << 8)
        | ((model & 0xf) << 4)
        | (stepping & 0xf)
}

/// (name, family, model, stepping), QEMU's names first.
const TYPES: &[(&str, u32, u32, u32)] = &[
    ("EPYC", 23, 1, 2),
    ("EPYC-v1", 23, 1, 2),
    ("EPYC-v2", 23, 1, 2),
    ("EPYC-IBPB", 23, 1, 2),
    ("EPYC-v3", 23, 1, 2),
    ("EPYC-v4", 23, 1, 2),
    ("EPYC-Rome", 23, 49, 0),
    ("EPYC-Rome-v1", 23, 49, 0),
    ("EPYC-Rome-v2", 23, 49, 0),
    ("EPYC-Rome-v3", 23, 49, 0),
    ("EPYC-Milan", 25, 1, 1),
    ("EPYC-Milan-v1", 25, 1, 1),
    ("EPYC-Milan-v2", 25, 1, 1),
    ("EPYC-Genoa", 25, 17, 0),
    ("EPYC-Genoa-v1", 25, 17, 0),
    ("EPYC-Turin", 26, 0, 0),
];

/// Friendly aliases (case-insensitive) for the usual product names.
const ALIASES: &[(&str, &str)] = &[
    ("rome", "EPYC-Rome"),
    ("milan", "EPYC-Milan"),
    ("genoa", "EPYC-Genoa"),
    ("turin", "EPYC-Turin"),
];

/// The names accepted by [`vcpu_type_sig`], QEMU's first, then aliases.
pub fn vcpu_type_names() -> impl Iterator<Item = &'static str> {
    TYPES.iter().map(|t| t.0).chain(ALIASES.iter().map(|a| a.0))
}

/// The CPUID signature of a named vCPU type (QEMU's exact names, or
/// `rome`, `milan`, `genoa`, `turin` in any case).
pub fn vcpu_type_sig(name: &str) -> Result<u32, MeasureError> {
    let canonical = ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
        .map_or(name, |(_, qemu)| qemu);
    TYPES
        .iter()
        .find(|t| t.0 == canonical)
        .map(|&(_, f, m, s)| cpu_sig(f, m, s))
        .ok_or_else(|| MeasureError::InvalidOption {
            input: "vcpu_type",
            reason: format!(
                "unknown vCPU type {name:?}; known: {}",
                vcpu_type_names().collect::<Vec<_>>().join(", ")
            ),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_the_published_cpuid_values() {
        // CPUID 1 EAX as these parts report it.
        assert_eq!(vcpu_type_sig("EPYC-v4").unwrap(), 0x0080_0F12);
        assert_eq!(vcpu_type_sig("EPYC-Rome").unwrap(), 0x0083_0F10);
        assert_eq!(vcpu_type_sig("EPYC-Milan").unwrap(), 0x00A0_0F11);
        assert_eq!(vcpu_type_sig("EPYC-Genoa").unwrap(), 0x00A1_0F10);
        assert_eq!(vcpu_type_sig("EPYC-Turin").unwrap(), 0x00B0_0F00);
        assert_eq!(
            vcpu_type_sig("GENOA").unwrap(),
            vcpu_type_sig("EPYC-Genoa").unwrap()
        );
        assert_eq!(cpu_sig(6, 0x8f, 8), 0x0008_06F8);
        assert!(vcpu_type_sig("EPYC-Bergamo").is_err());
        assert!(vcpu_type_sig("epyc-genoa").is_err(), "QEMU names are exact");
    }
}
