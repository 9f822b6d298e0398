//! FAKE Arm CCA attestation tokens and the generator of `test-vectors/cca`.
//!
//! - [`cbor`]: a small deterministic CBOR encoder (shortest-form heads,
//!   definite lengths, maps in the order given).
//! - [`cose`]: deterministic CPAK (P-256/P-384) and RAK (P-384) keys, their
//!   JWK / PEM / COSE_Key forms, and COSE_Sign1 (tag 18, protected
//!   `{1: alg}`, `Sig_structure` "Signature1", raw `r ‖ s` signatures).
//! - [`token`]: platform and realm claims and the tag 399 / tag 907
//!   envelopes, with every field settable.
//! - [`vectors`]: the cases of `test-vectors/cca` and their manifest.

pub mod cbor;
pub mod cose;
pub mod token;
pub mod vectors;

#[cfg(test)]
mod tests;

pub use vectors::{generate, CcaCase, CcaVectorSet, CcaWorld};

/// `test-vectors/cca/README.md`, generated with the vectors.
pub const README: &str = "\
# Generated CCA test vectors

Everything here is **generated** by `cogito-testkit` and signed by **FAKE
keys**: no CPAK is Arm's or a platform's, and none is one of the published
test keys that cogito refuses by name, so every case verifies (or not) with
`allow_test_keys = false`. Do not edit by hand; regenerate:

```
cargo run -p cogito-testkit -- generate-cca test-vectors/cca
```

Generation is deterministic (ECDSA with RFC 6979 nonces, keys derived from
labels): running it twice gives byte-identical files, and
`crates/cogito-testkit/tests/regenerate_cca.rs` fails when the committed
files differ from what the testkit makes.
`crates/cogito-cca/tests/testkit_vectors.rs` checks every case's outcome,
code, class and key claims.

## Layout

```
MANIFEST.toml          one [[case]] per case: anchors file, options, expected outcome, key claims
<case>/token.cbor      the CCA attestation token (tag 399 or tag 907)
<case>/cpak.jwk        the CPAK as a public JWK (a bare key: trusted for any token)
<case>/ta_store.json   rust-ccatoken's TA store: [{\"pkey\": JWK, \"implementation-id\", \"instance-id\"}]
<case>/cpak.pem        the CPAK as a PEM PUBLIC KEY (one case)
```

Several cases may share a folder (the same token with other trust anchors
or options).

## The FAKE keys and platform

| key | curve | label | use |
|---|---|---|---|
| CPAK | P-384 | `cca/cpak/p384` | signs ES384 platform tokens |
| CPAK | P-256 | `cca/cpak/p256` | signs ES256 platform tokens |
| other CPAK | P-384 | `cca/other cpak/p384` | another platform's CPAK, and a forger |
| RAK | P-384 | `cca/rak` | the realm's attestation key (claim 44237), signs ES384 realm tokens |
| other RAK | P-384 | `cca/other rak` | another realm's RAK |

Each key is derived by seeding ChaCha20 with SHA-256 of its label; the
private keys are public knowledge by construction. Every JWK carries
`\"kid\": \"cogito testkit FAKE CPAK <curve>\"`.

The platform's instance id (claim 256) is `0x01` (UEID type RAND) followed
by SHA-256 of the CPAK's uncompressed point; its implementation id (2396)
and every measurement are SHA-256 outputs of labels. Claims follow the real
tokens in `shared/vectors/cca`:

- platform (profile `tag:arm.com,2023:cca_platform#1.0.0` or
  `http://arm.com/CCA-SSD/1.0.0`): 265 profile, 10 challenge, 2396
  implementation id, 256 instance id, 2401 config, 2395 lifecycle (0x3000
  secured unless a case says otherwise), 2402 hash algorithm, 2400
  verification service, 2399 software components `{1 type, 5 signer id,
  4 version (SSD profile only), 2 measurement, 6 hash algorithm}`;
- realm: 265 profile (none with the SSD platform profile, as in RMM 1.0
  EAC5 tokens; `tag:arm.com,2024:realm#2.0.0` with the 2023 platform
  profile, plus the RMM 1.1 claims 256 and 44243), 10 challenge (64 bytes),
  44236 and 44240 hash algorithms, 44235 personalization value (64 bytes),
  44237 RAK (raw 97-byte point without a profile, COSE_Key `{1: 2, -1: 2,
  -2: x, -3: y}` with one), 44238 RIM, 44239 four REMs.

The platform challenge is H(the exact bytes of claim 44237) with H from
claim 44240 — the binding of the two tokens. Envelopes: tag 399
`{44234: bstr .cbor COSE_Sign1, 44241: bstr .cbor COSE_Sign1}` and tag 907
`{44234: [263, bstr], 44241: [263, bstr]}`. Each COSE_Sign1 is
`18([h'a1 01 <alg>', {}, payload, r ‖ s])`.
";
