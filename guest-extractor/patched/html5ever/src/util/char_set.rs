//! Patched for RipTide (see PATCHED.md). The tokenizer takes its input a run at a time: the
//! characters up to the next one in a `SmallCharSet`. Where the target has WebAssembly's
//! 128-bit SIMD, the run is found 16 bytes at a time (x86 and Arm builds have fast paths of
//! their own for the data state only, and elsewhere markup5ever's byte-at-a-time count
//! stays).

use markup5ever::SmallCharSet;

/// The byte length of the characters at the beginning of `text` that are not in `set`:
/// what `SmallCharSet::nonmember_prefix_len` counts.
#[inline(always)]
pub(crate) fn nonmember_prefix_len(set: SmallCharSet, text: &str) -> u32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd128::nonmember_prefix_len(&NibbleTables::of(set), text.as_bytes())
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        set.nonmember_prefix_len(text)
    }
}

/// Which bit of a low-nibble entry stands for each high nibble (0 to 3: the set's
/// characters are below 64); a byte of 64 or more has none.
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
const HIGH_NIBBLE_BITS: [u8; 16] = [1, 2, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// A `SmallCharSet` as a table indexed by a byte's low nibble: entry `l` has bit `h` set when
/// the character `16 * h + l` is in the set. A byte is in the set when its low-nibble entry
/// and `HIGH_NIBBLE_BITS` of its high nibble share a bit, so 16 bytes are tested with two
/// table look-ups ("shufti"; `i8x16.swizzle` in WebAssembly).
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
pub(crate) struct NibbleTables {
    low: [u8; 16],
}

#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
impl NibbleTables {
    /// Straight-line arithmetic: where the set is a constant, the tables are one too.
    #[inline(always)]
    pub(crate) const fn of(set: SmallCharSet) -> Self {
        // Entries 0 to 7 and 8 to 15, a byte each: bit `h` of entry `l` is bit `16 * h + l`
        // of the set.
        let mut entries = [0_u64; 2];
        let mut half = 0;
        while half < 2 {
            let mut high_nibble = 0;
            while high_nibble < 4 {
                let bits = (set.bits >> (16 * high_nibble + 8 * half)) & 0xFF;
                entries[half] |= spread_bits_to_bytes(bits) << high_nibble;
                high_nibble += 1;
            }
            half += 1;
        }
        let low = (entries[1] as u128) << 64 | entries[0] as u128;
        NibbleTables {
            low: low.to_le_bytes(),
        }
    }

    #[inline(always)]
    pub(crate) fn contains(&self, byte: u8) -> bool {
        self.low[usize::from(byte & 15)] & HIGH_NIBBLE_BITS[usize::from(byte >> 4)] != 0
    }
}

/// Bit `i` of the low byte of `bits` as byte `i` (0 or 1): each byte keeps its own bit of
/// a copy of the value, and adding 0x7F carries any bit left into the byte's top bit.
#[cfg(any(test, all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
const fn spread_bits_to_bytes(bits: u64) -> u64 {
    let own_bit = (bits & 0xFF).wrapping_mul(0x0101_0101_0101_0101) & 0x8040_2010_0804_0201;
    ((own_bit + 0x7F7F_7F7F_7F7F_7F7F) >> 7) & 0x0101_0101_0101_0101
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use super::{NibbleTables, HIGH_NIBBLE_BITS};
    use core::arch::wasm32::{
        i8x16_swizzle, u8x16_bitmask, u8x16_ne, u8x16_shr, u8x16_splat, v128, v128_and, v128_load,
    };

    pub(super) fn nonmember_prefix_len(tables: &NibbleTables, bytes: &[u8]) -> u32 {
        // SAFETY: each load reads 16 bytes inside `bytes` or inside a 16-byte table.
        unsafe {
            let low = v128_load(tables.low.as_ptr().cast::<v128>());
            let high = v128_load(HIGH_NIBBLE_BITS.as_ptr().cast::<v128>());
            let low_nibble = u8x16_splat(0x0F);
            let none = u8x16_splat(0);
            let mut start = 0;
            while start + 16 <= bytes.len() {
                let chunk = v128_load(bytes.as_ptr().add(start).cast::<v128>());
                let low_bits = i8x16_swizzle(low, v128_and(chunk, low_nibble));
                let high_bits = i8x16_swizzle(high, u8x16_shr(chunk, 4));
                let members = u8x16_bitmask(u8x16_ne(v128_and(low_bits, high_bits), none));
                if members != 0 {
                    return (start + members.trailing_zeros() as usize) as u32;
                }
                start += 16;
            }
            let tail = bytes[start..]
                .iter()
                .take_while(|&&byte| !tables.contains(byte));
            (start + tail.count()) as u32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{nonmember_prefix_len, NibbleTables};
    use markup5ever::SmallCharSet;

    #[test]
    fn nibble_tables_hold_exactly_the_set() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..1000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let set = SmallCharSet { bits: state };
            let tables = NibbleTables::of(set);
            for byte in 0..=u8::MAX {
                let in_set = byte < 64 && state & (1 << byte) != 0;
                assert_eq!(tables.contains(byte), in_set, "{byte} in {state:#x}");
            }
            let text = "run of text é日\u{1F600} <then> & more\r\n\0";
            assert_eq!(
                nonmember_prefix_len(set, text),
                set.nonmember_prefix_len(text)
            );
        }
    }
}
