//! Sources yield blobs: bytes plus where they came from. Every job (directory, history,
//! push, index) is a source feeding the same engine.

pub mod dir;
pub mod git;
pub mod index;
pub mod messages;
pub mod ref_content;

use crate::finding::GitContext;

/// Where a blob's bytes came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The path as shown to the user.
    pub path: String,
    /// The path relative to the scan root, `/`-separated: part of the fingerprint.
    pub rel_path: String,
    /// Commit provenance, when the blob came from history.
    pub git: Option<GitContext>,
}

#[derive(Debug, Clone)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub provenance: Provenance,
}

/// Git's own test for binary content: a NUL byte in the first 8000 bytes.
pub fn is_binary(bytes: &[u8]) -> bool {
    memchr::memchr(0, &bytes[..bytes.len().min(8000)]).is_some()
}

/// File types whose content always has NUL bytes near the start (in headers git's
/// binary test looks at), so a blob with one of these extensions would be skipped as
/// binary once read. A history scan skips them without inflating them; PDF and SVG,
/// which can be text, are not in the list.
const BINARY_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "ico", "webp", "bmp", "tif", "tiff", "woff", "woff2", "ttf",
    "otf", "eot", "zip", "gz", "tgz", "bz2", "xz", "zst", "7z", "jar", "war", "ear", "class", "so",
    "dll", "exe", "dylib", "o", "a", "pyc", "mp3", "mp4", "mov", "avi", "webm", "ogg", "wasm",
];

/// Whether a path names one of the always-binary file types above.
pub fn has_binary_extension(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.').is_some_and(|(stem, ext)| {
        !stem.is_empty()
            && BINARY_EXTENSIONS
                .iter()
                .any(|b| ext.eq_ignore_ascii_case(b))
    })
}

/// UTF-16 text (with a byte-order mark) transcoded to UTF-8, so that it is scanned as
/// text rather than skipped as binary. Other bytes are returned unchanged.
pub fn utf16_to_utf8(bytes: Vec<u8>) -> Vec<u8> {
    let little = match bytes.get(..2) {
        Some([0xFF, 0xFE]) => true,
        Some([0xFE, 0xFF]) => false,
        _ => return bytes,
    };
    let units = bytes[2..].chunks_exact(2).map(|c| {
        if little {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect::<String>()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_marks_binary() {
        assert!(is_binary(b"abc\0def"));
        assert!(!is_binary("plain text é".as_bytes()));
        let mut late = vec![b'a'; 9000];
        late.push(0);
        assert!(!is_binary(&late));
    }

    #[test]
    fn binary_extensions_are_recognised_by_name_only() {
        assert!(has_binary_extension("assets/logo.PNG"));
        assert!(has_binary_extension("lib/app.jar"));
        assert!(!has_binary_extension("docs/report.pdf"));
        assert!(!has_binary_extension("icons/logo.svg"));
        assert!(!has_binary_extension(".png"));
        assert!(!has_binary_extension("png"));
        assert!(!has_binary_extension("dir.png/config.yaml"));
    }

    #[test]
    fn utf16_with_bom_becomes_utf8() {
        let mut le = vec![0xFF, 0xFE];
        for u in "key=abc".encode_utf16() {
            le.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(utf16_to_utf8(le), b"key=abc");
        assert_eq!(utf16_to_utf8(b"plain".to_vec()), b"plain");
    }
}
