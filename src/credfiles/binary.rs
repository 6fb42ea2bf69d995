//! Stores that are a key as a whole. A PKCS#12 file and DBeaver's encrypted credential
//! store are binary, so no text rule could ever see them: the sources ask
//! [`binary_store`] before they skip a blob as binary, and the file is reported by path
//! and format, its secret shown as a digest, never as its bytes. An unencrypted PEM or
//! OpenSSH private key in a key file is text, reported as a whole by [`pem_private_key`].

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::{catalogue::Store, literal, recognise, CredHit, Selection};

/// A whole-file store found in a blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryStore {
    pub check: usize,
    /// What the file is, for the finding's snippet.
    pub format: &'static str,
    /// SHA-256 of the file, hex: the finding's secret and identity.
    pub digest: String,
}

/// The whole-file store at `path`, if its bytes are in that store's format.
pub fn binary_store(path: &str, data: &[u8], selection: &Selection) -> Option<BinaryStore> {
    let store = recognise(path)?;
    let format = match store {
        Store::Pkcs12 if is_pkcs12(data) => "PKCS#12 key store",
        // An IV and at least one AES block.
        Store::DbeaverCredentials if data.len() >= 32 && data.len() % 16 == 0 && !is_json(data) => {
            "DBeaver encrypted credentials"
        }
        _ => return None,
    };
    if !selection.is_enabled(store.check()) {
        return None;
    }
    let digest = Sha256::digest(data);
    Some(BinaryStore {
        check: store.check(),
        format,
        digest: digest.iter().map(|b| format!("{b:02x}")).collect(),
    })
}

fn is_json(data: &[u8]) -> bool {
    data.trim_ascii_start().first() == Some(&b'{')
}

/// RFC 7292: `PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, ... }`,
/// the content info being PKCS#7 `data` or `signedData`. DER, or BER with indefinite
/// lengths as some older tools write.
fn is_pkcs12(data: &[u8]) -> bool {
    const PKCS7: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07];
    let Some(rest) = data.strip_prefix(&[0x30]).and_then(skip_length) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(&[0x02, 0x01, 0x03]) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(&[0x30]).and_then(skip_length) else {
        return false;
    };
    rest.starts_with(PKCS7) && matches!(rest.get(PKCS7.len()), Some(0x01 | 0x02))
}

/// The bytes after a BER length.
fn skip_length(data: &[u8]) -> Option<&[u8]> {
    let first = *data.first()?;
    match first {
        0x00..=0x80 => Some(&data[1..]),
        0x81..=0x84 => data.get(1 + usize::from(first - 0x80)..),
        _ => None,
    }
}

/// Each unencrypted private key block of a key file, whole. A comment before it
/// ("dummy", "example") changes nothing: the key is what it is.
pub(super) fn pem_private_key(check: usize, data: &[u8]) -> Vec<CredHit> {
    let mut hits = Vec::new();
    let mut from = 0;
    while let Some(at) = memchr::memmem::find(&data[from..], b"-----BEGIN ").map(|i| from + i) {
        from = at + 11;
        let Some(block) = unencrypted_block(&data[at..]) else {
            continue;
        };
        hits.extend(literal(check, data, at..at + block));
        from = at + block;
    }
    hits
}

/// The length of the unencrypted private key block `text` starts with.
fn unencrypted_block(text: &[u8]) -> Option<usize> {
    let label_end = memchr::memmem::find(&text[11..], b"-----")?;
    let label = &text[11..11 + label_end];
    if !label.ends_with(b"PRIVATE KEY") || label.starts_with(b"ENCRYPTED") || label.contains(&b'\n')
    {
        return None;
    }
    let mut end_marker = b"-----END ".to_vec();
    end_marker.extend_from_slice(label);
    end_marker.extend_from_slice(b"-----");
    // Keys are a few KiB: a BEGIN without its END costs a bounded look, however many.
    const LONGEST_KEY: usize = 64 << 10;
    let end = memchr::memmem::find(&text[..text.len().min(LONGEST_KEY)], &end_marker)?;
    let body = &text[(11 + label_end + 5).min(end)..end];
    if memchr::memmem::find(body, b"Proc-Type: 4,ENCRYPTED").is_some() {
        return None;
    }
    if label == b"OPENSSH PRIVATE KEY" && !openssh_unencrypted(body) {
        return None;
    }
    Some(end + end_marker.len())
}

/// An OpenSSH key's cipher name is `none` when it is not encrypted.
fn openssh_unencrypted(body: &[u8]) -> bool {
    let compact: Vec<u8> = body
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    // The magic and the cipher name fit in the first 64 characters.
    let head = &compact[..compact.len().min(64) / 4 * 4];
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(head) else {
        return false;
    };
    let Some(rest) = raw.strip_prefix(b"openssh-key-v1\0") else {
        return false;
    };
    rest.starts_with(&[0, 0, 0, 4]) && rest[4..].starts_with(b"none")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs12_structure_is_checked() {
        let pfx = [
            0x30, 0x82, 0x09, 0x99, 0x02, 0x01, 0x03, 0x30, 0x82, 0x09, 0x5f, 0x06, 0x09, 0x2a,
            0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0,
        ];
        assert!(is_pkcs12(&pfx));
        assert!(!is_pkcs12(&pfx[..10]));
        assert!(!is_pkcs12(b"\x30\x82\x01\x00\x02\x01\x01"));
        assert!(!is_pkcs12(b""));
        let all = Selection::default();
        assert!(binary_store("certs/client.p12", &pfx, &all).is_some());
        assert!(binary_store("certs/client.der", &pfx, &all).is_none());
        assert!(binary_store("certs/client.pfx", b"not a pfx", &all).is_none());
    }

    #[test]
    fn encrypted_pem_keys_are_left_out() {
        let rsa = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert!(pem_private_key(0, rsa).is_empty());
        let p8 =
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(pem_private_key(0, p8).is_empty());
        let plain = b"\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(pem_private_key(0, plain).len(), 1);
        assert!(pem_private_key(0, b"-----BEGIN PRIVATE KEY-----").is_empty());
        assert!(pem_private_key(0, b"-----BEGIN ").is_empty());
        let commented = b"# dummy example key, do not use\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(pem_private_key(0, commented).len(), 1);
    }
}
