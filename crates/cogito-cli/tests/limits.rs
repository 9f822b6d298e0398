//! The request limits that are not about a body's size (those are in
//! serve_e2e): JSON nesting depth and the size of the headers, each at its
//! limit and one past it, on the `/v1` and `/kbs/v0` routes. Raw HTTP/1
//! over loopback (`--insecure-http`), so the test controls every byte of
//! the request head.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;
use support::Served;

/// The defaults (docs/operations.md).
const MAX_JSON_DEPTH: usize = 32;
const MAX_HEADER_BYTES: usize = 16 << 10;

struct Raw {
    status: u16,
    body: Vec<u8>,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Sends exactly `head` (request line and headers, without the blank
/// line) and `body`, and reads the answer to the end (`connection: close`).
fn raw(addr: &str, head: &str, body: &[u8]) -> Raw {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // A server that refuses a head early may close before it is all sent.
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(b"\r\n");
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"));
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(out.len(), |p| p + 4);
    let mut body = out[split..].to_vec();
    // The body may come chunked.
    if text
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        let mut plain = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap().trim(), 16)
                .unwrap();
            if n == 0 {
                break;
            }
            plain.extend_from_slice(&rest[eol + 2..eol + 2 + n]);
            rest = &rest[eol + 2 + n + 2..];
        }
        body = plain;
    }
    Raw { status, body }
}

fn post(addr: &str, path: &str, body: &[u8]) -> Raw {
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    raw(addr, &head, body)
}

/// `{"tee":"snp","x":[[…]]}` with `depth` levels in all (the outer object
/// is the first).
fn nested(depth: usize) -> Vec<u8> {
    let inner = depth - 1;
    format!(
        "{{\"tee\":\"snp\",\"x\":{}{}}}",
        "[".repeat(inner),
        "]".repeat(inner)
    )
    .into_bytes()
}

#[test]
fn json_nesting_is_refused_by_name_one_level_past_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = Served::start(&dir.path().join("d"), &["--insecure-http"]);
    let addr = server.url.trim_start_matches("http://").to_string();

    // At the limit the body is parsed, and refused for what it says (the
    // challenge takes no field `x`).
    let at = post(&addr, "/v1/challenge", &nested(MAX_JSON_DEPTH));
    assert_eq!(at.status, 400, "{}", String::from_utf8_lossy(&at.body));
    assert_eq!(at.json()["code"], "request.malformed");
    let past = post(&addr, "/v1/challenge", &nested(MAX_JSON_DEPTH + 1));
    assert_eq!(past.status, 400);
    let p = past.json();
    assert_eq!(p["code"], "request.too_deep", "{p}");
    assert!(
        p["detail"].as_str().unwrap().contains("32 levels"),
        "the limit is named: {p}"
    );
    // Brackets inside strings are text, not nesting.
    let mut quoted = br#"{"tee":"snp","x":""#.to_vec();
    quoted.extend(std::iter::repeat_n(b'[', 10_000));
    quoted.extend_from_slice(br#"\"[{"}"#);
    let q = post(&addr, "/v1/challenge", &quoted);
    assert_eq!(q.json()["code"], "request.malformed", "{}", q.json());
    // Far past it: refused as fast, not a stack overflow.
    let deep = post(&addr, "/v1/attest", &"[".repeat(500_000).into_bytes());
    assert_eq!(deep.json()["code"], "request.too_deep");

    // The KBS protocol refuses with its own error shape.
    let kbs_at = post(&addr, "/kbs/v0/auth", &nested(MAX_JSON_DEPTH));
    assert_eq!(kbs_at.status, 400);
    assert!(
        !kbs_at.json()["detail"]
            .as_str()
            .unwrap()
            .contains("nests deeper"),
        "{}",
        kbs_at.json()
    );
    let kbs_past = post(&addr, "/kbs/v0/auth", &nested(MAX_JSON_DEPTH + 1));
    assert_eq!(kbs_past.status, 400);
    let k = kbs_past.json();
    assert!(
        k["detail"]
            .as_str()
            .unwrap()
            .contains("nests deeper than 32 levels"),
        "{k}"
    );
}

/// A `GET /healthz` head whose headers take exactly `total` bytes, each
/// counted as `name: value` CRLF.
fn head_of(total: usize) -> String {
    let fixed = ["host: x\r\n", "connection: close\r\n"].concat();
    let pad = total - fixed.len() - "x-pad: \r\n".len();
    format!(
        "GET /healthz HTTP/1.1\r\n{fixed}x-pad: {}\r\n",
        "a".repeat(pad)
    )
}

#[test]
fn headers_are_refused_by_name_one_byte_past_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let server = Served::start(&dir.path().join("d"), &["--insecure-http"]);
    let addr = server.url.trim_start_matches("http://").to_string();

    let at = raw(&addr, &head_of(MAX_HEADER_BYTES), b"");
    assert_eq!(at.status, 200, "{}", String::from_utf8_lossy(&at.body));
    let past = raw(&addr, &head_of(MAX_HEADER_BYTES + 1), b"");
    assert_eq!(past.status, 431);
    let p = past.json();
    assert_eq!(p["code"], "request.headers_too_large", "{p}");
    assert!(p["detail"].as_str().unwrap().contains("16385 bytes"), "{p}");
    // Far past the limit the HTTP parser refuses the head itself, before
    // any of it reaches a handler.
    let far = raw(&addr, &head_of(MAX_HEADER_BYTES + (64 << 10)), b"");
    assert_eq!(far.status, 431);
    // More than 100 headers, each small.
    let many: String = (0..101).map(|i| format!("x-h{i}: v\r\n")).collect();
    let crowd = raw(
        &addr,
        &format!("GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{many}"),
        b"",
    );
    assert_eq!(crowd.status, 431);
    // The server still answers.
    assert_eq!(raw(&addr, &head_of(100), b"").status, 200);
}
