//! How the medications were classified: per drug concept, the rows matched
//! through a dm+d code and through a BNF code the row carried; and dm+d
//! codes that no list knows whose name in the extract is that of a drug of
//! the spec's concepts. A stale codelist then shows up in `summary.json`
//! and `validate` instead of silently lowering a rate.
//!
//! Counts cover every medications row with a related code (any patient,
//! any date), so they add up exactly across partial audits.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::classify::classifier::{DrugTable, Via};
use crate::spec::{CompiledSpec, ConceptKind};

/// Rows of one drug concept, by where the class came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViaRows {
    /// Rows without a BNF code, matched through their dm+d code.
    pub dmd: u64,
    /// Rows matched through the BNF code they carried.
    pub bnf: u64,
}

/// A dm+d code in no list whose name is that of a spec drug.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlistedCode {
    /// The name the extract gives it.
    pub name: String,
    /// The concepts its name would put it in.
    pub concepts: Vec<String>,
    /// Medications rows with it.
    pub rows: u64,
}

/// The classification report of one run (or the sum of partial runs).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrugCoverage {
    /// Drug concept name -> rows.
    pub concepts: BTreeMap<String, ViaRows>,
    /// dm+d code -> what is known of it.
    pub unlisted: BTreeMap<String, UnlistedCode>,
}

impl DrugCoverage {
    /// The report from the drugs seen and their row counts (`rows[id]`).
    pub fn new(spec: &CompiledSpec, drugs: &DrugTable, rows: &[u64]) -> DrugCoverage {
        let mut c = DrugCoverage::default();
        for concept in spec.concepts.iter().filter(|c| c.kind == ConceptKind::Drug) {
            c.concepts.insert(concept.name.clone(), ViaRows::default());
        }
        let names = |mask: u64| -> Vec<String> {
            spec.concepts
                .iter()
                .enumerate()
                .filter(|(bit, _)| mask & (1 << bit) != 0)
                .map(|(_, c)| c.name.clone())
                .collect()
        };
        for (info, &n) in drugs.drugs.iter().zip(rows) {
            if n == 0 {
                continue;
            }
            for name in names(info.mask) {
                let v = c.concepts.entry(name).or_default();
                match info.via {
                    Via::Dmd => v.dmd += n,
                    Via::Bnf => v.bnf += n,
                }
            }
            if info.mask == 0 && info.named_mask != 0 {
                c.unlisted.insert(
                    info.key.dmd.to_string(),
                    UnlistedCode {
                        name: info.name.clone(),
                        concepts: names(info.named_mask),
                        rows: n,
                    },
                );
            }
        }
        c
    }

    /// Adds another part's report into this one.
    pub fn merge(&mut self, other: &DrugCoverage) {
        for (k, v) in &other.concepts {
            let e = self.concepts.entry(k.clone()).or_default();
            e.dmd += v.dmd;
            e.bnf += v.bnf;
        }
        for (k, v) in &other.unlisted {
            let e = self
                .unlisted
                .entry(k.clone())
                .or_insert_with(|| UnlistedCode {
                    rows: 0,
                    ..v.clone()
                });
            e.rows += v.rows;
        }
    }

    /// Rows of unlisted codes, in all.
    pub fn unlisted_rows(&self) -> u64 {
        self.unlisted.values().map(|u| u.rows).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_add_up() {
        let mut a = DrugCoverage::default();
        a.concepts
            .insert("antipsychotic".into(), ViaRows { dmd: 3, bnf: 1 });
        a.unlisted.insert(
            "42".into(),
            UnlistedCode {
                name: "Aripiprazole 5mg tablets".into(),
                concepts: vec!["antipsychotic".into()],
                rows: 2,
            },
        );
        let mut b = a.clone();
        b.concepts
            .insert("melatonin".into(), ViaRows { dmd: 5, bnf: 0 });
        a.merge(&b);
        assert_eq!(a.concepts["antipsychotic"], ViaRows { dmd: 6, bnf: 2 });
        assert_eq!(a.concepts["melatonin"].dmd, 5);
        assert_eq!(a.unlisted_rows(), 4);
    }
}
