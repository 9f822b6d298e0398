//! A scripted HTTP/1.1 server on 127.0.0.1 for the collateral clients'
//! tests (never any other address).

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One scripted answer: status, extra headers, body.
pub type Answer = (u16, Vec<(&'static str, String)>, Vec<u8>);

/// Serves the scripted answers in order, then 500s.
/// Returns the base URL, a request counter and the paths requested.
pub fn serve(script: Vec<Answer>) -> (String, Arc<AtomicUsize>, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let paths = Arc::new(Mutex::new(Vec::new()));
    let (c, p) = (count.clone(), paths.clone());
    std::thread::spawn(move || {
        let mut script = script.into_iter();
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            p.lock()
                .unwrap()
                .push(line.split(' ').nth(1).unwrap_or("").to_string());
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap() == 0 || h == "\r\n" {
                    break;
                }
            }
            c.fetch_add(1, Ordering::SeqCst);
            let (status, headers, body) = script.next().unwrap_or((500, Vec::new(), Vec::new()));
            let mut head = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nretry-after: 0\r\nconnection: close\r\n",
                body.len()
            );
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (base, count, paths)
}
