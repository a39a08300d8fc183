//! The command line: one file per subcommand, each an `Args` struct and a
//! `run` function. Only this layer knows clap.

pub mod audit;
pub mod codes;
pub mod measures;
pub mod merge;
pub mod partition;
pub mod progress;
pub mod synth;
pub mod synth_epd;
pub mod validate;

use clap::{Parser, Subcommand};

/// Audits psychotropic prescribing for people with a learning disability,
/// autism or both (NHS England STOMP), from pseudonymised GP extracts.
///
/// Exit codes: 0 success, 1 data error (bad or missing input, rejected rows
/// with --strict, an output that cannot be written), 2 usage error (bad
/// options, spec or mapping file).
#[derive(Debug, Parser)]
#[command(name = "stomp-audit", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a STOMP audit on an extract folder and write its outputs.
    Audit(audit::Args),
    /// Write a synthetic extract for tests, demos and benchmarks.
    Synth(synth::Args),
    /// Write a synthetic month of public prescribing data (EPD, list sizes, practices) for `measures`.
    SynthEpd(synth_epd::Args),
    /// Check an extract's inputs without auditing; exit 1 if any row is rejected.
    Validate(validate::Args),
    /// Rewrite an extract into buckets of patients for partial audits.
    Partition(partition::Args),
    /// Add up partial audits (audit --partial) and write every output.
    Merge(merge::Args),
    /// Practice-level psychotropic measures from public prescribing data (EPD) and list sizes.
    Measures(measures::Args),
    /// List every dm+d code the spec puts in a drug concept, with its BNF code, form and concepts.
    Codes(codes::Args),
}

/// The output options `merge` and `measures` share.
#[derive(Debug, clap::Args)]
pub struct RunFlags {
    /// Fail (exit 1) if any input row was rejected.
    #[arg(long)]
    pub strict: bool,
    /// Print nothing on success.
    #[arg(long, short)]
    pub quiet: bool,
    /// Replace an output folder that holds an earlier run.
    #[arg(long)]
    pub force: bool,
}

/// A failure with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    /// 1 data error, 2 usage error.
    pub code: i32,
    /// The message for standard error.
    pub error: anyhow::Error,
}

impl Failure {
    /// A data error (exit 1).
    pub fn data(e: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code: 1,
            error: e.into(),
        }
    }

    /// A usage error (exit 2).
    pub fn usage(e: impl Into<anyhow::Error>) -> Failure {
        Failure {
            code: 2,
            error: e.into(),
        }
    }
}

/// Sizes both thread pools (polars' and rayon's) from one option, before
/// either starts.
pub fn set_threads(threads: Option<usize>) -> usize {
    let n = threads.filter(|n| *n > 0).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    std::env::set_var("POLARS_MAX_THREADS", n.to_string());
    // Fails only if the pool already exists (tests); the size is then whatever it was.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global();
    n
}

/// Refuses an output folder that already holds files, unless `force`.
pub fn check_out(out: &std::path::Path, force: bool) -> Result<(), Failure> {
    if out.exists() && !out.is_dir() {
        return Err(Failure::usage(anyhow::anyhow!(
            "{} is a file, not a folder: give --out a folder to write the outputs into",
            out.display()
        )));
    }
    let holds_files = std::fs::read_dir(out)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if holds_files && !force {
        return Err(Failure::usage(anyhow::anyhow!(
            "the output folder {} is not empty (an earlier run?); give --force to replace it",
            out.display()
        )));
    }
    Ok(())
}
