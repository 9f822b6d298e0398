//! Checks of the TDX encoders with independent parsers (x509-parser,
//! serde_json, p256 verification), not with the code that wrote them.

use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::revocation_list::CertificateRevocationList;

use super::pki::{cn, oids, P256Key};
use super::quote::{qe_offset, QE_REPORT_LEN};
use super::vectors::{
    generate, standard_qe_identity, standard_tcb_info, TdxWorld, FMSPC, FULL_FILES,
    PLATFORM_PCESVN, PLATFORM_SGX, QE_ISVSVN,
};
use crate::keys::sha256;
use crate::pem;

fn verifying_key(cert_der: &[u8]) -> VerifyingKey {
    let (_, cert) = X509Certificate::from_der(cert_der).unwrap();
    VerifyingKey::from_sec1_bytes(&cert.public_key().subject_public_key.data).unwrap()
}

fn verify_signed(tbs: &[u8], sig_der: &[u8], issuer_cert: &[u8]) {
    let sig = Signature::from_der(sig_der).unwrap();
    verifying_key(issuer_cert).verify(tbs, &sig).unwrap();
}

fn common_name(name: &x509_parser::x509::X509Name) -> String {
    name.iter_common_name()
        .next()
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn pck_certificate_parses_and_carries_the_sgx_extension() {
    let w = TdxWorld::new();
    let spec = w.pck_spec();
    let der = spec.issue(&w.pck_key, &w.platform_ca);
    let (rest, cert) = X509Certificate::from_der(&der).unwrap();
    assert!(rest.is_empty());
    assert_eq!(common_name(cert.subject()), cn::PCK);
    assert_eq!(common_name(cert.issuer()), cn::PLATFORM_CA);
    assert!(cert.subject().to_string().contains("O=cogito testkit"));
    assert_eq!(cert.version().0, 2);
    assert_eq!(
        cert.signature_algorithm.algorithm.to_id_string(),
        oids::ECDSA_WITH_SHA256
    );
    let bc = cert.basic_constraints().unwrap().unwrap();
    assert!(bc.critical && !bc.value.ca);
    let ku = cert.key_usage().unwrap().unwrap();
    assert!(ku.critical && ku.value.digital_signature() && ku.value.non_repudiation());
    let sgx = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == oids::SGX_EXTENSIONS)
        .unwrap();
    assert!(!sgx.critical);
    assert_eq!(sgx.value, spec.sgx.encode().as_slice());
    // The values sit where Intel puts them: FMSPC and the TCB.
    let v = sgx.value;
    assert!(v
        .windows(8)
        .any(|w| w == [0x04, 0x06, 0x30, 0x80, 0x6f, 0, 0, 0]));
    let mut cpusvn_tlv = vec![0x04, 0x10];
    cpusvn_tlv.extend_from_slice(&PLATFORM_SGX);
    assert!(v.windows(18).any(|w| w == cpusvn_tlv.as_slice()));
    assert_eq!(spec.sgx.fmspc, FMSPC);
    assert_eq!(spec.sgx.tcb.pcesvn, PLATFORM_PCESVN);
    // Signed by the Platform CA, which the root signed, which signed itself.
    verify_signed(
        cert.tbs_certificate.as_ref(),
        &cert.signature_value.data,
        &w.platform_ca.cert,
    );
    for (child, issuer) in [
        (&w.platform_ca.cert, &w.root.cert),
        (&w.processor_ca.cert, &w.root.cert),
        (&w.tcb_signing.cert, &w.root.cert),
        (&w.root.cert, &w.root.cert),
    ] {
        let (_, c) = X509Certificate::from_der(child).unwrap();
        verify_signed(c.tbs_certificate.as_ref(), &c.signature_value.data, issuer);
    }
    let (_, root) = X509Certificate::from_der(&w.root.cert).unwrap();
    assert_eq!(common_name(root.subject()), cn::ROOT);
    let bc = root.basic_constraints().unwrap().unwrap();
    assert!(bc.value.ca && bc.value.path_len_constraint == Some(1));
}

#[test]
fn crls_parse_and_verify() {
    let w = TdxWorld::new();
    let revoked = w.platform_ca.serial.clone();
    let der = w.root_crl(std::slice::from_ref(&revoked));
    let (rest, crl) = CertificateRevocationList::from_der(&der).unwrap();
    assert!(rest.is_empty());
    assert_eq!(crl.version().map(|v| v.0), Some(1));
    assert_eq!(common_name(crl.issuer()), cn::ROOT);
    let serials: Vec<Vec<u8>> = crl
        .iter_revoked_certificates()
        .map(|r| r.raw_serial().to_vec())
        .collect();
    // The raw serial keeps DER's leading zero when the top bit is set.
    let want: Vec<u8> = if revoked[0] & 0x80 != 0 {
        [&[0u8][..], &revoked].concat()
    } else {
        revoked.clone()
    };
    assert_eq!(serials, vec![want]);
    assert_eq!(crl.crl_number().map(|n| n.to_string()), Some("1".into()));
    verify_signed(
        crl.tbs_cert_list.as_ref(),
        &crl.signature_value.data,
        &w.root.cert,
    );
    let pck_crl = w.pck_crl(&w.platform_ca, &[]);
    let (_, crl) = CertificateRevocationList::from_der(&pck_crl).unwrap();
    assert_eq!(common_name(crl.issuer()), cn::PLATFORM_CA);
    assert_eq!(crl.iter_revoked_certificates().count(), 2);
    verify_signed(
        crl.tbs_cert_list.as_ref(),
        &crl.signature_value.data,
        &w.platform_ca.cert,
    );
}

/// The signed object is cut out of the body as raw bytes, like a verifier
/// must, and the signature checked over exactly those bytes.
fn check_signed_json(body: &[u8], field: &str, key: &P256Key) -> serde_json::Value {
    let text = std::str::from_utf8(body).unwrap();
    let prefix = format!("{{\"{field}\":");
    assert!(text.starts_with(&prefix));
    let sig_at = text.rfind(",\"signature\":\"").unwrap();
    let object = &text[prefix.len()..sig_at];
    let sig_hex = &text[sig_at + 14..text.len() - 2];
    assert!(text.ends_with("\"}"));
    let sig: Vec<u8> = (0..sig_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&sig_hex[i..i + 2], 16).unwrap())
        .collect();
    assert_eq!(sig.len(), 64);
    let vk = VerifyingKey::from_sec1_bytes(&key.public_sec1()).unwrap();
    vk.verify(object.as_bytes(), &Signature::from_slice(&sig).unwrap())
        .unwrap();
    let whole: serde_json::Value = serde_json::from_slice(body).unwrap();
    let inner: serde_json::Value = serde_json::from_str(object).unwrap();
    assert_eq!(whole[field], inner);
    inner
}

#[test]
fn collateral_is_signed_over_its_exact_bytes() {
    let w = TdxWorld::new();
    let info = standard_tcb_info();
    let v = check_signed_json(
        &info.signed_body(&w.tcb_signing.key),
        "tcbInfo",
        &w.tcb_signing.key,
    );
    assert_eq!(v["id"], "TDX");
    assert_eq!(v["version"], 3);
    assert_eq!(v["fmspc"], "30806F000000");
    assert_eq!(
        v["tcbLevels"][0]["tcb"]["sgxtcbcomponents"]
            .as_array()
            .unwrap()
            .len(),
        16
    );
    assert_eq!(
        v["tcbLevels"][0]["tcb"]["tdxtcbcomponents"]
            .as_array()
            .unwrap()
            .len(),
        16
    );
    assert_eq!(v["tdxModuleIdentities"][1]["id"], "TDX_01");
    assert_eq!(v["tcbLevels"][1]["advisoryIDs"][0], "INTEL-SA-00837");
    assert!(v["tcbLevels"][0].get("advisoryIDs").is_none());

    let qe = standard_qe_identity();
    let v = check_signed_json(
        &qe.signed_body(&w.tcb_signing.key),
        "enclaveIdentity",
        &w.tcb_signing.key,
    );
    assert_eq!(v["id"], "TD_QE");
    assert_eq!(v["version"], 2);
    assert_eq!(v["isvprodid"], 2);
    assert_eq!(v["tcbLevels"][0]["tcb"]["isvsvn"], u64::from(QE_ISVSVN));
}

fn le16(b: &[u8], at: usize) -> usize {
    usize::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn le32(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// Walks a quote with nothing but the spec's offsets and checks both
/// signatures, the binding and the PCK chain.
fn check_quote(q: &[u8], w: &TdxWorld) -> (u16, usize) {
    let version = le16(q, 0) as u16;
    assert_eq!(le16(q, 2), 2);
    assert_eq!(le32(q, 4), 0x81);
    assert_eq!(&q[12..28], &super::quote::INTEL_QE_VENDOR_ID);
    let (body_at, body_len) = if version == 5 {
        (54, le32(q, 50))
    } else {
        (48, 584)
    };
    let signed = &q[..body_at + body_len];
    let sig_len = le32(q, body_at + body_len);
    let sd = &q[body_at + body_len + 4..][..sig_len];
    assert!(q[body_at + body_len + 4 + sig_len..]
        .iter()
        .all(|b| *b == 0));
    let att_key = &sd[64..128];
    let vk = VerifyingKey::from_sec1_bytes(&[&[4u8][..], att_key].concat()).unwrap();
    vk.verify(signed, &Signature::from_slice(&sd[..64]).unwrap())
        .unwrap();
    assert_eq!(le16(sd, 128), 6);
    let cd = &sd[134..][..le32(sd, 130)];
    let qe_report = &cd[..QE_REPORT_LEN];
    let auth_len = le16(cd, 448);
    let auth = &cd[450..450 + auth_len];
    let at = 450 + auth_len;
    assert_eq!(le16(cd, at), 5);
    let chain = &cd[at + 6..][..le32(cd, at + 2)];
    assert_eq!(chain.last(), Some(&0));
    assert_eq!(at + 6 + chain.len(), cd.len());
    let text = std::str::from_utf8(&chain[..chain.len() - 1]).unwrap();
    let leaf = pem::decode("CERTIFICATE", text).unwrap();
    assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 3);
    assert!(text.ends_with(&pem::encode("CERTIFICATE", &w.root.cert)));
    verifying_key(&leaf)
        .verify(qe_report, &Signature::from_slice(&cd[384..448]).unwrap())
        .unwrap();
    let bound = sha256(&[att_key, auth].concat());
    assert_eq!(&qe_report[qe_offset::REPORT_DATA..][..32], &bound);
    assert!(qe_report[qe_offset::REPORT_DATA + 32..]
        .iter()
        .all(|b| *b == 0));
    (version, body_len)
}

#[test]
fn generated_set_is_consistent_and_deterministic() {
    let set = generate();
    let again = generate();
    assert_eq!(set.files, again.files);
    assert_eq!(set.manifest(), again.manifest());
    let w = TdxWorld::new();
    let mut seen = std::collections::BTreeSet::new();
    for c in &set.cases {
        assert!(seen.insert(c.id.clone()), "duplicate id {}", c.id);
        for f in &c.files {
            assert!(
                set.files.contains_key(&format!("{}/{f}", c.dir)),
                "{}/{f}",
                c.dir
            );
        }
        if c.files.len() > 1 {
            assert_eq!(c.files, FULL_FILES);
        }
        if c.expected == crate::vectors::Expected::Accept {
            let q = &set.files[&format!("{}/quote.bin", c.dir)];
            let (version, body_len) = check_quote(q, &w);
            assert_eq!(version, c.claims.quote_version, "{}", c.id);
            assert_eq!(body_len, c.claims.body_size, "{}", c.id);
            if version == 5 {
                assert_eq!(le16(q, 48), usize::from(c.claims.body_type), "{}", c.id);
            }
            if let Some(x) = &c.claims.td15ex {
                // Offsets of sgx_report2_body_v1_5_ex_t (Intel sgx_quote_5.h),
                // written out here rather than taken from the encoder.
                assert_eq!((c.claims.body_type, body_len), (4, 885), "{}", c.id);
                let b = &q[54..54 + 885];
                assert_eq!(b[648], x.vmid, "{}", c.id);
                for (at, want) in [
                    (649, &x.td_id[..]),
                    (681, &x.dev_info[..]),
                    (729, &x.init_servtd_hash[..]),
                    (777, &x.init_servtd_attr[..]),
                    (785, &x.init_cpusvn[..]),
                    (801, &x.init_tee_tcb_svn[..]),
                    (817, &x.init_tee_fmspc[..]),
                    (829, &x.cur_servtd_hash[..]),
                    (877, &x.cur_servtd_attr[..]),
                ] {
                    assert_eq!(&b[at..at + want.len()], want, "{} at {at}", c.id);
                }
                assert_eq!(
                    &b[584..600],
                    &c.claims.tee_tcb_svn2.unwrap()[..],
                    "{}",
                    c.id
                );
            }
            assert_eq!(c.claims.tcb.is_some(), !c.signature_only, "{}", c.id);
        }
    }
    let manifest: toml::Value = toml::from_str(&set.manifest()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(manifest["case"].as_array().unwrap().len(), set.cases.len());
}
