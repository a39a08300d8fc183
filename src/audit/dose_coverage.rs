//! How many doses of the spec's dose concept could be worked out at each
//! index date, and why the others could not: the high-dose and reduction
//! indicators count only known doses, so a reader of `summary.json` needs
//! to see how many were unknown before trusting them.

use serde::{Deserialize, Serialize};

use super::dose::{DosesAt, UnknownDose};

/// Drugs held whose dose is unknown on a scale, by reason. A drug counts
/// once among the first three reasons (its milligrams are unknown); a drug
/// with known milligrams counts under each scale whose table lacks it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownDoses {
    /// No strength could be read from the product's dm+d name.
    pub no_strength: u64,
    /// The quantity is missing or unreadable and the dosage instruction
    /// states no clear daily amount.
    pub no_quantity: u64,
    /// The estimate was above 500% of the BNF maximum (a recording error).
    pub implausible: u64,
    /// Milligrams known, but the drug has no BNF maximum in the spec.
    pub not_in_bnf_maximum_table: u64,
    /// Milligrams known, but the drug has no chlorpromazine equivalent.
    pub not_in_chlorpromazine_table: u64,
}

/// The dose concept's doses at one index date, over cohort patients
/// registered then.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoseCoverage {
    /// Patients holding a drug of the concept (issued in the 3 months to
    /// the date).
    pub patients_holding: u64,
    /// Of them, those whose total % of the BNF maximum is known (the
    /// denominator of a high-dose indicator, before its cohort and criteria).
    pub patients_known_bnf_maximum: u64,
    /// Of them, those whose total chlorpromazine equivalent is known.
    pub patients_known_chlorpromazine: u64,
    /// Drugs held (a patient's ingredient in one form).
    pub drugs_held: u64,
    /// Drugs held with an unknown dose, by reason.
    pub drugs_unknown: UnknownDoses,
}

impl DoseCoverage {
    /// Counts one patient's doses at the date (nothing if they hold none).
    pub(crate) fn add(&mut self, at: &DosesAt) {
        use crate::spec::doses::DoseScale;
        if at.held.is_empty() {
            return;
        }
        self.patients_holding += 1;
        self.patients_known_bnf_maximum += u64::from(at.total(DoseScale::BnfMaximum).is_some());
        self.patients_known_chlorpromazine +=
            u64::from(at.total(DoseScale::Chlorpromazine).is_some());
        let u = &mut self.drugs_unknown;
        for h in &at.held {
            self.drugs_held += 1;
            match h.unknown {
                Some(UnknownDose::NoStrength) => u.no_strength += 1,
                Some(UnknownDose::NoQuantity) => u.no_quantity += 1,
                Some(UnknownDose::Implausible) => u.implausible += 1,
                None => {
                    u.not_in_bnf_maximum_table += u64::from(h.percent_max.is_none());
                    u.not_in_chlorpromazine_table += u64::from(h.cpz_mg.is_none());
                }
            }
        }
    }

    /// Adds another part's counts.
    pub(crate) fn merge(&mut self, o: &DoseCoverage) {
        self.patients_holding += o.patients_holding;
        self.patients_known_bnf_maximum += o.patients_known_bnf_maximum;
        self.patients_known_chlorpromazine += o.patients_known_chlorpromazine;
        self.drugs_held += o.drugs_held;
        let (u, v) = (&mut self.drugs_unknown, &o.drugs_unknown);
        u.no_strength += v.no_strength;
        u.no_quantity += v.no_quantity;
        u.implausible += v.implausible;
        u.not_in_bnf_maximum_table += v.not_in_bnf_maximum_table;
        u.not_in_chlorpromazine_table += v.not_in_chlorpromazine_table;
    }
}
