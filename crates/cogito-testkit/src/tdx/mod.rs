//! A FAKE Intel SGX/TDX DCAP world and the generator of `test-vectors/tdx`.
//!
//! - [`pki`]: deterministic P-256 keys; the FAKE `CN=Intel SGX Root CA`,
//!   PCK Platform/Processor CAs, TCB Signing certificate, PCK leaves with
//!   the SGX extensions, and ECDSA-SHA256 CRLs.
//! - [`collateral`]: TCB Info v3 (TDX) and QE Identity v2 (TD_QE) signed
//!   over their exact object bytes, as Intel PCS serves them.
//! - [`quote`]: raw quotes v4/v5 (TD 1.0, TD 1.5 and TD 1.5 extended
//!   bodies) with every field settable.
//! - [`vectors`]: the cases of `test-vectors/tdx` and their manifest.

pub mod collateral;
pub mod pki;
pub mod quote;
pub mod vectors;

#[cfg(test)]
mod tests;

pub use vectors::{generate, TdxCase, TdxVectorSet, TdxWorld};

/// `test-vectors/tdx/README.md`, generated with the vectors.
pub const README: &str = "\
# Generated TDX test vectors

Everything here is **generated** by `cogito-testkit` and signed by **FAKE
keys**. Nothing chains to Intel: a verifier that trusts only the real Intel
SGX Root CA must reject every case (the `*-untrusted-root` cases check
exactly that). Do not edit by hand; regenerate:

```
cargo run -p cogito-testkit -- generate-tdx test-vectors/tdx
```

Generation is deterministic (ECDSA P-256 with RFC 6979 nonces, keys derived
from labels): running it twice gives byte-identical files, and
`crates/cogito-testkit/tests/regenerate_tdx.rs` fails when the committed
files differ from what the testkit makes.

## Layout

```
anchors/root.pem        the FAKE root (CN=Intel SGX Root CA, O=cogito testkit)
MANIFEST.toml           one [[case]] per case: files, verify_at, options, expected outcome, key claims
<case>/quote.bin        the quote (the PCK chain leaf -> PCK CA -> root is inside it, NUL-terminated)
<case>/tcb_info.json                 {\"tcbInfo\":<object>,\"signature\":\"<hex r||s>\"}
<case>/tcb_info_issuer_chain.pem     TCB Signing certificate, root
<case>/qe_identity.json              {\"enclaveIdentity\":<object>,\"signature\":\"<hex r||s>\"}
<case>/qe_identity_issuer_chain.pem  TCB Signing certificate, root
<case>/pck_crl.der                   CRL by the PCK Platform (or Processor) CA
<case>/pck_crl_issuer_chain.pem      that CA, root
<case>/root_ca_crl.der               CRL by the root
```

Signature-only cases have `quote.bin` alone, like the real signature-only
vectors. The signatures in the JSON files cover the exact bytes of the
object as it appears in the file: verify over the raw text, never over a
re-serialisation.

## The FAKE hierarchy

| certificate | subject CN | issued by | notes |
|---|---|---|---|
| root | Intel SGX Root CA | itself | CA, pathLen 1, 2024-01-01 .. 2049-12-31 |
| PCK Platform CA | Intel SGX PCK Platform CA | root | CA, pathLen 0 |
| PCK Processor CA | Intel SGX PCK Processor CA | root | CA, pathLen 0 |
| TCB Signing | Intel SGX TCB Signing | root | signs TCB Info and QE Identity |
| PCK | Intel SGX PCK Certificate | a PCK CA | SGX extensions 1.2.840.113741.1.13.1 |

Every subject also says `O=cogito testkit, OU=FAKE test hierarchy - not
Intel`. Keys are P-256, signatures ECDSA with SHA-256, extensions and CRL
fields in Intel's order and shape.

## The FAKE platform

FMSPC `30806F000000`, PCE-ID `0000`, PCK TCB comp01..16 `03 03 02 02 04 01
00 05 00..`, PCESVN 11; TEE_TCB_SVN `06 01 03 00..` (TDX module 1.x, SVN 6:
module identity `TDX_01`); QE ISVPRODID 2, ISVSVN 8. The standard TCB Info
puts this platform at tcbLevels[0] (UpToDate); the manifest states the rule
by which every case's TCB status was derived.
";
