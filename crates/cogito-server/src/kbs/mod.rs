//! The Confidential Containers KBS attestation protocol, version 0.4.0
//! (Request-Challenge-Attestation-Response), served beside cogito's own
//! `/v1`, so that attestation-agent, confidential-data-hub and other
//! `kbs_protocol` clients switch to cogito unchanged. Written from
//! Trustee's `kbs/docs/kbs_attestation_protocol.md` and the `kbs-types`
//! crate (docs/kbs-compat.md says what is and is not supported):
//!
//! 1. `POST /kbs/v0/auth` `{"version","tee","extra-params"}`: a session in
//!    the store (so any replica continues it), its id in the
//!    `kbs-session-id` cookie, and `{"nonce","extra-params"}` with the
//!    `selected-hash-algorithm`;
//! 2. `POST /kbs/v0/attest` with the cookie and `{"init-data"?,
//!    "runtime-data": {"nonce","tee-pubkey"}, "tee-evidence":
//!    {"primary_evidence","additional_evidence"}}`: every piece of
//!    evidence verified with the same pipeline as `/v1/attest`, bound to
//!    the hash of the runtime data ([`binding`]), init-data checked
//!    against HOST_DATA / MRCONFIGID / the CCA personalization value; the
//!    session marked attested once; `{"token": <EAR JWT>}`;
//! 3. `GET /kbs/v0/resource/<repository>/<type>/<tag>` with the cookie or
//!    `Authorization: Bearer <token>`: the cogito secret named
//!    `<repository>/<type>/<tag>`, released when that secret's policy
//!    accepts the session's verified evidence, as a flattened JWE to the
//!    session's `tee-pubkey` ([`jwe`]).
//!
//! Errors are the protocol's ErrorInformation JSON (`{"type","detail"}`,
//! plus cogito's stable `code`); 401 only for authentication failures.

pub mod binding;
#[doc(hidden)]
pub mod evidence;
pub mod jwe;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use cogito_protocol::TeeName;
use kbs_types::HashAlgorithm;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::state::{now, AppState};
use evidence::Piece;

/// The protocol version served.
pub const PROTOCOL_VERSION: &str = "0.4.0";
/// The session cookie.
pub const SESSION_COOKIE: &str = "kbs-session-id";
/// How long a session waits for its attestation.
const CHALLENGE_SECS: i64 = 300;
/// The type URI prefix of the protocol's errors (Trustee's).
const ERROR_TYPE: &str = "https://github.com/confidential-containers/kbs/errors/";

/// A marker on every `/kbs/v0` answer, so that the service's problem
/// mapping leaves the protocol's own error JSON alone.
#[derive(Debug, Clone, Copy)]
pub struct KbsAnswer;

/// Why a KBS request was refused.
#[derive(Debug, thiserror::Error)]
pub enum KbsError {
    /// The client speaks another protocol version.
    #[error(
        "KBS protocol version {0:?} is not supported: this KBS speaks {PROTOCOL_VERSION} (0.4.x)"
    )]
    Version(String),
    /// The body is not the protocol's JSON.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// A TEE cogito does not verify.
    #[error("TEE {0:?} is not supported: this KBS verifies snp, tdx and cca")]
    UnsupportedTee(String),
    /// No hash algorithm in common.
    #[error(
        "supported-hash-algorithms [{0}]: none that this KBS uses (sha384, sha512, sha256, sm3)"
    )]
    HashAlgorithm(String),
    /// No cookie and no bearer token.
    #[error("no kbs-session-id cookie and no bearer token: POST /kbs/v0/auth first")]
    NoSession,
    /// The cookie names no live session.
    #[error("no such session, or it expired: POST /kbs/v0/auth again")]
    UnknownSession,
    /// The session has not attested.
    #[error("this session has not attested: POST /kbs/v0/attest first")]
    NotAttested,
    /// The session attested already.
    #[error("this session has attested already: a new attestation needs a new POST /kbs/v0/auth")]
    Replayed,
    /// `runtime-data.nonce` is not the session's.
    #[error("runtime-data.nonce is not the nonce of this session's challenge")]
    NonceMismatch,
    /// The evidence's platform is not the session's.
    #[error("the session was opened for {session}, the evidence is {evidence}")]
    TeeMismatch {
        /// The session's TEE.
        session: &'static str,
        /// The evidence's.
        evidence: &'static str,
    },
    /// The evidence does not bind this runtime data.
    #[error("{0}: the report data is not the {1} of this runtime-data (nonce and tee-pubkey)")]
    BindingMismatch(String, String),
    /// init-data does not match the evidence.
    #[error("init-data: {0}")]
    InitData(String),
    /// Additional evidence of a TEE cogito does not verify.
    #[error("additional evidence for TEE {0:?} is not supported: this KBS verifies snp, tdx and cca, and verifies or refuses every piece")]
    AdditionalUnsupported(String),
    /// The evidence JSON is not what an attester of its TEE sends.
    #[error("tee-evidence: {0}")]
    EvidenceShape(String),
    /// `tee-pubkey` cannot be encrypted to.
    #[error("{0}")]
    TeePubKey(String),
    /// The bearer token is not one of ours, or expired.
    #[error("bearer token: {0}")]
    Token(String),
    /// No secret at that path.
    #[error("resource {0}: no such resource")]
    UnknownResource(String),
    /// The resource's policy refused the session's evidence.
    #[error("resource {resource}: refused by policy {policy}{rules}")]
    PolicyDenied {
        /// The resource path.
        resource: String,
        /// The policy.
        policy: String,
        /// The failed rules, as much as `explain` allows.
        rules: String,
    },
    /// An upload without a valid admin JWT.
    #[error("admin token: {0}")]
    AdminToken(String),
    /// An upload the configuration does not allow.
    #[error("resource {0}: {1}")]
    UploadRefused(String, String),
    /// Everything the `/v1` API refuses alike: evidence, store, overload.
    #[error("{0}")]
    Api(#[from] ApiError),
}

impl KbsError {
    /// The stable code (docs/errors.md).
    pub fn code(&self) -> &'static str {
        match self {
            KbsError::Version(_) => "kbs.version",
            KbsError::Malformed(_) => "kbs.malformed",
            KbsError::UnsupportedTee(_) => "kbs.unsupported_tee",
            KbsError::HashAlgorithm(_) => "kbs.hash_algorithm",
            KbsError::NoSession => "kbs.no_session",
            KbsError::UnknownSession => "kbs.unknown_session",
            KbsError::NotAttested => "kbs.not_attested",
            KbsError::Replayed => "kbs.replayed",
            KbsError::NonceMismatch => "kbs.nonce_mismatch",
            KbsError::TeeMismatch { .. } => "kbs.tee_mismatch",
            KbsError::BindingMismatch(..) => "kbs.binding_mismatch",
            KbsError::InitData(_) => "kbs.init_data_mismatch",
            KbsError::AdditionalUnsupported(_) => "kbs.additional_evidence_unsupported",
            KbsError::EvidenceShape(_) => "kbs.evidence_shape",
            KbsError::TeePubKey(_) => "kbs.tee_pubkey",
            KbsError::Token(_) => "kbs.token_invalid",
            KbsError::UnknownResource(_) => "kbs.unknown_resource",
            KbsError::PolicyDenied { .. } => "kbs.policy_denied",
            KbsError::AdminToken(_) => "kbs.admin_unauthorized",
            KbsError::UploadRefused(..) => "kbs.upload_refused",
            KbsError::Api(e) => e.code(),
        }
    }

    /// 400 malformed, 401 authentication (version, session, token), 403
    /// a resource's policy, 404 no such resource, 409 a second
    /// attestation, 422 evidence refused, else as `/v1`.
    pub fn status(&self) -> StatusCode {
        match self {
            KbsError::Malformed(_)
            | KbsError::UnsupportedTee(_)
            | KbsError::HashAlgorithm(_)
            | KbsError::EvidenceShape(_)
            | KbsError::TeePubKey(_) => StatusCode::BAD_REQUEST,
            KbsError::Version(_)
            | KbsError::NoSession
            | KbsError::UnknownSession
            | KbsError::NotAttested
            | KbsError::Token(_)
            | KbsError::AdminToken(_) => StatusCode::UNAUTHORIZED,
            KbsError::UploadRefused(..) => StatusCode::FORBIDDEN,
            KbsError::Replayed => StatusCode::CONFLICT,
            KbsError::NonceMismatch
            | KbsError::TeeMismatch { .. }
            | KbsError::BindingMismatch(..)
            | KbsError::InitData(_)
            | KbsError::AdditionalUnsupported(_) => StatusCode::UNPROCESSABLE_ENTITY,
            KbsError::PolicyDenied { .. } => StatusCode::FORBIDDEN,
            KbsError::UnknownResource(_) => StatusCode::NOT_FOUND,
            KbsError::Api(e) => e.status(),
        }
    }

    /// The ErrorInformation `type`'s last segment.
    fn kind(&self) -> &'static str {
        match self {
            KbsError::Version(_) => "ProtocolVersion",
            KbsError::Malformed(_) | KbsError::EvidenceShape(_) => "InvalidRequest",
            KbsError::UnsupportedTee(_) | KbsError::AdditionalUnsupported(_) => "UnsupportedTee",
            KbsError::HashAlgorithm(_) => "HashAlgorithm",
            KbsError::NoSession | KbsError::UnknownSession | KbsError::NotAttested => {
                "UnAuthenticated"
            }
            KbsError::Replayed => "AttestationReplayed",
            KbsError::NonceMismatch
            | KbsError::TeeMismatch { .. }
            | KbsError::BindingMismatch(..)
            | KbsError::InitData(_) => "AttestationFailed",
            KbsError::TeePubKey(_) => "InvalidTeePubKey",
            KbsError::Token(_) => "TokenParseFailed",
            KbsError::UnknownResource(_) => "ResourceNotFound",
            KbsError::PolicyDenied { .. } | KbsError::UploadRefused(..) => "PolicyDeny",
            KbsError::AdminToken(_) => "AdminAccessDenied",
            KbsError::Api(_) => "AttestationFailed",
        }
    }
}

impl IntoResponse for KbsError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::json!({
            "type": format!("{ERROR_TYPE}{}", self.kind()),
            "detail": self.to_string(),
            "code": self.code(),
        });
        let mut r = (status, axum::Json(body)).into_response();
        r.extensions_mut().insert(KbsAnswer);
        if let KbsError::Api(ApiError::Saturated | ApiError::StoreUnavailable) = self {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}

/// The routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/kbs/v0/auth", post(auth))
        .route("/kbs/v0/attest", post(attest))
        .route(
            "/kbs/v0/resource/{repository}/{kind}/{tag}",
            get(resource).post(upload),
        )
}

/// What the store keeps of a session (`kbs_sessions.state`).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Session {
    tee: TeeName,
    nonce: String,
    hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attested: Option<Attested>,
}

/// What an attestation leaves for the resource requests.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Attested {
    /// When the evidence was verified (resources are appraised as of then).
    at: i64,
    /// The key resources are encrypted to.
    tee_pubkey: serde_json::Value,
    /// Every piece of evidence, primary first.
    evidence: Vec<Piece>,
}

fn random_b64(len: usize) -> Result<String, KbsError> {
    let mut b = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| KbsError::Api(ApiError::Internal))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// The body as `T`, refused as malformed when it nests deeper than
/// `limits.max_json_depth` (the KBS error shape has no finer kind).
fn parse_body<T: serde::de::DeserializeOwned>(
    state: &AppState,
    body: &[u8],
) -> Result<T, KbsError> {
    let max = state.config.limits.max_json_depth;
    if let Some(offset) = crate::http::json_too_deep(body, max) {
        return Err(KbsError::Malformed(format!(
            "the JSON body nests deeper than {max} levels (at byte {offset})"
        )));
    }
    serde_json::from_slice(body).map_err(|e| KbsError::Malformed(e.to_string()))
}

fn cookie(state: &AppState, id: &str, max_age: i64) -> HeaderValue {
    let secure = if state.config.insecure_http {
        ""
    } else {
        "; Secure"
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={id}; Path=/kbs; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.trim().to_string())
}

fn ok_json(value: &serde_json::Value, cookie: Option<HeaderValue>) -> Response {
    let mut r = axum::Json(value).into_response();
    if let Some(c) = cookie {
        r.headers_mut().insert(header::SET_COOKIE, c);
    }
    r.extensions_mut().insert(KbsAnswer);
    r
}

/// `POST /kbs/v0/auth`.
async fn auth(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Response, KbsError> {
    let request: kbs_types::Request = parse_body(&state, &body)?;
    // Upstream accepts 0.4.x; the version is semver.
    let mut parts = request.version.trim().split('.');
    let compatible = parts.next() == Some("0") && parts.next() == Some("4");
    if !compatible {
        return Err(KbsError::Version(request.version));
    }
    let tee_name = serde_json::to_value(request.tee)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let tee = evidence::tee_of(&tee_name).ok_or(KbsError::UnsupportedTee(tee_name))?;
    let hash = binding::select(&request.extra_params).map_err(KbsError::HashAlgorithm)?;
    let nonce = random_b64(32)?;
    let id = random_b64(32)?;
    let session = Session {
        tee,
        nonce: nonce.clone(),
        hash: hash.to_string(),
        attested: None,
    };
    let text = serde_json::to_string(&session).map_err(|_| ApiError::Internal)?;
    state
        .store
        .insert_kbs_session(&id, now().saturating_add(CHALLENGE_SECS), &text)
        .await
        .map_err(ApiError::from)?;
    let challenge = kbs_types::Challenge {
        nonce,
        extra_params: serde_json::json!({ "selected-hash-algorithm": hash.to_string() }),
    };
    let value = serde_json::to_value(&challenge).map_err(|_| ApiError::Internal)?;
    Ok(ok_json(&value, Some(cookie(&state, &id, CHALLENGE_SECS))))
}

/// The session of a request, live.
async fn load(state: &AppState, id: &str) -> Result<(bool, Session), KbsError> {
    let (expires, attested, text) = state
        .store
        .kbs_session(id)
        .await
        .map_err(ApiError::from)?
        .ok_or(KbsError::UnknownSession)?;
    if expires <= now() {
        return Err(KbsError::UnknownSession);
    }
    let session: Session = serde_json::from_str(&text).map_err(|_| ApiError::Internal)?;
    Ok((attested, session))
}

/// The init-data digest: the `algorithm` the TOML names (SHA-384 when
/// none) over the body's bytes, as Trustee's attestation service computes
/// it.
#[doc(hidden)]
pub fn init_data_digest(init: &kbs_types::InitData) -> Result<Vec<u8>, KbsError> {
    if init.format != "toml" {
        return Err(KbsError::InitData(format!(
            "format {:?}: only toml init-data is supported",
            init.format
        )));
    }
    let doc: toml::Table = init
        .body
        .parse()
        .map_err(|e| KbsError::InitData(format!("body is not TOML: {e}")))?;
    let alg = match doc.get("algorithm").and_then(|v| v.as_str()) {
        None => HashAlgorithm::Sha384,
        Some(name) => name
            .parse::<HashAlgorithm>()
            .map_err(|_| KbsError::InitData(format!("algorithm {name:?} is not supported")))?,
    };
    Ok(alg.digest(init.body.as_bytes()))
}

/// The init-data field of each platform and its length.
fn init_data_field(tee: TeeName) -> (&'static str, usize) {
    match tee {
        TeeName::Snp => ("HOST_DATA", 32),
        TeeName::Tdx => ("MRCONFIGID", 48),
        TeeName::Cca => ("the realm personalization value", 64),
    }
}

/// What the verification job needs.
struct Job {
    pieces: Vec<Piece>,
    expected: Vec<Vec<u8>>,
    init_digest: Option<Vec<u8>>,
}

/// `POST /kbs/v0/attest`, counted as `/v1/attest` is
/// (`cogito_verdicts_total`, `protocol="kbs"`).
async fn attest(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, KbsError> {
    attest_inner(state, headers, body).await.inspect_err(|e| {
        metrics::counter!("cogito_verdicts_total", "tee" => "unknown", "result" => "refused", "code" => e.code(), "protocol" => "kbs")
            .increment(1);
    })
}

async fn attest_inner(
    state: Arc<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, KbsError> {
    let id = session_id(&headers).ok_or(KbsError::NoSession)?;
    let (attested, session) = load(&state, &id).await?;
    if attested {
        return Err(KbsError::Replayed);
    }
    // The body twice: typed, and as the JSON the client hashed.
    let typed: kbs_types::Attestation = parse_body(&state, &body)?;
    let raw: serde_json::Value = parse_body(&state, &body)?;
    let tee_pubkey = raw
        .pointer("/runtime-data/tee-pubkey")
        .cloned()
        .ok_or_else(|| KbsError::Malformed("runtime-data.tee-pubkey".into()))?;
    let same_nonce = aws_lc_rs::constant_time::verify_slices_are_equal(
        typed.runtime_data.nonce.as_bytes(),
        session.nonce.as_bytes(),
    )
    .is_ok();
    if !same_nonce {
        return Err(KbsError::NonceMismatch);
    }
    jwe::RecipientKey::from_jwk(&tee_pubkey).map_err(|e| KbsError::TeePubKey(e.to_string()))?;
    let alg: HashAlgorithm = session
        .hash
        .parse()
        .map_err(|_| KbsError::Api(ApiError::Internal))?;
    let limit = state.config.limits.max_evidence_bytes;

    // The primary evidence binds the additional evidence's string too.
    let additional = typed.tee_evidence.additional_evidence.as_str();
    let primary = evidence::parse(session.tee, &typed.tee_evidence.primary_evidence)
        .map_err(KbsError::EvidenceShape)?;
    let digest = binding::runtime_digest(alg, &session.nonce, &tee_pubkey, Some(additional))
        .map_err(KbsError::Malformed)?;
    let mut pieces = vec![primary];
    let mut expected = vec![binding::fit(&digest, 64)];
    if !additional.trim().is_empty() {
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(additional)
            .map_err(|e| KbsError::Malformed(format!("additional_evidence: {e}")))?;
        let device_digest = binding::runtime_digest(alg, &session.nonce, &tee_pubkey, None)
            .map_err(KbsError::Malformed)?;
        for (name, value) in &map {
            let tee = evidence::tee_of(name)
                .ok_or_else(|| KbsError::AdditionalUnsupported(name.clone()))?;
            pieces.push(evidence::parse(tee, value).map_err(KbsError::EvidenceShape)?);
            expected.push(binding::fit(&device_digest, 64));
        }
    }
    if let Some(p) = pieces.iter().find(|p| p.evidence.len() > limit) {
        return Err(KbsError::Api(ApiError::EvidenceTooLarge {
            size: p.evidence.len(),
            limit,
        }));
    }
    let init_digest = typed.init_data.as_ref().map(init_data_digest).transpose()?;

    let at = now();
    let job = Job {
        pieces,
        expected,
        init_digest,
    };
    let st = state.clone();
    let session_tee = session.tee;
    let (job, verified) = state
        .pool
        .run(move || {
            let r = verify_job(&st, &job, session_tee, alg, at);
            (job, r)
        })
        .await?;
    let (claims, primary_verified) = verified?;

    let lifetime = i64::try_from(state.config.token_lifetime_secs).unwrap_or(i64::MAX);
    let expires = at.saturating_add(lifetime);
    let token = issue_token(
        &state,
        &id,
        at,
        expires,
        &job,
        &claims,
        &session,
        &tee_pubkey,
    )?;
    let record = Session {
        attested: Some(Attested {
            at,
            tee_pubkey,
            evidence: job.pieces,
        }),
        ..session
    };
    let text = serde_json::to_string(&record).map_err(|_| ApiError::Internal)?;
    if !state
        .store
        .attest_kbs_session(&id, expires, &text)
        .await
        .map_err(ApiError::from)?
    {
        return Err(KbsError::Replayed);
    }
    state.kbs_verified.insert(id.clone(), primary_verified);
    metrics::counter!("cogito_verdicts_total", "tee" => session_tee.as_str(), "result" => "accepted", "code" => "ok", "protocol" => "kbs").increment(1);
    Ok(ok_json(
        &serde_json::json!({ "token": token }),
        Some(cookie(&state, &id, lifetime)),
    ))
}

/// On the pool: every piece verified, of the right platform, bound to the
/// runtime data, the primary one to the init-data. The claims of each.
fn verify_job(
    state: &AppState,
    job: &Job,
    session_tee: TeeName,
    alg: HashAlgorithm,
    at: i64,
) -> Result<(Vec<serde_json::Value>, Arc<cogito_attest::Verification>), KbsError> {
    let mut out = Vec::with_capacity(job.pieces.len());
    let mut primary: Option<Arc<cogito_attest::Verification>> = None;
    for (i, (piece, expected)) in job.pieces.iter().zip(&job.expected).enumerate() {
        let v = crate::attest::verify_evidence(
            &state.verifier,
            &state.source,
            &state.options,
            &piece.evidence,
            &piece.collateral(),
            cogito_core::VerificationTime::from_unix(at),
        )
        .map_err(|e| KbsError::Api(ApiError::evidence(&e)))?;
        let tee = crate::attest::tee_name(&v);
        let wanted = if i == 0 { session_tee } else { piece.tee };
        if tee != wanted {
            return Err(KbsError::TeeMismatch {
                session: wanted.as_str(),
                evidence: tee.as_str(),
            });
        }
        let rd = crate::attest::guest_report_data(&piece.evidence, &v);
        if rd.as_deref() != Some(expected.as_slice()) {
            let what = if i == 0 {
                "primary evidence".to_string()
            } else {
                format!("additional evidence ({})", tee.as_str())
            };
            return Err(KbsError::BindingMismatch(what, alg.to_string()));
        }
        let claims = v.claims();
        if i == 0 {
            if let Some(digest) = &job.init_digest {
                let (field, len) = init_data_field(tee);
                let want = binding::fit(digest, len);
                if claims.init_data.0.as_slice() != want.as_slice() {
                    return Err(KbsError::InitData(format!(
                        "its digest is not the evidence's {field}"
                    )));
                }
            }
        }
        out.push(serde_json::to_value(claims).map_err(|_| ApiError::Internal)?);
        if i == 0 {
            primary = Some(Arc::new(v));
        }
    }
    let primary = primary.ok_or(KbsError::Api(ApiError::Internal))?;
    Ok((out, primary))
}

/// The attestation token: an EAR with the claim names upstream consumers
/// read (`submods.cpu0["ear.status"]`, `["ear.veraison.annotated-evidence"]`
/// with `runtime_data_claims["tee-pubkey"]`), signed ES256 by the service's
/// key (`/v1/keys`). It says that the evidence verified and binds the key;
/// which resources the guest gets is each resource's policy's decision.
#[allow(clippy::too_many_arguments)]
fn issue_token(
    state: &AppState,
    id: &str,
    at: i64,
    expires: i64,
    job: &Job,
    claims: &[serde_json::Value],
    session: &Session,
    tee_pubkey: &serde_json::Value,
) -> Result<String, KbsError> {
    let mut submods = serde_json::Map::new();
    for (i, (piece, c)) in job.pieces.iter().zip(claims).enumerate() {
        let name = if i == 0 {
            "cpu0".to_string()
        } else {
            format!("cpu{i}")
        };
        let mut annotated = serde_json::Map::new();
        annotated.insert(piece.tee.as_str().to_string(), c.clone());
        annotated.insert(
            "report_data".into(),
            serde_json::Value::String(hex::encode(
                job.expected.get(i).cloned().unwrap_or_default(),
            )),
        );
        annotated.insert(
            "runtime_data_claims".into(),
            serde_json::json!({ "nonce": session.nonce, "tee-pubkey": tee_pubkey }),
        );
        if i == 0 {
            if let Some(d) = &job.init_digest {
                annotated.insert(
                    "init_data".into(),
                    serde_json::Value::String(hex::encode(d)),
                );
            }
        }
        submods.insert(
            name,
            serde_json::json!({
                "ear.status": "affirming",
                "ear.trustworthiness-vector": { "instance-identity": 2, "hardware": 2 },
                "ear.appraisal-policy-id": "cogito:kbs-verified",
                "ear.veraison.annotated-evidence": annotated,
            }),
        );
    }
    let body = serde_json::json!({
        "eat_profile": cogito_protocol::token::EAR_PROFILE,
        "iat": at,
        "exp": expires,
        "iss": "cogito",
        "ear.verifier-id": { "developer": "cogito", "build": concat!("cogito ", env!("CARGO_PKG_VERSION")) },
        "ear.status": "affirming",
        "submods": submods,
        "cogito.kbs.session": id,
    });
    state
        .keys
        .with_signer(|k| {
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
            header.kid = Some(k.kid.clone());
            jsonwebtoken::encode(
                &header,
                &body,
                &jsonwebtoken::EncodingKey::from_ec_der(k.pkcs8()),
            )
        })
        .ok_or(KbsError::Api(ApiError::Internal))?
        .map_err(|_| KbsError::Api(ApiError::Internal))
}

/// `GET /kbs/v0/resource/{repository}/{type}/{tag}`.
async fn resource(
    State(state): State<Arc<AppState>>,
    Path((repository, kind, tag)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, KbsError> {
    let path = format!("{repository}/{kind}/{tag}");
    let now = now();
    let id = match session_id(&headers) {
        Some(id) => id,
        None => {
            let token = crate::http::bearer(&headers).ok_or(KbsError::NoSession)?;
            let lifetime = i64::try_from(state.config.token_lifetime_secs).unwrap_or(i64::MAX);
            let claims = match crate::token::verify_signed(&state.keys, token, now, lifetime) {
                Err(ApiError::TokenInvalid(why))
                    if why == crate::token::UNKNOWN_KEY
                        && state.keys.reload_if_stale(&*state.store, now).await =>
                {
                    crate::token::verify_signed(&state.keys, token, now, lifetime)
                }
                other => other,
            }
            .map_err(|e| KbsError::Token(e.to_string()))?;
            claims
                .get("cogito.kbs.session")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| KbsError::Token("not a KBS attestation token".into()))?
        }
    };
    let (attested, session) = load(&state, &id).await?;
    let record = match (attested, session.attested) {
        (true, Some(a)) => a,
        _ => return Err(KbsError::NotAttested),
    };
    let key = jwe::RecipientKey::from_jwk(&record.tee_pubkey)
        .map_err(|e| KbsError::TeePubKey(e.to_string()))?;
    let guarded = match crate::attest::guarded(&state, std::slice::from_ref(&path), now).await {
        Err(ApiError::UnknownSecret(_)) => return Err(KbsError::UnknownResource(path)),
        other => other?,
    };
    let g = guarded
        .into_iter()
        .next()
        .ok_or_else(|| KbsError::UnknownResource(path.clone()))?;
    let explain = state.config.explain;
    let st = state.clone();
    let released = state
        .pool
        .run(move || -> Result<serde_json::Value, KbsError> {
            // Verified at attestation: kept by this replica; a replica
            // that has not seen the session verifies its stored evidence
            // once, as of the attestation time, and keeps that.
            let v = match st.kbs_verified.get(&id) {
                Some(v) => v,
                None => {
                    let primary = record
                        .evidence
                        .first()
                        .ok_or(KbsError::Api(ApiError::Internal))?;
                    let v = Arc::new(
                        crate::attest::verify_evidence(
                            &st.verifier,
                            &st.source,
                            &st.options,
                            &primary.evidence,
                            &primary.collateral(),
                            cogito_core::VerificationTime::from_unix(record.at),
                        )
                        .map_err(|e| KbsError::Api(ApiError::evidence(&e)))?,
                    );
                    st.kbs_verified.insert(id.clone(), v.clone());
                    v
                }
            };
            let a = v.appraise(&g.policy.policy);
            if !a.accepted {
                let rules: Vec<String> = crate::attest::explained(&a, explain)
                    .iter()
                    .map(|r| match &r.expected {
                        Some(e) => format!("{} (actual {}, expected {e})", r.rule, r.actual),
                        None => format!("{} (actual {})", r.rule, r.actual),
                    })
                    .collect();
                return Err(KbsError::PolicyDenied {
                    resource: g.secret.name.clone(),
                    policy: g.policy.name.clone(),
                    rules: if rules.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", rules.join("; "))
                    },
                });
            }
            let value = crate::vault::decrypt(
                st.keys.kek(),
                &g.secret.name,
                &g.secret.wrapped_dek,
                &g.secret.ciphertext,
            )
            .ok_or(KbsError::Api(ApiError::Internal))?;
            jwe::encrypt(&key, &value).map_err(|e| KbsError::TeePubKey(e.to_string()))
        })
        .await??;
    metrics::counter!("cogito_secrets_released_total").increment(1);
    Ok(ok_json(&released, None))
}

/// Verifies an admin JWT against the configured public keys (any of them),
/// with the issuer and audience the configuration requires; `exp` is
/// required. Returns who signed (`sub`, else `iss`, else the key file).
fn admin_identity(state: &AppState, token: &str) -> Result<String, KbsError> {
    let keys = &state.config.kbs.admin_keys;
    if keys.is_empty() {
        return Err(KbsError::AdminToken(
            "this service takes no KBS admin tokens (configure kbs.admin_keys; cogito's own admin API is /v1/admin)".into(),
        ));
    }
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| KbsError::AdminToken("not a JWT".into()))?;
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_required_spec_claims(&["exp"]);
    match &state.config.kbs.admin_issuer {
        Some(iss) => validation.set_issuer(&[iss]),
        None => validation.iss = None,
    }
    match &state.config.kbs.admin_audience {
        Some(aud) => validation.set_audience(&[aud]),
        None => validation.validate_aud = false,
    }
    for path in keys {
        let Ok(pem) = std::fs::read(path) else {
            tracing::warn!(path = %path.display(), "a KBS admin key cannot be read");
            continue;
        };
        let key = match header.alg {
            jsonwebtoken::Algorithm::EdDSA => jsonwebtoken::DecodingKey::from_ed_pem(&pem),
            jsonwebtoken::Algorithm::ES256 | jsonwebtoken::Algorithm::ES384 => {
                jsonwebtoken::DecodingKey::from_ec_pem(&pem)
            }
            jsonwebtoken::Algorithm::RS256
            | jsonwebtoken::Algorithm::RS384
            | jsonwebtoken::Algorithm::RS512
            | jsonwebtoken::Algorithm::PS256
            | jsonwebtoken::Algorithm::PS384
            | jsonwebtoken::Algorithm::PS512 => jsonwebtoken::DecodingKey::from_rsa_pem(&pem),
            other => {
                return Err(KbsError::AdminToken(format!(
                    "algorithm {other:?} is not accepted"
                )))
            }
        };
        let Ok(key) = key else { continue };
        if let Ok(data) = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation) {
            let who = ["sub", "iss"]
                .iter()
                .find_map(|c| data.claims.get(*c).and_then(|v| v.as_str()))
                .map(str::to_string)
                .unwrap_or_else(|| path.display().to_string());
            return Ok(who);
        }
    }
    Err(KbsError::AdminToken(
        "verifies with none of the configured keys, or expired, or the wrong issuer or audience"
            .into(),
    ))
}

/// `POST /kbs/v0/resource/{repository}/{type}/{tag}`: Trustee's
/// `kbs-client set-resource`. The body is the resource; the secret of that
/// name gets a new version (envelope-encrypted, audited), under its own
/// policy or, for a new name, `kbs.default_policy`.
async fn upload(
    State(state): State<Arc<AppState>>,
    Path((repository, kind, tag)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, KbsError> {
    let name = format!("{repository}/{kind}/{tag}");
    let token = crate::http::bearer(&headers).ok_or_else(|| {
        KbsError::AdminToken("no bearer token (kbs-client --admin-token-file)".into())
    })?;
    let who = admin_identity(&state, token)?;
    crate::admin::valid_secret_name(&name)?;
    let at = now();
    let previous = state.store.secret(&name).await.map_err(ApiError::from)?;
    let (policy, policy_version) = match &previous {
        Some(p) => (p.policy.clone(), p.policy_version),
        None => (
            state.config.kbs.default_policy.clone().ok_or_else(|| {
                KbsError::UploadRefused(
                    name.clone(),
                    "no secret of this name yet, and no kbs.default_policy to guard it: create it with `cogito secret put NAME --policy P` first".into(),
                )
            })?,
            None,
        ),
    };
    let known = state
        .policies
        .get(&*state.store, &policy, policy_version, at)
        .await
        .map_err(|_| KbsError::Api(ApiError::Internal))?
        .is_some();
    if !known {
        return Err(KbsError::UploadRefused(
            name,
            format!("its policy {policy} does not exist"),
        ));
    }
    let value = zeroize::Zeroizing::new(body.to_vec());
    let actor = format!("kbs-admin:{who}");
    crate::admin::write_secret_version(
        &state,
        &name,
        &policy,
        policy_version,
        &value,
        &actor,
        " (KBS upload)",
    )
    .await?;
    let mut r = StatusCode::OK.into_response();
    r.extensions_mut().insert(KbsAnswer);
    Ok(r)
}
