//! Two `cogito serve` processes on one PostgreSQL, as replicas behind a
//! load balancer: a nonce issued by one and used at both at once succeeds
//! exactly once; a secret put through one is served by the other; a VCEK
//! one fetched from (a mock of) AMD's KDS the other takes from the store.
//!
//! Skips with a notice when PostgreSQL is unreachable, except under CI=true.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod support;

use std::sync::atomic::Ordering;

use cogito_protocol::Kem;
use support::*;

#[test]
fn two_replicas_share_nonces_secrets_keys_and_collateral() {
    let Some(db) = PgDb::create("replicas") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let kds = MockKds::start(world.snp.vcek_der().to_vec());
    // World::files makes the server offline; replicas here fetch online,
    // from the mock KDS, without AMD's CRL (the mock serves none).
    let files = world.online_files(tmp.path(), &kds.url);
    // Every replica has the same KEK: the signing and nonce keys in the
    // store are wrapped by it.
    let kek = tmp.path().join("kek");
    {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&kek)
            .unwrap();
        f.write_all(&[0x42; 32]).unwrap();
    }
    let mut args = files.clone();
    args.extend([
        "--store".to_string(),
        db.url.clone(),
        "--kek-file".to_string(),
        kek.display().to_string(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let a = Served::start(&tmp.path().join("a"), &args);
    let b = Served::start(&tmp.path().join("b"), &args);
    let (ca, cb) = (a.client(), b.client());
    // Only the first start made an admin token; it works at both.
    let token = a.admin_token();
    assert!(!tmp.path().join("b/admin-token").exists());
    let at_b = |args: &[&str]| {
        let (code, out, err) = b.cli_with(args, &[("COGITO_TOKEN", &token)], None);
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        out
    };
    // Both publish the same signing key.
    assert_eq!(
        ca.get("/v1/keys", None).json(),
        cb.get("/v1/keys", None).json()
    );

    // A policy and a secret put through A are served by B.
    let policies = tmp.path().join("policies");
    a.cli_ok(&[
        "policy",
        "push",
        &policies.join("fleet.toml").display().to_string(),
    ]);
    let (code, _, err) = a.cli_with(
        &["secret", "put", "disk-key", "--policy", "fleet"],
        &[],
        Some(b"shared by the replicas"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(at_b(&["secret", "list"]).contains("disk-key"));

    // The VCEK: A fetches it from the KDS (the guest sent no certificate
    // table), B finds it in the store.
    assert_eq!(kds.vcek_requests.load(Ordering::SeqCst), 0);
    for (client, expected_fetches) in [(&ca, 1), (&cb, 1), (&ca, 1)] {
        let key = GuestKey::new(Kem::X25519);
        let nonce = client.challenge("snp");
        let (evidence, _table) = world.evidence("snp", &nonce, &key, None);
        let r = accepted(&client.attest(&request(&nonce, &evidence, &key, None, &["disk-key"])));
        assert_eq!(key.open(&r.secrets[0]).unwrap(), b"shared by the replicas");
        assert_eq!(
            kds.vcek_requests.load(Ordering::SeqCst),
            expected_fetches,
            "the KDS was asked again"
        );
        // A token from one replica is honoured by the other.
        let other = if std::ptr::eq(client, &ca) { &cb } else { &ca };
        assert_eq!(
            other.get("/v1/secrets/disk-key", Some(&r.token)).status,
            200
        );
    }

    // One nonce, used at both replicas at the same moment: exactly one
    // success, the other a replay.
    for round in 0..8 {
        let key = GuestKey::new(Kem::X25519);
        let nonce = if round % 2 == 0 {
            ca.challenge("snp")
        } else {
            cb.challenge("snp")
        };
        let (evidence, table) = world.evidence("snp", &nonce, &key, None);
        let req = request(&nonce, &evidence, &key, table.as_deref(), &["disk-key"]);
        let barrier = std::sync::Barrier::new(2);
        let (ra, rb) = std::thread::scope(|s| {
            let ta = s.spawn(|| {
                barrier.wait();
                ca.attest(&req)
            });
            let tb = s.spawn(|| {
                barrier.wait();
                cb.attest(&req)
            });
            (ta.join().unwrap(), tb.join().unwrap())
        });
        let mut statuses = [ra.status, rb.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "round {round}");
        let loser = if ra.status == 409 { &ra } else { &rb };
        refused(loser, 409, "nonce.replayed");
    }

    // A signing key rotated at B is used by A once it reloads (within
    // 30 s), and both keep publishing the old one meanwhile; here: B's
    // JWKS has both at once.
    at_b(&["admin", "rotate-signing-key"]);
    assert_eq!(
        cb.get("/v1/keys", None).json()["keys"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}
