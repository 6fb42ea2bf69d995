//! Key-value lines: INI files, the flat YAML of small CLIs, `key value` rc files and
//! mutt's `set key = value`, read by one forgiving line reader; and the few formats of
//! that family with a twist (`.npmrc` keys, `.gem/credentials`, PuTTY keys, PHP
//! `define`s).

use std::ops::Range;

use super::{line_spans, literal, trim_span, unquote, CredHit};

/// A `key = value`, `key: value` or `key value` line: the key's and the value's spans.
fn key_value(data: &[u8], line: Range<usize>) -> Option<(Range<usize>, Range<usize>)> {
    let mut s = trim_span(data, line);
    let text = &data[s.clone()];
    if text.is_empty() || matches!(text[0], b'#' | b';' | b'[' | b'!') {
        return None;
    }
    // YAML list items and mutt's `set`.
    for prefix in [&b"- "[..], b"set "] {
        if data[s.clone()].starts_with(prefix) {
            s.start += prefix.len();
            s = trim_span(data, s);
        }
    }
    let text = &data[s.clone()];
    let key_len = text
        .iter()
        .position(|b| matches!(b, b'=' | b':') || b.is_ascii_whitespace())?;
    let key = s.start..s.start + key_len;
    let mut v = key.end;
    while v < s.end && data[v].is_ascii_whitespace() {
        v += 1;
    }
    if v < s.end && matches!(data[v], b'=' | b':') {
        v += 1;
    }
    let key = unquote(data, key);
    Some((key, unquote(data, v..s.end)))
}

/// Values of the keys named (ASCII case-insensitive).
pub(super) fn ini(check: usize, data: &[u8], keys: &[&str]) -> Vec<CredHit> {
    line_spans(data)
        .filter_map(|line| key_value(data, line))
        .filter(|(key, _)| {
            keys.iter()
                .any(|k| data[key.clone()].eq_ignore_ascii_case(k.as_bytes()))
        })
        .filter_map(|(_, value)| literal(check, data, value))
        .collect()
}

/// `.npmrc`: `//registry/:_authToken=…`, `_auth`, `_password` (and the unscoped forms).
pub(super) fn npmrc(check: usize, data: &[u8]) -> Vec<CredHit> {
    const KEYS: &[&[u8]] = &[b"_authtoken", b"_auth", b"_password", b"password"];
    line_spans(data)
        .filter_map(|line| npmrc_pair(data, line))
        .filter(|(key, _)| {
            let key = data[key.clone()].to_ascii_lowercase();
            let last = key.rsplit(|b| *b == b':').next().unwrap_or(&key);
            KEYS.contains(&last)
        })
        .filter_map(|(_, value)| literal(check, data, value))
        .collect()
}

/// An `.npmrc` line splits at its first `=` only: its keys hold colons.
fn npmrc_pair(data: &[u8], line: Range<usize>) -> Option<(Range<usize>, Range<usize>)> {
    let s = trim_span(data, line);
    let text = &data[s.clone()];
    if text.starts_with(b"#") || text.starts_with(b";") {
        return None;
    }
    let eq = memchr::memchr(b'=', text)?;
    Some((
        trim_span(data, s.start..s.start + eq),
        unquote(data, s.start + eq + 1..s.end),
    ))
}

/// `~/.gem/credentials`: YAML of `:rubygems_api_key: KEY` and `https://host: KEY`; every
/// value is an API key.
pub(super) fn gem_credentials(check: usize, data: &[u8]) -> Vec<CredHit> {
    let mut hits = Vec::new();
    for line in line_spans(data) {
        let s = trim_span(data, line);
        let text = &data[s.clone()];
        if text.is_empty() || text[0] == b'#' || text == b"---" {
            continue;
        }
        // The key ends at the last `: ` (host keys hold `://`).
        let Some(sep) = memchr::memmem::rfind(text, b": ") else {
            continue;
        };
        hits.extend(literal(
            check,
            data,
            unquote(data, s.start + sep + 2..s.end),
        ));
    }
    hits
}

/// A PuTTY key file with `Encryption: none`: its `Private-Lines` are the key itself.
pub(super) fn ppk(check: usize, data: &[u8]) -> Vec<CredHit> {
    let lines: Vec<Range<usize>> = line_spans(data).collect();
    let header = |name: &[u8]| {
        lines.iter().find_map(|l| {
            let text = &data[l.clone()];
            let rest = text.strip_prefix(name)?.strip_prefix(b":")?;
            Some((l.clone(), rest.trim_ascii()))
        })
    };
    if !data.starts_with(b"PuTTY-User-Key-File-") {
        return Vec::new();
    }
    if header(b"Encryption").is_none_or(|(_, e)| e != b"none") {
        return Vec::new();
    }
    let Some((at, count)) = header(b"Private-Lines") else {
        return Vec::new();
    };
    let Some(count) = std::str::from_utf8(count)
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
    else {
        return Vec::new();
    };
    let first = lines
        .iter()
        .position(|l| *l == at)
        .map_or(lines.len(), |i| i + 1);
    let body = &lines[first.min(lines.len())..(first + count).min(lines.len())];
    match (body.first(), body.last()) {
        (Some(a), Some(b)) => literal(check, data, a.start..b.end).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// `wp-config.php`: `define( 'DB_PASSWORD', '…' )` and the eight keys and salts, with a
/// string literal value. The sample file's `put your unique phrase here` is the
/// placeholder WordPress itself ships.
pub(super) fn wp_config(check: usize, data: &[u8]) -> Vec<CredHit> {
    const NAMES: &[&[u8]] = &[
        b"DB_PASSWORD",
        b"AUTH_KEY",
        b"SECURE_AUTH_KEY",
        b"LOGGED_IN_KEY",
        b"NONCE_KEY",
        b"AUTH_SALT",
        b"SECURE_AUTH_SALT",
        b"LOGGED_IN_SALT",
        b"NONCE_SALT",
    ];
    let mut hits = Vec::new();
    for at in memchr::memmem::find_iter(data, b"define") {
        let mut args = at + b"define".len();
        let Some(name) = php_string(data, &mut args, b'(') else {
            continue;
        };
        if !NAMES.contains(&&data[name.clone()]) {
            continue;
        }
        let Some(value) = php_string(data, &mut args, b',') else {
            continue;
        };
        if &data[value.clone()] != b"put your unique phrase here" {
            hits.extend(literal(check, data, value));
        }
    }
    hits
}

/// After optional spaces, `lead`, optional spaces, a quoted PHP string: its content's
/// span. `at` moves past the closing quote.
fn php_string(data: &[u8], at: &mut usize, lead: u8) -> Option<Range<usize>> {
    let skip = |i: &mut usize| {
        while *i < data.len() && data[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    let mut i = *at;
    skip(&mut i);
    if data.get(i) != Some(&lead) {
        return None;
    }
    i += 1;
    skip(&mut i);
    let quote = *data.get(i).filter(|q| matches!(q, b'\'' | b'"'))?;
    let start = i + 1;
    let mut j = start;
    while j < data.len() && data[j] != quote {
        if data[j] == b'\n' {
            return None;
        }
        j += if data[j] == b'\\' { 2 } else { 1 };
    }
    if j >= data.len() {
        return None;
    }
    *at = j + 1;
    Some(start..j)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::credfiles::literal_secrets as secrets;

    #[test]
    fn ini_reads_every_separator_and_quote() {
        let data = b"[default]\nsecret_key = abc\n  password: \"q w\"\npassword hunter2\nset smtp_pass='x y'\n# password = no\npassword = ${PW}\n";
        assert_eq!(
            secrets(&ini(0, data, &["secret_key", "password", "smtp_pass"])),
            ["abc", "q w", "hunter2", "x y"]
        );
    }

    #[test]
    fn npmrc_keys_hold_colons() {
        let data = b"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=npm_abc\n//npm.pkg.github.com/:_authToken=${NPM_TOKEN}\n_auth = dXNlcjpwYXNz\n";
        assert_eq!(secrets(&npmrc(0, data)), ["npm_abc", "dXNlcjpwYXNz"]);
    }

    #[test]
    fn ppk_reports_only_unencrypted_keys() {
        let key = b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: k\nPublic-Lines: 1\nAAAA\nPrivate-Lines: 1\nAAAAIB\nPrivate-MAC: 00\n";
        assert_eq!(secrets(&ppk(0, key)), ["AAAAIB"]);
        let enc = b"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: aes256-cbc\nPrivate-Lines: 1\nAAAAIB\n";
        assert!(ppk(0, enc).is_empty());
    }

    #[test]
    fn wp_config_reads_define_strings() {
        let data = b"define( 'DB_NAME', 'wp' );\ndefine( 'DB_PASSWORD', 'password' );\ndefine('AUTH_KEY', 'put your unique phrase here');\ndefine( 'NONCE_SALT', getenv('NONCE_SALT') );\n";
        assert_eq!(secrets(&wp_config(0, data)), ["password"]);
    }
}
