//! `cogito_snp::Report::parse` on arbitrary bytes; whatever parses is then
//! asked for its collateral and mapped into claims for every product line,
//! since those paths read parsed-but-unverified fields.
#![no_main]

use cogito_core::AmdProduct;
use cogito_snp::claims::{normalized, ReportClaims};
use cogito_snp::{Report, REPORT_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(report) = Report::parse(data) else {
        return;
    };
    // Only an exact-length report may parse, and it must keep the bytes.
    assert_eq!(data.len(), REPORT_LEN);
    assert_eq!(&report.raw[..], data);
    assert_eq!(report.signed_bytes(), &data[..0x2A0]);

    let _ = report.collateral_needed(None);
    let _ = report.product_from_cpuid();
    for product in AmdProduct::ALL {
        let _ = report.collateral_needed(Some(product));
        let _ = ReportClaims::new(&report, product);
        let _ = report.reported_tcb.reserved_is_zero(product);
    }
    let _ = normalized(&report, false);
});
