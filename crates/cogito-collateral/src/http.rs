//! One HTTP GET with bounded retries, shared by the vendor clients (AMD
//! KDS, Intel PCS/PCCS).
//!
//! 429 and 5xx answers and transport errors are retried with exponential
//! backoff (doubling from `initial_backoff`, capped at `max_backoff`; a
//! `Retry-After` in seconds is honoured up to the same cap). Any other
//! non-200 status is reported at once. Each failure names the URL.

use std::sync::Arc;
use std::time::Duration;

use crate::error::CollateralError;

/// Retry settings, copied from the client's configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry {
    /// Attempts per object (first try included; 0 counts as 1).
    pub attempts: u32,
    /// First backoff; doubles each retry.
    pub initial_backoff: Duration,
    /// Cap on one backoff and on a `Retry-After`.
    pub max_backoff: Duration,
}

/// What the error messages say about the service behind the URLs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Service {
    /// Short name for logs ("KDS", "PCS").
    pub name: &'static str,
    /// Appended to "HTTP 404" (start it with a space).
    pub not_found_hint: &'static str,
    /// Appended to "gave up after N attempts (last: …); ".
    pub give_up_hint: &'static str,
}

/// A 200 answer.
pub(crate) struct Response {
    /// The body (at most 16 MiB).
    pub body: Vec<u8>,
    headers: ureq::http::HeaderMap,
}

impl Response {
    /// The raw bytes of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.get(name).map(|v| v.as_bytes())
    }
}

/// A blocking HTTPS client with the retry policy above.
pub(crate) struct Http {
    agent: ureq::Agent,
    retry: Retry,
    service: Service,
}

/// Largest body accepted; collateral objects are a few KiB.
const BODY_LIMIT: u64 = 16 << 20;

impl Http {
    /// A client with rustls (aws-lc-rs) and a global per-request
    /// `timeout`. TLS servers are authenticated against `roots` (DER
    /// certificates) when given — a PCCS behind a private CA — and against
    /// the public WebPKI roots otherwise.
    pub fn new(
        timeout: Duration,
        retry: Retry,
        service: Service,
        roots: Option<&[Vec<u8>]>,
    ) -> Self {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let roots = match roots {
            Some(ders) => ureq::tls::RootCerts::Specific(Arc::new(
                ders.iter()
                    .map(|d| ureq::tls::Certificate::from_der(d).to_owned())
                    .collect(),
            )),
            None => ureq::tls::RootCerts::WebPki,
        };
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::Rustls)
            .unversioned_rustls_crypto_provider(provider)
            .root_certs(roots)
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .user_agent(concat!("cogito/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build()
            .into();
        Http {
            agent,
            retry,
            service,
        }
    }

    /// GETs `url`: the body and headers of a 200 answer, or an error
    /// naming the URL.
    pub fn get(&self, url: &str) -> Result<Response, CollateralError> {
        let attempts = self.retry.attempts.max(1);
        let max_backoff = self.retry.max_backoff;
        let mut backoff = self.retry.initial_backoff;
        let mut last = String::new();
        for attempt in 1..=attempts {
            tracing::debug!(url, attempt, "GET");
            match self.agent.get(url).call() {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    if status == 200 {
                        let body = resp
                            .body_mut()
                            .with_config()
                            .limit(BODY_LIMIT)
                            .read_to_vec()
                            .map_err(|e| CollateralError::Fetch {
                                url: url.to_string(),
                                reason: format!("reading the body: {e}"),
                            })?;
                        return Ok(Response {
                            body,
                            headers: resp.headers().clone(),
                        });
                    }
                    if status == 429 || (500..600).contains(&status) {
                        last = format!("HTTP {status}");
                        if attempt < attempts {
                            let retry_after = resp
                                .headers()
                                .get("retry-after")
                                .and_then(|v| v.to_str().ok())
                                .and_then(|v| v.trim().parse::<u64>().ok())
                                .map(Duration::from_secs);
                            let wait = retry_after.unwrap_or(backoff).min(max_backoff);
                            tracing::warn!(
                                url,
                                status,
                                ?wait,
                                "{} busy, retrying",
                                self.service.name
                            );
                            std::thread::sleep(wait);
                            backoff = (backoff * 2).min(max_backoff);
                        }
                        continue;
                    }
                    let hint = if status == 404 {
                        self.service.not_found_hint
                    } else {
                        ""
                    };
                    return Err(CollateralError::Fetch {
                        url: url.to_string(),
                        reason: format!("HTTP {status}{hint}"),
                    });
                }
                Err(e) => {
                    last = e.to_string();
                    if attempt < attempts {
                        std::thread::sleep(backoff.min(max_backoff));
                        backoff = (backoff * 2).min(max_backoff);
                    }
                }
            }
        }
        Err(CollateralError::Fetch {
            url: url.to_string(),
            reason: format!(
                "gave up after {attempts} attempts (last: {last}); {}",
                self.service.give_up_hint
            ),
        })
    }
}

/// Now, in Unix seconds.
pub(crate) fn now_unix() -> i64 {
    cogito_core::VerificationTime::now().unix()
}
