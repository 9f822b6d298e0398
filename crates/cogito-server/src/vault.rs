//! Secrets at rest: envelope encryption. Each secret version has its own
//! random data key (AES-256-GCM); the data key is wrapped by the KEK. The
//! secret's name is bound into both as associated data, so a ciphertext
//! moved to another name does not decrypt.

use zeroize::Zeroizing;

use crate::keys::{random, Kek};

/// Encrypts a secret value: (wrapped data key, ciphertext).
pub fn encrypt(kek: &Kek, name: &str, value: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let dek = Zeroizing::new(random::<32>().ok()?);
    let dek_kek = Kek::from_bytes(&dek).ok()?;
    let ciphertext = dek_kek.wrap(&format!("value/{name}"), value).ok()?;
    let wrapped = kek.wrap(&format!("dek/{name}"), dek.as_ref()).ok()?;
    Some((wrapped, ciphertext))
}

/// Decrypts a secret value.
pub fn decrypt(
    kek: &Kek,
    name: &str,
    wrapped_dek: &[u8],
    ciphertext: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let dek = Zeroizing::new(kek.unwrap(&format!("dek/{name}"), wrapped_dek).ok()?);
    let dek: &[u8; 32] = dek.as_slice().try_into().ok()?;
    let value = Kek::from_bytes(dek)
        .ok()?
        .unwrap(&format!("value/{name}"), ciphertext)
        .ok()?;
    Some(Zeroizing::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_bound_to_name_and_kek() {
        let kek = Kek::from_bytes(&[1; 32]).unwrap();
        let (w, c) = encrypt(&kek, "disk", b"hunter2").unwrap();
        assert_eq!(
            decrypt(&kek, "disk", &w, &c).unwrap().as_slice(),
            b"hunter2"
        );
        assert!(decrypt(&kek, "other", &w, &c).is_none());
        let other = Kek::from_bytes(&[2; 32]).unwrap();
        assert!(decrypt(&other, "disk", &w, &c).is_none());
        // The value is not in the stored bytes.
        assert!(!c.windows(7).any(|x| x == b"hunter2"));
    }
}
