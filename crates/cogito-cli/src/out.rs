//! Standard output and error that end quietly when the reader goes away.
//!
//! `cogito verify … | head -1` closes the pipe while cogito still writes.
//! `print!` would panic ("failed printing to stdout", exit 101); here a
//! write that fails with `BrokenPipe` ends the process at once with status
//! 141 — what a shell reports for a program killed by SIGPIPE, the
//! conventional outcome — and no message. Any other write error on stdout
//! exits 1 with a message on stderr. Writes to stderr never fail the
//! process: a diagnostic that cannot be shown is dropped.
//!
//! Every command prints through [`out!`], [`outln!`] and [`errln!`];
//! `main.rs` denies `print!`/`eprint!` so nothing bypasses them.

use std::io::{ErrorKind, Write};

/// Exit status after a closed stdout: 128 + SIGPIPE (13).
pub const EXIT_BROKEN_PIPE: u8 = 141;

/// Writes `text` to stdout and flushes; see the module docs for failures.
pub fn stdout(text: &str) {
    stdout_bytes(text.as_bytes());
}

/// Writes `bytes` to stdout and flushes (a secret's value, say).
pub fn stdout_bytes(bytes: &[u8]) {
    let mut lock = std::io::stdout().lock();
    if let Err(e) = lock.write_all(bytes).and_then(|()| lock.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(i32::from(EXIT_BROKEN_PIPE));
        }
        stderr(&format!("cogito: cannot write to standard output: {e}\n"));
        std::process::exit(1);
    }
}

/// Writes `text` to stderr, ignoring failures.
pub fn stderr(text: &str) {
    let mut lock = std::io::stderr().lock();
    let _ = lock.write_all(text.as_bytes());
    let _ = lock.flush();
}

/// `print!` that ends quietly on a closed pipe.
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::stdout(&format!($($arg)*)) };
}

/// `println!` that ends quietly on a closed pipe.
macro_rules! outln {
    () => { $crate::out::stdout("\n") };
    ($($arg:tt)*) => { $crate::out::stdout(&format!("{}\n", format_args!($($arg)*))) };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::out::stderr(&format!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {errln, out, outln};
