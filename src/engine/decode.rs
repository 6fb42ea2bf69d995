//! Decoders find encoded spans (base64, percent-encoding) in a blob and decode them, so
//! the engine can scan the decoded text again. A hit inside decoded text is reported at
//! the encoded span. Depth, span size and span count are bounded by the caller's limits.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

/// Decoded text shorter than this holds no credential worth reporting.
const MIN_DECODED_LEN: usize = 12;
/// The shortest base64 body that can decode to `MIN_DECODED_LEN` bytes: 16 characters,
/// as in `Basic dXNlcjpwYXNzd29yZA==`.
const MIN_DECODABLE_RUN: usize = MIN_DECODED_LEN.div_ceil(3) * 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
    /// At most this many spans are decoded per text.
    pub max_spans: usize,
}

impl Default for DecodeLimits {
    /// No cap on the number of spans: a cap would let 2048 harmless encoded runs hide an
    /// encoded secret after them, and the work is linear without one (a layer decodes at
    /// most about twice its input, and `decode_depth` bounds the layers).
    fn default() -> Self {
        DecodeLimits {
            max_span: 64 * 1024,
            max_spans: usize::MAX,
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
    base64_runs(data, MIN_DECODABLE_RUN, |start, end| {
        if out.len() >= limits.max_spans {
            return false;
        }
        let mut padded = end;
        while padded < data.len() && data[padded] == b'=' && padded < end + 2 {
            padded += 1;
        }
        if let Some(bytes) = decode_base64_run(&data[start..end], limits) {
            out.push(DecodedSpan {
                start,
                end: padded,
                encoding: Encoding::Base64,
                bytes,
            });
        }
        true
    });
}

/// A run's text, if it decodes to text.
fn decode_base64_run(body: &[u8], limits: DecodeLimits) -> Option<Vec<u8>> {
    if body.len() > limits.max_span || !may_encode_text(body) {
        return None;
    }
    let std_chars = body.iter().any(|b| matches!(b, b'+' | b'/'));
    let url_chars = body.iter().any(|b| matches!(b, b'-' | b'_'));
    let engine = match (std_chars, url_chars) {
        (true, true) => return None,
        (false, true) => &URL_SAFE,
        _ => &STANDARD,
    };
    // A length of 4n+1 cannot be base64; the last character is not part of it.
    let body = &body[..body.len() - usize::from(body.len() % 4 == 1)];
    engine
        .decode(body)
        .ok()
        .filter(|bytes| looks_like_text(bytes))
}

/// Calls `on_run(start, end)` for every maximal run of base64 bytes (either alphabet, no
/// padding) at least `min` long, in order, until it returns false. The text is classified
/// 64 bytes at a time into a bit mask; a chunk whose runs are all short and do not reach
/// its end costs a few instructions, so source code, whose identifiers are runs of a few
/// letters each, is passed over without a branch per byte.
fn base64_runs(data: &[u8], min: usize, mut on_run: impl FnMut(usize, usize) -> bool) {
    debug_assert!((1..=64).contains(&min));
    let avx2 = super::has_avx2();
    // The start of a run that reached the end of the previous chunk.
    let mut open: Option<usize> = None;
    let mut base = 0;
    while base < data.len() {
        let chunk = &data[base..data.len().min(base + 64)];
        // Bytes past the end count as not base64: they end the last run.
        let mut mask = base64_mask(chunk, avx2);
        if let Some(start) = open {
            // The run goes on to the first byte that is not base64.
            let first_zero = (!mask).trailing_zeros() as usize;
            if first_zero == 64 {
                base += 64;
                continue;
            }
            open = None;
            if base + first_zero - start >= min && !on_run(start, base + first_zero) {
                return;
            }
            mask &= u64::MAX << first_zero;
        }
        // Runs inside the chunk, and the one that reaches its end.
        while mask != 0 {
            if !has_run(mask, min) {
                // Only the run reaching bit 63, if any, can go on to be long enough.
                if mask >> 63 == 1 {
                    open = Some(base + 64 - (!mask).leading_zeros() as usize);
                }
                break;
            }
            let from = mask.trailing_zeros() as usize;
            let to = (!(mask | ((1u64 << from) - 1))).trailing_zeros() as usize;
            if to == 64 {
                open = Some(base + from);
                break;
            }
            if to - from >= min && !on_run(base + from, base + to) {
                return;
            }
            mask &= u64::MAX << to;
        }
        base += 64;
    }
    if let Some(start) = open {
        if data.len() - start >= min {
            on_run(start, data.len());
        }
    }
}

/// Whether `mask` has `min` consecutive set bits.
fn has_run(mask: u64, min: usize) -> bool {
    // Bit i of `runs` stays set while bits i..i + n of `mask` are all set.
    let mut runs = mask;
    let mut n = 1;
    while n * 2 <= min {
        runs &= runs >> n;
        n *= 2;
    }
    if n < min {
        // Bits i..i + n and i + min - n..i + min overlap: together, i..i + min.
        runs &= runs >> (min - n);
    }
    runs != 0
}

/// Bit `i` set when byte `i` of `chunk` (at most 64 bytes) is in either base64 alphabet.
fn base64_mask(chunk: &[u8], avx2: bool) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if avx2 && chunk.len() == 64 {
        // SAFETY: the CPU has AVX2 and the chunk is 64 bytes long.
        return unsafe { base64_mask_avx2(chunk) };
    }
    let _ = avx2;
    chunk
        .iter()
        .enumerate()
        .fold(0, |m, (i, &b)| m | (u64::from(is_base64_byte(b)) << i))
}

/// `base64_mask` for 64 bytes, by nibble lookups: a byte is in the set when the classes
/// of its high and of its low nibble share a bit. Bit 0: `A-O a-o` (high 4 or 6, low
/// 1–15); bit 1: `P-Z p-z` (high 5 or 7, low 0–10); bit 2: digits (high 3, low 0–9);
/// bit 3: `+ - /` (high 2, low 11, 13, 15); bit 4: `_` (high 5, low 15).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn base64_mask_avx2(chunk: &[u8]) -> u64 {
    use std::arch::x86_64::*;
    #[rustfmt::skip]
    let high_classes = _mm256_broadcastsi128_si256(_mm_setr_epi8(
        0, 0, 0b1000, 0b0100, 0b0001, 0b1_0010, 0b0001, 0b0010,
        0, 0, 0, 0, 0, 0, 0, 0,
    ));
    #[rustfmt::skip]
    let low_classes = _mm256_broadcastsi128_si256(_mm_setr_epi8(
        0b0110, 0b0111, 0b0111, 0b0111, 0b0111, 0b0111, 0b0111, 0b0111,
        0b0111, 0b0111, 0b0011, 0b1001, 0b0001, 0b1001, 0b0001, 0b1_1001,
    ));
    let nibble = _mm256_set1_epi8(0x0f);
    let half = |v: __m256i| {
        let high = _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble);
        let low = _mm256_and_si256(v, nibble);
        let both = _mm256_and_si256(
            _mm256_shuffle_epi8(high_classes, high),
            _mm256_shuffle_epi8(low_classes, low),
        );
        // Lanes with no class in common compare equal to zero.
        !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(both, _mm256_setzero_si256())) as u32)
    };
    // SAFETY: the chunk is 64 bytes long: two 32-byte loads.
    let (a, b) = unsafe {
        let at = chunk.as_ptr().cast::<__m256i>();
        (_mm256_loadu_si256(at), _mm256_loadu_si256(at.add(1)))
    };
    u64::from(half(a)) | (u64::from(half(b)) << 32)
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
    fn a_run_of_the_shortest_decodable_length_decodes_at_any_offset() {
        let encoded = base64::engine::general_purpose::STANDARD.encode("password=abc");
        assert_eq!(encoded.len(), MIN_DECODABLE_RUN);
        for pad in 0..130 {
            let found = spans(format!("{}{encoded}", " ".repeat(pad)).as_bytes());
            assert_eq!(found.len(), 1, "{pad}: {found:?}");
            assert_eq!(found[0].bytes, b"password=abc");
            assert_eq!(found[0].start, pad);
            let short = format!("{}{} x", " ".repeat(pad), &encoded[1..]);
            assert!(spans(short.as_bytes()).is_empty(), "{pad}");
        }
    }

    #[test]
    fn vector_and_scalar_masks_agree_on_every_byte() {
        let bytes: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
        for chunk in bytes.chunks(64) {
            let scalar = base64_mask(chunk, false);
            assert_eq!(base64_mask(chunk, crate::engine::has_avx2()), scalar);
            for (i, &b) in chunk.iter().enumerate() {
                assert_eq!(scalar >> i & 1 == 1, is_base64_byte(b), "{b:#x}");
            }
        }
    }

    #[test]
    fn has_run_needs_that_many_consecutive_bits() {
        for min in [1, 2, 3, 5, 16, 17, 24, 31, 63, 64] {
            for len in 0..=64usize {
                for at in 0..=(64 - len) {
                    let run = if len == 64 {
                        u64::MAX
                    } else {
                        ((1u64 << len) - 1).checked_shl(at as u32).unwrap_or(0)
                    };
                    // Gaps around the run, bits beyond it set apart.
                    assert_eq!(has_run(run, min), len >= min, "min {min} len {len} at {at}");
                }
            }
        }
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

    /// Every maximal run of base64 bytes, found byte by byte, and what it decodes to.
    fn base64_spans_byte_by_byte(data: &[u8]) -> Vec<(usize, usize, Vec<u8>)> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < data.len() {
            if !is_base64_byte(data[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < data.len() && is_base64_byte(data[i]) {
                i += 1;
            }
            let body = &data[start..i];
            while i < data.len() && data[i] == b'=' && i - start < body.len() + 2 {
                i += 1;
            }
            if body.len() < MIN_DECODABLE_RUN {
                continue;
            }
            if let Some(bytes) = decode_base64_run(body, DecodeLimits::default()) {
                out.push((start, i, bytes));
            }
        }
        out
    }

    #[test]
    fn runs_found_by_mask_are_the_runs_found_byte_by_byte() {
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
            assert_eq!(got, base64_spans_byte_by_byte(data.as_bytes()), "{data}");
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
