//! Loading policies: every malformed or contradictory file is refused with
//! the file, the line and a hint, and nothing is half-applied.

// Test code: a panic is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions
)]

use cogito_core::time::VerificationTime;
use cogito_policy::{load, PolicyError};

fn no_includes(_: &str) -> Result<String, String> {
    Err("no such file".into())
}

fn load_str(text: &str) -> Result<cogito_policy::Policy, PolicyError> {
    load("p.toml", text, &mut no_includes)
}

fn err(text: &str) -> PolicyError {
    match load_str(text) {
        Ok(_) => panic!("loaded, but must be refused:\n{text}"),
        Err(e) => e,
    }
}

const M48: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

#[test]
fn a_minimal_policy_loads() {
    let p = load_str("[policy]\nname = \"x\"\n[snp]\n").unwrap();
    assert_eq!(p.name, "x");
    assert_eq!(p.digest.len(), 64);
    assert!(p.rules.snp.is_some() && p.rules.tdx.is_none());
}

#[test]
fn unknown_key_names_line_and_suggests_the_right_one() {
    let e = err("[policy]\nname = \"x\"\n[snp]\nmeasurement = []\n");
    assert_eq!(e.line, Some(4), "{e}");
    assert!(e.message.contains("unknown field `measurement`"), "{e}");
    assert_eq!(
        e.hint.as_deref(),
        Some("did you mean `measurements`?"),
        "{e}"
    );
    assert!(e.to_string().starts_with("p.toml:4:"), "{e}");
}

#[test]
fn wrong_hex_length_names_the_line_and_both_lengths() {
    let text = format!(
        "[policy]\nname = \"x\"\n\n[tdx]\nmrtd = [\n  \"{M48}\",\n  \"{}\",\n]\n",
        &M48[..94]
    );
    let e = err(&text);
    assert_eq!(e.line, Some(7), "{e}");
    assert!(
        e.message.contains("47 bytes") && e.message.contains("48 bytes"),
        "{e}"
    );
}

#[test]
fn not_hex_is_refused() {
    let e = err("[policy]\nname = \"x\"\n[snp]\nhost_data = [\"zz\"]\n");
    assert!(e.message.contains("not hex"), "{e}");
    assert_eq!(e.line, Some(4));
}

#[test]
fn empty_and_duplicate_lists_are_refused() {
    let e = err("[policy]\nname = \"x\"\n[snp]\nmeasurements = []\n");
    assert!(
        e.message.contains("empty list would refuse every guest"),
        "{e}"
    );
    let e = err(&format!(
        "[policy]\nname = \"x\"\n[snp]\nmeasurements = [\"{M48}\", \"{}\"]\n",
        M48.to_uppercase()
    ));
    assert!(e.message.contains(&format!("{M48} is listed twice")), "{e}");
    // The same value with another expiry is still the same value.
    let e = err(&format!(
        "[policy]\nname = \"x\"\n[snp]\nmeasurements = [\"{M48}\", {{ value = \"{M48}\", expires = 2027-01-01 }}]\n"
    ));
    assert!(e.message.contains(&format!("{M48} is listed twice")), "{e}");
    assert_eq!(e.line, Some(4), "{e}");
}

#[test]
fn impossible_values_are_refused() {
    for (text, needle) in [
        ("[snp]\nvmpls = [4]\n", "VMPL 4 does not exist"),
        ("[snp]\nmin_guest_svn = -1\n", ""),
        ("[snp.min_reported_tcb]\nsnp = 256\n", ""),
        (
            "[tdx]\ntcb_statuses = [\"Revoked\"]\n",
            "Revoked can never be allowed",
        ),
        (
            "[tdx]\ntcb_statuses = [\"Committed\"]\n",
            "SEV-SNP firmware state",
        ),
        (
            "[tdx]\ntcb_statuses = [\"uptodate\"]\n",
            "unknown TCB status",
        ),
        ("[tdx]\nmax_collateral_age = \"0d\"\n", "must be positive"),
        (
            "[tdx]\nmax_collateral_age = \"30 days\"\n",
            "expected a positive number and a unit",
        ),
        ("[snp]\nmin_current_version = \"1\"\n", "firmware version"),
        (
            "[snp]\nsigning_keys = [\"vcek\", \"ask\"]\n",
            "unknown variant",
        ),
        ("[snp.guest_policy]\nmin_abi = \"one\"\n", "not MAJOR.MINOR"),
        (
            "[cca]\nlifecycles = [\"production\"]\n",
            "unknown lifecycle state",
        ),
        (
            "[snp]\nmeasurements = [{ value = \"00\", expires = 2027-01-01 }]\n",
            "expected 48 bytes",
        ),
        (
            &format!("[snp]\nmeasurements = [{{ value = \"{M48}\", expire = 2027-01-01 }}]\n"),
            "unknown key `expire`",
        ),
        (
            &format!("[snp]\nmeasurements = [{{ value = \"{M48}\", expires = \"soon\" }}]\n"),
            "expiry",
        ),
    ] {
        let e = err(&format!("[policy]\nname = \"x\"\n{text}"));
        assert!(e.message.contains(needle), "{text}: {e}");
        assert!(e.line.is_some(), "{text}: no line in {e}");
    }
}

#[test]
fn a_policy_without_platforms_or_name_is_refused() {
    let e = err("[policy]\nname = \"x\"\n");
    assert!(e.message.contains("refuses all evidence"), "{e}");
    let e = err("[snp]\n");
    assert!(e.hint.as_deref().unwrap_or("").contains("[policy]"), "{e}");
    let e = err("[policy]\nname = \" \"\n[snp]\n");
    assert!(e.message.contains("name is empty"), "{e}");
}

#[test]
fn contradictions_are_refused_with_the_line() {
    let other = "b".repeat(96);
    let e = err(&format!(
        "[policy]\nname = \"x\"\n[common]\nlaunch_measurements = [\"{M48}\"]\n[snp]\nmeasurements = [\"{other}\"]\n"
    ));
    assert!(e.message.contains("no value in common"), "{e}");
    assert_eq!(e.line, Some(6), "{e}");

    let e = err(
        "[policy]\nname = \"x\"\n[snp]\nproducts = [\"milan\"]\n[snp.min_reported_tcb]\nfmc = 1\n",
    );
    assert!(e.message.contains("only Turin"), "{e}");
    assert_eq!(e.line, Some(6), "{e}");

    let e = err(
        "[policy]\nname = \"x\"\n[cca]\nlifecycles = [\"secured\", \"non_cca_platform_debug\"]\n",
    );
    assert!(e.message.contains("debug state"), "{e}");
    // …and consistent once debug is allowed.
    load_str("[policy]\nname = \"x\"\n[common]\ndebug_allowed = true\n[cca]\nlifecycles = [\"secured\", \"non_cca_platform_debug\"]\n").unwrap();
}

#[test]
fn includes_merge_with_source_and_default_expiry() {
    let inc = format!("expires = 2027-01-01\nnote = \"build 42\"\n[snp]\nmeasurements = [\"{M48}\", {{ value = \"{}\", expires = 2030-01-01 }}]\n", "c".repeat(96));
    let text = "[policy]\nname = \"x\"\ninclude = [\"ref.toml\"]\n[snp]\n";
    let mut asked = Vec::new();
    let p = load("p.toml", text, &mut |f: &str| {
        asked.push(f.to_string());
        Ok(inc.clone())
    })
    .unwrap();
    assert_eq!(asked, ["ref.toml"]);
    let list = &p
        .rules
        .snp
        .as_ref()
        .unwrap()
        .measurements
        .as_ref()
        .unwrap()
        .0;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].source.as_deref(), Some("ref.toml"));
    assert_eq!(list[0].note.as_deref(), Some("build 42"));
    assert_eq!(
        list[0].expires.unwrap().0.to_rfc3339(),
        "2027-01-01T00:00:00Z"
    );
    assert_eq!(
        list[1].expires.unwrap().0.to_rfc3339(),
        "2030-01-01T00:00:00Z"
    );

    // The digest covers the included text: changing it changes the digest.
    let p2 = load("p.toml", text, &mut |_: &str| Ok(inc.replace("42", "43"))).unwrap();
    assert_ne!(p.digest, p2.digest);

    let at = VerificationTime::parse_rfc3339("2026-12-15T00:00:00Z").unwrap();
    let notices = p.expiry_notices(at, 30 * 86_400);
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].rule, "snp.measurements");
    assert!(!notices[0].expired);
}

#[test]
fn include_errors_name_the_included_file() {
    let text = "[policy]\nname = \"x\"\ninclude = [\"ref.toml\"]\n[snp]\n";
    let e = load("p.toml", text, &mut |_: &str| {
        Ok("[tdx]\nmrtd = [\"00\"]\n".into())
    })
    .unwrap_err();
    assert_eq!(e.file, "ref.toml");
    assert_eq!(e.line, Some(2), "{e}");
    let e = load("p.toml", text, &mut |_: &str| {
        Ok(format!("\n[tdx]\nmrtd = [\"{M48}\"]\n"))
    })
    .unwrap_err();
    assert_eq!(e.file, "ref.toml");
    assert!(e.message.contains("has no [tdx] table"), "{e}");
    assert_eq!(e.line, Some(2), "{e}");
    let e = load("p.toml", text, &mut no_includes).unwrap_err();
    assert_eq!(e.file, "p.toml");
    assert!(e.message.contains("include \"ref.toml\""), "{e}");
    assert_eq!(e.line, Some(3), "{e}");
    // Reference-value files hold values only.
    let e = load("p.toml", text, &mut |_: &str| {
        Ok("[snp]\nmin_guest_svn = 1\n".into())
    })
    .unwrap_err();
    assert!(e.message.contains("unknown field `min_guest_svn`"), "{e}");
}

#[test]
fn untrusted_policy_text_never_panics() {
    // Every prefix of a full policy either loads or is refused cleanly.
    let full = format!(
        "[policy]\nname = \"x\"\n[common]\ndebug_allowed = false\n[snp]\nmeasurements = [{{ value = \"{M48}\", expires = 2027-01-01T00:00:00Z }}]\n[snp.guest_policy]\nmin_abi = \"1.51\"\n[tdx]\nmax_collateral_age = \"30d\"\n[[cca.sw_components]]\ntype = \"BL\"\nmeasurement = \"{}\"\n",
        "d".repeat(64)
    );
    for end in 0..full.len() {
        if full.is_char_boundary(end) {
            let _ = load_str(&full[..end]);
        }
    }
    load_str(&full).unwrap();
}

#[test]
fn per_product_tcb_tables_must_be_reachable_and_fmc_is_turin_only() {
    let e = err("[policy]\nname = \"x\"\n[snp]\nproducts = [\"genoa\"]\n[snp.min_launch_tcb.milan]\nsnp = 1\n");
    assert!(
        e.message.contains("excludes milan, so it never applies"),
        "{e}"
    );
    assert_eq!(e.line, Some(5), "{e}");
    let e = err("[policy]\nname = \"x\"\n[snp.min_launch_tcb.genoa]\nfmc = 1\n");
    assert!(
        e.message
            .contains("genoa.fmc: only Turin has an FMC component"),
        "{e}"
    );
    assert_eq!(e.line, Some(4), "{e}");
    load_str("[policy]\nname = \"x\"\n[snp.min_launch_tcb.turin]\nfmc = 1\n").unwrap();
}
