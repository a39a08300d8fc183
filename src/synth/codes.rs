//! Real codes for synthetic data, drawn from the bundled codelists, plus
//! real unrelated codes as noise.

use rand::seq::SliceRandom;
use rand::Rng;

use crate::spec::AuditSpec;

/// A drug as it appears in a medications row.
#[derive(Clone, Debug)]
pub struct DrugCode {
    /// dm+d id, when the drug comes from a dm+d list.
    pub dmd: Option<String>,
    /// BNF code, when known.
    pub bnf: Option<String>,
}

/// Pools of codes to draw from.
#[derive(Clone, Debug, Default)]
pub struct CodePools {
    pub ld: Vec<String>,
    pub autism: Vec<String>,
    pub smi: Vec<String>,
    pub depression: Vec<String>,
    pub anxiety: Vec<String>,
    pub epilepsy: Vec<String>,
    pub palliative: Vec<String>,
    pub review: Vec<String>,
    pub monitoring: [Vec<String>; 4],
    pub antipsychotic: Vec<DrugCode>,
    pub depot: Vec<DrugCode>,
    pub antidepressant: Vec<DrugCode>,
    pub hypnotic: Vec<DrugCode>,
    pub melatonin: Vec<DrugCode>,
    pub antiepileptic: Vec<DrugCode>,
    pub prochlorperazine: Vec<DrugCode>,
}

/// Real BNF presentations outside chapter 4 (from the September 2017 EPD).
pub const NOISE_BNF: &[&str] = &[
    "020400060AAAAAA", // celiprolol 200mg tablets
    "0204000H0AAALAL", // bisoprolol 7.5mg tablets
    "0206020L0AAABAB", // lercanidipine 20mg tablets
    "0501120L0AAAAAA", // ciprofloxacin 250mg tablets
    "0603020T0AABLBL", // prednisolone 5mg/5ml oral solution
    "1001010J0AAADAD", // ibuprofen 200mg tablets
    "1106000Z0AAAAAA", // timolol 0.25% eye drops
];

/// Real SNOMED CT codes of common conditions that no STOMP concept uses.
pub const NOISE_SNOMED: &[&str] = &[
    "38341003",  // hypertensive disorder
    "195967001", // asthma
    "44054006",  // type 2 diabetes mellitus
    "271737000", // anaemia
    "235595009", // gastro-oesophageal reflux disease
    "13645005",  // chronic obstructive lung disease
];

impl CodePools {
    /// Builds the pools from the bundled spec's codelists.
    pub fn from_spec(spec: &AuditSpec) -> CodePools {
        let snomed = |name: &str| -> Vec<String> {
            spec.codelists
                .get(name)
                .map(|l| l.entries.iter().map(|e| e.code.clone()).collect())
                .unwrap_or_default()
        };
        let dmd = |names: &[&str], common: &[&str]| -> Vec<DrugCode> {
            let mut out = Vec::new();
            for n in names {
                let Some(l) = spec.codelists.get(*n) else {
                    continue;
                };
                for e in &l.entries {
                    let t = e.term.to_ascii_lowercase();
                    if common.is_empty()
                        || (t.contains("tablets") && common.iter().any(|c| t.contains(c)))
                    {
                        out.push(DrugCode {
                            dmd: Some(e.code.clone()),
                            bnf: e.bnf.clone(),
                        });
                    }
                }
            }
            out
        };
        let bnf = |prefix: &str| -> Vec<DrugCode> {
            spec.codelists
                .get("bnf_names")
                .map(|l| {
                    l.entries
                        .iter()
                        .filter(|e| e.code.starts_with(prefix))
                        .map(|e| DrugCode {
                            dmd: None,
                            bnf: Some(e.code.clone()),
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut medrvw = snomed("medrvw_cod");
        medrvw.extend(snomed("medication_review_refset"));
        CodePools {
            ld: snomed("ld_cod"),
            autism: snomed("autism_cod"),
            smi: snomed("mh_cod"),
            depression: snomed("depr_cod"),
            anxiety: snomed("anxiety"),
            epilepsy: snomed("epil_cod"),
            palliative: snomed("palcare_cod"),
            review: medrvw,
            monitoring: [
                snomed("weight"),
                snomed("systolic_bp"),
                snomed("hba1c"),
                snomed("cholesterol"),
            ],
            antipsychotic: dmd(
                &["sga", "fga"],
                &[
                    "risperidone",
                    "olanzapine",
                    "quetiapine",
                    "aripiprazole",
                    "haloperidol",
                    "chlorpromazine",
                ],
            ),
            depot: dmd(&["lai"], &[]),
            antidepressant: dmd(
                &["ssri", "tca", "other_ad"],
                &[
                    "sertraline",
                    "citalopram",
                    "fluoxetine",
                    "mirtazapine",
                    "amitriptyline",
                    "venlafaxine",
                ],
            ),
            hypnotic: dmd(
                &["benzodiazepines", "z_drugs"],
                &["diazepam", "lorazepam", "zopiclone", "temazepam"],
            ),
            melatonin: bnf("0401010AD"),
            antiepileptic: bnf("0408010"),
            prochlorperazine: dmd(&["prochlorperazine"], &["prochlorperazine"]),
        }
    }
}

/// Picks one element; the pools are never empty for the bundled spec.
pub fn pick<'a, T>(rng: &mut impl Rng, pool: &'a [T]) -> Option<&'a T> {
    pool.choose(rng)
}
