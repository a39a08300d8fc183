//! Pseudonymised patient ids, numbered densely in the order first seen.
//!
//! Extracts usually carry integer ids; a canonical decimal id (digits, no
//! leading zero) is kept as a number, which costs no allocation and hashes
//! in a few instructions on the hot path. Any other id is kept as text.
//! "007" and "7" stay different ids.

use std::borrow::Cow;

use polars::prelude::PlHashMap as HashMap;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Id {
    Number(u64),
    Text(Box<str>),
}

/// The patient ids of an extract.
#[derive(Debug, Default)]
pub struct PatientIds {
    numbers: HashMap<u64, u32>,
    texts: HashMap<Box<str>, u32>,
    ids: Vec<Id>,
}

/// The id as a number when it is written canonically in decimal.
fn as_number(id: &str) -> Option<u64> {
    let b = id.as_bytes();
    if b.is_empty()
        || b.len() > 19
        || (b[0] == b'0' && b.len() > 1)
        || !b.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    id.parse().ok()
}

impl PatientIds {
    /// Number of patients.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Makes room for `n` more ids.
    pub fn reserve(&mut self, n: usize) {
        self.ids.reserve(n);
        self.numbers.reserve(n);
    }

    /// The dense index of an id.
    pub fn get(&self, id: &str) -> Option<u32> {
        match as_number(id) {
            Some(n) => self.numbers.get(&n).copied(),
            None => self.texts.get(id).copied(),
        }
    }

    /// Adds an id; `None` if it is already there.
    pub fn insert(&mut self, id: &str) -> Option<u32> {
        let next = self.ids.len() as u32;
        // One hash lookup per id: this loop runs on one thread for every patient.
        match as_number(id) {
            Some(n) => {
                // `next` is new, so finding another value means a duplicate.
                if *self.numbers.entry(n).or_insert(next) != next {
                    return None;
                }
                self.ids.push(Id::Number(n));
            }
            None => {
                if self.texts.contains_key(id) {
                    return None;
                }
                self.texts.insert(id.into(), next);
                self.ids.push(Id::Text(id.into()));
            }
        }
        Some(next)
    }

    /// The id of patient `p` as written in the extract.
    pub fn id(&self, p: u32) -> Cow<'_, str> {
        match &self.ids[p as usize] {
            Id::Number(n) => Cow::Owned(n.to_string()),
            Id::Text(t) => Cow::Borrowed(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
