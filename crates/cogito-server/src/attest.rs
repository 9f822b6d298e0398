//! The attest flow, one code path for every protocol that reaches it:
//! nonce → secrets and their policies → verification (on the pool, through
//! the pipeline library, as `cogito verify` does it) → binding → each
//! secret's policy → nonce consumed → token signed → secrets sealed.

use std::sync::Arc;

use cogito_attest::{Options, Request, SuppliedCollateral, Verification};
use cogito_policy::Appraisal;
use cogito_protocol::{
    decode_b64, encode_b64, AttestRequest, AttestResponse, FailedRule, Kem, SealedSecret, TeeName,
};

use crate::config::Explain;
use crate::error::ApiError;
use crate::policies::LoadedPolicy;
use crate::state::AppState;
use crate::store::SecretRow;
use crate::token::Accepted;

fn b64(field: &'static str, v: &str) -> Result<Vec<u8>, ApiError> {
    decode_b64(v).ok_or(ApiError::BadBase64(field))
}

/// A public key of the right size for its KEM.
pub fn check_key(kem: Kem, key: &[u8]) -> Result<(), ApiError> {
    cogito_protocol::check_public_key(kem, key).map_err(|_| {
        ApiError::Malformed(format!(
            "public_key.key is not a valid {} public key (X25519: 32 bytes; P-256: an uncompressed point on the curve)",
            kem.as_str()
        ))
    })
}

/// The platform name of a verification.
pub fn tee_name(v: &Verification) -> TeeName {
    match v.tee() {
        cogito_core::Tee::Snp => TeeName::Snp,
        cogito_core::Tee::Tdx => TeeName::Tdx,
        cogito_core::Tee::Cca => TeeName::Cca,
    }
}

/// A secret with the policy that guards it.
pub struct Guarded {
    /// The secret's latest version.
    pub secret: SecretRow,
    /// Its policy.
    pub policy: Arc<LoadedPolicy>,
}

/// Looks up the secrets and their policies (before any verification, so
/// that a request for an unknown secret costs nothing).
pub async fn guarded(
    state: &AppState,
    names: &[String],
    now: i64,
) -> Result<Vec<Guarded>, ApiError> {
    let mut out: Vec<Guarded> = Vec::with_capacity(names.len());
    for name in names {
        if out.iter().any(|g| &g.secret.name == name) {
            continue;
        }
        let row = match state.secrets.get(name, now) {
            Some(row) => row,
            None => {
                let row = state.store.secret(name).await?;
                state.secrets.put(name, now, row.clone());
                row
            }
        };
        let secret = row.ok_or_else(|| ApiError::UnknownSecret(name.clone()))?;
        let policy = state
            .policies
            .get(&*state.store, &secret.policy, secret.policy_version, now)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, secret = %name, "policy does not load");
                ApiError::Internal
            })?
            .ok_or_else(|| ApiError::PolicyMissing {
                secret: name.clone(),
                policy: secret.policy.clone(),
            })?;
        out.push(Guarded { secret, policy });
    }
    Ok(out)
}

/// The failed rules as much as `explain` allows.
pub fn explained(a: &Appraisal, explain: Explain) -> Vec<FailedRule> {
    match explain {
        Explain::None => Vec::new(),
        Explain::Rules | Explain::Full => a
            .failures()
            .map(|r| FailedRule {
                rule: r.rule.clone(),
                actual: r.actual.clone(),
                expected: (explain == Explain::Full).then(|| r.expected.clone()),
            })
            .collect(),
    }
}

/// The 64 bytes the guest chose, as verified evidence binds them: the
/// report data; for an Azure HCL report, the `user-data` of its runtime
/// data (the SNP REPORT_DATA there is the hash of that runtime data,
/// which the pipeline has checked, and the guest's vTPM sets user-data).
pub fn guest_report_data(evidence: &[u8], v: &Verification) -> Option<Vec<u8>> {
    if v.kind != cogito_attest::EvidenceKind::AzureHclSnp {
        return Some(v.claims().report_data.0.to_vec());
    }
    let hcl = cogito_snp::HclReport::parse(evidence).ok()?;
    let runtime: serde_json::Value = serde_json::from_slice(hcl.var_data).ok()?;
    let user_data = hex::decode(runtime.get("user-data")?.as_str()?).ok()?;
    (user_data.len() == 64).then_some(user_data)
}

/// The service's verification step, as a verification thread runs it:
/// `cogito-attest`'s pipeline with the service's options, the collateral
/// the guest sent and the source behind it (the store, then the vendors).
/// A pure function of its arguments; the tests run real vectors through
/// it and through `cogito verify` and compare.
pub fn verify_evidence(
    verifier: &cogito_attest::Verifier,
    source: &dyn cogito_attest::CollateralSource,
    options: &Options,
    evidence: &[u8],
    collateral: &SuppliedCollateral,
    at: cogito_core::VerificationTime,
) -> Result<Verification, cogito_attest::AttestError> {
    let request = Request {
        evidence,
        collateral,
        at,
        options,
    };
    verifier.verify(&request, source)
}

/// Options for every service verification: policies decide TCB statuses,
/// provisional firmware and lifecycles; the operator decides test keys.
pub fn service_options(allow_test_keys: bool) -> Options {
    let mut o = Options::for_appraisal();
    o.cca.allow_test_keys = allow_test_keys;
    o
}

/// A `/v1/attest` request's own fields, decoded and checked.
#[derive(Debug)]
pub struct Decoded {
    /// The evidence bytes, at most `limits.max_evidence_bytes`.
    pub evidence: Vec<u8>,
    /// The guest's KEM.
    pub kem: Kem,
    /// The guest's public key, valid for its KEM.
    pub public_key: Vec<u8>,
    /// The collateral the guest sent.
    pub collateral: SuppliedCollateral,
}

/// What `/v1/attest` checks of a request after its nonce and before any
/// lookup: the evidence (base64, size), the public key (base64, valid for
/// its KEM), the collateral (base64) and the number of secrets. A pure
/// function of the request and the limits (the fuzz target `v1_bodies`
/// runs it on arbitrary bodies).
pub fn decode_request(
    req: &AttestRequest,
    limits: &crate::config::Limits,
) -> Result<Decoded, ApiError> {
    let evidence = b64("evidence", &req.evidence)?;
    let limit = limits.max_evidence_bytes;
    if evidence.len() > limit {
        return Err(ApiError::EvidenceTooLarge {
            size: evidence.len(),
            limit,
        });
    }
    let kem = req.public_key.kem;
    let public_key = b64("public_key.key", &req.public_key.key)?;
    check_key(kem, &public_key)?;
    let mut collateral = SuppliedCollateral::default();
    if let Some(c) = &req.collateral {
        if let Some(t) = &c.cert_table {
            collateral.snp_cert_table = Some(b64("collateral.cert_table", t)?);
        }
        if let Some(l) = &c.event_log {
            collateral.event_log = Some(b64("collateral.event_log", l)?);
        }
    }
    // A token records which policies accepted the guest; with no secret
    // asked for, no policy would have been asked, and a token that says
    // only "genuine" is one a relying party could mistake for "accepted".
    if req.secrets.is_empty() {
        return Err(ApiError::Malformed(
            "secrets: name at least one secret; each secret's policy decides".into(),
        ));
    }
    let limit = limits.max_secrets_per_request;
    if req.secrets.len() > limit {
        return Err(ApiError::TooManySecrets {
            asked: req.secrets.len(),
            limit,
        });
    }
    Ok(Decoded {
        evidence,
        kem,
        public_key,
        collateral,
    })
}

/// `POST /v1/attest`.
pub async fn attest(state: Arc<AppState>, req: AttestRequest) -> Result<AttestResponse, ApiError> {
    let now = crate::state::now();
    let nonce = b64("nonce", &req.nonce)?;
    let checked = crate::nonce::check(&state.keys, &nonce, now)?;
    let Decoded {
        evidence,
        kem,
        public_key,
        collateral,
    } = decode_request(&req, &state.config.limits)?;
    let secrets = guarded(&state, &req.secrets, now).await?;
    let expected = cogito_protocol::report_data(&nonce, kem, &public_key)
        .ok_or_else(|| ApiError::Malformed("nonce or key too long".into()))?;

    // Everything that costs CPU runs in one job on the verification pool:
    // verification, appraisal, the token's signature, the sealing. What
    // it prepares leaves the service only once the nonce is consumed.
    let st = state.clone();
    let (nonce_id, nonce_expires) = (checked.id.clone(), checked.expires);
    let (tee, answer) = state
        .pool
        .run(move || {
            let at = cogito_core::VerificationTime::from_unix(now);
            // Verification time, without the wait for a pool thread.
            let started = std::time::Instant::now();
            let verified = verify_evidence(
                &st.verifier,
                &st.source,
                &st.options,
                &evidence,
                &collateral,
                at,
            );
            let tee = verified
                .as_ref()
                .map_or("unknown", |v| tee_name(v).as_str());
            metrics::histogram!("cogito_verify_seconds", "tee" => tee)
                .record(started.elapsed().as_secs_f64());
            let prepared = verified.map_err(|e| ApiError::evidence(&e)).and_then(|v| {
                prepare(
                    &st,
                    &v,
                    &evidence,
                    &checked,
                    &expected,
                    &secrets,
                    now,
                    kem,
                    &public_key,
                )
            });
            (tee, prepared)
        })
        .await?;
    let answer = answer.inspect_err(|e| {
        metrics::counter!("cogito_verdicts_total", "tee" => tee, "result" => "refused", "code" => e.code())
            .increment(1);
    })?;

    // Single use, across replicas: the one statement that decides.
    if !state.nonces.consume(nonce_id, nonce_expires).await? {
        metrics::counter!("cogito_verdicts_total", "tee" => tee, "result" => "refused", "code" => "nonce.replayed").increment(1);
        return Err(ApiError::NonceReplayed);
    }
    metrics::counter!("cogito_verdicts_total", "tee" => tee, "result" => "accepted", "code" => "ok").increment(1);
    let released = u64::try_from(answer.secrets.len()).unwrap_or(u64::MAX);
    metrics::counter!("cogito_secrets_released_total").increment(released);
    Ok(answer)
}

/// After verification, on the pool: the platform and the binding, each
/// requested secret's policy, the token and the sealed secrets.
#[allow(clippy::too_many_arguments)]
fn prepare(
    state: &AppState,
    verification: &Verification,
    evidence: &[u8],
    checked: &crate::nonce::CheckedNonce,
    expected: &[u8; 64],
    secrets: &[Guarded],
    now: i64,
    kem: Kem,
    public_key: &[u8],
) -> Result<AttestResponse, ApiError> {
    let tee = tee_name(verification);
    if tee != checked.tee {
        return Err(ApiError::TeeMismatch {
            challenged: checked.tee.as_str(),
            evidence: tee.as_str(),
        });
    }
    if guest_report_data(evidence, verification).as_deref() != Some(expected.as_slice()) {
        return Err(ApiError::BindingMismatch);
    }

    // Every requested secret's policy, each appraised once.
    let mut appraisals: Vec<(Arc<LoadedPolicy>, Appraisal)> = Vec::new();
    for g in secrets {
        if appraisals.iter().any(|(p, _)| Arc::ptr_eq(p, &g.policy)) {
            continue;
        }
        let a = verification.appraise(&g.policy.policy);
        if !a.accepted {
            return Err(ApiError::PolicyRefused {
                secret: g.secret.name.clone(),
                policy: g.policy.name.clone(),
                rules: explained(&a, state.config.explain),
            });
        }
        appraisals.push((g.policy.clone(), a));
    }

    let lifetime = i64::try_from(state.config.token_lifetime_secs).unwrap_or(i64::MAX);
    let expires = now.saturating_add(lifetime);
    let accepted: Vec<Accepted<'_>> = appraisals
        .iter()
        .map(|(p, a)| Accepted {
            policy: &p.name,
            policy_id: p.id(),
            appraisal: a,
        })
        .collect();
    let token = crate::token::issue(
        &state.keys,
        now,
        expires,
        verification,
        &accepted,
        kem,
        public_key,
    )?;
    let mut sealed = Vec::with_capacity(secrets.len());
    for g in secrets {
        sealed.push(seal_secret(state, &g.secret, kem, public_key)?);
    }
    Ok(AttestResponse {
        token,
        token_expires_at: cogito_core::VerificationTime::from_unix(expires).to_string(),
        secrets: sealed,
    })
}

/// Decrypts a secret and seals it to a guest key.
pub fn seal_secret(
    state: &AppState,
    secret: &SecretRow,
    kem: Kem,
    public_key: &[u8],
) -> Result<SealedSecret, ApiError> {
    let value = crate::vault::decrypt(
        state.keys.kek(),
        &secret.name,
        &secret.wrapped_dek,
        &secret.ciphertext,
    )
    .ok_or_else(|| {
        tracing::error!(secret = %secret.name, "a secret does not decrypt with this KEK");
        ApiError::Internal
    })?;
    let s = cogito_protocol::seal(kem, public_key, &secret.name, &value)
        .map_err(|e| ApiError::Malformed(e.to_string()))?;
    Ok(SealedSecret {
        name: secret.name.clone(),
        enc: encode_b64(&s.enc),
        ciphertext: encode_b64(&s.ciphertext),
    })
}
