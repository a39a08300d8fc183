//! `stomp-audit validate`: read every input, report what would be rejected,
//! and audit nothing.

use std::path::PathBuf;

use stomp_audit::audit::coverage::DrugCoverage;
use stomp_audit::audit::{self, AuditConfig};
use stomp_audit::date::Date;

use super::audit::{audit_failure, load_mapping, load_spec};
use super::Failure;

/// Options of `validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The extract folder.
    pub extract: PathBuf,
    /// A column-mapping file (TOML).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// An audit spec (TOML), for which codes count as related.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// The index date the audit will use (default: 9999-12-31). Every row
    /// with a related code is checked in full, whatever its date.
    #[arg(long = "index-date", value_name = "DATE", default_value = "9999-12-31")]
    pub index_date: Date,
    /// How many examples to show of each kind of problem in each table.
    #[arg(long, default_value_t = 5)]
    pub show: usize,
}

/// Runs `validate`.
pub fn run(args: Args) -> Result<(), Failure> {
    let spec = load_spec(&args.spec)?;
    let config = AuditConfig {
        extract: args.extract.clone(),
        mapping: load_mapping(&args.mapping)?,
        index_dates: vec![args.index_date],
        batch_rows: stomp_audit::ingest::DEFAULT_BATCH_ROWS,
        pushdown: true,
        check_every_row: true,
    };
    let run = stomp_audit::pipeline::audit::run(&spec, &config, Default::default(), &audit::Silent)
        .map_err(audit_failure)?;
    let mut rejected_total = 0;
    for input in &run.inputs {
        let t = &input.tally;
        let a = &t.account;
        let rejected = a.rejected_total();
        rejected_total += rejected;
        println!(
            "{:<16} {:>12} rows: {} used, {} ignored, {} rejected  ({})",
            input.file.table.to_string(),
            a.read,
            a.used,
            a.ignored.total(),
            rejected,
            input.file.path.display()
        );
        for (reason, n) in &a.rejected {
            println!("    rejected {n:>10}  {}", reason.as_str());
        }
        for (reason, n) in &a.cleared {
            println!("    value set to missing {n:>10}  {}", reason.as_str());
        }
        // Examples of every kind of problem, not only the first seen.
        let mut kinds: std::collections::BTreeMap<_, Vec<_>> = Default::default();
        for r in &t.rejections {
            kinds.entry((r.reason, r.column)).or_default().push(r);
        }
        for ((reason, column), rows) in &kinds {
            println!(
                "    {} in column {column}: {} row(s)",
                reason.as_str(),
                rows.len()
            );
            for r in rows.iter().take(args.show) {
                println!("      e.g. {}, value '{}'", r.location, r.value);
                if let Some(h) = stomp_audit::report::rejected::hint(r) {
                    println!("        hint: {h}");
                }
            }
        }
    }
    print_drug_coverage(&spec, &run.drug_coverage);
    if run.practices.unlisted_count() > 0 {
        println!(
            "{} practice code(s) in registrations are not in the practices table; they are kept under UNKNOWN localities",
            run.practices.unlisted_count()
        );
    }
    if rejected_total > 0 {
        return Err(Failure::data(anyhow::anyhow!(
            "{rejected_total} rows would be rejected"
        )));
    }
    println!("ok: no row rejected");
    Ok(())
}

/// How the medications were classified, and what the dictionary lists
/// could not resolve: a stale codelist shows up here.
fn print_drug_coverage(spec: &stomp_audit::spec::AuditSpec, c: &DrugCoverage) {
    println!("medications by drug concept (rows through dm+d / through BNF):");
    for (concept, v) in &c.concepts {
        println!("    {concept:<32} {:>10} / {:>10}", v.dmd, v.bnf);
    }
    if !c.unlisted.is_empty() {
        println!(
            "{} dm+d code(s) in {} row(s) are in no codelist of the spec, but their names are of its drugs (update the codelists):",
            c.unlisted.len(),
            c.unlisted_rows()
        );
        for (code, u) in c.unlisted.iter().take(20) {
            println!(
                "    {code} {} ({} rows): {}",
                u.name,
                u.rows,
                u.concepts.join(", ")
            );
        }
    }
    for l in spec.compiled.dictionary.iter().filter(|l| l.unresolved > 0) {
        let names: Vec<String> = l
            .unresolved_names
            .iter()
            .map(|(n, k)| format!("{n} ({k})"))
            .collect();
        println!(
            "drug dictionary: {} of {} codes of {} ({}) have no BNF code, so no class: {}",
            l.unresolved,
            l.codes,
            l.list,
            l.version,
            names.join(", ")
        );
    }
}
