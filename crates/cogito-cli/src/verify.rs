//! `cogito verify`, with or without `--policy`; `cogito policy test` runs
//! the policy half.

use std::path::{Path, PathBuf};

use clap::Args;
use cogito_core::ErrorClass;

use crate::evidence::{Decider, VerifyOpts};
use crate::failure::Failure;
use crate::files::load_policy;
use crate::out::{out, outln};
use crate::output::{self, Format};

#[derive(Args, Debug)]
#[command(after_help = crate::EXIT_CODES_HELP)]
pub struct VerifyArgs {
    /// The evidence: a raw SEV-SNP report (1184 bytes), an Azure HCL report,
    /// an Intel TDX quote (v4/v5), or an Arm CCA token (CBOR tag 399 or 907).
    pub file: PathBuf,
    /// Appraise the verified claims against this policy file and print every
    /// rule's outcome; a refusal exits 7. The policy then decides the TCB
    /// status, provisional firmware and CCA lifecycle, so
    /// --allow-tcb-status, --permit-provisional-firmware and --allow-lifecycle
    /// are refused alongside it.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// How to verify.
    #[command(flatten)]
    pub opts: VerifyOpts,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(args: &VerifyArgs) -> i32 {
    if let Some(policy) = &args.policy {
        return run_with_policy(policy, &args.file, &args.opts, args.format);
    }
    let result = args
        .opts
        .prepare(&args.file, Decider::Verifier)
        .and_then(|p| p.verify());
    match args.format {
        Format::Text => output::print_text(&result),
        Format::Json => output::print_json(&result),
    }
    match result {
        Ok(_) => 0,
        Err(f) => f.class.exit_code(),
    }
}

/// `cogito verify EVIDENCE --policy POLICY` and `cogito policy test`.
pub fn run_with_policy(policy: &Path, evidence: &Path, opts: &VerifyOpts, format: Format) -> i32 {
    // Knobs first, then the policy, then the evidence: the first mistake
    // in the order a user reads the command line is the one reported.
    let prepared = opts.refuse_knobs().and_then(|()| {
        let policy = load_policy(policy)?;
        Ok((policy, opts.prepare(evidence, Decider::Policy)?))
    });
    let (policy, prepared) = match prepared {
        Ok(x) => x,
        Err(f) => {
            let r = Err(f);
            match format {
                Format::Text => output::print_text(&r),
                Format::Json => output::print_json(&r),
            }
            return r.err().map_or(1, |f: Failure| f.class.exit_code());
        }
    };
    let verified = prepared.verify();
    let appraisal = verified.as_ref().ok().map(|v| v.appraise(&policy));
    match format {
        Format::Text => {
            if let Some(a) = &appraisal {
                out!("{}", output::render_appraisal(a, &policy));
                outln!();
                outln!("── the evidence (verified before the policy was applied)");
            }
            output::print_text(&verified);
        }
        Format::Json => {
            let mut doc = serde_json::Map::new();
            doc.insert("verification".into(), output::render_json(&verified));
            if let Some(a) = &appraisal {
                doc.insert(
                    "appraisal".into(),
                    serde_json::to_value(a).unwrap_or_default(),
                );
                doc.insert("ear".into(), a.to_ear());
            }
            output::print_value(&serde_json::Value::Object(doc));
        }
    }
    match (&verified, &appraisal) {
        (Err(f), _) => f.class.exit_code(),
        (Ok(_), Some(a)) if a.accepted => 0,
        _ => ErrorClass::Policy.exit_code(),
    }
}
