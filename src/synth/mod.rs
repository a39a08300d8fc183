//! Synthetic extracts in the canonical layout, realistic enough that the
//! audit's output looks like England's, deterministic for a seed, and
//! streamed patient by patient so tens of millions of rows never sit in
//! memory.
//!
//! Sanity figures it aims at (NHS Digital, Health and Care of People with
//! Learning Disabilities): LD about 0.5% of registered patients; about 15%
//! of people with LD on antipsychotics, well under half of them with an SMI
//! code; repeat issues about every 28 days. Practices differ in how much
//! they prescribe, record indications, review and monitor.

mod codes;
pub mod epd;
mod patient;
pub mod writer;

use std::path::PathBuf;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::date::Date;
use crate::spec::{AuditSpec, SpecError};
use codes::CodePools;
pub use writer::SynthFormat;
use writer::TableWriter;

/// Why a synthetic extract could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The bundled spec (the source of real codes) failed to load.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A file could not be written.
    #[error("cannot write the synthetic extract in {dir}: {message}")]
    Write {
        /// The output folder.
        dir: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct SynthConfig {
    /// Registered patients to generate.
    pub patients: u64,
    /// Random seed: the same seed gives the same extract.
    pub seed: u64,
    /// Output folder.
    pub out: PathBuf,
    /// CSV or Parquet.
    pub format: SynthFormat,
    /// Practices (default: one per 8,000 patients).
    pub practices: Option<u32>,
    /// Share of patients on the LD register.
    pub ld_prevalence: f64,
    /// Share of patients with an autism code.
    pub autism_prevalence: f64,
    /// The extract date: no row is dated after it.
    pub extract_date: Date,
    /// Years of history before the extract date.
    pub history_years: u32,
    /// Which codes the medications rows carry.
    pub coding: DrugCoding,
    /// Mean number of extra courses of unrelated medicines per patient
    /// (each with two unrelated clinical events): 0 for the extract as it
    /// always was, where most medication rows are psychotropic; about 5
    /// for a real extract's share, where one in eight is.
    pub unrelated_courses: f64,
}

/// Which codes a synthetic medications row carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DrugCoding {
    /// dm+d only, as real extracts (OpenSAFELY, EMIS, SystmOne) have them.
    #[default]
    DmdOnly,
    /// dm+d and the BNF presentation code.
    Both,
    /// BNF only, as older or prescribing-data extracts: for checking that
    /// the audit's numbers do not depend on the coding.
    BnfOnly,
}

/// One synthetic practice and its prescribing culture.
#[derive(Clone, Debug)]
pub(crate) struct SynthPractice {
    /// ODS-like code (synthetic, never a real practice).
    pub code: String,
    /// Relative list size.
    pub weight: f64,
    /// Multiplier on antipsychotic prescribing.
    pub antipsychotic_mult: f64,
    /// Chance an antipsychotic user has an SMI code recorded.
    pub smi_recording: f64,
    /// Chance of a medication review in a year.
    pub review_rate: f64,
    /// Chance of each physical-health check in a year.
    pub monitoring_rate: f64,
}

/// How many rows each table got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SynthCounts {
    /// Patients.
    pub patients: u64,
    /// Registrations.
    pub registrations: u64,
    /// Medication issues.
    pub medications: u64,
    /// Of them, issues of medicines no concept uses.
    pub unrelated_medications: u64,
    /// Clinical events.
    pub clinical_events: u64,
    /// Practices.
    pub practices: u64,
}

/// The open writers of one extract.
pub(crate) struct Tables {
    pub patients: TableWriter,
    pub registrations: TableWriter,
    pub medications: TableWriter,
    /// clinical_events
    pub events: TableWriter,
    /// Rows written so far.
    pub counts: SynthCounts,
}

/// Writes a synthetic extract.
pub fn generate(cfg: &SynthConfig) -> Result<SynthCounts, SynthError> {
    let fail = |e: polars::prelude::PolarsError| SynthError::Write {
        dir: cfg.out.clone(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(&cfg.out).map_err(|e| fail(e.into()))?;
    let spec = AuditSpec::bundled()?;
    let pools = CodePools::from_spec(&spec);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let n_practices = cfg
        .practices
        .unwrap_or_else(|| ((cfg.patients as f64 / 8000.0).round() as u32).max(1));
    let practices: Vec<SynthPractice> = (0..n_practices)
        .map(|i| SynthPractice {
            code: format!("SP{:04}", i + 1),
            weight: (normal(&mut rng) * 0.45).exp(),
            antipsychotic_mult: (normal(&mut rng) * 0.35).exp(),
            smi_recording: rng.gen_range(0.25..0.6),
            review_rate: rng.gen_range(0.45..0.95),
            monitoring_rate: rng.gen_range(0.55..0.97),
        })
        .collect();
    write_practices(cfg, &practices).map_err(fail)?;

    let mut tables = Tables {
        patients: TableWriter::create(
            &cfg.out,
            "patients",
            &["patient_id", "date_of_birth", "sex", "date_of_death"],
            cfg.format,
        )
        .map_err(fail)?,
        registrations: TableWriter::create(
            &cfg.out,
            "registrations",
            &["patient_id", "practice_code", "start_date", "end_date"],
            cfg.format,
        )
        .map_err(fail)?,
        medications: TableWriter::create(
            &cfg.out,
            "medications",
            &[
                "patient_id",
                "date",
                "dmd_code",
                "bnf_code",
                "quantity",
                "dose_text",
            ],
            cfg.format,
        )
        .map_err(fail)?,
        events: TableWriter::create(
            &cfg.out,
            "clinical_events",
            &["patient_id", "date", "snomedct_code", "numeric_value"],
            cfg.format,
        )
        .map_err(fail)?,
        counts: SynthCounts {
            practices: practices.len() as u64,
            ..Default::default()
        },
    };
    let total_weight: f64 = practices.iter().map(|p| p.weight).sum();
    let cumulative: Vec<f64> = practices
        .iter()
        .scan(0.0, |acc, p| {
            *acc += p.weight / total_weight;
            Some(*acc)
        })
        .collect();
    let ctx = patient::Context {
        cfg,
        pools: &pools,
        practices: &practices,
        cumulative: &cumulative,
    };
    for id in 0..cfg.patients {
        patient::write_patient(&ctx, &mut rng, id, &mut tables).map_err(fail)?;
    }
    let counts = tables.counts.clone();
    for w in [
        tables.patients,
        tables.registrations,
        tables.medications,
        tables.events,
    ] {
        w.finish().map_err(fail)?;
    }
    Ok(counts)
}

/// The practices table's columns, in the extract's layout.
pub(crate) const PRACTICES_HEADER: [&str; 10] = [
    "practice_code",
    "practice_name",
    "pcn_code",
    "pcn_name",
    "sub_icb_code",
    "sub_icb_name",
    "icb_code",
    "icb_name",
    "region_code",
    "region_name",
];

fn write_practices(
    cfg: &SynthConfig,
    practices: &[SynthPractice],
) -> polars::prelude::PolarsResult<()> {
    let mut w = TableWriter::create(&cfg.out, "practices", &PRACTICES_HEADER, cfg.format)?;
    for (i, p) in practices.iter().enumerate() {
        // Four practices to a PCN, three PCNs to a sub-ICB, two sub-ICBs to
        // an ICB, three ICBs to a region.
        let (pcn, sub, icb, region) = (i / 4 + 1, i / 12 + 1, i / 24 + 1, i / 72 + 1);
        let name = format!("Synthetic Practice {}", i + 1);
        let (pcn_c, pcn_n) = (format!("SPCN{pcn:03}"), format!("Synthetic PCN {pcn}"));
        let (sub_c, sub_n) = (format!("S{sub:02}"), format!("Synthetic sub-ICB {sub}"));
        let (icb_c, icb_n) = (format!("SICB{icb:02}"), format!("Synthetic ICB {icb}"));
        let (reg_c, reg_n) = (format!("SR{region}"), format!("Synthetic Region {region}"));
        w.row(&[
            &p.code, &name, &pcn_c, &pcn_n, &sub_c, &sub_n, &icb_c, &icb_n, &reg_c, &reg_n,
        ])?;
    }
    w.finish()
}

/// A Poisson draw with mean `mean` (Knuth's product of uniforms, in
/// steps of at most 20 so that e^-mean stays far from underflow).
pub(crate) fn poisson(rng: &mut impl Rng, mean: f64) -> u64 {
    let mut left = mean.max(0.0);
    let mut k = 0;
    while left > 0.0 {
        let step = left.min(20.0);
        left -= step;
        let floor = (-step).exp();
        let mut product: f64 = rng.gen();
        while product > floor {
            k += 1;
            product *= rng.gen::<f64>();
        }
    }
    k
}

/// A standard normal draw (Box-Muller).
pub(crate) fn normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Poisson draws have the mean and variance asked for, below and above
    /// the 20 at which the draw goes in steps, and none for a mean of 0.
    #[test]
    fn poisson_draws_have_their_mean_and_variance() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for mean in [0.3, 5.0, 45.0] {
            let n = 20_000;
            let draws: Vec<f64> = (0..n).map(|_| poisson(&mut rng, mean) as f64).collect();
            let m = draws.iter().sum::<f64>() / n as f64;
            let v = draws.iter().map(|d| (d - m).powi(2)).sum::<f64>() / (n - 1) as f64;
            // Five standard errors of the mean; the variance within 10%.
            assert!(
                (m - mean).abs() < 5.0 * (mean / n as f64).sqrt(),
                "{mean}: mean {m}"
            );
            assert!((v / mean - 1.0).abs() < 0.1, "{mean}: variance {v}");
        }
        assert_eq!(poisson(&mut rng, 0.0), 0);
    }
}
