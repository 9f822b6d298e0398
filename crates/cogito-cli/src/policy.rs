//! `cogito policy check|test|init` and `cogito verify --policy`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use cogito_core::{CogitoError, ErrorClass, VerificationTime};
use cogito_policy::{appraise, Input};
use serde_json::json;

use crate::evidence::{Decider, VerifyOpts};
use crate::failure::Failure;
use crate::files::load_policy;
use crate::out::{errln, out, outln};
use crate::output::{self, Format};
use crate::verify;

#[derive(Args, Debug)]
#[command(after_help = crate::EXIT_CODES_HELP)]
pub struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Subcommand, Debug)]
enum PolicyCommand {
    /// Validate policy files: unknown keys, wrong hex lengths, impossible
    /// values and contradictory rules are errors with file, line and a hint.
    /// Also lists reference values that have expired or expire within 30 days.
    Check(CheckArgs),
    /// Verify evidence and appraise it against a policy, printing every
    /// rule's outcome, failures first. Exit 7 when the policy refuses it.
    Test(TestArgs),
    /// Write a starting policy that pins exactly what known-good evidence
    /// reported, with a comment on every line.
    Init(InitArgs),
    #[command(flatten)]
    Remote(crate::manage::PolicyRemote),
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Policy files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Judge expiry dates at this time, RFC 3339 (default: now).
    #[arg(long, value_name = "RFC3339")]
    at: Option<String>,
    /// Also fail (exit 3) when a reference value has expired, e.g. in the
    /// CI job that publishes policies.
    #[arg(long)]
    strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Args, Debug)]
struct TestArgs {
    /// The policy file.
    #[arg(id = "policy_file", value_name = "POLICY")]
    policy: PathBuf,
    /// The evidence.
    #[arg(value_name = "EVIDENCE")]
    evidence: PathBuf,
    #[command(flatten)]
    opts: VerifyOpts,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Args, Debug)]
struct InitArgs {
    /// Known-good evidence to pin.
    #[arg(long = "from", value_name = "EVIDENCE")]
    from: PathBuf,
    /// The policy name [default: pinned-<platform>].
    #[arg(long)]
    name: Option<String>,
    /// Write to this file instead of standard output (refuses to overwrite
    /// an existing file unless --force).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Overwrite the output file.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    opts: VerifyOpts,
}

pub fn run(args: &PolicyArgs) -> i32 {
    match &args.command {
        PolicyCommand::Check(a) => check(a),
        PolicyCommand::Test(a) => {
            verify::run_with_policy(&a.policy, &a.evidence, &a.opts, a.format)
        }
        PolicyCommand::Init(a) => init(a),
        PolicyCommand::Remote(r) => crate::manage::policy(r),
    }
}

fn check(a: &CheckArgs) -> i32 {
    let at = match &a.at {
        Some(s) => match VerificationTime::parse_rfc3339(s) {
            Ok(t) => t,
            Err(e) => {
                errln!("--at: {e}");
                return ErrorClass::Usage.exit_code();
            }
        },
        None => VerificationTime::now(),
    };
    let mut failed = false;
    let mut reports = Vec::new();
    for f in &a.files {
        match load_policy(f) {
            Ok(p) => {
                let notices = p.expiry_notices(at, 30 * 86_400);
                if a.strict && notices.iter().any(|n| n.expired) {
                    failed = true;
                }
                let platforms: Vec<&str> = [
                    p.rules.snp.as_ref().map(|_| "snp"),
                    p.rules.tdx.as_ref().map(|_| "tdx"),
                    p.rules.cca.as_ref().map(|_| "cca"),
                ]
                .into_iter()
                .flatten()
                .collect();
                if a.format == Format::Text {
                    outln!(
                        "ok       {}: policy {:?} for {} ({} include(s), sha256 {})",
                        f.display(),
                        p.name,
                        platforms.join(", "),
                        p.includes.len(),
                        &p.digest[..16]
                    );
                    for n in &notices {
                        outln!(
                            "  {} {} {} {} (from {})",
                            if n.expired { "EXPIRED " } else { "expires " },
                            n.expires,
                            n.rule,
                            n.value,
                            n.source
                        );
                    }
                }
                reports.push(json!({
                    "file": f.display().to_string(),
                    "valid": true,
                    "name": p.name,
                    "platforms": platforms,
                    "digest": p.digest,
                    "expiry_notices": notices.iter().map(|n| json!({
                        "rule": n.rule, "value": n.value, "expires": n.expires,
                        "expired": n.expired, "source": n.source,
                    })).collect::<Vec<_>>(),
                }));
            }
            Err(e) => {
                failed = true;
                if a.format == Format::Text {
                    outln!("INVALID  {e}");
                }
                reports.push(json!({
                    "file": f.display().to_string(),
                    "valid": false,
                    "error": {
                        "code": e.code(),
                        "file": e.file, "line": e.line, "column": e.column,
                        "message": e.message, "hint": e.hint,
                    },
                }));
            }
        }
    }
    if a.format == Format::Json {
        output::print_value(&serde_json::Value::Array(reports));
    }
    if failed {
        ErrorClass::BadInput.exit_code()
    } else {
        0
    }
}

fn init(a: &InitArgs) -> i32 {
    let fail = |f: Failure| {
        errln!("cogito policy init: {} [{}]", f.message, f.code);
        if let Some(h) = f.hint() {
            errln!("  hint: {h}");
        }
        f.class.exit_code()
    };
    let verified = match a
        .opts
        .prepare(&a.from, Decider::Policy)
        .and_then(|p| p.verify())
    {
        Ok(v) => v,
        Err(f) => return fail(f),
    };
    let input = verified.policy_input();
    let tee = match input {
        Input::Snp(_) => "snp",
        Input::Tdx { .. } => "tdx",
        Input::Cca(_) => "cca",
    };
    let name = a.name.clone().unwrap_or_else(|| format!("pinned-{tee}"));
    let made_at = VerificationTime::now().to_string();
    let text = cogito_policy::init::policy_from_evidence(
        input,
        &name,
        &a.from.display().to_string(),
        &made_at,
    );
    // The generated policy must load and accept its own evidence; anything
    // else is a bug in the generator, not the operator's problem to debug.
    match cogito_policy::load("(generated)", &text, &mut |_| Err("no includes".into())) {
        Ok(p) => {
            let appraisal = appraise(&p, input);
            if !appraisal.accepted {
                let failed: Vec<&str> = appraisal.failures().map(|r| r.rule.as_str()).collect();
                return fail(Failure::new(
                    "internal.policy_init",
                    ErrorClass::Internal,
                    format!(
                        "the generated policy refuses its own evidence ({}); please report this",
                        failed.join(", ")
                    ),
                ));
            }
        }
        Err(e) => {
            return fail(Failure::new(
                "internal.policy_init",
                ErrorClass::Internal,
                format!("the generated policy does not load ({e}); please report this"),
            ))
        }
    }
    match &a.output {
        None => {
            out!("{text}");
            0
        }
        Some(path) => {
            if path.exists() && !a.force {
                return fail(Failure::new(
                    "usage.output_exists",
                    ErrorClass::Usage,
                    format!("{} exists; pass --force to overwrite it", path.display()),
                ));
            }
            match std::fs::write(path, &text) {
                Ok(()) => {
                    errln!(
                        "wrote {} (policy {name:?}); check it with `cogito policy check {}`",
                        path.display(),
                        path.display()
                    );
                    0
                }
                Err(e) => fail(Failure::new(
                    "output.unwritable",
                    ErrorClass::Internal,
                    format!("{}: {e}", path.display()),
                )),
            }
        }
    }
}
