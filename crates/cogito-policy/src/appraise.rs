//! Appraisal: a pure function of (verified claims, policy, the event log
//! where there is one) to a verdict with every rule's outcome.
//!
//! Rules run in a fixed order (common, then the platform's table in the
//! order docs/policy.md lists them) and every rule runs, so one appraisal
//! names every problem at once. Rules that apply without being written in
//! the policy (the safe defaults) are marked `default`.
//!
//! Callers must:
//! 1. pass claims that came out of a successful `verify_*` call (appraisal
//!    never re-checks signatures or chains);
//! 2. have verified with the platform's permissive knobs open (TDX: every
//!    status but Revoked allowed; SNP: provisional firmware permitted; CCA:
//!    every lifecycle allowed) so that the policy, not the verifier's
//!    defaults, decides those claims;
//! 3. supply the TDX event log when the policy has `[tdx.event_log]`
//!    (without it those rules fail, they are not skipped).

use cogito_cca::CcaClaims;
use cogito_core::time::VerificationTime;
use cogito_core::{Claims, TcbStatus, Tee, Verified};
use cogito_snp::TcbClaims;
use cogito_snp::{SigningKey, SnpClaims};
use cogito_tdx::eventlog::{DecodedEvent, Event, EventLog};
use cogito_tdx::{BodyClaims, TdxClaims};
use serde::Serialize;

use crate::ear::{EarStatus, TrustClaim, TrustVector};
use crate::load::{parse_abi, Policy};
use crate::model::{
    Common, EventLogPolicy, MinTcb, ProductName, SigningKeyName, SwComponentPolicy,
};
use crate::values::{FirmwareVersion, HexLen, RefList, L48};

/// The evidence to appraise: one platform's verified claims.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a> {
    /// SEV-SNP.
    Snp(&'a Verified<SnpClaims>),
    /// TDX, with the parsed CC event log if one was supplied.
    Tdx {
        /// The verified quote.
        verified: &'a Verified<TdxClaims>,
        /// The CC event log.
        event_log: Option<&'a EventLog>,
    },
    /// Arm CCA.
    Cca(&'a Verified<CcaClaims>),
}

impl Input<'_> {
    fn claims(&self) -> &Claims {
        match self {
            Input::Snp(v) => &v.claims,
            Input::Tdx { verified, .. } => &verified.claims,
            Input::Cca(v) => &v.claims,
        }
    }
    fn at(&self) -> VerificationTime {
        match self {
            Input::Snp(v) => v.verified_at,
            Input::Tdx { verified, .. } => verified.verified_at,
            Input::Cca(v) => v.verified_at,
        }
    }
}

/// One rule's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleOutcome {
    /// The rule: the policy key it comes from (`snp.measurements`,
    /// `snp.min_reported_tcb.snp`).
    pub rule: String,
    /// Whether the claim satisfied it.
    pub passed: bool,
    /// What the policy expects.
    pub expected: String,
    /// What the evidence says.
    pub actual: String,
    /// Applied by default (not written in the policy).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
    /// Passed, but with a caveat that makes the result a warning.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub warning: bool,
    /// The AR4SI claim this rule informs.
    pub trust_claim: TrustClaim,
    /// More detail: which reference value matched, why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The result of appraising evidence against a policy.
#[derive(Debug, Clone, Serialize)]
pub struct Appraisal {
    /// Whether the policy accepts the evidence: no rule failed.
    pub accepted: bool,
    /// The EAR status.
    pub status: EarStatus,
    /// The AR4SI trustworthiness vector.
    pub trust_vector: TrustVector,
    /// The policy's name.
    pub policy: String,
    /// The policy's digest (see [`Policy::digest`]).
    pub policy_digest: String,
    /// The platform appraised.
    pub tee: Tee,
    /// When it was appraised (the verification time).
    pub appraised_at: VerificationTime,
    /// Every rule, in evaluation order.
    pub rules: Vec<RuleOutcome>,
}

impl Appraisal {
    /// The failed rules.
    pub fn failures(&self) -> impl Iterator<Item = &RuleOutcome> {
        self.rules.iter().filter(|r| !r.passed)
    }

    /// An EAR (draft-ietf-rats-ear) claims set in JSON, one submodule for
    /// the platform.
    pub fn to_ear(&self) -> serde_json::Value {
        serde_json::json!({
            "eat_profile": "tag:github.com,2023:veraison/ear",
            "iat": self.appraised_at.unix(),
            "ear.verifier-id": { "developer": "cogito", "build": concat!("cogito-policy ", env!("CARGO_PKG_VERSION")) },
            "submods": {
                self.tee.as_str(): {
                    "ear.status": self.status.as_str(),
                    "ear.trustworthiness-vector": self.trust_vector,
                    "ear.appraisal-policy-id": format!("policy:{}#sha256:{}", self.policy, self.policy_digest),
                }
            }
        })
    }
}

struct Appraiser {
    now: VerificationTime,
    rules: Vec<RuleOutcome>,
    vector: TrustVector,
}

fn short_list(values: &[String]) -> String {
    match values {
        [] => "(none)".into(),
        [one] => one.clone(),
        [_, _] | [_, _, _] => format!("one of {}", values.join(", ")),
        [a, b, c, ..] => format!("one of {a}, {b}, {c}, … ({} values)", values.len()),
    }
}

impl Appraiser {
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        rule: impl Into<String>,
        claim: TrustClaim,
        passed: bool,
        expected: impl Into<String>,
        actual: impl Into<String>,
        default: bool,
        warning: bool,
        note: Option<String>,
    ) {
        let value = if !passed {
            claim.contraindicated()
        } else if warning {
            claim.warning()
        } else {
            claim.affirming()
        };
        self.vector.raise(claim, value);
        self.rules.push(RuleOutcome {
            rule: rule.into(),
            passed,
            expected: expected.into(),
            actual: actual.into(),
            default,
            warning: passed && warning,
            trust_claim: claim,
            note,
        });
    }

    fn pass_fail(
        &mut self,
        rule: &str,
        claim: TrustClaim,
        passed: bool,
        expected: String,
        actual: String,
    ) {
        self.record(rule, claim, passed, expected, actual, false, false, None);
    }

    /// An allow-list rule: the claim must equal an unexpired listed value.
    fn allow<L: HexLen>(
        &mut self,
        rule: &str,
        claim: TrustClaim,
        list: &Option<RefList<L>>,
        actual: Option<&[u8]>,
    ) {
        self.allow_or(
            rule,
            claim,
            list,
            actual,
            "(absent)",
            "the evidence does not carry this claim",
        );
    }

    /// [`Self::allow`], saying why the claim is absent: `absent` is the
    /// actual value and `absent_note` the note of the failed rule.
    fn allow_or<L: HexLen>(
        &mut self,
        rule: &str,
        claim: TrustClaim,
        list: &Option<RefList<L>>,
        actual: Option<&[u8]>,
        absent: &str,
        absent_note: &str,
    ) {
        let Some(list) = list else { return };
        // Only the values shown are formatted: a fleet list can be long.
        let shown: Vec<String> = list.0.iter().take(3).map(|v| v.value.to_hex()).collect();
        let expected = match list.0.len() {
            n if n <= 3 => short_list(&shown),
            n => format!("one of {}, … ({n} values)", shown.join(", ")),
        };
        let Some(actual) = actual else {
            self.record(
                rule,
                claim,
                false,
                expected,
                absent,
                false,
                false,
                Some(absent_note.to_string()),
            );
            return;
        };
        let actual_hex = hex::encode(actual);
        let matches: Vec<_> = list.0.iter().filter(|v| v.value.0 == actual).collect();
        let live = matches
            .iter()
            .find(|v| v.expires.is_none_or(|e| e.0 > self.now));
        match (live, matches.first()) {
            (Some(v), _) => {
                let mut note = Vec::new();
                if let Some(n) = &v.note {
                    note.push(n.clone());
                }
                if let Some(s) = &v.source {
                    note.push(format!("from {s}"));
                }
                if let Some(e) = v.expires {
                    note.push(format!("expires {}", e.0));
                }
                let note = (!note.is_empty()).then(|| note.join("; "));
                self.record(rule, claim, true, expected, actual_hex, false, false, note);
            }
            (None, Some(v)) => {
                let when = v.expires.map(|e| e.0.to_string()).unwrap_or_default();
                self.record(
                    rule,
                    claim,
                    false,
                    expected,
                    actual_hex,
                    false,
                    false,
                    Some(format!("matches a reference value that expired at {when}")),
                );
            }
            (None, None) => {
                self.record(
                    rule,
                    claim,
                    false,
                    expected,
                    actual_hex,
                    false,
                    false,
                    Some(format!("not among the {} allowed values", list.0.len())),
                );
            }
        }
    }

    /// An allow-list over log events: each event's SHA-384 digest must be
    /// allowed, and finding no such event fails the rule.
    fn allow_events(&mut self, rule: &str, list: &Option<RefList<L48>>, events: &[&Event]) {
        if list.is_none() {
            return;
        }
        if events.is_empty() {
            self.allow(rule, TrustClaim::Executables, list, None);
        }
        for e in events {
            let d = e.sha384();
            self.allow(
                rule,
                TrustClaim::Executables,
                list,
                d.as_ref().map(|d| d.as_slice()),
            );
        }
    }

    fn min<T: PartialOrd + std::fmt::Display>(
        &mut self,
        rule: &str,
        claim: TrustClaim,
        min: Option<T>,
        actual: T,
    ) {
        if let Some(m) = min {
            let ok = actual >= m;
            self.pass_fail(rule, claim, ok, format!(">= {m}"), actual.to_string());
        }
    }

    /// A permission bit: `Some(false)` requires it clear.
    fn ceiling(&mut self, rule: &str, claim: TrustClaim, allowed: Option<bool>, set: bool) {
        if allowed == Some(false) {
            self.pass_fail(
                rule,
                claim,
                !set,
                "bit clear (not allowed)".into(),
                if set { "set" } else { "clear" }.into(),
            );
        }
    }

    /// A requirement bit: `Some(true)` requires it set.
    fn floor(&mut self, rule: &str, claim: TrustClaim, required: Option<bool>, set: bool) {
        if required == Some(true) {
            self.pass_fail(
                rule,
                claim,
                set,
                "bit set (required)".into(),
                if set { "set" } else { "clear" }.into(),
            );
        }
    }

    fn exact(&mut self, rule: &str, claim: TrustClaim, want: Option<bool>, actual: bool) {
        if let Some(w) = want {
            self.pass_fail(rule, claim, w == actual, w.to_string(), actual.to_string());
        }
    }

    fn min_tcb(&mut self, key: &str, min: &Option<MinTcb>, tcb: &TcbClaims, product: &str) {
        let Some(m) = min else { return };
        let p = &tcb.parts;
        for (name, want) in m.effective(product) {
            let Some((want, path)) = want else { continue };
            let have = match name {
                "bootloader" => Some(p.bootloader),
                "tee" => Some(p.tee),
                "snp" => Some(p.snp),
                "microcode" => Some(p.microcode),
                _ => p.fmc,
            };
            let rule = format!("snp.{key}.{path}");
            match have {
                Some(h) => self.pass_fail(
                    &rule,
                    TrustClaim::Hardware,
                    h >= want,
                    format!(">= {want}"),
                    h.to_string(),
                ),
                None => self.record(
                    rule,
                    TrustClaim::Hardware,
                    false,
                    format!(">= {want}"),
                    "(absent)",
                    false,
                    false,
                    Some("only Turin reports an FMC SPL".into()),
                ),
            }
        }
    }

    fn common(&mut self, c: &Common, claims: &Claims) {
        let allowed = c.debug_allowed.unwrap_or(false);
        let rule = "common.debug_allowed";
        let expected = if allowed {
            "debug allowed"
        } else {
            "not debuggable"
        };
        let actual = if claims.debug {
            "debuggable"
        } else {
            "not debuggable"
        };
        let passed = allowed || !claims.debug;
        // A debuggable guest's memory is visible to the host.
        self.record(
            rule,
            TrustClaim::RuntimeOpaque,
            passed,
            expected,
            actual,
            c.debug_allowed.is_none(),
            claims.debug,
            None,
        );
        self.allow(
            "common.launch_measurements",
            TrustClaim::Executables,
            &c.launch_measurements,
            Some(claims.launch_measurement.as_ref()),
        );
        self.allow(
            "common.init_data",
            TrustClaim::Configuration,
            &c.init_data,
            Some(claims.init_data.as_ref()),
        );
        self.allow(
            "common.platform_instances",
            TrustClaim::InstanceIdentity,
            &c.platform_instances,
            claims.platform_instance.as_ref().map(|h| h.as_ref()),
        );
    }
}

/// Appraises verified evidence against a policy. Pure: the time is the
/// verification time carried by the claims.
pub fn appraise(policy: &Policy, input: Input<'_>) -> Appraisal {
    let mut a = Appraiser {
        now: input.at(),
        rules: Vec::new(),
        vector: TrustVector::default(),
    };
    let claims = input.claims();
    let tee = claims.tee;
    let r = &policy.rules;
    let present = match input {
        Input::Snp(_) => r.snp.is_some(),
        Input::Tdx { .. } => r.tdx.is_some(),
        Input::Cca(_) => r.cca.is_some(),
    };
    let named: Vec<&str> = [
        r.snp.as_ref().map(|_| "snp"),
        r.tdx.as_ref().map(|_| "tdx"),
        r.cca.as_ref().map(|_| "cca"),
    ]
    .into_iter()
    .flatten()
    .collect();
    a.record(
        "policy.platform",
        TrustClaim::InstanceIdentity,
        present,
        format!("one of [{}]", named.join(", ")),
        tee.as_str(),
        true,
        false,
        (!present).then(|| {
            format!(
                "the policy has no [{}] table, so it refuses {} evidence",
                tee.as_str(),
                tee.as_str()
            )
        }),
    );
    if present {
        // The evidence verified against pinned vendor roots: genuine
        // hardware and a recognized attesting environment, unless a rule
        // below says otherwise.
        a.vector.raise(
            TrustClaim::InstanceIdentity,
            TrustClaim::InstanceIdentity.affirming(),
        );
        a.vector
            .raise(TrustClaim::Hardware, TrustClaim::Hardware.affirming());
        a.common(&r.common, claims);
        match input {
            Input::Snp(v) => snp(&mut a, r.snp.as_ref(), v),
            Input::Tdx {
                verified,
                event_log,
            } => tdx(&mut a, r.tdx.as_ref(), verified, event_log),
            Input::Cca(v) => cca(&mut a, r.cca.as_ref(), v),
        }
    }
    let accepted = a.rules.iter().all(|r| r.passed);
    Appraisal {
        accepted,
        status: a.vector.status(),
        trust_vector: a.vector,
        policy: policy.name.clone(),
        policy_digest: policy.digest.clone(),
        tee,
        appraised_at: a.now,
        rules: a.rules,
    }
}

fn snp(a: &mut Appraiser, p: Option<&crate::model::Snp>, v: &Verified<SnpClaims>) {
    let Some(p) = p else { return };
    let c = &v.platform;
    let rep = &c.report;
    let product = c.product.as_str().to_lowercase();
    use TrustClaim::*;
    a.allow(
        "snp.measurements",
        Executables,
        &p.measurements,
        Some(rep.measurement.as_ref()),
    );
    a.allow(
        "snp.host_data",
        Configuration,
        &p.host_data,
        Some(rep.host_data.as_ref()),
    );
    a.allow(
        "snp.family_ids",
        Executables,
        &p.family_ids,
        Some(rep.family_id.as_ref()),
    );
    a.allow(
        "snp.image_ids",
        Executables,
        &p.image_ids,
        Some(rep.image_id.as_ref()),
    );
    a.allow(
        "snp.id_key_digests",
        Executables,
        &p.id_key_digests,
        Some(rep.id_key_digest.as_ref()),
    );
    a.allow(
        "snp.author_key_digests",
        Executables,
        &p.author_key_digests,
        Some(rep.author_key_digest.as_ref()),
    );
    a.min(
        "snp.min_guest_svn",
        Executables,
        p.min_guest_svn,
        rep.guest_svn,
    );
    if let Some(vmpls) = &p.vmpls {
        let ok = vmpls.0.iter().any(|x| x.0 == rep.vmpl);
        let want: Vec<String> = vmpls.0.iter().map(|x| x.0.to_string()).collect();
        a.pass_fail(
            "snp.vmpls",
            Configuration,
            ok,
            short_list(&want),
            rep.vmpl.to_string(),
        );
    }
    if let Some(keys) = &p.signing_keys {
        let have = match rep.signing_key {
            SigningKey::Vcek => Some(SigningKeyName::Vcek),
            SigningKey::Vlek => Some(SigningKeyName::Vlek),
            SigningKey::None => None,
        };
        let ok = have.is_some_and(|h| keys.0.contains(&h));
        let want: Vec<String> = keys
            .0
            .iter()
            .map(|k| format!("{k:?}").to_lowercase())
            .collect();
        a.pass_fail(
            "snp.signing_keys",
            Hardware,
            ok,
            short_list(&want),
            format!("{:?}", rep.signing_key).to_lowercase(),
        );
    }
    if let Some(products) = &p.products {
        let have = c.product.as_str().to_lowercase();
        let ok = products.0.iter().any(|p| {
            matches!(
                (p, have.as_str()),
                (ProductName::Milan, "milan")
                    | (ProductName::Genoa, "genoa")
                    | (ProductName::Turin, "turin")
            )
        });
        let want: Vec<String> = products
            .0
            .iter()
            .map(|k| format!("{k:?}").to_lowercase())
            .collect();
        a.pass_fail("snp.products", Hardware, ok, short_list(&want), have);
    }
    // Provisional firmware can be rolled back to the committed version
    // (SEV-SNP ABI §3.4 "Firmware Updates"), so it is refused by default.
    let allowed = p.allow_provisional_firmware.unwrap_or(false);
    let prov = c.provisional_firmware;
    a.record(
        "snp.allow_provisional_firmware",
        Hardware,
        allowed || !prov,
        if allowed {
            "committed or provisional firmware"
        } else {
            "committed firmware"
        },
        if prov {
            format!(
                "provisional (current TCB {} firmware {}, committed TCB {} firmware {})",
                rep.current_tcb.raw,
                rep.current_version,
                rep.committed_tcb.raw,
                rep.committed_version
            )
        } else {
            "committed".to_string()
        },
        p.allow_provisional_firmware.is_none(),
        prov,
        None,
    );
    for (key, min, have) in [
        (
            "snp.min_current_version",
            p.min_current_version,
            &rep.current_version,
        ),
        (
            "snp.min_committed_version",
            p.min_committed_version,
            &rep.committed_version,
        ),
    ] {
        if let Some(m) = min {
            match FirmwareVersion::parse(have) {
                Some(h) => a.pass_fail(key, Hardware, h >= m, format!(">= {m}"), h.to_string()),
                None => a.record(
                    key,
                    Hardware,
                    false,
                    format!(">= {m}"),
                    have.clone(),
                    false,
                    false,
                    Some("the report's version is not major.minor.build".into()),
                ),
            }
        }
    }
    a.min_tcb(
        "min_reported_tcb",
        &p.min_reported_tcb,
        &rep.reported_tcb,
        &product,
    );
    a.min_tcb(
        "min_launch_tcb",
        &p.min_launch_tcb,
        &rep.launch_tcb,
        &product,
    );
    a.min_tcb(
        "min_committed_tcb",
        &p.min_committed_tcb,
        &rep.committed_tcb,
        &product,
    );
    a.min_tcb(
        "min_current_tcb",
        &p.min_current_tcb,
        &rep.current_tcb,
        &product,
    );
    if let Some(g) = &p.guest_policy {
        let pol = &rep.policy;
        a.ceiling(
            "snp.guest_policy.smt_allowed",
            Configuration,
            g.smt_allowed,
            pol.smt_allowed,
        );
        a.ceiling(
            "snp.guest_policy.migrate_ma_allowed",
            Configuration,
            g.migrate_ma_allowed,
            pol.migrate_ma_allowed,
        );
        a.ceiling(
            "snp.guest_policy.cxl_allowed",
            Configuration,
            g.cxl_allowed,
            pol.cxl_allowed,
        );
        a.floor(
            "snp.guest_policy.single_socket_required",
            Configuration,
            g.single_socket_required,
            pol.single_socket_required,
        );
        a.floor(
            "snp.guest_policy.mem_aes_256_xts_required",
            Configuration,
            g.mem_aes_256_xts_required,
            pol.mem_aes_256_xts_required,
        );
        a.floor(
            "snp.guest_policy.rapl_disabled_required",
            Configuration,
            g.rapl_disabled_required,
            pol.rapl_disabled_required,
        );
        a.floor(
            "snp.guest_policy.ciphertext_hiding_required",
            Configuration,
            g.ciphertext_hiding_required,
            pol.ciphertext_hiding_required,
        );
        a.floor(
            "snp.guest_policy.page_swap_disabled_required",
            Configuration,
            g.page_swap_disabled_required,
            pol.page_swap_disabled,
        );
        if let Some((maj, min)) = g.min_abi.as_deref().and_then(parse_abi) {
            let ok = (pol.abi_major, pol.abi_minor) >= (maj, min);
            a.pass_fail(
                "snp.guest_policy.min_abi",
                Configuration,
                ok,
                format!(">= {maj}.{min}"),
                format!("{}.{}", pol.abi_major, pol.abi_minor),
            );
        }
    }
    if let Some(pi) = &p.platform_info {
        let info = &rep.platform_info;
        a.exact(
            "snp.platform_info.smt_enabled",
            Hardware,
            pi.smt_enabled,
            info.smt_enabled,
        );
        a.exact(
            "snp.platform_info.tsme_enabled",
            Hardware,
            pi.tsme_enabled,
            info.tsme_enabled,
        );
        a.exact(
            "snp.platform_info.ecc_enabled",
            Hardware,
            pi.ecc_enabled,
            info.ecc_enabled,
        );
        a.exact(
            "snp.platform_info.rapl_disabled",
            Hardware,
            pi.rapl_disabled,
            info.rapl_disabled,
        );
        a.exact(
            "snp.platform_info.ciphertext_hiding_enabled",
            Hardware,
            pi.ciphertext_hiding_enabled,
            info.ciphertext_hiding_enabled,
        );
        a.exact(
            "snp.platform_info.alias_check_complete",
            Hardware,
            pi.alias_check_complete,
            info.alias_check_complete,
        );
        a.exact(
            "snp.platform_info.tio_enabled",
            Hardware,
            pi.tio_enabled,
            info.tio_enabled,
        );
    }
    for (key, mask, have) in [
        (
            "snp.required_launch_mitigations",
            p.required_launch_mitigations,
            &rep.launch_mit_vector,
        ),
        (
            "snp.required_current_mitigations",
            p.required_current_mitigations,
            &rep.current_mit_vector,
        ),
    ] {
        let Some(mask) = mask else { continue };
        let parsed = have
            .as_deref()
            .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok());
        match parsed {
            Some(v) => a.pass_fail(
                key,
                Hardware,
                v & mask.0 == mask.0,
                format!("bits {:#x} set", mask.0),
                format!("{v:#x}"),
            ),
            None => a.record(
                key,
                Hardware,
                false,
                format!("bits {:#x} set", mask.0),
                "(absent)",
                false,
                false,
                Some("mitigation vectors exist from report version 5".into()),
            ),
        }
    }
}

/// `tdx.vmids`: which VM of a TD asked for the quote (VMID, TD 1.5
/// extended bodies). A TD VM (VMID 1–3, an L2 guest of a partitioned TD)
/// gets a quote that carries the L1 TD's MRTD and RTMRs, not a measurement
/// of its own launch: accepting it by default would hand whatever those
/// measurements unlock (the L1's secrets) to an L2 guest, so without the
/// key only VMID 0 passes, as a default rule. A body without the extended
/// fields (types 2 and 3) reports no VMID and counts as VMID 0, the TD
/// itself.
///
/// Trust claim configuration, as for `snp.vmpls` (the SNP counterpart:
/// which privilege level inside the guest asked for the report) and the
/// TDATTRIBUTES rules: the VMID describes how the TD is set up, not what
/// code was measured; the measurements keep their own executables rules.
fn vmid_rule(a: &mut Appraiser, p: &crate::model::Tdx, b: &BodyClaims) {
    let allowed: Vec<u8> = p
        .vmids
        .as_ref()
        .map_or(vec![0], |l| l.0.iter().map(|v| v.0).collect());
    let expected = short_list(&allowed.iter().map(u8::to_string).collect::<Vec<_>>());
    let default = p.vmids.is_none();
    match &b.td15ex {
        Some(ex) => {
            let ok = allowed.contains(&ex.vmid);
            let note = (ex.vmid != 0).then(|| {
                let mut n = format!(
                    "VMID {} is a TD VM (L2 guest) of a partitioned TD: its quote carries the L1 TD's MRTD and RTMRs, not a measurement of its own launch",
                    ex.vmid
                );
                if !ok {
                    n.push_str("; list it in tdx.vmids to accept it");
                }
                n
            });
            a.record(
                "tdx.vmids",
                TrustClaim::Configuration,
                ok,
                expected,
                ex.vmid.to_string(),
                default,
                false,
                note,
            );
        }
        None => a.record(
            "tdx.vmids",
            TrustClaim::Configuration,
            allowed.contains(&0),
            expected,
            "not reported (TD 1.0/1.5 body): the TD itself",
            default,
            false,
            Some(format!(
                "body type {} has no VMID; the quote counts as VMID 0",
                b.body_type
            )),
        ),
    }
}

/// The service-TD bindings of a TD 1.5 extended body: the hash and
/// attributes of the service TDs bound at TD build time (INIT_SERVTD_*)
/// and now (CUR_SERVTD_*). Trust claim configuration, as `tdx.mrservicetd`.
/// A policy that pins one refuses a quote without the extended body: such
/// a quote cannot show the binding.
fn service_td_rules(a: &mut Appraiser, p: &crate::model::Tdx, b: &BodyClaims) {
    use TrustClaim::Configuration;
    let ex = b.td15ex.as_ref();
    let absent = "(absent: the quote carries no TD 1.5 extended body)";
    let note = format!(
        "body type {} does not report service-TD bindings; only a TD 1.5 extended body (quote v5, body type 4) does",
        b.body_type
    );
    a.allow_or(
        "tdx.init_servicetd_hashes",
        Configuration,
        &p.init_servicetd_hashes,
        ex.map(|e| e.init_servicetd_hash.as_ref()),
        absent,
        &note,
    );
    a.allow_or(
        "tdx.init_servicetd_attributes",
        Configuration,
        &p.init_servicetd_attributes,
        ex.map(|e| e.init_servicetd_attributes.as_ref()),
        absent,
        &note,
    );
    a.allow_or(
        "tdx.cur_servicetd_hashes",
        Configuration,
        &p.cur_servicetd_hashes,
        ex.map(|e| e.cur_servicetd_hash.as_ref()),
        absent,
        &note,
    );
    a.allow_or(
        "tdx.cur_servicetd_attributes",
        Configuration,
        &p.cur_servicetd_attributes,
        ex.map(|e| e.cur_servicetd_attributes.as_ref()),
        absent,
        &note,
    );
}

fn attr_rules(a: &mut Appraiser, p: &crate::model::Tdx, c: &TdxClaims) {
    let Some(t) = &p.td_attributes else { return };
    let at = &c.body.td_attributes;
    use TrustClaim::Configuration;
    a.floor(
        "tdx.td_attributes.sept_ve_disable_required",
        Configuration,
        t.sept_ve_disable_required,
        at.sept_ve_disable,
    );
    a.ceiling(
        "tdx.td_attributes.migratable_allowed",
        Configuration,
        t.migratable_allowed,
        at.migratable,
    );
    a.ceiling(
        "tdx.td_attributes.pks_allowed",
        Configuration,
        t.pks_allowed,
        at.pks,
    );
    a.ceiling(
        "tdx.td_attributes.kl_allowed",
        Configuration,
        t.kl_allowed,
        at.kl,
    );
    a.ceiling(
        "tdx.td_attributes.perfmon_allowed",
        Configuration,
        t.perfmon_allowed,
        at.perfmon,
    );
}

fn event_text(e: &Event) -> Option<&str> {
    match &e.decoded {
        Some(DecodedEvent::Text(t)) => Some(&t.text),
        Some(DecodedEvent::Tagged { text: Some(t), .. }) => Some(&t.text),
        _ => None,
    }
}

const EV_IPL: u32 = 0x0000_000D;
const EV_EVENT_TAG: u32 = 0x0000_0006;
const EV_EFI_BOOT_SERVICES_APPLICATION: u32 = 0x8000_0003;

/// RTMR2 EV_IPL events that measure a file's contents: the event data
/// names the file and the digest is of its contents, so the data itself is
/// not what was hashed.
fn ipl_content_events<'a>(
    log: &'a EventLog,
    name: &'a str,
) -> impl Iterator<Item = &'a Event> + 'a {
    log.events.iter().filter(move |e| {
        e.rtmr == Some(2)
            && e.event_type == EV_IPL
            && !e.data_measured
            && event_text(e) == Some(name)
    })
}

/// The file arguments of GRUB's last `grub_cmd: <command> …` (`linux`,
/// `linuxefi`, `initrd`, `initrdefi`): the kernel is the first word after
/// the command, initrds are every word.
fn grub_args<'a>(log: &'a EventLog, commands: &[&str]) -> Vec<&'a str> {
    log.events
        .iter()
        .rev()
        .filter(|e| e.rtmr == Some(2) && e.event_type == EV_IPL)
        .find_map(|e| {
            let cmd = event_text(e)?.strip_prefix("grub_cmd: ")?;
            let (name, rest) = cmd.split_once(' ')?;
            commands
                .contains(&name)
                .then(|| rest.split_whitespace().collect())
        })
        .unwrap_or_default()
}

/// The kernel image events, from the first boot flow that matches:
/// 1. a unified kernel image (systemd-stub measures each PE section into
///    RTMR2: the `.linux` section's contents);
/// 2. GRUB measuring the file its `linux` command loads (EV_IPL, data = path);
/// 3. otherwise the last EFI application loaded into RTMR1 (TDVF direct
///    boot; shim/GRUB starting an EFI-stub kernel through LoadImage).
fn kernel_events(log: &EventLog) -> Vec<&Event> {
    let uki: Vec<&Event> = ipl_content_events(log, ".linux").collect();
    if !uki.is_empty() {
        return uki;
    }
    if let Some(path) = grub_args(log, &["linux", "linuxefi", "linux16"]).first() {
        let grub: Vec<&Event> = ipl_content_events(log, path).collect();
        if !grub.is_empty() {
            return grub;
        }
    }
    log.events
        .iter()
        .rev()
        .find(|e| e.rtmr == Some(1) && e.event_type == EV_EFI_BOOT_SERVICES_APPLICATION)
        .into_iter()
        .collect()
}

/// The initrd events: a UKI's `.initrd` section, the files of GRUB's
/// `initrd` command, or OVMF/TDVF's `Linux initrd` tagged event.
fn initrd_events(log: &EventLog) -> Vec<&Event> {
    let uki: Vec<&Event> = ipl_content_events(log, ".initrd").collect();
    if !uki.is_empty() {
        return uki;
    }
    let paths = grub_args(log, &["initrd", "initrdefi", "initrd16"]);
    let grub: Vec<&Event> = paths
        .iter()
        .flat_map(|p| ipl_content_events(log, p))
        .collect();
    if !grub.is_empty() {
        return grub;
    }
    log.events
        .iter()
        .filter(|e| {
            e.rtmr == Some(2)
                && e.event_type == EV_EVENT_TAG
                && event_text(e) == Some("Linux initrd")
        })
        .collect()
}

/// Command-line events in RTMR2, each with the command line text when the
/// log carries it: GRUB's `kernel_cmdline: ` EV_IPL string (text), a UKI's
/// `.cmdline` section (digest only), OVMF/TDVF's
/// `LOADED_IMAGE::LoadOptions` tagged event (digest only).
fn cmdline_events(log: &EventLog) -> Vec<(&Event, Option<&str>)> {
    let uki: Vec<(&Event, Option<&str>)> = ipl_content_events(log, ".cmdline")
        .map(|e| (e, None))
        .collect();
    if !uki.is_empty() {
        return uki;
    }
    log.events
        .iter()
        .filter(|e| e.rtmr == Some(2))
        .filter_map(|e| {
            let text = event_text(e);
            if e.event_type == EV_EVENT_TAG && text == Some("LOADED_IMAGE::LoadOptions") {
                Some((e, None))
            } else if e.event_type == EV_IPL {
                let line = text?.strip_prefix("kernel_cmdline: ")?;
                Some((e, e.data_measured.then_some(line)))
            } else {
                None
            }
        })
        .collect()
}

fn digests<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<[u8; 48]> {
    let mut out: Vec<[u8; 48]> = Vec::new();
    for d in events.into_iter().filter_map(Event::sha384) {
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

/// SHA-384 digests of the kernel events, for `policy init`.
pub(crate) fn kernel_digests(log: &EventLog) -> Vec<[u8; 48]> {
    digests(kernel_events(log))
}

/// SHA-384 digests of the initrd events, for `policy init`.
pub(crate) fn initrd_digests(log: &EventLog) -> Vec<[u8; 48]> {
    digests(initrd_events(log))
}

/// SHA-384 digests of the command-line events, for `policy init`.
pub(crate) fn cmdline_digests(log: &EventLog) -> Vec<[u8; 48]> {
    digests(cmdline_events(log).into_iter().map(|(e, _)| e))
}

fn event_rules(a: &mut Appraiser, p: &EventLogPolicy, c: &TdxClaims, log: Option<&EventLog>) {
    use TrustClaim::Executables;
    let Some(log) = log else {
        a.record(
            "tdx.event_log",
            Executables,
            false,
            "an event log that replays to RTMR0–3",
            "(no event log supplied)",
            false,
            false,
            Some("the CC event log was not supplied with the evidence".into()),
        );
        return;
    };
    let replayed = log.replay();
    let mut mismatched = Vec::new();
    for (i, (r, q)) in replayed.iter().zip(c.body.rtmr.iter()).enumerate() {
        if r.as_slice() != q.as_ref() {
            mismatched.push(format!("RTMR{i}"));
        }
    }
    let ok = mismatched.is_empty() && c.body.rtmr.len() == 4;
    a.record(
        "tdx.event_log",
        Executables,
        ok,
        "the log replays to the quote's RTMR0–3",
        if ok {
            format!("{} events reproduce RTMR0–3", log.events.len())
        } else {
            format!("{} differ", mismatched.join(", "))
        },
        false,
        false,
        None,
    );
    if !ok {
        // Events of a log that does not match the quote prove nothing.
        return;
    }
    let evs = cmdline_events(log);
    for (rule, list, events) in [
        ("tdx.event_log.kernel", &p.kernel, kernel_events(log)),
        ("tdx.event_log.initrd", &p.initrd, initrd_events(log)),
        (
            "tdx.event_log.cmdline_digests",
            &p.cmdline_digests,
            evs.iter().map(|(e, _)| *e).collect(),
        ),
    ] {
        a.allow_events(rule, list, &events);
    }
    if let Some(lines) = &p.cmdline {
        let expected = short_list(&lines.0.iter().map(|l| format!("{l:?}")).collect::<Vec<_>>());
        if evs.is_empty() {
            a.record(
                "tdx.event_log.cmdline",
                Executables,
                false,
                expected.clone(),
                "(no command-line event)",
                false,
                false,
                None,
            );
        }
        for (_, text) in &evs {
            match text {
                Some(t) => {
                    let ok = lines.0.iter().any(|l| l == t);
                    a.pass_fail("tdx.event_log.cmdline", Executables, ok, expected.clone(), format!("{t:?}"));
                }
                None => a.record(
                    "tdx.event_log.cmdline",
                    Executables,
                    false,
                    expected.clone(),
                    "(the log records only a digest)",
                    false,
                    false,
                    Some("this firmware logs the command line as a digest; pin it with tdx.event_log.cmdline_digests".into()),
                ),
            }
        }
    }
}

fn tdx(
    a: &mut Appraiser,
    p: Option<&crate::model::Tdx>,
    v: &Verified<TdxClaims>,
    log: Option<&EventLog>,
) {
    let Some(p) = p else { return };
    let c = &v.platform;
    let b = &c.body;
    use TrustClaim::*;
    a.allow("tdx.mrtd", Executables, &p.mrtd, Some(b.mrtd.as_ref()));
    for (i, (key, list)) in [
        ("tdx.rtmr0", &p.rtmr0),
        ("tdx.rtmr1", &p.rtmr1),
        ("tdx.rtmr2", &p.rtmr2),
        ("tdx.rtmr3", &p.rtmr3),
    ]
    .into_iter()
    .enumerate()
    {
        a.allow(key, Executables, list, b.rtmr.get(i).map(|h| h.as_ref()));
    }
    a.allow(
        "tdx.mrconfigid",
        Configuration,
        &p.mrconfigid,
        Some(b.mrconfigid.as_ref()),
    );
    a.allow(
        "tdx.mrowner",
        Configuration,
        &p.mrowner,
        Some(b.mrowner.as_ref()),
    );
    a.allow(
        "tdx.mrownerconfig",
        Configuration,
        &p.mrownerconfig,
        Some(b.mrownerconfig.as_ref()),
    );
    a.allow("tdx.mrseam", Hardware, &p.mrseam, Some(b.mrseam.as_ref()));
    a.allow(
        "tdx.mrsignerseam",
        Hardware,
        &p.mrsignerseam,
        Some(b.mrsignerseam.as_ref()),
    );
    a.allow(
        "tdx.mrservicetd",
        Configuration,
        &p.mrservicetd,
        b.mrservicetd.as_ref().map(|h| h.as_ref()),
    );
    a.allow("tdx.xfam", Configuration, &p.xfam, Some(b.xfam.as_ref()));
    vmid_rule(a, p, b);
    service_td_rules(a, p, b);
    attr_rules(a, p, c);
    if let Some(min) = &p.min_tee_tcb_svn {
        let have = b.tee_tcb_svn.as_ref();
        let ok = have.len() == min.0.len() && have.iter().zip(min.0.iter()).all(|(h, m)| h >= m);
        a.pass_fail(
            "tdx.min_tee_tcb_svn",
            Hardware,
            ok,
            format!(">= {} (each byte)", min.to_hex()),
            hex::encode(have),
        );
    }
    // TCB status: Intel's converged status, UpToDate only by default.
    let status = c
        .tcb
        .as_ref()
        .map_or(TcbStatus::NotEvaluated, |t| t.evaluation.status);
    let allowed: Vec<TcbStatus> = p
        .tcb_statuses
        .as_ref()
        .map_or(vec![TcbStatus::UpToDate], |l| {
            l.0.iter().map(|s| s.0).collect()
        });
    let ok = allowed.contains(&status);
    let names: Vec<String> = allowed.iter().map(|s| s.as_str().to_string()).collect();
    let mut note = None;
    if let Some(t) = &c.tcb {
        if !t.evaluation.advisory_ids.is_empty() {
            note = Some(format!(
                "advisories: {}",
                t.evaluation.advisory_ids.join(", ")
            ));
        }
    } else {
        note = Some("the TCB was not evaluated (no collateral)".into());
    }
    a.record(
        "tdx.tcb_statuses",
        Hardware,
        ok,
        short_list(&names),
        status.as_str(),
        p.tcb_statuses.is_none(),
        status != TcbStatus::UpToDate,
        note,
    );
    if let Some(refused) = &p.refused_advisories {
        match &c.tcb {
            Some(t) => {
                let hit: Vec<&String> = t
                    .evaluation
                    .advisory_ids
                    .iter()
                    .filter(|id| refused.0.contains(id))
                    .collect();
                let actual = if t.evaluation.advisory_ids.is_empty() {
                    "(none)".to_string()
                } else {
                    t.evaluation.advisory_ids.join(", ")
                };
                a.record(
                    "tdx.refused_advisories",
                    Hardware,
                    hit.is_empty(),
                    format!("none of {}", refused.0.join(", ")),
                    actual,
                    false,
                    false,
                    None,
                );
            }
            None => a.record(
                "tdx.refused_advisories",
                Hardware,
                false,
                format!("none of {}", refused.0.join(", ")),
                "(TCB not evaluated)",
                false,
                false,
                None,
            ),
        }
    }
    if let Some(min) = p.min_tcb_evaluation_data_number {
        match &c.tcb {
            Some(t) => a.min(
                "tdx.min_tcb_evaluation_data_number",
                Hardware,
                Some(min),
                t.tcb_evaluation_data_number,
            ),
            None => a.record(
                "tdx.min_tcb_evaluation_data_number",
                Hardware,
                false,
                format!(">= {min}"),
                "(TCB not evaluated)",
                false,
                false,
                None,
            ),
        }
    }
    if let Some(max) = p.max_collateral_age {
        match &c.tcb {
            Some(t) => {
                let age = a
                    .now
                    .unix()
                    .saturating_sub(t.collateral_validity.not_before.unix());
                a.record(
                    "tdx.max_collateral_age",
                    Hardware,
                    age <= max.seconds,
                    format!("<= {max}"),
                    crate::values::Duration {
                        seconds: age.max(0),
                    }
                    .to_string(),
                    false,
                    false,
                    Some(format!(
                        "newest collateral issued {}",
                        t.collateral_validity.not_before
                    )),
                );
            }
            None => a.record(
                "tdx.max_collateral_age",
                Hardware,
                false,
                format!("<= {max}"),
                "(TCB not evaluated)",
                false,
                false,
                None,
            ),
        }
    }
    if let Some(ev) = &p.event_log {
        event_rules(a, ev, c, log);
    }
}

fn sw_component_matches(
    p: &SwComponentPolicy,
    c: &cogito_cca::SwComponent,
    now: VerificationTime,
) -> bool {
    p.measurement.0 == c.measurement_value.as_ref()
        && p.component_type
            .as_ref()
            .is_none_or(|t| Some(t) == c.component_type.as_ref())
        && p.signer_id
            .as_ref()
            .is_none_or(|s| s.0 == c.signer_id.as_ref())
        && p.version
            .as_ref()
            .is_none_or(|v| Some(v) == c.version.as_ref())
        && p.expires.is_none_or(|e| e.0 > now)
}

fn cca(a: &mut Appraiser, p: Option<&crate::model::Cca>, v: &Verified<CcaClaims>) {
    let Some(p) = p else { return };
    let c = &v.platform;
    use TrustClaim::*;
    a.allow(
        "cca.rim",
        Executables,
        &p.rim,
        Some(c.realm.initial_measurement.as_ref()),
    );
    for (i, (key, list)) in [
        ("cca.rem0", &p.rem0),
        ("cca.rem1", &p.rem1),
        ("cca.rem2", &p.rem2),
        ("cca.rem3", &p.rem3),
    ]
    .into_iter()
    .enumerate()
    {
        a.allow(
            key,
            Executables,
            list,
            c.realm.extensible_measurements.get(i).map(|h| h.as_ref()),
        );
    }
    a.allow(
        "cca.personalization_values",
        Configuration,
        &p.personalization_values,
        Some(c.realm.personalization_value.as_ref()),
    );
    let state = c.platform.lifecycle.state.as_str();
    let allowed: Vec<String> = p
        .lifecycles
        .as_ref()
        .map_or(vec!["secured".to_string()], |l| l.0.clone());
    let ok = allowed.iter().any(|s| s == state);
    a.record(
        "cca.lifecycles",
        Hardware,
        ok,
        short_list(&allowed),
        format!("{state} ({:#06x})", c.platform.lifecycle.value),
        p.lifecycles.is_none(),
        false,
        None,
    );
    // A published test key signs anything anyone asks it to: accepted by
    // verification only on request, and refused here unless allowed again.
    let test_key = c.cpak.as_ref().and_then(|k| k.test_key);
    let allowed = p.allow_test_keys.unwrap_or(false);
    a.record(
        "cca.allow_test_keys",
        InstanceIdentity,
        allowed || test_key.is_none(),
        if allowed {
            "any trusted platform key"
        } else {
            "a platform key that is not a published test key"
        },
        match test_key {
            Some(t) => format!("published test key ({t})"),
            None => "not a known test key".to_string(),
        },
        p.allow_test_keys.is_none(),
        test_key.is_some(),
        None,
    );
    a.allow(
        "cca.implementation_ids",
        Hardware,
        &p.implementation_ids,
        Some(c.platform.implementation_id.as_ref()),
    );
    a.allow(
        "cca.platform_configs",
        Configuration,
        &p.platform_configs,
        Some(c.platform.config.as_ref()),
    );
    if let Some(list) = &p.sw_components {
        let now = a.now;
        let expected = format!("each component one of the {} listed", list.0.len());
        for (i, comp) in c.platform.sw_components.iter().enumerate() {
            let ok = list.0.iter().any(|p| sw_component_matches(p, comp, now));
            let name = comp
                .component_type
                .clone()
                .unwrap_or_else(|| format!("#{i}"));
            a.pass_fail(
                "cca.sw_components",
                Hardware,
                ok,
                expected.clone(),
                format!("{name} measurement {}", comp.measurement_value.to_hex()),
            );
        }
        if c.platform.sw_components.is_empty() {
            a.record(
                "cca.sw_components",
                Hardware,
                false,
                expected,
                "(the token lists no components)",
                false,
                false,
                None,
            );
        }
    }
}
