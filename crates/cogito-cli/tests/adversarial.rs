//! Evidence a hostile or broken platform could present to the service,
//! each genuinely signed (the testkit's FAKE vendor keys stand in for the
//! firmware's), each refused for the reason that matters: a debuggable
//! guest, a downgraded report version, a TDX platform whose TCB level Intel
//! revoked, and expired collateral or a stale CRL replayed into the
//! service's collateral cache (as an import, or as a copy that outlived its
//! window). Replay, expiry, binding and token abuse are in serve_e2e,
//! serve_replicas and kbs_e2e.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod support;

use cogito_core::{AmdProduct, VerificationTime};
use cogito_protocol::Kem;
use cogito_testkit::report::offset;
use cogito_testkit::tdx::collateral::TcbStatus;
use cogito_testkit::{LiveSnp, LiveTdx, ProductCa};
use support::*;

const DAY: i64 = 86_400;

/// A server trusting `world`, with the fleet policy on `disk-key` and a
/// policy that requires a launch mitigation on `mitigated-key`.
fn setup(tmp: &std::path::Path, world: &World, extra: &[&str]) -> Served {
    let mut args = world.files(tmp);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Served::start(&tmp.join("data"), &args);
    let policies = tmp.join("policies");
    std::fs::write(
        policies.join("mitigated.toml"),
        "[policy]\nname = \"mitigated\"\ninclude = [\"refvalues/measurements.toml\"]\n[snp]\nrequired_launch_mitigations = \"0x1\"\n[tdx]\n[cca]\n",
    )
    .unwrap();
    for p in ["fleet.toml", "mitigated.toml"] {
        server.cli_ok(&["policy", "push", &policies.join(p).display().to_string()]);
    }
    for (name, policy) in [("disk-key", "fleet"), ("mitigated-key", "mitigated")] {
        let (code, _, err) = server.cli_with(
            &["secret", "put", name, "--policy", policy],
            &[],
            Some(b"k"),
        );
        assert_eq!(code, 0, "{err}");
    }
    server
}

/// A round trip with SNP evidence whose report `edit` changed before the
/// (FAKE) firmware signed it.
fn snp_edited(c: &Client, world: &World, secret: &str, edit: impl FnOnce(&mut [u8])) -> Answer {
    let key = GuestKey::new(Kem::X25519);
    let nonce = c.challenge("snp");
    let (report, table) = world.snp.evidence_edited(
        key.report_data(&nonce),
        LiveSnp::measurement_default(),
        edit,
    );
    c.attest(&request(&nonce, &report, &key, Some(&table), &[secret]))
}

fn tdx_round_trip(c: &Client, tdx: &LiveTdx) -> Answer {
    let key = GuestKey::new(Kem::X25519);
    let nonce = c.challenge("tdx");
    let quote = tdx.quote(key.report_data(&nonce), LiveTdx::mrtd_default());
    c.attest(&request(&nonce, &quote, &key, None, &["disk-key"]))
}

/// Writes `tdx`'s collateral as an offline bundle and imports it.
fn import_tdx(server: &Served, dir: &std::path::Path, tdx: &LiveTdx) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in tdx.collateral_files() {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let out = server.cli_ok(&["collateral", "import", &dir.display().to_string()]);
    assert!(out.contains("stored tdx/"), "{out}");
}

#[test]
fn a_debuggable_guest_and_a_downgraded_report_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let server = setup(tmp.path(), &world, &[]);
    let c = server.client();

    // The control: the unedited report gets the key.
    accepted(&snp_edited(&c, &world, "disk-key", |_| {}));

    // POLICY.DEBUG (bit 19, SEV-SNP ABI §4.3 Table 9): the hypervisor can
    // read and write this guest's memory; the policy refuses it by name.
    let debug = snp_edited(&c, &world, "disk-key", |r| {
        let at = offset::POLICY + 2;
        r[at] |= 0x08;
    });
    let p = refused(&debug, 422, "policy.refused");
    assert!(
        p.rules.iter().any(|r| r.rule == "common.debug_allowed"),
        "{p:?}"
    );

    // A version 3 report (as older firmware signs) carries no mitigation
    // vectors (version 5+, ABI Table 23): a policy that requires one is not
    // satisfied by their absence.
    let v3 = snp_edited(&c, &world, "mitigated-key", |_| {});
    let p = refused(&v3, 422, "policy.refused");
    let rule = p
        .rules
        .iter()
        .find(|r| r.rule == "snp.required_launch_mitigations")
        .unwrap_or_else(|| panic!("{p:?}"));
    assert_eq!(rule.actual, "(absent)", "{p:?}");
    // A version 2 report as that firmware signs it (no CPUID fields:
    // reserved, zero): no mitigation vector either.
    let v2 = snp_edited(&c, &world, "mitigated-key", |r| {
        r[offset::VERSION..offset::VERSION + 4].copy_from_slice(&2u32.to_le_bytes());
        r[offset::CPUID..offset::CPUID + 3].fill(0);
    });
    let p = refused(&v2, 422, "policy.refused");
    assert!(
        p.rules
            .iter()
            .any(|r| r.rule == "snp.required_launch_mitigations" && r.actual == "(absent)"),
        "{p:?}"
    );
    // Version 1, below what the verifier reads (SEV-SNP ABI: versions 2,
    // 3 and 5 have a known layout): refused before anything is trusted.
    let v1 = snp_edited(&c, &world, "disk-key", |r| {
        r[offset::VERSION..offset::VERSION + 4].copy_from_slice(&1u32.to_le_bytes());
    });
    refused(&v1, 400, "snp.report.unknown_version");
}

#[test]
fn a_revoked_tdx_tcb_and_expired_tdx_collateral_are_refused_from_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let server = setup(tmp.path(), &world, &[]);
    let c = server.client();
    let now = VerificationTime::now().unix();

    // Current collateral: the control.
    import_tdx(&server, &tmp.path().join("current"), &world.tdx);
    accepted(&tdx_round_trip(&c, &world.tdx));

    // Intel revoked the platform's TCB level (TCB Info tcbLevels[].tcbStatus
    // "Revoked", Intel PCS API v4): no policy can accept it.
    let revoked = LiveTdx::with_tcb_status(now, TcbStatus::Revoked);
    import_tdx(&server, &tmp.path().join("revoked"), &revoked);
    let a = tdx_round_trip(&c, &revoked);
    let p = refused(&a, 422, "tdx.tcb.revoked");
    assert!(p.detail.contains("TCB status is Revoked"), "{p:?}");

    // Collateral issued 40 days ago (nextUpdate 10 days ago), replayed into
    // the cache by an import: its window is judged at verification time.
    let stale = LiveTdx::new(now - 40 * DAY);
    import_tdx(&server, &tmp.path().join("stale"), &stale);
    let a = tdx_round_trip(&c, &stale);
    let p = refused(&a, 422, "tdx.chain.outside_validity");
    assert!(
        p.detail.contains("TCB Info is not valid at"),
        "the refusal names the expired collateral: {p:?}"
    );

    // Current collateral again: accepted again.
    import_tdx(&server, &tmp.path().join("current2"), &world.tdx);
    accepted(&tdx_round_trip(&c, &world.tdx));
}

#[test]
fn a_stale_amd_crl_in_the_cache_is_refused_not_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let server = setup(tmp.path(), &world, &[]);
    let c = server.client();
    let now = VerificationTime::now().unix();
    accepted(&snp_edited(&c, &world, "disk-key", |_| {}));

    // AMD's CRL, signed by the (FAKE) ARK, whose nextUpdate passed a week
    // ago (RFC 5280 §5.1.2.5): a stale CRL may omit a revocation since.
    let ca = ProductCa::new(AmdProduct::Genoa);
    let bundle = tmp.path().join("crl");
    std::fs::create_dir_all(&bundle).unwrap();
    // Replaces the cached CRL with `crl` through an offline bundle.
    let import_crl = |crl: Vec<u8>| {
        std::fs::write(bundle.join("crl.der"), crl).unwrap();
        server.cli_ok(&["collateral", "import", &bundle.display().to_string()])
    };
    let out = import_crl(ca.ark.crl(now - 30 * DAY, Some(now - 7 * DAY), &[]));
    assert!(out.contains("snp/crl/genoa"), "{out}");
    let a = snp_edited(&c, &world, "disk-key", |_| {});
    let p = refused(&a, 422, "snp.chain.outside_validity");
    assert!(
        p.detail.contains("CRL of ARK is not valid at"),
        "the refusal names the CRL: {p:?}"
    );

    // A current CRL that revokes the ASK: refused as revoked.
    import_crl(ca.ark.crl(
        now - DAY,
        Some(now + 7 * DAY),
        std::slice::from_ref(&ca.ask.serial),
    ));
    let a = snp_edited(&c, &world, "disk-key", |_| {});
    let p = refused(&a, 422, "snp.chain.revoked");
    assert!(p.detail.contains("ASK (serial"), "{p:?}");

    // A current CRL revoking nothing: accepted.
    import_crl(ca.ark.crl(now - DAY, Some(now + 7 * DAY), &[]));
    accepted(&snp_edited(&c, &world, "disk-key", |_| {}));
}
