//! A scripted HTTP/1.1 server on 127.0.0.1 for the collateral clients'
//! tests (never any other address).

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One scripted answer: status, extra headers, body.
pub type Answer = (u16, Vec<(&'static str, String)>, Vec<u8>);

/// Serves the scripted answers in order, then 500s.
/// Returns the base URL, a request counter and the paths requested.
pub fn serve(script: Vec<Answer>) -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
    serve_on(script, None)
}

/// The same over TLS with `tls` (a certificate for 127.0.0.1): the base
/// URL is `https://127.0.0.1:PORT`. A handshake the client refuses ends
/// that connection and nothing else.
#[allow(dead_code)] // pcs_mock's PCCS tests use it, kds_mock does not.
pub fn serve_tls(
    script: Vec<Answer>,
    tls: Arc<rustls::ServerConfig>,
) -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
    serve_on(script, Some(tls))
}

fn serve_on(
    script: Vec<Answer>,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let base = format!("{scheme}://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let paths = Arc::new(Mutex::new(Vec::new()));
    let (c, p) = (count.clone(), paths.clone());
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        for stream in listener.incoming().take(16) {
            let Ok(tcp) = stream else { break };
            let _ = tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let served = match &tls {
                None => answer(tcp, &c, &p, &mut script),
                Some(config) => {
                    let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                        continue;
                    };
                    answer(rustls::StreamOwned::new(conn, tcp), &c, &p, &mut script)
                }
            };
            // A failed exchange (a refused handshake) is the client's
            // business; the server goes on.
            let _ = served;
        }
    });
    (base, count, paths)
}

fn answer(
    stream: impl Read + Write,
    count: &AtomicUsize,
    paths: &Mutex<Vec<String>>,
    script: &mut impl Iterator<Item = Answer>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    paths
        .lock()
        .unwrap()
        .push(line.split(' ').nth(1).unwrap_or("").to_string());
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
    }
    count.fetch_add(1, Ordering::SeqCst);
    let (status, headers, body) = script.next().unwrap_or((500, Vec::new(), Vec::new()));
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nretry-after: 0\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let stream = reader.get_mut();
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)?;
    stream.flush()
}
