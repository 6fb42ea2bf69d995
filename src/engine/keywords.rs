//! Finds every occurrence of every rule keyword (ASCII case-insensitive, overlapping).
//!
//! Walking an Aho-Corasick DFA over every byte costs a few nanoseconds a byte with a few
//! hundred keywords, more than all the rule regexes together on ordinary code. So filters
//! look first. A shift-or filter over the text's bigrams (see `fdr`) rules out nearly
//! every position for a table load, a shift and an OR a byte, with vector instructions
//! on CPUs with AVX2. At a position it lets through, the case-folded bytes 0–3 (and 0–2)
//! are hashed into 64 Kbit bitmaps of the keywords' first four (three) bytes; only where
//! a bit is set are the keywords with exactly that folded prefix looked up and compared
//! in full. The last few positions, past the shift-or filter's last whole block, get the
//! bitmap test alone. Keywords shorter than three bytes turn the filters off and an
//! Aho-Corasick automaton (built only then) searches the whole input.

mod fdr;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind, StartKind};

const TABLE_WORDS: usize = (1 << 16) / 64;
/// Sets bit 5 of each byte: ASCII letters become lower case; other bytes map to a byte
/// that the keywords are folded to as well, which can only add candidates.
const FOLD: u32 = 0x2020_2020;

/// A keyword occurrence: which keyword, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeywordHit {
    pub keyword: usize,
    pub start: usize,
    pub end: usize,
}

pub struct KeywordMatcher {
    search: Search,
    /// The CPU has AVX2, checked once when the matcher is built.
    avx2: bool,
}

enum Search {
    Filtered(Filter),
    /// With a keyword shorter than three bytes.
    Automaton(AhoCorasick),
}

/// Bitmaps of the keywords' hashed, folded prefixes.
struct Filter {
    /// Bytes 0–3 of keywords of four bytes or more.
    quads: Box<[u64; TABLE_WORDS]>,
    /// Bytes 0–2 of three-byte keywords (all zero when there are none).
    triples: Box<[u64; TABLE_WORDS]>,
    /// Where the bitmaps let a position through: the keywords by their folded first
    /// four (three) bytes, compared in full only when that prefix is right.
    by_quad: HashMap<u32, Vec<usize>, BuildHasherDefault<WordHasher>>,
    by_triple: HashMap<u32, Vec<usize>, BuildHasherDefault<WordHasher>>,
    /// The keywords in lower case, for `matches_at`.
    keywords: Vec<Vec<u8>>,
    fdr: fdr::Fdr,
}

/// Multiplicative hashing for the `u32` prefixes: the bits hashbrown looks at (the top
/// ones) get every input bit mixed in.
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u32(u32::from(b) ^ (self.0 as u32));
        }
    }
    fn write_u32(&mut self, x: u32) {
        self.0 = u64::from(x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

const HASH4_MUL: u32 = 0x9E37_79B1;
const HASH3_MUL: u32 = 0x85EB_CA6B;

fn hash4(x: u32) -> usize {
    (x.wrapping_mul(HASH4_MUL) >> 16) as usize
}

fn hash3(x: u32) -> usize {
    ((x & 0x00FF_FFFF).wrapping_mul(HASH3_MUL) >> 16) as usize
}

fn bit(table: &[u64; TABLE_WORDS], h: usize) -> u64 {
    (table[h >> 6] >> (h & 63)) & 1
}

fn set(table: &mut [u64; TABLE_WORDS], h: usize) {
    table[h >> 6] |= 1 << (h & 63);
}

impl Filter {
    /// Whether a keyword may start where these (folded) four bytes begin.
    fn may_start(&self, x: u32) -> bool {
        (bit(&self.quads, hash4(x)) | bit(&self.triples, hash3(x))) != 0
    }

    /// The keywords whose folded prefix is that of `x`: four-byte prefixes, then
    /// three-byte ones. Most positions the bitmaps let through are in only one of them,
    /// so the other map is not searched.
    fn candidates(&self, x: u32) -> (&[usize], &[usize]) {
        let quad = if bit(&self.quads, hash4(x)) == 0 {
            &[][..]
        } else {
            self.by_quad.get(&x).map_or(&[][..], Vec::as_slice)
        };
        let triple = if bit(&self.triples, hash3(x)) == 0 {
            &[][..]
        } else {
            self.by_triple
                .get(&(x & 0x00FF_FFFF))
                .map_or(&[][..], Vec::as_slice)
        };
        (quad, triple)
    }
}

/// Up to four bytes, zero-padded past the end, folded. Padding can never complete a
/// keyword: a keyword needs all of its bytes.
fn load_folded(bytes: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    let n = bytes.len().min(4);
    word[..n].copy_from_slice(&bytes[..n]);
    u32::from_le_bytes(word) | FOLD
}

/// Whether `keyword` (lower case) occurs at `at`, ignoring ASCII case. The last byte is
/// compared first: keywords sharing a prefix (`token`, `token:`, `token token=`) mostly
/// differ at their end. Then a plain byte loop, since the keywords are short and the
/// standard library's chunked comparison costs more to set up than it saves here.
fn matches_at(data: &[u8], at: usize, keyword: &[u8]) -> bool {
    let Some(text) = data.get(at..at + keyword.len()) else {
        return false;
    };
    match (text.last(), keyword.last()) {
        (Some(t), Some(k)) if t.to_ascii_lowercase() == *k => text
            .iter()
            .zip(keyword)
            .all(|(&t, &k)| t.to_ascii_lowercase() == k),
        _ => false,
    }
}

impl KeywordMatcher {
    pub fn new(keywords: &[String]) -> Result<KeywordMatcher, aho_corasick::BuildError> {
        if keywords.iter().any(|k| k.len() < 3) {
            let automaton = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .start_kind(StartKind::Both)
                .build(keywords)?;
            return Ok(KeywordMatcher {
                search: Search::Automaton(automaton),
                avx2: super::has_avx2(),
            });
        }
        let lower: Vec<Vec<u8>> = keywords
            .iter()
            .map(|k| k.to_ascii_lowercase().into_bytes())
            .collect();
        let mut f = Filter {
            quads: Box::new([0; TABLE_WORDS]),
            triples: Box::new([0; TABLE_WORDS]),
            by_quad: HashMap::default(),
            by_triple: HashMap::default(),
            fdr: fdr::Fdr::new(&lower),
            keywords: lower,
        };
        for (i, k) in keywords.iter().enumerate() {
            let x = load_folded(k.as_bytes());
            if k.len() == 3 {
                set(&mut f.triples, hash3(x));
                f.by_triple.entry(x & 0x00FF_FFFF).or_default().push(i);
            } else {
                set(&mut f.quads, hash4(x));
                f.by_quad.entry(x).or_default().push(i);
            }
        }
        Ok(KeywordMatcher {
            search: Search::Filtered(f),
            avx2: super::has_avx2(),
        })
    }

    /// Every keyword occurrence, in order of start, overlapping ones included.
    pub fn for_each_hit(&self, data: &[u8], mut on_hit: impl FnMut(KeywordHit)) {
        let filter = match &self.search {
            Search::Filtered(filter) => filter,
            Search::Automaton(automaton) => {
                for m in automaton.find_overlapping_iter(data) {
                    on_hit(KeywordHit {
                        keyword: m.pattern().as_usize(),
                        start: m.start(),
                        end: m.end(),
                    });
                }
                return;
            }
        };
        let mut verify = |at: usize| {
            let x = load_folded(&data[at..]);
            let (quad, triple) = filter.candidates(x);
            for &k in quad.iter().chain(triple) {
                let keyword = &filter.keywords[k];
                if matches_at(data, at, keyword) {
                    on_hit(KeywordHit {
                        keyword: k,
                        start: at,
                        end: at + keyword.len(),
                    });
                }
            }
        };
        let tested = filter.fdr.scan(data, self.avx2, &mut verify);
        for (at, word) in data.windows(4).enumerate().skip(tested) {
            let x = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
            if filter.may_start(x | FOLD) {
                verify(at);
            }
        }
        // The last three positions have fewer than four bytes left: only a three-byte
        // keyword fits, at most.
        for at in data.len().saturating_sub(3)..data.len() {
            if filter.may_start(load_folded(&data[at..])) {
                verify(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(keywords: &[&str], data: &[u8]) -> Vec<KeywordHit> {
        let kws: Vec<String> = keywords.iter().map(|k| k.to_string()).collect();
        let m = KeywordMatcher::new(&kws).unwrap();
        let mut out = Vec::new();
        m.for_each_hit(data, |h| out.push(h));
        out
    }

    /// What a plain overlapping Aho-Corasick search reports.
    fn reference(keywords: &[&str], data: &[u8]) -> Vec<KeywordHit> {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build(keywords)
            .unwrap();
        let mut out: Vec<KeywordHit> = ac
            .find_overlapping_iter(data)
            .map(|m| KeywordHit {
                keyword: m.pattern().as_usize(),
                start: m.start(),
                end: m.end(),
            })
            .collect();
        out.sort_by_key(|h| (h.start, h.end, h.keyword));
        out
    }

    #[test]
    fn finds_overlapping_case_insensitive_hits_like_aho_corasick() {
        let kws = ["password", "passw", "_pass", "://", "ghp_", "pwd", "token"];
        let data = b"DB_PASSWORD=x ghp_abc http://h PWD=1 my_passwd tok token pwd";
        let mut got = hits(&kws, data);
        got.sort_by_key(|h| (h.start, h.end, h.keyword));
        assert_eq!(got, reference(&kws, data));
        assert!(got.len() >= 8);
    }

    #[test]
    fn keywords_at_the_very_end_and_start_are_found() {
        assert_eq!(hits(&["pwd"], b"pwd").len(), 1);
        assert_eq!(hits(&["pwd"], b"x pwd").len(), 1);
        assert_eq!(hits(&["token"], b"TOKEN").len(), 1);
        assert!(hits(&["token"], b"toke").is_empty());
        assert!(hits(&["pwd"], b"pw").is_empty());
    }

    #[test]
    fn vector_and_scalar_loops_agree_at_every_length() {
        let kws: Vec<String> = ["token", "pwd", "ghp_", "passw", "://"]
            .iter()
            .map(|k| k.to_string())
            .collect();
        let mut m = KeywordMatcher::new(&kws).unwrap();
        let text = b"xTOKEN=1 pwd://ghp_ab passwd token pwd ghp_ tok://pw";
        for len in 0..=text.len() {
            for skip in 0..4.min(len + 1) {
                let data = &text[skip..len];
                let mut fast = Vec::new();
                m.avx2 = crate::engine::has_avx2();
                m.for_each_hit(data, |h| fast.push(h));
                let mut slow = Vec::new();
                m.avx2 = false;
                m.for_each_hit(data, |h| slow.push(h));
                assert_eq!(fast, slow, "{:?}", String::from_utf8_lossy(data));
            }
        }
    }

    #[test]
    fn short_keywords_fall_back_to_the_automaton() {
        assert_eq!(hits(&["ab", "pwd"], b"xxABpwdab").len(), 3);
    }

    #[test]
    fn agrees_with_aho_corasick_on_pseudo_random_text() {
        let kws = [
            "secret",
            "sk_live_",
            "AKIA",
            "eyJ",
            "-----BEGIN",
            "xoxb-",
            "api_key",
            "key",
        ];
        let mut seed = 0x1234_5678_9abc_def0u64;
        let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-: \n{}=\"";
        let mut data = Vec::new();
        for i in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            if i % 997 == 0 {
                data.extend_from_slice(kws[(seed % kws.len() as u64) as usize].as_bytes());
            }
            data.push(alphabet[(seed % alphabet.len() as u64) as usize]);
        }
        let mut got = hits(&kws, &data);
        got.sort_by_key(|h| (h.start, h.end, h.keyword));
        let want = reference(&kws, &data);
        // The scalar loops alone (no AVX2) find the same.
        let mut matcher = KeywordMatcher::new(&kws.map(String::from)).unwrap();
        matcher.avx2 = false;
        let mut scalar = Vec::new();
        matcher.for_each_hit(&data, |h| scalar.push(h));
        scalar.sort_by_key(|h| (h.start, h.end, h.keyword));
        assert_eq!(scalar, got);
        let missing: Vec<_> = want.iter().filter(|h| !got.contains(h)).take(5).collect();
        let extra: Vec<_> = got.iter().filter(|h| !want.contains(h)).take(5).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "missing {missing:?} extra {extra:?}"
        );
        assert_eq!(got.len(), want.len());
    }
}
