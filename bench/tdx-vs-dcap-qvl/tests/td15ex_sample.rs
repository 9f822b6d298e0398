//! Cross-check of cogito's TD 1.5 extended (quote v5 body type 4) support
//! against dcap-qvl on dcap-qvl's own published sample
//! (`sample/tdx_quote_td15ex` and its collateral, shipped in the crates.io
//! package): both parse it to the same fields, both verify it UpToDate at
//! the time dcap-qvl's test uses, and both refuse it when any extended field
//! is changed or the descriptor's size is wrong. The sample is read from
//! the cargo registry, never copied here; the test skips with a notice when
//! it is absent.

use cogito_core::{CogitoError, TcbStatus};
use cogito_tdx::{builtin_anchors, verify_quote, Options, Quote, VerifiedCache};
use dcap_qvl::quote::{AuthData, EnclaveReport, Quote as DcapQuote};
use scale::Decode;
use tdx_vs_dcap_qvl::{td15ex_sample, Td15exSample};

/// The sample's values as published (checked here, not assumed).
const QUOTE_LEN: usize = 5247;
const FMSPC: &str = "b0c06f000000";
const TD_ID: &str = "e1f3ee829cb6f039318b8ae3eee622622775f4c9128fee747cb662c624d88b8e";
const TEE_TCB_SVN: &str = "0f010400000000000000000000000000";

/// Body offsets of the extended fields (Intel `sgx_quote_5.h`), with their
/// lengths.
const EXTENDED: [(&str, usize, usize); 10] = [
    ("VMID", 648, 1),
    ("TD_ID", 649, 32),
    ("DEV_INFO", 681, 48),
    ("INIT_SERVTD_HASH", 729, 48),
    ("INIT_SERVTD_ATTR", 777, 8),
    ("INIT_CPUSVN", 785, 16),
    ("INIT_TEE_TCB_SVN", 801, 16),
    ("INIT_TEE_FMSPC", 817, 12),
    ("CUR_SERVTD_HASH", 829, 48),
    ("CUR_SERVTD_ATTR", 877, 8),
];

fn sample() -> Option<Td15exSample> {
    let s = td15ex_sample()?;
    eprintln!("dcap-qvl sample: {}", s.dir.display());
    Some(s)
}

fn cogito_options(s: &Td15exSample, q: &Quote<'_>) -> Options {
    Options {
        // A quote with certification data type 5 carries its PCK chain;
        // another would need the collateral's.
        pck_cert_chain: (q.cert_data_type != 5)
            .then(|| s.dcap.pck_certificate_chain.clone())
            .flatten()
            .map(String::into_bytes),
        ..Options::default()
    }
}

#[test]
fn cogito_parses_every_field_as_dcap_qvl_does() {
    let Some(s) = sample() else { return };
    assert_eq!(s.quote.len(), QUOTE_LEN);
    let c = Quote::parse(&s.quote).expect("cogito parses the sample");
    let d = DcapQuote::parse(&s.quote).expect("dcap-qvl parses the sample");

    // Header, and the v5 descriptor: type 4, 885 bytes.
    let h = &d.header;
    assert_eq!(c.version, h.version);
    assert_eq!(c.version, 5);
    assert_eq!(c.att_key_type, h.attestation_key_type);
    assert_eq!(c.tee_type, h.tee_type);
    assert_eq!(c.qe_svn, h.qe_svn);
    assert_eq!(c.pce_svn, h.pce_svn);
    assert_eq!(c.qe_vendor_id, h.qe_vendor_id);
    assert_eq!(c.user_data, h.user_data);
    assert_eq!(c.body_type, 4);
    assert_eq!(
        &s.quote[48..54],
        &[4, 0, 0x75, 0x03, 0, 0],
        "type 4, size 885"
    );
    assert_eq!(c.signed.len(), d.signed_length());
    assert_eq!(c.signed.len(), 48 + 6 + 885);

    // The TD 1.0 part of the body.
    let de = d
        .report
        .as_td15_ex()
        .expect("dcap-qvl: a TD 1.5 extended report");
    let t = &de.base.base;
    let b = &c.body;
    assert_eq!(b.tee_tcb_svn, t.tee_tcb_svn);
    assert_eq!(b.mr_seam, t.mr_seam);
    assert_eq!(b.mr_signer_seam, t.mr_signer_seam);
    assert_eq!(b.seam_attributes, t.seam_attributes);
    assert_eq!(b.td_attributes, t.td_attributes);
    assert_eq!(b.xfam, t.xfam);
    assert_eq!(b.mr_td, t.mr_td);
    assert_eq!(b.mr_config_id, t.mr_config_id);
    assert_eq!(b.mr_owner, t.mr_owner);
    assert_eq!(b.mr_owner_config, t.mr_owner_config);
    assert_eq!(b.rtmr, [t.rt_mr0, t.rt_mr1, t.rt_mr2, t.rt_mr3]);
    assert_eq!(b.report_data, t.report_data);
    // TD 1.5.
    assert_eq!(b.tee_tcb_svn2, Some(de.base.tee_tcb_svn2));
    assert_eq!(b.mr_service_td, Some(de.base.mr_service_td));
    // The ten extended fields.
    let x = b.ext.as_ref().expect("cogito: the extended fields");
    assert_eq!(x.vmid, de.vmid);
    assert_eq!(x.td_id, de.td_id);
    assert_eq!(x.dev_info, de.dev_info);
    assert_eq!(x.init_service_td_hash, de.init_service_td_hash);
    assert_eq!(x.init_service_td_attributes, de.init_service_td_attributes);
    assert_eq!(x.init_cpu_svn, de.init_cpu_svn);
    assert_eq!(x.init_tee_tcb_svn, de.init_tee_tcb_svn);
    assert_eq!(x.init_tee_fmspc, de.init_tee_fmspc);
    assert_eq!(x.cur_service_td_hash, de.cur_service_td_hash);
    assert_eq!(x.cur_service_td_attributes, de.cur_service_td_attributes);
    // ... and each at its sgx_quote_5.h offset in the raw quote.
    let raw_body = &s.quote[54..54 + 885];
    assert_eq!(raw_body[648], x.vmid);
    for ((name, at, len), field) in EXTENDED.iter().skip(1).zip([
        &x.td_id[..],
        &x.dev_info[..],
        &x.init_service_td_hash[..],
        &x.init_service_td_attributes[..],
        &x.init_cpu_svn[..],
        &x.init_tee_tcb_svn[..],
        &x.init_tee_fmspc[..],
        &x.cur_service_td_hash[..],
        &x.cur_service_td_attributes[..],
    ]) {
        assert_eq!(&raw_body[*at..at + len], field, "{name}");
    }

    // The published values.
    assert_eq!(hex::encode(b.tee_tcb_svn), TEE_TCB_SVN);
    assert_eq!(x.vmid, 0);
    assert_eq!(hex::encode(x.td_id), TD_ID);
    assert!(
        raw_body[681..].iter().all(|v| *v == 0),
        "DEV_INFO through CUR_SERVTD_ATTR are zero"
    );

    // The signature data.
    let AuthData::V4(a) = &d.auth_data else {
        panic!("dcap-qvl: v4 auth data")
    };
    assert_eq!(c.signature, a.ecdsa_signature);
    assert_eq!(c.attestation_key, a.ecdsa_attestation_key);
    assert_eq!(c.qe_report_raw, &a.qe_report_data.qe_report[..]);
    assert_eq!(c.qe_report_signature, a.qe_report_data.qe_report_signature);
    assert_eq!(c.qe_auth_data, &a.qe_report_data.qe_auth_data.data[..]);
    assert_eq!(c.cert_data_type, d.inner_cert_type());
    let trimmed = |b: &[u8]| -> Vec<u8> {
        let end = b.iter().rposition(|v| *v != 0).map_or(0, |i| i + 1);
        b[..end].to_vec()
    };
    assert_eq!(c.cert_data, trimmed(d.inner_cert_data()).as_slice());
    assert_eq!(c.trailing_padding, 0);
    // The QE report, decoded by dcap-qvl's own EnclaveReport.
    let qe = EnclaveReport::decode(&mut &a.qe_report_data.qe_report[..]).expect("QE report");
    let r = &c.qe_report;
    assert_eq!(r.cpu_svn, qe.cpu_svn);
    assert_eq!(r.misc_select, qe.misc_select);
    assert_eq!(r.attributes, qe.attributes);
    assert_eq!(r.mr_enclave, qe.mr_enclave);
    assert_eq!(r.mr_signer, qe.mr_signer);
    assert_eq!(r.isv_prod_id, qe.isv_prod_id);
    assert_eq!(r.isv_svn, qe.isv_svn);
    assert_eq!(r.report_data, qe.report_data);

    // FMSPC (and the rest of the PCK certificate's SGX extension).
    let (fmspc, _) = cogito_tdx::collateral_request(&s.quote, None).expect("FMSPC");
    let dcap_fmspc = dcap_qvl::intel::quote_fmspc(&d).expect("dcap-qvl FMSPC");
    assert_eq!(fmspc, dcap_fmspc);
    assert_eq!(hex::encode(fmspc), FMSPC);
}

#[test]
fn both_verify_the_sample_up_to_date() {
    let Some(s) = sample() else { return };
    let q = Quote::parse(&s.quote).unwrap();
    let options = cogito_options(&s, &q);
    let v = verify_quote(
        &s.quote,
        Some(&s.collateral),
        builtin_anchors(),
        s.at,
        &options,
        &VerifiedCache::default(),
    )
    .unwrap_or_else(|e| panic!("cogito: {} ({e})", e.code()));
    let now = u64::try_from(s.at.unix()).unwrap();
    let d = dcap_qvl::verify::verify(&s.quote, &s.dcap, now).expect("dcap-qvl verifies");

    assert_eq!(v.claims.tcb_status, TcbStatus::UpToDate);
    assert_eq!(d.status, "UpToDate");
    let tcb = v.platform.tcb.as_ref().expect("collateral evaluated");
    let e = &tcb.evaluation;
    assert_eq!(e.status, TcbStatus::UpToDate);
    // TEE_TCB_SVN2 is reported, and its current status is UpToDate too.
    assert_eq!(e.status_current_svn2, Some(TcbStatus::UpToDate));
    let mut dcap_advisories = d.advisory_ids.clone();
    dcap_advisories.sort();
    dcap_advisories.dedup();
    assert_eq!(e.advisory_ids, dcap_advisories);

    // The verified claims: the report dcap-qvl returns, and cogito's JSON
    // claims of the extended body.
    let parsed = DcapQuote::parse(&s.quote).unwrap();
    assert_eq!(d.report.as_td15_ex(), parsed.report.as_td15_ex());
    let de = d.report.as_td15_ex().unwrap();
    let x = v.platform.body.td15ex.as_ref().expect("td15ex claims");
    assert_eq!(v.platform.body.body_type, 4);
    assert_eq!(x.vmid, de.vmid);
    assert_eq!(x.td_id.to_hex(), hex::encode(de.td_id));
    assert_eq!(x.dev_info.to_hex(), hex::encode(de.dev_info));
    assert_eq!(
        x.init_servicetd_hash.to_hex(),
        hex::encode(de.init_service_td_hash)
    );
    assert_eq!(
        x.init_servicetd_attributes.to_hex(),
        hex::encode(de.init_service_td_attributes)
    );
    assert_eq!(x.init_cpusvn.to_hex(), hex::encode(de.init_cpu_svn));
    assert_eq!(
        x.init_tee_tcb_svn.to_hex(),
        hex::encode(de.init_tee_tcb_svn)
    );
    assert_eq!(x.init_tee_fmspc.to_hex(), hex::encode(de.init_tee_fmspc));
    assert_eq!(
        x.cur_servicetd_hash.to_hex(),
        hex::encode(de.cur_service_td_hash)
    );
    assert_eq!(
        x.cur_servicetd_attributes.to_hex(),
        hex::encode(de.cur_service_td_attributes)
    );

    // The PCK certificate's SGX extension as both read it.
    let leaf = dcap_qvl::intel::extract_cert_chain(&parsed).expect("PCK chain");
    let pck = dcap_qvl::intel::parse_pck_extension(&leaf[0]).expect("PCK extension");
    let p = &v.platform.pck;
    assert_eq!(p.fmspc, hex::encode(pck.fmspc));
    assert_eq!(p.fmspc, FMSPC);
    assert_eq!(p.pcesvn, pck.pce_svn);
    assert_eq!(p.cpusvn_components, pck.cpu_svn);
    assert!(p.pce_id.eq_ignore_ascii_case(&hex::encode(&pck.pce_id)));
    assert!(p.ppid.eq_ignore_ascii_case(&hex::encode(&pck.ppid)));

    eprintln!(
        "both UpToDate at {}: cogito platform {:?}, module {:?} ({:?}), QE {:?}, current (TEE_TCB_SVN2 {}) {:?}, advisories {:?}; dcap-qvl {} {:?}; FMSPC {}, TEE_TCB_SVN {}, VMID {}, TD_ID {}",
        s.at,
        e.platform_status,
        e.module_status,
        e.module_identity,
        e.qe_status,
        hex::encode(de.base.tee_tcb_svn2),
        e.status_current_svn2,
        e.advisory_ids,
        d.status,
        d.advisory_ids,
        p.fmspc,
        hex::encode(de.base.base.tee_tcb_svn),
        x.vmid,
        x.td_id.to_hex()
    );
}

#[test]
fn both_refuse_the_sample_with_an_extended_field_changed() {
    let Some(s) = sample() else { return };
    let now = u64::try_from(s.at.unix()).unwrap();
    let options = cogito_options(&s, &Quote::parse(&s.quote).unwrap());
    for (name, at, len) in EXTENDED {
        for offset in [at, at + len - 1] {
            let mut q = s.quote.clone();
            q[54 + offset] ^= 0x01;
            let e = verify_quote(
                &q,
                Some(&s.collateral),
                builtin_anchors(),
                s.at,
                &options,
                &VerifiedCache::default(),
            )
            .err()
            .unwrap_or_else(|| panic!("cogito accepts {name} changed at {offset}"));
            assert_eq!(e.code(), "tdx.quote.bad_signature", "{name}: {e}");
            assert!(
                dcap_qvl::verify::verify(&q, &s.dcap, now).is_err(),
                "dcap-qvl accepts {name} changed at {offset}"
            );
        }
    }
}

#[test]
fn both_refuse_a_wrong_body_size() {
    let Some(s) = sample() else { return };
    for size in [884u32, 886, 648, 0] {
        let mut q = s.quote.clone();
        q[50..54].copy_from_slice(&size.to_le_bytes());
        let e = Quote::parse(&q).expect_err("cogito parses a wrong size");
        assert_eq!(e.code(), "tdx.quote.bad_field", "{size}: {e}");
        assert!(e.to_string().contains("BODY_SIZE"), "{size}: {e}");
        let d = DcapQuote::parse(&q).expect_err("dcap-qvl parses a wrong size");
        assert!(d.to_string().contains("Invalid body size"), "{size}: {d}");
    }
}
