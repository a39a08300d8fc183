//! `stomp-audit measures`: practice-level psychotropic measures from public
//! prescribing data (EPD) and list sizes, with the audit's statistics and
//! report.

use std::path::PathBuf;

use stomp_audit::ingest::locality::{Level, Scope};
use stomp_audit::pipeline::measures::{self, MeasuresConfig, MeasuresError};
use stomp_audit::report::focus::Focus;
use stomp_audit::report::{self, RunInfo};

use super::audit::load_spec;
use super::Failure;

/// Options of `measures`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Prescribing files (EPD or HSCIC practice level prescribing; .csv,
    /// .csv.gz or .parquet). Give several for several months.
    #[arg(long = "epd", value_name = "FILE", required = true, num_args = 1..)]
    pub epd: Vec<PathBuf>,
    /// NHS Digital list sizes by practice, sex and age band, one file a month.
    #[arg(long = "list-sizes", value_name = "FILE", required = true, num_args = 1..)]
    pub list_sizes: Vec<PathBuf>,
    /// Where practices sit in the hierarchy: an ODS epraccur file or a
    /// practices table (the extract's layout). Default: the prescribing
    /// files' own CCG / area team / region columns.
    #[arg(long, value_name = "FILE")]
    pub practices: Option<PathBuf>,
    /// An ODS eccg file naming the CCGs / sub-ICB locations of an epraccur file.
    #[arg(long, value_name = "FILE", requires = "practices")]
    pub ccgs: Option<PathBuf>,
    /// The files cover every practice in England (as a national EPD month
    /// does): call the top level "ENG England" (otherwise "ALL", all
    /// practices in these files).
    #[arg(long)]
    pub national: bool,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A spec (TOML) whose [[measures]] replace the bundled ones.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Threads for reading (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Focus report.html on a locality: a PCN, sub-ICB, ICB or region
    /// code (several times for several). Its practices are highlighted
    /// over every practice, whose limits stay those of the whole; the
    /// tables stay complete.
    #[arg(long, value_name = "CODE")]
    pub focus: Vec<String>,
    /// Rows per streamed batch.
    #[arg(long, value_name = "ROWS", default_value_t = stomp_audit::ingest::DEFAULT_BATCH_ROWS as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_rows: u64,
    /// Decode every row of Parquet prescribing files, not only the rows
    /// a measure may need: the same results, slower; for benchmarks.
    #[arg(long, hide = true)]
    pub no_pushdown: bool,
    /// Output options.
    #[command(flatten)]
    pub flags: super::RunFlags,
}

fn failure(e: MeasuresError) -> Failure {
    match e {
        MeasuresError::NoMeasures => Failure::usage(e),
        other => Failure::data(other),
    }
}

/// Runs `measures`.
pub fn run(args: Args, threads: usize) -> Result<(), Failure> {
    super::check_out(&args.out, args.flags.force)?;
    let spec = load_spec(&args.spec)?;
    let scope = Scope::from_national(args.national);
    let config = MeasuresConfig {
        prescribing: args.epd.clone(),
        list_sizes: args.list_sizes.clone(),
        practices: args.practices.clone(),
        ccgs: args.ccgs.clone(),
        batch_rows: args.batch_rows as usize,
        pushdown: !args.no_pushdown,
        scope,
    };
    let run = measures::run(&spec.measures, &config).map_err(failure)?;
    let info = RunInfo {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        threads,
        focus: Focus::resolve(&args.focus, &run.practices).map_err(Failure::usage)?,
        ..RunInfo::default()
    };
    let rejected: u64 = run
        .inputs
        .iter()
        .map(|i| i.tally.account.rejected_total())
        .sum();
    // Judged before anything is written: exit 1 leaves no folder.
    if args.flags.strict && rejected > 0 {
        let first = run.inputs.iter().find_map(|i| {
            let r = i.tally.rejections.first()?;
            Some(format!(
                "{} {}, column {}, value '{}': {}",
                i.file.path.display(),
                r.location,
                r.column,
                r.value,
                r.reason.as_str()
            ))
        });
        return Err(Failure::data(anyhow::anyhow!(
            "--strict: {rejected} input rows were rejected, so nothing was written; the first: {}",
            first.unwrap_or_default()
        )));
    }
    let written =
        report::measures::write_all(&run, &spec, &args.out, &info).map_err(Failure::data)?;
    if !args.flags.quiet {
        let read: u64 = run
            .inputs
            .iter()
            .filter(|i| i.layout.is_some())
            .map(|i| i.tally.account.read)
            .sum();
        let months: Vec<String> = run.months.iter().map(|m| m.to_string()).collect();
        println!(
            "{} measures for {} practices in {}; {read} prescribing rows read, {} summed into {} presentations, {rejected} rejected",
            run.measures.len(),
            run.practices.list.len(),
            months.join(", "),
            run.fold.rows_summed,
            run.fold.presentations,
        );
        if let Some(&last) = run.months.last() {
            let top = scope.unit().1;
            println!("  {top}, {last}:");
            for m in &run.measures {
                if let Some(r) = run
                    .rows
                    .iter()
                    .find(|r| r.month == last && r.measure_id == m.id && r.level == Level::National)
                {
                    let v = r
                        .stats
                        .rate
                        .map_or_else(|| "–".into(), |v| format!("{:.2}", v * m.per));
                    println!("    {:<6} {:>9}  {}", m.id, v, m.title);
                }
            }
        }
        for s in &run.skipped {
            println!(
                "  note: {} left out for some months: {}",
                s.measure_id, s.reason
            );
        }
        for w in &written {
            println!("  wrote {}", w.display());
        }
    }
    Ok(())
}
