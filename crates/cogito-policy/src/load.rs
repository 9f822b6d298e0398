//! Loading a policy: parse, merge included reference values, check the
//! rules against each other. All or nothing: a policy that does not load
//! is never half-applied.

use std::fmt;

use cogito_cca::LifecycleState;
use cogito_core::time::VerificationTime;
use cogito_core::{CogitoError, ErrorClass};
use sha2::{Digest, Sha256};

use crate::model::{PolicyFile, ProductName, RefValueFile};
use crate::values::{HexLen, RefList, RefValue};

/// Why a policy (or one of its reference-value files) did not load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// What kind of mistake; decides the stable code.
    pub kind: PolicyErrorKind,
    /// The file, as the caller named it.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is more to say than the message.
    pub hint: Option<String>,
}

/// The kinds of policy mistakes, each with its own stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PolicyErrorKind {
    /// The policy file could not be read (`policy.unreadable`).
    Unreadable,
    /// The text is not TOML (`policy.syntax`).
    Syntax,
    /// A key the format does not have, often a typo (`policy.unknown_key`).
    UnknownKey,
    /// A key the format requires is absent (`policy.missing_key`).
    MissingKey,
    /// A value of the wrong type, length or range, an empty or repeating
    /// list, a date without an offset (`policy.bad_value`).
    BadValue,
    /// `[policy] name` is empty (`policy.empty_name`).
    EmptyName,
    /// No `[snp]`, `[tdx]` or `[cca]` table, so every evidence would be
    /// refused (`policy.no_platform`).
    NoPlatform,
    /// An included reference-value file could not be read
    /// (`policy.include_unreadable`).
    IncludeUnreadable,
    /// An included file has values for a platform the policy does not
    /// accept (`policy.include_foreign_platform`).
    IncludeForeignPlatform,
    /// Rules that are each well-formed but cannot all hold, or cannot mean
    /// what they say (`policy.contradiction`).
    Contradiction,
}

impl PolicyErrorKind {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            PolicyErrorKind::Unreadable => "policy.unreadable",
            PolicyErrorKind::Syntax => "policy.syntax",
            PolicyErrorKind::UnknownKey => "policy.unknown_key",
            PolicyErrorKind::MissingKey => "policy.missing_key",
            PolicyErrorKind::BadValue => "policy.bad_value",
            PolicyErrorKind::EmptyName => "policy.empty_name",
            PolicyErrorKind::NoPlatform => "policy.no_platform",
            PolicyErrorKind::IncludeUnreadable => "policy.include_unreadable",
            PolicyErrorKind::IncludeForeignPlatform => "policy.include_foreign_platform",
            PolicyErrorKind::Contradiction => "policy.contradiction",
        }
    }
}

impl PolicyError {
    /// A policy file that could not be read.
    pub fn unreadable(file: &str, e: &std::io::Error) -> Self {
        PolicyError {
            kind: PolicyErrorKind::Unreadable,
            file: file.to_string(),
            line: None,
            column: None,
            message: format!("cannot read: {e}"),
            hint: None,
        }
    }
}

impl CogitoError for PolicyError {
    fn code(&self) -> &'static str {
        self.kind.code()
    }

    fn class(&self) -> ErrorClass {
        ErrorClass::BadInput
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyError {}

/// A loaded, validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// `[policy] name`.
    pub name: String,
    /// `[policy] description`.
    pub description: Option<String>,
    /// The file it was loaded from, as named by the caller.
    pub file: String,
    /// SHA-256 over the policy text and every included file, lower-case
    /// hex: identifies exactly the rules that were applied.
    pub digest: String,
    /// The included reference-value files, as named in `include`.
    pub includes: Vec<String>,
    /// The rules, with included reference values merged in.
    pub rules: PolicyFile,
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    // One row of the edit-distance table at a time: each cell from the
    // cell above-left (`diag`), above (`up`) and to its left.
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        let mut left = i + 1;
        for ((cb, diag), up) in b.iter().zip(prev.iter()).zip(prev.iter().skip(1)) {
            let cell = (diag + usize::from(ca != *cb)).min(up + 1).min(left + 1);
            cur.push(cell);
            left = cell;
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" messages: the
/// closest expected key.
fn did_you_mean(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (unknown, rest) = rest.split_once('`')?;
    let candidates: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    let best = candidates
        .iter()
        .map(|c| (levenshtein(unknown, c), *c))
        .min()?;
    (best.0 <= unknown.len().max(3) / 2 + 1).then(|| format!("did you mean `{}`?", best.1))
}

/// Serde's messages are the only place the kind of a deserialization
/// error is told; TOML syntax errors are found by parsing first.
fn classify(message: &str) -> PolicyErrorKind {
    if message.starts_with("unknown field") || message.starts_with("unknown variant") {
        PolicyErrorKind::UnknownKey
    } else if message.starts_with("missing field") {
        PolicyErrorKind::MissingKey
    } else {
        PolicyErrorKind::BadValue
    }
}

/// Parses `text` as TOML into `T`: a syntax error first, then the
/// format's own errors, each with its line and column.
fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, PolicyError> {
    if let Err(e) = text.parse::<toml::Table>() {
        return Err(toml_error(file, text, &e, Some(PolicyErrorKind::Syntax)));
    }
    toml::from_str(text).map_err(|e| toml_error(file, text, &e, None))
}

fn toml_error(
    file: &str,
    text: &str,
    e: &toml::de::Error,
    kind: Option<PolicyErrorKind>,
) -> PolicyError {
    let (line, column) = match e.span() {
        Some(span) => {
            let (l, c) = line_col(text, span.start);
            (Some(l), Some(c))
        }
        None => (None, None),
    };
    let message = e.message().trim().to_string();
    let hint = did_you_mean(&message).or_else(|| {
        message
            .contains("missing field `policy`")
            .then(|| "every policy starts with a [policy] table that has a name".to_string())
    });
    PolicyError {
        kind: kind.unwrap_or_else(|| classify(&message)),
        file: file.to_string(),
        line,
        column,
        message,
        hint,
    }
}

/// The line of `key` inside `[table]` (dotted table names as written), for
/// errors about rules that contradict each other.
fn locate(text: &str, table: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(h) = line.strip_prefix('[') {
            current = h
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_string();
            if key.is_empty() && current == table {
                return Some(i + 1);
            }
            continue;
        }
        if current == table {
            if let Some(rest) = line.strip_prefix(key) {
                if rest.trim_start().starts_with('=') {
                    return Some(i + 1);
                }
            }
        }
    }
    None
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(
        &self,
        kind: PolicyErrorKind,
        table: &str,
        key: &str,
        message: String,
        hint: &str,
    ) -> PolicyError {
        PolicyError {
            kind,
            file: self.file.to_string(),
            line: locate(self.text, table, key),
            column: None,
            message,
            hint: Some(hint.to_string()),
        }
    }
}

fn merge<L: HexLen>(
    into: &mut Option<RefList<L>>,
    from: Option<RefList<L>>,
    source: &str,
    file: &RefValueFile,
) {
    let Some(from) = from else { return };
    let list = into.get_or_insert_with(|| RefList(Vec::new()));
    for mut v in from.0 {
        v.source = Some(source.to_string());
        if v.expires.is_none() {
            v.expires = file.expires;
        }
        if v.note.is_none() {
            v.note.clone_from(&file.note);
        }
        list.0.push(v);
    }
}

fn intersects<A: HexLen, B: HexLen>(a: &RefList<A>, b: &RefList<B>) -> bool {
    a.0.iter()
        .any(|x| b.0.iter().any(|y| x.value.0 == y.value.0))
}

/// A length prefix for the digest (usize is at most 64 bits on every
/// target Rust supports, so this never saturates).
fn len_u64(s: &str) -> u64 {
    u64::try_from(s.len()).unwrap_or(u64::MAX)
}

/// Loads a policy from its text. `read_include` returns the text of an
/// included reference-value file, given the path as written in `include`
/// (the caller resolves it, relative to the policy file); it is the only
/// I/O, so loading is testable and the service can load from its store.
pub fn load(
    file: &str,
    text: &str,
    read_include: &mut dyn FnMut(&str) -> Result<String, String>,
) -> Result<Policy, PolicyError> {
    let mut rules: PolicyFile = parse_toml(file, text)?;
    let cx = Ctx { file, text };
    let mut hasher = Sha256::new();
    hasher.update(len_u64(text).to_be_bytes());
    hasher.update(text.as_bytes());

    if rules.policy.name.trim().is_empty() {
        return Err(cx.err(
            PolicyErrorKind::EmptyName,
            "policy",
            "name",
            "policy.name is empty".into(),
            "name the policy, e.g. name = \"web-prod\"",
        ));
    }
    if rules.snp.is_none() && rules.tdx.is_none() && rules.cca.is_none() {
        return Err(cx.err(
            PolicyErrorKind::NoPlatform,
            "policy",
            "",
            "the policy has no [snp], [tdx] or [cca] table, so it refuses all evidence".into(),
            "add a table for each platform the policy accepts (an empty [snp] accepts SEV-SNP with the safe defaults)",
        ));
    }

    // Included reference values.
    for inc in rules.policy.include.clone() {
        let inc_text = read_include(&inc).map_err(|e| {
            cx.err(
                PolicyErrorKind::IncludeUnreadable,
                "policy",
                "include",
                format!("include {inc:?}: {e}"),
                "paths are relative to the policy file",
            )
        })?;
        hasher.update(len_u64(&inc).to_be_bytes());
        hasher.update(inc.as_bytes());
        hasher.update(len_u64(&inc_text).to_be_bytes());
        hasher.update(inc_text.as_bytes());
        let rf: RefValueFile = parse_toml(&inc, &inc_text)?;
        let missing = |platform: &str, span: std::ops::Range<usize>| {
            let (l, c) = line_col(&inc_text, span.start);
            PolicyError {
                kind: PolicyErrorKind::IncludeForeignPlatform,
                file: inc.clone(),
                line: Some(l),
                column: Some(c),
                message: format!(
                    "reference values for [{platform}], but the policy {file} has no [{platform}] table"
                ),
                hint: Some(format!(
                    "add [{platform}] to the policy to accept {platform} evidence, or drop these values"
                )),
            }
        };
        if let Some(s) = &rf.snp {
            let Some(p) = rules.snp.as_mut() else {
                return Err(missing("snp", s.span()));
            };
            let r = s.get_ref().clone();
            merge(&mut p.measurements, r.measurements, &inc, &rf);
            merge(&mut p.host_data, r.host_data, &inc, &rf);
            merge(&mut p.family_ids, r.family_ids, &inc, &rf);
            merge(&mut p.image_ids, r.image_ids, &inc, &rf);
            merge(&mut p.id_key_digests, r.id_key_digests, &inc, &rf);
            merge(&mut p.author_key_digests, r.author_key_digests, &inc, &rf);
        }
        if let Some(s) = &rf.tdx {
            let Some(p) = rules.tdx.as_mut() else {
                return Err(missing("tdx", s.span()));
            };
            let r = s.get_ref().clone();
            merge(&mut p.mrtd, r.mrtd, &inc, &rf);
            merge(&mut p.rtmr0, r.rtmr0, &inc, &rf);
            merge(&mut p.rtmr1, r.rtmr1, &inc, &rf);
            merge(&mut p.rtmr2, r.rtmr2, &inc, &rf);
            merge(&mut p.rtmr3, r.rtmr3, &inc, &rf);
            merge(&mut p.mrconfigid, r.mrconfigid, &inc, &rf);
            merge(&mut p.mrowner, r.mrowner, &inc, &rf);
            merge(&mut p.mrownerconfig, r.mrownerconfig, &inc, &rf);
            merge(&mut p.mrseam, r.mrseam, &inc, &rf);
            merge(&mut p.mrsignerseam, r.mrsignerseam, &inc, &rf);
            merge(&mut p.mrservicetd, r.mrservicetd, &inc, &rf);
            merge(&mut p.xfam, r.xfam, &inc, &rf);
            merge(
                &mut p.init_servicetd_hashes,
                r.init_servicetd_hashes,
                &inc,
                &rf,
            );
            merge(
                &mut p.init_servicetd_attributes,
                r.init_servicetd_attributes,
                &inc,
                &rf,
            );
            merge(
                &mut p.cur_servicetd_hashes,
                r.cur_servicetd_hashes,
                &inc,
                &rf,
            );
            merge(
                &mut p.cur_servicetd_attributes,
                r.cur_servicetd_attributes,
                &inc,
                &rf,
            );
            if let Some(ev) = r.event_log {
                let into = p.event_log.get_or_insert_with(Default::default);
                merge(&mut into.kernel, ev.kernel, &inc, &rf);
                merge(&mut into.initrd, ev.initrd, &inc, &rf);
                merge(&mut into.cmdline_digests, ev.cmdline_digests, &inc, &rf);
            }
        }
        if let Some(s) = &rf.cca {
            let Some(p) = rules.cca.as_mut() else {
                return Err(missing("cca", s.span()));
            };
            let r = s.get_ref().clone();
            merge(&mut p.rim, r.rim, &inc, &rf);
            merge(&mut p.rem0, r.rem0, &inc, &rf);
            merge(&mut p.rem1, r.rem1, &inc, &rf);
            merge(&mut p.rem2, r.rem2, &inc, &rf);
            merge(&mut p.rem3, r.rem3, &inc, &rf);
            merge(
                &mut p.personalization_values,
                r.personalization_values,
                &inc,
                &rf,
            );
            merge(&mut p.implementation_ids, r.implementation_ids, &inc, &rf);
            merge(&mut p.platform_configs, r.platform_configs, &inc, &rf);
            if let Some(comps) = r.sw_components {
                let into = p
                    .sw_components
                    .get_or_insert_with(|| crate::values::NonEmpty(Vec::new()));
                for mut c in comps.0 {
                    if c.expires.is_none() {
                        c.expires = rf.expires;
                    }
                    if c.note.is_none() {
                        c.note.clone_from(&rf.note);
                    }
                    into.0.push(c);
                }
            }
        }
    }

    check_consistency(&cx, &rules)?;

    Ok(Policy {
        name: rules.policy.name.clone(),
        description: rules.policy.description.clone(),
        file: file.to_string(),
        digest: hex::encode(hasher.finalize()),
        includes: rules.policy.include.clone(),
        rules,
    })
}

/// Rules that are each well-formed but cannot all hold, or that cannot
/// mean what they say.
fn check_consistency(cx: &Ctx<'_>, r: &PolicyFile) -> Result<(), PolicyError> {
    let debug_allowed = r.common.debug_allowed.unwrap_or(false);

    // Launch measurement and init data: a platform list and the common
    // list must share a value, or every guest of that platform is refused.
    let launch = r.common.launch_measurements.as_ref().map(|c| {
        [
            (
                "snp",
                "measurements",
                r.snp
                    .as_ref()
                    .and_then(|s| s.measurements.as_ref())
                    .map(|l| intersects(c, l)),
            ),
            (
                "tdx",
                "mrtd",
                r.tdx
                    .as_ref()
                    .and_then(|s| s.mrtd.as_ref())
                    .map(|l| intersects(c, l)),
            ),
            (
                "cca",
                "rim",
                r.cca
                    .as_ref()
                    .and_then(|s| s.rim.as_ref())
                    .map(|l| intersects(c, l)),
            ),
        ]
    });
    let init = r.common.init_data.as_ref().map(|c| {
        [
            (
                "snp",
                "host_data",
                r.snp
                    .as_ref()
                    .and_then(|s| s.host_data.as_ref())
                    .map(|l| intersects(c, l)),
            ),
            (
                "tdx",
                "mrconfigid",
                r.tdx
                    .as_ref()
                    .and_then(|s| s.mrconfigid.as_ref())
                    .map(|l| intersects(c, l)),
            ),
            (
                "cca",
                "personalization_values",
                r.cca
                    .as_ref()
                    .and_then(|s| s.personalization_values.as_ref())
                    .map(|l| intersects(c, l)),
            ),
        ]
    });
    for (common_key, what, pairs) in [
        ("launch_measurements", "the launch measurement", launch),
        ("init_data", "the init data", init),
    ] {
        for (table, key, meets) in pairs.into_iter().flatten() {
            if meets == Some(false) {
                return Err(cx.err(
                    PolicyErrorKind::Contradiction,
                    table,
                    key,
                    format!("{table}.{key} and common.{common_key} have no value in common: every {table} guest would be refused"),
                    &format!("list {what} in one place, or make the two lists overlap"),
                ));
            }
        }
    }

    if let Some(snp) = &r.snp {
        if let Some(abi) = snp.guest_policy.as_ref().and_then(|g| g.min_abi.as_ref()) {
            if parse_abi(abi).is_none() {
                return Err(cx.err(
                    PolicyErrorKind::BadValue,
                    "snp.guest_policy",
                    "min_abi",
                    format!("snp.guest_policy.min_abi {abi:?} is not MAJOR.MINOR with each part 0 to 255"),
                    "write the ABI version as in the report's POLICY, e.g. \"1.51\"",
                ));
            }
        }
        let turin_possible = snp
            .products
            .as_ref()
            .is_none_or(|p| p.0.contains(&ProductName::Turin));
        for (key, min) in [
            ("min_reported_tcb", &snp.min_reported_tcb),
            ("min_launch_tcb", &snp.min_launch_tcb),
            ("min_committed_tcb", &snp.min_committed_tcb),
            ("min_current_tcb", &snp.min_current_tcb),
        ] {
            if min.as_ref().is_some_and(|m| m.fmc.is_some()) && !turin_possible {
                return Err(cx.err(
                    PolicyErrorKind::Contradiction,
                    &format!("snp.{key}"),
                    "fmc",
                    format!("snp.{key}.fmc is set but snp.products excludes turin: only Turin has an FMC component, so every guest would be refused"),
                    "remove fmc, or add \"turin\" to snp.products",
                ));
            }
        }
        for (key, min) in [
            ("min_reported_tcb", &snp.min_reported_tcb),
            ("min_launch_tcb", &snp.min_launch_tcb),
            ("min_committed_tcb", &snp.min_committed_tcb),
            ("min_current_tcb", &snp.min_current_tcb),
        ] {
            let Some(m) = min else { continue };
            for (name, product, table) in [
                ("milan", ProductName::Milan, &m.milan),
                ("genoa", ProductName::Genoa, &m.genoa),
                ("turin", ProductName::Turin, &m.turin),
            ] {
                let present = table.is_some();
                if product != ProductName::Turin && table.as_ref().is_some_and(|t| t.fmc.is_some())
                {
                    return Err(cx.err(
                        PolicyErrorKind::Contradiction,
                        &format!("snp.{key}.{name}"),
                        "fmc",
                        format!("snp.{key}.{name}.fmc: only Turin has an FMC component"),
                        "set fmc in the turin table",
                    ));
                }
                let allowed = snp.products.as_ref().is_none_or(|p| p.0.contains(&product));
                if present && !allowed {
                    return Err(cx.err(
                        PolicyErrorKind::Contradiction,
                        &format!("snp.{key}.{name}"),
                        "",
                        format!("snp.{key}.{name} is set but snp.products excludes {name}, so it never applies"),
                        &format!("remove the table, or add \"{name}\" to snp.products"),
                    ));
                }
            }
        }
    }

    if let Some(tdx) = &r.tdx {
        if let Some(ev) = &tdx.event_log {
            if ev
                .cmdline
                .as_ref()
                .is_some_and(|c| c.0.iter().any(|s| s.is_empty()))
            {
                return Err(cx.err(
                    PolicyErrorKind::BadValue,
                    "tdx.event_log",
                    "cmdline",
                    "tdx.event_log.cmdline lists an empty command line".into(),
                    "list each allowed command line exactly as the kernel receives it",
                ));
            }
        }
    }

    if let Some(cca) = &r.cca {
        if let Some(lcs) = &cca.lifecycles {
            for name in &lcs.0 {
                let Some(state) = LifecycleState::from_name(name) else {
                    let all: Vec<&str> = LifecycleState::ALL.iter().map(|s| s.as_str()).collect();
                    return Err(cx.err(
                        PolicyErrorKind::BadValue,
                        "cca",
                        "lifecycles",
                        format!("cca.lifecycles: unknown lifecycle state {name:?}"),
                        &format!("expected one of {}", all.join(", ")),
                    ));
                };
                if state.is_debug() && !debug_allowed {
                    return Err(cx.err(
                        PolicyErrorKind::Contradiction,
                        "cca",
                        "lifecycles",
                        format!("cca.lifecycles allows {name}, a debug state, but common.debug_allowed is not true, so such a platform is always refused"),
                        "set common.debug_allowed = true to accept debug platforms, or remove the state",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// `MAJOR.MINOR` as a pair.
pub(crate) fn parse_abi(s: &str) -> Option<(u8, u8)> {
    let (a, b) = s.trim().split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// A reference value that has expired or expires soon, for `policy check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryNotice {
    /// The rule (`snp.measurements`).
    pub rule: String,
    /// The value, hex.
    pub value: String,
    /// When it expires.
    pub expires: VerificationTime,
    /// Whether it has already expired at the time asked about.
    pub expired: bool,
    /// The file it came from.
    pub source: String,
}

impl Policy {
    /// Reference values that have expired at `now` or expire within
    /// `horizon_seconds` of it.
    pub fn expiry_notices(&self, now: VerificationTime, horizon_seconds: i64) -> Vec<ExpiryNotice> {
        let mut out = Vec::new();
        let mut visit =
            |rule: &str, values: Vec<(&[u8], Option<crate::values::Expiry>, Option<&String>)>| {
                for (v, e, src) in values {
                    if let Some(e) = e {
                        if e.0.unix() <= now.unix().saturating_add(horizon_seconds) {
                            out.push(ExpiryNotice {
                                rule: rule.to_string(),
                                value: hex::encode(v),
                                expires: e.0,
                                expired: e.0 <= now,
                                source: src.cloned().unwrap_or_else(|| self.file.clone()),
                            });
                        }
                    }
                }
            };
        fn items<L: HexLen>(
            l: &Option<RefList<L>>,
        ) -> Vec<(&[u8], Option<crate::values::Expiry>, Option<&String>)> {
            l.as_ref()
                .map(|l| {
                    l.0.iter()
                        .map(|v: &RefValue<L>| (v.value.0.as_slice(), v.expires, v.source.as_ref()))
                        .collect()
                })
                .unwrap_or_default()
        }
        let r = &self.rules;
        visit(
            "common.launch_measurements",
            items(&r.common.launch_measurements),
        );
        visit("common.init_data", items(&r.common.init_data));
        visit(
            "common.platform_instances",
            items(&r.common.platform_instances),
        );
        if let Some(s) = &r.snp {
            visit("snp.measurements", items(&s.measurements));
            visit("snp.host_data", items(&s.host_data));
            visit("snp.family_ids", items(&s.family_ids));
            visit("snp.image_ids", items(&s.image_ids));
            visit("snp.id_key_digests", items(&s.id_key_digests));
            visit("snp.author_key_digests", items(&s.author_key_digests));
        }
        if let Some(t) = &r.tdx {
            for (k, l) in [
                ("tdx.mrtd", &t.mrtd),
                ("tdx.rtmr0", &t.rtmr0),
                ("tdx.rtmr1", &t.rtmr1),
                ("tdx.rtmr2", &t.rtmr2),
                ("tdx.rtmr3", &t.rtmr3),
                ("tdx.mrconfigid", &t.mrconfigid),
                ("tdx.mrowner", &t.mrowner),
                ("tdx.mrownerconfig", &t.mrownerconfig),
                ("tdx.mrseam", &t.mrseam),
                ("tdx.mrsignerseam", &t.mrsignerseam),
                ("tdx.mrservicetd", &t.mrservicetd),
                ("tdx.init_servicetd_hashes", &t.init_servicetd_hashes),
                ("tdx.cur_servicetd_hashes", &t.cur_servicetd_hashes),
            ] {
                visit(k, items(l));
            }
            for (k, l) in [
                ("tdx.xfam", &t.xfam),
                (
                    "tdx.init_servicetd_attributes",
                    &t.init_servicetd_attributes,
                ),
                ("tdx.cur_servicetd_attributes", &t.cur_servicetd_attributes),
            ] {
                visit(k, items(l));
            }
            if let Some(ev) = &t.event_log {
                visit("tdx.event_log.kernel", items(&ev.kernel));
                visit("tdx.event_log.initrd", items(&ev.initrd));
                visit("tdx.event_log.cmdline_digests", items(&ev.cmdline_digests));
            }
        }
        if let Some(c) = &r.cca {
            for (k, l) in [
                ("cca.rim", &c.rim),
                ("cca.rem0", &c.rem0),
                ("cca.rem1", &c.rem1),
                ("cca.rem2", &c.rem2),
                ("cca.rem3", &c.rem3),
            ] {
                visit(k, items(l));
            }
            visit(
                "cca.personalization_values",
                items(&c.personalization_values),
            );
            visit("cca.implementation_ids", items(&c.implementation_ids));
            visit("cca.platform_configs", items(&c.platform_configs));
            if let Some(comps) = &c.sw_components {
                let list: Vec<_> = comps
                    .0
                    .iter()
                    .map(|sc| (sc.measurement.0.as_slice(), sc.expires, None))
                    .collect();
                visit("cca.sw_components", list);
            }
        }
        out
    }
}
