//! Classifies codes to concept bitmasks, once per distinct code.
//!
//! Clinical event codes map through one precomputed dictionary (SNOMED id ->
//! mask). Medications are keyed by their (dm+d id, BNF code) pair: the first
//! time a pair is seen its BNF code is resolved (given, or mapped from dm+d),
//! matched against every drug concept, and the result is cached; every later
//! row with the same pair costs one hash lookup. The cache is shared by the
//! worker threads; ids it hands out depend on arrival order, so
//! [`DrugTable::canonical_order`] renumbers them by key before any result
//! depends on them.

use polars::prelude::PlHashMap as HashMap;
use std::sync::RwLock;

use super::bnf::{BnfFilter, CHEMICAL_LEN};

/// A set of concepts, one bit per concept (at most 64).
pub type ConceptMask = u64;

/// A distinct medication code pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DrugKey {
    /// dm+d id, 0 when absent.
    pub dmd: u64,
    /// BNF code, zero-padded ASCII, all zero when absent.
    pub bnf: [u8; 15],
}

impl DrugKey {
    /// Builds a key from a validated dm+d id and BNF code.
    pub fn new(dmd: Option<u64>, bnf: Option<&str>) -> DrugKey {
        let mut b = [0u8; 15];
        if let Some(s) = bnf {
            let n = s.len().min(15);
            b[..n].copy_from_slice(&s.as_bytes()[..n]);
        }
        DrugKey {
            dmd: dmd.unwrap_or(0),
            bnf: b,
        }
    }

    fn bnf_str(&self) -> Option<&str> {
        let n = self.bnf.iter().position(|&c| c == 0).unwrap_or(15);
        (n > 0).then(|| std::str::from_utf8(&self.bnf[..n]).unwrap_or(""))
    }
}

/// What a distinct medication code pair is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrugInfo {
    /// The code pair.
    pub key: DrugKey,
    /// Drug concepts it belongs to.
    pub mask: ConceptMask,
    /// Its BNF chemical (9 characters), when its BNF code is known.
    pub chemical: Option<[u8; CHEMICAL_LEN]>,
    /// A readable name: the dm+d or BNF description, else the code.
    pub name: String,
}

/// The dictionaries a classifier is built from.
#[derive(Debug, Default)]
pub struct ClassifierParts {
    /// SNOMED CT id -> event concepts.
    pub events: HashMap<u64, ConceptMask>,
    /// dm+d id -> drug concepts it belongs to directly (from dm+d lists).
    pub dmd_direct: HashMap<u64, ConceptMask>,
    /// dm+d id -> BNF code (from dm+d lists with a BNF column).
    pub dmd_bnf: HashMap<u64, String>,
    /// dm+d id -> name.
    pub dmd_names: HashMap<u64, String>,
    /// BNF code -> name.
    pub bnf_names: HashMap<String, String>,
    /// Drug concept bit -> BNF filter.
    pub filters: Vec<(u8, BnfFilter)>,
}

/// Classifies event codes and medications to concept masks.
#[derive(Debug)]
pub struct Classifier {
    parts: ClassifierParts,
    /// Every dm+d id the codelists know that matches a concept, classified
    /// and numbered up front: (id, mask). A dm+d-only row needs no lock.
    known_dmd: HashMap<u64, (u32, ConceptMask)>,
    drugs: RwLock<DrugTable>,
}

/// Every distinct medication seen, by id.
#[derive(Debug, Default, Clone)]
pub struct DrugTable {
    /// Drug info by id.
    pub drugs: Vec<DrugInfo>,
    index: HashMap<DrugKey, u32>,
}

impl DrugTable {
    /// Renumbers drugs in key order so ids no longer depend on which thread
    /// saw a code first; returns old id -> new id.
    pub fn canonical_order(&mut self) -> Vec<u32> {
        let remap = crate::order::sort_with_remap(&mut self.drugs, |d| d.key);
        self.index = self
            .drugs
            .iter()
            .enumerate()
            .map(|(i, d)| (d.key, i as u32))
            .collect();
        remap
    }
}

impl Classifier {
    /// Builds a classifier from its dictionaries.
    pub fn new(parts: ClassifierParts) -> Classifier {
        let mut c = Classifier {
            parts,
            known_dmd: HashMap::default(),
            drugs: RwLock::new(DrugTable::default()),
        };
        let mut ids: Vec<u64> = c
            .parts
            .dmd_direct
            .keys()
            .chain(c.parts.dmd_bnf.keys())
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut table = DrugTable::default();
        for id in ids {
            let info = c.describe(DrugKey::new(Some(id), None));
            if info.mask != 0 {
                let n = table.drugs.len() as u32;
                c.known_dmd.insert(id, (n, info.mask));
                table.index.insert(info.key, n);
                table.drugs.push(info);
            }
        }
        c.drugs = RwLock::new(table);
        c
    }

    /// The event concepts a SNOMED CT id belongs to (0 = none).
    pub fn event(&self, code: u64) -> ConceptMask {
        self.parts.events.get(&code).copied().unwrap_or(0)
    }

    /// Classifies a medication: its drug id and concept mask. A code pair
    /// that matches no concept gets mask 0 (and no id: `u32::MAX`).
    pub fn drug(&self, key: DrugKey) -> (u32, ConceptMask) {
        if key.bnf[0] == 0 {
            // dm+d only: a code no codelist knows matches nothing.
            return self
                .known_dmd
                .get(&key.dmd)
                .copied()
                .unwrap_or((u32::MAX, 0));
        }
        if self.mask_of(key) == 0 {
            return (u32::MAX, 0);
        }
        {
            let table = self.read();
            if let Some(&id) = table.index.get(&key) {
                return (id, table.drugs[id as usize].mask);
            }
        }
        let info = self.describe(key);
        let mask = info.mask;
        let mut table = self.drugs.write().unwrap_or_else(|e| e.into_inner());
        let next = table.drugs.len() as u32;
        let id = *table.index.entry(key).or_insert(next);
        if id == next {
            table.drugs.push(info);
        }
        (id, mask)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, DrugTable> {
        self.drugs.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The table of drugs seen so far, in canonical order, with the old id
    /// -> new id map for the items that refer to them.
    pub fn take_drugs(&self) -> (DrugTable, Vec<u32>) {
        let mut table = self.read().clone();
        let remap = table.canonical_order();
        (table, remap)
    }

    /// The concepts of one code pair: its dm+d id's lists, and the BNF
    /// filters on its BNF code (given, or mapped from dm+d).
    fn mask_of(&self, key: DrugKey) -> ConceptMask {
        let p = &self.parts;
        let dmd = (key.dmd != 0).then_some(key.dmd);
        let bnf = key
            .bnf_str()
            .or_else(|| dmd.and_then(|d| p.dmd_bnf.get(&d)).map(String::as_str));
        let mut mask = dmd.and_then(|d| p.dmd_direct.get(&d)).copied().unwrap_or(0);
        if let Some(b) = bnf {
            for (bit, f) in &p.filters {
                if f.matches(b) {
                    mask |= 1 << bit;
                }
            }
        }
        mask
    }

    /// Resolves and matches one code pair.
    pub fn describe(&self, key: DrugKey) -> DrugInfo {
        let p = &self.parts;
        let dmd = (key.dmd != 0).then_some(key.dmd);
        let bnf: Option<String> = key
            .bnf_str()
            .map(str::to_string)
            .or_else(|| dmd.and_then(|d| p.dmd_bnf.get(&d).cloned()));
        let mask = self.mask_of(key);
        let chemical = bnf.as_ref().filter(|b| b.len() >= CHEMICAL_LEN).map(|b| {
            let mut c = [0u8; CHEMICAL_LEN];
            c.copy_from_slice(&b.as_bytes()[..CHEMICAL_LEN]);
            c
        });
        let name = dmd
            .and_then(|d| p.dmd_names.get(&d))
            .or_else(|| bnf.as_ref().and_then(|b| p.bnf_names.get(b)))
            .cloned()
            .unwrap_or_else(|| match (dmd, &bnf) {
                (Some(d), _) => format!("dm+d {d}"),
                (None, Some(b)) => format!("BNF {b}"),
                (None, None) => String::new(),
            });
        DrugInfo {
            key,
            mask,
            chemical,
            name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classifier() -> Classifier {
        let mut parts = ClassifierParts::default();
        parts.dmd_bnf.insert(321589009, "040201030AAAAAA".into()); // risperidone
        parts.dmd_bnf.insert(321935002, "0403040F0AAAAAA".into()); // flupentixol 500mcg
        parts.dmd_bnf.insert(322149009, "0406000T0AAAEAE".into()); // prochlorperazine
        parts
            .dmd_names
            .insert(321589009, "Risperidone 1mg tablets".into());
        parts.dmd_direct.insert(321117007, 1 << 2); // flurazepam, no BNF column
        parts
            .filters
            .push((0, BnfFilter::parse(&["0402010".into()]).unwrap()));
        parts
            .filters
            .push((1, BnfFilter::parse(&["0403".into()]).unwrap()));
        Classifier::new(parts)
    }

    #[test]
    fn a_dmd_code_is_classified_through_its_bnf_code() {
        let c = classifier();
        let (_, mask) = c.drug(DrugKey::new(Some(321589009), None));
        assert_eq!(mask, 1);
        let info = c.describe(DrugKey::new(Some(321589009), None));
        assert_eq!(info.chemical, Some(*b"040201030"));
        assert_eq!(info.name, "Risperidone 1mg tablets");
    }

    #[test]
    fn the_bnf_wins_for_low_dose_flupentixol() {
        let c = classifier();
        assert_eq!(c.drug(DrugKey::new(Some(321935002), None)).1, 1 << 1);
    }

    #[test]
    fn prochlorperazine_alone_matches_nothing() {
        let c = classifier();
        assert_eq!(c.drug(DrugKey::new(Some(322149009), None)).1, 0);
    }

    #[test]
    fn lists_without_bnf_add_codes_directly_and_given_bnf_is_used() {
        let c = classifier();
        assert_eq!(c.drug(DrugKey::new(Some(321117007), None)).1, 1 << 2);
        assert_eq!(c.drug(DrugKey::new(None, Some("0402010ADAAAAAA"))).1, 1);
        assert_eq!(c.drug(DrugKey::new(Some(999), None)).1, 0);
    }

    #[test]
    fn each_pair_is_classified_once_and_ids_are_canonical() {
        let c = classifier();
        let b = c.drug(DrugKey::new(None, Some("0402010ADAAAAAA"))).0;
        let a = c.drug(DrugKey::new(Some(321589009), None)).0;
        assert_eq!(c.drug(DrugKey::new(None, Some("0402010ADAAAAAA"))).0, b);
        // Unrelated pairs get no id.
        assert_eq!(
            c.drug(DrugKey::new(None, Some("0106020L0AAAAAA"))),
            (u32::MAX, 0)
        );
        let (table, remap) = c.take_drugs();
        // The three related dm+d ids known up front, and the BNF-only pair.
        assert_eq!(table.drugs.len(), 4);
        // Key order: dm+d 0 (BNF only) first, then by dm+d id.
        assert_eq!(remap[b as usize], 0);
        assert_eq!(table.drugs[remap[a as usize] as usize].key.dmd, 321589009);
    }
}
