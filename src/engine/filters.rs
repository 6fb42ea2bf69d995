//! False-positive control shared by every rule: placeholders and templating, vendors'
//! documented example keys, encrypted values, and (for generic rules) values that are
//! hashes, identifiers, paths or code rather than credentials.

use std::sync::LazyLock;

use regex::bytes::Regex;

use super::rule::compile_regex;

/// Shannon entropy in bits per byte.
pub fn shannon_entropy(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in data {
        counts[b as usize] += 1;
    }
    let len = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / len;
            -p * p.log2()
        })
        .sum()
}

/// Keys that vendors publish in their documentation. They are never live.
const VENDOR_EXAMPLES: &[&str] = &[
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
    "rk_test_4eC39HqLyjWDarjtT1zdp7dc",
    "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",
    "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
];

/// Words that mark a value as documentation or a stand-in, matched case-insensitively
/// anywhere in the value.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "redacted",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "yourpassword",
    "yoursecret",
    "replace_me",
    "replaceme",
    "replace-me",
    "insert_",
    "insert-your",
    "dummy",
    "fake",
    "sample",
    "notreal",
    "not_real",
    "not-a-real",
    "xxxx",
    "****",
    "...",
    "…",
    "<secret>",
    "<token>",
    "<password>",
];

/// Templating and variable syntaxes: the value is filled in at deploy or run time.
const TEMPLATE_MARKERS: &[&str] = &["${", "$(", "{{", "}}", "%(", "#{", "<%", "%>", "@@", "ENC["];

/// Is this candidate a placeholder, a template, an encrypted value or a vendor example?
pub fn is_placeholder(secret: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(secret) else {
        return false;
    };
    if VENDOR_EXAMPLES.contains(&text) {
        return true;
    }
    // One pass for every word: a dense blob judges a candidate every few bytes.
    static WORDS: std::sync::LazyLock<Option<aho_corasick::AhoCorasick>> =
        std::sync::LazyLock::new(|| {
            aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(TEMPLATE_MARKERS.iter().chain(PLACEHOLDER_WORDS))
                .ok()
        });
    if let Some(words) = WORDS.as_ref() {
        if words.is_match(text) {
            return true;
        }
    } else if TEMPLATE_MARKERS
        .iter()
        .chain(PLACEHOLDER_WORDS)
        .any(|w| text.to_ascii_lowercase().contains(w))
    {
        return true;
    }
    if text.starts_with('<') && text.ends_with('>') {
        return true;
    }
    is_repetitive(text)
}

/// The variable part (after prefixes like `ghp_` or `sk_live_`) is one character repeated,
/// or the whole value uses at most two distinct characters.
fn is_repetitive(text: &str) -> bool {
    let mut rest = text;
    while let Some(pos) = rest.find(['_', '-']) {
        if pos <= 10 && rest[..pos].bytes().all(|b| b.is_ascii_alphanumeric()) {
            rest = &rest[pos + 1..];
        } else {
            break;
        }
    }
    let mut chars = rest.chars();
    let all_same = match chars.next() {
        Some(first) => rest.len() >= 4 && chars.all(|c| c == first),
        None => false,
    };
    let mut distinct: Vec<char> = text.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    all_same || (text.len() >= 8 && distinct.len() <= 2)
}

static HEX_HASH: LazyLock<Regex> = LazyLock::new(|| {
    compile_regex(r"^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128}|[0-9A-F]{32}|[0-9A-F]{40}|[0-9A-F]{64}|[0-9A-F]{128})$").expect("static regex")
});
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    compile_regex(r"^(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
        .expect("static regex")
});
static CODE_REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    compile_regex(concat!(
        r"^(?:",
        // variables and environment lookups
        r"\$[A-Za-z_{(]|%[A-Za-z_]+%$|process\.env|os\.(?:environ|getenv)|System\.getenv|getenv|ENV\[|env\(",
        // dotted identifiers and member access: config.db.password, this.secret
        r"|[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|->|::)[A-Za-z_][A-Za-z0-9_]*)+(?:\(\)?)?$",
        // array / map access
        r"|[A-Za-z_][A-Za-z0-9_.]*\[",
        r")"
    ))
    .expect("static regex")
});
static PLAIN_WORD: LazyLock<Regex> =
    LazyLock::new(|| compile_regex(r"^[A-Za-z_.\-]+$").expect("static regex"));

const NON_SECRET_VALUES: &[&str] = &[
    "true",
    "false",
    "null",
    "none",
    "nil",
    "undefined",
    "yes",
    "no",
    "on",
    "off",
    "required",
    "optional",
    "string",
    "password",
    "secret",
    "token",
    "bearer",
    "basic",
    "disabled",
    "enabled",
    "empty",
    "default",
    "hidden",
    "masked",
    "unset",
    "notset",
];

/// For generic rules: is this value something other than a credential? A `quoted`
/// value is a string literal, so it cannot be code: the code-reference checks are
/// skipped for it (`"Company.Pass123"`, `"aB3(dE5)fG7h"` are passwords).
pub fn is_generic_noise(secret: &[u8], quoted: bool) -> bool {
    let text = String::from_utf8_lossy(secret);
    let text = text.as_ref();
    let lower = text.to_ascii_lowercase();
    if NON_SECRET_VALUES.contains(&lower.as_str()) {
        return true;
    }
    if text
        .bytes()
        .all(|b| b.is_ascii_digit() || b".-_:,".contains(&b))
    {
        return true;
    }
    if text.bytes().any(|b| b.is_ascii_whitespace()) {
        return true;
    }
    if HEX_HASH.is_match(secret) || UUID.is_match(secret) {
        return true;
    }
    if [
        "sha1-", "sha256-", "sha384-", "sha512-", "md5-", "sha256:", "sha512:",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
    {
        return true;
    }
    if text.starts_with('/')
        || text.starts_with("./")
        || text.starts_with("../")
        || text.starts_with("~/")
        || text.get(1..3) == Some(":\\")
        || text.contains("://") && !text.contains('@')
    {
        return true;
    }
    if !quoted && (text.contains('(') || text.contains(')') || CODE_REFERENCE.is_match(secret)) {
        return true;
    }
    PLAIN_WORD.is_match(secret) && shannon_entropy(secret) < 3.5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant_data() {
        assert_eq!(shannon_entropy(b"aaaa"), 0.0);
        assert!((shannon_entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert_eq!(shannon_entropy(b""), 0.0);
    }

    #[test]
    fn placeholders_and_templates_are_recognised() {
        for p in [
            "${DB_PASSWORD}",
            "$(SECRET)",
            "{{ .Values.password }}",
            "<your-api-key>",
            "changeme",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "ghp_000000000000000000000000000000000000",
            "REDACTED",
            "AKIAIOSFODNN7EXAMPLE",
            "ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]",
            "abababababab",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        for real in [
            "ghp_Zq3T9xLm2VbN8cR4kW7yHp1sDf6GjA1B2c3D",
            "Tr0ub4dor&3x!",
            "AKIAZ3MDBDW5QK7VNJH2",
        ] {
            assert!(!is_placeholder(real.as_bytes()), "{real}");
        }
    }

    #[test]
    fn generic_noise_is_recognised() {
        for n in [
            "true",
            "4096",
            "d2a84f4b8b650937ec8f73cd8be2c74add5a911ba64df27458ed8229da804a26",
            "3f2a9c1e-8b7d-4e6f-a5c4-1d2e3f4a5b6c",
            "sha512-Z3JhZGllbnQ=",
            "/run/secrets/db",
            "https://auth.internal/oauth/token",
            "os.environ[\"TOKEN\"]",
            "getPassword()",
            "config.database.password",
            "$DB_PASSWORD",
            "my_secret_name",
        ] {
            assert!(is_generic_noise(n.as_bytes(), false), "{n}");
        }
        for real in ["Tr0ub4dor&3x!", "pQ8#vL2m!zR7", "s3cr3t-P4ss-2024"] {
            assert!(!is_generic_noise(real.as_bytes(), false), "{real}");
        }
        for quoted in ["Company.Pass123", "aB3(dE5)fG7h", "Winter::Coming42"] {
            assert!(is_generic_noise(quoted.as_bytes(), false), "{quoted}");
            assert!(!is_generic_noise(quoted.as_bytes(), true), "{quoted}");
        }
    }
}
