//! Expected measurements: the values a policy should expect, computed from
//! the images a guest boots.
//!
//! * [`snp`]: the AMD SEV-SNP launch digest (the report's MEASUREMENT) of an
//!   OVMF guest, byte-for-byte compatible with `sev-snp-measure --mode snp`.
//! * [`tdx`]: the Intel TDX MRTD of a TDVF image, and RTMR1/RTMR2 of a
//!   direct-boot kernel, initrd and command line.
//!
//! Everything here is sans-I/O: functions take the bytes of the images and
//! return 48-byte digests. The images are untrusted input; malformed ones
//! are refused with a [`MeasureError`] naming what is wrong, never a panic.
//! See docs/measure.md for the algorithms and their sources.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod error;
pub mod ovmf;
pub mod pe;
pub mod snp;
pub mod tdx;

pub use error::MeasureError;
pub use snp::{snp_launch_digest, snp_ovmf_hash, KernelHashesInput, SnpInput, VmmType};

/// The most 4 KiB pages the firmware metadata (SEV sections, or TDVF
/// sections added without PAGE.AUG) may declare in all: 256 MiB. Real OVMF
/// and TDVF builds declare well under 1 MiB; the limit bounds the work a
/// hostile image can cause.
pub const MAX_METADATA_PAGES: u64 = 1 << 16;

/// A SHA-384 digest: the size of every measurement register here.
pub type Digest48 = [u8; 48];
