//! A small deterministic CBOR encoder (RFC 8949) for CCA tokens.
//!
//! Every head uses the shortest form (RFC 8949 §4.2.1 "preferred
//! serialization"), lengths are definite, and maps keep the order their
//! entries were given in (the real CCA tokens are not key-sorted, and a
//! strict decoder must not require it). Nothing is checked: a map may be
//! given the same key twice and [`Cbor::Raw`] inserts pre-encoded bytes,
//! which is how the malformed cases are made.

/// A CBOR data item to encode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cbor {
    /// Major type 0.
    Uint(u64),
    /// Major type 1: the integer `-1 - n`.
    Nint(u64),
    /// Major type 2.
    Bytes(Vec<u8>),
    /// Major type 3.
    Text(String),
    /// Major type 4.
    Array(Vec<Cbor>),
    /// Major type 5, entries in this order.
    Map(Vec<(Cbor, Cbor)>),
    /// Major type 6.
    Tag(u64, Box<Cbor>),
    /// Bytes written as they are (already encoded, possibly malformed).
    Raw(Vec<u8>),
}

impl Cbor {
    /// An integer of either sign.
    pub fn int(i: i64) -> Cbor {
        if i >= 0 {
            Cbor::Uint(i as u64)
        } else {
            Cbor::Nint(!(i as u64))
        }
    }

    /// A text string.
    pub fn text(s: &str) -> Cbor {
        Cbor::Text(s.to_string())
    }

    /// A byte string.
    pub fn bytes(b: &[u8]) -> Cbor {
        Cbor::Bytes(b.to_vec())
    }

    /// A tagged item.
    pub fn tag(tag: u64, item: Cbor) -> Cbor {
        Cbor::Tag(tag, Box::new(item))
    }

    /// The encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Appends the encoding to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Uint(n) => head(out, 0, *n),
            Cbor::Nint(n) => head(out, 1, *n),
            Cbor::Bytes(b) => {
                head(out, 2, b.len() as u64);
                out.extend_from_slice(b);
            }
            Cbor::Text(t) => {
                head(out, 3, t.len() as u64);
                out.extend_from_slice(t.as_bytes());
            }
            Cbor::Array(items) => {
                head(out, 4, items.len() as u64);
                for i in items {
                    i.encode_into(out);
                }
            }
            Cbor::Map(entries) => {
                head(out, 5, entries.len() as u64);
                for (k, v) in entries {
                    k.encode_into(out);
                    v.encode_into(out);
                }
            }
            Cbor::Tag(t, item) => {
                head(out, 6, *t);
                item.encode_into(out);
            }
            Cbor::Raw(b) => out.extend_from_slice(b),
        }
    }
}

/// Appends a head (major type, argument) in its shortest form.
pub fn head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    match arg {
        0..=23 => out.push(m | arg as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(arg as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend_from_slice(&(arg as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&arg.to_be_bytes());
        }
    }
}

/// A map with integer keys, in the given order.
pub fn int_map(entries: Vec<(i64, Cbor)>) -> Cbor {
    Cbor::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Cbor::int(k), v))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// RFC 8949 Appendix A examples.
    #[test]
    fn rfc8949_appendix_a() {
        for (item, want) in [
            (Cbor::int(0), "00"),
            (Cbor::int(23), "17"),
            (Cbor::int(24), "1818"),
            (Cbor::int(100), "1864"),
            (Cbor::int(1000), "1903e8"),
            (Cbor::int(1_000_000), "1a000f4240"),
            (Cbor::int(1_000_000_000_000), "1b000000e8d4a51000"),
            (Cbor::Uint(u64::MAX), "1bffffffffffffffff"),
            (Cbor::Nint(u64::MAX), "3bffffffffffffffff"),
            (Cbor::int(-1), "20"),
            (Cbor::int(-10), "29"),
            (Cbor::int(-100), "3863"),
            (Cbor::int(-1000), "3903e7"),
            (Cbor::int(i64::MIN), "3b7fffffffffffffff"),
            (Cbor::bytes(&[]), "40"),
            (Cbor::bytes(&[1, 2, 3, 4]), "4401020304"),
            (Cbor::text(""), "60"),
            (Cbor::text("IETF"), "6449455446"),
            (Cbor::text("\u{00fc}"), "62c3bc"),
            (Cbor::Array(vec![]), "80"),
            (
                Cbor::Array(vec![
                    Cbor::int(1),
                    Cbor::Array(vec![Cbor::int(2), Cbor::int(3)]),
                ]),
                "8201820203",
            ),
            (
                Cbor::Array((1..=25).map(Cbor::int).collect()),
                "98190102030405060708090a0b0c0d0e0f101112131415161718181819",
            ),
            (Cbor::Map(vec![]), "a0"),
            (
                int_map(vec![(1, Cbor::int(2)), (3, Cbor::int(4))]),
                "a201020304",
            ),
            (Cbor::tag(1, Cbor::int(1_363_896_240)), "c11a514b67b0"),
            (Cbor::tag(18, Cbor::Array(vec![])), "d280"),
            (Cbor::tag(399, Cbor::Map(vec![])), "d9018fa0"),
            (Cbor::tag(907, Cbor::Map(vec![])), "d9038ba0"),
        ] {
            assert_eq!(hex(&item.encode()), want, "{item:?}");
        }
    }

    #[test]
    fn claim_keys_use_the_shortest_heads() {
        assert_eq!(hex(&Cbor::int(265).encode()), "190109");
        assert_eq!(hex(&Cbor::int(44237).encode()), "19accd");
        assert_eq!(hex(&Cbor::int(-35).encode()), "3822");
        assert_eq!(hex(&Cbor::bytes(&[0; 24]).encode()[..2]), "5818");
        assert_eq!(hex(&Cbor::bytes(&[0; 256]).encode()[..3]), "590100");
    }

    #[test]
    fn raw_and_duplicates_are_written_as_given() {
        let m = Cbor::Map(vec![
            (Cbor::int(10), Cbor::Raw(vec![0x1a, 0, 0, 0x30, 0])),
            (Cbor::int(10), Cbor::int(0)),
        ]);
        assert_eq!(hex(&m.encode()), "a20a1a000030000a00");
    }
}
