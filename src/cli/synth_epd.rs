//! `stomp-audit synth-epd`: write a synthetic month of public prescribing
//! data (EPD, list sizes and a practices table) for `measures`.

use std::path::PathBuf;

use stomp_audit::date::Month;
use stomp_audit::synth::epd::{self, EpdConfig};
use stomp_audit::synth::SynthFormat;

use super::Failure;

/// Options of `synth-epd`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Practices (England has about 6,500).
    #[arg(long, default_value_t = 6500, value_parser = clap::value_parser!(u32).range(1..))]
    pub practices: u32,
    /// The month (YYYY-MM).
    #[arg(long, default_value = "2024-03", value_parser = month)]
    pub month: Month,
    /// Prescribing rows per practice (a national month has about 2,500).
    #[arg(long, default_value_t = 2500, value_parser = clap::value_parser!(u32).range(1..))]
    pub rows_per_practice: u32,
    /// The share of rows that are psychotropic presentations (real
    /// months: about 0.1).
    #[arg(long, default_value_t = 0.1, value_parser = share)]
    pub psychotropic_share: f64,
    /// Distinct other presentations: 12 real ones, and made-up codes
    /// outside chapter 4 beyond them (a real month has about 20,000);
    /// fewer than 12 gives the 12.
    #[arg(long, default_value_t = 12)]
    pub other_codes: u32,
    /// Random seed; the same seed writes the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// File format of the prescribing file (list sizes and practices are CSV).
    #[arg(long, value_enum, default_value_t = SynthFormat::Csv)]
    pub format: SynthFormat,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace the files of an earlier run in --out.
    #[arg(long)]
    pub force: bool,
}

fn month(s: &str) -> Result<Month, String> {
    Month::parse_period(s).ok_or_else(|| format!("'{s}' is not a month (YYYY-MM)"))
}

fn share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 1.0 => Ok(v),
        _ => Err(format!("'{s}' is not a share above 0 and at most 1")),
    }
}

/// Runs `synth-epd`.
pub fn run(args: Args) -> Result<(), Failure> {
    super::check_out(&args.out, args.force)?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Failure::data(anyhow::anyhow!("cannot create {}: {e}", args.out.display())))?;
    let files = epd::generate(&EpdConfig {
        practices: args.practices as usize,
        month: args.month,
        rows_per_practice: args.rows_per_practice as usize,
        psychotropic_share: args.psychotropic_share,
        other_codes: args.other_codes as usize,
        seed: args.seed,
        format: args.format,
        out: args.out.clone(),
    })
    .map_err(Failure::data)?;
    println!(
        "wrote {} prescribing rows for {} practices in {}:\n  {}\n  {}\n  {}\nrun: stomp-audit measures --epd {} --list-sizes {} --practices {} --out OUT",
        files.rows,
        args.practices,
        args.month,
        files.epd.display(),
        files.list_sizes.display(),
        files.practices.display(),
        files.epd.display(),
        files.list_sizes.display(),
        files.practices.display(),
    );
    Ok(())
}
