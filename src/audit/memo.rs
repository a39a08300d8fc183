//! A worker's direct-mapped cache: recent answers of a costly function,
//! each key in one slot fixed by its bits (a new key evicts the old one).
//! Rows of a chunk repeat few distinct values (codes, patients), so a
//! small private table answers most rows without parsing or locking.

/// A key of a [`Memo`]: its bits mixed into a slot choice.
pub trait MemoKey: Copy + Eq {
    /// The key's bits, mixed so that similar keys land in different slots.
    fn mix(&self) -> u64;
}

impl MemoKey for (u128, u128) {
    fn mix(&self) -> u64 {
        let words = [
            self.0 as u64,
            (self.0 >> 64) as u64,
            self.1 as u64,
            (self.1 >> 64) as u64,
        ];
        words.iter().fold(0u64, |h, &w| {
            (h.rotate_left(23) ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        })
    }
}

impl MemoKey for u128 {
    fn mix(&self) -> u64 {
        // Two multiplications: the slot is taken from the top bits, which
        // depend on every bit of both words.
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        ((*self as u64).wrapping_mul(K) ^ (*self >> 64) as u64).wrapping_mul(K)
    }
}

/// A direct-mapped cache of `K -> V`.
#[derive(Debug)]
pub struct Memo<K, V> {
    slots: Vec<Option<(K, V)>>,
    shift: u32,
}

impl<K: MemoKey, V: Copy> Memo<K, V> {
    /// An empty memo of `2^bits` slots.
    pub fn new(bits: u32) -> Memo<K, V> {
        Memo {
            slots: vec![None; 1 << bits],
            shift: 64 - bits,
        }
    }

    fn slot(&self, key: &K) -> usize {
        (key.mix() >> self.shift) as usize
    }

    /// The remembered answer for `key`, if it is still there.
    pub fn get(&self, key: K) -> Option<V> {
        match self.slots[self.slot(&key)] {
            Some((k, v)) if k == key => Some(v),
            _ => None,
        }
    }

    /// Remembers `value` for `key`.
    pub fn put(&mut self, key: K, value: V) {
        let slot = self.slot(&key);
        self.slots[slot] = Some((key, value));
    }

    /// The answer for `key`: remembered, or made by `make` and remembered
    /// when it makes one (a `None` is not remembered).
    pub fn get_or_try(&mut self, key: K, make: impl FnOnce() -> Option<V>) -> Option<V> {
        if let Some(v) = self.get(key) {
            return Some(v);
        }
        let v = make()?;
        self.put(key, v);
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_latest_answer_per_slot_and_never_a_wrong_one() {
        let mut memo: Memo<(u128, u128), u64> = Memo::new(4);
        let keys: Vec<(u128, u128)> = (0..200u128).map(|k| (k, k * 7 + 1)).collect();
        for &k in &keys {
            memo.put(k, (k.0 * 3) as u64);
        }
        let mut hits = 0;
        for &k in &keys {
            if let Some(v) = memo.get(k) {
                assert_eq!(v, (k.0 * 3) as u64);
                hits += 1;
            }
        }
        // 16 slots: at most 16 keys survive, and the last one put always does.
        assert!((1..=16).contains(&hits), "{hits}");
        assert_eq!(memo.get(keys[199]), Some(199 * 3));
        assert_eq!(memo.get((1000, 0)), None);
    }
}
