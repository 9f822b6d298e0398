//! `cogito policy check|test|init` and `cogito verify --policy`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use cogito_core::{ErrorClass, VerificationTime};
use cogito_policy::{appraise, Appraisal, Input, Policy, PolicyError};
use serde_json::json;

use crate::output;
use crate::verify::{self, Failure, Format, Outcome, Success, VerifyOpts};

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
        PolicyCommand::Test(a) => run_verify_with_policy(&a.policy, &a.evidence, &a.opts, a.format),
        PolicyCommand::Init(a) => init(a),
    }
}

/// Loads a policy file, resolving includes relative to its directory.
pub fn load_policy_file(path: &Path) -> Result<Policy, PolicyError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
        file: name.clone(),
        line: None,
        column: None,
        message: format!("cannot read: {e}"),
        hint: None,
    })?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    cogito_policy::load(&name, &text, &mut |inc: &str| {
        std::fs::read_to_string(dir.join(inc))
            .map_err(|e| format!("{}: {e}", dir.join(inc).display()))
    })
}

fn now() -> VerificationTime {
    VerificationTime::from_unix(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    )
}

fn check(a: &CheckArgs) -> i32 {
    let at = match &a.at {
        Some(s) => match VerificationTime::parse_rfc3339(s) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("--at: {e}");
                return ErrorClass::Usage.exit_code();
            }
        },
        None => now(),
    };
    let mut failed = false;
    let mut reports = Vec::new();
    for f in &a.files {
        match load_policy_file(f) {
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
                    println!(
                        "ok       {}: policy {:?} for {} ({} include(s), sha256 {})",
                        f.display(),
                        p.name,
                        platforms.join(", "),
                        p.includes.len(),
                        &p.digest[..16]
                    );
                    for n in &notices {
                        println!(
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
                    println!("INVALID  {e}");
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
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).unwrap_or_default()
        );
    }
    if failed {
        ErrorClass::BadInput.exit_code()
    } else {
        0
    }
}

fn policy_failure(e: &PolicyError) -> Failure {
    Failure {
        code: e.code(),
        class: ErrorClass::BadInput,
        message: e.to_string(),
    }
}

fn input(s: &Success) -> Input<'_> {
    match &s.outcome {
        Outcome::Snp(v) => Input::Snp(v),
        Outcome::Cca(v) => Input::Cca(v),
        Outcome::Tdx {
            verified,
            event_log,
        } => Input::Tdx {
            verified,
            event_log: event_log.as_ref().map(|e| &e.log),
        },
    }
}

fn refuse_knobs(opts: &VerifyOpts) -> Result<(), Failure> {
    let mut knobs = Vec::new();
    if !opts.allow_tcb_status.is_empty() {
        knobs.push("--allow-tcb-status (use tdx.tcb_statuses)");
    }
    if opts.permit_provisional_firmware {
        knobs.push("--permit-provisional-firmware (use snp.allow_provisional_firmware)");
    }
    if !opts.allow_lifecycle.is_empty() {
        knobs.push("--allow-lifecycle (use cca.lifecycles)");
    }
    if knobs.is_empty() {
        Ok(())
    } else {
        Err(Failure {
            code: "usage.policy_knob",
            class: ErrorClass::Usage,
            message: format!(
                "with a policy, the policy decides: drop {}",
                knobs.join(", ")
            ),
        })
    }
}

/// `cogito verify EVIDENCE --policy POLICY` and `cogito policy test`.
pub fn run_verify_with_policy(
    policy: &Path,
    evidence: &Path,
    opts: &VerifyOpts,
    format: Format,
) -> i32 {
    let result = (|| {
        refuse_knobs(opts)?;
        let policy = load_policy_file(policy).map_err(|e| policy_failure(&e))?;
        let mut opts = opts.clone();
        opts.for_policy = true;
        let verified = verify::verify(evidence, &opts);
        Ok::<_, Failure>((policy, verified))
    })();
    let (policy, verified) = match result {
        Ok(x) => x,
        Err(f) => {
            let r = Err(f);
            match format {
                Format::Text => output::print_text(&r),
                Format::Json => output::print_json(&r),
            }
            return r.err().map_or(1, |f| f.class.exit_code());
        }
    };
    let appraisal = verified.as_ref().ok().map(|s| appraise(&policy, input(s)));
    match format {
        Format::Text => {
            if let Some(a) = &appraisal {
                print!("{}", render_appraisal(a, &policy));
                println!();
                println!("── the evidence (verified before the policy was applied)");
            }
            output::print_text(&verified);
        }
        Format::Json => {
            let mut doc = json!({ "verification": output::render_json(&verified) });
            if let Some(a) = &appraisal {
                doc["appraisal"] = serde_json::to_value(a).unwrap_or_default();
                doc["ear"] = a.to_ear();
            }
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
    }
    match (&verified, &appraisal) {
        (Err(f), _) => f.class.exit_code(),
        (Ok(_), Some(a)) if a.accepted => 0,
        _ => ErrorClass::Policy.exit_code(),
    }
}

/// The appraisal for people: verdict, then failed rules in full, then the
/// passed ones on a line each.
pub fn render_appraisal(a: &Appraisal, policy: &Policy) -> String {
    let mut o = String::new();
    let failed = a.failures().count();
    if a.accepted {
        let _ = writeln!(
            o,
            "POLICY ACCEPTED  {:?} ({} rules passed; EAR status {})",
            a.policy,
            a.rules.len(),
            a.status.as_str()
        );
    } else {
        let _ = writeln!(
            o,
            "POLICY REFUSED   {:?} ({failed} of {} rules failed; EAR status {})",
            a.policy,
            a.rules.len(),
            a.status.as_str()
        );
    }
    let _ = writeln!(
        o,
        "  policy file     {} (sha256 {})",
        policy.file, policy.digest
    );
    let tv = serde_json::to_value(a.trust_vector).unwrap_or_default();
    if let Some(m) = tv.as_object() {
        let parts: Vec<String> = m
            .iter()
            .filter(|(_, v)| v.as_i64() != Some(0))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(o, "  trust vector    {}", parts.join(" "));
    }
    if failed > 0 {
        let _ = writeln!(o, "failed:");
        for r in a.failures() {
            let _ = writeln!(
                o,
                "  ✗ {}{}",
                r.rule,
                if r.default { " (default)" } else { "" }
            );
            let _ = writeln!(o, "      expected  {}", r.expected);
            let _ = writeln!(o, "      actual    {}", r.actual);
            if let Some(n) = &r.note {
                let _ = writeln!(o, "      note      {n}");
            }
        }
    }
    let warned: Vec<_> = a.rules.iter().filter(|r| r.passed && r.warning).collect();
    if !warned.is_empty() {
        let _ = writeln!(o, "passed with a warning:");
        for r in warned {
            let _ = writeln!(
                o,
                "  ! {:<44} {}{}",
                r.rule,
                r.actual,
                r.note
                    .as_ref()
                    .map(|n| format!("  ({n})"))
                    .unwrap_or_default()
            );
        }
    }
    let _ = writeln!(o, "passed:");
    for r in a.rules.iter().filter(|r| r.passed && !r.warning) {
        let _ = writeln!(
            o,
            "  ✓ {:<44} {}{}",
            format!("{}{}", r.rule, if r.default { " (default)" } else { "" }),
            r.actual,
            r.note
                .as_ref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default()
        );
    }
    o
}

fn init(a: &InitArgs) -> i32 {
    let fail = |f: Failure| {
        eprintln!("cogito policy init: {} [{}]", f.message, f.code);
        f.class.exit_code()
    };
    if let Err(f) = refuse_knobs(&a.opts) {
        return fail(f);
    }
    let mut opts = a.opts.clone();
    opts.for_policy = true;
    let verified = match verify::verify(&a.from, &opts) {
        Ok(v) => v,
        Err(f) => return fail(f),
    };
    let input = input(&verified);
    let tee = match input {
        Input::Snp(_) => "snp",
        Input::Tdx { .. } => "tdx",
        Input::Cca(_) => "cca",
    };
    let name = a.name.clone().unwrap_or_else(|| format!("pinned-{tee}"));
    let made_at = now().to_string();
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
                return fail(Failure {
                    code: "internal.policy_init",
                    class: ErrorClass::Internal,
                    message: format!(
                        "the generated policy refuses its own evidence ({}); please report this",
                        failed.join(", ")
                    ),
                });
            }
        }
        Err(e) => {
            return fail(Failure {
                code: "internal.policy_init",
                class: ErrorClass::Internal,
                message: format!("the generated policy does not load ({e}); please report this"),
            })
        }
    }
    match &a.output {
        None => {
            print!("{text}");
            0
        }
        Some(path) => {
            if path.exists() && !a.force {
                return fail(Failure {
                    code: "usage.output_exists",
                    class: ErrorClass::Usage,
                    message: format!("{} exists; pass --force to overwrite it", path.display()),
                });
            }
            match std::fs::write(path, &text) {
                Ok(()) => {
                    eprintln!(
                        "wrote {} (policy {name:?}); check it with `cogito policy check {}`",
                        path.display(),
                        path.display()
                    );
                    0
                }
                Err(e) => fail(Failure {
                    code: "output.unwritable",
                    class: ErrorClass::Internal,
                    message: format!("{}: {e}", path.display()),
                }),
            }
        }
    }
}
