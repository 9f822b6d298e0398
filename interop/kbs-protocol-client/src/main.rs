//! `kbs-protocol-client-interop setup DIR`: writes what `cogito serve` needs
//! to trust the testkit's FAKE platforms (anchors, CCA platform key, TDX
//! collateral bundle, a policy).
//!
//! `kbs-protocol-client-interop fetch URL CERT_PEM TEE RESOURCE_PATH
//! [KEY_ALGORITHM]`: runs the upstream `kbs_protocol` client (RCAR
//! handshake, then `get_resource`) against URL, its evidence made by the
//! testkit over the runtime-data digest the client computes, and prints the
//! resource.

use std::path::PathBuf;

use async_trait::async_trait;
use base64::Engine as _;
use cogito_core::{AmdProduct, VerificationTime};
use cogito_testkit::{LiveCca, LiveSnp, LiveTdx};
use kbs_protocol::evidence_provider::EvidenceProvider;
use kbs_protocol::{KbsClientBuilder, KbsClientCapabilities as _, TeeKeyAlgorithm};
use kbs_types::Tee;

struct TestkitEvidence {
    tee: Tee,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[async_trait]
impl EvidenceProvider for TestkitEvidence {
    async fn primary_evidence(&self, runtime_data: Vec<u8>) -> kbs_protocol::Result<serde_json::Value> {
        // What the upstream attesters do: the digest, zero-padded to the
        // 64-byte field.
        let mut rd = [0u8; 64];
        let n = runtime_data.len().min(64);
        rd[..n].copy_from_slice(&runtime_data[..n]);
        let now = VerificationTime::now().unix();
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        Ok(match self.tee {
            Tee::Snp => {
                let (report, table) =
                    LiveSnp::new(AmdProduct::Genoa, now).evidence(rd, LiveSnp::measurement_default());
                let parsed: sev::firmware::guest::AttestationReport =
                    sev::parser::ByteParser::from_bytes(&report).expect("a report");
                let chain: Vec<serde_json::Value> = cogito_snp::parse_cert_table(&table)
                    .expect("a table")
                    .iter()
                    .filter_map(|e| {
                        let t = match e.kind {
                            cogito_snp::CertTableKind::Ark => "ARK",
                            cogito_snp::CertTableKind::Ask => "ASK",
                            cogito_snp::CertTableKind::Vcek => "VCEK",
                            _ => return None,
                        };
                        Some(serde_json::json!({ "cert_type": t, "data": e.data }))
                    })
                    .collect();
                serde_json::json!({ "attestation_report": parsed, "cert_chain": chain })
            }
            Tee::Tdx => serde_json::json!({
                "quote": b64(&LiveTdx::new(now).quote(rd, LiveTdx::mrtd_default())),
                "cc_eventlog": null,
            }),
            _ => serde_json::json!({ "token": LiveCca::new().token(rd, LiveCca::rim_default()) }),
        })
    }

    async fn get_additional_evidence(&self, _runtime_data: Vec<u8>) -> kbs_protocol::Result<String> {
        Ok(String::new())
    }

    async fn get_tee_type(&self) -> kbs_protocol::Result<Tee> {
        Ok(self.tee)
    }
}

fn setup(dir: PathBuf) -> anyhow::Result<()> {
    let now = VerificationTime::now().unix();
    let (snp, tdx, cca) = (LiveSnp::new(AmdProduct::Genoa, now), LiveTdx::new(now), LiveCca::new());
    let anchors = dir.join("anchors");
    std::fs::create_dir_all(&anchors)?;
    for (name, pem) in snp.anchors_pem().into_iter().chain(tdx.anchors_pem()) {
        std::fs::write(anchors.join(name), pem)?;
    }
    std::fs::write(dir.join("cpak.jwk"), cca.cpak_jwk())?;
    let bundle = dir.join("tdx-bundle");
    std::fs::create_dir_all(&bundle)?;
    for (name, bytes) in tdx.collateral_files() {
        std::fs::write(bundle.join(name), bytes)?;
    }
    std::fs::write(
        dir.join("fleet.toml"),
        format!(
            "[policy]\nname = \"fleet\"\n[snp]\nmeasurements = [\"{}\"]\n[tdx]\nmrtd = [\"{}\"]\n[cca]\nrim = [\"{}\"]\n",
            hex(&LiveSnp::measurement_default()),
            hex(&LiveTdx::mrtd_default()),
            hex(&LiveCca::rim_default())
        ),
    )?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [cmd, dir] if cmd == "setup" => setup(PathBuf::from(dir)),
        [cmd, url, cert, tee, path, rest @ ..] if cmd == "fetch" => {
            let tee = match tee.as_str() {
                "snp" => Tee::Snp,
                "tdx" => Tee::Tdx,
                "cca" => Tee::Cca,
                other => anyhow::bail!("tee {other}"),
            };
            let algorithm = match rest.first().map(String::as_str) {
                None | Some("ec") => TeeKeyAlgorithm::EcdhEsA256KwP256,
                Some("p521") => TeeKeyAlgorithm::EcdhEsA256KwP521,
                Some("rsa") => TeeKeyAlgorithm::RsaOaep256,
                Some(other) => anyhow::bail!("key algorithm {other}"),
            };
            let mut client = KbsClientBuilder::with_evidence_provider(
                Box::new(TestkitEvidence { tee }),
                url,
            )
            .add_kbs_cert(&std::fs::read_to_string(cert)?)
            .set_tee_key_algorithm(algorithm)
            .build()?;
            let uri = resource_uri::ResourceUri::try_from(format!("kbs:///{path}").as_str())
                .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let value = client.get_resource(uri).await?;
            println!("{}", String::from_utf8_lossy(&value));
            Ok(())
        }
        _ => anyhow::bail!("usage: setup DIR | fetch URL CERT_PEM snp|tdx|cca REPOSITORY/TYPE/TAG [ec|p521|rsa]"),
    }
}
