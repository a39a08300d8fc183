//! Real codes for synthetic data, drawn from the bundled codelists, plus
//! real unrelated codes as noise.
//!
//! Every drug is a real dm+d id of the bundled drug dictionary that also
//! has a BNF presentation code of the same class, so an extract can be
//! written dm+d only (as real extracts are), with both codes, or BNF only,
//! and the audit must give the same numbers for each.

use rand::seq::SliceRandom;
use rand::Rng;

use crate::classify::classifier::{DrugInfo, DrugKey};
use crate::classify::form::Form;
use crate::spec::doses::ProductDose;
use crate::spec::AuditSpec;

/// A drug as it appears in a medications row.
#[derive(Clone, Debug, Default)]
pub(crate) struct DrugCode {
    /// dm+d id.
    pub dmd: Option<String>,
    /// BNF presentation code.
    pub bnf: Option<String>,
    /// Its strength and BNF maximum, for antipsychotics (realistic doses).
    pub dose: ProductDose,
}

/// Pools of codes to draw from.
#[derive(Clone, Debug, Default)]
pub(crate) struct CodePools {
    pub ld: Vec<String>,
    pub autism: Vec<String>,
    pub smi: Vec<String>,
    pub depression: Vec<String>,
    pub anxiety: Vec<String>,
    pub epilepsy: Vec<String>,
    pub pain_or_sleep: Vec<String>,
    pub palliative: Vec<String>,
    pub review: Vec<String>,
    pub monitoring: [Vec<String>; 4],
    pub bp_declined: Vec<String>,
    pub antipsychotic: Vec<DrugCode>,
    /// Depots by ingredient, with an oral form of the same ingredient.
    pub depot_with_oral: Vec<(DrugCode, DrugCode)>,
    pub antidepressant: Vec<DrugCode>,
    /// Amitriptyline and the like, often given for pain or sleep.
    pub pain_antidepressant: Vec<DrugCode>,
    pub hypnotic: Vec<DrugCode>,
    pub seizure_rescue: Vec<DrugCode>,
    pub melatonin: Vec<DrugCode>,
    pub antiepileptic: Vec<DrugCode>,
    pub gabapentinoid: Vec<DrugCode>,
    pub end_of_life: Vec<DrugCode>,
    pub prochlorperazine: Vec<DrugCode>,
    /// Real dm+d ids of common medicines no concept uses (analgesics,
    /// antiemetics, triptans from the GM SDE chapter 4 list).
    pub noise_dmd: Vec<String>,
}

/// Real BNF presentations outside chapter 4 (from the September 2017 EPD).
pub(crate) const NOISE_BNF: &[&str] = &[
    "020400060AAAAAA", // celiprolol 200mg tablets
    "0204000H0AAALAL", // bisoprolol 7.5mg tablets
    "0206020L0AAABAB", // lercanidipine 20mg tablets
    "0501120L0AAAAAA", // ciprofloxacin 250mg tablets
    "0603020T0AABLBL", // prednisolone 5mg/5ml oral solution
    "1001010J0AAADAD", // ibuprofen 200mg tablets
    "1106000Z0AAAAAA", // timolol 0.25% eye drops
];

/// Real SNOMED CT codes of common conditions that no STOMP concept uses.
pub(crate) const NOISE_SNOMED: &[&str] = &[
    "38341003",  // hypertensive disorder
    "195967001", // asthma
    "44054006",  // type 2 diabetes mellitus
    "271737000", // anaemia
    "235595009", // gastro-oesophageal reflux disease
    "13645005",  // chronic obstructive lung disease
];

/// Administrative medication codes that are not medication reviews (from
/// OpenSAFELY's medication-reviews-all-types list, 69f99fda): repeat
/// medication check, synchronisation of repeats, labelling amended,
/// dispensing review of use of medicines.
pub(crate) const ADMIN_REVIEW_SNOMED: &[&str] =
    &["185381007", "415693003", "395005007", "279681000000105"];

impl CodePools {
    /// Builds the pools from the bundled spec's codelists and drug dictionary.
    pub(crate) fn from_spec(spec: &AuditSpec) -> CodePools {
        let snomed = |names: &[&str]| -> Vec<String> {
            names
                .iter()
                .filter_map(|n| spec.codelists.get(*n))
                .flat_map(|l| l.entries.iter().map(|e| e.code.clone()))
                .collect()
        };
        let drugs = dual_coded(spec);
        let bit = |name: &str| -> u64 {
            spec.compiled
                .concepts
                .iter()
                .position(|c| c.name == name)
                .map_or(0, |b| 1 << b)
        };
        // Drugs of a concept whose name contains one of `common` (all, when
        // empty) and, where given, of one form.
        let pool = |concept: &str, common: &[&str], form: Option<Form>| -> Vec<DrugCode> {
            let b = bit(concept);
            drugs
                .iter()
                .filter(|d| d.mask & b != 0 && form.is_none_or(|f| d.form == f))
                .filter(|d| {
                    let n = d.name.to_ascii_lowercase();
                    common.is_empty() || common.iter().any(|c| n.contains(c))
                })
                .map(code)
                .collect()
        };
        // An antiemetic, in no concept: from its list, with its BNF code.
        let prochlorperazine = spec
            .codelists
            .get("prochlorperazine")
            .map(|l| {
                l.entries
                    .iter()
                    .filter(|e| e.term.starts_with("Prochlorperazine 5mg tablets"))
                    .map(|e| DrugCode {
                        dmd: Some(e.code.clone()),
                        bnf: e.bnf.clone(),
                        ..DrugCode::default()
                    })
                    .collect()
            })
            .unwrap_or_default();
        let unrelated = [
            "paracetamol",
            "co-codamol",
            "sumatriptan",
            "ondansetron",
            "codeine",
        ];
        let noise_dmd = spec
            .codelists
            .get("gm_bnf_cns_meds")
            .map(|l| {
                l.entries
                    .iter()
                    .filter(|e| {
                        let t = e.term.to_ascii_lowercase();
                        unrelated.iter().any(|u| t.starts_with(u))
                    })
                    .filter_map(|e| e.code.parse::<u64>().ok())
                    .filter(|&id| spec.classifier.mask(DrugKey::new(Some(id), None)) == 0)
                    .map(|id| id.to_string())
                    .take(200)
                    .collect()
            })
            .unwrap_or_default();
        let mut pools = CodePools {
            noise_dmd,
            ld: snomed(&["ld_cod"]),
            autism: snomed(&["autism_cod"]),
            smi: snomed(&["mh_cod"]),
            depression: snomed(&["depr_cod"]),
            anxiety: snomed(&["anxiety"]),
            epilepsy: snomed(&["epil_cod"]),
            pain_or_sleep: snomed(&["neuropathic_pain", "insomnia"]),
            palliative: snomed(&["palcare_cod"]),
            // Reviews that are not also palliative care codes (PALCARE_COD
            // holds the palliative care medication review).
            review: snomed(&["medrvw_cod", "medication_review_extra"])
                .into_iter()
                .filter(|c| !snomed(&["palcare_cod"]).contains(c))
                .collect(),
            monitoring: [
                snomed(&["weight"]),
                snomed(&["systolic_bp", "bp_cod"]),
                snomed(&["hba1c"]),
                snomed(&["cholesterol", "hdl_cholesterol", "triglycerides"]),
            ],
            bp_declined: snomed(&["bpdec_cod"]),
            antipsychotic: pool(
                "antipsychotic",
                &[
                    "risperidone",
                    "olanzapine",
                    "quetiapine",
                    "aripiprazole",
                    "haloperidol",
                    "chlorpromazine",
                ],
                Some(Form::Oral),
            ),
            depot_with_oral: depots_with_oral(&drugs, bit("antipsychotic")),
            antidepressant: pool(
                "antidepressant",
                &["sertraline", "citalopram", "fluoxetine", "venlafaxine"],
                Some(Form::Oral),
            ),
            pain_antidepressant: pool(
                "pain_or_sleep_antidepressant",
                &["amitriptyline", "mirtazapine", "trazodone"],
                Some(Form::Oral),
            ),
            hypnotic: pool(
                "hypnotic_anxiolytic",
                &["diazepam", "lorazepam", "zopiclone", "temazepam"],
                Some(Form::Oral),
            ),
            seizure_rescue: pool("seizure_rescue", &["midazolam", "diazepam"], None),
            melatonin: pool("melatonin", &[], None),
            antiepileptic: pool(
                "antiepileptic",
                &["valpro", "lamotrigine", "levetiracetam", "carbamazepine"],
                Some(Form::Oral),
            ),
            gabapentinoid: pool("gabapentinoid", &[], Some(Form::Oral)),
            end_of_life: pool("end_of_life_antipsychotic", &[], None),
            prochlorperazine,
        };
        with_doses(spec, &mut pools);
        pools
    }
}

fn code(d: &DrugInfo) -> DrugCode {
    DrugCode {
        dmd: Some(d.key.dmd.to_string()),
        bnf: d.bnf.clone(),
        ..DrugCode::default()
    }
}

/// The antipsychotics and antidepressants with their strengths, maxima and
/// equivalents, so that synthetic doses sit where real ones do.
fn with_doses(spec: &AuditSpec, pools: &mut CodePools) {
    let dose = |c: &mut DrugCode| {
        if let Some(id) = c.dmd.as_deref().and_then(|d| d.parse().ok()) {
            let info = spec.classifier.describe(DrugKey::new(Some(id), None));
            c.dose = ProductDose::of(&info, &spec.doses);
        }
    };
    pools.antipsychotic.iter_mut().for_each(dose);
    pools.antidepressant.iter_mut().for_each(dose);
    for (depot, oral) in &mut pools.depot_with_oral {
        dose(depot);
        dose(oral);
    }
}

/// The dictionary's dm+d drugs whose BNF presentation code, given alone,
/// puts the drug in the same concepts and form: the drugs an extract can
/// carry as either code.
fn dual_coded(spec: &AuditSpec) -> Vec<DrugInfo> {
    let c = &spec.classifier;
    c.known_dmd_drugs()
        .into_iter()
        .filter(|d| {
            let Some(bnf) = d.bnf.as_deref().filter(|b| b.len() == 15) else {
                return false;
            };
            let by_bnf = c.describe(DrugKey::new(None, Some(bnf)));
            by_bnf.mask == d.mask && by_bnf.form == d.form
        })
        .collect()
}

/// Depot antipsychotics paired with an oral form of the same ingredient.
fn depots_with_oral(drugs: &[DrugInfo], antipsychotic: u64) -> Vec<(DrugCode, DrugCode)> {
    let ap = |d: &&DrugInfo| d.mask & antipsychotic != 0 && d.ingredient.is_some();
    let mut out = Vec::new();
    for depot in drugs.iter().filter(ap).filter(|d| d.form == Form::Depot) {
        if let Some(oral) = drugs
            .iter()
            .filter(ap)
            .find(|d| d.form == Form::Oral && d.ingredient == depot.ingredient)
        {
            out.push((code(depot), code(oral)));
        }
    }
    out
}

/// Picks one element; the pools are never empty for the bundled spec.
pub(crate) fn pick<'a, T>(rng: &mut impl Rng, pool: &'a [T]) -> Option<&'a T> {
    pool.choose(rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pool_of_the_bundled_spec_has_real_dual_coded_drugs() {
        let spec = AuditSpec::bundled().unwrap();
        let p = CodePools::from_spec(&spec);
        for (name, pool) in [
            ("antipsychotic", &p.antipsychotic),
            ("antidepressant", &p.antidepressant),
            ("pain_antidepressant", &p.pain_antidepressant),
            ("hypnotic", &p.hypnotic),
            ("seizure_rescue", &p.seizure_rescue),
            ("melatonin", &p.melatonin),
            ("antiepileptic", &p.antiepileptic),
            ("gabapentinoid", &p.gabapentinoid),
            ("end_of_life", &p.end_of_life),
            ("prochlorperazine", &p.prochlorperazine),
        ] {
            assert!(!pool.is_empty(), "{name} pool is empty");
            assert!(
                pool.iter()
                    .all(|d| d.dmd.is_some() && d.bnf.as_ref().is_some_and(|b| b.len() == 15)),
                "{name}"
            );
        }
        assert!(!p.depot_with_oral.is_empty());
        assert!(p.noise_dmd.len() > 20);
        assert!(!p.pain_or_sleep.is_empty() && !p.bp_declined.is_empty());
    }
}
