//! `stomp-audit synth`: write a synthetic extract.

use std::path::PathBuf;

use stomp_audit::date::Date;
use stomp_audit::synth::{self, SynthConfig, SynthFormat};

use super::Failure;

/// Options of `synth`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Registered patients to generate.
    #[arg(long, value_name = "N")]
    pub patients: u64,
    /// Random seed; the same seed writes the same extract.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// File format of the tables.
    #[arg(long, value_enum, default_value_t = SynthFormat::Csv)]
    pub format: SynthFormat,
    /// Practices (default: one per 8,000 patients).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub practices: Option<u32>,
    /// Share of patients on the LD register (England: about 0.005).
    #[arg(long, default_value_t = 0.005)]
    pub ld_prevalence: f64,
    /// Share of patients without LD who have an autism code.
    #[arg(long, default_value_t = 0.01)]
    pub autism_prevalence: f64,
    /// Extract date: no row is dated after it.
    #[arg(long, default_value = "2024-06-30")]
    pub extract_date: Date,
    /// Years of history before the extract date.
    #[arg(long, default_value_t = 4)]
    pub history_years: u32,
    /// Also write each medication's BNF code (real extracts carry dm+d
    /// codes only, which is the default).
    #[arg(long, conflicts_with = "bnf_only")]
    pub bnf_codes: bool,
    /// Write BNF codes only, no dm+d codes: the same extract in the other
    /// coding, to check that the audit does not depend on it.
    #[arg(long)]
    pub bnf_only: bool,
    /// Mean number of extra courses of unrelated medicines per patient,
    /// each with two unrelated clinical events. 0 writes the extract as
    /// before (most medication rows psychotropic); about 5 gives a real
    /// extract's share, where about one medication row in eight is.
    #[arg(long, default_value_t = 0.0, value_name = "MEAN")]
    pub unrelated_courses: f64,
    /// Write into a folder that already holds files (replacing the tables).
    #[arg(long)]
    pub force: bool,
}

/// Runs `synth`.
pub fn run(args: Args) -> Result<(), Failure> {
    super::check_out(&args.out, args.force)?;
    for (name, v) in [
        ("--ld-prevalence", args.ld_prevalence),
        ("--autism-prevalence", args.autism_prevalence),
    ] {
        if !(0.0..=1.0).contains(&v) {
            return Err(Failure::usage(anyhow::anyhow!(
                "{name} must be between 0 and 1, not {v}"
            )));
        }
    }
    if !(0.0..=100.0).contains(&args.unrelated_courses) {
        return Err(Failure::usage(anyhow::anyhow!(
            "--unrelated-courses must be between 0 and 100, not {}",
            args.unrelated_courses
        )));
    }
    let counts = synth::generate(&SynthConfig {
        patients: args.patients,
        seed: args.seed,
        out: args.out.clone(),
        format: args.format,
        practices: args.practices,
        ld_prevalence: args.ld_prevalence,
        autism_prevalence: args.autism_prevalence,
        extract_date: args.extract_date,
        history_years: args.history_years,
        coding: match (args.bnf_codes, args.bnf_only) {
            (_, true) => synth::DrugCoding::BnfOnly,
            (true, false) => synth::DrugCoding::Both,
            (false, false) => synth::DrugCoding::DmdOnly,
        },
        unrelated_courses: args.unrelated_courses,
    })
    .map_err(Failure::data)?;
    println!(
        "wrote {}: {} practices, {} patients, {} registrations, {} medication issues, {} clinical events; {:.1}% of the medication issues are of unrelated medicines",
        args.out.display(),
        counts.practices,
        counts.patients,
        counts.registrations,
        counts.medications,
        counts.clinical_events,
        100.0 * counts.unrelated_medications as f64 / counts.medications.max(1) as f64
    );
    Ok(())
}
