//! `cogito-testkit generate DIR`: writes the SEV-SNP test vectors;
//! `cogito-testkit generate-tdx DIR`: writes the TDX test vectors;
//! `cogito-testkit generate-cca DIR`: writes the CCA test vectors.

// Test tooling over fixtures it builds itself: it signs FAKE evidence for
// tests and is never a dependency of shipped code, so a panic here fails a
// test (or the vector generator), never a verifier on untrusted input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cogito-testkit generate <DIR>       (e.g. test-vectors/snp)\n\
       cogito-testkit generate-tdx <DIR>   (e.g. test-vectors/tdx)\n\
       cogito-testkit generate-cca <DIR>   (e.g. test-vectors/cca)\n\
\n\
Writes the FAKE-key SEV-SNP (generate), TDX (generate-tdx) or CCA\n\
(generate-cca) test vectors and MANIFEST.toml into DIR, deterministically:\n\
running it twice gives byte-identical files.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (kind, dir) = match args.as_slice() {
        [cmd, dir] if cmd == "generate" => ("snp", PathBuf::from(dir)),
        [cmd, dir] if cmd == "generate-tdx" => ("tdx", PathBuf::from(dir)),
        [cmd, dir] if cmd == "generate-cca" => ("cca", PathBuf::from(dir)),
        [flag] if flag == "-h" || flag == "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    let (written, cases, files) = match kind {
        "tdx" => {
            let set = cogito_testkit::tdx::generate();
            (set.write_to(&dir), set.cases.len(), set.all_files().len())
        }
        "cca" => {
            let set = cogito_testkit::cca::generate();
            (set.write_to(&dir), set.cases.len(), set.all_files().len())
        }
        _ => {
            let set = cogito_testkit::generate();
            (set.write_to(&dir), set.cases.len(), set.all_files().len())
        }
    };
    if let Err(e) = written {
        eprintln!("cogito-testkit: writing {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    println!(
        "wrote {cases} cases, {files} files to {} in {:.1?}",
        dir.display(),
        started.elapsed()
    );
    ExitCode::SUCCESS
}
