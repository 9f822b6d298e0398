//! Challenge nonces: stateless to issue, single-use to accept.
//!
//! ```text
//! nonce = version (1: 0x01) ‖ tee (1) ‖ expires (8, i64 big-endian, Unix s)
//!         ‖ random (32) ‖ HMAC-SHA256(nonce key, the 42 bytes before) (32)
//! ```
//!
//! Any replica holding the nonce key (in the store, wrapped by the KEK)
//! checks the MAC and the expiry without a lookup; the store then records
//! the first 42 bytes as used, in one statement, so a nonce is accepted
//! once across all replicas.

use cogito_protocol::TeeName;

use crate::error::ApiError;
use crate::keys::KeyRing;

/// The length of a nonce.
pub const NONCE_LEN: usize = 74;
const VERSION: u8 = 1;

fn tee_byte(t: TeeName) -> u8 {
    match t {
        TeeName::Snp => 1,
        TeeName::Tdx => 2,
        TeeName::Cca => 3,
    }
}

fn tee_of(b: u8) -> Option<TeeName> {
    match b {
        1 => Some(TeeName::Snp),
        2 => Some(TeeName::Tdx),
        3 => Some(TeeName::Cca),
        _ => None,
    }
}

/// A nonce that passed its MAC check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedNonce {
    /// The platform the challenge was for.
    pub tee: TeeName,
    /// When it expires.
    pub expires: i64,
    /// What the store records as used (the MAC'd part).
    pub id: Vec<u8>,
}

/// Issues a nonce for `tee`, valid until `expires`.
pub fn issue(keys: &KeyRing, tee: TeeName, expires: i64) -> Result<Vec<u8>, ApiError> {
    let random = crate::keys::random::<32>().map_err(|_| ApiError::Internal)?;
    let mut n = Vec::with_capacity(NONCE_LEN);
    n.push(VERSION);
    n.push(tee_byte(tee));
    n.extend_from_slice(&expires.to_be_bytes());
    n.extend_from_slice(&random);
    let mac = keys.nonce_mac(&n).ok_or(ApiError::Internal)?;
    n.extend_from_slice(&mac);
    Ok(n)
}

/// Checks a nonce's form and MAC, then its expiry at `now`. Whether it was
/// used before is the store's to say.
pub fn check(keys: &KeyRing, nonce: &[u8], now: i64) -> Result<CheckedNonce, ApiError> {
    if nonce.len() != NONCE_LEN {
        return Err(ApiError::NonceInvalid);
    }
    let (body, mac) = nonce.split_at(42);
    if !keys.nonce_mac_ok(body, mac) {
        return Err(ApiError::NonceInvalid);
    }
    // The MAC holds, so these bytes are ours.
    let [version, tee, rest @ ..] = body else {
        return Err(ApiError::NonceInvalid);
    };
    let tee = tee_of(*tee)
        .filter(|_| *version == VERSION)
        .ok_or(ApiError::NonceInvalid)?;
    let expires = rest
        .first_chunk::<8>()
        .map(|b| i64::from_be_bytes(*b))
        .ok_or(ApiError::NonceInvalid)?;
    if now >= expires {
        return Err(ApiError::NonceExpired(
            cogito_core::VerificationTime::from_unix(expires).to_string(),
        ));
    }
    Ok(CheckedNonce {
        tee,
        expires,
        id: body.to_vec(),
    })
}
