//! The admin API under `/v1/admin/`: policies, reference-value files,
//! secrets, admin tokens, signing keys, collateral import and the audit
//! log. Every call needs a bearer admin token (stored hashed); its scope
//! decides what it may do:
//!
//! | scope | may |
//! |---|---|
//! | `read` | list and read policies, reference values, secrets' names and policies, the audit log (not secret values, not tokens) |
//! | `policies` | read, and change policies and reference-value files |
//! | `secrets` | read, read secret values, change secrets |
//! | `admin` | everything, including tokens, keys and collateral |
//!
//! Every change is versioned and audited (who, when, what, the previous
//! version). A policy or reference-value upload that does not load is
//! refused with the loader's `file:line` message and the version in force
//! stays.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::http::Body;
use crate::policies::{includes_from_store, load_with};
use crate::state::{new_admin_token, now, token_hash, AppState};
use crate::store::{DocKind, DocRow, SecretRow, TokenRow};

/// An authenticated admin.
pub struct Admin(pub TokenRow);

impl FromRequestParts<Arc<AppState>> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(ApiError::AdminUnauthorized)?;
        let row = state
            .store
            .token_by_hash(&token_hash(token))
            .await?
            .filter(|t| t.revoked.is_none())
            .ok_or(ApiError::AdminUnauthorized)?;
        Ok(Admin(row))
    }
}

/// What a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Read,
    Policies,
    Secrets,
    Admin,
}

impl Admin {
    fn require(&self, need: Need) -> Result<(), ApiError> {
        let ok = matches!(
            (self.0.scope.as_str(), need),
            ("admin", _)
                | (_, Need::Read)
                | ("policies", Need::Policies)
                | ("secrets", Need::Secrets)
        );
        if ok {
            Ok(())
        } else {
            Err(ApiError::AdminForbidden {
                scope: scope_name(&self.0.scope),
            })
        }
    }

    fn actor(&self) -> String {
        format!("token:{}", self.0.id)
    }
}

fn scope_name(s: &str) -> &'static str {
    match s {
        "admin" => "admin",
        "policies" => "policies",
        "secrets" => "secrets",
        _ => "read",
    }
}

/// The admin routes.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/admin/policies", get(list_policies))
        .route("/v1/admin/policies/{name}", get(get_policy).put(put_policy))
        .route("/v1/admin/policies/{name}/history", get(policy_history))
        .route("/v1/admin/refvalues", get(list_refvalues))
        .route(
            "/v1/admin/refvalues/{*name}",
            get(get_refvalues).put(put_refvalues),
        )
        .route("/v1/admin/secrets", get(list_secrets))
        .route(
            "/v1/admin/secrets/{*name}",
            get(get_secret).put(put_secret).delete(delete_secret),
        )
        .route("/v1/admin/tokens", get(list_tokens).post(create_token))
        .route("/v1/admin/tokens/{id}", axum::routing::delete(revoke_token))
        .route("/v1/admin/keys/rotate", post(rotate_key))
        .route("/v1/admin/collateral", put(import_collateral))
        .route("/v1/admin/audit", get(audit))
}

/// A document version, as listed.
#[derive(Debug, Serialize)]
struct DocInfo {
    name: String,
    version: i64,
    digest: String,
    created: String,
    author: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

fn info(d: DocRow, with_text: bool) -> DocInfo {
    DocInfo {
        name: d.name,
        version: d.version,
        digest: d.digest,
        created: cogito_core::VerificationTime::from_unix(d.created).to_string(),
        author: d.author,
        text: with_text.then_some(d.text),
    }
}

#[derive(Debug, Deserialize)]
struct VersionQuery {
    version: Option<i64>,
}

/// A reference-value file's name is the path policies include it by
/// (`refvalues/web-images.toml`): names as [`valid_name`] takes them,
/// joined by `/`, with no `.` or `..` part.
fn valid_path_name(name: &str) -> Result<(), ApiError> {
    let ok = name.len() <= 256
        && name
            .split('/')
            .all(|part| part != "." && part != ".." && valid_name(part).is_ok());
    if ok {
        Ok(())
    } else {
        Err(ApiError::Malformed(format!(
            "name {name:?}: use parts of 1 to 128 of A-Z a-z 0-9 - _ . joined by /"
        )))
    }
}

fn valid_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::Malformed(format!(
            "name {name:?}: use 1 to 128 of A-Z a-z 0-9 - _ ."
        )))
    }
}

/// Writes a new version of a secret (envelope-encrypted under the KEK)
/// with its audit record, in one transaction; forgets this replica's cached
/// row. `how` is added to the audit detail (e.g. ` (KBS upload)`).
pub(crate) async fn write_secret_version(
    state: &AppState,
    name: &str,
    policy: &str,
    policy_version: Option<i64>,
    value: &[u8],
    actor: &str,
    how: &str,
) -> Result<i64, ApiError> {
    let (wrapped_dek, ciphertext) =
        crate::vault::encrypt(state.keys.kek(), name, value).ok_or(ApiError::Internal)?;
    let at = now();
    let previous = state.store.secret(name).await?;
    let row = SecretRow {
        name: name.to_string(),
        version: 0,
        policy: policy.to_string(),
        policy_version,
        wrapped_dek,
        ciphertext,
        created: at,
        author: actor.to_string(),
    };
    let note = crate::store::AuditNote {
        actor,
        action: "secret.put",
        target: name,
        detail: format!(
            "version {{version}}, policy {policy}{}{how}; previous {}",
            policy_version
                .map(|v| format!(" version {v}"))
                .unwrap_or_default(),
            previous.map_or_else(|| "none".into(), |p| format!("version {}", p.version))
        ),
    };
    let version = state.store.put_secret(&row, &note).await?;
    state.secrets.forget(name);
    Ok(version)
}

/// A secret name: segments of `A-Z a-z 0-9 - _ .` separated by `/`
/// (KBS resource paths, `repository/type/tag`, are secret names), none
/// empty, `.` or `..`; 128 characters at most.
pub(crate) fn valid_secret_name(name: &str) -> Result<(), ApiError> {
    let ok = name.len() <= 128
        && name
            .split('/')
            .all(|seg| seg != "." && seg != ".." && valid_name(seg).is_ok());
    if ok {
        Ok(())
    } else {
        Err(ApiError::Malformed(format!(
            "secret name {name:?}: use 1 to 128 of A-Z a-z 0-9 - _ . in segments separated by /"
        )))
    }
}

async fn list_docs(state: &AppState, admin: &Admin, kind: DocKind) -> Result<Response, ApiError> {
    admin.require(Need::Read)?;
    let docs: Vec<DocInfo> = state
        .store
        .docs(kind)
        .await?
        .into_iter()
        .map(|d| info(d, false))
        .collect();
    Ok(Json(docs).into_response())
}

async fn get_doc(
    state: &AppState,
    admin: &Admin,
    kind: DocKind,
    name: &str,
    version: Option<i64>,
) -> Result<Response, ApiError> {
    admin.require(Need::Read)?;
    let d = state
        .store
        .doc(kind, name, version)
        .await?
        .ok_or_else(|| ApiError::NotFound(name.to_string()))?;
    Ok(Json(info(d, true)).into_response())
}

/// The text of an upload: the body as UTF-8 (TOML).
fn text_body(body: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::Malformed("the body is not UTF-8".into()))
}

async fn put_doc(
    state: &AppState,
    admin: &Admin,
    kind: DocKind,
    name: &str,
    text: String,
) -> Result<Response, ApiError> {
    admin.require(Need::Policies)?;
    match kind {
        DocKind::Policy => valid_name(name)?,
        DocKind::RefValues => valid_path_name(name)?,
    }
    // Validate first; the version in force stays when this fails.
    let digest = match kind {
        DocKind::Policy => {
            let refvalues = includes_from_store(&*state.store, &text).await?;
            load_with(name, &text, &refvalues)
                .map_err(|e| ApiError::PolicyInvalid(e.to_string()))?
                .digest
        }
        DocKind::RefValues => {
            // A reference-value file loads through a policy that includes
            // it: check it that way, as a policy for every platform would.
            let probe = format!(
                "[policy]\nname = \"validate\"\ninclude = [\"{name}\"]\n[snp]\n[tdx]\n[cca]\n"
            );
            let mut files = std::collections::HashMap::new();
            files.insert(name.to_string(), text.clone());
            load_with("(validation)", &probe, &files)
                .map_err(|e| ApiError::PolicyInvalid(e.to_string()))?;
            use sha2::Digest as _;
            hex::encode(sha2::Sha256::digest(text.as_bytes()))
        }
    };
    let previous = state.store.doc(kind, name, None).await?;
    let at = now();
    let what = match kind {
        DocKind::Policy => "policy",
        DocKind::RefValues => "refvalues",
    };
    let actor = admin.actor();
    let action = format!("{what}.put");
    let note = crate::store::AuditNote {
        actor: &actor,
        action: &action,
        target: name,
        detail: format!(
            "version {{version}} (sha256 {digest}); previous {}",
            previous.map_or_else(|| "none".to_string(), |p| format!("version {}", p.version))
        ),
    };
    let version = state
        .store
        .put_doc(kind, name, &text, &digest, at, &note)
        .await?;
    if kind == DocKind::Policy {
        state.policies.forget(name);
    }
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "name": name, "version": version, "digest": digest })),
    )
        .into_response())
}

async fn list_policies(State(s): State<Arc<AppState>>, a: Admin) -> Result<Response, ApiError> {
    list_docs(&s, &a, DocKind::Policy).await
}

async fn get_policy(
    State(s): State<Arc<AppState>>,
    a: Admin,
    Path(name): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, ApiError> {
    get_doc(&s, &a, DocKind::Policy, &name, q.version).await
}

async fn put_policy(
    State(s): State<Arc<AppState>>,
    a: Admin,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    put_doc(&s, &a, DocKind::Policy, &name, text_body(&body)?).await
}

async fn policy_history(
    State(s): State<Arc<AppState>>,
    a: Admin,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    a.require(Need::Read)?;
    let h: Vec<DocInfo> = s
        .store
        .doc_history(DocKind::Policy, &name)
        .await?
        .into_iter()
        .map(|d| info(d, false))
        .collect();
    if h.is_empty() {
        return Err(ApiError::NotFound(name));
    }
    Ok(Json(h).into_response())
}

async fn list_refvalues(State(s): State<Arc<AppState>>, a: Admin) -> Result<Response, ApiError> {
    list_docs(&s, &a, DocKind::RefValues).await
}

async fn get_refvalues(
    State(s): State<Arc<AppState>>,
    a: Admin,
    Path(name): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Response, ApiError> {
    get_doc(&s, &a, DocKind::RefValues, &name, q.version).await
}

async fn put_refvalues(
    State(s): State<Arc<AppState>>,
    a: Admin,
    Path(name): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    put_doc(&s, &a, DocKind::RefValues, &name, text_body(&body)?).await
}

/// A secret, as listed.
#[derive(Debug, Serialize)]
struct SecretInfo {
    name: String,
    version: i64,
    policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_version: Option<i64>,
    created: String,
    author: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
}

fn secret_info(s: &SecretRow, value: Option<String>) -> SecretInfo {
    SecretInfo {
        name: s.name.clone(),
        version: s.version,
        policy: s.policy.clone(),
        policy_version: s.policy_version,
        created: cogito_core::VerificationTime::from_unix(s.created).to_string(),
        author: s.author.clone(),
        value,
    }
}

async fn list_secrets(State(s): State<Arc<AppState>>, a: Admin) -> Result<Response, ApiError> {
    a.require(Need::Read)?;
    let list: Vec<SecretInfo> = s
        .store
        .secrets()
        .await?
        .iter()
        .map(|r| secret_info(r, None))
        .collect();
    Ok(Json(list).into_response())
}

async fn get_secret(
    State(s): State<Arc<AppState>>,
    a: Admin,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    a.require(Need::Secrets)?;
    let row = s
        .store
        .secret(&name)
        .await?
        .ok_or_else(|| ApiError::NotFound(name.clone()))?;
    let value = crate::vault::decrypt(s.keys.kek(), &row.name, &row.wrapped_dek, &row.ciphertext)
        .ok_or(ApiError::Internal)?;
    s.store
        .audit(
            now(),
            &a.actor(),
            "secret.read",
            &name,
            &format!("version {}", row.version),
        )
        .await?;
    Ok(Json(secret_info(&row, Some(cogito_protocol::encode_b64(&value)))).into_response())
}

/// `PUT /v1/admin/secrets/{name}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutSecret {
    /// The policy that must accept a guest.
    policy: String,
    /// A pinned policy version (default: follow the latest).
    #[serde(default)]
    policy_version: Option<i64>,
    /// The value, base64.
    value: String,
}

async fn put_secret(
    State(s): State<Arc<AppState>>,
    a: Admin,
    Path(name): Path<String>,
    Body(req): Body<PutSecret>,
) -> Result<Response, ApiError> {
    a.require(Need::Secrets)?;
    valid_secret_name(&name)?;
    let value = zeroize::Zeroizing::new(
        cogito_protocol::decode_b64(&req.value).ok_or(ApiError::BadBase64("value"))?,
    );
    // The policy may live in the store or in `policy_dir`.
    let known = s
        .policies
        .get(&*s.store, &req.policy, req.policy_version, now())
        .await
        .map_err(|e| match e {
            crate::policies::PolicyLoadError::Store(e) => ApiError::from(e),
            crate::policies::PolicyLoadError::Invalid(_) => ApiError::Internal,
        })?
        .is_some();
    if !known {
        return Err(ApiError::NotFound(format!(
            "policy {}{}",
            req.policy,
            req.policy_version
                .map(|v| format!(" version {v}"))
                .unwrap_or_default()
        )));
    }
    let version = write_secret_version(
        &s,
        &name,
        &req.policy,
        req.policy_version,
        &value,
        &a.actor(),
        "",
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "name": name, "version": version })),
    )
        .into_response())
}

async fn delete_secret(
    State(s): State<Arc<AppState>>,
    a: Admin,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    a.require(Need::Secrets)?;
    let at = now();
    if !s.store.delete_secret(&name, at).await? {
        return Err(ApiError::NotFound(name));
    }
    s.secrets.forget(&name);
    s.store
        .audit(at, &a.actor(), "secret.delete", &name, "every version")
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Serialize)]
struct TokenInfo {
    id: String,
    scope: String,
    note: String,
    created: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked: Option<String>,
}

async fn list_tokens(State(s): State<Arc<AppState>>, a: Admin) -> Result<Response, ApiError> {
    a.require(Need::Admin)?;
    let list: Vec<TokenInfo> = s
        .store
        .tokens()
        .await?
        .into_iter()
        .map(|t| TokenInfo {
            id: t.id,
            scope: t.scope,
            note: t.note,
            created: cogito_core::VerificationTime::from_unix(t.created).to_string(),
            revoked: t
                .revoked
                .map(|r| cogito_core::VerificationTime::from_unix(r).to_string()),
        })
        .collect();
    Ok(Json(list).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    scope: String,
    #[serde(default)]
    note: String,
}

async fn create_token(
    State(s): State<Arc<AppState>>,
    a: Admin,
    Body(req): Body<CreateToken>,
) -> Result<Response, ApiError> {
    a.require(Need::Admin)?;
    if !matches!(
        req.scope.as_str(),
        "admin" | "read" | "policies" | "secrets"
    ) {
        return Err(ApiError::Malformed(format!(
            "scope {:?}: one of admin, read, policies, secrets",
            req.scope
        )));
    }
    let at = now();
    let (row, token) =
        new_admin_token(&req.scope, &req.note, at).map_err(|_| ApiError::Internal)?;
    s.store.insert_token(&row).await?;
    s.store
        .audit(
            at,
            &a.actor(),
            "token.create",
            &row.id,
            &format!("scope {}", row.scope),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "id": row.id, "scope": row.scope, "token": token })),
    )
        .into_response())
}

async fn revoke_token(
    State(s): State<Arc<AppState>>,
    a: Admin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    a.require(Need::Admin)?;
    let at = now();
    if !s.store.revoke_token(&id, at).await? {
        return Err(ApiError::NotFound(format!("token {id}")));
    }
    s.store
        .audit(at, &a.actor(), "token.revoke", &id, "")
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn rotate_key(State(s): State<Arc<AppState>>, a: Admin) -> Result<Response, ApiError> {
    a.require(Need::Admin)?;
    let at = now();
    let kid = s
        .keys
        .create_signing_key(&*s.store, at)
        .await
        .map_err(|_| ApiError::Internal)?;
    // Every active key but the newest is retired. Two rotations at once
    // (on two replicas) agree on which key is newest, so they leave one
    // active key, not two and not none.
    let mut active: Vec<_> = s
        .store
        .keys("signing")
        .await?
        .into_iter()
        .filter(|k| k.retired.is_none())
        .collect();
    active.sort_by(|a, b| (a.created, &a.kid).cmp(&(b.created, &b.kid)));
    let newest = active.pop().map(|k| k.kid).unwrap_or_else(|| kid.clone());
    let old: Vec<String> = active.into_iter().map(|k| k.kid).collect();
    for k in &old {
        s.store.retire_key(k, at).await?;
    }
    let kid = newest;
    s.keys
        .reload(&*s.store)
        .await
        .map_err(|_| ApiError::Internal)?;
    s.store
        .audit(
            at,
            &a.actor(),
            "key.rotate",
            &kid,
            &format!("retired {}", old.join(", ")),
        )
        .await?;
    Ok(Json(serde_json::json!({ "kid": kid, "retired": old })).into_response())
}

/// An offline bundle, as `cogito collateral import DIR` sends it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Import {
    /// SEV-SNP VCEKs and VLEKs (DER, base64).
    #[serde(default)]
    snp_certificates: Vec<String>,
    /// AMD CRLs (DER, base64).
    #[serde(default)]
    snp_crls: Vec<String>,
    /// Intel TDX collateral.
    #[serde(default)]
    tdx: Option<crate::collateral::StoredTdx>,
}

async fn import_collateral(
    State(s): State<Arc<AppState>>,
    a: Admin,
    Body(req): Body<Import>,
) -> Result<Response, ApiError> {
    a.require(Need::Admin)?;
    let at = now();
    let mut keys = Vec::new();
    for c in &req.snp_certificates {
        let der = cogito_protocol::decode_b64(c).ok_or(ApiError::BadBase64("snp_certificates"))?;
        let ext = cogito_snp::VcekExtensions::from_certificate(&der, "VCEK")
            .map_err(|e| ApiError::Malformed(e.to_string()))?;
        // A VLEK has no chip id; it comes with the guest's certificate
        // table, and nothing looks one up by chip.
        let Some(hw_id) = ext.hw_id.clone() else {
            return Err(ApiError::Malformed(
                "snp_certificates: a VLEK (no hwID extension); import VCEKs only".into(),
            ));
        };
        let tcb = cogito_snp::TcbParts {
            fmc: ext.fmc_spl,
            bootloader: ext.bl_spl,
            tee: ext.tee_spl,
            snp: ext.snp_spl,
            microcode: ext.ucode_spl,
        };
        let key = crate::collateral::vcek_key(&hw_id, &tcb);
        s.store.put_collateral(&key, &der, at).await?;
        s.source.forget(&key);
        keys.push(key);
    }
    for c in &req.snp_crls {
        let der = cogito_protocol::decode_b64(c).ok_or(ApiError::BadBase64("snp_crls"))?;
        let crl = cogito_core::crl::Crl::parse(&der).map_err(ApiError::Malformed)?;
        // ARK-<Product> issues AMD's CRLs; VLEK CRLs come from the same ARK,
        // so the CRL is stored for both key families.
        let product = cogito_core::AmdProduct::ALL
            .into_iter()
            .find(|p| crl.issuer.contains(&format!("ARK-{}", p.as_str())))
            .ok_or_else(|| {
                ApiError::Malformed(format!("CRL issuer {} is no AMD ARK", crl.issuer))
            })?;
        for kind in [cogito_snp::SigningKey::Vcek, cogito_snp::SigningKey::Vlek] {
            let key = crate::collateral::snp_crl_key(product, kind);
            s.store.put_collateral(&key, &der, at).await?;
            s.source.forget(&key);
            keys.push(key);
        }
    }
    if let Some(t) = &req.tdx {
        let c = t.collateral().ok_or(ApiError::BadBase64("tdx"))?;
        let info: serde_json::Value = serde_json::from_slice(&c.tcb_info)
            .map_err(|e| ApiError::Malformed(format!("tcb_info: {e}")))?;
        let fmspc: [u8; 6] = info
            .get("tcbInfo")
            .and_then(|t| t.get("fmspc"))
            .and_then(serde_json::Value::as_str)
            .and_then(|f| hex::decode(f).ok())
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| ApiError::Malformed("tcb_info has no 6-byte fmspc".into()))?;
        // The PCK CRL's issuer says which PCK CA (Platform or Processor)
        // this collateral serves; the store keys it that way.
        let crl = cogito_core::crl::Crl::parse(&c.pck_crl)
            .map_err(|e| ApiError::Malformed(format!("tdx.pck_crl: {e}")))?;
        let ca = if crl.issuer.contains("Processor CA") {
            cogito_tdx::PckCaKind::Processor
        } else {
            cogito_tdx::PckCaKind::Platform
        };
        let key = crate::collateral::tdx_key(&fmspc, ca);
        let body = serde_json::to_vec(t).map_err(|_| ApiError::Internal)?;
        s.store.put_collateral(&key, &body, at).await?;
        s.source.forget(&key);
        keys.push(key);
    }
    s.store
        .audit(at, &a.actor(), "collateral.import", "", &keys.join(", "))
        .await?;
    Ok(Json(serde_json::json!({ "stored": keys })).into_response())
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    limit: Option<i64>,
}

async fn audit(
    State(s): State<Arc<AppState>>,
    a: Admin,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    a.require(Need::Read)?;
    let rows: Vec<serde_json::Value> = s
        .store
        .audit_log(q.limit.unwrap_or(100).clamp(1, 10_000))
        .await?
        .into_iter()
        .map(|r| {
            serde_json::json!({
                "at": cogito_core::VerificationTime::from_unix(r.at).to_string(),
                "actor": r.actor,
                "action": r.action,
                "target": r.target,
                "detail": r.detail,
            })
        })
        .collect();
    Ok(Json(rows).into_response())
}
