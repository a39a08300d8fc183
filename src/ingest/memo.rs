//! A worker's direct-mapped cache: recent answers of a costly function,
//! each key in one slot fixed by its bits (a new key evicts the old one).
//! Rows of a chunk repeat few distinct values (codes, patients), so a
//! small private table answers most rows without parsing or locking.

use super::source::ValueKey;

/// A key of a [`Memo`]: its bits mixed into a slot choice.
pub(crate) trait MemoKey: Copy + Eq {
    /// A key never asked for: it marks an empty slot.
    const EMPTY: Self;
    /// The key's bits, mixed so that similar keys land in different slots.
    fn mix(&self) -> u64;
}

/// Fibonacci hashing's multiplier (2^64 / golden ratio).
const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl MemoKey for ValueKey {
    /// Null: nothing is remembered for a missing value.
    const EMPTY: ValueKey = ValueKey::NULL;

    fn mix(&self) -> u64 {
        // Two multiplications: the slot is taken from the top bits, which
        // depend on every bit of both words.
        (self.0[0].wrapping_mul(K) ^ self.0[1]).wrapping_mul(K)
    }
}

impl MemoKey for (ValueKey, ValueKey) {
    /// Both null: nothing is remembered when both values are missing.
    const EMPTY: (ValueKey, ValueKey) = (ValueKey::NULL, ValueKey::NULL);

    fn mix(&self) -> u64 {
        [self.0 .0[0], self.0 .0[1], self.1 .0[0], self.1 .0[1]]
            .iter()
            .fold(0u64, |h, &w| (h ^ w).wrapping_mul(K))
    }
}

/// A direct-mapped cache of `K -> V`: each slot a key and its value, with
/// [`MemoKey::EMPTY`] marking a slot not used yet (no `Option` tag, so the
/// slots stay small and more of them stay in cache).
#[derive(Debug)]
pub(crate) struct Memo<K, V> {
    slots: Vec<(K, V)>,
    shift: u32,
}

impl<K: MemoKey, V: Copy + Default> Memo<K, V> {
    /// An empty memo of `2^bits` slots.
    pub fn new(bits: u32) -> Memo<K, V> {
        Memo {
            slots: vec![(K::EMPTY, V::default()); 1 << bits],
            shift: 64 - bits,
        }
    }

    fn slot(&self, key: &K) -> usize {
        (key.mix() >> self.shift) as usize
    }

    /// The remembered answer for `key`, if it is still there.
    pub fn get(&self, key: K) -> Option<V> {
        let (k, v) = self.slots[self.slot(&key)];
        (k == key && key != K::EMPTY).then_some(v)
    }

    /// Remembers `value` for `key` (nothing for the empty key).
    pub fn put(&mut self, key: K, value: V) {
        if key != K::EMPTY {
            let slot = self.slot(&key);
            self.slots[slot] = (key, value);
        }
    }

    /// The answer for `key`: remembered, or made by `make` and remembered
    /// when it makes one (a `None` is not remembered).
    pub(crate) fn get_or_try(&mut self, key: K, make: impl FnOnce() -> Option<V>) -> Option<V> {
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

    fn key(k: u64) -> ValueKey {
        ValueKey([k, k * 7 + 1])
    }

    #[test]
    fn remembers_the_latest_answer_per_slot_and_never_a_wrong_one() {
        let mut memo: Memo<(ValueKey, ValueKey), u64> = Memo::new(4);
        let keys: Vec<(ValueKey, ValueKey)> = (0..200u64).map(|k| (key(k), key(k + 3))).collect();
        for &k in &keys {
            memo.put(k, k.0 .0[0] * 3);
        }
        let mut hits = 0;
        for &k in &keys {
            if let Some(v) = memo.get(k) {
                assert_eq!(v, k.0 .0[0] * 3);
                hits += 1;
            }
        }
        // 16 slots: at most 16 keys survive, and the last one put always does.
        assert!((1..=16).contains(&hits), "{hits}");
        assert_eq!(memo.get(keys[199]), Some(199 * 3));
        assert_eq!(memo.get((key(1000), ValueKey::NULL)), None);
    }

    #[test]
    fn the_empty_key_is_never_answered() {
        let mut memo: Memo<ValueKey, u32> = Memo::new(2);
        // An empty memo holds the empty key with the default value in
        // every slot: still no answer for it.
        assert_eq!(memo.get(ValueKey::NULL), None);
        memo.put(ValueKey::NULL, 7);
        assert_eq!(memo.get(ValueKey::NULL), None);
        let mut made = 0;
        for _ in 0..2 {
            let v = memo.get_or_try(ValueKey::NULL, || {
                made += 1;
                Some(5)
            });
            assert_eq!(v, Some(5));
        }
        assert_eq!(made, 2);
        memo.put(key(1), 9);
        assert_eq!(memo.get(key(1)), Some(9));
    }
}
