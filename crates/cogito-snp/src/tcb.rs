//! TCB_VERSION: the security patch levels of the platform's firmware.
//!
//! The 8-byte layout depends on the product line, never on the report
//! version (SEV-SNP ABI spec, "TCB_VERSION"):
//!
//! | byte | Milan / Genoa | Turin |
//! |------|---------------|-------|
//! | 0    | BOOT_LOADER   | FMC   |
//! | 1    | TEE           | BOOT_LOADER |
//! | 2    | reserved      | TEE   |
//! | 3    | reserved      | SNP   |
//! | 4–5  | reserved      | reserved |
//! | 6    | SNP           | reserved |
//! | 7    | MICROCODE     | MICROCODE |

use std::fmt;

use cogito_core::AmdProduct;
use serde::Serialize;

/// A raw 8-byte TCB_VERSION as it appears in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcbVersion(pub [u8; 8]);

/// A TCB_VERSION decoded with a product line's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct TcbParts {
    /// FMC (Turin only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fmc: Option<u8>,
    /// PSP boot loader SPL.
    pub bootloader: u8,
    /// PSP OS (TEE) SPL.
    pub tee: u8,
    /// SNP firmware SPL.
    pub snp: u8,
    /// Microcode patch level.
    pub microcode: u8,
}

impl TcbVersion {
    /// The raw bytes as lower-case hex, in report byte order.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Decodes with the layout of `product`.
    pub fn decode(&self, product: AmdProduct) -> TcbParts {
        let b = self.0;
        match product {
            AmdProduct::Milan | AmdProduct::Genoa => TcbParts {
                fmc: None,
                bootloader: b[0],
                tee: b[1],
                snp: b[6],
                microcode: b[7],
            },
            AmdProduct::Turin => TcbParts {
                fmc: Some(b[0]),
                bootloader: b[1],
                tee: b[2],
                snp: b[3],
                microcode: b[7],
            },
        }
    }

    /// Whether the bytes that are reserved in `product`'s layout are zero.
    pub fn reserved_is_zero(&self, product: AmdProduct) -> bool {
        let b = self.0;
        match product {
            AmdProduct::Milan | AmdProduct::Genoa => b[2..6].iter().all(|x| *x == 0),
            AmdProduct::Turin => b[4..7].iter().all(|x| *x == 0),
        }
    }
}

impl TcbParts {
    /// The components as (name, value) pairs, FMC first when present.
    pub fn components(&self) -> Vec<(&'static str, u8)> {
        let mut v = Vec::with_capacity(5);
        if let Some(f) = self.fmc {
            v.push(("fmc", f));
        }
        v.extend([
            ("bootloader", self.bootloader),
            ("tee", self.tee),
            ("snp", self.snp),
            ("microcode", self.microcode),
        ]);
        v
    }

    /// Component-wise `self <= other`: every SPL of `self` is at most the
    /// corresponding SPL of `other`. Returns the first component that is
    /// higher, if any.
    pub fn first_component_above(&self, other: &TcbParts) -> Option<(&'static str, u8, u8)> {
        let o = other.components();
        self.components()
            .into_iter()
            .zip(o)
            .find(|((_, a), (_, b))| a > b)
            .map(|((name, a), (_, b))| (name, a, b))
    }
}

impl fmt::Display for TcbParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(fmc) = self.fmc {
            write!(f, "fmc={fmc} ")?;
        }
        write!(
            f,
            "bl={} tee={} snp={} ucode={}",
            self.bootloader, self.tee, self.snp, self.microcode
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milan_layout() {
        // snp-milan-v2-virtee REPORTED_TCB.
        let t = TcbVersion([0x03, 0, 0, 0, 0, 0, 0x08, 0x73]);
        let p = t.decode(AmdProduct::Milan);
        assert_eq!(
            (p.fmc, p.bootloader, p.tee, p.snp, p.microcode),
            (None, 3, 0, 8, 115)
        );
        assert!(t.reserved_is_zero(AmdProduct::Milan));
    }

    #[test]
    fn turin_layout_has_fmc_in_byte_0() {
        // snp-turin-v5-openanolis REPORTED_TCB 0103020500000061.
        let t = TcbVersion([0x01, 0x03, 0x02, 0x05, 0, 0, 0, 0x61]);
        let p = t.decode(AmdProduct::Turin);
        assert_eq!(
            (p.fmc, p.bootloader, p.tee, p.snp, p.microcode),
            (Some(1), 3, 2, 5, 97)
        );
        // The same bytes read with the Milan layout would be wrong: the
        // layout is chosen by product, not by report version.
        assert!(!t.reserved_is_zero(AmdProduct::Milan));
    }

    #[test]
    fn component_ordering() {
        let low = TcbVersion([3, 0, 0, 0, 0, 0, 8, 0x73]).decode(AmdProduct::Milan);
        let high = TcbVersion([3, 0, 0, 0, 0, 0, 8, 0xce]).decode(AmdProduct::Milan);
        assert_eq!(low.first_component_above(&high), None);
        assert_eq!(
            high.first_component_above(&low),
            Some(("microcode", 0xce, 0x73))
        );
    }
}
