//! Where a finding sits (line and column) and the masked line shown with it.
//!
//! Both are computed for every finding of a blob, which may hold thousands on one
//! minified line, so neither may rescan the blob per finding: positions come from one
//! sweep over the sorted offsets, and a snippet only looks at a bounded region.

use std::ops::Range;

use crate::engine::filters::shannon_entropy;
use crate::engine::Match;
use crate::finding::redact;

/// Bytes of context kept either side of a secret.
const CONTEXT: usize = 120;

/// 1-based line and column (in characters) of byte offsets, computed in one pass.
pub struct Positions {
    offsets: Vec<usize>,
    positions: Vec<(usize, usize)>,
}

impl Positions {
    pub fn new(data: &[u8], offsets: &mut Vec<usize>) -> Positions {
        offsets.sort_unstable();
        offsets.dedup();
        let mut positions = Vec::with_capacity(offsets.len());
        // `pos` only moves forward: each byte is looked at once, however many offsets.
        let (mut line, mut pos, mut column) = (1, 0, 1);
        for &offset in offsets.iter() {
            let offset = offset.min(data.len());
            let newlines = memchr::memchr_iter(b'\n', &data[pos..offset]).count();
            if newlines > 0 {
                line += newlines;
                pos = memchr::memrchr(b'\n', &data[pos..offset]).map_or(pos, |p| pos + p + 1);
                column = 1;
            }
            column += char_count(&data[pos..offset]);
            pos = offset;
            positions.push((line, column));
        }
        Positions {
            offsets: std::mem::take(offsets),
            positions,
        }
    }

    pub fn of(&self, offset: usize) -> (usize, usize) {
        let i = self.offsets.partition_point(|&o| o < offset);
        self.positions.get(i).copied().unwrap_or((1, 1))
    }
}

/// Characters in UTF-8 text; bytes of invalid sequences count one each.
fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

/// What a blob's snippets must mask, gathered once per blob: the spans of every match
/// (merged into disjoint, sorted ranges) and the direct matches by position, so that
/// each snippet costs about its own region, however many findings share a line.
pub struct SnippetMasks<'a> {
    spans: Vec<Range<usize>>,
    /// Direct matches (their text is in the blob) sorted by start, and for each the
    /// furthest end of it and those before it: the matches that may reach a region
    /// start at the first whose furthest end passes the region's start.
    direct: Vec<(Range<usize>, &'a [u8])>,
    furthest_end: Vec<usize>,
    /// The values that look like credentials in every region a snippet will show, found
    /// once (a byte lies in the regions of every finding near it).
    credential_like: Vec<Range<usize>>,
}

impl<'a> SnippetMasks<'a> {
    /// `all`: every match to mask; `shown`: the spans whose snippets will be asked for.
    pub fn new(
        data: &[u8],
        all: &'a [Match],
        shown: impl Iterator<Item = Range<usize>>,
    ) -> SnippetMasks<'a> {
        let mut regions: Vec<Range<usize>> = shown.map(|span| region(data, &span)).collect();
        regions.sort_unstable_by_key(|r| r.start);
        let mut credential_like = Vec::new();
        let mut done = 0;
        for r in regions {
            let from = r.start.max(done);
            if from < r.end {
                credential_like.extend(credential_like_tokens(data, from..r.end));
                done = r.end;
            }
        }
        let mut spans: Vec<Range<usize>> = all.iter().map(|m| m.span.clone()).collect();
        spans.sort_unstable_by_key(|r| r.start);
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
        for r in spans {
            match merged.last_mut() {
                Some(last) if last.end >= r.start => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        // Decoded secrets are not in the blob's own text: only direct ones are looked for.
        let mut direct: Vec<(Range<usize>, &[u8])> = all
            .iter()
            .filter(|m| m.decoded.is_empty())
            .map(|m| (m.span.clone(), m.secret.as_slice()))
            .collect();
        direct.sort_unstable_by(|a, b| (a.0.start, a.0.end, a.1).cmp(&(b.0.start, b.0.end, b.1)));
        direct.dedup();
        let furthest_end = direct
            .iter()
            .scan(0, |furthest, (span, _)| {
                *furthest = span.end.max(*furthest);
                Some(*furthest)
            })
            .collect();
        SnippetMasks {
            spans: merged,
            direct,
            furthest_end,
            credential_like,
        }
    }

    /// The ranges to mask inside `region`, sorted by start.
    fn within(&self, data: &[u8], region: Range<usize>) -> Vec<Range<usize>> {
        let mut masks: Vec<Range<usize>> = Vec::new();
        let first = self.spans.partition_point(|r| r.end <= region.start);
        for r in &self.spans[first..] {
            if r.start >= region.end {
                break;
            }
            masks.push(r.start.max(region.start)..r.end.min(region.end));
        }
        // Every other occurrence, in the region, of the text of a match on it.
        let hay = &data[region.clone()];
        let first = self
            .furthest_end
            .partition_point(|&end| end <= region.start);
        for (span, secret) in &self.direct[first.min(self.direct.len())..] {
            if span.start >= region.end {
                break;
            }
            if span.end > region.start && secret.len() >= 6 {
                for at in memchr::memmem::find_iter(hay, secret) {
                    masks.push(region.start + at..region.start + at + secret.len());
                }
            }
        }
        let first = self
            .credential_like
            .partition_point(|r| r.end <= region.start);
        for r in &self.credential_like[first..] {
            if r.start >= region.end {
                break;
            }
            masks.push(r.start.max(region.start)..r.end.min(region.end));
        }
        masks.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        masks
    }
}

/// The line of a match, at most `CONTEXT` bytes either side, with control characters
/// escaped. When redacting, every secret in view is masked: every match on the region,
/// every other occurrence of their text, and every other value that looks like a
/// credential, so that a snippet never shows what a filter or a disabled rule let pass.
pub fn snippet(data: &[u8], m: &Match, masks: &SnippetMasks, redact_secrets: bool) -> String {
    let region = region(data, &m.span);
    let (from, to) = (region.start, region.end);
    let masks = if redact_secrets {
        masks.within(data, region.clone())
    } else {
        Vec::new()
    };

    let mut out = String::new();
    if from > 0 && data[from - 1] != b'\n' {
        out.push('…');
    }
    let mut pos = region.start;
    for mask in masks {
        if mask.start < pos {
            if mask.end > pos {
                pos = mask.end;
            }
            continue;
        }
        push_escaped(&mut out, &data[pos..mask.start]);
        push_escaped(
            &mut out,
            redact(&String::from_utf8_lossy(&data[mask.clone()])).as_bytes(),
        );
        pos = mask.end;
    }
    push_escaped(&mut out, &data[pos.min(region.end)..region.end]);
    if to < data.len() && data[to] != b'\n' {
        out.push('…');
    }
    out.trim().to_string()
}

/// What the snippet of `span` shows: its line, at most `CONTEXT` bytes either side.
fn region(data: &[u8], span: &Range<usize>) -> Range<usize> {
    let start = span.start.min(data.len());
    let floor = start.saturating_sub(CONTEXT);
    let from = memchr::memrchr(b'\n', &data[floor..start]).map_or(floor, |p| floor + p + 1);
    let ceil = (start.max(span.end.min(start + CONTEXT)) + CONTEXT).min(data.len());
    let to = memchr::memchr(b'\n', &data[start..ceil]).map_or(ceil, |p| start + p);
    from..to
}

/// Values on the line that look like credentials: eight or more characters between
/// delimiters, mixing letters with digits or symbols, with some entropy.
fn credential_like_tokens(data: &[u8], region: Range<usize>) -> Vec<Range<usize>> {
    let is_delimiter = |b: u8| b.is_ascii_whitespace() || b"\"'`=:,;(){}[]<>".contains(&b);
    let mut out = Vec::new();
    let mut i = region.start;
    while i < region.end {
        if is_delimiter(data[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < region.end && !is_delimiter(data[i]) {
            i += 1;
        }
        let token = &data[start..i];
        let letters = token.iter().any(u8::is_ascii_alphabetic);
        let digits = token.iter().any(u8::is_ascii_digit);
        let symbols = token.iter().any(|b| b"!@#$%^&*+?~|".contains(b));
        if token.len() >= 8 && letters && (digits || symbols) && shannon_entropy(token) >= 3.0 {
            out.push(start..i);
        }
    }
    out
}

/// Text as a terminal, a spreadsheet or a CI page may safely show it: every character
/// that `acts_on_display` is written as a visible `\u{..}` escape; bytes that are not
/// UTF-8 (a lone 0x9B, the 8-bit CSI, among them) become U+FFFD. The one escaping every
/// human-facing output uses.
pub fn push_escaped(out: &mut String, bytes: &[u8]) {
    for c in String::from_utf8_lossy(bytes).chars() {
        if acts_on_display(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
}

/// A path or other text made safe to print on a terminal.
pub fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text.as_bytes());
    out
}

/// A character a display acts on rather than shows: C0 and C1 controls and DEL (escape
/// sequences, carriage returns and newlines that forge lines, BEL, U+009B CSI), the
/// bidirectional marks, overrides and isolates that reorder what is shown (Trojan
/// Source), and the Unicode line and paragraph separators. A tab is only whitespace.
pub fn acts_on_display(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let data = "ab\ncdé f\n".as_bytes();
        let p = Positions::new(data, &mut vec![8, 0, 3]);
        assert_eq!(p.of(0), (1, 1));
        assert_eq!(p.of(3), (2, 1));
        assert_eq!(p.of(8), (2, 5));
    }

    #[test]
    fn many_offsets_on_one_long_line_are_cheap_and_right() {
        let data = "x".repeat(1_000_000);
        let mut offsets: Vec<usize> = (0..1_000_000).step_by(500).collect();
        let p = Positions::new(data.as_bytes(), &mut offsets);
        assert_eq!(p.of(999_500), (1, 999_501));
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escaped("a\u{1b}[2Kb\r"), "a\\u{1b}[2Kb\\u{d}");
        assert_eq!(escaped("\u{7}\n\u{7f}\tx"), "\\u{7}\\u{a}\\u{7f}\tx");
        // C1 controls, the 8-bit CSI among them.
        assert_eq!(escaped("\u{85}\u{9b}2J"), "\\u{85}\\u{9b}2J");
        // Bidirectional overrides, isolates and marks; line separators.
        assert_eq!(
            escaped("a\u{202E}b\u{2066}c\u{200F}d\u{2028}"),
            "a\\u{202e}b\\u{2066}c\\u{200f}d\\u{2028}"
        );
        // Bytes that are not UTF-8 (a lone 0x9B) never reach the terminal as they are.
        let mut out = String::new();
        push_escaped(&mut out, b"x\x9b[2Jy");
        assert_eq!(out, "x\u{FFFD}[2Jy");
        // What escaping writes needs no escaping again.
        let once = escaped("\u{1b}]0;t\u{7}\u{202e}");
        assert_eq!(escaped(&once), once);
        assert_eq!(escaped("é 😀 ünïcode"), "é 😀 ünïcode");
    }

    #[test]
    fn credential_like_values_are_masked_even_without_a_match() {
        let data = b"export DB_PASSWORD='Tr0ub4dor3x9Qz'; mysql -u root -pHq7vRt2Lm9z --host db";
        let tokens = credential_like_tokens(data, 0..data.len());
        let texts: Vec<&[u8]> = tokens.iter().map(|r| &data[r.clone()]).collect();
        assert!(texts.contains(&&b"Tr0ub4dor3x9Qz"[..]), "{texts:?}");
        assert!(texts.contains(&&b"-pHq7vRt2Lm9z"[..]), "{texts:?}");
        assert!(!texts.contains(&&b"DB_PASSWORD"[..]));
    }
}
