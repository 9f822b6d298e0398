//! The admin client: where the server is, how to trust its certificate,
//! which token to present, and problem documents turned into failures.
//!
//! On the server's own machine nothing needs to be given: the URL defaults
//! to `https://127.0.0.1:8443`, the token to the one `cogito serve` wrote
//! at first start (`DATA_DIR/admin-token`) and the trusted certificate to
//! the self-signed one it generated (`DATA_DIR/tls/cert.pem`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use cogito_core::ErrorClass;
use serde::de::DeserializeOwned;

use crate::failure::Failure;

/// Where the server is and how to talk to it.
#[derive(Args, Debug, Clone)]
pub struct RemoteArgs {
    /// The server [default: https://127.0.0.1:8443].
    #[arg(long, env = "COGITO_URL", value_name = "URL")]
    url: Option<String>,
    /// An admin token [default: DATA_DIR/admin-token].
    #[arg(
        long,
        env = "COGITO_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// Trust this CA (or self-signed) certificate, PEM, for the server's TLS
    /// [default: DATA_DIR/tls/cert.pem when it exists, else the public roots].
    #[arg(long, env = "COGITO_CA", value_name = "FILE")]
    ca: Option<PathBuf>,
    /// The server's data directory, for the defaults above.
    #[arg(long, env = "COGITO_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

/// A connected client.
pub struct Remote {
    base: String,
    token: String,
    agent: ureq::Agent,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new("usage.remote", ErrorClass::Usage, message)
}

impl RemoteArgs {
    /// Resolves the defaults and builds the client.
    pub fn connect(&self) -> Result<Remote, Failure> {
        let data_dir = self
            .data_dir
            .clone()
            .unwrap_or_else(cogito_server::config::default_data_dir);
        let base = self
            .url
            .clone()
            .unwrap_or_else(|| "https://127.0.0.1:8443".to_string())
            .trim_end_matches('/')
            .to_string();
        let token = match &self.token {
            Some(t) => t.trim().to_string(),
            None => {
                let path = data_dir.join("admin-token");
                std::fs::read_to_string(&path)
                    .map(|t| t.trim().to_string())
                    .map_err(|e| {
                        usage(format!(
                            "no admin token: give --token or COGITO_TOKEN (reading {} failed: {e})",
                            path.display()
                        ))
                    })?
            }
        };
        let ca = self.ca.clone().or_else(|| {
            let p = data_dir.join("tls/cert.pem");
            p.exists().then_some(p)
        });
        let roots = match ca {
            Some(path) => roots_from(&path)?,
            None => ureq::tls::RootCerts::WebPki,
        };
        Ok(Remote {
            base,
            token,
            agent: agent(roots),
        })
    }
}

/// The certificates of a PEM or DER file, as TLS roots (a CA, or the
/// service's self-signed certificate).
pub fn roots_from(path: &std::path::Path) -> Result<ureq::tls::RootCerts, Failure> {
    let unreadable =
        |e: String| Failure::bad_input("input.unreadable", format!("{}: {e}", path.display()));
    let pem = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    let ders = cogito_core::anchors::certificates_from_pem_or_der(&pem).map_err(unreadable)?;
    Ok(ureq::tls::RootCerts::Specific(Arc::new(
        ders.iter()
            .map(|d| ureq::tls::Certificate::from_der(d).to_owned())
            .collect(),
    )))
}

/// A client with rustls (aws-lc-rs) trusting `roots`.
pub fn agent(roots: ureq::tls::RootCerts) -> ureq::Agent {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(provider)
        .root_certs(roots)
        .build();
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .user_agent(concat!("cogito/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls)
        .build()
        .into()
}

/// The body of an answer, or the failure its problem document names.
fn answer(
    url: &str,
    resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<Vec<u8>, Failure> {
    let mut resp = resp.map_err(|e| {
        Failure::new(
            "remote.unreachable",
            ErrorClass::CollateralUnavailable,
            format!("{url}: {e}"),
        )
    })?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .map_err(|e| {
            Failure::new(
                "remote.unreachable",
                ErrorClass::CollateralUnavailable,
                format!("{url}: reading the answer: {e}"),
            )
        })?;
    if (200..300).contains(&status) {
        return Ok(body);
    }
    Err(problem_failure(status, &body))
}

/// A problem document as a failure: the server's code and detail, with
/// the failed rules when there are any.
pub fn problem_failure(status: u16, body: &[u8]) -> Failure {
    let mut class = match status {
        401 | 403 => ErrorClass::Authenticity,
        400..=499 => ErrorClass::BadInput,
        _ => ErrorClass::Internal,
    };
    match serde_json::from_slice::<cogito_protocol::Problem>(body) {
        Ok(p) => {
            if p.code == "policy.refused" {
                class = ErrorClass::Policy;
            }
            let mut message = format!("HTTP {status} {}: {}", p.code, p.detail);
            for r in &p.rules {
                message.push_str(&format!("\n  rule {}: actual {}", r.rule, r.actual));
                if let Some(e) = &r.expected {
                    message.push_str(&format!(", expected {e}"));
                }
            }
            // Codes come from the server; the CLI keeps them as they are.
            Failure {
                code: "remote.refused",
                class,
                message,
            }
        }
        Err(_) => Failure::new(
            "remote.refused",
            class,
            format!("HTTP {status}: {}", String::from_utf8_lossy(body).trim()),
        ),
    }
}

impl Remote {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// GET, decoded as JSON.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Failure> {
        let url = self.url(path);
        let r = self
            .agent
            .get(&url)
            .header("authorization", self.auth())
            .call();
        json(&url, &answer(&url, r)?)
    }

    /// PUT a body with a content type, decoded as JSON.
    pub fn put<T: DeserializeOwned>(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<T, Failure> {
        let url = self.url(path);
        let r = self
            .agent
            .put(&url)
            .header("authorization", self.auth())
            .header("content-type", content_type)
            .send(body);
        json(&url, &answer(&url, r)?)
    }

    /// POST JSON, decoded as JSON.
    pub fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, Failure> {
        let url = self.url(path);
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Failure::new("internal.serialize", ErrorClass::Internal, e.to_string()))?;
        let r = self
            .agent
            .post(&url)
            .header("authorization", self.auth())
            .header("content-type", "application/json")
            .send(&bytes[..]);
        json(&url, &answer(&url, r)?)
    }

    /// DELETE.
    pub fn delete(&self, path: &str) -> Result<(), Failure> {
        let url = self.url(path);
        let r = self
            .agent
            .delete(&url)
            .header("authorization", self.auth())
            .call();
        answer(&url, r).map(|_| ())
    }
}

fn json<T: DeserializeOwned>(url: &str, body: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(body).map_err(|e| {
        Failure::new(
            "remote.bad_answer",
            ErrorClass::Internal,
            format!("{url}: the answer is not what cogito serves: {e}"),
        )
    })
}
