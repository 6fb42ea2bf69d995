//! JSON stores (and the JSON-with-comments that Sublime and VS Code write), read by a
//! tokenizer that keeps byte spans and the keys above each string value, and never
//! fails: a broken file yields what could be read.

use std::ops::Range;

use super::{literal, CredHit};

/// A string value and where it sits: the keys of the objects above it, outermost first,
/// and its own key. Strings in arrays are not values here: no store keeps a credential
/// as a bare array element.
struct Value<'a> {
    parents: Vec<&'a [u8]>,
    key: &'a [u8],
    span: Range<usize>,
}

/// Every string value of `data` that has a key.
fn string_values(data: &[u8]) -> Vec<Value<'_>> {
    // One entry per open object or array: the key the container was given.
    let mut stack: Vec<&[u8]> = Vec::new();
    let mut pending_key: Option<&[u8]> = None;
    let mut last_string: Option<Range<usize>> = None;
    let mut values = Vec::new();
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < data.len() && data[j] != b'"' {
                    j += if data[j] == b'\\' { 2 } else { 1 };
                }
                let span = start..j.min(data.len());
                if let Some(key) = pending_key.take() {
                    values.push(Value {
                        parents: stack.clone(),
                        key,
                        span: span.clone(),
                    });
                }
                last_string = Some(span);
                i = j + 1;
                continue;
            }
            b':' => {
                pending_key = last_string.take().map(|s| &data[s]);
            }
            b'{' | b'[' => {
                stack.push(pending_key.take().unwrap_or(b""));
                last_string = None;
            }
            b'}' | b']' => {
                stack.pop();
                pending_key = None;
                last_string = None;
            }
            b',' => {
                pending_key = None;
                last_string = None;
            }
            b'/' if data.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &data[i..]).map_or(data.len(), |n| i + n);
                continue;
            }
            b'/' if data.get(i + 1) == Some(&b'*') => {
                i = memchr::memmem::find(&data[i + 2..], b"*/").map_or(data.len(), |n| i + n + 4);
                continue;
            }
            b if !b.is_ascii_whitespace() => {
                // A number, `true`, `null`: the key it belonged to is spent.
                pending_key = None;
            }
            _ => {}
        }
        i += 1;
    }
    values
}

/// Values whose key is one of `keys` (ASCII case-insensitive).
pub(super) fn keyed(check: usize, data: &[u8], keys: &[&str]) -> Vec<CredHit> {
    string_values(data)
        .into_iter()
        .filter(|v| {
            keys.iter()
                .any(|k| v.key.eq_ignore_ascii_case(k.as_bytes()))
        })
        .filter_map(|v| literal(check, data, v.span))
        .collect()
}

/// Composer's `auth.json`: under `github-oauth`, `gitlab-oauth`, `gitlab-token` and
/// `bearer` every value is a token (keyed by host, or `{username, token}`); under
/// `http-basic`, the `password`; under `bitbucket-oauth`, the `consumer-secret`.
pub(super) fn composer(check: usize, data: &[u8]) -> Vec<CredHit> {
    string_values(data)
        .into_iter()
        .filter(|v| {
            let top = v.parents.get(1).copied().unwrap_or(b"");
            match top {
                b"github-oauth" | b"gitlab-oauth" | b"bearer" => true,
                b"gitlab-token" => v.parents.len() == 2 || v.key == b"token",
                b"http-basic" => v.key == b"password",
                b"bitbucket-oauth" => v.key == b"consumer-secret",
                _ => false,
            }
        })
        .filter_map(|v| literal(check, data, v.span))
        .collect()
}

/// Terraform state: attribute values whose name says they hold a credential. State keeps
/// every attribute in plain text, `sensitive` or not.
pub(super) fn terraform(check: usize, data: &[u8]) -> Vec<CredHit> {
    string_values(data)
        .into_iter()
        .filter(|v| {
            v.parents
                .iter()
                .any(|p| *p == b"attributes" || *p == b"attributes_flat")
                && is_credential_attribute(v.key)
        })
        .filter_map(|v| literal(check, data, v.span))
        .collect()
}

fn is_credential_attribute(key: &[u8]) -> bool {
    const WORDS: &[&str] = &[
        "password",
        "secret",
        "token",
        "private_key",
        "api_key",
        "access_key",
        "client_key",
        "auth",
        "passphrase",
        "plaintext",
    ];
    const NOT: &[&str] = &[
        "_id",
        "_arn",
        "_name",
        "_type",
        "_version",
        "_ttl",
        "_length",
        "_url",
        "_path",
        "_count",
        "_enabled",
        "_policy",
        "_method",
        "_mode",
        "_wo_version",
        "_fingerprint",
    ];
    let key = String::from_utf8_lossy(key).to_ascii_lowercase();
    WORDS.iter().any(|w| key.contains(w))
        && !NOT.iter().any(|n| key.ends_with(n))
        && !key.starts_with("auth_type")
        && key != "author"
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::credfiles::literal_secrets as secrets;

    #[test]
    fn keyed_values_skip_comments_keys_and_non_strings() {
        let data = br#"{
            // "password": "in a comment",
            /* "password": "block" */
            "password": "s3cr\"et", "port": 22, "passphrase": null,
            "nested": {"PASSWORD": "two"}, "list": ["password", "x"], "user": "password"
        }"#;
        assert_eq!(
            secrets(&keyed(0, data, &["password", "passphrase"])),
            [r#"s3cr\"et"#, "two"]
        );
    }

    #[test]
    fn composer_tokens_by_section() {
        let data = br#"{"github-oauth": {"github.com": "ghp_x"}, "http-basic": {"repo.example.org": {"username": "u", "password": "p"}}, "gitlab-token": {"gitlab.com": {"username": "u", "token": "glpat"}}, "config": {"x": "y"}}"#;
        assert_eq!(secrets(&composer(0, data)), ["ghp_x", "p", "glpat"]);
    }

    #[test]
    fn terraform_attributes_by_name() {
        let data = br#"{"resources": [{"instances": [{"attributes": {"id": "db", "password": "pw", "password_policy": "x", "master_username": "admin", "secret": "s"}}]}]}"#;
        assert_eq!(secrets(&terraform(0, data)), ["pw", "s"]);
    }
}
