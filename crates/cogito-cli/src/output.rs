//! Text and JSON output: verifications, failures, appraisals. Rendering
//! only; this module knows no command and no flag.

use std::fmt::Write as _;

use clap::ValueEnum;
use cogito_attest::{EventLogReplay, Outcome, Verification};
use cogito_policy::{Appraisal, Policy};
use cogito_snp::TcbClaims;
use serde_json::json;

use crate::failure::Failure;
use crate::out::{out, outln};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A summary for people: verdict first.
    Text,
    /// Every claim, machine-readable; byte strings as lower-case hex.
    Json,
}

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
pub fn render_text(result: &Result<Verification, Failure>) -> String {
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
            if let Some(h) = f.hint() {
                let _ = writeln!(o, "  hint            {h}");
            }
        }
        Ok(s) => {
            let kind = s.kind.description();
            match &s.outcome {
                Outcome::Snp(v) => render_snp(&mut o, kind, v),
                Outcome::Cca(v) => render_cca(&mut o, kind, v),
                Outcome::Tdx {
                    verified,
                    event_log,
                } => render_tdx(&mut o, kind, verified, event_log.as_ref()),
            }
        }
    }
    o
}

fn render_snp(
    o: &mut String,
    evidence_kind: &str,
    v: &cogito_core::Verified<cogito_snp::SnpClaims>,
) {
    let p = &v.platform;
    let r = &p.report;
    let e = &p.endorsement;
    let _ = writeln!(
        o,
        "VERIFIED  {} — {} (product from {})",
        evidence_kind, p.product, p.product_source
    );
    let _ = writeln!(*o, "  verified at     {}", v.verified_at);
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
        let _ = writeln!(*o, "  VLEK issued to  {csp}");
    }
    let _ = writeln!(*o, "  report version  {}", r.version);
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
    let _ = writeln!(*o, "  TCB reported    {}", tcb(&r.reported_tcb));
    let _ = writeln!(*o, "      current     {}", tcb(&r.current_tcb));
    let _ = writeln!(*o, "      committed   {}", tcb(&r.committed_tcb));
    let _ = writeln!(*o, "      launch      {}", tcb(&r.launch_tcb));
    let _ = writeln!(*o, "  measurement     {}", r.measurement.to_hex());
    let _ = writeln!(*o, "  report data     {}", r.report_data.to_hex());
    let _ = writeln!(*o, "  host data       {}", r.host_data.to_hex());
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
        let _ = writeln!(*o, "  mitigations     launch {l}, current {c}");
    }
    if v.claims.debug {
        let _ = writeln!(
            *o,
            "  WARNING         the guest policy allows debugging: its memory is not confidential"
        );
    }
    let _ = writeln!(*o, "checked:");
    for c in &v.checks {
        let _ = writeln!(*o, "  ✓ {:<18} {}", c.name, c.detail);
    }
}

fn render_tdx(
    o: &mut String,
    evidence_kind: &str,
    v: &cogito_core::Verified<cogito_tdx::TdxClaims>,
    event_log: Option<&EventLogReplay>,
) {
    let p = &v.platform;
    let b = &p.body;
    let _ = writeln!(
        *o,
        "VERIFIED  {} — quote v{}, {}",
        evidence_kind,
        p.quote_version,
        cogito_tdx::body_name(b.body_type)
    );
    let _ = writeln!(*o, "  verified at     {}", v.verified_at);
    match &p.tcb {
        Some(t) => {
            let e = &t.evaluation;
            let _ = writeln!(
                *o,
                "  TCB status      {:?} (platform {:?}, module {}, QE {:?}); tcbDate {}; evaluation data #{}",
                e.status,
                e.platform_status,
                e.module_status.map(|m| format!("{m:?}")).unwrap_or_else(|| "-".into()),
                e.qe_status,
                e.tcb_date,
                t.tcb_evaluation_data_number
            );
            let _ = writeln!(
                *o,
                "  advisories      {}",
                if e.advisory_ids.is_empty() {
                    "none".to_string()
                } else {
                    e.advisory_ids.join(", ")
                }
            );
            let _ = writeln!(
                *o,
                "  collateral      valid until {}",
                t.collateral_validity.not_after
            );
        }
        None => {
            let _ = writeln!(
                *o,
                "  TCB status      NOT EVALUATED (signature-only: no TCB Info, QE Identity or CRLs were checked)"
            );
        }
    }
    let _ = writeln!(
        *o,
        "  platform        FMSPC {}, PCE-ID {}, PCESVN {}",
        p.pck.fmspc, p.pck.pce_id, p.pck.pcesvn
    );
    let _ = writeln!(*o, "  TEE_TCB_SVN     {}", b.tee_tcb_svn.to_hex());
    let _ = writeln!(*o, "  MRTD            {}", b.mrtd.to_hex());
    for (i, r) in b.rtmr.iter().enumerate() {
        let _ = writeln!(*o, "  RTMR{i}           {}", r.to_hex());
    }
    let _ = writeln!(*o, "  report data     {}", b.report_data.to_hex());
    let _ = writeln!(*o, "  MRCONFIGID      {}", b.mrconfigid.to_hex());
    let _ = writeln!(*o, "  MRSEAM          {}", b.mrseam.to_hex());
    let a = &b.td_attributes;
    let _ = writeln!(
        *o,
        "  TD attributes   {}: debug={} sept_ve_disable={} migratable={} pks={} kl={} perfmon={}",
        a.raw,
        yes(a.debug),
        yes(a.sept_ve_disable),
        yes(a.migratable),
        yes(a.pks),
        yes(a.kl),
        yes(a.perfmon)
    );
    if let Some(svc) = &b.mrservicetd {
        let _ = writeln!(*o, "  MRSERVICETD     {}", svc.to_hex());
    }
    if let Some(x) = &b.td15ex {
        let _ = writeln!(
            *o,
            "  VMID            {}{}",
            x.vmid,
            if x.vmid == 0 {
                " (the TD itself, or the L1 VMM of a partitioned TD)"
            } else {
                " (a TD VM inside a partitioned TD)"
            }
        );
        let _ = writeln!(*o, "  TD_ID           {}", x.td_id.to_hex());
        let _ = writeln!(
            *o,
            "  service TD      initial {} (attributes {}), current {} (attributes {})",
            x.init_servicetd_hash.to_hex(),
            x.init_servicetd_attributes.to_hex(),
            x.cur_servicetd_hash.to_hex(),
            x.cur_servicetd_attributes.to_hex()
        );
    }
    if let Some(log) = event_log {
        let marks: Vec<String> = log
            .matches_quote
            .iter()
            .enumerate()
            .map(|(i, m)| format!("RTMR{i} {}", if *m { "reproduced" } else { "DIFFERS" }))
            .collect();
        let _ = writeln!(
            *o,
            "  event log       {} events; {}",
            log.events,
            marks.join(", ")
        );
    }
    if a.debug {
        let _ = writeln!(
            *o,
            "  WARNING         the TD is debuggable: its memory is not confidential"
        );
    }
    let _ = writeln!(*o, "checked:");
    for c in &v.checks {
        let _ = writeln!(*o, "  ✓ {:<18} {}", c.name, c.detail);
    }
}

fn render_cca(
    o: &mut String,
    evidence_kind: &str,
    v: &cogito_core::Verified<cogito_cca::CcaClaims>,
) {
    let c = &v.platform;
    let p = &c.platform;
    let r = &c.realm;
    let _ = writeln!(
        *o,
        "VERIFIED  {} (CBOR tag {})",
        evidence_kind, c.envelope_tag
    );
    if let Some(k) = &c.cpak {
        let _ = writeln!(
            *o,
            "  platform key    CPAK {:?} sha256:{} from {}",
            k.curve,
            k.fingerprint.to_hex(),
            k.label
        );
        if let Some(t) = k.test_key {
            let _ = writeln!(*o, "  WARNING         the CPAK is a published TEST key ({t}): anyone can forge these tokens");
        }
    }
    let _ = writeln!(*o, "  platform        profile {}", p.profile);
    let _ = writeln!(
        *o,
        "  lifecycle       {:#06x} ({})",
        p.lifecycle.value,
        p.lifecycle.state.as_str()
    );
    let _ = writeln!(*o, "  implementation  {}", p.implementation_id.to_hex());
    let _ = writeln!(*o, "  instance        {}", p.instance_id.to_hex());
    let _ = writeln!(*o, "  components      {}", p.sw_components.len());
    for sc in &p.sw_components {
        let _ = writeln!(
            *o,
            "    {:<6} version {:<10} measurement {}  signer {}",
            sc.component_type.as_deref().unwrap_or("?"),
            sc.version.as_deref().unwrap_or("-"),
            sc.measurement_value.to_hex(),
            sc.signer_id.to_hex()
        );
    }
    let _ = writeln!(
        *o,
        "  realm profile   {}",
        r.profile.as_deref().unwrap_or("(none)")
    );
    let _ = writeln!(*o, "  RIM             {}", r.initial_measurement.to_hex());
    for (i, rem) in r.extensible_measurements.iter().enumerate() {
        let _ = writeln!(*o, "  REM{i}            {}", rem.to_hex());
    }
    let _ = writeln!(*o, "  realm challenge {}", r.challenge.to_hex());
    let _ = writeln!(*o, "  personalization {}", r.personalization_value.to_hex());
    let _ = writeln!(*o, "checked:");
    for ch in &v.checks {
        let _ = writeln!(*o, "  ✓ {:<18} {}", ch.name, ch.detail);
    }
}

pub fn print_text(result: &Result<Verification, Failure>) {
    out!("{}", render_text(result));
}

/// The JSON document: verdict, normalized claims, every platform claim,
/// checks; or the error with its code, class and hint.
pub fn render_json(result: &Result<Verification, Failure>) -> serde_json::Value {
    match result {
        Ok(v) => {
            let mut doc = serde_json::to_value(v).unwrap_or_default();
            if let Some(m) = doc.as_object_mut() {
                m.insert("verdict".into(), json!("verified"));
            }
            doc
        }
        Err(f) => json!({
            "verdict": "rejected",
            "error": {
                "code": f.code,
                "class": f.class.as_str(),
                "message": f.message,
                "hint": f.hint(),
            },
            "exit_code": f.class.exit_code(),
        }),
    }
}

pub fn print_json(result: &Result<Verification, Failure>) {
    print_value(&render_json(result));
}

/// Prints a JSON document, pretty.
pub fn print_value(v: &serde_json::Value) {
    outln!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
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
