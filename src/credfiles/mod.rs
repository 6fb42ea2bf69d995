//! Credential files: stores whose very presence in a repository is the leak. A `.pgpass`
//! holding `password` is as bad as one holding forty random characters, so nothing here
//! looks at entropy or dictionary words: a store is recognised by its path (once per
//! blob, by name, never by a keyword in every blob), parsed by the small reader of its
//! format family, and every non-empty literal credential in it is reported at high
//! confidence. Only references (`$VAR`, `${VAR}`, `{{ … }}`, `%VAR%`, `<…>`, empty) are
//! left out. Stores that are a key as a whole (`master.key`, PKCS#12, an unencrypted
//! private key) are reported by path and format, binary ones included: `binary_store`
//! is what the sources ask before they skip a blob as binary.

mod binary;
mod catalogue;
mod json;
mod keyvalue;
mod lines;
mod markup;

use std::ops::Range;

pub use binary::{binary_store, BinaryStore};
pub use catalogue::{recognise, Store, CHECKS};

use crate::finding::Confidence;

/// One catalogue entry as `tollgate rules list` shows it.
#[derive(Debug)]
pub struct Check {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    /// Where the format is documented.
    pub reference: &'static str,
}

/// Every credential-file finding is high confidence: the file is the mistake.
pub const CONFIDENCE: Confidence = Confidence::High;

pub fn check_index(id: &str) -> Option<usize> {
    CHECKS.iter().position(|c| c.id == id)
}

/// A literal credential found in a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredHit {
    pub check: usize,
    /// The bytes of the file that hold it (for FileZilla, the base64 text).
    pub span: Range<usize>,
    /// The credential itself (decoded where the store encodes it).
    pub secret: Vec<u8>,
    pub decoded: Vec<&'static str>,
    /// The value is a reference, not a credential: not reported, but no text rule may
    /// report it either.
    pub reference: bool,
}

/// Which catalogue checks run, from the same rule flags as everything else.
#[derive(Debug, Clone)]
pub struct Selection {
    enabled: Vec<bool>,
}

impl Default for Selection {
    fn default() -> Self {
        Selection {
            enabled: vec![true; CHECKS.len()],
        }
    }
}

impl Selection {
    /// `ids` that are not catalogue ids are someone else's.
    pub fn new(disabled: &[String], only: &[String]) -> Selection {
        let named = |ids: &[String], i: usize| ids.iter().any(|id| id == CHECKS[i].id);
        Selection {
            enabled: (0..CHECKS.len())
                .map(|i| (only.is_empty() || named(only, i)) && !named(disabled, i))
                .collect(),
        }
    }

    /// Nothing runs (`--no-builtin-rules`).
    pub fn none() -> Selection {
        Selection {
            enabled: vec![false; CHECKS.len()],
        }
    }

    pub fn is_enabled(&self, check: usize) -> bool {
        self.enabled.get(check).copied().unwrap_or(false)
    }

    pub fn enabled_count(&self) -> usize {
        self.enabled.iter().filter(|e| **e).count()
    }
}

/// A path whose store is judged as a whole file, binary or not (see [`binary_store`]).
pub fn is_whole_file_store(path: &str) -> bool {
    matches!(
        recognise(path),
        Some(Store::Pkcs12 | Store::DbeaverCredentials)
    )
}

/// The credential values of a text blob at `path`, if the path names a store: literals
/// and references (see [`CredHit::reference`]).
pub fn analyze(path: &str, data: &[u8], selection: &Selection) -> Vec<CredHit> {
    let Some(store) = recognise(path) else {
        return Vec::new();
    };
    let mut hits = catalogue::parse(store, data);
    hits.retain(|h| selection.is_enabled(h.check));
    hits
}

/// A value that names where the credential comes from instead of holding it.
pub fn is_reference(value: &[u8]) -> bool {
    let v = value.trim_ascii();
    let ident =
        |s: &[u8]| !s.is_empty() && s.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
    let wrapped = |open: &[u8], close: &[u8]| {
        v.len() >= open.len() + close.len() && v.starts_with(open) && v.ends_with(close)
    };
    v.is_empty()
        || (v[0] == b'$' && ident(&v[1..]))
        || wrapped(b"${", b"}")
        || wrapped(b"$(", b")")
        || wrapped(b"{{", b"}}")
        || (wrapped(b"%", b"%") && v.len() > 2 && ident(&v[1..v.len() - 1]))
        || wrapped(b"<", b">")
        || wrapped(b"`", b"`")
}

/// The value of `check` at `span` of `data`, marked when it is a reference. (An
/// `Option` so that readers can chain it with their own tests.)
pub(crate) fn literal(check: usize, data: &[u8], span: Range<usize>) -> Option<CredHit> {
    let value = &data[span.clone()];
    Some(CredHit {
        check,
        secret: value.to_vec(),
        reference: is_reference(value),
        span,
        decoded: Vec::new(),
    })
}

/// `span` with surrounding spaces and one pair of matching quotes removed.
pub(crate) fn unquote(data: &[u8], span: Range<usize>) -> Range<usize> {
    let mut s = trim_span(data, span);
    if s.end - s.start >= 2 {
        let (a, b) = (data[s.start], data[s.end - 1]);
        if (a == b'"' || a == b'\'') && a == b {
            s = s.start + 1..s.end - 1;
        }
    }
    s
}

pub(crate) fn trim_span(data: &[u8], span: Range<usize>) -> Range<usize> {
    let (mut a, mut b) = (span.start, span.end);
    while a < b && data[a].is_ascii_whitespace() {
        a += 1;
    }
    while b > a && data[b - 1].is_ascii_whitespace() {
        b -= 1;
    }
    a..b
}

/// Each line's span, without its line break.
pub(crate) fn line_spans(data: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= data.len() {
            return None;
        }
        let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
        let line = start..if end > start && data[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        start = end + 1;
        Some(line)
    })
}

/// For the readers' tests: the literal secrets of `hits`, references left out.
#[cfg(test)]
pub(crate) fn literal_secrets(hits: &[CredHit]) -> Vec<String> {
    hits.iter()
        .filter(|h| !h.reference)
        .map(|h| String::from_utf8_lossy(&h.secret).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_not_literals() {
        for r in [
            "",
            "  ",
            "$PGPASSWORD",
            "${DB_PASS}",
            "${{ secrets.X }}",
            "{{ .Values.pw }}",
            "%NUGET_PASSWORD%",
            "<password>",
            "<%= ENV['X'] %>",
            "$(pass show db)",
            "`pass show imap`",
        ] {
            assert!(is_reference(r.as_bytes()), "{r}");
        }
        for l in ["password", "hunter2", "$ecret!", "%", "<b", "100%"] {
            assert!(!is_reference(l.as_bytes()), "{l}");
        }
    }

    #[test]
    fn every_check_is_documented_and_unique() {
        let mut ids: Vec<&str> = CHECKS.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CHECKS.len());
        for c in CHECKS {
            assert!(c.id.starts_with("credfile."), "{}", c.id);
            assert!(c.reference.starts_with("https://"), "{}", c.id);
            assert!(!c.name.is_empty() && !c.description.is_empty(), "{}", c.id);
        }
    }

    #[test]
    fn a_selection_honours_disable_and_only() {
        let pg = check_index("credfile.pgpass").unwrap();
        let off = Selection::new(&["credfile.pgpass".into()], &[]);
        assert!(!off.is_enabled(pg));
        let only = Selection::new(&[], &["credfile.netrc".into()]);
        assert!(!only.is_enabled(pg));
        assert_eq!(only.enabled_count(), 1);
    }
}
