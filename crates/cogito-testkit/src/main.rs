//! `cogito-testkit generate DIR`: writes the SEV-SNP test vectors;
//! `cogito-testkit generate-tdx DIR`: writes the TDX test vectors.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cogito-testkit generate <DIR>       (e.g. test-vectors/snp)\n\
       cogito-testkit generate-tdx <DIR>   (e.g. test-vectors/tdx)\n\
\n\
Writes the FAKE-key SEV-SNP (generate) or TDX (generate-tdx) test vectors\n\
and MANIFEST.toml into DIR, deterministically: running it twice gives\n\
byte-identical files.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (tdx, dir) = match args.as_slice() {
        [cmd, dir] if cmd == "generate" => (false, PathBuf::from(dir)),
        [cmd, dir] if cmd == "generate-tdx" => (true, PathBuf::from(dir)),
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
    let (written, cases, files) = if tdx {
        let set = cogito_testkit::tdx::generate();
        (set.write_to(&dir), set.cases.len(), set.all_files().len())
    } else {
        let set = cogito_testkit::generate();
        (set.write_to(&dir), set.cases.len(), set.all_files().len())
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
