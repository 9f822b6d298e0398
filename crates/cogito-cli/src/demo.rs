//! `cogito demo`: cogito's main job on embedded example evidence.
//!
//! The evidence is the testkit's `genoa-v3-vcek` vector (committed under
//! `test-vectors/snp/`): a Genoa v3 report signed by a VCEK that chains to
//! the testkit's *fake* ARK/ASK. The demo trusts those fake roots
//! explicitly — exactly what `--trust-anchors test-vectors/snp/anchors`
//! does — and then shows that a tampered report and the same chain without
//! the fake roots are refused. Real reports verify against AMD's built-in
//! roots; see `cogito verify --help`.

use clap::Args;
use cogito_attest::{
    Anchors, NoFetch, Options, Request, SuppliedCollateral, Verification, Verifier,
};
use cogito_core::anchors::certificates_from_pem_or_der;
use cogito_core::{ErrorClass, VerificationTime};

use crate::failure::Failure;
use crate::out::{errln, out, outln};
use crate::output;

const REPORT: &[u8] = include_bytes!("../../../test-vectors/snp/genoa-v3-vcek/report.bin");
const VCEK: &[u8] = include_bytes!("../../../test-vectors/snp/genoa-v3-vcek/vcek.der");
const CHAIN: &[u8] = include_bytes!("../../../test-vectors/snp/genoa-v3-vcek/cert_chain.pem");
const FAKE_ARK: &[u8] = include_bytes!("../../../test-vectors/snp/anchors/genoa-ark.pem");
const FAKE_ASK: &[u8] = include_bytes!("../../../test-vectors/snp/anchors/genoa-ask.pem");
/// The manifest's verify_at for this case.
const AT: &str = "2025-06-01T00:00:00Z";

#[derive(Args, Debug)]
pub struct DemoArgs {}

fn embedded(message: impl std::fmt::Display) -> Failure {
    Failure::new("demo.embedded", ErrorClass::Internal, message.to_string())
}

/// Runs the embedded report through the same pipeline as `cogito verify`.
/// The outer error is a broken demo; the inner result is the verdict.
fn verify_embedded(
    report: &[u8],
    trust_fake_roots: bool,
) -> Result<Result<Verification, Failure>, Failure> {
    let collateral = SuppliedCollateral {
        snp: cogito_snp::Collateral {
            vcek: Some(VCEK.to_vec()),
            chain: certificates_from_pem_or_der(CHAIN).map_err(embedded)?,
            ..cogito_snp::Collateral::default()
        },
        ..SuppliedCollateral::default()
    };
    let mut anchors = Anchors::builtin();
    if trust_fake_roots {
        for (name, pem) in [
            ("testkit Genoa ARK", FAKE_ARK),
            ("testkit Genoa ASK", FAKE_ASK),
        ] {
            anchors
                .x509
                .add_pem_or_der(pem, false, name)
                .map_err(embedded)?;
        }
    }
    let request = Request {
        evidence: report,
        collateral: &collateral,
        at: VerificationTime::parse_rfc3339(AT).map_err(embedded)?,
        options: &Options::default(),
    };
    Ok(Verifier::without_cache(anchors)
        .verify(&request, &NoFetch)
        .map_err(Failure::from))
}

fn attempt(
    title: &str,
    report: &[u8],
    trust_fake_roots: bool,
    expect: Result<(), &'static str>,
) -> Result<bool, Failure> {
    let result = verify_embedded(report, trust_fake_roots)?;
    outln!("── {title}");
    out!("{}", output::render_text(&result));
    let as_expected = match (&result, expect) {
        (Ok(_), Ok(())) => true,
        (Err(f), Err(code)) => f.code == code,
        _ => false,
    };
    outln!();
    Ok(as_expected)
}

/// Verifies the embedded report, then appraises it against `policy`.
fn appraise_step(title: &str, policy: &str, expect_accept: bool) -> Result<bool, Failure> {
    let verified = verify_embedded(REPORT, true)??;
    let policy = cogito_policy::load("(embedded demo policy)", policy, &mut |_| {
        Err("the demo policy has no includes".into())
    })
    .map_err(embedded)?;
    let appraisal = verified.appraise(&policy);
    outln!("── {title}");
    out!("{}", output::render_appraisal(&appraisal, &policy));
    outln!();
    Ok(appraisal.accepted == expect_accept)
}

/// A policy for the embedded guest: its measurement, no debugging, no
/// migration agent, committed firmware no older than the report's.
fn demo_policy(measurement: &str) -> String {
    format!(
        "[policy]\n\
         name = \"demo\"\n\
         [snp]\n\
         measurements = [\"{measurement}\"]\n\
         signing_keys = [\"vcek\"]\n\
         [snp.min_reported_tcb]\n\
         snp = 1\n\
         [snp.guest_policy]\n\
         migrate_ma_allowed = false\n"
    )
}

pub fn run(_args: &DemoArgs) -> i32 {
    outln!(
        "cogito demo: verifying embedded SEV-SNP evidence signed by the testkit's FAKE AMD roots"
    );
    outln!("(trusted here only because the demo says so; real reports verify against AMD's built-in roots)\n");
    let mut tampered = REPORT.to_vec();
    if let Some(b) = tampered.get_mut(0x90) {
        *b ^= 0x01; // one bit of MEASUREMENT
    }
    let runs = [
        attempt(
            "1. the report, with the testkit roots trusted explicitly",
            REPORT,
            true,
            Ok(()),
        ),
        attempt(
            "2. the same report with one bit of MEASUREMENT flipped",
            &tampered,
            true,
            Err("snp.report.bad_signature"),
        ),
        attempt(
            "3. the untouched report, trusting only AMD's built-in roots",
            REPORT,
            false,
            Err("snp.chain.not_pinned"),
        ),
        appraise_step(
            "4. report 1 appraised against a policy that pins its measurement",
            &demo_policy(&hex::encode(REPORT.get(0x90..0xC0).unwrap_or_default())),
            true,
        ),
        appraise_step(
            "5. report 1 against a policy that expects another image",
            &demo_policy(&"ab".repeat(48)),
            false,
        ),
    ];
    let mut ok = true;
    let service = crate::demo_service::run();
    for r in runs.into_iter().chain([service]) {
        match r {
            Ok(true) => {}
            Ok(false) => ok = false,
            Err(f) => {
                errln!("demo: {}", f.message);
                ok = false;
            }
        }
    }
    if ok {
        outln!("demo: all outcomes are as expected (1 verified, 2 and 3 refused; policy 4 accepts, 5 refuses; the service releases the secret to guest 7 and refuses guest 8)");
        0
    } else {
        outln!("demo: an outcome was not as expected");
        1
    }
}
