//! Every error code of every crate is unique and documented.
//!
//! Error codes are part of cogito's interface: logs, the service's problem
//! documents and scripts match on them. This test reads the sources of all
//! crates, collects the codes that `code()` methods return and the codes
//! the CLI gives its own failures, and checks that
//!
//! - no two errors share a code (a code names exactly one failure);
//! - every code is in docs/errors.md, and docs/errors.md lists no code that
//!   no longer exists;
//! - every code the CLI maps to a flag hint exists.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The source without its `#[cfg(test)]` module (tests name codes too).
fn shipped(src: &str) -> &str {
    src.find("#[cfg(test)]").map_or(src, |i| &src[..i])
}

/// The bodies of every `fn NAME(` in `src`, by brace matching.
fn bodies<'a>(src: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!("fn {name}(");
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = src[from..].find(&needle) {
        let start = from + at;
        let Some(open) = src[start..].find('{').map(|i| start + i + 1) else {
            break;
        };
        // A declaration without a body (a trait method) ends at `;`.
        if src[start..open].contains(';') {
            from = start + needle.len();
            continue;
        }
        let mut depth = 1;
        let mut end = open;
        for (i, c) in src[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = open + i;
                break;
            }
        }
        out.push(&src[open..end]);
        from = end;
    }
    out
}

fn is_code(s: &str) -> bool {
    s.contains('.')
        && !s.starts_with('.')
        && !s.ends_with('.')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
}

/// String literals in `text`, in order.
fn literals(text: &str) -> Vec<&str> {
    text.split('"')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s)
        .collect()
}

struct Codes {
    /// code → where it is returned (file and count).
    returned: BTreeMap<String, Vec<String>>,
    /// Codes the CLI gives its own failures.
    cli: BTreeSet<String>,
    /// Codes the CLI's flag hints name.
    hinted: BTreeSet<String>,
}

fn collect() -> Codes {
    let mut files = Vec::new();
    rust_files(&workspace().join("crates"), &mut files);
    files.sort();
    let mut codes = Codes {
        returned: BTreeMap::new(),
        cli: BTreeSet::new(),
        hinted: BTreeSet::new(),
    };
    for f in files {
        let path = f.display().to_string();
        if path.contains("/tests/") || path.contains("/benches/") {
            continue;
        }
        let src = std::fs::read_to_string(&f).unwrap();
        let src = shipped(&src);
        for body in bodies(src, "code") {
            // A code is what an arm returns: the literal after `=>`, or
            // the body's only literal.
            let arms: Vec<&str> = body.split("=>").skip(1).collect();
            let returned: Vec<&str> = if arms.is_empty() {
                literals(body)
            } else {
                arms.iter()
                    .filter_map(|a| literals(a).first().copied())
                    .collect()
            };
            for c in returned.into_iter().filter(|c| is_code(c)) {
                codes
                    .returned
                    .entry(c.to_string())
                    .or_default()
                    .push(path.clone());
            }
        }
        if path.contains("cogito-cli/src") {
            for marker in ["Failure::new(", "Failure::bad_input("] {
                for piece in src.split(marker).skip(1) {
                    // Only a literal first argument is a code.
                    if !piece.trim_start().starts_with('"') {
                        continue;
                    }
                    if let Some(c) = literals(piece).first().filter(|c| is_code(c)) {
                        codes.cli.insert(c.to_string());
                    }
                }
            }
            for body in bodies(src, "flag_hint") {
                for arm in body.split("=>") {
                    // The patterns of an arm are the literals before `=>`
                    // on its last line(s): take the trailing `"a" | "b"`.
                    let tail = arm.rsplit(['{', '}', ',']).next().unwrap_or("");
                    for c in literals(tail).into_iter().filter(|c| is_code(c)) {
                        codes.hinted.insert(c.to_string());
                    }
                }
            }
        }
    }
    codes
}

fn documented() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(workspace().join("docs/errors.md")).unwrap();
    doc.lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('`').nth(1))
        .filter(|c| is_code(c))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_code_names_one_failure() {
    let codes = collect();
    assert!(
        codes.returned.len() > 100,
        "the scan found only {} codes: is it still reading the sources?",
        codes.returned.len()
    );
    let shared: Vec<String> = codes
        .returned
        .iter()
        .filter(|(_, at)| at.len() > 1)
        .map(|(c, at)| format!("{c} (returned {} times: {})", at.len(), at.join(", ")))
        .collect();
    assert!(
        shared.is_empty(),
        "codes shared by several errors: {shared:#?}"
    );
    let clash: Vec<&String> = codes
        .cli
        .iter()
        .filter(|c| codes.returned.contains_key(*c))
        .collect();
    assert!(
        clash.is_empty(),
        "CLI codes that a library uses too: {clash:?}"
    );
}

#[test]
fn every_code_is_documented_and_every_documented_code_exists() {
    let codes = collect();
    let all: BTreeSet<String> = codes
        .returned
        .keys()
        .cloned()
        .chain(codes.cli.iter().cloned())
        .collect();
    let doc = documented();
    let undocumented: Vec<&String> = all.difference(&doc).collect();
    let stale: Vec<&String> = doc.difference(&all).collect();
    assert!(
        undocumented.is_empty(),
        "codes missing from docs/errors.md: {undocumented:#?}"
    );
    assert!(
        stale.is_empty(),
        "docs/errors.md lists codes nothing returns: {stale:#?}"
    );
}

#[test]
fn flag_hints_name_existing_codes() {
    let codes = collect();
    assert!(!codes.hinted.is_empty(), "no flag hints found");
    let unknown: Vec<&String> = codes
        .hinted
        .iter()
        .filter(|c| !codes.returned.contains_key(*c) && !codes.cli.contains(*c))
        .collect();
    assert!(
        unknown.is_empty(),
        "hints for codes that do not exist: {unknown:?}"
    );
}
