#!/usr/bin/env python3
"""Writes seed corpora for the fuzz targets into fuzz/corpus/<target>/ from
the real vectors in ../shared/vectors (or $COGITO_VECTORS): SEV-SNP reports,
HCL reports and certificate tables from snp/, TDX quotes, CCEL tables and
event logs from tdx/, CCA tokens from cca/ (and the generated FAKE-key CCA
tokens of test-vectors/cca in this repository); and for the service's
targets (v1_bodies, kbs_bodies, snp_sev_json, jwk, token, server_config)
the JSON bodies the tests and docs send, built around those vectors where
they exist and made here where they do not: keys on each curve, tokens
signed by the fixed key of fuzz_targets/common/token_key.rs (pure-Python
ECDSA, so no package is needed), the configuration example in contrib/.

The corpus directory is git-ignored: vector files must never be committed
into this repository. Run from anywhere: `python3 fuzz/seed_corpus.py`.
"""
import base64
import hashlib
import json
import os
import random
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VECTORS = Path(os.environ.get("COGITO_VECTORS", HERE / ".." / ".." / "shared" / "vectors"))
CORPUS = HERE / "corpus"

# GHCB spec 4.1.8.1 GUIDs, RFC 4122 byte order (as cogito_snp::cert_table).
GUID = {
    "ark": bytes.fromhex("c0b406a4a80349529743" "3fb6014cd0ae"),
    "ask": bytes.fromhex("4ab7b379bbac4fe4a02f05aef327c782"),
    "vcek": bytes.fromhex("63da758de6644564adc5f4b93be8accd"),
    "vlek": bytes.fromhex("a8074bc2a25a483eaae639c045a0b8a1"),
}


def pem_certs(text: bytes):
    out, cur = [], None
    for line in text.decode("ascii", "replace").splitlines():
        if line.startswith("-----BEGIN CERTIFICATE"):
            cur = []
        elif line.startswith("-----END CERTIFICATE") and cur is not None:
            out.append(base64.b64decode("".join(cur)))
            cur = None
        elif cur is not None:
            cur.append(line.strip())
    return out


def cert_table(entries):
    header = (len(entries) + 1) * 24
    table, data = bytearray(), bytearray()
    for guid, blob in entries:
        table += guid + struct.pack("<II", header + len(data), len(blob))
        data += blob
    return bytes(table + bytes(24) + data)


def put(target: str, blob: bytes):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(blob).hexdigest()).write_bytes(blob)


def seed_tdx(tdx: Path):
    """TDX quotes for tdx_quote, tdx_verify and evidence_detect (also
    without their zero padding, and v4 quotes re-wrapped as v5 TD 1.0 so the
    fuzzer starts from the v5 descriptor path); CCEL tables and event logs
    for tdx_eventlog."""
    for case in sorted(tdx.iterdir()):
        quote = case / "quote.bin"
        if quote.exists():
            q = quote.read_bytes()
            seeds = [q]
            sig_len = struct.unpack_from("<I", q, 632)[0] if q[:2] == b"\x04\x00" else None
            if sig_len is not None:
                end = 632 + 4 + sig_len
                seeds.append(q[:end])  # no zero padding
                # Same fields as v5 with a TD 1.0 descriptor (signature then fails).
                seeds.append(b"\x05\x00" + q[2:48] + struct.pack("<HI", 2, 584) + q[48:end])
            for t in ("tdx_quote", "tdx_verify", "evidence_detect"):
                for s in seeds:
                    put(t, s)
        for name in ("ccel/event_log.bin", "ccel/acpi_table.bin"):
            f = case / name
            if f.exists():
                b = f.read_bytes()
                put("tdx_eventlog", b)
                if name.endswith("event_log.bin"):
                    # Logs are delivered in fixed-size areas: also the used
                    # part only (up to the first run of 0xff/0x00 filler).
                    used = len(b.rstrip(b"\xff").rstrip(b"\x00"))
                    if 0 < used < len(b):
                        put("tdx_eventlog", b[:used])


def seed_cca(cca: Path):
    """CCA tokens for cca_token: every real token.cbor as is, the same
    COSE_Sign1s re-wrapped in the other envelope (tag 399 <-> tag 907, which
    keeps the signatures valid), and the generated cases' tokens."""
    tokens = [p / "token.cbor" for p in sorted(cca.iterdir()) if (p / "token.cbor").exists()]
    generated = HERE / ".." / "test-vectors" / "cca"
    if generated.is_dir():
        tokens += [p / "token.cbor" for p in sorted(generated.iterdir()) if (p / "token.cbor").exists()]
    for token in tokens:
        b = token.read_bytes()
        put("cca_token", b)
        other = rewrap(b)
        if other is not None:
            put("cca_token", other)


def cbor_head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    for ai, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * width):
            return bytes([major << 5 | ai]) + arg.to_bytes(width, "big")
    raise ValueError(arg)


def cbor_item_len(b: bytes, i: int) -> int:
    """Length of the definite-length item at b[i] (enough for tokens)."""
    major, ai = b[i] >> 5, b[i] & 0x1F
    if ai < 24:
        arg, n = ai, 1
    else:
        w = {24: 1, 25: 2, 26: 4, 27: 8}[ai]
        arg, n = int.from_bytes(b[i + 1 : i + 1 + w], "big"), 1 + w
    if major in (0, 1, 7):
        return n
    if major in (2, 3):
        return n + arg
    if major == 6:
        return n + cbor_item_len(b, i + n)
    count = arg * (2 if major == 5 else 1)
    j = i + n
    for _ in range(count):
        j += cbor_item_len(b, j)
    return j - i


def rewrap(b: bytes):
    """The token with its two COSE_Sign1 bstrs in the other envelope, or
    None when it is not a well-formed tag 399 / 907 collection."""
    try:
        if b[:3] == b"\xd9\x01\x8f":
            tag907 = False
        elif b[:3] == b"\xd9\x03\x8b":
            tag907 = True
        else:
            return None
        i = 3
        if b[i] != 0xA2:
            return None
        i += 1
        out = b"\xd9\x03\x8b\xa2" if not tag907 else b"\xd9\x01\x8f\xa2"
        for _ in range(2):
            klen = cbor_item_len(b, i)
            out += b[i : i + klen]
            i += klen
            if tag907:
                if b[i] != 0x82:
                    return None
                i += 1
                i += cbor_item_len(b, i)  # content-format
            vlen = cbor_item_len(b, i)
            value = b[i : i + vlen]
            i += vlen
            out += value if tag907 else b"\x82" + cbor_head(0, 263) + value
        return out if i == len(b) else None
    except (IndexError, KeyError, ValueError):
        return None


# --- The service's targets -------------------------------------------------
#
# Elliptic curves in pure Python (short Weierstrass, a = -3), enough to make
# public keys on each JOSE curve and ES256 signatures with the fixed token
# key; none of this is secret or meant to be fast.

CURVES = {
    "P-256": (
        2**256 - 2**224 + 2**192 + 2**96 - 1,
        0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
        (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
         0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5),
        0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        32,
    ),
    "P-384": (
        2**384 - 2**128 - 2**96 + 2**32 - 1,
        0xB3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875AC656398D8A2ED19D2A85C8EDD3EC2AEF,
        (0xAA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A385502F25DBF55296C3A545E3872760AB7,
         0x3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C00A60B1CE1D7E819D7A431D7C90EA0E5F),
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
        48,
    ),
    "P-521": (
        2**521 - 1,
        0x0051953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF109E156193951EC7E937B1652C0BD3BB1BF073573DF883D2C34F1EF451FD46B503F00,
        (0x00C6858E06B70404E9CD9E3ECB662395B4429C648139053FB521F828AF606B4D3DBAA14B5E77EFE75928FE1DC127A2FFA8DE3348B3C1856A429BF97E7E31C2E5BD66,
         0x011839296A789A3BC0045C8A5FB42C7D1BD998F54449579B446817AFBD17273E662C97EE72995EF42640C550B9013FAD0761353C7086A272C24088BE94769FD16650),
        0x01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409,
        66,
    ),
}


def ec_add(curve, P, Q):
    p = CURVES[curve][0]
    if P is None:
        return Q
    if Q is None:
        return P
    if P[0] == Q[0] and (P[1] + Q[1]) % p == 0:
        return None
    if P == Q:
        lam = (3 * P[0] * P[0] - 3) * pow(2 * P[1], -1, p) % p
    else:
        lam = (Q[1] - P[1]) * pow(Q[0] - P[0], -1, p) % p
    x = (lam * lam - P[0] - Q[0]) % p
    return (x, (lam * (P[0] - x) - P[1]) % p)


def ec_mul(curve, k, P=None):
    R, P = None, P or CURVES[curve][2]
    while k:
        if k & 1:
            R = ec_add(curve, R, P)
        P = ec_add(curve, P, P)
        k >>= 1
    return R


def b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def ec_jwk(curve: str, d: int, alg=None) -> dict:
    x, y = ec_mul(curve, d)
    n = CURVES[curve][4]
    jwk = {"kty": "EC", "crv": curve, "x": b64url(x.to_bytes(n, "big")), "y": b64url(y.to_bytes(n, "big"))}
    if alg:
        jwk["alg"] = alg
    return jwk


def uncompressed(curve: str, d: int) -> bytes:
    x, y = ec_mul(curve, d)
    n = CURVES[curve][4]
    return b"\x04" + x.to_bytes(n, "big") + y.to_bytes(n, "big")


def rsa_modulus(bits: int, rng) -> int:
    """An odd number of exactly `bits` bits, from a seeded generator so the
    seeds are the same on every run: the service only encrypts to the key
    (public operations), and AWS-LC does not ask a public modulus to be a
    product of two primes, which pure Python takes seconds to find."""
    return rng.getrandbits(bits) | (1 << (bits - 1)) | 1


def rsa_jwk(bits: int, rng, alg=None) -> dict:
    n = rsa_modulus(bits, rng)
    jwk = {"kty": "RSA", "n": b64url(n.to_bytes(bits // 8, "big")), "e": "AQAB"}
    if alg:
        jwk["alg"] = alg
    return jwk


# The fixed token key of fuzz_targets/common/token_key.rs.
P256_N = CURVES["P-256"][3]
TOKEN_D = int.from_bytes(hashlib.sha256(b"cogito fuzz token key (public, test only)").digest(), "big") % P256_N
TOKEN_POINT = uncompressed("P-256", TOKEN_D)
TOKEN_KID = hashlib.sha256(TOKEN_POINT).hexdigest()[:16]
NOW = 1_800_000_000  # token_key::NOW
GUEST_X25519 = bytes([7] * 32)  # the token target's GUEST


def es256(message: bytes) -> bytes:
    z = int.from_bytes(hashlib.sha256(message).digest(), "big")
    # A deterministic nonce (not RFC 6979, but never reused across messages).
    k = int.from_bytes(hashlib.sha512(TOKEN_D.to_bytes(32, "big") + message).digest(), "big") % P256_N
    r = ec_mul("P-256", k)[0] % P256_N
    s = pow(k, -1, P256_N) * (z + r * TOKEN_D) % P256_N
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def jws(header: dict, claims: dict) -> str:
    signed = b64url(json.dumps(header, separators=(",", ":")).encode()) + "." + b64url(
        json.dumps(claims, separators=(",", ":")).encode()
    )
    return signed + "." + b64url(es256(signed.encode()))


def ear_claims(statuses, guest=(0x0020, GUEST_X25519), exp=NOW + 600):
    """An EAR as token.rs issues it (docs/protocol.md's example)."""
    akpub = b64url(guest[0].to_bytes(2, "big") + guest[1])
    submods = {}
    for policy, status in statuses:
        submods[f"cogito:{policy}"] = {
            "ear_status": status,
            "ear_trustworthiness_vector": {"instance-identity": 2, "configuration": 2, "executables": 3, "hardware": 2, "runtime-opaque": 2},
            "ear_appraisal_policy_ids": [f"policy:{policy}#sha256:" + hashlib.sha256(policy.encode()).hexdigest()],
            "ear_attester_claims": {"cogito.claims": {"debug": False, "tee": "snp", "report_data": "00" * 64, "tcb_status": "Committed"}},
            "ear_veraison_key_attestation": {"akpub": akpub},
        }
    worst = "affirming" if all(s == "affirming" for _, s in statuses) else "warning"
    return {
        "eat_profile": "tag:github.com,2023:veraison/ear",
        "iat": NOW - 60,
        "exp": exp,
        "ear_verifier_id": {"developer": "cogito", "build": "cogito 0.1.0"},
        "submods": submods,
        "ear_status": worst,
    }


def put_json(target: str, value):
    put(target, json.dumps(value, separators=(",", ":")).encode())


def sev_report_json(r: bytes):
    """The sev crate's (8.x) serde form of an attestation report, as its
    Decoder reads the bytes: the generation decides the TCB layout (None
    when the crate cannot decode the report)."""
    u32 = lambda o: struct.unpack_from("<I", r, o)[0]
    u64 = lambda o: struct.unpack_from("<Q", r, o)[0]
    arr = lambda o, n: list(r[o : o + n])
    version = u32(0)
    chip = r[0x1A0:0x1E0]
    if version in (0, 1):
        return None
    if version == 2:
        if chip == bytes(64):
            return None
        legacy = chip[8:] != bytes(56)
    else:
        fam, mod = r[0x188], r[0x189]
        if fam == 0x19 and (mod <= 0x1F or 0xA0 <= mod <= 0xAF):
            legacy = True
        elif fam == 0x1A and (mod <= 0x11 or 0x50 <= mod <= 0x57 or 0x90 <= mod <= 0xAF or 0xC0 <= mod <= 0xC7):
            legacy = False
        else:
            return None

    def tcb(o):
        b = r[o : o + 8]
        if legacy:
            return {"fmc": None, "bootloader": b[0], "tee": b[1], "snp": b[6], "microcode": b[7]}
        return {"fmc": b[0], "bootloader": b[1], "tee": b[2], "snp": b[3], "microcode": b[7]}

    def ver(o):
        return {"major": r[o + 2], "minor": r[o + 1], "build": r[o]}

    v2, v5 = version == 2, version not in (2, 3, 4)
    return {
        "version": version,
        "guest_svn": u32(4),
        "policy": u64(8),
        "family_id": arr(0x10, 16),
        "image_id": arr(0x20, 16),
        "vmpl": u32(0x30),
        "sig_algo": u32(0x34),
        "current_tcb": tcb(0x38),
        "plat_info": u64(0x40),
        "key_info": u32(0x48),
        "report_data": arr(0x50, 64),
        "measurement": arr(0x90, 48),
        "host_data": arr(0xC0, 32),
        "id_key_digest": arr(0xE0, 48),
        "author_key_digest": arr(0x110, 48),
        "report_id": arr(0x140, 32),
        "report_id_ma": arr(0x160, 32),
        "reported_tcb": tcb(0x180),
        "cpuid_fam_id": None if v2 else r[0x188],
        "cpuid_mod_id": None if v2 else r[0x189],
        "cpuid_step": None if v2 else r[0x18A],
        "chip_id": arr(0x1A0, 64),
        "committed_tcb": tcb(0x1E0),
        "current": ver(0x1E8),
        "committed": ver(0x1EC),
        "launch_tcb": tcb(0x1F0),
        "launch_mit_vector": u64(0x1F8) if v5 else None,
        "current_mit_vector": u64(0x200) if v5 else None,
        "signature": {"r": arr(0x2A0, 72), "s": arr(0x2E8, 72)},
    }


def snp_cert_chain(case: Path):
    """cert_chain entries as a KBS SNP attester sends them (sev's
    CertTableEntry: cert_type and data as an array of bytes)."""
    entries = []
    for kind in ("vcek", "vlek"):
        f = case / f"{kind}.der"
        if f.exists():
            entries.append({"cert_type": kind.upper(), "data": list(f.read_bytes())})
    chain = case / "cert_chain.pem"
    if chain.exists():
        certs = pem_certs(chain.read_bytes())
        for kind, der in zip(("ASK", "ARK"), certs):
            entries.append({"cert_type": kind, "data": list(der)})
    return entries


def seed_service(vectors: Path):
    rng = random.Random(13)  # issue 13; fixed so every run writes the same seeds
    x25519 = bytes(range(32))
    p256 = uncompressed("P-256", 0xC0FFEE)

    # Evidence from the vectors (small made-up bytes where they are absent).
    snp_reports = sorted((vectors / "snp").glob("*/report.bin")) if (vectors / "snp").is_dir() else []
    quotes = sorted((vectors / "tdx").glob("*/quote.bin")) if (vectors / "tdx").is_dir() else []
    tokens = sorted((vectors / "cca").glob("*/token.cbor")) if (vectors / "cca").is_dir() else []
    report = snp_reports[0].read_bytes() if snp_reports else bytes(1184)
    quote = quotes[0].read_bytes() if quotes else b"\x04\x00\x02\x00" + bytes(60)
    token = tokens[0].read_bytes() if tokens else b"\xd9\x01\x8f\xa2"

    # v1_bodies: wire_shape.rs, docs/protocol.md.
    nonce = b64(bytes([1, 1]) + bytes(38))
    for tee in ("snp", "tdx", "cca"):
        put_json("v1_bodies", {"tee": tee})
    put("v1_bodies", b'{"tee":"snp","x":1}')
    for kem, key in (("x25519", x25519), ("p256", p256), ("x25519", bytes(32))):
        for evidence, collateral in (
            (report, {"cert_table": b64(b"\x00" * 24)}),
            (quote, {"event_log": b64(b"\x01\x02")}),
            (token, None),
        ):
            body = {"nonce": nonce, "evidence": b64(evidence), "public_key": {"kem": kem, "key": b64(key)}}
            if collateral:
                body["collateral"] = collateral
            body["secrets"] = ["disk-key"]
            put_json("v1_bodies", body)
    put("v1_bodies", b'{"nonce":"AQI=","evidence":"AwQ=","public_key":{"kem":"x25519","key":"BQY="},"secrets":["disk-key"]}')
    put("v1_bodies", b'{"nonce":"AQI=","evidence":"AwQ=","public_key":{"kem":"p256","key":"BQY="},"collateral":{"cert_table":"Bwg="},"secrets":["disk-key"]}')
    put_json("v1_bodies", {"nonce": "AQEAAAAAaVW5e", "evidence": "AgAAAAAAAAAfAAMAAAAAAAEA", "public_key": {"kem": "x25519", "key": "3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}, "secrets": []})
    put_json("v1_bodies", {"nonce": "AQI=", "expires_at": "2026-01-01T00:02:00Z"})
    put_json("v1_bodies", {"token": "a.b.c", "token_expires_at": "2026-01-01T00:10:00Z", "secrets": [{"name": "disk-key", "enc": "AQ==", "ciphertext": "Ag=="}]})
    put_json("v1_bodies", {"type": "urn:cogito:problem:policy.refused", "title": "refused by policy", "status": 422, "detail": "d", "code": "policy.refused", "secret": "disk-key", "policy": "fleet", "rules": [{"rule": "snp.measurements", "actual": "ab", "expected": "cd"}]})

    # jwk: tee-pubkeys as kbs_e2e.rs sends them (josekit's JWKs with alg),
    # on every curve, RSA of 2048 and 4096 bits; the service's JWKS.
    ec_keys = [ec_jwk(c, 0x1234567 + i, alg) for i, c in enumerate(CURVES) for alg in (None, "ECDH-ES+A256KW")]
    rsa_keys = [rsa_jwk(2048, rng, "RSA-OAEP-256"), rsa_jwk(4096, rng), rsa_jwk(8192, rng)]
    for k in ec_keys + rsa_keys:
        put_json("jwk", k)
    put_json("jwk", {"kty": "RSA", "n": b64url(b"\xc5" * 64), "e": "AQAB"})
    put_json("jwk", rsa_jwk(8200, rng))
    put_json("jwk", {"kty": "oct", "k": "AA"})
    jwks = {"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": TOKEN_KID,
                      "x": b64url(TOKEN_POINT[1:33]), "y": b64url(TOKEN_POINT[33:])}]}
    put_json("jwk", jwks)
    put_json("jwk", {"keys": [ec_jwk("P-256", 5) | {"kid": "other"}] + jwks["keys"]})
    put_json("jwk", jwks["keys"][0])

    # token: tokens signed by the fixed key, as token.rs issues them.
    header = {"typ": "JWT", "alg": "ES256", "kid": TOKEN_KID}
    for statuses in ([("fleet", "affirming")], [("fleet", "affirming"), ("web-prod", "warning")], [("fleet", "contraindicated")]):
        put("token", jws(header, ear_claims(statuses)).encode())
    put("token", jws(header, ear_claims([("fleet", "affirming")], guest=(0x0010, p256))).encode())
    put("token", jws(header, ear_claims([("fleet", "affirming")], exp=NOW - 1)).encode())
    put("token", jws({"alg": "none", "kid": TOKEN_KID}, ear_claims([("fleet", "affirming")])).encode())
    put("token", jws({"typ": "JWT", "alg": "ES256", "kid": "3f1c0e8a9b7d2c41"}, ear_claims([("fleet", "affirming")])).encode())

    # kbs_bodies: kbs_e2e.rs and docs/kbs-compat.md.
    for tee in ("snp", "tdx", "cca", "sgx", "az-snp-vtpm"):
        put_json("kbs_bodies", {"version": "0.4.0", "tee": tee, "extra-params": {"supported-hash-algorithms": ["sha256", "sha384", "sha512", "sm3"]}})
    put_json("kbs_bodies", {"version": "0.4.0", "tee": "snp", "extra-params": ""})
    put_json("kbs_bodies", {"version": "0.1.1", "tee": "tdx", "extra-params": {"supported-hash-algorithms": ["SHA512", "md5"]}})
    kbs_nonce = b64url(bytes(range(32)))
    sev_json = sev_report_json(report)
    snp_case = snp_reports[0].parent if snp_reports else None
    primaries = [
        {"quote": b64(quote), "cc_eventlog": None},
        {"quote": b64url(quote), "cc_eventlog": b64(b"\x00" * 8)},
        {"token": list(token)},
        {"token": b64(token)},
    ]
    if sev_json is not None:
        primaries.append({"attestation_report": sev_json, "cert_chain": snp_cert_chain(snp_case) if snp_case else []})
        primaries.append({"attestation_report": sev_json})
    body = 'algorithm = "sha384"\nversion = "0.1.0"\n\n[data]\n"aa.toml" = ""\n'
    for i, primary in enumerate(primaries):
        key = (ec_keys + rsa_keys)[i % len(ec_keys + rsa_keys)]
        if "alg" not in key:
            key = key | {"alg": "ECDH-ES+A256KW" if key["kty"] == "EC" else "RSA-OAEP-256"}
        att = {
            "runtime-data": {"nonce": kbs_nonce, "tee-pubkey": key},
            "tee-evidence": {"primary_evidence": primary, "additional_evidence": ""},
        }
        put_json("kbs_bodies", att)
        put_json("kbs_bodies", primary)
        if i == 0:
            put_json("kbs_bodies", att | {"init-data": {"format": "toml", "body": body}})
            put_json("kbs_bodies", att | {"tee-evidence": {"primary_evidence": primary, "additional_evidence": json.dumps({"tdx": primary})}})

    # snp_sev_json: each real report in the sev crate's JSON, with and
    # without its certificates, and the binary report itself.
    for f in snp_reports:
        r = f.read_bytes()
        put("snp_sev_json", r)
        j = sev_report_json(r)
        if j is not None:
            put_json("snp_sev_json", {"attestation_report": j, "cert_chain": snp_cert_chain(f.parent)})
            put_json("snp_sev_json", j)

    # server_config: the commented example, the same with every key set,
    # and config.rs's test files; environment lines for apply_env.
    example = HERE / ".." / "contrib" / "systemd" / "cogito.toml"
    if example.exists():
        text = example.read_text()
        put("server_config", text.encode())
        keys = [line[2:] for line in text.splitlines() if line.startswith("# ") and " = " in line and not line.startswith("#  ")]
        uncommented = "\n".join(line[2:] if line[2:] in keys else line for line in text.splitlines())
        put("server_config", uncommented.encode())
    put("server_config", b'listen = "127.0.0.1:9000"\nexplain = "full"\n[limits]\nrate_per_second = 5\n')
    put("server_config", b'lisen = "x"\n')
    put("server_config", b'tls_cert = "a"\nstore = "postgres://cogito@db.example/cogito"\n[kbs]\nadmin_keys = ["/etc/k.pem"]\ndefault_policy = "fleet"\n')
    put("server_config", b"COGITO_LISTEN=127.0.0.1:9001\nCOGITO_EXPLAIN=all\nCOGITO_ONLINE=off\nCOGITO_TOKEN_LIFETIME=60\nCOGITO_STORE=sqlite:///tmp/x.db\n")

def main() -> int:
    snp = VECTORS / "snp"
    tdx = VECTORS / "tdx"
    cca = VECTORS / "cca"
    seed_service(VECTORS)
    if not snp.is_dir() and not tdx.is_dir() and not cca.is_dir():
        print(f"only the service's seeds: {snp}, {tdx} and {cca} not found", file=sys.stderr)
        report_counts()
        return 0
    if tdx.is_dir():
        seed_tdx(tdx)
    if cca.is_dir():
        seed_cca(cca)
    for case in sorted(snp.iterdir()) if snp.is_dir() else []:
        report = case / "report.bin"
        if report.exists():
            for t in ("snp_report", "snp_verify", "evidence_detect"):
                put(t, report.read_bytes())
        hcl = case / "hcl_report.bin"
        if hcl.exists():
            put("evidence_detect", hcl.read_bytes())
        leaf_kind = "vcek" if (case / "vcek.der").exists() else "vlek"
        leaf = (case / f"{leaf_kind}.der").read_bytes()
        chain = pem_certs((case / "cert_chain.pem").read_bytes())
        entries = [(GUID[leaf_kind], leaf)]
        if len(chain) == 2:
            entries += [(GUID["ask"], chain[0]), (GUID["ark"], chain[1])]
        table = cert_table(entries)
        put("snp_cert_table", table)
        put("snp_cert_table", table + bytes(4096 - len(table) % 4096))  # page padding
        put("snp_cert_table", cert_table([(GUID[leaf_kind], leaf)]))
    report_counts()
    return 0


def report_counts():
    for t in sorted(p.name for p in CORPUS.iterdir()):
        print(f"{t}: {len(list((CORPUS / t).iterdir()))} seeds")


if __name__ == "__main__":
    sys.exit(main())
