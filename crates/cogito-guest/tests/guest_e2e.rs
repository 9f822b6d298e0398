//! The guest end to end: the `cogito-guest` binary, collecting evidence
//! through the real configfs-tsm code from a directory that plays the
//! kernel (testkit evidence), against the real service code on a loopback
//! port; and the library's retry rules against a scripted server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod support;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::fs::PermissionsExt as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cogito_guest::retry::Backoff;
use cogito_guest::tsm::TsmAttester;
use cogito_guest::{Attester as _, Client, EvidenceError, FetchError, Tls};
use support::*;

const DISK_KEY: &[u8] = b"the fleet's disk key \x00\x01\x02\xff";

fn guest_args<'a>(svc: &'a Service, tsm: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "fetch",
        "--server",
        svc.url.as_str(),
        "--tsm-root",
        tsm,
        "--sev-device",
        "/nonexistent/sev-guest",
        "--tdx-device",
        "/nonexistent/tdx_guest",
        "--attempts",
        "2",
    ];
    args.extend_from_slice(extra);
    args
}

fn no_partial_files(dir: &std::path::Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "partial files left: {left:?}");
}

#[test]
fn each_platform_gets_its_disk_key_through_configfs_tsm() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let svc = Service::start(&world, tmp.path(), true);
    svc.put_secret("disk-key", "fleet", DISK_KEY);
    let ca = svc.cert_pem.display().to_string();

    for (i, (provider, pin, kem)) in [
        ("sev_guest", "fingerprint", "x25519"),
        ("tdx_guest", "ca", "p256"),
        ("arm_cca_guest", "fingerprint", "p256"),
    ]
    .into_iter()
    .enumerate()
    {
        let root = tmp.path().join(format!("tsm-{i}"));
        let tsm = FakeTsm::start(&root, provider, world.maker(provider), Misbehave::None);
        let root_s = root.display().to_string();
        let out = tmp.path().join(format!("out-{i}/disk.key"));
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        let out_s = out.display().to_string();
        let pin_args: Vec<&str> = if pin == "ca" {
            vec!["--ca", &ca]
        } else {
            vec!["--fingerprint", &svc.fingerprint]
        };
        let mut extra = vec!["--secret", "disk-key", "--out", &out_s, "--kem", kem];
        extra.extend(pin_args);
        let (code, stdout, err) = run_guest(&guest_args(&svc, &root_s, &extra));
        assert_eq!(code, 0, "{provider}: {err}");
        assert!(stdout.is_empty());
        assert_eq!(std::fs::read(&out).unwrap(), DISK_KEY, "{provider}");
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{provider}: the secret file's mode");
        for step in [
            "[1/7] detect",
            "[2/7] challenge",
            "[3/7] evidence",
            "[4/7] attest",
            "[5/7] token",
            "[6/7] unseal",
            "[7/7] write",
        ] {
            assert!(err.contains(step), "{provider}: no {step:?} line in\n{err}");
        }
        assert!(err.contains(&format!("configfs-tsm ({provider})")), "{err}");
        assert_eq!(
            tsm.requests.load(Ordering::SeqCst),
            1,
            "{provider}: one report"
        );
        no_partial_files(out.parent().unwrap());
    }

    // --stdout: the secret's bytes and nothing else on standard output.
    let root = tmp.path().join("tsm-stdout");
    let _tsm = FakeTsm::start(
        &root,
        "sev_guest",
        world.maker("sev_guest"),
        Misbehave::None,
    );
    let root_s = root.display().to_string();
    let (code, stdout, err) = run_guest(&guest_args(
        &svc,
        &root_s,
        &[
            "--secret",
            "disk-key",
            "--stdout",
            "--fingerprint",
            &svc.fingerprint,
            "--quiet",
        ],
    ));
    assert_eq!(code, 0, "{err}");
    assert_eq!(stdout, DISK_KEY);
    assert!(err.is_empty(), "--quiet prints nothing on success: {err}");
}

#[test]
fn a_policy_refusal_names_the_rule_exits_5_and_leaves_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let svc = Service::start(&world, tmp.path(), true);
    svc.put_secret("locked", "nobody", b"never released");
    let root = tmp.path().join("tsm");
    let tsm = FakeTsm::start(
        &root,
        "sev_guest",
        world.maker("sev_guest"),
        Misbehave::None,
    );
    let root_s = root.display().to_string();
    let outdir = tmp.path().join("out");
    std::fs::create_dir_all(&outdir).unwrap();
    let out = outdir.join("locked.key");
    let out_s = out.display().to_string();
    let (code, _, err) = run_guest(&guest_args(
        &svc,
        &root_s,
        &[
            "--secret",
            "locked",
            "--out",
            &out_s,
            "--fingerprint",
            &svc.fingerprint,
        ],
    ));
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("policy.refused"), "{err}");
    assert!(err.contains("rule snp.measurements failed"), "{err}");
    assert!(err.contains("policy nobody"), "{err}");
    assert!(
        !err.contains("attempt 2"),
        "a refusal is not retried: {err}"
    );
    assert!(!out.exists());
    no_partial_files(&outdir);
    assert_eq!(tsm.requests.load(Ordering::SeqCst), 1);

    // An unknown secret: refused before any evidence is verified, exit 5.
    let (code, _, err) = run_guest(&guest_args(
        &svc,
        &root_s,
        &[
            "--secret",
            "nope",
            "--stdout",
            "--fingerprint",
            &svc.fingerprint,
        ],
    ));
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("secret.unknown"), "{err}");
}

#[test]
fn a_wrong_pin_is_refused_before_any_evidence_is_made() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let svc = Service::start(&world, tmp.path(), true);
    svc.put_secret("disk-key", "fleet", DISK_KEY);
    let root = tmp.path().join("tsm");
    let tsm = FakeTsm::start(
        &root,
        "sev_guest",
        world.maker("sev_guest"),
        Misbehave::None,
    );
    let root_s = root.display().to_string();

    let wrong_fp = "00".repeat(32);
    let (code, stdout, err) = run_guest(&guest_args(
        &svc,
        &root_s,
        &[
            "--secret",
            "disk-key",
            "--stdout",
            "--fingerprint",
            &wrong_fp,
        ],
    ));
    assert_eq!(code, 4, "{err}");
    assert!(stdout.is_empty());
    assert!(
        err.contains("TLS") && err.contains(&svc.fingerprint),
        "names the certificate it saw: {err}"
    );
    assert!(
        !err.contains("attempt 2"),
        "a TLS refusal is not retried: {err}"
    );

    // Another CA: the testkit's ARK is a real CA certificate, not this server's.
    let other_ca = tmp.path().join("other-ca.pem");
    std::fs::write(&other_ca, &world.snp.anchors_pem()[0].1).unwrap();
    let other_s = other_ca.display().to_string();
    let (code, _, err) = run_guest(&guest_args(
        &svc,
        &root_s,
        &["--secret", "disk-key", "--stdout", "--ca", &other_s],
    ));
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("TLS"), "{err}");

    assert_eq!(
        tsm.requests.load(Ordering::SeqCst),
        0,
        "no report was asked of the TEE for an unverified server"
    );

    // No pin at all: a usage error, after the TEE was found.
    let (code, _, err) = run_guest(&guest_args(
        &svc,
        &root_s,
        &["--secret", "disk-key", "--stdout"],
    ));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--fingerprint"), "{err}");
}

#[test]
fn evidence_made_with_testkit_keys_is_refused_by_a_server_that_trusts_only_vendors() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let svc = Service::start(&world, tmp.path(), false);
    svc.put_secret("disk-key", "fleet", DISK_KEY);
    for provider in ["sev_guest", "tdx_guest"] {
        let root = tmp.path().join(format!("tsm-{provider}"));
        let _tsm = FakeTsm::start(&root, provider, world.maker(provider), Misbehave::None);
        let root_s = root.display().to_string();
        let (code, stdout, err) = run_guest(&guest_args(
            &svc,
            &root_s,
            &[
                "--secret",
                "disk-key",
                "--stdout",
                "--fingerprint",
                &svc.fingerprint,
            ],
        ));
        assert_eq!(code, 5, "{provider}: {err}");
        assert!(stdout.is_empty());
        assert!(
            err.contains("422"),
            "{provider}: refused as evidence: {err}"
        );
    }
}

#[test]
fn a_misbehaving_kernel_is_caught_on_the_guest() {
    let tmp = tempfile::tempdir().unwrap();
    let world = World::new();
    let rd = [0x5au8; 64];

    // A short outblob.
    let root = tmp.path().join("short");
    let _t = FakeTsm::start(
        &root,
        "sev_guest",
        world.maker("sev_guest"),
        Misbehave::ShortBlob,
    );
    let a = TsmAttester::open(&root).unwrap();
    let e = a.evidence(&rd).unwrap_err();
    assert!(matches!(e, EvidenceError::Interface { .. }), "{e}");
    assert!(e.to_string().contains("1184"), "{e}");

    // A racing writer once: retried in a fresh directory, and it works.
    let root = tmp.path().join("race-once");
    let t = FakeTsm::start(
        &root,
        "tdx_guest",
        world.maker("tdx_guest"),
        Misbehave::RacingWriter(1),
    );
    let a = TsmAttester::open(&root).unwrap();
    let ev = a.evidence(&rd).unwrap();
    assert_eq!(ev.tee, cogito_guest::Tee::Tdx);
    assert_eq!(t.requests.load(Ordering::SeqCst), 2, "retried once");

    // A racing writer every time: an error that says so.
    let root = tmp.path().join("race-always");
    let _t = FakeTsm::start(
        &root,
        "sev_guest",
        world.maker("sev_guest"),
        Misbehave::RacingWriter(usize::MAX),
    );
    let a = TsmAttester::open(&root).unwrap();
    let e = a.evidence(&rd).unwrap_err();
    assert!(
        matches!(
            e,
            EvidenceError::ConcurrentWriter {
                before: 0,
                after: 2,
                expected: 1,
                ..
            }
        ),
        "{e}"
    );

    // A VMPL below the floor is refused before anything is written.
    let root = tmp.path().join("vmpl");
    let t = FakeTsm::start(
        &root,
        "sev_guest",
        world.maker("sev_guest"),
        Misbehave::None,
    );
    let a = TsmAttester::open(&root).unwrap().with_privlevel(Some(2));
    // The fake's floor is 0, so VMPL 2 is fine and counts as a write.
    let ev = a.evidence(&rd).unwrap();
    assert!(
        ev.cert_table.is_some(),
        "the host's certificate table comes with SEV-SNP"
    );
    assert_eq!(t.requests.load(Ordering::SeqCst), 1);

    // No provider: the binary names configfs-tsm and both devices.
    let root = tmp.path().join("noprov");
    let _t = FakeTsm::start(
        &root,
        "sev_guest",
        world.maker("sev_guest"),
        Misbehave::NoProvider,
    );
    let root_s = root.display().to_string();
    let (code, _, err) = run_guest(&[
        "fetch",
        "--server",
        "https://127.0.0.1:9",
        "--secret",
        "x",
        "--stdout",
        "--fingerprint",
        &"00".repeat(32),
        "--tsm-root",
        &root_s,
        "--sev-device",
        "/nonexistent/sev-guest",
        "--tdx-device",
        "/nonexistent/tdx_guest",
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("no provider attribute"), "{err}");
    assert!(
        err.contains("/nonexistent/sev-guest: absent")
            && err.contains("/nonexistent/tdx_guest: absent"),
        "{err}"
    );

    // `detect` says what it found, and why the others were not used.
    let root = tmp.path().join("detect");
    let _t = FakeTsm::start(
        &root,
        "arm_cca_guest",
        world.maker("arm_cca_guest"),
        Misbehave::None,
    );
    let root_s = root.display().to_string();
    let (code, stdout, err) = run_guest(&[
        "detect",
        "--tsm-root",
        &root_s,
        "--sev-device",
        "/nonexistent/sev-guest",
        "--tdx-device",
        "/nonexistent/tdx_guest",
    ]);
    assert_eq!(code, 0, "{err}");
    let text = String::from_utf8(stdout).unwrap();
    assert!(
        text.starts_with("cca: configfs-tsm (arm_cca_guest)"),
        "{text}"
    );
    assert!(
        text.contains("/nonexistent/sev-guest: absent; not looked at further"),
        "{text}"
    );

    // `evidence` writes the report and the certificate table.
    let root = tmp.path().join("evidence");
    let _t = FakeTsm::start(
        &root,
        "sev_guest",
        world.maker("sev_guest"),
        Misbehave::None,
    );
    let root_s = root.display().to_string();
    let out = tmp.path().join("report.bin");
    let out_s = out.display().to_string();
    let (code, _, err) = run_guest(&[
        "evidence",
        "--report-data",
        &"ab".repeat(64),
        "--out",
        &out_s,
        "--tsm-root",
        &root_s,
    ]);
    assert_eq!(code, 0, "{err}");
    let report = std::fs::read(&out).unwrap();
    assert_eq!(report.len(), 1184);
    assert_eq!(&report[0x50..0x90], &[0xab; 64]);
    assert!(tmp.path().join("report.bin.certs").exists(), "{err}");
}

/// A scripted plain-HTTP server: answers every request with `status`
/// (and a problem document), counting requests.
fn scripted(status: u16, code: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            c.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; len];
            let _ = reader.read_exact(&mut body);
            let problem = format!(
                r#"{{"type":"urn:cogito:problem:{code}","title":"t","status":{status},"detail":"scripted","code":"{code}"}}"#
            );
            let mut s = stream;
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\ncontent-type: application/problem+json\r\nretry-after: 0\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{problem}",
                problem.len()
            );
        }
    });
    (url, count)
}

struct NeverCalled;
impl cogito_guest::Attester for NeverCalled {
    fn tee(&self) -> cogito_guest::Tee {
        cogito_guest::Tee::Snp
    }
    fn interface(&self) -> String {
        "never".into()
    }
    fn evidence(&self, _: &[u8; 64]) -> Result<cogito_guest::Evidence, EvidenceError> {
        panic!("no evidence without a challenge")
    }
}

#[test]
fn transient_failures_are_retried_and_refusals_are_not() {
    let fast = Backoff {
        attempts: 3,
        base: Duration::from_millis(10),
        max: Duration::from_millis(20),
    };
    // 503 with Retry-After: three attempts, then Unreachable.
    let (url, count) = scripted(503, "service.saturated");
    let c = Client::new(&url, Tls::InsecurePlainHttp)
        .unwrap()
        .with_backoff(fast);
    let e = c.fetch_secrets_with(&NeverCalled, &["k"]).unwrap_err();
    assert!(
        matches!(e, FetchError::Unreachable { attempts: 3, .. }),
        "{e}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 3);
    // 429 likewise.
    let (url, count) = scripted(429, "request.rate_limited");
    let c = Client::new(&url, Tls::InsecurePlainHttp)
        .unwrap()
        .with_backoff(fast);
    assert!(matches!(
        c.fetch_secrets_with(&NeverCalled, &["k"]),
        Err(FetchError::Unreachable { .. })
    ));
    assert_eq!(count.load(Ordering::SeqCst), 3);
    // A refusal: once, final.
    let (url, count) = scripted(400, "request.malformed");
    let c = Client::new(&url, Tls::InsecurePlainHttp)
        .unwrap()
        .with_backoff(fast);
    let e = c.fetch_secrets_with(&NeverCalled, &["k"]).unwrap_err();
    assert!(
        matches!(&e, FetchError::Refused { problem, .. } if problem.code == "request.malformed"),
        "{e}"
    );
    assert_eq!(count.load(Ordering::SeqCst), 1);
    // Nobody listening: connection errors are retried, then Unreachable.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = Client::new(&format!("http://127.0.0.1:{port}"), Tls::InsecurePlainHttp)
        .unwrap()
        .with_backoff(fast);
    assert!(matches!(
        c.fetch_secrets_with(&NeverCalled, &["k"]),
        Err(FetchError::Unreachable { attempts: 3, .. })
    ));
    // https:// is required unless plain HTTP is chosen by name.
    assert!(matches!(
        Client::new("http://127.0.0.1:1", Tls::Fingerprint([0; 32])),
        Err(FetchError::Settings(_))
    ));
}
