//! `cogito_tdx::Quote::parse` on arbitrary bytes. Whatever parses must be
//! a self-consistent v4/v5 TDX quote borrowing the input, must be what
//! `cogito_core::detect` calls a TDX quote, and is then handed to
//! `collateral_request`, which reads the embedded PCK chain and its SGX
//! extensions without verifying anything (untrusted DER on the
//! collateral-fetch path).
#![no_main]

use cogito_core::{detect, Evidence};
use cogito_tdx::{QeReport, HEADER_LEN, TD10_LEN, TD15EX_LEN, TD15_LEN};
use cogito_tdx::{collateral_request, Quote};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(q) = Quote::parse(data) else {
        return;
    };
    assert!(q.version == 4 || q.version == 5);
    assert_eq!((q.att_key_type, q.tee_type), (2, 0x81));
    // The signed bytes are a prefix of the input of the body's exact size.
    let signed_len = match (q.version, q.body_type) {
        (4, 2) => HEADER_LEN + TD10_LEN,
        (5, 2) => HEADER_LEN + 6 + TD10_LEN,
        (5, 3) => HEADER_LEN + 6 + TD15_LEN,
        (5, 4) => HEADER_LEN + 6 + TD15EX_LEN,
        other => panic!("version/body type {other:?} parsed"),
    };
    assert_eq!(q.signed, &data[..signed_len]);
    assert_eq!(q.body.tee_tcb_svn2.is_some(), q.body_type >= 3);
    assert_eq!(q.body.mr_service_td.is_some(), q.body_type >= 3);
    assert_eq!(q.body.ext.is_some(), q.body_type == 4);
    // REPORTDATA sits at body offset 520 whatever the body type.
    let body_at = signed_len - match q.body_type {
        2 => TD10_LEN,
        3 => TD15_LEN,
        _ => TD15EX_LEN,
    };
    assert_eq!(&q.body.report_data[..], &data[body_at + 520..][..64]);
    if let Some(ext) = &q.body.ext {
        assert_eq!(ext.vmid, data[body_at + 648]);
        assert_eq!(&ext.cur_service_td_attributes[..], &data[body_at + 877..body_at + 885]);
    }
    // Borrowed pieces lie inside the input, in order, before the padding.
    let at = |s: &[u8]| s.as_ptr() as usize - data.as_ptr() as usize;
    assert_eq!(q.qe_report_raw.len(), 384);
    assert_eq!(QeReport::parse(q.qe_report_raw).as_ref(), Ok(&q.qe_report));
    assert!(at(q.qe_report_raw) > signed_len);
    assert!(at(q.qe_auth_data) >= at(q.qe_report_raw) + 384 + 64 + 2);
    assert!(q.cert_data.last() != Some(&0));
    assert!(q.trailing_padding <= data.len());
    assert!(data[data.len() - q.trailing_padding..]
        .iter()
        .all(|b| *b == 0));
    if !q.cert_data.is_empty() {
        assert!(at(q.cert_data) + q.cert_data.len() <= data.len() - q.trailing_padding);
    }
    assert!(matches!(detect(data), Ok(Evidence::TdxQuote(_))));
    if let Ok((fmspc, _kind)) = collateral_request(data, None) {
        assert_eq!(q.cert_data_type, 5);
        assert_eq!(fmspc.len(), 6);
    }
    let _ = collateral_request(data, Some(q.cert_data));
});
