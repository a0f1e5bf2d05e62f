//! Sealing the psychological archive: every field about a student (identity, scores, risk
//! levels, notes) is encrypted with XChaCha20-Poly1305 under a key that is never stored with
//! the data (a key file or an environment variable). A student is found by a keyed hash of
//! their 学号, so the store holds no student number in the clear either.
//!
//! From the one 32-byte key two keys are derived with HKDF-SHA256: one seals, one hashes.
//! Each sealed value carries its own random 24-byte nonce and is bound to its school and
//! kind of record (associated data), so a value cannot be moved to another school or row
//! kind without the seal failing. A fingerprint of the key is kept in the store so that a
//! wrong key is refused before anything is written with it.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

const NONCE_BYTES: usize = 24;

/// The archive's key: 32 random bytes, written as 64 hexadecimal digits.
pub struct Key(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

/// Why a key or a sealed value could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("心理档案密钥格式不对：应为 64 位十六进制数字（用 `nianbao psych keygen` 生成）")]
    BadKey,
    #[error("无法生成随机数：{0}")]
    Random(String),
    #[error("心理档案记录无法解密：密钥不对，或记录已被改动")]
    Open,
    #[error("心理档案记录无法加密")]
    Seal,
}

impl Key {
    /// Reads a key written as 64 hexadecimal digits (surrounding white space ignored).
    pub fn parse(text: &str) -> Result<Key, SealError> {
        let text = Zeroizing::new(text.trim().to_string());
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SealError::BadKey);
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte =
                u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| SealError::BadKey)?;
        }
        Ok(Key(bytes))
    }

    /// A new random key and its text form (to be written to a key file).
    pub fn generate() -> Result<(Key, Zeroizing<String>), SealError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut()).map_err(|e| SealError::Random(e.to_string()))?;
        let mut text = Zeroizing::new(String::with_capacity(64));
        for byte in bytes.iter() {
            text.push_str(&format!("{byte:02x}"));
        }
        Ok((Key(bytes), text))
    }

    fn derive(&self, label: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        let hkdf = Hkdf::<Sha256>::new(Some(b"nianbao psych archive v1"), self.0.as_ref());
        // 32 bytes are always within HKDF-SHA256's output limit.
        if hkdf.expand(label, out.as_mut()).is_err() {
            out.zeroize();
        }
        out
    }
}

/// Seals and opens one school's archive.
pub struct Sealer {
    cipher: XChaCha20Poly1305,
    hash_key: Zeroizing<[u8; 32]>,
    school: String,
}

impl Sealer {
    pub fn new(key: &Key, school: &str) -> Sealer {
        let seal_key = key.derive(b"seal");
        Sealer {
            cipher: XChaCha20Poly1305::new(seal_key.as_ref().into()),
            hash_key: key.derive(b"pseudonym"),
            school: school.to_string(),
        }
    }

    fn aad(&self, kind: &str) -> Vec<u8> {
        format!("nianbao-psych|v1|{}|{kind}", self.school).into_bytes()
    }

    /// `plain` sealed for a record of `kind`: nonce followed by ciphertext and tag.
    pub fn seal(&self, kind: &str, plain: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| SealError::Random(e.to_string()))?;
        let aad = self.aad(kind);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Seal)?;
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plain bytes of a value sealed for `kind`; fails on a wrong key, school or kind,
    /// or any change to the stored bytes.
    pub fn open(&self, kind: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if sealed.len() < NONCE_BYTES + 16 {
            return Err(SealError::Open);
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        let aad = self.aad(kind);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SealError::Open)
    }

    fn mac(&self, parts: &[&[u8]]) -> String {
        // HMAC accepts keys of any length.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(self.hash_key.as_ref()) {
            Ok(mac) => mac,
            Err(_) => return String::new(),
        };
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// The name a student's archive is stored under: a keyed hash of school and 学号.
    pub fn pseudonym(&self, student_no: &str) -> String {
        self.mac(&[
            b"student",
            self.school.as_bytes(),
            student_no.trim().as_bytes(),
        ])
    }

    /// A fingerprint of the key for this school, kept to refuse a different key later.
    pub fn fingerprint(&self) -> String {
        self.mac(&[b"key check", self.school.as_bytes()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_school_and_kind() {
        let (key, text) = Key::generate().unwrap();
        assert_eq!(text.len(), 64);
        let sealer = Sealer::new(&key, "S1");
        let sealed = sealer.seal("screening", "得分 72".as_bytes()).unwrap();
        assert!(!sealed.windows(2).any(|w| w == b"72"));
        assert_eq!(
            &*sealer.open("screening", &sealed).unwrap(),
            "得分 72".as_bytes()
        );
        assert_eq!(sealer.open("followup", &sealed), Err(SealError::Open));
        assert_eq!(
            Sealer::new(&key, "S2").open("screening", &sealed),
            Err(SealError::Open)
        );
        let (other, _) = Key::generate().unwrap();
        assert_eq!(
            Sealer::new(&other, "S1").open("screening", &sealed),
            Err(SealError::Open)
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(sealer.open("screening", &tampered), Err(SealError::Open));
        assert_ne!(
            sealer.seal("screening", b"x").unwrap(),
            sealer.seal("screening", b"x").unwrap(),
            "a fresh nonce every time"
        );
    }

    #[test]
    fn keys_parse_from_hex_and_pseudonyms_are_stable() {
        let text = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let key = Key::parse(&format!("  {text}\n")).unwrap();
        let sealer = Sealer::new(&key, "S1");
        assert_eq!(sealer.pseudonym("2025001"), sealer.pseudonym(" 2025001 "));
        assert_ne!(sealer.pseudonym("2025001"), sealer.pseudonym("2025002"));
        assert_ne!(
            sealer.pseudonym("2025001"),
            Sealer::new(&key, "S2").pseudonym("2025001")
        );
        assert_eq!(sealer.fingerprint().len(), 64);
        assert!(Key::parse("xyz").is_err());
        assert!(Key::parse(&text[..62]).is_err());
    }
}
