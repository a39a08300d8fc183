//! Pseudonymised patient ids, numbered densely in the order first seen.
//!
//! Extracts usually carry integer ids; a canonical decimal id (digits, no
//! leading zero) is kept as a number, which costs no allocation. Any other
//! id is kept as text. "007" and "7" stay different ids.
//!
//! Extracts are usually sorted by patient. While the ids arrive as strictly
//! increasing numbers, the dense index of an id is its position in that
//! sorted list: no hash table, 8 bytes per patient, and the lookups of a
//! table sorted the same way walk forward through memory
//! (`PatientIds::get_near`) instead of missing the cache on every patient
//! of a national extract. The first id out of order (or the first text id)
//! moves the numbers into a hash table, which works for any order.

use std::borrow::Cow;

use polars::prelude::PlHashMap as HashMap;

/// Stands for a text id in `numbers`: `TEXT - k` is the `k`-th text id.
/// Canonical numbers have at most 19 digits, so they stay below it.
const TEXT: u64 = u64::MAX;

/// The patient ids of an extract.
#[derive(Debug, Default)]
pub(crate) struct PatientIds {
    /// The id of each patient by dense index, or a tag for a text id.
    numbers: Vec<u64>,
    /// Number -> dense index, once the ids stopped arriving in order.
    hashed: Option<HashMap<u64, u32>>,
    /// Text id -> dense index.
    texts: HashMap<Box<str>, u32>,
    /// The text ids, in the order seen.
    text_list: Vec<Box<str>>,
}

/// Which text id a value of `numbers` stands for, if it is a tag.
fn text_index(n: u64) -> Option<usize> {
    (n > TEXT - u64::from(u32::MAX)).then(|| (TEXT - n) as usize)
}

/// The id as the number it is kept as, when it is written canonically in
/// decimal (`None` for a text id). Readers work this out in parallel and
/// hand runs of numbers to [`PatientIds::extend_ascending`].
pub(crate) fn as_number(id: &str) -> Option<u64> {
    let b = id.as_bytes();
    if b.is_empty() || b.len() > 19 || (b[0] == b'0' && b.len() > 1) {
        return None;
    }
    // At most 19 digits: below 10^19, so no overflow.
    b.iter().try_fold(0u64, |n, &c| {
        let digit = c.wrapping_sub(b'0');
        (digit <= 9).then(|| n * 10 + u64::from(digit))
    })
}

impl PatientIds {
    /// Number of patients.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    /// Makes room for `n` more ids.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.numbers.reserve(n);
    }

    /// True while every id arrived as a number greater than the one before.
    fn ascending(&self) -> bool {
        self.hashed.is_none() && self.text_list.is_empty()
    }

    /// The dense index of an id, found without a hint (the tests' reference
    /// for `get_near`).
    #[cfg(test)]
    pub fn get(&self, id: &str) -> Option<u32> {
        self.get_near(id, None)
    }

    /// The dense index of an id, searching forward from patient `near`
    /// first: a table sorted by patient finds each id a step or two after
    /// the last one. Same answer whatever `near` is.
    pub fn get_near(&self, id: &str, near: Option<u32>) -> Option<u32> {
        let Some(n) = as_number(id) else {
            return self.texts.get(id).copied();
        };
        if let Some(hashed) = &self.hashed {
            return hashed.get(&n).copied();
        }
        let sorted = &self.numbers;
        // Gallop forward from `near` to bracket n, then search the bracket.
        let hint = near
            .map(|p| p as usize)
            .filter(|&p| p < sorted.len() && sorted[p] <= n);
        let found = match hint {
            Some(from) => {
                let (mut lo, mut hi, mut step) = (from, from + 1, 1);
                while hi < sorted.len() && sorted[hi] < n {
                    lo = hi;
                    hi += step;
                    step *= 2;
                }
                let end = (hi + 1).min(sorted.len());
                sorted[lo..end].binary_search(&n).ok().map(|i| lo + i)
            }
            None => sorted.binary_search(&n).ok(),
        };
        found.map(|i| i as u32)
    }

    /// The numbers' hash table, made when the ids stop arriving in order.
    fn hashed_mut(&mut self) -> &mut HashMap<u64, u32> {
        let numbers = &self.numbers;
        self.hashed.get_or_insert_with(|| {
            let mut map = HashMap::default();
            map.reserve(numbers.capacity());
            for (p, &n) in numbers.iter().enumerate() {
                if text_index(n).is_none() {
                    map.insert(n, p as u32);
                }
            }
            map
        })
    }

    /// Adds an id; `None` if it is already there.
    pub(crate) fn insert(&mut self, id: &str) -> Option<u32> {
        let next = self.numbers.len() as u32;
        match as_number(id) {
            Some(n) => {
                let in_order = self.numbers.last().is_none_or(|&last| last < n);
                if !(in_order && self.ascending()) {
                    // `next` is new, so finding another value means a duplicate.
                    if *self.hashed_mut().entry(n).or_insert(next) != next {
                        return None;
                    }
                }
                self.numbers.push(n);
            }
            None => {
                if self.texts.contains_key(id) {
                    return None;
                }
                self.hashed_mut();
                self.texts.insert(id.into(), next);
                self.numbers.push(TEXT - self.text_list.len() as u64);
                self.text_list.push(id.into());
            }
        }
        Some(next)
    }

    /// Numbers the ids `numbers` (each from [`as_number`]) next, in order,
    /// when they continue the ascending run: every one greater than the one
    /// before it and than the last id added. Otherwise adds nothing and
    /// answers false; the caller then adds them one by one with
    /// [`PatientIds::insert`], which also finds duplicates. Same result
    /// either way; this one does no search and no parsing.
    pub(crate) fn extend_ascending(&mut self, numbers: &[u64]) -> bool {
        let continues = self.ascending()
            && match (self.numbers.last(), numbers.first()) {
                (Some(last), Some(first)) => last < first,
                _ => true,
            };
        if !continues || !numbers.windows(2).all(|w| w[0] < w[1]) {
            return false;
        }
        self.numbers.extend_from_slice(numbers);
        true
    }

    /// The id of patient `p` as written in the extract.
    pub fn id(&self, p: u32) -> Cow<'_, str> {
        let n = self.numbers[p as usize];
        match text_index(n) {
            Some(k) => Cow::Borrowed(&self.text_list[k]),
            None => Cow::Owned(n.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_and_texts_keep_their_identity() {
        let mut ids = PatientIds::default();
        assert_eq!(ids.insert("7"), Some(0));
        assert_eq!(ids.insert("007"), Some(1));
        assert_eq!(ids.insert("pid-1"), Some(2));
        assert_eq!(ids.insert("7"), None);
        assert_eq!(ids.insert("pid-1"), None);
        assert_eq!(
            (ids.get("7"), ids.get("007"), ids.get("pid-1"), ids.get("8")),
            (Some(0), Some(1), Some(2), None)
        );
        assert_eq!(
            (ids.id(0), ids.id(1), ids.id(2)),
            ("7".into(), "007".into(), "pid-1".into())
        );
        assert_eq!(ids.insert("99999999999999999999"), Some(3)); // too long for u64: text
        assert_eq!(ids.id(3), "99999999999999999999");
        assert_eq!(ids.insert("9999999999999999999"), Some(4)); // the largest number
        assert_eq!(ids.id(4), "9999999999999999999");
    }

    #[test]
    fn ascending_ids_are_found_without_a_hash_table() {
        let mut ids = PatientIds::default();
        for (p, id) in ["3", "10", "11", "40"].iter().enumerate() {
            assert_eq!(ids.insert(id), Some(p as u32));
        }
        assert!(ids.ascending());
        assert_eq!(ids.get_near("40", Some(0)), Some(3));
        assert_eq!(ids.get_near("3", Some(3)), Some(0)); // behind the hint
        assert_eq!(ids.get_near("12", Some(1)), None);
        assert_eq!(ids.get_near("41", Some(2)), None);
        assert_eq!(ids.get_near("2", None), None);
        // An id out of order switches to hashing and still finds duplicates.
        assert_eq!(ids.insert("5"), Some(4));
        assert!(!ids.ascending());
        assert_eq!(ids.insert("10"), None);
        assert_eq!(ids.insert("5"), None);
        assert_eq!((ids.get("5"), ids.get("11")), (Some(4), Some(2)));
    }

    /// Mostly numbers, some zero-padded or text ids.
    fn id_text(n: u64, kind: u8) -> String {
        match kind {
            0 => format!("0{n}"),
            1 if n > 50 => format!("p{n}"),
            _ => n.to_string(),
        }
    }

    proptest! {
        /// Whatever the order and mix of ids, the table answers as a plain
        /// map from id to first-seen position would, whether the ids are
        /// added one by one or, as readers do, in runs of numbers that go
        /// in at once when they continue the ascending order.
        #[test]
        fn answers_as_a_map_would(
            raw in prop::collection::vec((0u64..60, 1usize..5, 0u8..4), 0..80),
            sorted in any::<bool>(),
            in_runs in any::<bool>(),
        ) {
            let mut raw = raw;
            if sorted {
                raw.sort_unstable();
            }
            let mut ids = PatientIds::default();
            let mut model: std::collections::HashMap<String, u32> = Default::default();
            let mut i = 0;
            while i < raw.len() {
                let run = if in_runs { raw[i].1 } else { 1 };
                let texts: Vec<String> = raw[i..(i + run).min(raw.len())]
                    .iter()
                    .map(|&(n, _, kind)| id_text(n, kind))
                    .collect();
                i += run;
                let numbers: Option<Vec<u64>> = texts.iter().map(|id| as_number(id)).collect();
                let extended = numbers.is_some_and(|n| ids.extend_ascending(&n));
                for id in texts {
                    let expected = if model.contains_key(&id) {
                        None
                    } else {
                        let p = model.len() as u32;
                        model.insert(id.clone(), p);
                        Some(p)
                    };
                    if extended {
                        // A run goes in at once only when every id is new.
                        prop_assert!(expected.is_some());
                    } else {
                        prop_assert_eq!(ids.insert(&id), expected);
                    }
                }
            }
            for n in 0..62u64 {
                for id in [n.to_string(), format!("0{n}"), format!("p{n}")] {
                    let want = model.get(&id).copied();
                    prop_assert_eq!(ids.get(&id), want);
                    for near in [None, Some(0), Some(n as u32 / 2), Some(u32::MAX)] {
                        prop_assert_eq!(ids.get_near(&id, near), want);
                    }
                    if let Some(p) = want {
                        prop_assert_eq!(ids.id(p), id.as_str());
                    }
                }
            }
        }
    }
}
