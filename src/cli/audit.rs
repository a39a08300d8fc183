//! `stomp-audit audit`: run the audit on an extract and write the outputs.
//! Every option can also come from a TOML file (`--config`), so a quarterly
//! job is one line in a scheduler; the command line wins over the file.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use stomp_audit::aggregate::AggregateOptions;
use stomp_audit::audit::{self, AuditConfig, AuditError};
use stomp_audit::date::{quarter_ends, Date};
use stomp_audit::ingest::locality::Scope;
use stomp_audit::ingest::mapping::ColumnMapping;
use stomp_audit::ingest::DEFAULT_BATCH_ROWS;
use stomp_audit::pipeline::quality::{self, QualityRules};
use stomp_audit::pipeline::{self, audit::AuditRun};
use stomp_audit::report::focus::Focus;
use stomp_audit::report::{self, ReviewPlacement, RunInfo};
use stomp_audit::spec::AuditSpec;

use stomp_audit::audit::Progress;

use super::progress::Spinner;
use super::Failure;

/// Options of `audit`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The extract folder: patients, registrations, medications,
    /// clinical_events and practices, each .csv, .csv.gz or .parquet.
    pub extract: Option<PathBuf>,
    /// A TOML file with any of these options (extract, out, review_out,
    /// index_dates, quarters, spec, mapping, threads, batch_rows, strict,
    /// max_rejected_share, quiet, disclosure_control, national, force,
    /// review_packs, focus);
    /// paths in it are relative to it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Index date T (YYYY-MM-DD). Give it several times for several periods,
    /// in any order: the earliest is the baseline for the change table.
    #[arg(long = "index-date", value_name = "DATE")]
    pub index_dates: Vec<Date>,
    /// Every quarter end in a range (added to --index-date): calendar
    /// quarters 2023Q1..2024Q1 (Q1 = January to March), NHS financial-year
    /// quarters 2023/24Q1..2024/25Q1 (Q1 = April to June), or dates
    /// 2023-03-31..2024-03-31.
    #[arg(long, value_name = "FROM..TO")]
    pub quarters: Option<String>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// An audit spec (TOML) to use instead of the bundled default STOMP spec.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// A column-mapping file (TOML) for exports with other column names or date formats.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Threads for reading and evaluation (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Rows per streamed batch [default: 65536].
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_rows: Option<u64>,
    /// Fail (exit 1, writing nothing) if any input row is rejected or the
    /// last index date is after the latest dated row.
    #[arg(long)]
    pub strict: bool,
    /// Fail (exit 1, writing nothing) when a larger share of any table's
    /// rows is rejected [default: 0.5].
    #[arg(long, value_name = "SHARE", value_parser = share)]
    pub max_rejected_share: Option<f64>,
    /// Publication mode: counts of 1 to 7 are suppressed and the rest
    /// rounded to the nearest 5; patient-level outputs go only to
    /// --review-out.
    #[arg(long)]
    pub disclosure_control: bool,
    /// The extract covers every practice in England: call the top level
    /// "ENG England" (otherwise it is "ALL", all practices in this extract).
    #[arg(long)]
    pub national: bool,
    /// A folder of its own for the patient-level review list (required for
    /// it under --disclosure-control; never inside --out).
    #[arg(long, value_name = "DIR")]
    pub review_out: Option<PathBuf>,
    /// Also write a printable review pack per practice (review_packs/, one
    /// HTML page each) where the review list goes: patient-level, for the
    /// practice pharmacist.
    #[arg(long)]
    pub review_packs: bool,
    /// Focus report.html on a locality: a PCN, sub-ICB, ICB or region code
    /// (several times for several). Its practices are highlighted over
    /// every practice of the run, whose limits stay those of the whole;
    /// the tables stay complete.
    #[arg(long, value_name = "CODE")]
    pub focus: Vec<String>,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
    /// Replace an output folder that holds an earlier run.
    #[arg(long)]
    pub force: bool,
    /// Write a mergeable partial (counts, review lines, row accounts, with
    /// the spec, codelist versions and index dates) into --out instead of
    /// the outputs; `stomp-audit merge` adds partials up.
    #[arg(long)]
    pub partial: bool,
    /// Decode every row of Parquet tables, not only the rows whose codes
    /// need it: the same results, slower; for benchmarks.
    #[arg(long, hide = true)]
    pub no_pushdown: bool,
}

/// A share between 0 and 1.
fn share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a share between 0 and 1")),
    }
}

/// The config file's contents.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    extract: Option<PathBuf>,
    out: Option<PathBuf>,
    review_out: Option<PathBuf>,
    max_rejected_share: Option<f64>,
    #[serde(default)]
    index_dates: Vec<String>,
    quarters: Option<String>,
    spec: Option<PathBuf>,
    mapping: Option<PathBuf>,
    threads: Option<usize>,
    batch_rows: Option<u64>,
    #[serde(default)]
    strict: bool,
    #[serde(default)]
    quiet: bool,
    #[serde(default)]
    disclosure_control: bool,
    #[serde(default)]
    national: bool,
    #[serde(default)]
    force: bool,
    #[serde(default)]
    review_packs: bool,
    #[serde(default)]
    focus: Vec<String>,
}

/// Everything `audit` needs, from the command line and the config file.
#[derive(Debug)]
pub struct Settings {
    extract: PathBuf,
    out: PathBuf,
    review_out: Option<PathBuf>,
    max_rejected_share: f64,
    index_dates: Vec<Date>,
    spec: Option<PathBuf>,
    mapping: Option<PathBuf>,
    /// Threads asked for (None = all cores).
    pub threads: Option<usize>,
    batch_rows: usize,
    strict: bool,
    quiet: bool,
    disclosure_control: bool,
    scope: Scope,
    force: bool,
    partial: bool,
    pushdown: bool,
    review_packs: bool,
    focus: Vec<String>,
}

impl Settings {
    /// Merges the command line over the config file and checks the result.
    pub fn resolve(args: Args) -> Result<Settings, Failure> {
        let (file, base) = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Failure::usage(anyhow::anyhow!(
                        "cannot read the config {}: {e}",
                        path.display()
                    ))
                })?;
                let file: ConfigFile = toml::from_str(&text).map_err(|e| {
                    Failure::usage(anyhow::anyhow!(
                        "the config {} is not valid: {e}",
                        path.display()
                    ))
                })?;
                (file, path.parent().unwrap_or(Path::new(".")).to_path_buf())
            }
            None => (ConfigFile::default(), PathBuf::from(".")),
        };
        let rel = |p: Option<PathBuf>| p.map(|p| if p.is_absolute() { p } else { base.join(p) });
        let missing = |what: &str| {
            Failure::usage(anyhow::anyhow!(
                "{what} is required (on the command line or in --config)"
            ))
        };
        let mut index_dates = args.index_dates;
        if index_dates.is_empty() {
            for d in &file.index_dates {
                index_dates.push(
                    d.parse::<Date>()
                        .map_err(|e| Failure::usage(anyhow::anyhow!("config index_dates: {e}")))?,
                );
            }
        }
        if let Some(q) = args.quarters.or(file.quarters) {
            index_dates.extend(
                quarter_ends(&q).map_err(|e| Failure::usage(anyhow::anyhow!("--quarters: {e}")))?,
            );
        }
        if index_dates.is_empty() {
            return Err(missing("an index date (--index-date or --quarters)"));
        }
        let disclosure_control = args.disclosure_control || file.disclosure_control;
        if args.partial && disclosure_control {
            return Err(Failure::usage(anyhow::anyhow!(
                "--partial writes patient-level parts, never for publication: give --disclosure-control to merge instead"
            )));
        }
        let focus = if args.focus.is_empty() {
            file.focus
        } else {
            args.focus
        };
        if args.partial && !focus.is_empty() {
            return Err(Failure::usage(anyhow::anyhow!(
                "--focus shapes report.html, which --partial does not write: give it to merge"
            )));
        }
        let max_rejected_share = match args.max_rejected_share.or(file.max_rejected_share) {
            Some(v) => share(&v.to_string())
                .map_err(|e| Failure::usage(anyhow::anyhow!("max_rejected_share: {e}")))?,
            None => quality::DEFAULT_MAX_REJECTED_SHARE,
        };
        Ok(Settings {
            review_out: args.review_out.or(rel(file.review_out)),
            max_rejected_share,
            extract: args
                .extract
                .or(rel(file.extract))
                .ok_or_else(|| missing("the extract folder"))?,
            out: args.out.or(rel(file.out)).ok_or_else(|| missing("--out"))?,
            index_dates,
            spec: args.spec.or(rel(file.spec)),
            mapping: args.mapping.or(rel(file.mapping)),
            threads: args.threads.or(file.threads),
            batch_rows: args
                .batch_rows
                .or(file.batch_rows)
                .map_or(DEFAULT_BATCH_ROWS, |n| n.max(1) as usize),
            strict: args.strict || file.strict,
            quiet: args.quiet || file.quiet,
            disclosure_control,
            scope: Scope::from_national(args.national || file.national),
            force: args.force || file.force,
            partial: args.partial,
            pushdown: !args.no_pushdown,
            review_packs: args.review_packs || file.review_packs,
            focus,
        })
    }
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
pub fn run(s: Settings, threads: usize) -> Result<(), Failure> {
    super::check_out(&s.out, s.force)?;
    let review = review_placement(
        &s.out,
        s.review_out.as_deref(),
        s.disclosure_control,
        s.force,
    )?;
    check_review_packs(s.review_packs, &review)?;
    let spec = load_spec(&s.spec)?;
    let mapping = load_mapping(&s.mapping)?;
    let config = AuditConfig {
        extract: s.extract.clone(),
        mapping: mapping.clone(),
        index_dates: s.index_dates.clone(),
        batch_rows: s.batch_rows,
        pushdown: s.pushdown,
        check_every_row: false,
    };
    let spinner = Spinner::new(!s.quiet);
    if s.partial {
        let part = audit::run_partial(&spec, &config, &spinner).map_err(audit_failure)?;
        spinner.stage("writing the partial");
        stomp_audit::output::write_folder(&s.out, |dir| {
            part.write(dir)
                .map_err(|e| stomp_audit::output::OutputError::Write {
                    path: dir.to_path_buf(),
                    message: e.to_string(),
                })?;
            Ok(Vec::new())
        })
        .map_err(Failure::data)?;
        spinner.clear();
        if !s.quiet {
            println!(
                "partial audit of {} patients ({} in the LD/autism cohort) at {} index date(s) written to {}; add partials up with stomp-audit merge",
                part.meta.patients,
                part.meta.cohort_patients,
                part.meta.index_dates.len(),
                s.out.display()
            );
        }
        return Ok(());
    }
    let options = AggregateOptions {
        disclosure_control: s.disclosure_control,
        scope: s.scope,
    };
    let run = pipeline::audit::run(&spec, &config, options, &spinner).map_err(audit_failure)?;
    spinner.stage("writing outputs");
    let outputs = Outputs {
        out: s.out.clone(),
        quiet: s.quiet,
        rules: QualityRules {
            max_rejected_share: s.max_rejected_share,
            strict: s.strict,
        },
        threads,
        review,
        review_packs: s.review_packs,
        focus: s.focus,
        mapping,
    };
    let result = finish(&run, &spec, &outputs);
    spinner.clear();
    result
}

/// Where and how a run's outputs are written.
pub struct Outputs {
    /// The output folder.
    pub out: PathBuf,
    /// Print nothing on success.
    pub quiet: bool,
    /// What fails the run before anything is written.
    pub rules: QualityRules,
    /// Threads used, for the summary.
    pub threads: usize,
    /// Where the patient-level review list goes.
    pub review: ReviewPlacement,
    /// Also write review packs where the review list goes.
    pub review_packs: bool,
    /// The localities report.html is about (`--focus`).
    pub focus: Vec<String>,
    /// The inputs' column mapping (for the expected date formats).
    pub mapping: ColumnMapping,
}

/// Where the review list goes: a folder of its own when one is named
/// (never the output folder or inside it); otherwise beside the tables,
/// except under disclosure control, where it is not written.
pub fn review_placement(
    out: &Path,
    review_out: Option<&Path>,
    disclosure_control: bool,
    force: bool,
) -> Result<ReviewPlacement, Failure> {
    let Some(dir) = review_out else {
        return Ok(if disclosure_control {
            ReviewPlacement::Withheld
        } else {
            ReviewPlacement::Beside
        });
    };
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if absolute(dir).starts_with(absolute(out)) || absolute(out).starts_with(absolute(dir)) {
        return Err(Failure::usage(anyhow::anyhow!(
            "--review-out {} must be a folder of its own, not --out {} or inside it (or around it): patient-level data never sit beside publishable tables",
            dir.display(),
            out.display()
        )));
    }
    super::check_out(dir, force)?;
    Ok(ReviewPlacement::Folder(dir.to_path_buf()))
}

/// Refuses review packs that would have nowhere to go: under disclosure
/// control without a review folder (checked before the run, not after).
pub fn check_review_packs(review_packs: bool, review: &ReviewPlacement) -> Result<(), Failure> {
    if review_packs && *review == ReviewPlacement::Withheld {
        return Err(Failure::usage(anyhow::anyhow!(
            "--review-packs under --disclosure-control needs --review-out: review packs are patient-level and never sit beside publishable tables"
        )));
    }
    Ok(())
}

/// Writes every output of a run (from `audit` or `merge`) and reports it.
pub fn finish(run: &AuditRun, spec: &AuditSpec, o: &Outputs) -> Result<(), Failure> {
    let rejected: u64 = run
        .inputs
        .iter()
        .map(|i| i.tally.account.rejected_total())
        .sum();
    // Judged before anything is written: a failed run leaves no folder.
    let quality = quality::assess(run, &o.rules, |t| o.mapping.table(t).date_format.describe())
        .map_err(Failure::data)?;
    let focus = Focus::resolve(&o.focus, &run.practices).map_err(Failure::usage)?;
    let info = RunInfo {
        command: std::env::args().collect::<Vec<_>>().join(" "),
        threads: o.threads,
        quality,
        review: o.review.clone(),
        review_packs: o.review_packs,
        focus,
    };
    let written = report::write_all(run, spec, &o.out, &info).map_err(Failure::data)?;
    if !o.quiet {
        println!(
            "audited {} patients ({} in the LD/autism cohort) at {} index date(s); {} rows rejected{}",
            run.patients,
            run.cohort_patients,
            run.dates.len(),
            rejected,
            if run.aggregate.disclosure_control { "; disclosure control applied" } else { "" }
        );
        for w in &written {
            println!("  wrote {}", w.display());
        }
        for warning in &info.quality.warnings {
            println!("  warning: {warning}");
        }
        match &o.review {
            ReviewPlacement::Withheld => println!("  note: review list {}", o.review.describe()),
            _ => println!("  note: {}", report::summary::REVIEW_LIST_NOTICE),
        }
    }
    Ok(())
}
