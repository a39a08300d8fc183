//! Practice-level measures on public prescribing data, compiled from the
//! spec's `[[measures]]`: each a numerator summed over BNF-filtered rows,
//! over the list size, a STAR-PU or another prescribed sum.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::format::{DenominatorDef, MeasureDef, MeasureValue, PrescribedDef};
use super::SpecError;
use crate::classify::bnf::BnfFilter;
use crate::classify::codelist::CodelistEntry;
use crate::classify::strength::mg_per_unit;

/// STAR-PU age bands, in the order of [`StarPu::weights`].
pub const STAR_PU_BANDS: [&str; 9] = [
    "0-4", "5-14", "15-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+",
];

/// One STAR-PU weighting: `[male, female]` per band of [`STAR_PU_BANDS`].
#[derive(Clone, Debug, PartialEq)]
pub struct StarPu {
    /// The weighting's name, e.g. `antidepressants_adq`.
    pub name: String,
    /// `[male, female]` weight per age band.
    pub weights: [[f64; 2]; 9],
}

/// A sum over prescribing rows.
#[derive(Clone, Debug)]
pub struct Prescribed {
    /// What is summed.
    pub value: MeasureValue,
    /// Which BNF codes count.
    pub filter: BnfFilter,
    /// The patterns as written, for the report.
    pub patterns: Vec<String>,
    /// For defined daily doses: mg per DDD by BNF chemical, and the
    /// strength (mg per unit) of each presentation the BNF names table names.
    pub ddd: Option<Ddd>,
}

/// What turns a prescribed quantity into defined daily doses.
#[derive(Clone, Debug, Default)]
pub struct Ddd {
    /// BNF chemical (9 characters) -> milligrams in one DDD.
    pub mg_per_ddd: BTreeMap<String, f64>,
    /// BNF presentation code -> milligrams per unit of quantity.
    pub strength: HashMap<String, f64>,
}

impl Ddd {
    /// DDDs in `quantity` of a presentation; `name` (from the data) gives
    /// the strength when the names table lacks the code. `None` when the
    /// strength or the chemical's DDD is unknown.
    pub(crate) fn ddds(&self, bnf: &str, name: Option<&str>, quantity: f64) -> Option<f64> {
        let per_ddd = self.mg_per_ddd.get(bnf.get(..9)?)?;
        let mg = self
            .strength
            .get(bnf)
            .copied()
            .or_else(|| name.and_then(mg_per_unit))?;
        Some(quantity * mg / per_ddd)
    }
}

/// A measure's denominator.
#[derive(Clone, Debug)]
pub enum Denominator {
    /// Registered patients.
    ListSize,
    /// Age-sex weighted registered patients.
    StarPu(StarPu),
    /// A prescribed sum: the measure is a proportion of it.
    Prescribed(Prescribed),
}

/// A compiled measure.
#[derive(Clone, Debug)]
pub struct Measure {
    /// Stable id.
    pub id: String,
    /// What it measures.
    pub title: String,
    /// What it leaves out, and why.
    pub note: Option<String>,
    /// Display scale (1000 = per 1,000; 100 = percent).
    pub per: f64,
    /// The numerator.
    pub numerator: Prescribed,
    /// The denominator.
    pub denominator: Denominator,
}

impl Measure {
    /// True when the measure is a share of prescribing (binomial model);
    /// false for a rate per population (Poisson model).
    pub(crate) fn is_proportion(&self) -> bool {
        matches!(self.denominator, Denominator::Prescribed(_))
    }

    /// True when the measure needs ADQ values, which older layouts lack.
    pub(crate) fn needs_adq(&self) -> bool {
        self.numerator.value == MeasureValue::Adq
            || matches!(&self.denominator, Denominator::Prescribed(p) if p.value == MeasureValue::Adq)
    }

    /// The denominator in words, for reports.
    pub(crate) fn denominator_text(&self) -> String {
        match &self.denominator {
            Denominator::ListSize => "registered patients".into(),
            Denominator::StarPu(s) => format!("STAR-PU ({})", s.name),
            Denominator::Prescribed(p) => prescribed_text(p),
        }
    }

    /// The numerator in words, for reports.
    pub(crate) fn numerator_text(&self) -> String {
        prescribed_text(&self.numerator)
    }
}

fn prescribed_text(p: &Prescribed) -> String {
    let what = match p.value {
        MeasureValue::Items => "items",
        MeasureValue::Adq => "ADQs",
        MeasureValue::Ddd => "defined daily doses",
    };
    format!("{what} with BNF {}", p.patterns.join(", "))
}

fn prescribed(
    def: &PrescribedDef,
    id: &str,
    bnf_names: &[CodelistEntry],
) -> Result<Prescribed, SpecError> {
    let mut p = prescribed_of(def.value, &def.bnf, id)?;
    if def.value == MeasureValue::Ddd {
        if def.ddd_mg.is_empty() || def.ddd_mg.values().any(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(SpecError::Invalid(format!(
                "measure {id}: a measure in defined daily doses needs ddd_mg, a positive number of mg for each BNF chemical"
            )));
        }
        let strength = bnf_names
            .iter()
            .filter(|e| p.filter.matches(&e.code))
            .filter_map(|e| Some((e.code.clone(), mg_per_unit(&e.term)?)))
            .collect();
        p.ddd = Some(Ddd {
            mg_per_ddd: def.ddd_mg.clone(),
            strength,
        });
    } else if !def.ddd_mg.is_empty() {
        return Err(SpecError::Invalid(format!(
            "measure {id}: ddd_mg is for a numerator in defined daily doses (value = \"ddd\")"
        )));
    }
    Ok(p)
}

fn prescribed_of(value: MeasureValue, bnf: &[String], id: &str) -> Result<Prescribed, SpecError> {
    let filter =
        BnfFilter::parse(bnf).map_err(|e| SpecError::Invalid(format!("measure {id}: {e}")))?;
    if filter.is_empty() {
        return Err(SpecError::Invalid(format!(
            "measure {id}: a BNF filter needs at least one include pattern"
        )));
    }
    Ok(Prescribed {
        value,
        filter,
        patterns: bnf.to_vec(),
        ddd: None,
    })
}

/// Parses OpenPrescribing's STAR-PU file: `{ name: { band: [male, female] } }`.
pub(crate) fn parse_star_pu(bytes: &[u8]) -> Result<BTreeMap<String, [[f64; 2]; 9]>, String> {
    let raw: BTreeMap<String, BTreeMap<String, [f64; 2]>> =
        serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    raw.into_iter()
        .map(|(name, bands)| {
            let mut w = [[0.0; 2]; 9];
            for (slot, band) in w.iter_mut().zip(STAR_PU_BANDS) {
                *slot = *bands
                    .get(band)
                    .ok_or_else(|| format!("weighting '{name}' has no age band '{band}'"))?;
            }
            Ok((name, w))
        })
        .collect()
}

/// Compiles the measures; `star_pu` is the parsed STAR-PU file, if the
/// spec names one; `bnf_names` give the strengths of presentations for
/// measures in defined daily doses.
pub(crate) fn compile(
    defs: &[MeasureDef],
    star_pu: Option<&BTreeMap<String, [[f64; 2]; 9]>>,
    bnf_names: &[CodelistEntry],
) -> Result<Vec<Measure>, SpecError> {
    if defs.len() > 32 {
        return Err(SpecError::Invalid(format!(
            "the spec defines {} measures; at most 32 are supported",
            defs.len()
        )));
    }
    let mut seen = HashSet::new();
    defs.iter()
        .map(|def| {
            let id = def.id.as_str();
            if !seen.insert(id) {
                return Err(SpecError::Invalid(format!("measure {id} is defined twice")));
            }
            if !(def.per.is_finite() && def.per > 0.0) {
                return Err(SpecError::Invalid(format!(
                    "measure {id}: per must be a positive number"
                )));
            }
            let numerator = prescribed(&def.numerator, id, bnf_names)?;
            let denominator = match &def.denominator {
                DenominatorDef::ListSize => Denominator::ListSize,
                DenominatorDef::StarPu { weights } => {
                    let table = star_pu.ok_or_else(|| {
                        SpecError::Invalid(format!(
                            "measure {id} is per STAR-PU, but the spec names no star_pu_weights file"
                        ))
                    })?;
                    let w = table.get(weights).ok_or_else(|| {
                        SpecError::Invalid(format!(
                            "measure {id}: the STAR-PU file has no weighting '{weights}'; it has: {}",
                            table.keys().cloned().collect::<Vec<_>>().join(", ")
                        ))
                    })?;
                    Denominator::StarPu(StarPu {
                        name: weights.clone(),
                        weights: *w,
                    })
                }
                DenominatorDef::Prescribed { value, bnf } => {
                    if *value == MeasureValue::Ddd {
                        return Err(SpecError::Invalid(format!(
                            "measure {id}: a share of prescribing is in items or ADQs, not defined daily doses"
                        )));
                    }
                    let d = prescribed_of(*value, bnf, id)?;
                    if d.value != numerator.value || !numerator.filter.within(&d.filter) {
                        return Err(SpecError::Invalid(format!(
                            "measure {id}: a share of prescribing needs its numerator inside its denominator (the same value, and BNF prefixes within the denominator's)"
                        )));
                    }
                    Denominator::Prescribed(d)
                }
            };
            Ok(Measure {
                id: def.id.clone(),
                title: def.title.clone(),
                note: def.note.clone(),
                per: def.per,
                numerator,
                denominator,
            })
        })
        .collect()
}
