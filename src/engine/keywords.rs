//! Finds every occurrence of every rule keyword (ASCII case-insensitive, overlapping).
//!
//! Walking an Aho-Corasick DFA over every byte costs a few nanoseconds a byte with a few
//! hundred keywords, more than all the rule regexes together on ordinary code. So a cheap
//! filter looks first: at each position, the case-folded byte pairs 0–1, 2–3 and 4–5
//! index 64 Kbit bitmaps (8 KiB each, in L1 cache) of the keywords' first, second and
//! third byte pairs; shorter keywords are checked against hashed bitmaps of their three
//! or four bytes. Common words that merely begin like a keyword (`client`, `session`,
//! `private`) rarely get past the third pair. Only where the bitmaps say a keyword may
//! start does the Aho-Corasick automaton run, anchored there, to report exactly which
//! keywords do. Keywords shorter than three bytes
//! turn the filter off and the automaton searches the whole input.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Anchored, Input, MatchKind, StartKind};

const TABLE_WORDS: usize = (1 << 16) / 64;
/// Sets bit 5 of each byte: ASCII letters become lower case; other bytes map to a byte
/// that the keywords are folded to as well, which can only add candidates.
const FOLD: u64 = 0x2020_2020_2020_2020;

/// A keyword occurrence: which keyword, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeywordHit {
    pub keyword: usize,
    pub start: usize,
    pub end: usize,
}

pub struct KeywordMatcher {
    automaton: AhoCorasick,
    filter: Option<Filter>,
}

/// Bitmaps of the keywords' folded byte pairs and hashed short prefixes.
struct Filter {
    /// Bytes 0–1 of every keyword.
    first: Box<[u64; TABLE_WORDS]>,
    /// Bytes 2–3 of keywords of four bytes or more.
    second: Box<[u64; TABLE_WORDS]>,
    /// Bytes 4–5 of keywords of six bytes or more.
    third: Box<[u64; TABLE_WORDS]>,
    /// Hashed bytes 0–3 of four- and five-byte keywords.
    quads: Box<[u64; TABLE_WORDS]>,
    /// Hashed bytes 0–2 of three-byte keywords.
    triples: Box<[u64; TABLE_WORDS]>,
    has_triples: bool,
}

fn hash3(x: u64) -> usize {
    (((x & 0x00FF_FFFF) as u32).wrapping_mul(0x9E37_79B1) >> 16) as usize
}

fn hash4(x: u64) -> usize {
    ((x as u32 ^ 0x5bd1_e995).wrapping_mul(0x9E37_79B1) >> 16) as usize
}

fn pair(x: u64, n: u32) -> usize {
    ((x >> (16 * n)) & 0xFFFF) as usize
}

impl Filter {
    fn may_start(&self, x: u64) -> bool {
        test(&self.first, pair(x, 0))
            && ((test(&self.second, pair(x, 1))
                && (test(&self.third, pair(x, 2)) || test(&self.quads, hash4(x))))
                || (self.has_triples && test(&self.triples, hash3(x))))
    }
}

fn test(table: &[u64; TABLE_WORDS], h: usize) -> bool {
    table[h >> 6] & (1 << (h & 63)) != 0
}

fn set(table: &mut [u64; TABLE_WORDS], h: usize) {
    table[h >> 6] |= 1 << (h & 63);
}

/// Up to eight bytes, folded, zero-padded (then folded to spaces) past the end.
fn load_folded(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = bytes.len().min(8);
    word[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(word) | FOLD
}

impl KeywordMatcher {
    pub fn new(keywords: &[String]) -> Result<KeywordMatcher, aho_corasick::BuildError> {
        let automaton = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Both)
            .build(keywords)?;
        let filter = if keywords.iter().all(|k| k.len() >= 3) {
            let empty = || Box::new([0; TABLE_WORDS]);
            let mut f = Filter {
                first: empty(),
                second: empty(),
                third: empty(),
                quads: empty(),
                triples: empty(),
                has_triples: false,
            };
            for k in keywords {
                let x = load_folded(k.as_bytes());
                set(&mut f.first, pair(x, 0));
                match k.len() {
                    3 => {
                        f.has_triples = true;
                        set(&mut f.triples, hash3(x));
                    }
                    4 | 5 => {
                        set(&mut f.second, pair(x, 1));
                        set(&mut f.quads, hash4(x));
                    }
                    _ => {
                        set(&mut f.second, pair(x, 1));
                        set(&mut f.third, pair(x, 2));
                    }
                }
            }
            Some(f)
        } else {
            None
        };
        Ok(KeywordMatcher { automaton, filter })
    }

    /// Every keyword occurrence, in order of start, overlapping ones included.
    pub fn for_each_hit(&self, data: &[u8], mut on_hit: impl FnMut(KeywordHit)) {
        let Some(filter) = &self.filter else {
            for m in self.automaton.find_overlapping_iter(data) {
                on_hit(KeywordHit {
                    keyword: m.pattern().as_usize(),
                    start: m.start(),
                    end: m.end(),
                });
            }
            return;
        };
        let mut verify = |at: usize| {
            let input = Input::new(data).range(at..).anchored(Anchored::Yes);
            let mut state = aho_corasick::automaton::OverlappingState::start();
            loop {
                self.automaton.find_overlapping(input.clone(), &mut state);
                match state.get_match() {
                    // An anchored overlapping search also reports keywords that are
                    // suffixes of the one found here; those start later and are found
                    // from their own position.
                    Some(m) if m.start() != at => {}
                    Some(m) => on_hit(KeywordHit {
                        keyword: m.pattern().as_usize(),
                        start: m.start(),
                        end: m.end(),
                    }),
                    None => break,
                }
            }
        };
        for (at, word) in data.windows(8).enumerate() {
            let x = u64::from_le_bytes([
                word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7],
            ]);
            if filter.may_start(x | FOLD) {
                verify(at);
            }
        }
        // Near the end the padding cannot stand for the missing bytes: any position whose
        // first pair fits is checked by the automaton.
        for at in data.len().saturating_sub(7)..data.len() {
            if test(&filter.first, pair(load_folded(&data[at..]), 0)) {
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
        let missing: Vec<_> = want.iter().filter(|h| !got.contains(h)).take(5).collect();
        let extra: Vec<_> = got.iter().filter(|h| !want.contains(h)).take(5).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "missing {missing:?} extra {extra:?}"
        );
        assert_eq!(got.len(), want.len());
    }
}
