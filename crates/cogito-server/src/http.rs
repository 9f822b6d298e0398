//! The HTTP layer: routes, extractors that turn every rejection into a
//! problem document, request ids, per-client rate limits, metrics, and the
//! public endpoints. No verification logic lives here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, MatchedPath, Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cogito_protocol::{
    encode_b64, AttestRequest, AttestResponse, ChallengeRequest, ChallengeResponse, Problem,
    SealedSecret,
};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::de::DeserializeOwned;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;

use crate::error::ApiError;
use crate::state::{now, AppState};

/// A JSON body, refused as a problem document when it is too large or not
/// the expected JSON.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map_or(usize::MAX, |l| l.0);
        let depth = req
            .extensions()
            .get::<JsonDepthLimit>()
            .map_or(usize::MAX, |l| l.0);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(limit)
            } else {
                ApiError::Malformed(e.body_text())
            }
        })?;
        if let Some(offset) = json_too_deep(&bytes, depth) {
            return Err(ApiError::TooDeep {
                limit: depth,
                offset,
            });
        }
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| ApiError::Malformed(e.to_string()))
    }
}

/// The body limit, as an extension for messages.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// `limits.max_json_depth`, as an extension for the extractors.
#[derive(Debug, Clone, Copy)]
pub struct JsonDepthLimit(pub usize);

/// The offset of the first `[` or `{` that opens a level past `max`, if
/// any: one pass over the bytes, outside strings (RFC 8259 §7: a string
/// ends at an unescaped `"`). Run before parsing so that a body nested
/// past the limit is refused by name, with a cost linear in its size;
/// serde_json's own recursion limit (128) only keeps the stack safe.
/// Bytes that are not JSON are left to the parser to refuse.
pub fn json_too_deep(bytes: &[u8], max: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth = depth.saturating_add(1);
                if depth > max {
                    return Some(offset);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The size of the headers the client sent, each counted as
/// `name: value` CRLF: measured by the outermost layer, before this
/// service adds any (`x-request-id`).
#[derive(Debug, Clone, Copy)]
struct HeaderBytes(usize);

async fn measure_headers(mut req: Request) -> Request {
    let size = req.headers().iter().fold(0usize, |sum, (name, value)| {
        sum.saturating_add(name.as_str().len())
            .saturating_add(value.len())
            .saturating_add(4)
    });
    req.extensions_mut().insert(HeaderBytes(size));
    req
}

/// Refuses a request whose headers exceed `limits.max_header_bytes` (431
/// with a problem document). The HTTP/1 parser's own buffer is a little
/// larger (see `lib.rs`) and refuses anything beyond it with a bare 431
/// before a handler runs.
async fn refuse_large_headers(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let size = req.extensions().get::<HeaderBytes>().map_or(0, |h| h.0);
    if size > limit {
        return ApiError::HeadersTooLarge { size, limit }.into_response();
    }
    next.run(req).await
}

/// Random request ids (`x-request-id`), unless the caller sent one.
#[derive(Debug, Clone, Copy, Default)]
struct RandomId;

impl MakeRequestId for RandomId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let id = crate::keys::random::<8>().ok()?;
        HeaderValue::from_str(&hex::encode(id))
            .ok()
            .map(RequestId::new)
    }
}

async fn rate_limit(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    if let Some(limiter) = &state.limiter {
        let ip = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        if let Some(ip) = ip {
            if limiter.check_key(&ip).is_err() {
                return ApiError::RateLimited.into_response();
            }
        }
    }
    next.run(req).await
}

/// An oversized body whose client has a bounded amount left to send is
/// read and discarded before the 413: closing a connection with unread
/// data makes the kernel reset it, and the client then sees a reset
/// instead of the answer.
const DRAIN_MAX: u64 = 32 << 20;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// Refuses a declared `Content-Length` above the limit before any handler
/// reads it.
async fn refuse_oversized(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let limit_u64 = u64::try_from(limit).unwrap_or(u64::MAX);
    match declared {
        Some(len) if len > limit_u64 => {
            if len <= DRAIN_MAX {
                let mut body = req.into_body();
                let drain = async {
                    use http_body_util::BodyExt as _;
                    while let Some(Ok(_)) = body.frame().await {}
                };
                let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
            }
            ApiError::TooLarge(limit).into_response()
        }
        _ => next.run(req).await,
    }
}

async fn record(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("cogito_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!("cogito_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Turns axum's own plain-text refusals (unknown route, wrong method) into
/// problem documents.
async fn problems_only(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    // The KBS protocol answers with its own error JSON.
    if response
        .extensions()
        .get::<crate::kbs::KbsAnswer>()
        .is_some()
    {
        return response;
    }
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    let status = response.status();
    if is_problem || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let refusal = match status {
        StatusCode::NOT_FOUND => ApiError::NoSuchRoute,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(limit),
        // The timeout layer's answer.
        StatusCode::SERVICE_UNAVAILABLE => ApiError::Timeout,
        other => ApiError::Refused(other),
    };
    refusal.into_response()
}

/// The router (without TLS or a listener: tests and the demo mount it).
pub fn router(state: Arc<AppState>, metrics: PrometheusHandle) -> Router {
    let limit = state.config.limits.max_body_bytes;
    let header_limit = state.config.limits.max_header_bytes;
    let depth_limit = state.config.limits.max_json_depth;
    let timeout = Duration::from_secs(state.config.limits.request_timeout_secs);
    let public = Router::new()
        .route("/v1/challenge", post(challenge))
        .route("/v1/attest", post(attest))
        .route("/v1/secrets/{*name}", get(secret))
        .route("/v1/keys", get(keys))
        .route("/v1/openapi.json", get(openapi))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(move || {
                let m = metrics.clone();
                async move { m.render() }
            }),
        );
    // The first layer is the innermost: a request meets the request id,
    // the trace span, the metrics, the problem mapping, the timeout, the
    // body and depth limits, the rate limit, the header limit and the
    // early refusal of oversized bodies, in that order.
    Router::new()
        .merge(public)
        .merge(crate::admin::routes())
        .merge(crate::kbs::routes())
        .layer(middleware::from_fn_with_state(limit, refuse_oversized))
        .layer(middleware::from_fn_with_state(
            header_limit,
            refuse_large_headers,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(axum::Extension(BodyLimit(limit)))
        .layer(axum::Extension(JsonDepthLimit(depth_limit)))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(middleware::from_fn_with_state(limit, problems_only))
        .layer(middleware::from_fn(record))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // The path is logged, never headers or bodies: tokens and
                // secrets travel there.
                tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(SetRequestIdLayer::x_request_id(RandomId))
        .layer(axum::middleware::map_request(measure_headers))
        .with_state(state)
}

/// Starts an attestation.
// Every refusal is a problem document (RFC 9457 §3), each route lists
// the statuses it can answer: the API fuzzer (scripts/api-fuzz) holds the
// service to this document.
#[utoipa::path(post, path = "/v1/challenge", request_body = ChallengeRequest,
    responses((status = 200, body = ChallengeResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 431, body = Problem, content_type = "application/problem+json"), (status = 503, body = Problem, content_type = "application/problem+json")))]
async fn challenge(
    State(state): State<Arc<AppState>>,
    Body(req): Body<ChallengeRequest>,
) -> Result<Json<ChallengeResponse>, ApiError> {
    let lifetime = i64::try_from(state.config.nonce_lifetime_secs).unwrap_or(i64::MAX);
    let expires = now().saturating_add(lifetime);
    let nonce = crate::nonce::issue(&state.keys, req.tee, expires)?;
    metrics::counter!("cogito_challenges_total", "tee" => req.tee.as_str()).increment(1);
    Ok(Json(ChallengeResponse {
        nonce: encode_b64(&nonce),
        expires_at: cogito_core::VerificationTime::from_unix(expires).to_string(),
    }))
}

/// Verifies evidence bound to a challenge, appraises each requested
/// secret's policy, and returns the token and the sealed secrets.
#[utoipa::path(post, path = "/v1/attest", request_body = AttestRequest,
    responses((status = 200, body = AttestResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"), (status = 410, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 431, body = Problem, content_type = "application/problem+json"), (status = 503, body = Problem, content_type = "application/problem+json")))]
async fn attest(
    State(state): State<Arc<AppState>>,
    Body(req): Body<AttestRequest>,
) -> Result<Json<AttestResponse>, ApiError> {
    crate::attest::attest(state, req).await.map(Json)
}

pub(crate) fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// One more secret, sealed to the key in the token, while the token is
/// valid and the secret's policy is one that accepted its appraisal.
#[utoipa::path(get, path = "/v1/secrets/{name}",
    params(("name" = String, Path, description = "the secret")),
    responses((status = 200, body = SealedSecret),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json"), (status = 431, body = Problem, content_type = "application/problem+json"), (status = 503, body = Problem, content_type = "application/problem+json")))]
async fn secret(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Json<SealedSecret>, ApiError> {
    let token = bearer(&headers).ok_or(ApiError::TokenMissing)?;
    let now = now();
    let lifetime = i64::try_from(state.config.token_lifetime_secs).unwrap_or(i64::MAX);
    let view = match crate::token::check(&state.keys, token, now, lifetime) {
        // Signed by a key this replica has not loaded yet: another replica
        // may have rotated a moment ago.
        Err(ApiError::TokenInvalid(why))
            if why == crate::token::UNKNOWN_KEY
                && state.keys.reload_if_stale(&*state.store, now).await =>
        {
            crate::token::check(&state.keys, token, now, lifetime)?
        }
        other => other?,
    };
    let guarded = crate::attest::guarded(&state, std::slice::from_ref(&name), now).await?;
    let Some(g) = guarded.first() else {
        return Err(ApiError::UnknownSecret(name));
    };
    let id = g.policy.id();
    let authorized = view.accepted.values().any(|(policy_id, status)| {
        *policy_id == id && (status == "affirming" || status == "warning")
    });
    if !authorized {
        return Err(ApiError::TokenNotAuthorized(name));
    }
    let sealed = crate::attest::seal_secret(&state, &g.secret, view.kem, &view.public_key)?;
    metrics::counter!("cogito_secrets_released_total").increment(1);
    Ok(Json(sealed))
}

/// The token-signing keys, as a JWKS.
#[utoipa::path(get, path = "/v1/keys", responses((status = 200, description = "JWKS"),
    (status = 429, body = Problem, content_type = "application/problem+json"), (status = 431, body = Problem, content_type = "application/problem+json"), (status = 503, body = Problem, content_type = "application/problem+json")))]
async fn keys(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let lifetime = i64::try_from(state.config.token_lifetime_secs).unwrap_or(i64::MAX);
    // A key another replica just made is published here at once (the
    // store is read at most once a second).
    state.keys.reload_if_stale(&*state.store, now()).await;
    let b64 = |b: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    };
    let keys: Vec<serde_json::Value> = state
        .keys
        .verifying_keys(now(), lifetime)
        .into_iter()
        .filter_map(|(kid, public)| {
            let x = public.get(1..33)?;
            let y = public.get(33..65)?;
            Some(serde_json::json!({
                "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
                "kid": kid, "x": b64(x), "y": b64(y),
            }))
        })
        .collect();
    Json(serde_json::json!({ "keys": keys }))
}

/// Alive.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: the store answers and the keys are loaded.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if state.store.ping().await.is_err() {
        return ApiError::NotReady("the store does not answer").into_response();
    }
    if state.keys.with_signer(|_| ()).is_none() {
        return ApiError::NotReady("no signing key is loaded").into_response();
    }
    (StatusCode::OK, "ready\n").into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cogito attestation service",
        description = "Challenge, evidence, verdict, secrets sealed to the guest. See docs/protocol.md."
    ),
    paths(challenge, attest, secret, keys),
    components(schemas(
        ChallengeRequest,
        ChallengeResponse,
        AttestRequest,
        AttestResponse,
        cogito_protocol::PublicKey,
        cogito_protocol::AttestCollateral,
        cogito_protocol::SealedSecret,
        cogito_protocol::Problem,
        cogito_protocol::FailedRule,
        cogito_protocol::TeeName,
        cogito_protocol::Kem
    ))
)]
struct ApiDoc;

/// The OpenAPI document of the public API.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi_document())
}
