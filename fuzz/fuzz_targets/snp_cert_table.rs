//! `cogito_snp::parse_cert_table` and `Collateral::add_certificate_table`
//! on arbitrary bytes (the table comes from the untrusted host), plus the
//! certificate and VCEK-extension parsers on every entry it yields.
#![no_main]

use cogito_snp::cert::parse_certificate;
use cogito_snp::{parse_cert_table, Collateral, VcekExtensions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = parse_cert_table(data);
    let mut collateral = Collateral::default();
    let added = collateral.add_certificate_table(data);
    // Both entry points must agree on what is a valid table.
    assert_eq!(parsed.is_ok(), added.is_ok());

    let Ok(entries) = parsed else {
        return;
    };
    for entry in &entries {
        // Every entry lies inside the buffer.
        let start = entry.data.as_ptr() as usize - data.as_ptr() as usize;
        assert!(start + entry.data.len() <= data.len());
        if let Ok(cert) = parse_certificate(entry.data, "fuzz") {
            let _ = VcekExtensions::parse(&cert, "VCEK");
        }
    }
});
