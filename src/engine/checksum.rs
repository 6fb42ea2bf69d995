//! Structural validators for token formats that carry their own check. A candidate that
//! fails its rule's validator is dropped; one that passes gains a confidence level.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Checksum {
    /// GitHub, npm and Vercel tokens: `prefix_` + base62 body + base62(CRC32(body)) in
    /// the last 6 characters.
    Base62Crc32,
    /// A JSON Web Token whose header and payload decode to JSON objects.
    Jwt,
    /// A Bech32 string (BIP-173) with a valid checksum, e.g. age secret keys.
    Bech32,
}

impl Checksum {
    pub fn name(self) -> &'static str {
        match self {
            Checksum::Base62Crc32 => "base62-crc32",
            Checksum::Jwt => "jwt",
            Checksum::Bech32 => "bech32",
        }
    }

    pub fn verify(self, secret: &[u8]) -> bool {
        match self {
            Checksum::Base62Crc32 => verify_base62_crc32(secret),
            Checksum::Jwt => verify_jwt(secret),
            Checksum::Bech32 => verify_bech32(secret),
        }
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encode a number in base62, left-padded with `0` to `width`.
pub fn base62(mut n: u64, width: usize) -> String {
    let mut digits = Vec::new();
    while n > 0 {
        digits.push(BASE62[(n % 62) as usize]);
        n /= 62;
    }
    while digits.len() < width {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).expect("base62 digits are ASCII")
}

fn verify_base62_crc32(secret: &[u8]) -> bool {
    let Some(underscore) = secret.iter().position(|&b| b == b'_') else {
        return false;
    };
    let rest = &secret[underscore + 1..];
    if rest.len() < 7 || !rest.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (body, check) = rest.split_at(rest.len() - 6);
    base62(u64::from(crc32fast::hash(body)), 6).as_bytes() == check
}

fn verify_jwt(secret: &[u8]) -> bool {
    let mut parts = secret.split(|&b| b == b'.');
    let (Some(header), Some(payload)) = (parts.next(), parts.next()) else {
        return false;
    };
    let decode_object = |part: &[u8]| -> Option<serde_json::Map<String, serde_json::Value>> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.strip_suffix(b"=").unwrap_or(part))
            .ok()?;
        match serde_json::from_slice(&bytes).ok()? {
            serde_json::Value::Object(map) => Some(map),
            _ => None,
        }
    };
    match (decode_object(header), decode_object(payload)) {
        (Some(h), Some(_)) => h.contains_key("alg"),
        _ => false,
    }
}

fn bech32_polymod(values: &[u8]) -> u32 {
    const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let mut chk: u32 = 1;
    for &v in values {
        let top = chk >> 25;
        chk = ((chk & 0x1ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

fn verify_bech32(secret: &[u8]) -> bool {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let lower: Vec<u8> = secret.to_ascii_lowercase();
    let Some(sep) = lower.iter().rposition(|&b| b == b'1') else {
        return false;
    };
    let (hrp, data) = (&lower[..sep], &lower[sep + 1..]);
    if hrp.is_empty() || data.len() < 6 {
        return false;
    }
    let mut values: Vec<u8> = hrp.iter().map(|c| c >> 5).collect();
    values.push(0);
    values.extend(hrp.iter().map(|c| c & 31));
    for c in data {
        match CHARSET.iter().position(|x| x == c) {
            Some(v) => values.push(v as u8),
            None => return false,
        }
    }
    bech32_polymod(&values) == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn github_token(prefix: &str, body: &str) -> String {
        format!(
            "{prefix}{body}{}",
            base62(u64::from(crc32fast::hash(body.as_bytes())), 6)
        )
    }

    #[test]
    fn base62_crc32_accepts_a_valid_token_and_rejects_a_changed_one() {
        let token = github_token("ghp_", "Zq3T9xLm2VbN8cR4kW7yHp1sDf6GjA");
        assert!(Checksum::Base62Crc32.verify(token.as_bytes()), "{token}");
        let mut broken = token.into_bytes();
        broken[6] = if broken[6] == b'a' { b'b' } else { b'a' };
        assert!(!Checksum::Base62Crc32.verify(&broken));
        assert!(!Checksum::Base62Crc32.verify(b"ghp_short"));
        let long = github_token("ghr_", &"Zq3T9xLm2VbN8cR4kW7yHp1sDf6GjA".repeat(2));
        assert!(Checksum::Base62Crc32.verify(long.as_bytes()), "{long}");
    }

    #[test]
    fn base62_pads_to_width() {
        assert_eq!(base62(0, 6), "000000");
        assert_eq!(base62(61, 2), "0z");
        assert_eq!(base62(62, 1), "10");
    }

    #[test]
    fn jwt_needs_json_header_with_alg() {
        let ok = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl";
        assert!(Checksum::Jwt.verify(ok.as_bytes()));
        let no_alg = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl";
        assert!(!Checksum::Jwt.verify(no_alg.as_bytes()));
        assert!(!Checksum::Jwt.verify(b"eyJnotjson.eyJx.sig"));
    }

    #[test]
    fn bech32_checks_the_checksum() {
        // BIP-173 test vector.
        assert!(Checksum::Bech32.verify(b"A12UEL5L"));
        assert!(Checksum::Bech32.verify(b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"));
        assert!(!Checksum::Bech32.verify(b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx"));
    }
}
