//! CC event log parsing and RTMR replay against the real logs in
//! `shared/vectors` (MANIFEST.toml): every `tdx-eventlog-*` vector and the
//! `tdx-v4-cos113-ccel-go-tdx-guest` quote's RTMRs; plus truncations and
//! deterministic random mutations of a real log, which must never panic.
// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::{Path, PathBuf};

use cogito_core::CogitoError;
use cogito_tdx::eventlog::{
    compare_rtmrs, parse_ccel_table, parse_event_log, DecodedEvent, EventLog, LogEnd, TextEncoding,
};

fn manifest(dir: &Path) -> toml::Table {
    let text = std::fs::read_to_string(dir.join("MANIFEST.toml")).unwrap();
    text.parse().unwrap()
}

fn vectors(manifest: &toml::Table) -> Vec<&toml::Table> {
    manifest["vector"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_table().unwrap())
        .collect()
}

fn vector<'a>(manifest: &'a toml::Table, id: &str) -> &'a toml::Table {
    vectors(manifest)
        .into_iter()
        .find(|v| v["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no vector {id} in MANIFEST.toml"))
}

fn case_dir(root: &Path, v: &toml::Table) -> PathBuf {
    root.join(v["dir"].as_str().unwrap())
}

fn claim<'a>(v: &'a toml::Table, key: &str) -> &'a toml::Value {
    v["key_claims"]
        .get(key)
        .unwrap_or_else(|| panic!("{}: no key_claims.{key}", v["id"]))
}

/// key_claims rtmr0..rtmr3.
fn rtmrs(v: &toml::Table) -> [[u8; 48]; 4] {
    std::array::from_fn(|i| {
        let hex = claim(v, &format!("rtmr{i}")).as_str().unwrap();
        hex::decode(hex).unwrap().try_into().unwrap()
    })
}

/// "0:14,1:4,2:2,3:0" → [14, 4, 2, 0] (RTMR index → extended events).
fn counts(text: &str) -> [usize; 4] {
    let mut out = [usize::MAX; 4];
    for part in text.split(',') {
        let (i, n) = part.split_once(':').unwrap();
        out[i.trim().parse::<usize>().unwrap()] = n.trim().parse().unwrap();
    }
    assert!(!out.contains(&usize::MAX), "incomplete counts {text:?}");
    out
}

fn hexes(rtmrs: &[[u8; 48]; 4]) -> Vec<String> {
    rtmrs.iter().map(hex::encode).collect()
}

fn check_structure(log: &EventLog, len: usize) {
    assert!(log.end_offset <= len);
    let mut prev = 0;
    for (i, e) in log.events.iter().enumerate() {
        assert_eq!(e.index, i + 1);
        assert!(e.offset > prev && e.offset < log.end_offset);
        prev = e.offset;
        assert!(e.mr_index <= 4);
        assert!(e.sha384().is_some());
    }
}

#[test]
fn eventlog_vectors_replay_to_the_manifest_rtmrs() {
    let Some(root) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let m = manifest(&root);
    let cases: Vec<_> = vectors(&m)
        .into_iter()
        .filter(|v| v["id"].as_str().unwrap().starts_with("tdx-eventlog-"))
        .collect();
    assert!(cases.len() >= 4, "expected the four tdx-eventlog-* vectors");
    for v in cases {
        let id = v["id"].as_str().unwrap();
        assert_eq!(v["mode"].as_str(), Some("eventlog-only"), "{id}");
        let bytes = std::fs::read(case_dir(&root, v).join("ccel/event_log.bin")).unwrap();
        let log = parse_event_log(&bytes).unwrap_or_else(|e| panic!("{id}: {e}"));
        check_structure(&log, bytes.len());
        assert_eq!(hexes(&log.replay()), hexes(&rtmrs(v)), "{id}");
        assert_eq!(
            log.events_per_rtmr(),
            counts(claim(v, "events_per_rtmr").as_str().unwrap()),
            "{id}"
        );
        let end = claim(v, "log_end_offset").as_integer().unwrap();
        assert_eq!(log.end_offset as i64, end, "{id}");
        assert_eq!(log.end, LogEnd::Padding { byte: 0xFF }, "{id}");
        assert_eq!(compare_rtmrs(&log.replay(), &rtmrs(v)), [true; 4], "{id}");
        serde_json::to_string(&log).unwrap();
    }
}

#[test]
fn cos113_ccel_replays_to_the_quoted_rtmrs() {
    let Some(root) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let m = manifest(&root);
    let v = vector(&m, "tdx-v4-cos113-ccel-go-tdx-guest");
    let dir = case_dir(&root, v);
    let table = parse_ccel_table(&std::fs::read(dir.join("ccel/acpi_table.bin")).unwrap()).unwrap();
    assert_eq!(
        table.laml as i64,
        claim(v, "ccel_laml").as_integer().unwrap()
    );
    assert_eq!(table.cc_type, 2);
    assert_eq!(table.oem_id, "INTEL ");

    let bytes = std::fs::read(dir.join("ccel/event_log.bin")).unwrap();
    assert_eq!(bytes.len() as u64, table.laml, "the log area is LAML bytes");
    let log = parse_event_log(&bytes).unwrap();
    check_structure(&log, bytes.len());
    // rtmr0..3 in key_claims are the quote's RTMR0-3.
    assert_eq!(hexes(&log.replay()), hexes(&rtmrs(v)));
    assert_eq!(
        log.events_per_rtmr(),
        counts(claim(v, "ccel_events_per_rtmr").as_str().unwrap())
    );

    // GRUB's kernel command line is decoded and bound by its digest.
    let cmdline = log
        .events
        .iter()
        .find_map(|e| match &e.decoded {
            Some(DecodedEvent::Text(t)) if t.text.starts_with("kernel_cmdline: ") => Some((e, t)),
            _ => None,
        })
        .expect("a kernel_cmdline event");
    assert_eq!(cmdline.0.event_type_name, Some("EV_IPL"));
    assert_eq!(cmdline.0.rtmr, Some(2));
    assert!(cmdline.0.data_measured);
    assert_eq!(cmdline.1.encoding, TextEncoding::Utf8);
    // The boot loader image and the SecureBoot variable.
    assert!(log.events.iter().any(|e| matches!(
        &e.decoded,
        Some(DecodedEvent::ImageLoad { file_path: Some(p), .. }) if p == "\\EFI\\BOOT\\grub-lakitu.efi"
    )));
    assert!(log.events.iter().any(|e| matches!(
        &e.decoded,
        Some(DecodedEvent::Variable { guid, name, data_len: 1 })
            if name == "SecureBoot" && guid == "8be4df61-93ca-11d2-aa0d-00e098032b8c"
    )));
    assert!(log.events.iter().any(|e| matches!(
        &e.decoded,
        Some(DecodedEvent::FirmwareBlob { description: Some(d), .. }) if d.starts_with("Fv(")
    )));
    let json = serde_json::to_value(&log).unwrap();
    let digest = json["events"][0]["digests"][0]["digest"].as_str().unwrap();
    assert_eq!(digest.len(), 96);
    assert!(digest
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
}

#[test]
fn grub_gke_skips_sp800_155_no_action_events() {
    let Some(root) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let m = manifest(&root);
    let v = vector(&m, "tdx-eventlog-grub-gke-trustee");
    let bytes = std::fs::read(case_dir(&root, v).join("ccel/event_log.bin")).unwrap();
    let log = parse_event_log(&bytes).unwrap();
    let no_action: Vec<_> = log.events.iter().filter(|e| e.event_type == 3).collect();
    assert_eq!(no_action.len(), 2);
    assert!(no_action
        .iter()
        .all(|e| e.mr_index == 0 && e.extends_rtmr().is_none()));
    // UTF-16 EV_IPL section names (".linux", ".cmdline", …).
    assert!(log.events.iter().any(|e| matches!(
        &e.decoded,
        Some(DecodedEvent::Text(t)) if t.text == ".cmdline" && t.encoding == TextEncoding::Utf16le
    )));
}

/// xorshift64: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn truncations_and_mutations_never_panic() {
    let Some(root) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let m = manifest(&root);
    let v = vector(&m, "tdx-eventlog-grub-trustee");
    let full = std::fs::read(case_dir(&root, v).join("ccel/event_log.bin")).unwrap();
    let reference = parse_event_log(&full).unwrap();
    // Beyond end_offset + 16 every prefix parses the same padded log.
    let limit = (reference.end_offset + 16).min(full.len());
    let log = &full[..limit];

    // Every truncation: an error, or a prefix of the events.
    for len in 0..=log.len() {
        match parse_event_log(&log[..len]) {
            Ok(p) => {
                check_structure(&p, len);
                assert!(p.events.len() <= reference.events.len());
                assert_eq!(p.events[..], reference.events[..p.events.len()]);
                let _ = p.replay();
            }
            Err(e) => assert!(e.code().starts_with("tdx.eventlog."), "{e}"),
        }
    }

    // Random mutations of the used part: byte flips, overwritten words,
    // and u32 fields set to extremes.
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut ok = 0;
    for round in 0..4000 {
        let mut m = log.to_vec();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(m.len());
            match round % 3 {
                0 => m[i] ^= 1 << rng.below(8),
                1 => m[i] = rng.next() as u8,
                _ => {
                    let word = [0u32, 1, 4, 5, 0xFFFF, u32::MAX, rng.next() as u32][rng.below(7)]
                        .to_le_bytes();
                    let end = (i + 4).min(m.len());
                    m[i..end].copy_from_slice(&word[..end - i]);
                }
            }
        }
        match parse_event_log(&m) {
            Ok(p) => {
                ok += 1;
                check_structure(&p, m.len());
                let _ = p.replay();
                let _ = p.events_per_rtmr();
                serde_json::to_string(&p).unwrap();
            }
            Err(e) => {
                assert!(e.code().starts_with("tdx.eventlog."), "{e}");
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(ok > 0, "some mutations (of event data) must still parse");
}

#[test]
fn ccel_table_mutations_never_panic() {
    let Some(root) = cogito_testkit::real_vectors::dir() else {
        return;
    };
    let m = manifest(&root);
    let v = vector(&m, "tdx-v4-cos113-ccel-go-tdx-guest");
    let table = std::fs::read(case_dir(&root, v).join("ccel/acpi_table.bin")).unwrap();
    for len in 0..table.len() {
        assert!(parse_ccel_table(&table[..len]).is_err());
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..2000 {
        let mut t = table.clone();
        let i = rng.below(t.len());
        let b = rng.next() as u8;
        if t[i] == b {
            continue;
        }
        t[i] = b;
        // One changed byte always breaks the checksum (or an earlier check).
        let err = parse_ccel_table(&t).unwrap_err();
        assert!(err.code().starts_with("tdx.ccel."), "{err}");
    }
}
