//! The keyword filter's bitmap test for eight positions at once, on x86-64 CPUs with
//! AVX2. The scalar loop spends about twenty instructions a position on forming the
//! word, hashing it twice and testing two bits; here one shuffle forms eight words,
//! two multiplies hash them and two gathers fetch their bits. It tests exactly what
//! `Filter::may_start` tests, so the positions it lets through are the same.

use std::arch::x86_64::*;

use super::{Filter, FOLD};

/// Calls `candidate` for every position that `Filter::may_start` lets through, in
/// order, for as long as a whole 16-byte load fits; returns the first position it did
/// not test, where the scalar loop takes over.
///
/// # Safety
///
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
pub(super) unsafe fn scan(filter: &Filter, data: &[u8], mut candidate: impl FnMut(usize)) -> usize {
    // Lane `k` (of eight 32-bit lanes) gets bytes `k..k + 4` of the block: the word the
    // scalar loop forms at that position. Each 128-bit half shuffles its own copy of the
    // 16 loaded bytes.
    let spread = _mm256_setr_epi8(
        0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6, //
        4, 5, 6, 7, 5, 6, 7, 8, 6, 7, 8, 9, 7, 8, 9, 10,
    );
    let fold = _mm256_set1_epi32(FOLD as i32);
    let low24 = _mm256_set1_epi32(0x00FF_FFFF);
    let low5 = _mm256_set1_epi32(31);
    let mul4 = _mm256_set1_epi32(super::HASH4_MUL as i32);
    let mul3 = _mm256_set1_epi32(super::HASH3_MUL as i32);
    // The bitmaps read as 32-bit words: on a little-endian machine bit `h` of the `u64`
    // table is bit `h & 31` of word `h >> 5`.
    let quads = filter.quads.as_ptr().cast::<i32>();
    let triples = filter.triples.as_ptr().cast::<i32>();
    let mut at = 0;
    while at + 16 <= data.len() {
        // SAFETY: `at + 16 <= data.len()`, so the 16 bytes read are inside `data`.
        let bytes = unsafe { _mm_loadu_si128(data.as_ptr().add(at).cast::<__m128i>()) };
        let words = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(bytes), spread);
        let x = _mm256_or_si256(words, fold);
        let h4 = _mm256_srli_epi32::<16>(_mm256_mullo_epi32(x, mul4));
        let h3 = _mm256_srli_epi32::<16>(_mm256_mullo_epi32(_mm256_and_si256(x, low24), mul3));
        // SAFETY: a hash has 16 bits, so a word index is below 2^11, and each table has
        // 2^16 bits: 2^11 words of 32 bits.
        let (w4, w3) = unsafe {
            (
                _mm256_i32gather_epi32::<4>(quads, _mm256_srli_epi32::<5>(h4)),
                _mm256_i32gather_epi32::<4>(triples, _mm256_srli_epi32::<5>(h3)),
            )
        };
        // Shift each lane's bit up to the sign bit (by 31 - h & 31), where movemask
        // collects it.
        let b4 = _mm256_sllv_epi32(w4, _mm256_andnot_si256(h4, low5));
        let b3 = _mm256_sllv_epi32(w3, _mm256_andnot_si256(h3, low5));
        let mut mask = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_or_si256(b4, b3))) as u32;
        while mask != 0 {
            candidate(at + mask.trailing_zeros() as usize);
            mask &= mask - 1;
        }
        at += 8;
    }
    at
}
