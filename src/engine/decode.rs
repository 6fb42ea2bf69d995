//! Decoders find encoded spans (base64, percent-encoding) in a blob and decode them, so
//! the engine can scan the decoded text again. A hit inside decoded text is reported at
//! the encoded span. Depth, span size and span count are bounded by the caller's limits.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

/// Shortest base64 run worth decoding: 24 characters decode to 18 bytes.
const MIN_BASE64_RUN: usize = 24;
/// Decoded text shorter than this holds no credential worth reporting.
const MIN_DECODED_LEN: usize = 12;
/// The shortest base64 body that can decode to `MIN_DECODED_LEN` bytes. A probe can land
/// in a shorter run than `MIN_BASE64_RUN` (it is not known to be short until walked),
/// and in source code most such runs are identifiers of a few letters.
const MIN_DECODABLE_RUN: usize = MIN_DECODED_LEN.div_ceil(3) * 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Base64,
    Percent,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Percent => "percent",
        }
    }
}

/// An encoded span of a blob and what it decodes to.
#[derive(Debug, Clone)]
pub struct DecodedSpan {
    pub start: usize,
    pub end: usize,
    pub encoding: Encoding,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy)]
pub struct DecodeLimits {
    /// Encoded spans longer than this are not decoded.
    pub max_span: usize,
    /// At most this many spans are decoded per blob.
    pub max_spans: usize,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_span: 64 * 1024,
            max_spans: 2048,
        }
    }
}

const fn lenient(alphabet: &alphabet::Alphabet) -> GeneralPurpose {
    GeneralPurpose::new(
        alphabet,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
}

/// Built once: building a decoder costs more than most blobs spend decoding.
static STANDARD: GeneralPurpose = lenient(&alphabet::STANDARD);
static URL_SAFE: GeneralPurpose = lenient(&alphabet::URL_SAFE);

/// Bytes of either base64 alphabet (padding is handled apart: `=` ends a run).
const BASE64_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'-' | b'_');
        b += 1;
    }
    table
};

fn is_base64_byte(b: u8) -> bool {
    BASE64_BYTES[b as usize]
}

/// Every 4-character group of base64 encodes 3 bytes, and its first character holds the
/// top 6 bits of the first byte. For ASCII text that byte is below 0x80, so the character
/// is one of `A-Z a-f`. Checking this before decoding rejects hex digests, identifiers and
/// binary blobs at a quarter of the cost of decoding them.
fn may_encode_text(body: &[u8]) -> bool {
    let leads = body.iter().step_by(4);
    let groups = body.len().div_ceil(4);
    let textual = leads
        .filter(|&&c| c.is_ascii_uppercase() || (b'a'..=b'f').contains(&c))
        .count();
    textual * 100 >= groups * 95
}

/// Text a person could have written: printable ASCII and whitespace, nearly throughout.
fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.len() < MIN_DECODED_LEN {
        return false;
    }
    let printable = bytes
        .iter()
        .filter(|&&b| (0x20..0x7f).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t'))
        .count();
    printable * 100 >= bytes.len() * 95
}

/// Base64 runs (standard or URL-safe alphabet) that decode to text.
pub fn decode_base64_spans(data: &[u8], limits: DecodeLimits, out: &mut Vec<DecodedSpan>) {
    let mut i = 0;
    while i + MIN_BASE64_RUN <= data.len() && out.len() < limits.max_spans {
        // A run long enough to decode covers the byte MIN_BASE64_RUN - 1 ahead; if that
        // byte cannot be base64, no such run starts before it.
        let probe = i + MIN_BASE64_RUN - 1;
        if !is_base64_byte(data[probe]) {
            i = probe + 1;
            continue;
        }
        let floor = i;
        i = probe + 1;
        while i < data.len() && is_base64_byte(data[i]) {
            i += 1;
        }
        let end = i;
        while i < data.len() && data[i] == b'=' && i < end + 2 {
            i += 1;
        }
        // Shorter bodies decode to too little for `looks_like_text`; checking their
        // letters and decoding them only cost time. A body that long covers the byte
        // `MIN_DECODABLE_RUN` before its end, so when that byte is not base64 the walk
        // back (the costliest part on source code, full of short identifiers) is spared.
        // `end` is past the probe, so that byte is at or after `floor`.
        if !is_base64_byte(data[end - MIN_DECODABLE_RUN]) {
            continue;
        }
        let mut start = probe;
        while start > floor && is_base64_byte(data[start - 1]) {
            start -= 1;
        }
        let body = &data[start..end];
        if body.len() < MIN_DECODABLE_RUN || body.len() > limits.max_span || !may_encode_text(body)
        {
            continue;
        }
        let std_chars = body.iter().any(|b| matches!(b, b'+' | b'/'));
        let url_chars = body.iter().any(|b| matches!(b, b'-' | b'_'));
        let engine = match (std_chars, url_chars) {
            (true, true) => continue,
            (false, true) => &URL_SAFE,
            _ => &STANDARD,
        };
        // A length of 4n+1 cannot be base64; the last character is not part of it.
        let body = if body.len() % 4 == 1 {
            &body[..body.len() - 1]
        } else {
            body
        };
        if let Ok(bytes) = engine.decode(body) {
            if looks_like_text(&bytes) {
                out.push(DecodedSpan {
                    start,
                    end: i,
                    encoding: Encoding::Base64,
                    bytes,
                });
            }
        }
    }
}

fn ends_percent_run(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`')
}

/// Runs of non-space text holding `%XX` escapes, decoded.
pub fn decode_percent_spans(data: &[u8], limits: DecodeLimits, out: &mut Vec<DecodedSpan>) {
    let mut last_end = 0;
    for pos in memchr::memchr_iter(b'%', data) {
        if out.len() >= limits.max_spans {
            break;
        }
        if pos < last_end
            || pos + 2 >= data.len()
            || !data[pos + 1].is_ascii_hexdigit()
            || !data[pos + 2].is_ascii_hexdigit()
        {
            continue;
        }
        let start = data[..pos]
            .iter()
            .rposition(|&b| ends_percent_run(b))
            .map_or(0, |p| p + 1)
            .max(last_end);
        let end = data[pos..]
            .iter()
            .position(|&b| ends_percent_run(b))
            .map_or(data.len(), |p| pos + p);
        last_end = end;
        if end - start > limits.max_span {
            continue;
        }
        let bytes: Vec<u8> = percent_encoding::percent_decode(&data[start..end]).collect();
        if looks_like_text(&bytes) {
            out.push(DecodedSpan {
                start,
                end,
                encoding: Encoding::Percent,
                bytes,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(data: &[u8]) -> Vec<DecodedSpan> {
        let mut out = Vec::new();
        decode_base64_spans(data, DecodeLimits::default(), &mut out);
        decode_percent_spans(data, DecodeLimits::default(), &mut out);
        out
    }

    #[test]
    fn base64_text_is_decoded_at_its_span() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("password=Tr0ub4dor&3x!");
        let data = format!("value: {encoded}\n");
        let found = spans(data.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].start, 7);
        assert_eq!(found[0].end, 7 + encoded.len());
        assert_eq!(found[0].bytes, b"password=Tr0ub4dor&3x!");
    }

    #[test]
    fn padding_ends_a_run_and_a_label_before_equals_is_not_part_of_it() {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode("db_password = Tr0ub4dor&3x!");
        let data = format!("BOOTSTRAP={encoded}\nNEXT=1");
        let found = spans(data.as_bytes());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(&data[found[0].start..found[0].end], encoded);
    }

    #[test]
    fn url_safe_and_unpadded_base64_decode() {
        let encoded =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("token=>>>???>>>???abc");
        assert!(encoded.contains('-') || encoded.contains('_'), "{encoded}");
        let found = spans(encoded.as_bytes());
        assert_eq!(found[0].bytes, b"token=>>>???>>>???abc");
    }

    #[test]
    fn binary_and_short_runs_are_not_reported() {
        let binary = base64::engine::general_purpose::STANDARD.encode([
            0u8, 159, 146, 150, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 200, 201,
        ]);
        assert!(spans(binary.as_bytes()).is_empty());
        assert!(spans(b"aGVsbG8=").is_empty());
        assert!(spans(b"someVeryLongIdentifierNameInMinifiedCode").is_empty());
    }

    #[test]
    fn a_probed_run_of_the_shortest_decodable_length_still_decodes() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("password=abc");
        assert_eq!(encoded.len(), MIN_DECODABLE_RUN);
        // Eight spaces put the first probe (byte 23) on the run's last character.
        let found = spans(format!("        {encoded}").as_bytes());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].bytes, b"password=abc");
        assert!(spans(format!("         {}", &encoded[1..]).as_bytes()).is_empty());
    }

    #[test]
    fn percent_encoded_runs_decode() {
        let found = spans(b"url = \"postgres://app:p%40ss%2Fw0rd@db:5432/app\"");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].bytes, b"postgres://app:p@ss/w0rd@db:5432/app");
        assert_eq!(found[0].encoding, Encoding::Percent);
    }

    #[test]
    fn hex_digests_are_rejected_before_decoding() {
        assert!(!may_encode_text(
            b"d2a84f4b8b650937ec8f73cd8be2c74add5a911ba64df27458ed8229da804a26"
        ));
        let text =
            base64::engine::general_purpose::STANDARD.encode("any ASCII text at all, {json: 1}");
        assert!(may_encode_text(text.as_bytes()));
    }

    /// The decoder before the walk back was skipped for short runs: every probe that
    /// lands on base64 walks back to the start of its run.
    fn base64_spans_walking_back_always(data: &[u8]) -> Vec<(usize, usize, Vec<u8>)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i + MIN_BASE64_RUN <= data.len() {
            let probe = i + MIN_BASE64_RUN - 1;
            if !is_base64_byte(data[probe]) {
                i = probe + 1;
                continue;
            }
            let mut start = probe;
            while start > i && is_base64_byte(data[start - 1]) {
                start -= 1;
            }
            i = probe + 1;
            while i < data.len() && is_base64_byte(data[i]) {
                i += 1;
            }
            let body = &data[start..i];
            while i < data.len() && data[i] == b'=' && i - start < body.len() + 2 {
                i += 1;
            }
            if body.len() < MIN_DECODABLE_RUN || !may_encode_text(body) {
                continue;
            }
            let std_chars = body.iter().any(|b| matches!(b, b'+' | b'/'));
            let url_chars = body.iter().any(|b| matches!(b, b'-' | b'_'));
            let engine = match (std_chars, url_chars) {
                (true, true) => continue,
                (false, true) => &URL_SAFE,
                _ => &STANDARD,
            };
            let body = &body[..body.len() - usize::from(body.len() % 4 == 1)];
            if let Ok(bytes) = engine.decode(body) {
                if looks_like_text(&bytes) {
                    out.push((start, i, bytes));
                }
            }
        }
        out
    }

    #[test]
    fn skipping_the_walk_back_finds_the_same_spans() {
        let pieces: Vec<String> = [
            "password=Tr0ub4dor&3x!",
            "token: abcdefghijkl",
            "user:pass",
            "{\"k\": \"some value\"}",
            "twelve bytes",
            "a much longer piece of text to encode here",
        ]
        .iter()
        .flat_map(|t| {
            let std = base64::engine::general_purpose::STANDARD;
            let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            [std.encode(t), url.encode(t), std.encode(t)[1..].to_string()]
        })
        .chain(
            [
                "ident",
                "someIdentifier",
                "x",
                "lookup_value_table",
                "==",
                "=",
                "+/-_",
            ]
            .map(String::from),
        )
        .collect();
        let separators = [" ", "\n", ".", "(", "=", "", "\"", ": ", "_"];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as usize
        };
        let mut found = 0;
        for _ in 0..300 {
            let mut data = String::new();
            for _ in 0..next() % 60 {
                data.push_str(&pieces[next() % pieces.len()]);
                data.push_str(separators[next() % separators.len()]);
            }
            let mut got = Vec::new();
            decode_base64_spans(data.as_bytes(), DecodeLimits::default(), &mut got);
            let got: Vec<_> = got.into_iter().map(|s| (s.start, s.end, s.bytes)).collect();
            assert_eq!(
                got,
                base64_spans_walking_back_always(data.as_bytes()),
                "{data}"
            );
            found += got.len();
        }
        assert!(found > 300, "{found} spans: the text should hold many");
    }

    #[test]
    fn span_count_is_bounded() {
        let one =
            base64::engine::general_purpose::STANDARD.encode("secret text that is long enough");
        let data = vec![one; 10].join(" ");
        let mut out = Vec::new();
        decode_base64_spans(
            data.as_bytes(),
            DecodeLimits {
                max_span: 1024,
                max_spans: 3,
            },
            &mut out,
        );
        assert_eq!(out.len(), 3);
    }
}
