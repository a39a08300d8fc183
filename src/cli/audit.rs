//! `stomp-audit audit`: run the audit on an extract and write the outputs.

use std::path::PathBuf;

use stomp_audit::audit::{self, AuditConfig, AuditError};
use stomp_audit::date::Date;
use stomp_audit::ingest::mapping::ColumnMapping;
use stomp_audit::report::{self, RunInfo};
use stomp_audit::spec::AuditSpec;

use super::Failure;

/// Options of `audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The extract folder: patients, registrations, medications,
    /// clinical_events and practices, each .csv, .csv.gz or .parquet.
    pub extract: PathBuf,
    /// Index date T (YYYY-MM-DD). Give it several times for several periods.
    #[arg(long = "index-date", required = true, value_name = "DATE")]
    pub index_dates: Vec<Date>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// An audit spec (TOML) to use instead of the bundled default STOMP spec.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// A column-mapping file (TOML) for exports with other column names or date formats.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Threads for reading and evaluation (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Rows per streamed batch.
    #[arg(long, default_value_t = 65_536, value_name = "ROWS", value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_rows: u64,
    /// Fail (exit 1) if any input row is rejected.
    #[arg(long)]
    pub strict: bool,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Loads the spec named on the command line, or the bundled one.
pub fn load_spec(path: &Option<PathBuf>) -> Result<AuditSpec, Failure> {
    match path {
        Some(p) => AuditSpec::load(p),
        None => AuditSpec::bundled(),
    }
    .map_err(Failure::usage)
}

/// Loads the mapping named on the command line, or the identity mapping.
pub fn load_mapping(path: &Option<PathBuf>) -> Result<ColumnMapping, Failure> {
    match path {
        Some(p) => ColumnMapping::load(p).map_err(Failure::usage),
        None => Ok(ColumnMapping::default()),
    }
}

/// Maps an audit error to its exit code.
pub fn audit_failure(e: AuditError) -> Failure {
    match e {
        AuditError::NoIndexDate => Failure::usage(e),
        other => Failure::data(other),
    }
}

/// Runs `audit`.
pub fn run(args: Args, threads: usize) -> Result<(), Failure> {
    let spec = load_spec(&args.spec)?;
    let config = AuditConfig {
        extract: args.extract.clone(),
        mapping: load_mapping(&args.mapping)?,
        index_dates: args.index_dates.clone(),
        batch_rows: args.batch_rows as usize,
    };
    let run = audit::run(&spec, &config).map_err(audit_failure)?;
    let rejected: u64 = run
        .tallies
        .values()
        .map(|t| t.account.rejected_total())
        .sum();
    let info = RunInfo {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        threads,
    };
    let written = report::write_all(&run, &spec, &args.out, &info).map_err(Failure::data)?;
    if !args.quiet {
        println!(
            "audited {} patients ({} in the LD/autism cohort) at {} index date(s); {} rows rejected",
            run.population.len(),
            run.cohort_patients,
            run.dates.len(),
            rejected
        );
        for w in &written {
            println!("  wrote {}", w.display());
        }
        println!("  note: {}", report::summary::REVIEW_LIST_NOTICE);
    }
    if args.strict && rejected > 0 {
        return Err(Failure::data(anyhow::anyhow!(
            "--strict: {rejected} input rows were rejected; see {}",
            args.out.join(report::rejected::FILE).display()
        )));
    }
    Ok(())
}
