//! The whole round trip of docs/protocol.md, from the guest's side:
//!
//! 1. `POST /v1/challenge` for the attester's platform;
//! 2. a fresh HPKE key pair, and evidence over
//!    `report_data(nonce, kem, public key)`;
//! 3. `POST /v1/attest` with the evidence, the key and the secrets wanted;
//! 4. the token verified against the server's `/v1/keys` (signature,
//!    expiry, profile, statuses, and that it names this guest's key)
//!    before anything in the answer is trusted;
//! 5. each secret opened with the private key, which is then dropped
//!    (and zeroized).
//!
//! Transient failures are retried ([`crate::retry`]); a refusal is final.
//! Evidence is only asked for after the server answered a challenge, so a
//! server that fails the TLS pin never causes the TEE to be used.

use std::io::Read as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cogito_protocol::{
    decode_b64, encode_b64, report_data, verify_token, AttestCollateral, AttestRequest,
    AttestResponse, ChallengeRequest, ChallengeResponse, GuestKey, Kem, Problem, PublicKey,
    SealedSecret, TokenError, VerifiedToken,
};
use zeroize::Zeroizing;

use crate::attester::{Attester, EvidenceError};
use crate::retry::Backoff;
use crate::tls::{PinnedTlsConnector, Tls, TlsError};

/// The steps of a fetch, for progress and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Finding the TEE.
    Detect,
    /// `POST /v1/challenge`.
    Challenge,
    /// Asking the TEE for evidence.
    Evidence,
    /// `POST /v1/attest`.
    Attest,
    /// Verifying the token against `/v1/keys`.
    Token,
    /// Opening the sealed secrets.
    Unseal,
    /// `GET /v1/secrets/{name}`.
    Secret,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Detect => "detect",
            Step::Challenge => "challenge",
            Step::Evidence => "evidence",
            Step::Attest => "attest",
            Step::Token => "token",
            Step::Unseal => "unseal",
            Step::Secret => "secret",
        })
    }
}

/// Why a fetch failed, by step.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The client's own settings (URL, TLS files).
    #[error("settings: {0}")]
    Settings(String),
    /// No TEE, or the TEE did not produce evidence.
    #[error("{step}: {source}")]
    Evidence {
        /// The step.
        step: Step,
        /// Why.
        source: EvidenceError,
    },
    /// The server could not be reached (connection errors, 429 and 503
    /// still failing after every attempt).
    #[error("{step}: the server could not be reached after {attempts} attempt(s): {last}")]
    Unreachable {
        /// The step.
        step: Step,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// The TLS handshake failed: a wrong pin or CA, or no TLS at all.
    /// Never retried.
    #[error("{step}: TLS: {message}")]
    Tls {
        /// The step.
        step: Step,
        /// What rustls said.
        message: String,
    },
    /// The server refused: final.
    #[error("{step}: refused by the server: {}", describe(.problem))]
    Refused {
        /// The step.
        step: Step,
        /// The problem document.
        problem: Box<Problem>,
    },
    /// The server's answer did not pass the guest's checks.
    #[error("{step}: the server's answer is not acceptable: {problem}")]
    BadAnswer {
        /// The step.
        step: Step,
        /// What is wrong.
        problem: String,
    },
}

/// One line for a problem document: status, code, detail and the failed
/// rules the server named.
pub fn describe(p: &Problem) -> String {
    let mut out = format!("{} {} ({})", p.status, p.code, p.detail);
    if let Some(s) = &p.secret {
        out.push_str(&format!("; secret {s}"));
    }
    if let Some(pol) = &p.policy {
        out.push_str(&format!("; policy {pol}"));
    }
    for r in &p.rules {
        out.push_str(&format!("; rule {} failed: actual {}", r.rule, r.actual));
        if let Some(e) = &r.expected {
            out.push_str(&format!(", expected {e}"));
        }
    }
    out
}

/// A progress callback: the step and a line about it.
pub type Progress = Box<dyn Fn(Step, &str) + Send + Sync>;

/// What a fetch obtained.
pub struct Fetched {
    /// The secrets, by name, in the order asked for; zeroized when dropped.
    pub secrets: Vec<(String, Zeroizing<Vec<u8>>)>,
    /// The attestation-result token (also the bearer token of
    /// [`Client::secret_later`]).
    pub token: String,
    /// What the token says, verified.
    pub verified: VerifiedToken,
    /// The key the secrets are sealed to, kept for
    /// [`Client::secret_later`]; zeroized when dropped.
    key: GuestKey,
}

impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetched")
            .field(
                "secrets",
                &self
                    .secrets
                    .iter()
                    .map(|(n, v)| format!("{n} ({} bytes)", v.len()))
                    .collect::<Vec<_>>(),
            )
            .field("token_kid", &self.verified.kid)
            .finish_non_exhaustive()
    }
}

impl Fetched {
    /// A secret by name.
    pub fn secret(&self, name: &str) -> Option<&[u8]> {
        self.secrets
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// A cogito guest client.
pub struct Client {
    url: String,
    tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    agent: ureq::Agent,
    kem: Kem,
    backoff: Backoff,
    progress: Option<Progress>,
    attester: Option<Box<dyn Attester>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.url)
            .field("kem", &self.kem)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

/// The largest answer read.
const MAX_ANSWER: u64 = 16 << 20;
/// How far the guest's clock may be ahead of the server's when checking
/// the token's expiry: a guest booting with a wrong clock should still
/// get its disk key, and the signature and key binding are what matter.
const CLOCK_SKEW: i64 = 300;

enum Outcome {
    Ok(Vec<u8>),
    /// Worth another try: the reason, and the server's Retry-After.
    Transient(String, Option<u64>),
    Final(FetchError),
}

impl Client {
    /// A client for the server at `url` (`https://host:port`), trusted as
    /// `tls` says. Defaults: X25519 keys, 6 attempts per request, 30 s per
    /// request.
    pub fn new(url: &str, tls: Tls) -> Result<Client, FetchError> {
        let url = url.trim_end_matches('/').to_string();
        match (&tls, url.split_once("://").map(|(s, _)| s)) {
            (Tls::InsecurePlainHttp, Some("http")) => {}
            (Tls::InsecurePlainHttp, _) => {
                return Err(FetchError::Settings(format!(
                    "{url}: plain HTTP was chosen, so the URL must start with http://"
                )))
            }
            (_, Some("https")) => {}
            _ => {
                return Err(FetchError::Settings(format!(
                    "{url}: the server's URL must start with https://"
                )))
            }
        }
        let config = tls
            .client_config()
            .map_err(|e: TlsError| FetchError::Settings(e.to_string()))?;
        Ok(Client {
            url,
            agent: agent(config.clone(), Duration::from_secs(30)),
            tls: config,
            kem: Kem::X25519,
            backoff: Backoff::default(),
            progress: None,
            attester: None,
        })
    }

    /// The KEM of the guest's key (X25519 by default).
    pub fn with_kem(mut self, kem: Kem) -> Client {
        self.kem = kem;
        self
    }

    /// The time one request may take, connection and TLS included
    /// (default 30 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.agent = agent(self.tls.clone(), timeout);
        self
    }

    /// The retry schedule.
    pub fn with_backoff(mut self, backoff: Backoff) -> Client {
        self.backoff = backoff;
        self
    }

    /// The source of evidence (default: [`crate::detect`] with the default
    /// [`crate::Paths`], at each fetch).
    pub fn with_attester(mut self, attester: Box<dyn Attester>) -> Client {
        self.attester = Some(attester);
        self
    }

    /// Called with a line for each step.
    pub fn with_progress(mut self, progress: Progress) -> Client {
        self.progress = Some(progress);
        self
    }

    fn say(&self, step: Step, line: &str) {
        if let Some(p) = &self.progress {
            p(step, line);
        }
    }

    /// One HTTP exchange, classified.
    fn exchange(
        &self,
        step: Step,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        bearer: Option<&str>,
    ) -> Outcome {
        let uri = format!("{}{path}", self.url);
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(&uri)
            .header("accept", "application/json");
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        if let Some(t) = bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match req.body(body.unwrap_or_default().to_vec()) {
            Ok(r) => r,
            Err(e) => return Outcome::Final(FetchError::Settings(format!("{uri}: {e}"))),
        };
        let mut resp = match self.agent.run(req) {
            Ok(r) => r,
            Err(ureq::Error::Rustls(e)) => {
                return Outcome::Final(FetchError::Tls {
                    step,
                    message: e.to_string(),
                })
            }
            Err(ureq::Error::Tls(e)) => {
                return Outcome::Final(FetchError::Tls {
                    step,
                    message: e.to_string(),
                })
            }
            Err(e @ (ureq::Error::BadUri(_) | ureq::Error::Http(_))) => {
                return Outcome::Final(FetchError::Settings(format!("{uri}: {e}")))
            }
            Err(e) => return Outcome::Transient(format!("{uri}: {e}"), None),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let mut bytes = Vec::new();
        if let Err(e) = resp
            .body_mut()
            .as_reader()
            .take(MAX_ANSWER)
            .read_to_end(&mut bytes)
        {
            return Outcome::Transient(format!("{uri}: reading the answer: {e}"), None);
        }
        match status {
            200 => Outcome::Ok(bytes),
            429 | 503 => {
                let what = serde_json::from_slice::<Problem>(&bytes)
                    .map(|p| describe(&p))
                    .unwrap_or_else(|_| format!("HTTP {status}"));
                Outcome::Transient(what, retry_after)
            }
            _ => match serde_json::from_slice::<Problem>(&bytes) {
                Ok(problem) => Outcome::Final(FetchError::Refused {
                    step,
                    problem: Box::new(problem),
                }),
                Err(_) => Outcome::Final(FetchError::BadAnswer {
                    step,
                    problem: format!(
                        "HTTP {status} without a problem document: {}",
                        String::from_utf8_lossy(bytes.get(..200).unwrap_or(&bytes))
                    ),
                }),
            },
        }
    }

    /// An exchange with retries for transient failures.
    fn call(
        &self,
        step: Step,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
        bearer: Option<&str>,
    ) -> Result<Vec<u8>, FetchError> {
        let attempts = self.backoff.attempts.max(1);
        let mut attempt = 1;
        loop {
            match self.exchange(step, method, path, body, bearer) {
                Outcome::Ok(b) => return Ok(b),
                Outcome::Final(e) => return Err(e),
                Outcome::Transient(last, retry_after) => {
                    if attempt >= attempts {
                        return Err(FetchError::Unreachable {
                            step,
                            attempts,
                            last,
                        });
                    }
                    attempt += 1;
                    let delay = self.backoff.delay(attempt, retry_after);
                    self.say(
                        step,
                        &format!(
                            "{last}; attempt {attempt} of {attempts} in {:.1} s",
                            delay.as_secs_f64()
                        ),
                    );
                    std::thread::sleep(delay);
                }
            }
        }
    }

    fn parse<T: serde::de::DeserializeOwned>(step: Step, bytes: &[u8]) -> Result<T, FetchError> {
        serde_json::from_slice(bytes).map_err(|e| FetchError::BadAnswer {
            step,
            problem: format!("not the expected JSON: {e}"),
        })
    }

    /// Attests with evidence from this client's attester (or the TEE
    /// [`crate::detect`] finds) and returns the secrets `names`, all of
    /// them or an error.
    pub fn fetch_secrets(&self, names: &[&str]) -> Result<Fetched, FetchError> {
        match &self.attester {
            Some(a) => self.fetch_secrets_with(a.as_ref(), names),
            None => {
                let found = crate::detect(&crate::Paths::default(), None).map_err(|source| {
                    FetchError::Evidence {
                        step: Step::Detect,
                        source,
                    }
                })?;
                self.say(Step::Detect, &found.attester.interface());
                self.fetch_secrets_with(found.attester.as_ref(), names)
            }
        }
    }

    /// Attests with evidence from `attester` and returns the secrets
    /// `names`, all of them or an error.
    pub fn fetch_secrets_with(
        &self,
        attester: &dyn Attester,
        names: &[&str],
    ) -> Result<Fetched, FetchError> {
        match self.round_trip(attester, names) {
            // A nonce that expired or was consumed while a transient
            // failure was being retried: once more, from a new challenge.
            Err(FetchError::Refused {
                step: Step::Attest,
                problem,
            }) if problem.code == "nonce.expired" || problem.code == "nonce.replayed" => {
                self.say(
                    Step::Attest,
                    &format!(
                        "{}; starting again with a new challenge",
                        describe(&problem)
                    ),
                );
                self.round_trip(attester, names)
            }
            other => other,
        }
    }

    fn round_trip(&self, attester: &dyn Attester, names: &[&str]) -> Result<Fetched, FetchError> {
        let tee = attester.tee();
        // 1. The challenge.
        let body = serde_json::to_vec(&ChallengeRequest { tee })
            .map_err(|e| FetchError::Settings(e.to_string()))?;
        let challenge: ChallengeResponse = Self::parse(
            Step::Challenge,
            &self.call(Step::Challenge, "POST", "/v1/challenge", Some(&body), None)?,
        )?;
        let nonce = decode_b64(&challenge.nonce).ok_or_else(|| FetchError::BadAnswer {
            step: Step::Challenge,
            problem: "the nonce is not base64".into(),
        })?;
        self.say(
            Step::Challenge,
            &format!(
                "nonce for {} from {}, valid until {}",
                tee.as_str(),
                self.url,
                challenge.expires_at
            ),
        );

        // 2. A key pair, and evidence bound to the nonce and the key.
        let key = GuestKey::generate(self.kem).map_err(|e| FetchError::Settings(e.to_string()))?;
        let rd =
            report_data(&nonce, key.kem, &key.public).ok_or_else(|| FetchError::BadAnswer {
                step: Step::Challenge,
                problem: format!("a nonce of {} bytes", nonce.len()),
            })?;
        let evidence = attester
            .evidence(&rd)
            .map_err(|source| FetchError::Evidence {
                step: Step::Evidence,
                source,
            })?;
        self.say(
            Step::Evidence,
            &format!(
                "{} bytes from {}{}{}",
                evidence.evidence.len(),
                evidence.interface,
                evidence
                    .cert_table
                    .as_ref()
                    .map(|c| format!(", certificate table {} bytes", c.len()))
                    .unwrap_or_default(),
                evidence
                    .event_log
                    .as_ref()
                    .map(|c| format!(", event log {} bytes", c.len()))
                    .unwrap_or_default(),
            ),
        );

        // 3. Attest.
        let collateral =
            (evidence.cert_table.is_some() || evidence.event_log.is_some()).then(|| {
                AttestCollateral {
                    cert_table: evidence.cert_table.as_deref().map(encode_b64),
                    event_log: evidence.event_log.as_deref().map(encode_b64),
                }
            });
        let request = AttestRequest {
            nonce: challenge.nonce.clone(),
            evidence: encode_b64(&evidence.evidence),
            public_key: PublicKey {
                kem: key.kem,
                key: encode_b64(&key.public),
            },
            collateral,
            secrets: names.iter().map(|s| s.to_string()).collect(),
        };
        let body = serde_json::to_vec(&request).map_err(|e| FetchError::Settings(e.to_string()))?;
        let answer: AttestResponse = Self::parse(
            Step::Attest,
            &self.call(Step::Attest, "POST", "/v1/attest", Some(&body), None)?,
        )?;
        self.say(
            Step::Attest,
            &format!("accepted; token valid until {}", answer.token_expires_at),
        );

        // 4. The token, before anything in the answer is trusted.
        let verified = self.verify(&answer.token, &key)?;
        self.say(
            Step::Token,
            &format!(
                "signed by key {}; {}",
                verified.kid,
                verified
                    .appraisals
                    .iter()
                    .map(|(p, s)| format!("policy {p}: {s}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );

        // 5. Unseal.
        let mut secrets = Vec::with_capacity(names.len());
        for name in names {
            let sealed = answer
                .secrets
                .iter()
                .find(|s| s.name == *name)
                .ok_or_else(|| FetchError::BadAnswer {
                    step: Step::Unseal,
                    problem: format!("secret {name} is missing from the answer"),
                })?;
            let value = open(&key, sealed, Step::Unseal)?;
            self.say(Step::Unseal, &format!("{name}: {} bytes", value.len()));
            secrets.push((name.to_string(), value));
        }
        Ok(Fetched {
            secrets,
            token: answer.token,
            verified,
            key,
        })
    }

    fn verify(&self, token: &str, key: &GuestKey) -> Result<VerifiedToken, FetchError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0)
            .saturating_sub(CLOCK_SKEW);
        let mut refetched = false;
        loop {
            let jwks = self.call(Step::Token, "GET", "/v1/keys", None, None)?;
            match verify_token(token, &jwks, now, Some((key.kem, &key.public))) {
                Ok(v) => return Ok(v),
                // A key published a moment ago on another replica.
                Err(TokenError::UnknownKey(_)) if !refetched => refetched = true,
                Err(e) => {
                    return Err(FetchError::BadAnswer {
                        step: Step::Token,
                        problem: e.to_string(),
                    })
                }
            }
        }
    }

    /// `GET /v1/secrets/{name}`: one more secret, while the token of an
    /// earlier fetch is valid and that secret's policy accepted the same
    /// appraisal.
    pub fn secret_later(
        &self,
        fetched: &Fetched,
        name: &str,
    ) -> Result<Zeroizing<Vec<u8>>, FetchError> {
        let path = format!("/v1/secrets/{name}");
        let sealed: SealedSecret = Self::parse(
            Step::Secret,
            &self.call(Step::Secret, "GET", &path, None, Some(&fetched.token))?,
        )?;
        if sealed.name != name {
            return Err(FetchError::BadAnswer {
                step: Step::Secret,
                problem: format!("asked for {name}, got {}", sealed.name),
            });
        }
        open(&fetched.key, &sealed, Step::Secret)
    }
}

fn agent(tls: Option<std::sync::Arc<rustls::ClientConfig>>, timeout: Duration) -> ureq::Agent {
    use ureq::unversioned::transport::Connector as _;
    let connector = ureq::unversioned::transport::TcpConnector::default()
        .chain(PinnedTlsConnector { config: tls });
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .user_agent(concat!("cogito-guest/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::with_parts(
        config,
        connector,
        ureq::unversioned::resolver::DefaultResolver::default(),
    )
}

fn open(
    key: &GuestKey,
    sealed: &SealedSecret,
    step: Step,
) -> Result<Zeroizing<Vec<u8>>, FetchError> {
    let bad = |problem: String| FetchError::BadAnswer { step, problem };
    let enc = decode_b64(&sealed.enc)
        .ok_or_else(|| bad(format!("{}: enc is not base64", sealed.name)))?;
    let ct = decode_b64(&sealed.ciphertext)
        .ok_or_else(|| bad(format!("{}: ciphertext is not base64", sealed.name)))?;
    key.open(&sealed.name, &enc, &ct)
        .map(Zeroizing::new)
        .map_err(|e| {
            bad(format!(
                "{} does not open with this guest's key: {e}",
                sealed.name
            ))
        })
}
