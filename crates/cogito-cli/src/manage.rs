//! The operator's side of the admin API: `cogito policy push|pull|history|
//! list`, `cogito secret …`, `cogito token …`, `cogito audit`, `cogito
//! admin rotate-signing-key|new-token` and `cogito collateral import`. Each
//! is one or two HTTP calls through [`crate::remote`] (but `admin
//! new-token`, which writes to the store itself); the server validates,
//! versions and audits.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use cogito_core::ErrorClass;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::failure::Failure;
use crate::out::{errln, outln};
use crate::remote::{Remote, RemoteArgs};

fn read_file(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure::bad_input("input.unreadable", format!("{}: {e}", path.display())))
}

fn finish(r: Result<(), Failure>) -> i32 {
    match r {
        Ok(()) => 0,
        Err(f) => {
            errln!("cogito: {}: {}", f.code, f.message);
            f.class.exit_code()
        }
    }
}

fn print_json(v: &Value) {
    outln!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("-")
}

fn n(v: &Value, k: &str) -> String {
    v.get(k).map_or_else(|| "-".to_string(), |x| x.to_string())
}

/// Path segments are names the server accepts (letters, digits, `-_.`);
/// anything else is refused here rather than sent mangled.
fn segment(name: &str) -> Result<&str, Failure> {
    if !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Ok(name)
    } else {
        Err(Failure::new(
            "usage.name",
            ErrorClass::Usage,
            format!("{name:?}: names are 1 to 128 of A-Z a-z 0-9 - _ ."),
        ))
    }
}

/// A secret name: segments (as [`segment`]) separated by `/`, so that KBS
/// resource paths (`repository/type/tag`) are secret names.
fn secret_name(name: &str) -> Result<&str, Failure> {
    if name.len() <= 128
        && name
            .split('/')
            .all(|seg| seg != "." && seg != ".." && segment(seg).is_ok())
    {
        Ok(name)
    } else {
        Err(Failure::new(
            "usage.name",
            ErrorClass::Usage,
            format!(
                "{name:?}: secret names are 1 to 128 of A-Z a-z 0-9 - _ . in segments separated by /"
            ),
        ))
    }
}

// ---------------------------------------------------------------- policies

/// `cogito policy push|pull|history|list`.
#[derive(Subcommand, Debug)]
pub enum PolicyRemote {
    /// Upload a policy file (and the reference-value files it includes,
    /// when they changed) to the server. The server validates it first; a
    /// bad one is refused with the loader's file:line message and the
    /// version in force stays.
    Push(PushArgs),
    /// Print a policy as the server holds it (the latest version, or
    /// --version N).
    Pull(PullArgs),
    /// List every version of a policy: who uploaded it, when, its digest.
    History(HistoryArgs),
    /// List the server's policies (latest versions).
    List(ListArgs),
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// The policy file.
    file: PathBuf,
    /// The name to store it under [default: the file name without .toml].
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Args, Debug)]
pub struct PullArgs {
    /// The policy's name.
    name: String,
    /// A version [default: the latest].
    #[arg(long)]
    version: Option<i64>,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// The policy's name.
    name: String,
    /// Print the server's JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Print the server's JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

pub fn policy(cmd: &PolicyRemote) -> i32 {
    finish(match cmd {
        PolicyRemote::Push(a) => push(a),
        PolicyRemote::Pull(a) => pull(a),
        PolicyRemote::History(a) => history(a),
        PolicyRemote::List(a) => list_docs(&a.remote, "policies", a.json),
    })
}

fn text_of(path: &Path) -> Result<String, Failure> {
    String::from_utf8(read_file(path)?).map_err(|_| {
        Failure::bad_input("input.unreadable", format!("{}: not UTF-8", path.display()))
    })
}

fn push(a: &PushArgs) -> Result<(), Failure> {
    let text = text_of(&a.file)?;
    let name = match &a.name {
        Some(n) => n.clone(),
        None => a
            .file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string(),
    };
    segment(&name)?;
    let remote = a.remote.connect()?;
    // Reference-value files first, so that the policy validates against
    // them; one whose text the server already holds is not versioned again.
    let base = a.file.parent().map(Path::to_path_buf).unwrap_or_default();
    for inc in cogito_server::policies::includes_of(&text) {
        // An include is a relative path: each part a name, no `..`.
        for part in inc.split('/') {
            if part == ".." || part == "." {
                return Err(Failure::new(
                    "usage.name",
                    ErrorClass::Usage,
                    format!("include {inc:?}: a path below the policy's folder, without . or .."),
                ));
            }
            segment(part)?;
        }
        let inc_text = text_of(&base.join(&inc))?;
        let current: Option<Value> = remote.get(&format!("/v1/admin/refvalues/{inc}")).ok();
        if current.as_ref().map(|c| s(c, "text")) == Some(inc_text.as_str()) {
            outln!(
                "refvalues {inc}: unchanged (version {})",
                current
                    .as_ref()
                    .map_or_else(String::new, |c| n(c, "version"))
            );
            continue;
        }
        let r: Value = remote.put(
            &format!("/v1/admin/refvalues/{inc}"),
            "application/toml",
            inc_text.as_bytes(),
        )?;
        outln!("refvalues {inc}: version {}", n(&r, "version"));
    }
    let r: Value = remote.put(
        &format!("/v1/admin/policies/{name}"),
        "application/toml",
        text.as_bytes(),
    )?;
    outln!(
        "policy {name}: version {} (sha256 {})",
        n(&r, "version"),
        s(&r, "digest")
    );
    Ok(())
}

fn pull(a: &PullArgs) -> Result<(), Failure> {
    let remote = a.remote.connect()?;
    let name = segment(&a.name)?;
    let path = match a.version {
        Some(v) => format!("/v1/admin/policies/{name}?version={v}"),
        None => format!("/v1/admin/policies/{name}"),
    };
    let d: Value = remote.get(&path)?;
    let text = s(&d, "text");
    match &a.output {
        Some(p) => std::fs::write(p, text).map_err(|e| {
            Failure::new(
                "output.unwritable",
                ErrorClass::Internal,
                format!("{}: {e}", p.display()),
            )
        })?,
        None => crate::out::stdout(text),
    }
    Ok(())
}

fn history(a: &HistoryArgs) -> Result<(), Failure> {
    let remote = a.remote.connect()?;
    let name = segment(&a.name)?;
    let h: Value = remote.get(&format!("/v1/admin/policies/{name}/history"))?;
    if a.json {
        print_json(&h);
        return Ok(());
    }
    outln!(
        "{:>7}  {:<20}  {:<24}  sha256",
        "version",
        "created",
        "author"
    );
    for d in h.as_array().into_iter().flatten() {
        outln!(
            "{:>7}  {:<20}  {:<24}  {}",
            n(d, "version"),
            s(d, "created"),
            s(d, "author"),
            s(d, "digest")
        );
    }
    Ok(())
}

fn list_docs(remote: &RemoteArgs, kind: &str, as_json: bool) -> Result<(), Failure> {
    let remote = remote.connect()?;
    let list: Value = remote.get(&format!("/v1/admin/{kind}"))?;
    if as_json {
        print_json(&list);
        return Ok(());
    }
    for d in list.as_array().into_iter().flatten() {
        outln!(
            "{:<32}  version {:<4}  {}  {}",
            s(d, "name"),
            n(d, "version"),
            s(d, "created"),
            s(d, "author")
        );
    }
    Ok(())
}

// ----------------------------------------------------------------- secrets

/// `cogito secret put|get|list|rm`.
#[derive(Args, Debug)]
pub struct SecretArgs {
    #[command(subcommand)]
    command: SecretCommand,
}

#[derive(Subcommand, Debug)]
enum SecretCommand {
    /// Store a new version of a secret, guarded by a policy. The value is
    /// read from --value-file, or standard input.
    Put(SecretPut),
    /// Print a secret's value (audited).
    Get(SecretGet),
    /// List the secrets (names, versions, policies; never values).
    List(ListArgs),
    /// Delete a secret, every version.
    Rm(SecretRm),
}

#[derive(Args, Debug)]
struct SecretPut {
    /// The secret's name.
    name: String,
    /// The policy that must accept a guest before it receives the secret.
    #[arg(long)]
    policy: String,
    /// Pin this policy version [default: follow the latest].
    #[arg(long, value_name = "N")]
    policy_version: Option<i64>,
    /// Read the value from this file [default: standard input].
    #[arg(long, value_name = "FILE")]
    value_file: Option<PathBuf>,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Args, Debug)]
struct SecretGet {
    /// The secret's name.
    name: String,
    /// Write the value to this file (created 0600) instead of standard
    /// output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Args, Debug)]
struct SecretRm {
    /// The secret's name.
    name: String,
    #[command(flatten)]
    remote: RemoteArgs,
}

pub fn secret(a: &SecretArgs) -> i32 {
    finish(match &a.command {
        SecretCommand::Put(a) => secret_put(a),
        SecretCommand::Get(a) => secret_get(a),
        SecretCommand::List(a) => secret_list(a),
        SecretCommand::Rm(a) => secret_name(&a.name).and_then(|name| {
            a.remote
                .connect()?
                .delete(&format!("/v1/admin/secrets/{name}"))?;
            outln!("secret {name}: deleted");
            Ok(())
        }),
    })
}

fn secret_put(a: &SecretPut) -> Result<(), Failure> {
    let name = secret_name(&a.name)?;
    let value = match &a.value_file {
        Some(p) => read_file(p)?,
        None => {
            let mut v = Vec::new();
            std::io::stdin().read_to_end(&mut v).map_err(|e| {
                Failure::bad_input("input.unreadable", format!("standard input: {e}"))
            })?;
            v
        }
    };
    let body = json!({
        "policy": a.policy,
        "policy_version": a.policy_version,
        "value": cogito_protocol::encode_b64(&value),
    });
    let bytes = serde_json::to_vec(&body)
        .map_err(|e| Failure::new("internal.serialize", ErrorClass::Internal, e.to_string()))?;
    let r: Value = a.remote.connect()?.put(
        &format!("/v1/admin/secrets/{name}"),
        "application/json",
        &bytes,
    )?;
    outln!(
        "secret {name}: version {} (policy {})",
        n(&r, "version"),
        a.policy
    );
    Ok(())
}

#[derive(Deserialize)]
struct SecretValue {
    value: String,
}

fn secret_get(a: &SecretGet) -> Result<(), Failure> {
    let name = secret_name(&a.name)?;
    let v: SecretValue = a
        .remote
        .connect()?
        .get(&format!("/v1/admin/secrets/{name}"))?;
    let value = cogito_protocol::decode_b64(&v.value).ok_or_else(|| {
        Failure::new(
            "remote.bad_answer",
            ErrorClass::Internal,
            "the value is not base64",
        )
    })?;
    match &a.output {
        Some(p) => write_private(p, &value),
        None => {
            crate::out::stdout_bytes(&value);
            Ok(())
        }
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| {
            Failure::new(
                "output.unwritable",
                ErrorClass::Internal,
                format!("{}: {e}", path.display()),
            )
        })
}

fn secret_list(a: &ListArgs) -> Result<(), Failure> {
    let list: Value = a.remote.connect()?.get("/v1/admin/secrets")?;
    if a.json {
        print_json(&list);
        return Ok(());
    }
    for d in list.as_array().into_iter().flatten() {
        let pin = d
            .get("policy_version")
            .map(|v| format!(" (version {v})"))
            .unwrap_or_default();
        outln!(
            "{:<32}  version {:<4}  policy {}{}  {}  {}",
            s(d, "name"),
            n(d, "version"),
            s(d, "policy"),
            pin,
            s(d, "created"),
            s(d, "author")
        );
    }
    Ok(())
}

// ------------------------------------------------------------------ tokens

/// `cogito token create|list|revoke`.
#[derive(Args, Debug)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Create an admin token; it is printed once and stored hashed.
    Create(TokenCreate),
    /// List admin tokens (ids, scopes, notes; never the tokens).
    List(ListArgs),
    /// Revoke a token by id.
    Revoke(TokenRevoke),
}

#[derive(Args, Debug)]
struct TokenCreate {
    /// read (list and read policies, secrets' names, the audit log),
    /// policies (and reference values), secrets, or admin (everything).
    #[arg(long, value_parser = ["read", "policies", "secrets", "admin"])]
    scope: String,
    /// What the token is for.
    #[arg(long, default_value = "")]
    note: String,
    #[command(flatten)]
    remote: RemoteArgs,
}

#[derive(Args, Debug)]
struct TokenRevoke {
    /// The token's id (`cgt_<id>_…`).
    id: String,
    #[command(flatten)]
    remote: RemoteArgs,
}

pub fn token(a: &TokenArgs) -> i32 {
    finish(match &a.command {
        TokenCommand::Create(a) => (|| {
            let r: Value = a.remote.connect()?.post(
                "/v1/admin/tokens",
                &json!({ "scope": a.scope, "note": a.note }),
            )?;
            errln!(
                "token {} (scope {}); shown once, keep it:",
                s(&r, "id"),
                s(&r, "scope")
            );
            outln!("{}", s(&r, "token"));
            Ok(())
        })(),
        TokenCommand::List(a) => (|| {
            let list: Value = a.remote.connect()?.get("/v1/admin/tokens")?;
            if a.json {
                print_json(&list);
                return Ok(());
            }
            for t in list.as_array().into_iter().flatten() {
                let revoked = t
                    .get("revoked")
                    .and_then(Value::as_str)
                    .map(|r| format!("  REVOKED {r}"))
                    .unwrap_or_default();
                outln!(
                    "{:<12}  {:<8}  {}  {}{}",
                    s(t, "id"),
                    s(t, "scope"),
                    s(t, "created"),
                    s(t, "note"),
                    revoked
                );
            }
            Ok(())
        })(),
        TokenCommand::Revoke(a) => (|| {
            let id =
                a.id.strip_prefix("cgt_")
                    .and_then(|r| r.split('_').next())
                    .unwrap_or(&a.id);
            let id = segment(id)?;
            a.remote
                .connect()?
                .delete(&format!("/v1/admin/tokens/{id}"))?;
            outln!("token {id}: revoked");
            Ok(())
        })(),
    })
}

// ------------------------------------------------------------------- audit

/// `cogito audit`.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// How many records, newest first.
    #[arg(long, default_value_t = 50)]
    limit: i64,
    /// Print the server's JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

pub fn audit(a: &AuditArgs) -> i32 {
    finish((|| {
        let list: Value = a
            .remote
            .connect()?
            .get(&format!("/v1/admin/audit?limit={}", a.limit))?;
        if a.json {
            print_json(&list);
            return Ok(());
        }
        for r in list.as_array().into_iter().flatten() {
            outln!(
                "{}  {:<20}  {:<18}  {:<24}  {}",
                s(r, "at"),
                s(r, "actor"),
                s(r, "action"),
                s(r, "target"),
                s(r, "detail")
            );
        }
        Ok(())
    })())
}

// ------------------------------------------------------------------- admin

/// `cogito admin rotate-signing-key|new-token`.
#[derive(Args, Debug)]
pub struct AdminArgs {
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Make a new token-signing key and retire the current one; the old
    /// public key stays in /v1/keys until the tokens it signed expire.
    RotateSigningKey(RotateArgs),
    /// Recovery, on the server's machine: write a new admin token straight
    /// into the store (no running server, no admin token needed; access to
    /// the store is the credential). Prints the token.
    NewToken(NewTokenArgs),
}

#[derive(Args, Debug)]
struct NewTokenArgs {
    /// The scope.
    #[arg(long, default_value = "admin", value_parser = ["read", "policies", "secrets", "admin"])]
    scope: String,
    /// What the token is for.
    #[arg(long, default_value = "created offline by cogito admin new-token")]
    note: String,
    /// The service's configuration file [env: COGITO_CONFIG].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The service's data directory (its default store) [env: COGITO_DATA_DIR].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The store URL [env: COGITO_STORE].
    #[arg(long, value_name = "URL")]
    store: Option<String>,
}

fn new_token(a: &NewTokenArgs) -> Result<(), Failure> {
    let env = |n: &str| std::env::var(n).ok();
    let file = a.config.clone().or_else(|| {
        env("COGITO_CONFIG")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let mut config = cogito_server::Config::load(file.as_deref(), &env)
        .map_err(|e| Failure::new("usage.config", ErrorClass::Usage, e.to_string()))?;
    if let Some(d) = &a.data_dir {
        config.data_dir.clone_from(d);
    }
    if let Some(s) = &a.store {
        config.store = Some(s.clone());
    }
    // The service's own store, never a new one made by mistake.
    if config.store.is_none() && !config.data_dir.join("cogito.db").is_file() {
        return Err(Failure::new(
            "usage.config",
            ErrorClass::Usage,
            format!(
                "{}: no cogito.db here; give the service's --data-dir (or --store, --config)",
                config.data_dir.display()
            ),
        ));
    }
    let failed = |e: String| Failure::new("store.unreachable", ErrorClass::Internal, e);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let token = runtime.block_on(async {
        use cogito_server::store::Store as _;
        let url = config.store_url();
        let store = cogito_server::store::SqlStore::open(&url)
            .await
            .map_err(|e| failed(format!("{}: {e}", cogito_server::store::redact(&url))))?;
        let now = cogito_core::VerificationTime::now().unix();
        let (row, token) = cogito_server::state::new_admin_token(&a.scope, &a.note, now)
            .map_err(|e| failed(e.to_string()))?;
        store
            .insert_token(&row)
            .await
            .map_err(|e| failed(e.to_string()))?;
        store
            .audit(
                now,
                "local",
                "token.create",
                &row.id,
                &format!("scope {} (cogito admin new-token)", row.scope),
            )
            .await
            .map_err(|e| failed(e.to_string()))?;
        Ok::<_, Failure>(token)
    })?;
    errln!(
        "a new admin token (scope {}); shown once, keep it:",
        a.scope
    );
    outln!("{token}");
    Ok(())
}

#[derive(Args, Debug)]
struct RotateArgs {
    #[command(flatten)]
    remote: RemoteArgs,
}

pub fn admin(a: &AdminArgs) -> i32 {
    match &a.command {
        AdminCommand::RotateSigningKey(a) => finish((|| {
            let r: Value = a
                .remote
                .connect()?
                .post("/v1/admin/keys/rotate", &json!({}))?;
            outln!(
                "signing key {} (retired: {})",
                s(&r, "kid"),
                r.get("retired").map_or_else(String::new, Value::to_string)
            );
            Ok(())
        })()),
        AdminCommand::NewToken(a) => finish(new_token(a)),
    }
}

// -------------------------------------------------------------- collateral

/// `cogito collateral import DIR`.
#[derive(Args, Debug)]
pub struct CollateralArgs {
    #[command(subcommand)]
    command: CollateralCommand,
}

#[derive(Subcommand, Debug)]
enum CollateralCommand {
    /// Preload offline collateral (`--certs` bundle folders: VCEKs, AMD
    /// CRLs, Intel TDX collateral) into the server's store, for sites
    /// that cannot reach AMD or Intel. DIR is one bundle or a folder of
    /// bundles.
    Import(ImportArgs),
}

#[derive(Args, Debug)]
struct ImportArgs {
    /// A bundle folder, or a folder of bundle folders.
    dir: PathBuf,
    #[command(flatten)]
    remote: RemoteArgs,
}

pub fn collateral(a: &CollateralArgs) -> i32 {
    match &a.command {
        CollateralCommand::Import(a) => finish(import(a)),
    }
}

fn bundle_failure(e: cogito_collateral::CollateralError) -> Failure {
    Failure::from(e)
}

/// The import bodies for the bundles under `dir` (itself and its
/// immediate subfolders), one per bundle that holds anything.
pub fn import_bodies(dir: &Path) -> Result<Vec<(PathBuf, Value)>, Failure> {
    let mut dirs = vec![dir.to_path_buf()];
    let mut subs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Failure::bad_input("input.unreadable", format!("{}: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    subs.sort();
    dirs.extend(subs);
    let mut bodies = Vec::new();
    for d in dirs {
        let snp = cogito_collateral::load_snp_bundle(&d).map_err(bundle_failure)?;
        // VCEKs only: a VLEK is the host's, and always comes with the
        // guest's certificate table; nothing looks one up by chip.
        if snp.vlek.is_some() {
            crate::out::errln!(
                "{}: skipping the VLEK (guests send theirs in the certificate table)",
                d.display()
            );
        }
        let certs: Vec<String> = snp
            .vcek
            .iter()
            .map(|c| cogito_protocol::encode_b64(c))
            .collect();
        let crls: Vec<String> = snp
            .crls
            .iter()
            .map(|c| cogito_protocol::encode_b64(c))
            .collect();
        let tdx = cogito_collateral::load_tdx_bundle(&d)
            .map_err(bundle_failure)?
            .map(|f| cogito_server::collateral::StoredTdx::new(&f.collateral));
        if certs.is_empty() && crls.is_empty() && tdx.is_none() {
            continue;
        }
        let body = json!({ "snp_certificates": certs, "snp_crls": crls, "tdx": tdx });
        bodies.push((d, body));
    }
    Ok(bodies)
}

fn import(a: &ImportArgs) -> Result<(), Failure> {
    let bodies = import_bodies(&a.dir)?;
    if bodies.is_empty() {
        return Err(Failure::bad_input(
            "collateral.bundle_empty",
            format!(
                "{}: no VCEK, AMD CRL or TDX collateral here or in its subfolders (docs/bundle.md)",
                a.dir.display()
            ),
        ));
    }
    let remote: Remote = a.remote.connect()?;
    for (d, body) in bodies {
        let bytes = serde_json::to_vec(&body)
            .map_err(|e| Failure::new("internal.serialize", ErrorClass::Internal, e.to_string()))?;
        let r: Value = remote.put("/v1/admin/collateral", "application/json", &bytes)?;
        for k in r
            .get("stored")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            outln!("{}: stored {}", d.display(), k.as_str().unwrap_or("?"));
        }
    }
    Ok(())
}
