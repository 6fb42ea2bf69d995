//! How a blob's bytes are read before they are scanned: as they are, transcoded from
//! UTF-16 or UTF-32, or not at all (binary, a Git LFS pointer). Every source (directory
//! walk, history, push, index) and the added-lines filter classify through [`sniff`], so
//! one rule decides what is text everywhere.
//!
//! The rule is built so that no prefix or name a pusher picks can hide text: content git
//! shows as text (no NUL byte in the first 8000 bytes) is always scanned as it is. A
//! byte-order mark only *adds* a reading: the transcoded text is scanned besides the raw
//! bytes. A blob is skipped
//! as binary only when git would call it binary and no byte-order mark offers another
//! reading; as an LFS pointer only when the whole blob is a pointer per the spec.

use std::borrow::Cow;

/// Git's binary test looks at this many leading bytes for a NUL.
pub const BINARY_CHECK_WINDOW: usize = 8000;

/// How a view's bytes were obtained from the blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The bytes themselves (UTF-8, ASCII, Latin-1, anything git shows as text).
    AsIs,
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

/// One reading of a blob that is scanned. Line numbers and columns of its findings are
/// those of `text`: for a transcoded view, of the UTF-8 text a UTF-16/32-aware editor
/// shows (newlines are kept, so line numbers match the file's lines).
#[derive(Debug, Clone)]
pub struct View<'a> {
    pub encoding: Encoding,
    pub text: Cow<'a, [u8]>,
}

/// What a blob is, for scanning.
#[derive(Debug)]
pub enum Sniffed<'a> {
    /// Scan each view (one in all but the rarest cases).
    Text(Vec<View<'a>>),
    Binary,
    LfsPointer,
}

/// Classify a blob and build the views to scan.
///
/// - No NUL anywhere: text, as it is. A UTF-16 or UTF-32 reading of such bytes has no
///   character below U+0100 (every code unit has a non-zero high byte), so no ASCII
///   keyword or secret could appear in it: a byte-order mark then changes nothing.
/// - A UTF-16/32 byte-order mark and a NUL somewhere: the transcoded text, and the bytes
///   as they are too (a mark cannot vouch for what follows it: a UTF-16 first line may
///   be followed by ASCII, and a UTF-32 mark's own zero bytes make ASCII after it look
///   binary). Transcoding is lossy (an unpaired surrogate becomes U+FFFD), so
///   bad units cannot make the rest of the text vanish, and the transcoded text is not
///   put through the NUL test: U+0000 characters are no way to have it skipped.
/// - Otherwise a NUL in the first 8000 bytes is binary, and one past them is text.
pub fn sniff(bytes: &[u8]) -> Sniffed<'_> {
    if is_lfs_pointer(bytes) {
        return Sniffed::LfsPointer;
    }
    let Some(first_nul) = memchr::memchr(0, bytes) else {
        return Sniffed::Text(vec![as_is(bytes)]);
    };
    let mut views = Vec::new();
    let marked = bom_encodings(bytes);
    // A mark says nothing about the bytes after it: whatever part of them is not really
    // that encoding (ASCII after a UTF-16 first line, ASCII after a UTF-32 mark, whose
    // own zero bytes are the only NULs) is text only as it is. A real UTF-16/32 file
    // read as it is holds no ASCII run a rule could match, so this costs one cheap scan.
    if first_nul >= BINARY_CHECK_WINDOW || !marked.is_empty() {
        views.push(as_is(bytes));
    }
    for &encoding in marked {
        views.push(View {
            encoding,
            text: Cow::Owned(transcode(bytes, encoding)),
        });
    }
    if views.is_empty() {
        Sniffed::Binary
    } else {
        Sniffed::Text(views)
    }
}

/// Whether a blob that starts with `head` (its first [`BINARY_CHECK_WINDOW`] bytes, or
/// all of it when shorter) is binary, so the rest need not be read: [`sniff`] would say
/// [`Sniffed::Binary`] for any blob with this head that is not an LFS pointer (which a
/// blob with a NUL never is).
pub fn binary_by_head(head: &[u8]) -> bool {
    let head = &head[..head.len().min(BINARY_CHECK_WINDOW)];
    memchr::memchr(0, head).is_some() && bom_encodings(head).is_empty()
}

fn as_is(bytes: &[u8]) -> View<'_> {
    View {
        encoding: Encoding::AsIs,
        text: Cow::Borrowed(bytes),
    }
}

/// The readings a byte-order mark at the start offers. `FF FE 00 00` is the UTF-32LE mark
/// and also the UTF-16LE mark followed by U+0000: both are read, so neither can be used
/// to hide the other.
fn bom_encodings(bytes: &[u8]) -> &'static [Encoding] {
    match bytes {
        [0xFF, 0xFE, 0, 0, ..] => &[Encoding::Utf32Le, Encoding::Utf16Le],
        [0xFF, 0xFE, ..] => &[Encoding::Utf16Le],
        [0xFE, 0xFF, ..] => &[Encoding::Utf16Be],
        [0, 0, 0xFE, 0xFF, ..] => &[Encoding::Utf32Be],
        _ => &[],
    }
}

/// The text after the byte-order mark as UTF-8; invalid units and a trailing partial
/// unit become U+FFFD.
fn transcode(bytes: &[u8], encoding: Encoding) -> Vec<u8> {
    let mut out = String::with_capacity(bytes.len());
    match encoding {
        Encoding::AsIs => return bytes.to_vec(),
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let body = &bytes[2..];
            let units = body.chunks_exact(2).map(|c| match encoding {
                Encoding::Utf16Le => u16::from_le_bytes([c[0], c[1]]),
                _ => u16::from_be_bytes([c[0], c[1]]),
            });
            out.extend(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
            if body.len() % 2 != 0 {
                out.push(char::REPLACEMENT_CHARACTER);
            }
        }
        Encoding::Utf32Le | Encoding::Utf32Be => {
            let body = &bytes[4..];
            out.extend(body.chunks_exact(4).map(|c| {
                let c = [c[0], c[1], c[2], c[3]];
                let unit = match encoding {
                    Encoding::Utf32Le => u32::from_le_bytes(c),
                    _ => u32::from_be_bytes(c),
                };
                char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER)
            }));
            if body.len() % 4 != 0 {
                out.push(char::REPLACEMENT_CHARACTER);
            }
        }
    }
    out.into_bytes()
}

/// Git LFS caps pointer files at this size (its own parser reads no more).
const LFS_POINTER_MAX: usize = 1024;

/// A Git LFS pointer file: the blob stands for content stored elsewhere. Only a blob that
/// is a pointer and nothing else counts (the spec's grammar: the version line first, then
/// the keys in order, `ext-<digit>-<name> sha256:<hex>` lines, `oid sha256:<64 hex>`,
/// `size <digits>`, each line ending in LF): anything after or between the lines would
/// otherwise be hidden behind a pointer's first line.
pub fn is_lfs_pointer(data: &[u8]) -> bool {
    if data.len() >= LFS_POINTER_MAX {
        return false;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    // The last line may lack its LF (an editor's doing); nothing may follow it.
    let text = text.strip_suffix('\n').unwrap_or(text);
    let mut lines = text.split('\n');
    if !matches!(
        lines.next(),
        Some(
            "version https://git-lfs.github.com/spec/v1"
                | "version https://hawser.github.com/spec/v1"
        )
    ) {
        return false;
    }
    let mut line = lines.next();
    let mut last_ext: Option<&str> = None;
    while let Some(ext) = line.and_then(|l| l.strip_prefix("ext-")) {
        let Some((key, value)) = ext.split_once(' ') else {
            return false;
        };
        let valid_key = key.len() > 2
            && key.as_bytes()[0].is_ascii_digit()
            && key.as_bytes()[1] == b'-'
            && key[2..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        if !valid_key || !is_sha256_oid(value) || last_ext.is_some_and(|prev| prev >= key) {
            return false;
        }
        last_ext = Some(key);
        line = lines.next();
    }
    let oid = line.and_then(|l| l.strip_prefix("oid "));
    let size = lines.next().and_then(|l| l.strip_prefix("size "));
    oid.is_some_and(is_sha256_oid)
        && size.is_some_and(|s| {
            !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())
        })
        && lines.next().is_none()
}

fn is_sha256_oid(value: &str) -> bool {
    value.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OID: &str = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";

    fn views(bytes: &[u8]) -> Vec<(Encoding, Vec<u8>)> {
        match sniff(bytes) {
            Sniffed::Text(v) => v
                .into_iter()
                .map(|v| (v.encoding, v.text.into_owned()))
                .collect(),
            other => panic!("not text: {other:?}"),
        }
    }

    fn utf16le(text: &str) -> Vec<u8> {
        let mut out = vec![0xFF, 0xFE];
        for u in text.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out
    }

    fn utf16be(text: &str) -> Vec<u8> {
        let mut out = vec![0xFE, 0xFF];
        for u in text.encode_utf16() {
            out.extend_from_slice(&u.to_be_bytes());
        }
        out
    }

    #[test]
    fn a_utf16_mark_before_plain_text_leaves_the_text_as_it_is() {
        for mark in [&[0xFF, 0xFE][..], &[0xFE, 0xFF], &[0xEF, 0xBB, 0xBF]] {
            let mut bytes = mark.to_vec();
            bytes.extend_from_slice(b"\nGITHUB_TOKEN=ghp_abc\n");
            assert_eq!(views(&bytes), vec![(Encoding::AsIs, bytes.clone())]);
        }
    }

    #[test]
    fn real_utf16_is_transcoded_both_ways() {
        let le = utf16le("key=abc\nx");
        assert_eq!(
            views(&le),
            vec![
                (Encoding::AsIs, le.clone()),
                (Encoding::Utf16Le, b"key=abc\nx".to_vec())
            ]
        );
        let be = utf16be("key=abc\nx");
        assert_eq!(
            views(&be),
            vec![
                (Encoding::AsIs, be.clone()),
                (Encoding::Utf16Be, b"key=abc\nx".to_vec())
            ]
        );
    }

    #[test]
    fn ascii_after_a_mark_is_read_as_it_is_whatever_the_nul_bytes() {
        // A UTF-32 mark's own zero bytes are the only NULs.
        for mark in [&[0xFF, 0xFE, 0, 0][..], &[0, 0, 0xFE, 0xFF]] {
            let mut bytes = mark.to_vec();
            bytes.extend_from_slice(b"\nGITHUB_TOKEN=ghp_abc\n");
            assert!(views(&bytes)
                .iter()
                .any(|(e, t)| *e == Encoding::AsIs && t == &bytes));
        }
        // A real UTF-16 first line, then ASCII: the UTF-16 reading turns the tail into
        // CJK characters; the bytes as they are still hold it.
        let mut mixed = utf16le("# notes\n");
        mixed.extend_from_slice(b"GITHUB_TOKEN=ghp_abc\n");
        let got = views(&mixed);
        assert_eq!(got[0], (Encoding::AsIs, mixed.clone()));
        assert_eq!(got[1].0, Encoding::Utf16Le);
    }

    #[test]
    fn utf32_is_transcoded_and_its_mark_also_read_as_utf16() {
        let mut le = vec![0xFF, 0xFE, 0, 0];
        let mut be = vec![0, 0, 0xFE, 0xFF];
        for c in "token=é1".chars() {
            le.extend_from_slice(&(c as u32).to_le_bytes());
            be.extend_from_slice(&(c as u32).to_be_bytes());
        }
        let got = views(&le);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0], (Encoding::AsIs, le.clone()));
        assert_eq!(got[1], (Encoding::Utf32Le, "token=é1".as_bytes().to_vec()));
        assert_eq!(got[2].0, Encoding::Utf16Le);
        assert_eq!(
            views(&be),
            vec![
                (Encoding::AsIs, be.clone()),
                (Encoding::Utf32Be, "token=é1".as_bytes().to_vec())
            ]
        );
        // UTF-16LE text whose first character is U+0000 is not lost to the UTF-32 reading.
        let hidden = utf16le("\0key=abc");
        assert!(views(&hidden)
            .iter()
            .any(|(e, t)| *e == Encoding::Utf16Le && t.ends_with(b"key=abc")));
    }

    #[test]
    fn bad_units_and_nul_characters_do_not_hide_utf16_text() {
        let mut bytes = utf16le("\0\0a");
        bytes.extend_from_slice(&[0x00, 0xD8]); // an unpaired high surrogate
        bytes.extend_from_slice(&utf16le("key=abc")[2..]);
        bytes.push(b'x'); // odd length
                          // `FF FE 00 00` is also the UTF-32LE mark: both readings are made.
        let got = views(&bytes);
        assert_eq!(
            got.iter().map(|v| v.0).collect::<Vec<_>>(),
            [Encoding::AsIs, Encoding::Utf32Le, Encoding::Utf16Le]
        );
        assert_eq!(
            String::from_utf8(got[2].1.clone()).unwrap(),
            "\0\0a\u{FFFD}key=abc\u{FFFD}"
        );
    }

    #[test]
    fn a_mark_before_text_with_a_late_nul_gives_both_readings() {
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(std::iter::repeat_n(b'a', BINARY_CHECK_WINDOW));
        bytes.extend_from_slice(b"GITHUB_TOKEN=ghp_abc\0");
        let got = views(&bytes);
        assert_eq!(
            got.iter().map(|v| v.0).collect::<Vec<_>>(),
            [Encoding::AsIs, Encoding::Utf16Le]
        );
        assert_eq!(got[0].1, bytes);
    }

    #[test]
    fn nul_in_the_window_is_binary_past_it_text() {
        assert!(matches!(sniff(b"abc\0def"), Sniffed::Binary));
        let mut late = vec![b'a'; BINARY_CHECK_WINDOW];
        late.extend_from_slice(b"\0key=abc");
        assert_eq!(views(&late), vec![(Encoding::AsIs, late.clone())]);
        assert!(matches!(sniff(&late[1..]), Sniffed::Binary));
        assert!(binary_by_head(b"abc\0"));
        assert!(!binary_by_head(&late));
        assert!(!binary_by_head(&utf16le("abc")));
        assert!(!binary_by_head(b"\xFE\xFF\0a"));
        assert!(!binary_by_head("plain text é".as_bytes()));
    }

    #[test]
    fn utf8_mark_is_scanned_as_it_is() {
        let bytes = b"\xEF\xBB\xBFkey=abc\n";
        assert_eq!(views(bytes), vec![(Encoding::AsIs, bytes.to_vec())]);
    }

    #[test]
    fn only_a_whole_pointer_is_an_lfs_pointer() {
        let pointer =
            format!("version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\nsize 12345\n");
        assert!(is_lfs_pointer(pointer.as_bytes()));
        assert!(matches!(sniff(pointer.as_bytes()), Sniffed::LfsPointer));
        assert!(is_lfs_pointer(pointer.trim_end().as_bytes()));
        let with_ext = format!(
            "version https://git-lfs.github.com/spec/v1\next-0-foo sha256:{OID}\next-1-bar sha256:{OID}\noid sha256:{OID}\nsize 1\n"
        );
        assert!(is_lfs_pointer(with_ext.as_bytes()));
        let not = [
            format!("{pointer}GITHUB_TOKEN=ghp_abc\n"),
            format!("{pointer}\n"),
            "version https://git-lfs.github.com/spec/v1\nGITHUB_TOKEN=ghp_abc\n".to_string(),
            "version https://git-lfs.github.com/spec/v1\n".to_string(),
            format!("version https://git-lfs.github.com/spec/v1\noid sha256:{OID}\nsize 12a\n"),
            format!("version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize 1\n", &OID[1..]),
            format!("version https://git-lfs.github.com/spec/v1\nsize 1\noid sha256:{OID}\n"),
            format!("version https://git-lfs.github.com/spec/v1\r\noid sha256:{OID}\r\nsize 1\r\n"),
            format!("version https://git-lfs.github.com/spec/v1\next-1-b sha256:{OID}\next-0-a sha256:{OID}\noid sha256:{OID}\nsize 1\n"),
            format!("version https://git-lfs.github.com/spec/v1\next-0-a key=abc\noid sha256:{OID}\nsize 1\n"),
            format!("version https://git-lfs.github.com/spec/v1x\noid sha256:{OID}\nsize 1\n"),
            "version = 1\n".to_string(),
        ];
        for text in &not {
            assert!(!is_lfs_pointer(text.as_bytes()), "{text:?}");
        }
        let long_name = "a".repeat(1000);
        let padded = format!(
            "version https://git-lfs.github.com/spec/v1\next-0-{long_name} sha256:{OID}\noid sha256:{OID}\nsize 1\n"
        );
        assert!(!is_lfs_pointer(padded.as_bytes()));
    }
}
