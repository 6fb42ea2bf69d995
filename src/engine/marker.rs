//! Inline allow markers: `TOKEN=ghp_… # tollgate:allow test fixture`.
//!
//! A marker covers one finding, the one it annotates: the finding must end before the
//! marker, on the same line, at most `MARKER_REACH` bytes before it, and no other
//! candidate may start between the two. So a marker says "this value is fine" about the
//! value just before it, as people write it (after the secret, in a trailing comment),
//! and one marker in a minified line cannot hide the tokens around it.
//!
//! The markers of a blob are found once, in one pass; each finding then costs a binary
//! search and a look at at most `MARKER_REACH` bytes, so a line with thousands of
//! findings costs no more than thousands of short lines.

use std::ops::Range;

/// The text of a marker.
pub const INLINE_ALLOW_MARKER: &[u8] = b"tollgate:allow";

/// How far after the end of a finding its marker may start: room for a closing quote,
/// a comma or a semicolon, and a comment opener (`"; // tollgate:allow`), not for
/// other values.
pub const MARKER_REACH: usize = 64;

/// Where the markers of one blob start, in order.
#[derive(Debug, Default, Clone)]
pub struct AllowMarkers {
    starts: Vec<usize>,
}

impl AllowMarkers {
    pub fn new(data: &[u8]) -> AllowMarkers {
        AllowMarkers {
            starts: memchr::memmem::find_iter(data, INLINE_ALLOW_MARKER).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Whether a marker covers the finding at `span`. `candidates` holds the start of
    /// every candidate finding of the blob, sorted: any of them between the finding and
    /// the marker takes the marker for itself.
    pub fn covers(&self, data: &[u8], span: Range<usize>, candidates: &[usize]) -> bool {
        let end = span.end.min(data.len());
        let i = self.starts.partition_point(|&m| m < end);
        let Some(&marker) = self.starts.get(i) else {
            return false;
        };
        if marker - end > MARKER_REACH || memchr::memchr(b'\n', &data[end..marker]).is_some() {
            return false;
        }
        let first_after = candidates.partition_point(|&c| c < end);
        candidates.get(first_after).is_none_or(|&c| c >= marker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covered(text: &str, secret: &str, others: &[&str]) -> bool {
        let start = text.find(secret).unwrap();
        let mut candidates: Vec<usize> = others
            .iter()
            .map(|o| text.find(o).unwrap())
            .chain([start])
            .collect();
        candidates.sort_unstable();
        AllowMarkers::new(text.as_bytes()).covers(
            text.as_bytes(),
            start..start + secret.len(),
            &candidates,
        )
    }

    #[test]
    fn a_trailing_comment_covers_the_value_before_it() {
        assert!(covered("TOKEN=abc123 # tollgate:allow test", "abc123", &[]));
        assert!(covered(
            "let t = \"abc123\"; // tollgate:allow fixture",
            "abc123",
            &[]
        ));
        assert!(covered("password: abc123  # tollgate:allow", "abc123", &[]));
    }

    #[test]
    fn a_marker_before_the_value_or_on_another_line_covers_nothing() {
        assert!(!covered("# tollgate:allow\nTOKEN=abc123", "abc123", &[]));
        assert!(!covered("tollgate:allow TOKEN=abc123", "abc123", &[]));
        assert!(!covered("TOKEN=abc123\n# tollgate:allow", "abc123", &[]));
    }

    #[test]
    fn a_far_marker_covers_nothing() {
        let text = format!("TOKEN=abc123 {} tollgate:allow", "x".repeat(MARKER_REACH));
        assert!(!covered(&text, "abc123", &[]));
        let text = format!("TOKEN=abc123{}tollgate:allow", " ".repeat(MARKER_REACH));
        assert!(covered(&text, "abc123", &[]));
    }

    #[test]
    fn a_marker_covers_only_the_nearest_finding() {
        let text = "a=first1 b=second2 # tollgate:allow";
        assert!(covered(text, "second2", &["first1"]));
        assert!(!covered(text, "first1", &["second2"]));
    }

    #[test]
    fn many_markers_and_findings_on_one_line_cost_one_pass() {
        let piece = "x=abcdef123 # tollgate:allow ";
        let text = piece.repeat(200_000);
        let markers = AllowMarkers::new(text.as_bytes());
        let candidates: Vec<usize> = (0..200_000).map(|i| i * piece.len() + 2).collect();
        let start = std::time::Instant::now();
        let all = candidates
            .iter()
            .all(|&c| markers.covers(text.as_bytes(), c..c + 9, &candidates));
        assert!(all);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }
}
