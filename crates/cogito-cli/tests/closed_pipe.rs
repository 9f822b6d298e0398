//! A closed pipe is not a crash: every command that prints ends quietly
//! with status 141 (128 + SIGPIPE, what a shell reports for a program
//! killed by a closed pipe) when its standard output has no reader, as in
//! `cogito verify … --format json | head -1`.
//!
//! Regression: `print!` panicked ("failed printing to stdout", exit 101).
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs cogito with `args` and a standard output whose reading end is
/// already closed: the first write fails with EPIPE, deterministically.
fn with_closed_stdout(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let child = Command::new(env!("CARGO_BIN_EXE_cogito"))
        .args(args)
        .current_dir(repo())
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn every_printing_command_ends_quietly_on_a_closed_pipe() {
    let snp = "test-vectors/snp/genoa-v3-vcek";
    let report = format!("{snp}/report.bin");
    let certs = snp.to_string();
    let anchors = "test-vectors/snp/anchors";
    let policy = "policies/snp-production.toml";
    let cases: Vec<Vec<&str>> = vec![
        vec!["demo"],
        vec![
            "verify",
            &report,
            "--certs",
            &certs,
            "--trust-anchors",
            anchors,
            "--at",
            "2025-06-01T00:00:00Z",
        ],
        vec![
            "verify",
            &report,
            "--certs",
            &certs,
            "--trust-anchors",
            anchors,
            "--at",
            "2025-06-01T00:00:00Z",
            "--format",
            "json",
        ],
        // A refusal prints too.
        vec!["verify", &report, "--format", "json"],
        vec!["policy", "check", policy],
        vec!["policy", "check", policy, "--format", "json"],
        vec![
            "policy",
            "init",
            "--from",
            &report,
            "--certs",
            &certs,
            "--trust-anchors",
            anchors,
            "--at",
            "2025-06-01T00:00:00Z",
        ],
        vec!["eventlog", "Cargo.toml"],
    ];
    for args in cases {
        let out = with_closed_stdout(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(141),
            "cogito {}: {stderr}",
            args.join(" ")
        );
        assert!(
            stderr.is_empty(),
            "cogito {} wrote to stderr: {stderr}",
            args.join(" ")
        );
    }
}

#[test]
fn a_closed_pipe_after_some_output_is_quiet_too() {
    // `| head -1`: the reader takes one line, then goes away while cogito
    // is still writing.
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_cogito"))
        .args(["demo"])
        .current_dir(repo())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("cogito demo"), "{first}");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The demo may have written everything before the reader left (then it
    // exits 0) or not (141); it never panics.
    assert!(
        matches!(out.status.code(), Some(0 | 141)),
        "{:?}: {stderr}",
        out.status
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
