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
use super::dictionary::NameResolver;
use super::form::Form;

/// A set of concepts, one bit per concept (at most 64).
pub(crate) type ConceptMask = u64;

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

/// Whether a medication row's class came from its dm+d code or from the
/// BNF code the row carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Via {
    /// The row had no BNF code: classified through the dm+d dictionary.
    Dmd,
    /// The row carried a BNF code, which was used.
    Bnf,
}

/// What a distinct medication code pair is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrugInfo {
    /// The code pair.
    pub key: DrugKey,
    /// Drug concepts it belongs to.
    pub mask: ConceptMask,
    /// For a dm+d code that no list knows: the concepts its name (from the
    /// extract) would put it in. Reported, never counted.
    pub named_mask: ConceptMask,
    /// Its BNF code: given, or from the dm+d dictionary.
    pub bnf: Option<String>,
    /// Its active ingredient, when its BNF chemical is known: oral and depot
    /// forms of one drug share it (see the spec's ingredients table).
    pub ingredient: Option<String>,
    /// How it is given.
    pub form: Form,
    /// Where its class came from.
    pub(crate) via: Via,
    /// A readable name: the dm+d or BNF description, else the code.
    pub name: String,
}

/// One drug concept as the classifier applies it.
#[derive(Clone, Debug, Default)]
pub struct DrugRule {
    /// The concept's bit.
    pub bit: u8,
    /// BNF patterns the (given or mapped) BNF code must match; empty = none.
    pub filter: BnfFilter,
    /// Forms the drug must have; empty = any.
    pub forms: Vec<Form>,
    /// Concepts whose drugs are taken out of this one.
    pub exclude: ConceptMask,
}

/// The dictionaries a classifier is built from.
#[derive(Debug, Default)]
pub struct ClassifierParts {
    /// SNOMED CT id -> event concepts.
    pub events: HashMap<u64, ConceptMask>,
    /// dm+d id -> drug concepts it belongs to directly (lists named by a concept).
    pub dmd_direct: HashMap<u64, ConceptMask>,
    /// dm+d id -> BNF code (the spec's drug dictionary).
    pub dmd_bnf: HashMap<u64, String>,
    /// dm+d id -> name.
    pub dmd_names: HashMap<u64, String>,
    /// BNF code -> name.
    pub bnf_names: HashMap<String, String>,
    /// BNF chemical (9 characters) -> active ingredient.
    pub ingredients: HashMap<String, String>,
    /// The drug concepts.
    pub rules: Vec<DrugRule>,
    /// Product names -> BNF codes, for names in the extract.
    pub names: NameResolver,
}

/// Classifies event codes and medications to concept masks. Built once
/// with a spec and never changed: what one run learns (the drugs it meets
/// that only a BNF code or a name places) lives in that run's
/// `DrugSession`, so a spec reused across runs gives each the same start.
#[derive(Debug)]
pub struct Classifier {
    parts: ClassifierParts,
    /// Every dm+d id the codelists know that matches a concept, classified
    /// and numbered up front: (id, mask). A dm+d-only row needs no lock.
    known_dmd: HashMap<u64, (u32, ConceptMask)>,
    /// The drugs of `known_dmd`, by id: every session starts from them.
    known: DrugTable,
}

/// One run's drug table: the classifier's known drugs and those the run
/// meets, numbered as met (threads share it behind a lock).
#[derive(Debug)]
pub(crate) struct DrugSession<'a> {
    classifier: &'a Classifier,
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

    pub(crate) fn add(&mut self, info: DrugInfo) -> u32 {
        let next = self.drugs.len() as u32;
        let id = *self.index.entry(info.key).or_insert(next);
        if id == next {
            self.drugs.push(info);
        }
        id
    }
}

impl DrugSession<'_> {
    /// The event concepts a SNOMED CT id belongs to (0 = none).
    pub fn event(&self, code: u64) -> ConceptMask {
        self.classifier.event(code)
    }

    /// Classifies a medication: its drug id and concept mask. A code pair
    /// that matches no concept gets mask 0 and no id ([`NO_DRUG`]).
    pub fn drug(&self, key: DrugKey) -> (u32, ConceptMask) {
        if key.bnf[0] == 0 {
            // dm+d only: a code no list knows matches nothing.
            return self
                .classifier
                .known_dmd
                .get(&key.dmd)
                .copied()
                .unwrap_or((NO_DRUG, 0));
        }
        {
            let table = self.read();
            if let Some(&id) = table.index.get(&key) {
                return (id, table.drugs[id as usize].mask);
            }
        }
        let info = self.classifier.describe(key);
        if info.mask == 0 {
            return (NO_DRUG, 0);
        }
        let mask = info.mask;
        (self.write().add(info), mask)
    }

    /// A dm+d code that no list knows, with the name the extract gives it:
    /// when the name is that of a drug of the spec's concepts, the code is
    /// registered (mask 0, `named_mask` set) so its rows can be reported.
    pub fn unlisted(&self, dmd: u64, name: &str) -> u32 {
        let Some((bnf, _)) = self.classifier.parts.names.resolve(name) else {
            return NO_DRUG;
        };
        let form = Form::of(name, Some(&bnf));
        let named_mask = self.classifier.rule_mask(0, Some(&bnf), form);
        if named_mask == 0 {
            return NO_DRUG;
        }
        let key = DrugKey::new(Some(dmd), None);
        self.write().add(DrugInfo {
            key,
            mask: 0,
            named_mask,
            bnf: Some(bnf),
            ingredient: None,
            form,
            via: Via::Dmd,
            name: name.trim().to_string(),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, DrugTable> {
        self.drugs.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, DrugTable> {
        self.drugs.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The table of drugs seen so far, in canonical order, with the old id
    /// -> new id map for the items that refer to them.
    pub(crate) fn take_drugs(&self) -> (DrugTable, Vec<u32>) {
        let mut table = self.read().clone();
        let remap = table.canonical_order();
        (table, remap)
    }
}

/// The id of "no drug": a code pair that matches no concept.
pub const NO_DRUG: u32 = u32::MAX;

impl Classifier {
    /// Builds a classifier from its dictionaries.
    pub fn new(parts: ClassifierParts) -> Classifier {
        let mut c = Classifier {
            parts,
            known_dmd: HashMap::default(),
            known: DrugTable::default(),
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
                let mask = info.mask;
                c.known_dmd.insert(id, (table.add(info), mask));
            }
        }
        c.known = table;
        c
    }

    /// A fresh drug table for one run.
    pub(crate) fn session(&self) -> DrugSession<'_> {
        DrugSession {
            classifier: self,
            drugs: RwLock::new(self.known.clone()),
        }
    }

    /// The concepts of a medication code pair, without numbering it.
    pub fn mask(&self, key: DrugKey) -> ConceptMask {
        if key.bnf[0] == 0 {
            return self.known_dmd.get(&key.dmd).map_or(0, |&(_, mask)| mask);
        }
        self.describe(key).mask
    }

    /// The event concepts a SNOMED CT id belongs to (0 = none).
    pub fn event(&self, code: u64) -> ConceptMask {
        self.parts.events.get(&code).copied().unwrap_or(0)
    }

    /// Every dm+d id the lists know that matches a concept, classified.
    pub fn known_dmd_drugs(&self) -> Vec<DrugInfo> {
        let mut ids: Vec<u32> = self.known_dmd.values().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.iter()
            .map(|&i| self.known.drugs[i as usize].clone())
            .collect()
    }

    /// The concepts of a drug: its dm+d id's direct lists, the BNF rules on
    /// its BNF code (given, or mapped from dm+d), each concept's forms, then
    /// each concept's exclusions.
    fn rule_mask(&self, direct: ConceptMask, bnf: Option<&str>, form: Form) -> ConceptMask {
        let mut mask = direct;
        for r in &self.parts.rules {
            if bnf.is_some_and(|b| r.filter.matches(b)) {
                mask |= 1 << r.bit;
            }
        }
        for r in &self.parts.rules {
            if !r.forms.is_empty() && !r.forms.contains(&form) {
                mask &= !(1 << r.bit);
            }
        }
        // Exclusions see the concepts after their forms: an excluded
        // concept has no exclusions of its own, so one pass is exact.
        let before = mask;
        for r in &self.parts.rules {
            if before & r.exclude != 0 {
                mask &= !(1 << r.bit);
            }
        }
        mask
    }

    /// Resolves and matches one code pair.
    pub fn describe(&self, key: DrugKey) -> DrugInfo {
        let p = &self.parts;
        let dmd = (key.dmd != 0).then_some(key.dmd);
        let bnf: Option<&str> = key
            .bnf_str()
            .or_else(|| dmd.and_then(|d| p.dmd_bnf.get(&d)).map(String::as_str));
        let known_name = dmd
            .and_then(|d| p.dmd_names.get(&d))
            .or_else(|| bnf.and_then(|b| p.bnf_names.get(b)));
        let form = Form::of(known_name.map_or("", String::as_str), bnf);
        let direct = dmd.and_then(|d| p.dmd_direct.get(&d)).copied().unwrap_or(0);
        let mask = self.rule_mask(direct, bnf, form);
        let ingredient = bnf.filter(|b| b.len() >= CHEMICAL_LEN).map(|b| {
            let chemical = &b[..CHEMICAL_LEN];
            p.ingredients
                .get(chemical)
                .cloned()
                .unwrap_or_else(|| chemical.to_string())
        });
        let name = known_name.cloned().unwrap_or_else(|| match (dmd, bnf) {
            (Some(d), _) => format!("dm+d {d}"),
            (None, Some(b)) => format!("BNF {b}"),
            (None, None) => String::new(),
        });
        DrugInfo {
            key,
            mask,
            named_mask: 0,
            bnf: bnf.map(str::to_string),
            ingredient,
            form,
            via: if key.bnf[0] == 0 { Via::Dmd } else { Via::Bnf },
            name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(bit: u8, bnf: &[&str]) -> DrugRule {
        DrugRule {
            bit,
            filter: BnfFilter::parse(&bnf.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap(),
            ..DrugRule::default()
        }
    }

    fn classifier() -> Classifier {
        let mut parts = ClassifierParts::default();
        parts.dmd_bnf.insert(321589009, "040201030AAAAAA".into()); // risperidone
        parts.dmd_bnf.insert(321935002, "0403040F0AAAAAA".into()); // flupentixol 500mcg
        parts.dmd_bnf.insert(322149009, "0406000T0AAAEAE".into()); // prochlorperazine
        parts
            .dmd_bnf
            .insert(3245411000001107, "0402010J0AAACAC".into()); // haloperidol inj
        parts.dmd_bnf.insert(11111, "0402020T0AAAAAA".into()); // haloperidol decanoate
        parts
            .dmd_names
            .insert(321589009, "Risperidone 1mg tablets".into());
        parts.dmd_names.insert(
            3245411000001107,
            "Haloperidol 5mg/1ml solution for injection ampoules".into(),
        );
        parts.dmd_direct.insert(321117007, 1 << 2); // flurazepam, no BNF column
        parts
            .ingredients
            .insert("0402020T0".into(), "haloperidol".into());
        parts
            .ingredients
            .insert("0402010J0".into(), "haloperidol".into());
        parts.rules.push(DrugRule {
            exclude: 1 << 3,
            ..rule(0, &["0402010", "0402020"])
        });
        parts.rules.push(rule(1, &["0403"]));
        parts.rules.push(DrugRule {
            forms: vec![Form::Injection],
            ..rule(3, &["0402010J0"])
        });
        parts.names = NameResolver::new(
            &[CodelistEntry {
                code: "0402010ADAAAAAA".into(),
                term: "Aripiprazole 5mg tablets".into(),
                bnf: None,
            }],
            &[],
        );
        Classifier::new(parts)
    }

    use super::super::codelist::CodelistEntry;

    #[test]
    fn a_dmd_code_is_classified_through_its_bnf_code() {
        let c = classifier();
        let mask = c.mask(DrugKey::new(Some(321589009), None));
        assert_eq!(mask, 1);
        let info = c.describe(DrugKey::new(Some(321589009), None));
        assert_eq!(info.ingredient.as_deref(), Some("040201030"));
        assert_eq!(info.name, "Risperidone 1mg tablets");
        assert_eq!((info.form, info.via), (Form::Oral, Via::Dmd));
    }

    #[test]
    fn the_bnf_wins_for_low_dose_flupentixol() {
        let c = classifier();
        assert_eq!(c.mask(DrugKey::new(Some(321935002), None)), 1 << 1);
    }

    #[test]
    fn prochlorperazine_alone_matches_nothing() {
        let c = classifier();
        assert_eq!(c.mask(DrugKey::new(Some(322149009), None)), 0);
    }

    #[test]
    fn forms_and_exclusions_shape_a_concept() {
        let c = classifier();
        // A haloperidol injection is in the injection concept, so out of the antipsychotics.
        assert_eq!(c.mask(DrugKey::new(Some(3245411000001107), None)), 1 << 3);
        // The depot is an antipsychotic, of the same ingredient as the oral drug.
        let depot = c.describe(DrugKey::new(Some(11111), None));
        assert_eq!((depot.mask, depot.form), (1, Form::Depot));
        assert_eq!(depot.ingredient.as_deref(), Some("haloperidol"));
        // Oral haloperidol given by its BNF code only.
        let oral = c.describe(DrugKey::new(None, Some("0402010J0AAAAAA")));
        assert_eq!((oral.mask, oral.via), (1, Via::Bnf));
    }

    #[test]
    fn lists_without_bnf_add_codes_directly_and_given_bnf_is_used() {
        let c = classifier();
        assert_eq!(c.mask(DrugKey::new(Some(321117007), None)), 1 << 2);
        assert_eq!(c.mask(DrugKey::new(None, Some("0402010ADAAAAAA"))), 1);
        assert_eq!(c.mask(DrugKey::new(Some(999), None)), 0);
    }

    #[test]
    fn an_unlisted_code_is_registered_by_its_name_but_never_counted() {
        let classifier = classifier();
        let c = classifier.session();
        let id = c.unlisted(42, "Aripiprazole 5mg tablets (Teva) (AMP)");
        assert_ne!(id, NO_DRUG);
        assert_eq!(c.unlisted(43, "Paracetamol 500mg tablets"), NO_DRUG);
        let (table, remap) = c.take_drugs();
        let info = &table.drugs[remap[id as usize] as usize];
        assert_eq!((info.mask, info.named_mask), (0, 1));
    }

    /// What one run meets stays in its session: a spec reused for a
    /// second run starts from the codelists' drugs alone.
    #[test]
    fn each_run_starts_from_the_codelists_drugs() {
        let classifier = classifier();
        let first = classifier.session();
        first.drug(DrugKey::new(None, Some("0402010ADAAAAAA")));
        first.unlisted(42, "Aripiprazole 5mg tablets (Teva) (AMP)");
        let second = classifier.session();
        let known = classifier.known_dmd_drugs().len();
        assert_eq!(first.take_drugs().0.drugs.len(), known + 2);
        assert_eq!(second.take_drugs().0.drugs.len(), known);
    }

    #[test]
    fn each_pair_is_classified_once_and_ids_are_canonical() {
        let classifier = classifier();
        let c = classifier.session();
        let b = c.drug(DrugKey::new(None, Some("0402010ADAAAAAA"))).0;
        let a = c.drug(DrugKey::new(Some(321589009), None)).0;
        assert_eq!(c.drug(DrugKey::new(None, Some("0402010ADAAAAAA"))).0, b);
        // Unrelated pairs get no id.
        assert_eq!(
            c.drug(DrugKey::new(None, Some("0106020L0AAAAAA"))),
            (NO_DRUG, 0)
        );
        let (table, remap) = c.take_drugs();
        // The related dm+d ids known up front, and the BNF-only pair.
        assert_eq!(table.drugs.len(), 6);
        // Key order: dm+d 0 (BNF only) first, then by dm+d id.
        assert_eq!(remap[b as usize], 0);
        assert_eq!(table.drugs[remap[a as usize] as usize].key.dmd, 321589009);
    }
}
