//! `cogito_core::detect` and `cogito_snp::HclReport::parse` on arbitrary
//! bytes; what they recognise is handed to the SNP report parser and the
//! HCL runtime-data binding check, as the CLI does.
#![no_main]

use cogito_core::{detect, Evidence};
use cogito_snp::{HclReport, Report};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match detect(data) {
        Ok(Evidence::SnpReport(report)) => {
            let _ = Report::parse(report);
        }
        Ok(Evidence::AzureHclSnp { report, hcl }) => {
            assert_eq!(hcl, data);
            let _ = Report::parse(report);
        }
        Ok(Evidence::TdxQuote(_) | Evidence::CcaToken(_)) | Err(_) => {}
    }
    if let Ok(hcl) = HclReport::parse(data) {
        if let Ok(report) = Report::parse(hcl.report) {
            let _ = hcl.check_binding(&report.report_data);
        }
        let _ = hcl.check_binding(&[0u8; 64]);
    }
});
