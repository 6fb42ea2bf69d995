//! A shift-or filter over bigrams, after Hyperscan's FDR ("Hyperscan: a fast multi-pattern
//! regex matcher for modern CPUs", Wang et al., NSDI 2019, section 4.2).
//!
//! The keywords are put in eight buckets. Each folded byte pair of the text (a bigram:
//! 4096 of them, since `code` keeps six bits of a folded byte) has a 64-bit entry: bit
//! `8 * (7 - j) + b` is clear when some keyword of bucket `b` has that bigram at offset
//! `j`, or is shorter than `j + 2` bytes, so that offset does not constrain it. A keyword
//! can start at `s` only if, for some bucket, the bit is clear in the entries of positions
//! `s`, `s + 1`, ... `s + 7` at offsets 0 to 7: OR-ing the entries, each shifted left by
//! its position, lines those bits up in one byte per start, and a byte that is not all
//! ones lets its start through. That costs a table load, a shift and an OR per byte,
//! without a branch and without the vector gathers that hashing each position's prefix
//! into a bitmap needs (slow on many CPUs). The positions it lets through are checked
//! further, and the keywords compared in full, by the caller.

/// Bigrams: six bits of each of two folded bytes.
const ENTRIES: usize = 1 << 12;
const BUCKETS: usize = 8;
/// Offsets a 64-bit entry has room for: eight buckets times eight offsets.
const OFFSETS: usize = 8;

/// Six bits of a byte folded as the bitmaps fold it (bit 5 set: ASCII letters in lower
/// case): bits 0–4 and 6. Printable ASCII keeps every distinction it had after folding;
/// bytes above 0x7f share codes with ASCII ones, which can only let more positions
/// through.
const CODE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let f = (b as u8) | 0x20;
        table[b] = (f & 0x1f) | ((f >> 1) & 0x20);
        b += 1;
    }
    table
};

fn bigram(a: u8, b: u8) -> usize {
    (usize::from(CODE[usize::from(a)]) << 6) | usize::from(CODE[usize::from(b)])
}

pub(super) struct Fdr {
    /// Per bigram, the buckets and offsets where it may not occur (bit set).
    table: Box<[u64; ENTRIES]>,
}

impl Fdr {
    /// The keywords must all have three bytes or more.
    pub(super) fn new(keywords: &[Vec<u8>]) -> Fdr {
        let mut table = Box::new([u64::MAX; ENTRIES]);
        // Offsets some keyword is too short to reach: clear in every entry.
        let mut unconstrained = 0u64;
        for (bucket, members) in buckets(keywords).iter().enumerate() {
            for &k in members {
                let keyword = &keywords[k];
                for offset in 0..OFFSETS {
                    let bit = 1u64 << (8 * (OFFSETS - 1 - offset) + bucket);
                    match keyword.get(offset..offset + 2) {
                        Some(pair) => table[bigram(pair[0], pair[1])] &= !bit,
                        None => unconstrained |= bit,
                    }
                }
            }
        }
        table.iter_mut().for_each(|e| *e &= !unconstrained);
        Fdr { table }
    }

    /// Calls `candidate` for every position where a keyword may start, in order, for as
    /// long as a whole block of eight positions and the byte after it fit; returns the
    /// first position it did not test. With `avx2`, the CPU must support AVX2.
    pub(super) fn scan(&self, data: &[u8], avx2: bool, mut candidate: impl FnMut(usize)) -> usize {
        // Byte `k` of a block's state answers for the start `base + k - 7`: entries of
        // positions `base..base + 8` land in bytes 0–14, and bytes 8–14 carry over to the
        // next block, whose starts they belong to. Before the first block, the starts
        // -7..-1 are ruled out.
        let mut state = State {
            base: 0,
            carry: 0x00ff_ffff_ffff_ffff,
        };
        #[cfg(target_arch = "x86_64")]
        if avx2 {
            // SAFETY: the caller checked that the CPU has AVX2.
            state = unsafe { self.scan_avx2(data, &mut candidate) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = avx2;
        let State {
            mut base,
            mut carry,
        } = state;
        while base + OFFSETS < data.len() {
            let block = &data[base..base + OFFSETS + 1];
            let mut low = carry;
            let mut high = 0u64;
            for i in 0..OFFSETS {
                let entry = self.table[bigram(block[i], block[i + 1])];
                low |= entry << (8 * i);
                // `>> 1 >> 63 - 8i`: a shift by 64 would overflow for `i == 0`.
                high |= (entry >> 1) >> (63 - 8 * i);
            }
            report_open(base, low, &mut candidate);
            carry = high;
            base += OFFSETS;
        }
        // The last block answered for starts up to its `base`, the next one's less one.
        (base + 1).saturating_sub(OFFSETS)
    }

    /// What `scan` does, 32 positions at a time: the bigrams' table indexes are formed
    /// with vector instructions, and each block's state is kept in a vector register,
    /// where a byte shift lines an entry up in one instruction. Returns where the
    /// scalar loop goes on.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn scan_avx2(&self, data: &[u8], candidate: &mut impl FnMut(usize)) -> State {
        use std::arch::x86_64::*;

        let low5 = _mm256_set1_epi8(0x1f);
        let bit5 = _mm256_set1_epi8(0x20);
        // `maddubs` with these weights turns the byte pair (a, b) into `a * 64 + b`.
        let weights = _mm256_set1_epi16(0x0140);
        let code = |v: __m256i| {
            let f = _mm256_or_si256(v, bit5);
            _mm256_or_si256(
                _mm256_and_si256(f, low5),
                _mm256_and_si256(_mm256_srli_epi16::<1>(f), bit5),
            )
        };
        let table = self.table.as_ptr();
        let mut indexes = [0u16; 32];
        let mut carry = _mm_set_epi64x(0, 0x00ff_ffff_ffff_ffff);
        let mut base = 0;
        while base + 33 <= data.len() {
            // SAFETY: `base + 33 <= data.len()`: both 32-byte loads are inside `data`.
            let (first, second) = unsafe {
                let at = data.as_ptr().add(base);
                (
                    _mm256_loadu_si256(at.cast::<__m256i>()),
                    _mm256_loadu_si256(at.add(1).cast::<__m256i>()),
                )
            };
            let (a, b) = (code(first), code(second));
            // Unpacking works within 128-bit halves: positions 0–7 and 16–23, then 8–15
            // and 24–31; the permutes put them back in order.
            let low = _mm256_maddubs_epi16(_mm256_unpacklo_epi8(a, b), weights);
            let high = _mm256_maddubs_epi16(_mm256_unpackhi_epi8(a, b), weights);
            // SAFETY: `indexes` holds 32 u16s, 64 bytes: two unaligned 32-byte stores.
            unsafe {
                let out = indexes.as_mut_ptr().cast::<__m256i>();
                _mm256_storeu_si256(out, _mm256_permute2x128_si256::<0x20>(low, high));
                _mm256_storeu_si256(out.add(1), _mm256_permute2x128_si256::<0x31>(low, high));
            }
            // Read back from memory, a load each: cheaper than extracting each word from
            // the vector register (`pextrw` is two micro-ops on common CPUs).
            let all = std::hint::black_box(&indexes);
            for block in 0..4 {
                let ix = &all[block * 8..block * 8 + 8];
                // SAFETY: an index has 12 bits and the table 4096 entries.
                let entry = |i: usize| unsafe {
                    _mm_loadl_epi64(table.add(usize::from(ix[i])).cast::<__m128i>())
                };
                let mut s = carry;
                s = _mm_or_si128(s, entry(0));
                s = _mm_or_si128(s, _mm_slli_si128::<1>(entry(1)));
                s = _mm_or_si128(s, _mm_slli_si128::<2>(entry(2)));
                s = _mm_or_si128(s, _mm_slli_si128::<3>(entry(3)));
                s = _mm_or_si128(s, _mm_slli_si128::<4>(entry(4)));
                s = _mm_or_si128(s, _mm_slli_si128::<5>(entry(5)));
                s = _mm_or_si128(s, _mm_slli_si128::<6>(entry(6)));
                s = _mm_or_si128(s, _mm_slli_si128::<7>(entry(7)));
                report_open(base + block * 8, _mm_cvtsi128_si64(s) as u64, candidate);
                carry = _mm_srli_si128::<8>(s);
            }
            base += 32;
        }
        State {
            base,
            carry: _mm_cvtsi128_si64(carry) as u64,
        }
    }
}

/// Where a scan stands: the next block's first position, and what carries into it.
struct State {
    base: usize,
    carry: u64,
}

/// The starts a block's state lets through: bytes that are not all ones.
fn report_open(base: usize, state: u64, candidate: &mut impl FnMut(usize)) {
    let mut open = !state;
    while open != 0 {
        let k = open.trailing_zeros() as usize / 8;
        candidate(base + k - (OFFSETS - 1));
        open &= !(0xffu64 << (8 * k));
    }
}

/// Keywords grouped by how many offsets they constrain (a three-byte keyword only two:
/// it would weaken a bucket of longer ones), then the largest groups split, in
/// alphabetical order so that keywords sharing a prefix share a bucket.
fn buckets(keywords: &[Vec<u8>]) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..keywords.len()).collect();
    let span = |k: usize| keywords[k].len().min(OFFSETS);
    order.sort_by(|&a, &b| (span(a), &keywords[a]).cmp(&(span(b), &keywords[b])));
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for k in order {
        match groups.last_mut() {
            Some(g) if span(g[0]) == span(k) => g.push(k),
            _ => groups.push(vec![k]),
        }
    }
    // More spans than buckets: merge the shortest, which filter least anyway.
    while groups.len() > BUCKETS {
        let first = groups.remove(0);
        groups[0].splice(0..0, first);
    }
    while groups.len() < BUCKETS {
        let Some((largest, _)) = groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.len() > 1)
            .max_by_key(|(_, g)| g.len())
        else {
            break;
        };
        let half = groups[largest].len() / 2;
        let tail = groups[largest].split_off(half);
        groups.insert(largest + 1, tail);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(keywords: &[&str], data: &[u8]) -> (Vec<usize>, usize) {
        let kws: Vec<Vec<u8>> = keywords.iter().map(|k| k.as_bytes().to_vec()).collect();
        let fdr = Fdr::new(&kws);
        let mut got = Vec::new();
        let tested = fdr.scan(data, false, |s| got.push(s));
        let mut fast = Vec::new();
        assert_eq!(
            fdr.scan(data, crate::engine::has_avx2(), |s| fast.push(s)),
            tested
        );
        assert_eq!(fast, got);
        (got, tested)
    }

    #[test]
    fn lets_through_every_start_of_a_keyword_in_any_case() {
        let data = b"xx PASSWORD=1 ghp_abc tok pwd Token secret_access_key";
        let (got, tested) = starts(
            &["password", "ghp_", "pwd", "token", "secret_access_key"],
            data,
        );
        // The last whole block of eight (and the byte after it) ends 9 to 16 bytes short
        // of the end; it answers for starts up to its first position.
        assert!(
            tested + 16 > data.len() && tested + 8 <= data.len(),
            "{tested}"
        );
        for at in [3, 14, 26, 30, 36] {
            assert!(got.contains(&at), "{at} missing from {got:?}");
        }
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
        // Text without keyword bigrams lets nothing through.
        assert_eq!(
            starts(&["password", "token"], b"0123456789 0123456789").0,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn short_inputs_are_left_to_the_caller() {
        assert_eq!(starts(&["pwd"], b"pwd").1, 0);
        assert_eq!(starts(&["pwd"], b"12345678").1, 0);
        let (got, tested) = starts(&["pwd"], b"pwd456789");
        assert_eq!((got, tested), (vec![0], 1));
    }

    #[test]
    fn buckets_group_keywords_by_length() {
        let kws: Vec<Vec<u8>> = ["abc", "abcd", "abcdefgh", "abcdefghij", "xyz", "qwer"]
            .iter()
            .map(|k| k.as_bytes().to_vec())
            .collect();
        let groups = buckets(&kws);
        assert!(groups.len() <= BUCKETS);
        let mut all: Vec<usize> = groups.concat();
        all.sort_unstable();
        assert_eq!(all, (0..kws.len()).collect::<Vec<_>>());
        for g in &groups {
            let spans: Vec<usize> = g.iter().map(|&k| kws[k].len().min(OFFSETS)).collect();
            assert!(spans.iter().all(|&s| s == spans[0]), "{g:?}");
        }
    }
}
