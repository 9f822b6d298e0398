//! `cogito_snp::parse_cert_table` and `Collateral::add_certificate_table`
//! on arbitrary bytes (the table comes from the untrusted host), plus the
//! strict PEM decoder and the certificate and VCEK-extension parsers on
//! every entry it yields.
#![no_main]

use cogito_snp::{parse_cert_table, CertTableKind, Collateral, VcekExtensions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = parse_cert_table(data);
    let mut collateral = Collateral::default();
    let added = collateral.add_certificate_table(data);
    // A table that does not parse cannot be added; one that parses can be
    // refused only for a known entry that is PEM but not one strict block.
    if parsed.is_err() {
        assert!(added.is_err());
    }
    if let (Ok(entries), Err(_)) = (&parsed, &added) {
        assert!(entries.iter().any(|e| e.kind != CertTableKind::Other
            && cogito_core::pem::looks_like_pem(e.data)
            && cogito_core::pem::decode_certificate(e.data).is_err()));
    }

    let Ok(entries) = parsed else {
        return;
    };
    for entry in &entries {
        // Every entry lies inside the buffer.
        let start = entry.data.as_ptr() as usize - data.as_ptr() as usize;
        assert!(start + entry.data.len() <= data.len());
        let _ = VcekExtensions::from_certificate(entry.data, "VCEK");
    }
});
