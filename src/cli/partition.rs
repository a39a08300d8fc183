//! `stomp-audit partition`: rewrite an extract into buckets of patients for
//! partial audits on several machines (or Spark tasks).

use std::path::PathBuf;

use stomp_audit::ingest::partition::partition;

use super::audit::load_mapping;
use super::Failure;

/// Options of `partition`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The extract folder (as for `audit`).
    pub extract: PathBuf,
    /// How many buckets.
    #[arg(long, value_name = "B", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub buckets: u32,
    /// Output folder: one `bucket-NNN` extract per bucket.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A column-mapping file for the extract (as for `audit`); buckets use
    /// the canonical names and carry any date formats in `mapping.toml`.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Rows per streamed batch.
    #[arg(long, value_name = "ROWS", default_value_t = stomp_audit::ingest::DEFAULT_BATCH_ROWS as u64, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_rows: u64,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
    /// Replace an output folder that holds an earlier run.
    #[arg(long)]
    pub force: bool,
}

/// Runs `partition`.
pub fn run(args: Args) -> Result<(), Failure> {
    super::check_out(&args.out, args.force)?;
    if args.force && args.out.exists() {
        std::fs::remove_dir_all(&args.out).map_err(Failure::data)?;
    }
    let mapping = load_mapping(&args.mapping)?;
    let summary = partition(
        &args.extract,
        &mapping,
        args.buckets,
        &args.out,
        args.batch_rows as usize,
    )
    .map_err(Failure::data)?;
    let rejected: u64 = summary
        .tables
        .iter()
        .map(|t| t.3.account.rejected_total())
        .sum();
    if !args.quiet {
        println!(
            "wrote {} buckets to {}",
            summary.folders.len(),
            args.out.display()
        );
        for (kind, path, rows, tally) in &summary.tables {
            if *kind == stomp_audit::ingest::table::TableKind::Practices {
                println!(
                    "  {:<16} {:>12} rows, in every bucket  {}",
                    kind.to_string(),
                    rows.first().unwrap_or(&0),
                    path.display()
                );
                continue;
            }
            let total: u64 = rows.iter().sum();
            println!(
                "  {:<16} {:>12} rows (smallest bucket {}, largest {})  {}",
                kind.to_string(),
                total,
                rows.iter().min().unwrap_or(&0),
                rows.iter().max().unwrap_or(&0),
                path.display()
            );
            for r in tally.rejections.iter().take(5) {
                println!(
                    "    not in any bucket: {} ({}): {}",
                    r.location,
                    r.value,
                    r.reason.as_str()
                );
            }
        }
    }
    if rejected > 0 {
        return Err(Failure::data(anyhow::anyhow!(
            "{rejected} rows have the wrong number of fields and are in no bucket; fix the extract and partition again"
        )));
    }
    Ok(())
}
