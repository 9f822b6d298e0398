//! Errors: what stops the service from starting, and what a request is
//! refused with — an RFC 9457 problem document with a stable code.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use cogito_core::{CogitoError, ErrorClass};
use cogito_protocol::{FailedRule, Problem};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error("configuration: {what}")]
    Config {
        /// What is wrong.
        what: String,
    },
    /// A file or directory could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// The file or action.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The store could not be opened or migrated.
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// Key material is unusable.
    #[error("keys: {what}")]
    Keys {
        /// What is wrong.
        what: String,
    },
    /// TLS could not be set up.
    #[error("tls: {what}")]
    Tls {
        /// What is wrong.
        what: String,
    },
}

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The body is not the JSON the endpoint takes.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// More secrets asked for than `limits.max_secrets_per_request`.
    #[error("{asked} secrets asked for; at most {limit} per request")]
    TooManySecrets {
        /// How many were named.
        asked: usize,
        /// The limit.
        limit: usize,
    },
    /// The body is larger than the limit.
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    /// The JSON body nests arrays and objects deeper than
    /// `limits.max_json_depth`.
    #[error("the JSON body nests deeper than {limit} levels (at byte {offset})")]
    TooDeep {
        /// The limit.
        limit: usize,
        /// The offset of the first bracket past it.
        offset: usize,
    },
    /// The request's headers are larger than `limits.max_header_bytes`.
    #[error("the request headers take {size} bytes; at most {limit}")]
    HeadersTooLarge {
        /// Their size, each counted as `name: value` CRLF.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A binary field is not canonical base64.
    #[error("{0} is not canonical base64")]
    BadBase64(&'static str),
    /// The decoded evidence is larger than the limit.
    #[error("the evidence is {size} bytes; the limit is {limit}")]
    EvidenceTooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The nonce is not one this service issued (bad encoding, or a MAC by
    /// another key).
    #[error("the nonce was not issued by this service")]
    NonceInvalid,
    /// The nonce has expired.
    #[error("the nonce expired at {0}")]
    NonceExpired(String),
    /// The nonce was used before.
    #[error("the nonce was already used")]
    NonceReplayed,
    /// The evidence is of another platform than the challenge named.
    #[error("the challenge was for {challenged}, the evidence is {evidence}")]
    TeeMismatch {
        /// The platform of the challenge.
        challenged: &'static str,
        /// The platform of the evidence.
        evidence: &'static str,
    },
    /// The evidence does not carry report data binding this nonce and key.
    #[error("the evidence's report data does not bind this nonce and public key")]
    BindingMismatch,
    /// The evidence failed verification.
    #[error("{message}")]
    Evidence {
        /// The verifier's stable code.
        code: &'static str,
        /// Its class.
        class: ErrorClass,
        /// Its message.
        message: String,
    },
    /// A secret's policy refused the evidence.
    #[error("the policy {policy} of secret {secret} refused the evidence")]
    PolicyRefused {
        /// The secret.
        secret: String,
        /// The policy.
        policy: String,
        /// The failed rules (already filtered by `explain`).
        rules: Vec<FailedRule>,
    },
    /// No such secret.
    #[error("no secret named {0}")]
    UnknownSecret(String),
    /// A secret names a policy that does not exist.
    #[error("secret {secret} names policy {policy}, which does not exist")]
    PolicyMissing {
        /// The secret.
        secret: String,
        /// The policy.
        policy: String,
    },
    /// No bearer token.
    #[error("this endpoint needs a bearer token")]
    TokenMissing,
    /// The token is malformed, signed by no key of ours, or expired.
    #[error("the token is not valid: {0}")]
    TokenInvalid(String),
    /// The token's appraisal does not cover this secret's policy.
    #[error("the token does not authorize secret {0}")]
    TokenNotAuthorized(String),
    /// No admin token, or an unknown or revoked one.
    #[error("admin access needs a valid admin token")]
    AdminUnauthorized,
    /// The admin token's scope does not allow this.
    #[error("the admin token's scope {scope} does not allow this")]
    AdminForbidden {
        /// The token's scope.
        scope: &'static str,
    },
    /// An uploaded policy or reference-value file does not load.
    #[error("{0}")]
    PolicyInvalid(String),
    /// No such object (admin API).
    #[error("{0} not found")]
    NotFound(String),
    /// Too many requests from this client.
    #[error("too many requests")]
    RateLimited,
    /// All verification slots are busy.
    #[error("the verification queue is full")]
    Saturated,
    /// The store failed.
    #[error("the store is unavailable")]
    StoreUnavailable,
    /// The service is not ready (the store does not answer or no signing
    /// key is loaded).
    #[error("not ready: {0}")]
    NotReady(&'static str),
    /// No route has this path.
    #[error("no such route")]
    NoSuchRoute,
    /// The route exists, not with this method.
    #[error("this route does not take this method")]
    MethodNotAllowed,
    /// The request took longer than the configured timeout.
    #[error("the request took too long")]
    Timeout,
    /// Another refusal of the HTTP layer.
    #[error("refused: {0}")]
    Refused(StatusCode),
    /// A bug or an environment failure; details are in the log.
    #[error("internal error")]
    Internal,
}

impl ApiError {
    /// The stable code (docs/errors.md).
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Malformed(_) => "request.malformed",
            ApiError::TooManySecrets { .. } => "request.too_many_secrets",
            ApiError::TooLarge(_) => "request.too_large",
            ApiError::TooDeep { .. } => "request.too_deep",
            ApiError::HeadersTooLarge { .. } => "request.headers_too_large",
            ApiError::BadBase64(_) => "request.bad_base64",
            ApiError::EvidenceTooLarge { .. } => "request.evidence_too_large",
            ApiError::NonceInvalid => "nonce.invalid",
            ApiError::NonceExpired(_) => "nonce.expired",
            ApiError::NonceReplayed => "nonce.replayed",
            ApiError::TeeMismatch { .. } => "nonce.tee_mismatch",
            ApiError::BindingMismatch => "attest.binding_mismatch",
            ApiError::Evidence { code, .. } => code,
            ApiError::PolicyRefused { .. } => "policy.refused",
            ApiError::UnknownSecret(_) => "secret.unknown",
            ApiError::PolicyMissing { .. } => "secret.policy_missing",
            ApiError::TokenMissing => "token.missing",
            ApiError::TokenInvalid(_) => "token.invalid",
            ApiError::TokenNotAuthorized(_) => "token.not_authorized",
            ApiError::AdminUnauthorized => "admin.unauthorized",
            ApiError::AdminForbidden { .. } => "admin.forbidden",
            ApiError::PolicyInvalid(_) => "admin.policy_invalid",
            ApiError::NotFound(_) => "admin.not_found",
            ApiError::RateLimited => "request.rate_limited",
            ApiError::Saturated => "service.saturated",
            ApiError::StoreUnavailable => "store.unavailable",
            ApiError::NotReady(_) => "service.not_ready",
            ApiError::NoSuchRoute => "request.no_such_route",
            ApiError::MethodNotAllowed => "request.method_not_allowed",
            ApiError::Timeout => "request.timeout",
            ApiError::Refused(_) => "request.refused",
            ApiError::Internal => "internal.error",
        }
    }

    /// The HTTP status: 400 malformed, 401/403 credentials only, 404 no
    /// such secret, 409 replay, 410 expiry, 413 too large, 422 evidence or
    /// policy refused, 429 rate, 503 store or queue.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Malformed(_)
            | ApiError::BadBase64(_)
            | ApiError::NonceInvalid
            | ApiError::TooManySecrets { .. }
            | ApiError::TooDeep { .. } => StatusCode::BAD_REQUEST,
            ApiError::EvidenceTooLarge { .. } | ApiError::TooLarge(_) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::NonceExpired(_) => StatusCode::GONE,
            ApiError::NonceReplayed => StatusCode::CONFLICT,
            ApiError::TeeMismatch { .. }
            | ApiError::BindingMismatch
            | ApiError::PolicyRefused { .. }
            | ApiError::PolicyInvalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Evidence { class, code, .. } => match class {
                ErrorClass::BadInput | ErrorClass::Usage => StatusCode::BAD_REQUEST,
                ErrorClass::Internal => StatusCode::INTERNAL_SERVER_ERROR,
                // A platform key the operator has not configured does not
                // appear by retrying: the evidence is refused.
                ErrorClass::CollateralUnavailable if code.starts_with("cca.key.") => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                ErrorClass::CollateralUnavailable => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            },
            ApiError::UnknownSecret(_) | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::PolicyMissing { .. } | ApiError::Internal => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            ApiError::TokenMissing | ApiError::TokenInvalid(_) | ApiError::AdminUnauthorized => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::TokenNotAuthorized(_) | ApiError::AdminForbidden { .. } => {
                StatusCode::FORBIDDEN
            }
            ApiError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ApiError::HeadersTooLarge { .. } => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::Saturated
            | ApiError::StoreUnavailable
            | ApiError::NotReady(_)
            | ApiError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::NoSuchRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Refused(s) => *s,
        }
    }

    /// The problem document.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (secret, policy, rules) = match self {
            ApiError::PolicyRefused {
                secret,
                policy,
                rules,
            } => (Some(secret.clone()), Some(policy.clone()), rules.clone()),
            ApiError::UnknownSecret(s)
            | ApiError::TokenNotAuthorized(s)
            | ApiError::PolicyMissing { secret: s, .. } => (Some(s.clone()), None, vec![]),
            _ => (None, None, vec![]),
        };
        Problem {
            kind: format!("urn:cogito:problem:{}", self.code()),
            title: status.canonical_reason().unwrap_or("refused").to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            code: self.code().to_string(),
            secret,
            policy,
            rules,
        }
    }

    /// From a verification failure of the pipeline.
    pub fn evidence(e: &cogito_attest::AttestError) -> ApiError {
        ApiError::Evidence {
            code: e.code(),
            class: e.class(),
            message: e.to_string(),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "store error");
        metrics::counter!("cogito_store_errors_total").increment(1);
        ApiError::StoreUnavailable
    }
}

/// A problem document as a response.
pub fn problem_response(p: &Problem, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(p).unwrap_or_default();
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    if let Some(s) = retry_after {
        if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    r
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = match (&self, self.status()) {
            (
                ApiError::Saturated
                | ApiError::StoreUnavailable
                | ApiError::RateLimited
                | ApiError::NotReady(_)
                | ApiError::Timeout,
                _,
            ) => Some(1),
            (ApiError::Evidence { .. }, StatusCode::SERVICE_UNAVAILABLE) => Some(30),
            _ => None,
        };
        problem_response(&self.problem(), retry)
    }
}
