//! Text and JSON output of a verification.

use std::fmt::Write as _;

use cogito_snp::claims::TcbClaims;
use serde_json::json;

use crate::verify::{Failure, Success};

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn tcb(t: &TcbClaims) -> String {
    format!("{} ({})", t.parts, t.raw)
}

/// The human summary: verdict first, then platform, product, TCB,
/// measurement, policy bits, and what was checked.
pub fn render_text(result: &Result<Success, Failure>) -> String {
    let mut o = String::new();
    match result {
        Err(f) => {
            let _ = writeln!(o, "REJECTED  {}", f.message);
            let _ = writeln!(
                o,
                "  code            {} ({}, exit {})",
                f.code,
                f.class.as_str(),
                f.class.exit_code()
            );
        }
        Ok(s) => {
            let v = &s.verified;
            let p = &v.platform;
            let r = &p.report;
            let e = &p.endorsement;
            let _ = writeln!(
                o,
                "VERIFIED  {} — {} (product from {})",
                s.evidence_kind, p.product, p.product_source
            );
            let _ = writeln!(o, "  verified at     {}", v.verified_at);
            let chain: Vec<String> = e
                .chain
                .iter()
                .rev()
                .map(|c| {
                    let cn = c.subject.rsplit("CN=").next().unwrap_or(&c.subject);
                    if c.builtin_anchor {
                        format!("{cn} (built-in)")
                    } else {
                        cn.to_string()
                    }
                })
                .collect();
            let _ = writeln!(
                o,
                "  signed by       {} via {}",
                r.signing_key.as_str(),
                chain.join(" → ")
            );
            if let Some(csp) = &e.extensions.csp_id {
                let _ = writeln!(o, "  VLEK issued to  {csp}");
            }
            let _ = writeln!(o, "  report version  {}", r.version);
            let _ = writeln!(
                o,
                "  firmware        current {}, committed {}{}",
                r.current_version,
                r.committed_version,
                if p.provisional_firmware {
                    " (PROVISIONAL)"
                } else {
                    ""
                }
            );
            let _ = writeln!(o, "  TCB reported    {}", tcb(&r.reported_tcb));
            let _ = writeln!(o, "      current     {}", tcb(&r.current_tcb));
            let _ = writeln!(o, "      committed   {}", tcb(&r.committed_tcb));
            let _ = writeln!(o, "      launch      {}", tcb(&r.launch_tcb));
            let _ = writeln!(o, "  measurement     {}", r.measurement.to_hex());
            let _ = writeln!(o, "  report data     {}", r.report_data.to_hex());
            let _ = writeln!(o, "  host data       {}", r.host_data.to_hex());
            let _ = writeln!(
                o,
                "  chip id         {}",
                if r.chip_id_masked {
                    "masked".to_string()
                } else {
                    r.chip_id.to_hex()
                }
            );
            let pol = &r.policy;
            let _ = writeln!(
                o,
                "  guest policy    {}: debug={} smt={} migrate_ma={} single_socket={} abi>={}.{}",
                pol.raw,
                yes(pol.debug_allowed),
                yes(pol.smt_allowed),
                yes(pol.migrate_ma_allowed),
                yes(pol.single_socket_required),
                pol.abi_major,
                pol.abi_minor
            );
            let _ = writeln!(
                o,
                "  VMPL            {} (guest SVN {})",
                r.vmpl, r.guest_svn
            );
            let pi = &r.platform_info;
            let _ = writeln!(
                o,
                "  platform info   {}: smt={} tsme={} ecc={} rapl_dis={} ciphertext_hiding={} alias_check={} bit6={} tio={}",
                pi.raw,
                yes(pi.smt_enabled),
                yes(pi.tsme_enabled),
                yes(pi.ecc_enabled),
                yes(pi.rapl_disabled),
                yes(pi.ciphertext_hiding_enabled),
                yes(pi.alias_check_complete),
                yes(pi.bit6),
                yes(pi.tio_enabled)
            );
            if let (Some(l), Some(c)) = (&r.launch_mit_vector, &r.current_mit_vector) {
                let _ = writeln!(o, "  mitigations     launch {l}, current {c}");
            }
            if v.claims.debug {
                let _ = writeln!(o, "  WARNING         the guest policy allows debugging: its memory is not confidential");
            }
            let _ = writeln!(o, "checked:");
            for c in &v.checks {
                let _ = writeln!(o, "  ✓ {:<18} {}", c.name, c.detail);
            }
        }
    }
    o
}

pub fn print_text(result: &Result<Success, Failure>) {
    print!("{}", render_text(result));
}

/// The JSON document: verdict, normalized claims, every platform claim,
/// checks; or the error with its code and class.
pub fn render_json(result: &Result<Success, Failure>) -> serde_json::Value {
    match result {
        Ok(s) => json!({
            "verdict": "verified",
            "evidence": s.evidence_kind,
            "verified_at": s.verified.verified_at,
            "claims": s.verified.claims,
            "snp": s.verified.platform,
            "checks": s.verified.checks,
        }),
        Err(f) => json!({
            "verdict": "rejected",
            "error": {
                "code": f.code,
                "class": f.class.as_str(),
                "message": f.message,
            },
            "exit_code": f.class.exit_code(),
        }),
    }
}

pub fn print_json(result: &Result<Success, Failure>) {
    let v = render_json(result);
    println!(
        "{}",
        serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string())
    );
}
