//! The TD 1.5 extended body (quote v5, body type 4): `tdx.vmids` (VMID 0
//! only by default), the service-TD binding allow-lists, and `policy init`
//! over such a quote.
//!
//! cogito-testkit builds body types 2 and 3 only, so the verified claims
//! are written out here, as `verify_quote` would return them.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use cogito_core::hexser::Hex;
use cogito_core::time::{VerificationTime, Window};
use cogito_core::{Claims, Signer, TcbStatus, Tee, Verified};
use cogito_policy::ear::TrustClaim;
use cogito_policy::{appraise, load, Appraisal, Input, Policy, PolicyError, RuleOutcome};
use cogito_tdx::claims::{CollateralClaims, QeClaims, TdAttributes};
use cogito_tdx::TcbEvaluation;
use cogito_tdx::{BodyClaims, Td15ExClaims, TdxClaims};
use cogito_tdx::{SgxExtensions, SgxType};

const INIT_HASH: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const CUR_HASH: &str = "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1";
const OTHER_HASH: &str = "0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e";
const INIT_ATTR: &str = "0100000000000000";
const CUR_ATTR: &str = "0300000000000000";

fn hex(s: &str) -> Hex {
    Hex(hex::decode(s).unwrap())
}

fn bytes(b: u8, n: usize) -> Hex {
    Hex(vec![b; n])
}

fn at() -> VerificationTime {
    VerificationTime::parse_rfc3339("2026-12-01T00:00:00Z").unwrap()
}

/// A verified TDX quote: v5 with a TD 1.5 extended body reporting `vmid`
/// when `vmid` is `Some`, else v5 with a plain TD 1.5 body (type 3).
fn verified(vmid: Option<u8>) -> Verified<TdxClaims> {
    let td15ex = vmid.map(|vmid| Td15ExClaims {
        vmid,
        td_id: bytes(0x1d, 32),
        dev_info: bytes(0, 48),
        init_servicetd_hash: hex(INIT_HASH),
        init_servicetd_attributes: hex(INIT_ATTR),
        init_cpusvn: bytes(0x02, 16),
        init_tee_tcb_svn: bytes(0x03, 16),
        init_tee_fmspc: bytes(0x04, 12),
        cur_servicetd_hash: hex(CUR_HASH),
        cur_servicetd_attributes: hex(CUR_ATTR),
    });
    let body = BodyClaims {
        body_type: if td15ex.is_some() { 4 } else { 3 },
        tee_tcb_svn: hex("05010200000000000000000000000000"),
        mrseam: bytes(0x5e, 48),
        mrsignerseam: bytes(0, 48),
        seam_attributes: bytes(0, 8),
        td_attributes: TdAttributes::new(&[0, 0, 0, 0x10, 0, 0, 0, 0]),
        xfam: hex("e702060000000000"),
        mrtd: bytes(0x7d, 48),
        mrconfigid: bytes(0, 48),
        mrowner: bytes(0, 48),
        mrownerconfig: bytes(0, 48),
        rtmr: (0..4).map(|i| bytes(0x40 + i, 48)).collect(),
        report_data: bytes(0xdd, 64),
        tee_tcb_svn2: Some(hex("05010200000000000000000000000000")),
        mrservicetd: Some(bytes(0, 48)),
        td15ex,
    };
    let ppid = "00112233445566778899aabbccddeeff";
    let platform = TdxClaims {
        quote_version: 5,
        qe_vendor_id: hex("939a7233f79c4ca9940a0db3957f0607"),
        user_data: bytes(0, 20),
        qe: QeClaims {
            mrenclave: bytes(0xe1, 32),
            mrsigner: bytes(0xe2, 32),
            isvprodid: 2,
            isvsvn: 8,
        },
        pck: SgxExtensions {
            ppid: ppid.into(),
            cpusvn_components: [2; 16],
            pcesvn: 13,
            cpusvn: "02".repeat(16),
            pce_id: "0000".into(),
            fmspc: "00906ed50000".into(),
            sgx_type: SgxType::Scalable,
            platform_instance_id: None,
            configuration: None,
        },
        tcb: Some(CollateralClaims {
            evaluation: TcbEvaluation {
                status: TcbStatus::UpToDate,
                platform_status: TcbStatus::UpToDate,
                module_status: Some(TcbStatus::UpToDate),
                qe_status: TcbStatus::UpToDate,
                tcb_date: "2026-08-13T00:00:00Z".into(),
                advisory_ids: Vec::new(),
                status_current_svn2: Some(TcbStatus::UpToDate),
                module_identity: Some("TDX_01".into()),
            },
            tcb_evaluation_data_number: 19,
            qe_identity_tcb_evaluation_data_number: 19,
            collateral_validity: Window {
                not_before: VerificationTime::parse_rfc3339("2026-11-20T00:00:00Z").unwrap(),
                not_after: VerificationTime::parse_rfc3339("2026-12-20T00:00:00Z").unwrap(),
            },
        }),
        trailing_padding: 0,
        body,
    };
    let b = &platform.body;
    let claims = Claims {
        tee: Tee::Tdx,
        launch_measurement: b.mrtd.clone(),
        runtime_measurements: b.rtmr.clone(),
        report_data: b.report_data.clone(),
        init_data: b.mrconfigid.clone(),
        debug: b.td_attributes.debug,
        tcb_status: TcbStatus::UpToDate,
        platform_instance: Some(hex(ppid)),
        signer: vec![Signer {
            kind: "mrsignerseam",
            value: b.mrsignerseam.clone(),
        }],
    };
    Verified {
        claims,
        platform,
        checks: Vec::new(),
        verified_at: at(),
    }
}

fn no_includes(_: &str) -> Result<String, String> {
    Err("no such file".into())
}

fn policy(tdx: &str) -> Policy {
    let text = format!("[policy]\nname = \"t\"\n[tdx]\n{tdx}");
    load("p.toml", &text, &mut no_includes).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn err(text: &str) -> PolicyError {
    match load("p.toml", text, &mut no_includes) {
        Ok(_) => panic!("loaded, but must be refused:\n{text}"),
        Err(e) => e,
    }
}

fn run(p: &Policy, v: &Verified<TdxClaims>) -> Appraisal {
    appraise(
        p,
        Input::Tdx {
            verified: v,
            event_log: None,
        },
    )
}

/// The one outcome of `rule`.
fn rule<'a>(a: &'a Appraisal, rule: &str) -> &'a RuleOutcome {
    let mut it = a.rules.iter().filter(|r| r.rule == rule);
    let r = it
        .next()
        .unwrap_or_else(|| panic!("no outcome for {rule}: {:#?}", a.rules));
    assert!(it.next().is_none(), "{rule} reported twice");
    r
}

fn failed(a: &Appraisal) -> Vec<&str> {
    a.failures().map(|r| r.rule.as_str()).collect()
}

// ---------------------------------------------------------------------------
// Loading.

#[test]
fn impossible_empty_and_repeated_vmids_are_refused_with_the_line() {
    for (list, needle) in [
        ("[0, 4]", "VMID 4 does not exist"),
        ("[-1]", "VMID -1 does not exist"),
        ("[256]", "VMID 256 does not exist"),
        ("[]", "an empty list would refuse every guest"),
        ("[1, 2, 1]", "VMID 1 is listed twice"),
        ("[\"0\"]", "invalid type: string"),
        ("0", "a non-empty array"),
    ] {
        let e = err(&format!(
            "[policy]\nname = \"x\"\n\n[tdx]\nmrtd = [\"{}\"]\nvmids = {list}\n",
            "ab".repeat(48)
        ));
        assert!(e.message.contains(needle), "{list}: {e}");
        assert_eq!(e.line, Some(6), "{list}: {e}");
        assert_eq!(e.kind.code(), "policy.bad_value", "{list}: {e}");
        assert!(e.to_string().starts_with("p.toml:6:"), "{e}");
    }
    let e = err("[policy]\nname = \"x\"\n[tdx]\nvmid = [0]\n");
    assert_eq!(e.line, Some(4), "{e}");
    assert_eq!(e.hint.as_deref(), Some("did you mean `vmids`?"), "{e}");
}

const SERVICE_TD_KEYS: [&str; 4] = [
    "init_servicetd_hashes",
    "init_servicetd_attributes",
    "cur_servicetd_hashes",
    "cur_servicetd_attributes",
];

#[test]
fn service_td_values_must_have_their_length() {
    let h47 = "ab".repeat(47);
    let h49 = "ab".repeat(49);
    for (key, value, needle) in [
        (
            "init_servicetd_hashes",
            h47.as_str(),
            "94 hex digits (47 bytes), expected 48 bytes",
        ),
        (
            "cur_servicetd_hashes",
            h49.as_str(),
            "98 hex digits (49 bytes), expected 48 bytes",
        ),
        (
            "init_servicetd_hashes",
            INIT_ATTR,
            "16 hex digits (8 bytes), expected 48 bytes",
        ),
        (
            "init_servicetd_attributes",
            "01000000000000",
            "14 hex digits (7 bytes), expected 8 bytes",
        ),
        (
            "cur_servicetd_attributes",
            "010000000000000000",
            "18 hex digits (9 bytes), expected 8 bytes",
        ),
        (
            "cur_servicetd_attributes",
            INIT_HASH,
            "96 hex digits (48 bytes), expected 8 bytes",
        ),
        (
            "cur_servicetd_attributes",
            "010",
            "an odd number of hex digits (3), expected 8 bytes",
        ),
        (
            "init_servicetd_attributes",
            "zz00000000000000",
            "is not hex",
        ),
    ] {
        // The bad value on line 5, inside a list that starts on line 4.
        let e = err(&format!(
            "[policy]\nname = \"x\"\n[tdx]\n{key} = [\n  \"{value}\",\n]\n"
        ));
        assert!(e.message.contains(needle), "{key} = {value}: {e}");
        assert_eq!(e.line, Some(5), "{key} = {value}: {e}");
        assert_eq!(e.kind.code(), "policy.bad_value");
    }
    for key in SERVICE_TD_KEYS {
        let e = err(&format!("[policy]\nname = \"x\"\n[tdx]\n{key} = []\n"));
        assert!(
            e.message.contains("an empty list would refuse every guest"),
            "{key}: {e}"
        );
        assert_eq!(e.line, Some(4), "{key}: {e}");
        let value = if key.ends_with("hashes") {
            CUR_HASH
        } else {
            CUR_ATTR
        };
        let e = err(&format!(
            "[policy]\nname = \"x\"\n[tdx]\n{key} = [\"{value}\", \"0x{}\"]\n",
            value.to_uppercase()
        ));
        assert!(
            e.message.contains(&format!("{value} is listed twice")),
            "{key}: {e}"
        );
        assert_eq!(e.line, Some(4), "{key}: {e}");
    }
}

#[test]
fn service_td_values_join_from_reference_value_files() {
    let inc = format!(
        "expires = 2027-01-01\nnote = \"service TD build 7\"\n[tdx]\ninit_servicetd_hashes = [\"{INIT_HASH}\"]\ninit_servicetd_attributes = [\"{INIT_ATTR}\"]\ncur_servicetd_hashes = [\"{CUR_HASH}\"]\ncur_servicetd_attributes = [{{ value = \"{CUR_ATTR}\", expires = 2026-12-15 }}]\n"
    );
    let text = "[policy]\nname = \"x\"\ninclude = [\"servtd.toml\"]\n[tdx]\n";
    let p = load("p.toml", text, &mut |_: &str| Ok(inc.clone())).unwrap();
    let a = run(&p, &verified(Some(0)));
    assert!(a.accepted, "{:?}", failed(&a));
    let r = rule(&a, "tdx.init_servicetd_hashes");
    assert_eq!(
        r.note.as_deref(),
        Some("service TD build 7; from servtd.toml; expires 2027-01-01T00:00:00Z")
    );
    assert_eq!(r.trust_claim, TrustClaim::Configuration);
    // The file's own expiry of one value wins, and policy check lists it.
    let notices = p.expiry_notices(at(), 30 * 86_400);
    let rules: Vec<&str> = notices.iter().map(|n| n.rule.as_str()).collect();
    assert_eq!(rules, ["tdx.cur_servicetd_attributes"], "{notices:?}");
    let p = load("p.toml", text, &mut |_: &str| Ok(inc.clone())).unwrap();
    let mut later = verified(Some(0));
    later.verified_at = VerificationTime::parse_rfc3339("2026-12-20T00:00:00Z").unwrap();
    let a = run(&p, &later);
    assert_eq!(failed(&a), ["tdx.cur_servicetd_attributes"]);
    assert!(rule(&a, "tdx.cur_servicetd_attributes")
        .note
        .as_deref()
        .unwrap()
        .contains("expired at 2026-12-15T00:00:00Z"));
    // vmids is a rule, not a reference value: a reference-value file
    // cannot carry it.
    let e = load("p.toml", text, &mut |_: &str| {
        Ok("[tdx]\nvmids = [0]\n".into())
    })
    .unwrap_err();
    assert_eq!(e.file, "servtd.toml");
    assert!(e.message.contains("unknown field `vmids`"), "{e}");
}

// ---------------------------------------------------------------------------
// tdx.vmids.

#[test]
fn vmid_0_is_accepted_by_default_as_a_default_rule() {
    let p = policy("");
    let a = run(&p, &verified(Some(0)));
    assert!(a.accepted, "{:?}", failed(&a));
    let r = rule(&a, "tdx.vmids");
    assert!(r.passed && r.default && !r.warning, "{r:?}");
    assert_eq!((r.expected.as_str(), r.actual.as_str()), ("0", "0"));
    assert_eq!(r.trust_claim, TrustClaim::Configuration);
    assert_eq!(r.note, None);
    assert_eq!(a.trust_vector.get(TrustClaim::Configuration), 2);
}

#[test]
fn a_td_vm_of_a_partitioned_td_is_refused_by_default_naming_tdx_vmids() {
    let p = policy("");
    let a = run(&p, &verified(Some(2)));
    assert!(!a.accepted);
    assert_eq!(failed(&a), ["tdx.vmids"]);
    let r = rule(&a, "tdx.vmids");
    assert!(r.default, "{r:?}");
    assert_eq!((r.expected.as_str(), r.actual.as_str()), ("0", "2"));
    let note = r.note.as_deref().unwrap();
    assert!(
        note.contains("VMID 2 is a TD VM (L2 guest) of a partitioned TD")
            && note.contains("L1 TD's MRTD and RTMRs")
            && note.ends_with("list it in tdx.vmids to accept it"),
        "{note}"
    );
    assert_eq!(a.trust_vector.get(TrustClaim::Configuration), 96);
    assert_eq!(a.status.as_str(), "contraindicated");
    // Pinning the L1's MRTD does not help: the L2 reports exactly that.
    let p = policy(&format!("mrtd = [\"{}\"]\n", "7d".repeat(48)));
    assert_eq!(failed(&run(&p, &verified(Some(2)))), ["tdx.vmids"]);
}

#[test]
fn a_listed_vmid_is_accepted_and_an_unlisted_one_refused() {
    let p = policy("vmids = [0, 2]\n");
    let a = run(&p, &verified(Some(2)));
    assert!(a.accepted, "{:?}", failed(&a));
    let r = rule(&a, "tdx.vmids");
    assert!(r.passed && !r.default && !r.warning, "{r:?}");
    assert_eq!(r.expected, "one of 0, 2");
    assert_eq!(r.actual, "2");
    assert!(r.note.as_deref().unwrap().contains("TD VM (L2 guest)"));
    assert!(run(&p, &verified(Some(0))).accepted);
    let a = run(&p, &verified(Some(3)));
    assert_eq!(failed(&a), ["tdx.vmids"]);
    assert!(!rule(&a, "tdx.vmids").default);
    // L2 guests only: the TD itself is refused.
    let p = policy("vmids = [1]\n");
    assert_eq!(failed(&run(&p, &verified(Some(0)))), ["tdx.vmids"]);
    assert!(run(&p, &verified(Some(1))).accepted);
}

#[test]
fn a_quote_without_the_extended_body_counts_as_vmid_0() {
    let a = run(&policy(""), &verified(None));
    assert!(a.accepted, "{:?}", failed(&a));
    let r = rule(&a, "tdx.vmids");
    assert!(r.passed && r.default, "{r:?}");
    assert_eq!(r.actual, "not reported (TD 1.0/1.5 body): the TD itself");
    assert_eq!(
        r.note.as_deref(),
        Some("body type 3 has no VMID; the quote counts as VMID 0")
    );
    // A policy for L2 guests only refuses it.
    let a = run(&policy("vmids = [1, 2, 3]\n"), &verified(None));
    assert_eq!(failed(&a), ["tdx.vmids"]);
    assert_eq!(rule(&a, "tdx.vmids").expected, "one of 1, 2, 3");
}

// ---------------------------------------------------------------------------
// Service-TD bindings.

fn service_td_policy(init_hash: &str, init_attr: &str, cur_hash: &str, cur_attr: &str) -> Policy {
    policy(&format!(
        "init_servicetd_hashes = [{{ value = \"{init_hash}\", note = \"migration TD v1\" }}]\ninit_servicetd_attributes = [\"{init_attr}\"]\ncur_servicetd_hashes = [\"0x{}\"]\ncur_servicetd_attributes = [\"{cur_attr}\"]\n",
        cur_hash.to_uppercase()
    ))
}

const SERVICE_TD_RULES: [&str; 4] = [
    "tdx.init_servicetd_hashes",
    "tdx.init_servicetd_attributes",
    "tdx.cur_servicetd_hashes",
    "tdx.cur_servicetd_attributes",
];

#[test]
fn service_td_bindings_that_match_pass() {
    let p = service_td_policy(INIT_HASH, INIT_ATTR, CUR_HASH, CUR_ATTR);
    let a = run(&p, &verified(Some(0)));
    assert!(a.accepted, "{:?}", failed(&a));
    for (name, actual) in SERVICE_TD_RULES
        .into_iter()
        .zip([INIT_HASH, INIT_ATTR, CUR_HASH, CUR_ATTR])
    {
        let r = rule(&a, name);
        assert!(r.passed && !r.default, "{r:?}");
        assert_eq!(r.actual, actual);
        assert_eq!(r.expected, actual);
        assert_eq!(r.trust_claim, TrustClaim::Configuration);
    }
    assert_eq!(
        rule(&a, "tdx.init_servicetd_hashes").note.as_deref(),
        Some("migration TD v1")
    );
    // Without the keys there are no such rules.
    let a = run(&policy(""), &verified(Some(0)));
    for name in SERVICE_TD_RULES {
        assert!(a.rules.iter().all(|r| r.rule != name), "{name}");
    }
}

#[test]
fn each_service_td_mismatch_fails_its_own_rule() {
    let other_attr = "0000000000000000";
    for (i, p) in [
        service_td_policy(OTHER_HASH, INIT_ATTR, CUR_HASH, CUR_ATTR),
        service_td_policy(INIT_HASH, other_attr, CUR_HASH, CUR_ATTR),
        service_td_policy(INIT_HASH, INIT_ATTR, OTHER_HASH, CUR_ATTR),
        service_td_policy(INIT_HASH, INIT_ATTR, CUR_HASH, other_attr),
    ]
    .iter()
    .enumerate()
    {
        let a = run(p, &verified(Some(0)));
        let name = SERVICE_TD_RULES[i];
        assert_eq!(failed(&a), [name]);
        let r = rule(&a, name);
        assert_eq!(r.note.as_deref(), Some("not among the 1 allowed values"));
        assert_eq!(a.trust_vector.get(TrustClaim::Configuration), 96);
    }
    // The initial and current bindings are distinct claims: the current
    // hash does not satisfy the initial list.
    let p = service_td_policy(CUR_HASH, INIT_ATTR, CUR_HASH, CUR_ATTR);
    let a = run(&p, &verified(Some(0)));
    assert_eq!(failed(&a), ["tdx.init_servicetd_hashes"]);
    assert_eq!(rule(&a, "tdx.init_servicetd_hashes").actual, INIT_HASH);
}

#[test]
fn a_pinned_service_td_binding_refuses_a_quote_without_the_extended_body() {
    let p = service_td_policy(INIT_HASH, INIT_ATTR, CUR_HASH, CUR_ATTR);
    let a = run(&p, &verified(None));
    assert_eq!(failed(&a), SERVICE_TD_RULES);
    for name in SERVICE_TD_RULES {
        let r = rule(&a, name);
        assert_eq!(
            r.actual, "(absent: the quote carries no TD 1.5 extended body)",
            "{name}"
        );
        assert_eq!(
            r.note.as_deref(),
            Some("body type 3 does not report service-TD bindings; only a TD 1.5 extended body (quote v5, body type 4) does"),
            "{name}"
        );
    }
    // One pinned key is enough to refuse it.
    let p = policy(&format!("cur_servicetd_attributes = [\"{CUR_ATTR}\"]\n"));
    assert_eq!(
        failed(&run(&p, &verified(None))),
        ["tdx.cur_servicetd_attributes"]
    );
}

#[test]
fn rules_run_in_the_documented_order() {
    let p = policy(&format!(
        "xfam = [\"e702060000000000\"]\nvmids = [0]\ninit_servicetd_hashes = [\"{INIT_HASH}\"]\ninit_servicetd_attributes = [\"{INIT_ATTR}\"]\ncur_servicetd_hashes = [\"{CUR_HASH}\"]\ncur_servicetd_attributes = [\"{CUR_ATTR}\"]\nmin_tee_tcb_svn = \"05010200000000000000000000000000\"\n"
    ));
    let a = run(&p, &verified(Some(0)));
    let names: Vec<&str> = a.rules.iter().map(|r| r.rule.as_str()).collect();
    let start = names.iter().position(|n| *n == "tdx.xfam").unwrap();
    assert_eq!(
        names[start..start + 7],
        [
            "tdx.xfam",
            "tdx.vmids",
            "tdx.init_servicetd_hashes",
            "tdx.init_servicetd_attributes",
            "tdx.cur_servicetd_hashes",
            "tdx.cur_servicetd_attributes",
            "tdx.min_tee_tcb_svn",
        ]
    );
}

// ---------------------------------------------------------------------------
// policy init.

fn init(v: &Verified<TdxClaims>) -> (String, Policy) {
    let text = cogito_policy::init::policy_from_evidence(
        Input::Tdx {
            verified: v,
            event_log: None,
        },
        "pinned-tdx",
        "quote.bin",
        "2026-12-01T00:00:00Z",
    );
    let p = load("pinned.toml", &text, &mut no_includes).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (text, p)
}

/// The value line of `key` and the comment lines just above it.
fn pinned<'a>(text: &'a str, key: &str) -> Option<(Vec<&'a str>, &'a str)> {
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.starts_with(&format!("{key} = ")))?;
    let mut comments = Vec::new();
    for l in lines[..i].iter().rev() {
        match l.strip_prefix("# ") {
            Some(c) => comments.insert(0, c),
            None => break,
        }
    }
    Some((comments, lines[i]))
}

#[test]
fn init_pins_the_vmid_and_service_td_bindings_of_a_type_4_quote() {
    let v = verified(Some(0));
    let (text, p) = init(&v);
    for (key, line) in [
        ("vmids", "vmids = [0]".to_string()),
        (
            "init_servicetd_hashes",
            format!("init_servicetd_hashes = [\"{INIT_HASH}\"]"),
        ),
        (
            "init_servicetd_attributes",
            format!("init_servicetd_attributes = [\"{INIT_ATTR}\"]"),
        ),
        (
            "cur_servicetd_hashes",
            format!("cur_servicetd_hashes = [\"{CUR_HASH}\"]"),
        ),
        (
            "cur_servicetd_attributes",
            format!("cur_servicetd_attributes = [\"{CUR_ATTR}\"]"),
        ),
    ] {
        let (comments, have) = pinned(&text, key).unwrap_or_else(|| panic!("{key}:\n{text}"));
        assert_eq!(have, line, "{text}");
        assert!(!comments.is_empty(), "{key} has no comment:\n{text}");
    }
    // In [tdx], before its sub-tables.
    let tdx = text.find("\n[tdx]\n").unwrap();
    let attrs = text.find("\n[tdx.td_attributes]\n").unwrap();
    let vmids = text.find("\nvmids = ").unwrap();
    assert!(tdx < vmids && vmids < attrs, "{text}");

    let rules = &p.rules.tdx.as_ref().unwrap();
    assert_eq!(rules.vmids.as_ref().unwrap().0.len(), 1);
    let a = run(&p, &v);
    assert!(a.accepted, "{:?}\n{text}", failed(&a));
    let r = rule(&a, "tdx.vmids");
    assert!(r.passed && !r.default, "{r:?}");
    for name in SERVICE_TD_RULES {
        assert!(rule(&a, name).passed, "{name}");
    }

    // The pinned policy refuses the same TD reporting another binding, an
    // L2 guest, or a quote that cannot show a binding.
    let mut other = verified(Some(0));
    other
        .platform
        .body
        .td15ex
        .as_mut()
        .unwrap()
        .cur_servicetd_hash = hex(OTHER_HASH);
    assert_eq!(failed(&run(&p, &other)), ["tdx.cur_servicetd_hashes"]);
    assert_eq!(failed(&run(&p, &verified(Some(1)))), ["tdx.vmids"]);
    assert_eq!(failed(&run(&p, &verified(None))), SERVICE_TD_RULES);
}

#[test]
fn init_from_a_td_vm_pins_its_vmid_with_a_warning() {
    let v = verified(Some(3));
    let (text, p) = init(&v);
    let (comments, line) = pinned(&text, "vmids").unwrap();
    assert_eq!(line, "vmids = [3]");
    let comment = comments.join(" ");
    assert!(
        comment.starts_with("WARNING: the reference quote comes from VMID 3")
            && comment.contains("MRTD and RTMRs are the L1 TD's"),
        "{comment}"
    );
    assert!(run(&p, &v).accepted);
    assert_eq!(failed(&run(&p, &verified(Some(0)))), ["tdx.vmids"]);
}

#[test]
fn init_from_a_type_3_quote_writes_nothing_new() {
    let v = verified(None);
    let (text, p) = init(&v);
    for key in [
        "vmids",
        "init_servicetd_hashes",
        "init_servicetd_attributes",
        "cur_servicetd_hashes",
        "cur_servicetd_attributes",
    ] {
        assert!(pinned(&text, key).is_none(), "{key}:\n{text}");
    }
    let a = run(&p, &v);
    assert!(a.accepted, "{:?}", failed(&a));
    assert!(rule(&a, "tdx.vmids").default);
}
