#!/usr/bin/env python3
"""Writes seed corpora for the fuzz targets into fuzz/corpus/<target>/ from
the real vectors in ../shared/vectors (or $COGITO_VECTORS): SEV-SNP reports,
HCL reports and certificate tables from snp/, TDX quotes, CCEL tables and
event logs from tdx/, CCA tokens from cca/ (and the generated FAKE-key CCA
tokens of test-vectors/cca in this repository).

The corpus directory is git-ignored: vector files must never be committed
into this repository. Run from anywhere: `python3 fuzz/seed_corpus.py`.
"""
import base64
import hashlib
import os
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


def main() -> int:
    snp = VECTORS / "snp"
    tdx = VECTORS / "tdx"
    cca = VECTORS / "cca"
    if not snp.is_dir() and not tdx.is_dir() and not cca.is_dir():
        print(f"skipping: {snp}, {tdx} and {cca} not found", file=sys.stderr)
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
    for t in sorted(p.name for p in CORPUS.iterdir()):
        print(f"{t}: {len(list((CORPUS / t).iterdir()))} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
