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
/// `%(` is not here: `%(name)s` is a Python format placeholder, but `%(` alone is as
/// likely a password's characters (`x%(Lk2!`); see `has_python_format`.
const TEMPLATE_MARKERS: &[&str] = &["${", "$(", "{{", "}}", "#{", "<%", "%>", "@@", "ENC["];

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
    has_python_format(secret) || is_variable_reference(text) || is_repetitive(text)
}

/// The whole value names a variable that holds the secret: a shell, PHP or Perl variable
/// (`$DB_PASSWORD`, `$db_pass`), a Windows one (`%DB_PASSWORD%`), PowerShell's
/// `$env:DB_PASSWORD`, a format field (`{OS_PASSWORD}`) or a Helm value path
/// (`.Values.auth.password`). A name people make into a password mixes cases and digits
/// (`$Xk9pQ2`), and stays a candidate.
fn is_variable_reference(text: &str) -> bool {
    fn identifier(s: &str) -> bool {
        let mut bytes = s.bytes();
        bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
    }
    // UPPER_SNAKE (`DB_PASS2`), snake without digits (`db_pass`) or letters alone
    // (`password`); `ecret2024` and `Xk9pQ2` are what people make passwords of.
    fn variable_like(s: &str) -> bool {
        let lower = s.bytes().any(|b| b.is_ascii_lowercase());
        let digit = s.bytes().any(|b| b.is_ascii_digit());
        identifier(s)
            && (!lower || (s.contains('_') && !digit) || s.bytes().all(|b| b.is_ascii_alphabetic()))
    }
    if let Some(name) = text.strip_prefix("$env:") {
        return identifier(name);
    }
    if let Some(name) = text.strip_prefix('$') {
        return variable_like(name);
    }
    if let Some(name) = text.strip_prefix('%').and_then(|t| t.strip_suffix('%')) {
        return variable_like(name);
    }
    if let Some(name) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        return variable_like(name);
    }
    if let Some(path) = text.strip_prefix(".Values.") {
        return path.split('.').all(identifier);
    }
    false
}

/// A whole Python `%`-format placeholder: `%(name)s`, `%(db_password)d`.
fn has_python_format(text: &[u8]) -> bool {
    memchr::memmem::find_iter(text, b"%(").any(|at| {
        let rest = &text[at + 2..];
        let name = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        name > 0
            && rest.get(name) == Some(&b')')
            && rest
                .get(name + 1)
                .is_some_and(|c| b"sdifrxXeEgGc".contains(c))
    })
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
static VARIABLE_LOOKUP: LazyLock<Regex> = LazyLock::new(|| {
    compile_regex(concat!(
        r"^(?:",
        // variables and environment lookups
        r"\$[A-Za-z_{(]|%[A-Za-z_]+%$|process\.env|os\.(?:environ|getenv)|System\.getenv|getenv|ENV\[|env\(",
        // array / map access
        r"|[A-Za-z_][A-Za-z0-9_.]*\[",
        r")"
    ))
    .expect("static regex")
});
/// Dotted identifiers and member access: `config.db.password`, `this->secret`.
static DOTTED_IDENTIFIER: LazyLock<Regex> = LazyLock::new(|| {
    compile_regex(r"^[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|->|::)[A-Za-z_][A-Za-z0-9_]*)+(?:\(\)?)?$")
        .expect("static regex")
});
/// `pg-credentials`, `web-tls-v2`: the name of a Kubernetes object or a file.
static KEBAB_CASE: LazyLock<Regex> = LazyLock::new(|| {
    compile_regex(r"^[a-z0-9]+(?:[.-][a-z0-9]+)*-[a-z0-9]+(?:[.-][a-z0-9]+)*$")
        .expect("static regex")
});
/// `auth_token`, `db_password`: an identifier.
static SNAKE_CASE: LazyLock<Regex> =
    LazyLock::new(|| compile_regex(r"^[a-z_][a-z0-9]*(?:_[a-z0-9]+)+$").expect("static regex"));
static PLAIN_WORD: LazyLock<Regex> =
    LazyLock::new(|| compile_regex(r"^[A-Za-z_.\-]+$").expect("static regex"));

/// What the words of a generic rule's key (its `key` group) say the value is. The value
/// alone cannot tell a SHA-1 from a 40-hex API token, or a tenant id from a UUID-shaped
/// key: `token_sha256: <hex>` is a hash, `api_token: <hex>` is a token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyHints {
    /// hash, checksum, digest, sha*, md5, integrity, etag, fingerprint, commit, revision.
    pub hash: bool,
    /// id, uuid, guid, tenant (`token_id`, `clientId`, `TENANT`).
    pub id: bool,
    /// password, passwd, pwd, pass, passphrase, passcode: a value a person chose.
    pub password: bool,
}

const HASH_WORDS: &[&str] = &[
    "hash",
    "hashed",
    "checksum",
    "digest",
    "md5",
    "integrity",
    "etag",
    "fingerprint",
    "commit",
    "revision",
];
const ID_WORDS: &[&str] = &["id", "ids", "uuid", "guid", "tenant"];

/// Credential words that are not a password: under `passwordSecret` or
/// `password_key` the value names a Secret or a key, not a password.
const OTHER_CREDENTIAL_WORDS: &[&str] = &[
    "secret",
    "secrets",
    "token",
    "key",
    "apikey",
    "credential",
    "credentials",
    "ref",
];

impl KeyHints {
    pub fn of(key: &[u8]) -> KeyHints {
        let mut hints = KeyHints::default();
        for word in key_words(key) {
            let word = word.to_ascii_lowercase();
            let w = word.as_str();
            let sha = w
                .strip_prefix("sha")
                .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()));
            hints.hash |= sha || HASH_WORDS.contains(&w);
            hints.id |= ID_WORDS.contains(&w);
            // The last credential word says what the value is.
            if w.contains("passw") || w.ends_with("pwd") || matches!(w, "pass" | "passcode") {
                hints.password = true;
            } else if OTHER_CREDENTIAL_WORDS.contains(&w) {
                hints.password = false;
            }
        }
        hints
    }
}

/// How many of lowercase, uppercase, digits and other characters a value has: a
/// password a person made to a policy (`Passw0rd!`, `prod-db-password-2024`) has three
/// or four, a word or a name one or two.
pub fn character_classes(value: &[u8]) -> usize {
    let has = |f: fn(&u8) -> bool| usize::from(value.iter().any(f));
    has(u8::is_ascii_lowercase)
        + has(u8::is_ascii_uppercase)
        + has(u8::is_ascii_digit)
        + has(|b| !b.is_ascii_alphanumeric())
}

/// The words of an identifier: split at every byte that is not a letter or digit, and
/// where a lowercase letter or digit is followed by an uppercase one (`clientId`,
/// `tokenSHA256`).
fn key_words(key: &[u8]) -> impl Iterator<Item = String> + '_ {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for &b in key {
        if !b.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if b.is_ascii_uppercase() && prev_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
        current.push(b as char);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words.into_iter()
}

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

/// A part of an object's name: a word with at most a short number after it (`tls`,
/// `v2`, `credentials`), or a number (`2024`). Random tokens mix letters and digits
/// within their parts (`f5e92c34-b8d7-…`, `u7654321a-b1c2…`).
fn is_name_part(part: &str) -> bool {
    let letters = part.bytes().take_while(u8::is_ascii_lowercase).count();
    let digits = part.len() - letters;
    part.bytes().skip(letters).all(|b| b.is_ascii_digit())
        && if letters == 0 {
            digits <= 8
        } else {
            digits <= 4
        }
}

/// `generic_noise` without a key: the manifest checks' test for a literal.
pub fn is_generic_noise(secret: &[u8], quoted: bool) -> bool {
    generic_noise(secret, quoted, None).is_some()
}

/// For generic rules: is this value something other than a credential? Returns the
/// name of the filter that says so. A `quoted` value is a string literal, so it cannot
/// be code: the code-reference checks are skipped for it (`"Company.Pass123"`,
/// `"aB3(dE5)fG7h"` are passwords). `key` is what the rule's `key` group said, when it
/// has one; without it, a value shaped like a hash or a UUID is taken for one.
pub fn generic_noise(secret: &[u8], quoted: bool, key: Option<KeyHints>) -> Option<&'static str> {
    let text = String::from_utf8_lossy(secret);
    let text = text.as_ref();
    let lower = text.to_ascii_lowercase();
    if NON_SECRET_VALUES.contains(&lower.as_str()) {
        return Some("non-secret word");
    }
    if text
        .bytes()
        .all(|b| b.is_ascii_digit() || b".-_:,".contains(&b))
    {
        return Some("number");
    }
    if text.bytes().any(|b| b.is_ascii_whitespace()) {
        return Some("whitespace");
    }
    let hints = key.unwrap_or(KeyHints {
        hash: true,
        id: true,
        password: false,
    });
    if HEX_HASH.is_match(secret) && (hints.hash || hints.id) {
        return Some("hex hash (key names a hash or an id)");
    }
    if UUID.is_match(secret) {
        // Some providers' keys are UUIDs; the key's name tells them from ids.
        return hints.id.then_some("uuid (key names an id)");
    }
    if [
        "sha1-", "sha256-", "sha384-", "sha512-", "md5-", "sha256:", "sha512:",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
    {
        return Some("integrity string");
    }
    if text.starts_with('/')
        || text.starts_with("./")
        || text.starts_with("../")
        || text.starts_with("~/")
        || text.get(1..3) == Some(":\\")
    {
        return Some("path");
    }
    if text.contains("://") && !text.contains('@') {
        return Some("url without credentials");
    }
    // A person's password may be built of words and a number: `prod-db-password-2024`,
    // `Company.Pass123`. Without a digit, or under a key that is no password
    // (`existingSecret: pg-credentials`, `token: settings.api.token`), it is a name.
    let human = hints.password && text.bytes().any(|b| b.is_ascii_digit());
    if !quoted {
        if text.contains('(') || text.contains(')') {
            return Some("code (call)");
        }
        if VARIABLE_LOOKUP.is_match(secret) {
            return Some("code reference");
        }
        if !human && DOTTED_IDENTIFIER.is_match(secret) {
            return Some("dotted identifier");
        }
    }
    if !human && KEBAB_CASE.is_match(secret) && text.split(['-', '.']).all(is_name_part) {
        return Some("kebab-case name");
    }
    if !(human && quoted) && SNAKE_CASE.is_match(secret) {
        return Some("snake_case identifier");
    }
    if PLAIN_WORD.is_match(secret) && shannon_entropy(secret) < 3.5 {
        return Some("plain word");
    }
    None
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

    #[test]
    fn key_words_say_hash_id_or_password() {
        let h = KeyHints::of(b"api_token_sha256");
        assert!(h.hash && !h.id && !h.password);
        assert!(KeyHints::of(b"integrityHash").hash);
        assert!(!KeyHints::of(b"shared_secret").hash, "`shared` is no `sha`");
        assert!(KeyHints::of(b"clientId").id && KeyHints::of(b"TENANT_TOKEN").id);
        assert!(!KeyHints::of(b"api_key").id && !KeyHints::of(b"identity_token").id);
        assert!(KeyHints::of(b"DB_PASSWORD_PROD").password);
        assert!(KeyHints::of(b"smtp.pass").password);
        assert!(!KeyHints::of(b"passwordSecret").password, "names a Secret");
        assert!(!KeyHints::of(b"password_key").password);
        assert!(KeyHints::of(b"secretPassword").password);
    }

    #[test]
    fn hashes_and_uuids_are_judged_by_the_key() {
        let hex40 = b"4f0d2b8e9a7c6d5e3f1a2b4c6d8e0f1a3b5c7d9e";
        let uuid = b"5b1e7c2a-9d4f-4a83-b6e0-2c7f9a1d3e58";
        let key = |k: &[u8]| Some(KeyHints::of(k));
        assert_eq!(generic_noise(hex40, false, key(b"api_token")), None);
        assert!(generic_noise(hex40, false, key(b"token_sha1")).is_some());
        assert!(generic_noise(hex40, false, key(b"commit_token")).is_some());
        assert!(
            generic_noise(hex40, false, None).is_some(),
            "no key: plainly a hash"
        );
        assert_eq!(generic_noise(uuid, false, key(b"datadog_api_key")), None);
        assert_eq!(generic_noise(uuid, false, key(b"secret")), None);
        assert!(generic_noise(uuid, false, key(b"secret_id")).is_some());
        assert!(generic_noise(uuid, false, None).is_some());
    }

    #[test]
    fn names_are_dropped_but_passwords_made_of_words_are_not() {
        let key = |k: &[u8]| Some(KeyHints::of(k));
        assert_eq!(
            generic_noise(b"prod-db-password-2024", false, key(b"password")),
            None
        );
        assert!(generic_noise(b"prod-db-password-2024", false, key(b"token")).is_some());
        assert!(generic_noise(b"pg-credentials", false, key(b"existingSecret")).is_some());
        assert_eq!(
            generic_noise(b"pg-credentials-v2", false, key(b"password")),
            None
        );
        assert!(generic_noise(b"auth-password", false, key(b"password")).is_some());
        assert_eq!(
            generic_noise(b"Company.Pass123", false, key(b"db_password")),
            None
        );
        assert!(generic_noise(b"settings.api.token", false, key(b"token")).is_some());
        assert!(generic_noise(b"admin_pass_2", false, key(b"password")).is_some());
        assert_eq!(generic_noise(b"admin_pass_2", true, key(b"password")), None);
    }

    #[test]
    fn python_format_placeholders_are_whole() {
        assert!(is_placeholder(b"%(db_password)s"));
        assert!(is_placeholder(b"pw-%(env)d"));
        assert!(!is_placeholder(b"x%(Lk2!pQ9zR"));
        assert!(!is_placeholder(b"Tq%()s9vLm2"));
    }

    #[test]
    fn whole_variable_references_are_placeholders() {
        for reference in [
            "$ZOOKEEPER_CLIENT_PASSWORD",
            "$db_pass",
            "$password",
            "$env:DB_PASSWORD",
            "%DB_PASSWORD%",
            "{OS_PASSWORD}",
            ".Values.auth.password",
        ] {
            assert!(is_placeholder(reference.as_bytes()), "{reference}");
        }
        // Passwords that happen to start with `$` or hold one.
        assert_eq!(
            generic_noise(b"slack.verification-token", true, None),
            Some("kebab-case name")
        );
        assert_eq!(
            generic_noise(b"pg-credentials-v2", false, None),
            Some("kebab-case name")
        );
        // Tokens with dashes: letters and digits mixed within a part.
        for token in [
            "f5e92c34-b8d7-5da2-c634-53eaf9d0198765",
            "u7654321a-b1c2d3e4f5g6h7",
        ] {
            assert_eq!(
                generic_noise(token.as_bytes(), false, None),
                None,
                "{token}"
            );
        }
        for password in [
            "$Xk9pQ2vL",
            "super$ecret",
            "$7fG!kq2",
            "$ecret2024",
            "$ecret_2024",
            "{Passw0rd}",
            "%Passw0rd%",
            "{Xk9 pQ2}",
            ".Values",
        ] {
            assert!(!is_placeholder(password.as_bytes()), "{password}");
        }
    }

    #[test]
    fn character_classes_are_counted() {
        assert_eq!(character_classes(b"Passw0rd!"), 4);
        assert_eq!(character_classes(b"busybox@"), 2);
        assert_eq!(character_classes(b"prod-db-password-2024"), 3);
    }
}
