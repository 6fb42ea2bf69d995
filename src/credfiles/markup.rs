//! XML stores (FileZilla, JetBrains, Maven, NuGet, Jenkins), read by a small tag
//! scanner that keeps byte spans: each start tag with its attributes, and the text up to
//! the next tag. It never fails; comments and CDATA-free stores are all it needs.

use std::ops::Range;

use base64::Engine as _;

use super::{literal, trim_span, CredHit};

/// A start tag: its name, its attributes (name, value span), and the span of the text
/// that follows it up to the next `<`.
struct Tag<'a> {
    name: &'a [u8],
    attributes: Vec<(&'a [u8], Range<usize>)>,
    text: Range<usize>,
}

impl Tag<'_> {
    fn attribute(&self, name: &[u8]) -> Option<Range<usize>> {
        self.attributes
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

fn tags(data: &[u8]) -> Vec<Tag<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(lt) = memchr::memchr(b'<', &data[i..]).map(|n| i + n) {
        if data[lt..].starts_with(b"<!--") {
            i = memchr::memmem::find(&data[lt..], b"-->").map_or(data.len(), |n| lt + n + 3);
            continue;
        }
        let start = lt + 1;
        if matches!(data.get(start), Some(b'/' | b'?' | b'!') | None) {
            i = start;
            continue;
        }
        let mut j = start;
        while j < data.len() && !data[j].is_ascii_whitespace() && !matches!(data[j], b'>' | b'/') {
            j += 1;
        }
        let name = &data[start..j];
        let mut attributes = Vec::new();
        // Attributes: `name="value"` or `name='value'`, to the end of the tag.
        loop {
            while j < data.len() && data[j].is_ascii_whitespace() {
                j += 1;
            }
            if j >= data.len() || matches!(data[j], b'>' | b'/') {
                break;
            }
            let a = j;
            while j < data.len()
                && !matches!(data[j], b'=' | b'>')
                && !data[j].is_ascii_whitespace()
            {
                j += 1;
            }
            let attr = &data[a..j];
            while j < data.len() && data[j].is_ascii_whitespace() {
                j += 1;
            }
            if data.get(j) != Some(&b'=') {
                continue;
            }
            j += 1;
            while j < data.len() && data[j].is_ascii_whitespace() {
                j += 1;
            }
            let Some(&quote) = data.get(j).filter(|q| matches!(q, b'"' | b'\'')) else {
                break;
            };
            let v = j + 1;
            let end = memchr::memchr(quote, &data[v..]).map_or(data.len(), |n| v + n);
            attributes.push((attr, v..end));
            j = end + 1;
        }
        let close = memchr::memchr(b'>', &data[j.min(data.len())..]).map_or(data.len(), |n| j + n);
        let self_closing = close > 0 && close <= data.len() && data.get(close - 1) == Some(&b'/');
        let text_start = (close + 1).min(data.len());
        let text_end = if self_closing {
            text_start
        } else {
            memchr::memchr(b'<', &data[text_start..]).map_or(data.len(), |n| text_start + n)
        };
        out.push(Tag {
            name,
            attributes,
            text: text_start..text_end,
        });
        i = text_start;
    }
    out
}

/// The text of elements named `names` (`<password>…</password>`).
pub(super) fn elements(check: usize, data: &[u8], names: &[&str]) -> Vec<CredHit> {
    tags(data)
        .into_iter()
        .filter(|t| names.iter().any(|n| t.name == n.as_bytes()))
        .filter_map(|t| literal(check, data, trim_span(data, t.text)))
        .collect()
}

/// Attributes named `names` on any element (`<fileTransfer password="…">`).
pub(super) fn attributes(check: usize, data: &[u8], names: &[&str]) -> Vec<CredHit> {
    tags(data)
        .into_iter()
        .flat_map(|t| t.attributes)
        .filter(|(n, _)| names.iter().any(|x| n.eq_ignore_ascii_case(x.as_bytes())))
        .filter_map(|(_, v)| literal(check, data, v))
        .collect()
}

/// FileZilla: `<Pass>` elements, plain or `encoding="base64"` (decoded: the finding's
/// secret is the password, its span the base64 text).
pub(super) fn filezilla(check: usize, data: &[u8]) -> Vec<CredHit> {
    let mut hits = Vec::new();
    for tag in tags(data) {
        if tag.name != b"Pass" {
            continue;
        }
        let span = trim_span(data, tag.text.clone());
        let Some(mut hit) = literal(check, data, span) else {
            continue;
        };
        let base64 = tag
            .attribute(b"encoding")
            .is_some_and(|e| data[e].eq_ignore_ascii_case(b"base64"));
        if base64 {
            match base64::engine::general_purpose::STANDARD.decode(&hit.secret) {
                Ok(decoded) if !decoded.is_empty() => {
                    hit.secret = decoded;
                    hit.decoded.push("base64");
                }
                // Not base64 after all: the text itself is what was saved.
                _ => {}
            }
        }
        hits.push(hit);
    }
    hits
}

/// JetBrains data sources: `<user-password>` (scrambled), a `password` element, or a
/// `<property name="password" value="…"/>`.
pub(super) fn datasources(check: usize, data: &[u8]) -> Vec<CredHit> {
    let mut hits = Vec::new();
    for tag in tags(data) {
        match tag.name {
            b"user-password" | b"password" => {
                hits.extend(literal(check, data, trim_span(data, tag.text)));
            }
            b"property" => {
                let named = tag
                    .attribute(b"name")
                    .is_some_and(|n| data[n].eq_ignore_ascii_case(b"password"));
                if let (true, Some(value)) = (named, tag.attribute(b"value")) {
                    hits.extend(literal(check, data, value));
                }
            }
            _ => {}
        }
    }
    hits
}

/// `nuget.config`: `<add key="ClearTextPassword" value="…"/>` (and `Password`, DPAPI
/// encrypted but still the user's credential) under `packageSourceCredentials`.
pub(super) fn nuget(check: usize, data: &[u8]) -> Vec<CredHit> {
    let mut hits = Vec::new();
    for tag in tags(data) {
        if !tag.name.eq_ignore_ascii_case(b"add") {
            continue;
        }
        let is_password = tag.attribute(b"key").is_some_and(|k| {
            let k = &data[k];
            k.eq_ignore_ascii_case(b"ClearTextPassword") || k.eq_ignore_ascii_case(b"Password")
        });
        if let (true, Some(value)) = (is_password, tag.attribute(b"value")) {
            hits.extend(literal(check, data, value));
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::credfiles::literal_secrets as secrets;

    #[test]
    fn filezilla_decodes_base64_passwords() {
        let data = b"<Server><Host>h</Host><Pass encoding=\"base64\">aHVudGVyMg==</Pass></Server>\n<Server><Pass>plain</Pass><Pass></Pass></Server><!-- <Pass>c</Pass> -->";
        let hits = filezilla(0, data);
        assert_eq!(secrets(&hits), ["hunter2", "plain"]);
        assert_eq!(&data[hits[0].span.clone()], b"aHVudGVyMg==");
        assert_eq!(hits[0].decoded, ["base64"]);
    }

    #[test]
    fn nuget_and_attributes() {
        let data = br#"<packageSourceCredentials><feed><add key="Username" value="me" /><add key="ClearTextPassword" value="pw" /><add key="Password" value="%FEED_PW%" /></feed></packageSourceCredentials>"#;
        assert_eq!(secrets(&nuget(0, data)), ["pw"]);
        let web = br#"<fileTransfer host="h" login="u" password="dfd2" />"#;
        assert_eq!(secrets(&attributes(0, web, &["password"])), ["dfd2"]);
    }

    #[test]
    fn unterminated_markup_does_not_panic() {
        for data in [
            &b"<"[..],
            b"<a",
            b"<a b",
            b"<a b=",
            b"<a b='x",
            b"<Pass>x",
            b"<!--",
        ] {
            let _ = filezilla(0, data);
            let _ = attributes(0, data, &["b"]);
        }
    }
}
