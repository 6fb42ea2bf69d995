//! Line formats: colon-separated records (`.pgpass`, `.htpasswd`, `shadow`), URL lists
//! (git's credential store), netrc tokens, and files that are one hex key.

use std::borrow::Cow;
use std::ops::Range;

use super::{line_spans, literal, trim_span, CredHit};

/// `.pgpass`: `hostname:port:database:username:password`, where `\:` and `\\` escape.
/// The password is the rest of the line after the fourth unescaped colon.
pub(super) fn pgpass(check: usize, data: &[u8]) -> Vec<CredHit> {
    let mut hits = Vec::new();
    for line in line_spans(data) {
        let text = &data[line.clone()];
        if text.trim_ascii_start().starts_with(b"#") {
            continue;
        }
        let mut fields = 0;
        let mut i = 0;
        while i < text.len() && fields < 4 {
            match text[i] {
                b'\\' => i += 1,
                b':' => fields += 1,
                _ => {}
            }
            i += 1;
        }
        if fields < 4 {
            continue;
        }
        // A trailing backslash escapes nothing: `i` may stand one past the line.
        let span = (line.start + i).min(line.end)..line.end;
        if let Some(mut hit) = literal(check, data, span) {
            let unescaped = unescape_pgpass(&hit.secret);
            if let Cow::Owned(u) = unescaped {
                hit.secret = u;
            }
            hits.push(hit);
        }
    }
    hits
}

fn unescape_pgpass(value: &[u8]) -> Cow<'_, [u8]> {
    if !value.contains(&b'\\') {
        return Cow::Borrowed(value);
    }
    let mut out = Vec::with_capacity(value.len());
    let mut escaped = false;
    for &b in value {
        if escaped || b != b'\\' {
            out.push(b);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    Cow::Owned(out)
}

/// Field `index` of `user:field:...` records (`.htpasswd`, `shadow`). In a shadow file
/// `*`, `!` and `x` mark accounts without a password, and a `!` before a hash locks it
/// (the hash is still there, and still reported).
pub(super) fn colon_field(check: usize, data: &[u8], index: usize, shadow: bool) -> Vec<CredHit> {
    let mut hits = Vec::new();
    for line in line_spans(data) {
        let text = &data[line.clone()];
        if text.trim_ascii_start().starts_with(b"#") {
            continue;
        }
        let mut start = 0;
        let mut field = None;
        for (n, part) in text.split(|b| *b == b':').enumerate() {
            if n == index {
                field = Some(line.start + start..line.start + start + part.len());
                break;
            }
            start += part.len() + 1;
        }
        let Some(mut span) = field else { continue };
        if shadow {
            while span.start < span.end && data[span.start] == b'!' {
                span.start += 1;
            }
            if matches!(&data[span.clone()], b"*" | b"x" | b"" | b"*LK*" | b"NP") {
                continue;
            }
        }
        hits.extend(literal(check, data, trim_span(data, span)));
    }
    hits
}

/// git's credential store: one URL a line, `scheme://user:password@host[:port][/path]`.
/// git percent-encodes what it writes, but a hand-edited file may hold a raw `@`, `#`
/// or `:` in the password: the user info runs to the last `@` of the authority, and the
/// password from the first `:` in it. A URL with a user and no password holds a token
/// as the user (`https://ghp_…@github.com`).
pub(super) fn git_credentials(check: usize, data: &[u8]) -> Vec<CredHit> {
    let mut hits = Vec::new();
    for line in line_spans(data) {
        let line = trim_span(data, line);
        let text = &data[line.clone()];
        let Some(scheme_end) = memchr::memmem::find(text, b"://") else {
            continue;
        };
        let rest = line.start + scheme_end + 3;
        let Some(at) = memchr::memrchr(b'@', &data[rest..line.end]).map(|i| rest + i) else {
            continue;
        };
        let info = rest..at;
        let secret = match memchr::memchr(b':', &data[info.clone()]) {
            Some(colon) => info.start + colon + 1..info.end,
            None => info,
        };
        if let Some(mut hit) = literal(check, data, secret) {
            let decoded: Vec<u8> = percent_encoding::percent_decode(&hit.secret).collect();
            if decoded != hit.secret {
                hit.secret = decoded;
                hit.decoded.push("percent");
            }
            hits.push(hit);
        }
    }
    hits
}

/// netrc: whitespace-separated tokens, `machine NAME login USER password PASS account
/// ACCT`, entries one after another on any number of lines; `macdef` bodies run to a
/// blank line. Heroku's CLI keeps its API key as the password of its two machines.
pub(super) fn netrc(check: usize, heroku: usize, data: &[u8]) -> Vec<CredHit> {
    let tokens = netrc_tokens(data);
    let mut hits = Vec::new();
    let mut machine: &[u8] = b"";
    let mut i = 0;
    while i < tokens.len() {
        let word = &data[tokens[i].clone()];
        match word {
            b"machine" => {
                machine = tokens.get(i + 1).map_or(&b""[..], |t| &data[t.clone()]);
                i += 1;
            }
            b"default" => machine = b"",
            b"login" => i += 1,
            b"password" | b"account" => {
                if let Some(value) = tokens.get(i + 1) {
                    let on_heroku = matches!(machine, b"api.heroku.com" | b"git.heroku.com");
                    let c = if on_heroku { heroku } else { check };
                    hits.extend(literal(c, data, unquote_token(data, value.clone())));
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    hits
}

fn unquote_token(data: &[u8], span: Range<usize>) -> Range<usize> {
    super::unquote(data, span)
}

/// Tokens of a netrc file, skipping comments and `macdef` bodies.
fn netrc_tokens(data: &[u8]) -> Vec<Range<usize>> {
    let mut tokens = Vec::new();
    let mut in_macro = false;
    for line in line_spans(data) {
        let text = &data[line.clone()];
        if in_macro {
            in_macro = !text.trim_ascii().is_empty();
            continue;
        }
        let mut i = 0;
        while i < text.len() {
            if text[i].is_ascii_whitespace() {
                i += 1;
                continue;
            }
            if text[i] == b'#' {
                break;
            }
            let start = i;
            if text[i] == b'"' {
                i += 1;
                while i < text.len() && text[i] != b'"' {
                    i += if text[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(text.len());
            } else {
                while i < text.len() && !text[i].is_ascii_whitespace() {
                    i += 1;
                }
            }
            let token = line.start + start..line.start + i;
            if &data[token.clone()] == b"macdef" {
                in_macro = true;
            }
            tokens.push(token);
        }
    }
    tokens
}

/// A file that is one key of `min..=max` hex digits (and maybe a newline).
pub(super) fn hex_key(check: usize, data: &[u8], min: usize, max: usize) -> Vec<CredHit> {
    let span = trim_span(data, 0..data.len());
    let key = &data[span.clone()];
    if (min..=max).contains(&key.len()) && key.iter().all(u8::is_ascii_hexdigit) {
        literal(check, data, span).into_iter().collect()
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::credfiles::literal_secrets as secrets;

    #[test]
    fn pgpass_takes_the_fifth_field_with_escapes() {
        let data = b"# comment\ndb.internal:5432:*:app:pa\\:ss:word\nlocalhost:*:*:ci:\nh:1:d:u:$PGPASSWORD\n";
        assert_eq!(secrets(&pgpass(0, data)), ["pa:ss:word"]);
    }

    #[test]
    fn git_credentials_handle_raw_and_encoded_delimiters() {
        let data = b"https://alice:p%40ss%23w%3Ard@github.com\nhttps://bob:raw@pass#x:y@gitlab.example.com:8443/group\nhttps://ghp_tok@github.com\nhttps://carol:${GIT_TOKEN}@git.example.com\n";
        let hits = git_credentials(0, data);
        assert_eq!(secrets(&hits), ["p@ss#w:rd", "raw@pass#x:y", "ghp_tok"]);
        assert_eq!(hits[0].decoded, ["percent"]);
    }

    #[test]
    fn netrc_reads_tokens_across_lines_and_skips_macros() {
        let data = b"machine ftp.example.com\n  login me\n  password hunter2\nmacdef init\npassword notatoken\n\nmachine api.heroku.com login me@example.com password 0c8d2b6e-1f4e-4b8e-9b43-6f0e4d1c2a77\ndefault login anonymous password \"\"\n";
        let hits = netrc(0, 1, data);
        assert_eq!(
            secrets(&hits),
            ["hunter2", "0c8d2b6e-1f4e-4b8e-9b43-6f0e4d1c2a77"]
        );
        assert_eq!(hits[1].check, 1);
    }

    #[test]
    fn shadow_leaves_locked_and_disabled_accounts_out() {
        let data = b"root:*:19000:0:99999:7:::\ndaemon:x:1::::::\nadmin:$6$abc$def:19000::::::\nold:!$y$j9T$x:1::::::\nlocked:!:1::::::\n";
        assert_eq!(
            secrets(&colon_field(0, data, 1, true)),
            ["$6$abc$def", "$y$j9T$x"]
        );
    }

    #[test]
    fn a_hex_key_file_is_one_key() {
        assert_eq!(
            hex_key(0, b"0123456789abcdef0123456789abcdef\n", 32, 32).len(),
            1
        );
        assert!(hex_key(0, b"not a key\n", 32, 32).is_empty());
    }
}
