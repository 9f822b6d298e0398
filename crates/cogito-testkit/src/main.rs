//! `cogito-testkit generate DIR`: writes the SEV-SNP test vectors.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cogito-testkit generate <DIR>   (e.g. test-vectors/snp)\n\
\n\
Writes the FAKE-key SEV-SNP test vectors and MANIFEST.toml into DIR,\n\
deterministically: running it twice gives byte-identical files.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = match args.as_slice() {
        [cmd, dir] if cmd == "generate" => PathBuf::from(dir),
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
    let set = cogito_testkit::generate();
    if let Err(e) = set.write_to(&dir) {
        eprintln!("cogito-testkit: writing {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    println!(
        "wrote {} cases, {} files to {} in {:.1?}",
        set.cases.len(),
        set.all_files().len(),
        dir.display(),
        started.elapsed()
    );
    ExitCode::SUCCESS
}
