//! `stomp-audit merge`: add up partial audits (`audit --partial`, one per
//! bucket of patients) and write every output a normal run writes.

use std::path::PathBuf;

use stomp_audit::aggregate::AggregateOptions;
use stomp_audit::audit::partial::Partial;
use stomp_audit::ingest::locality::Scope;
use stomp_audit::pipeline::merge::merge;

use stomp_audit::pipeline::quality::QualityRules;

use super::audit::{check_review_packs, finish, load_spec, review_placement, Outputs};
use super::Failure;

/// Options of `merge`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Partial folders written by `stomp-audit audit --partial`.
    #[arg(required = true, value_name = "PARTIAL")]
    pub partials: Vec<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The spec the partials were made with (default: the bundled one);
    /// partials of any other spec are refused.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Publication mode (as `audit`): counts of 1 to 7 suppressed, the rest
    /// rounded; patient-level outputs only to --review-out.
    #[arg(long)]
    pub disclosure_control: bool,
    /// The partials cover every practice in England: call the top level
    /// "ENG England" (otherwise "ALL", all practices in these partials).
    #[arg(long)]
    pub national: bool,
    /// A folder of its own for the patient-level review list.
    #[arg(long, value_name = "DIR")]
    pub review_out: Option<PathBuf>,
    /// Also write a printable review pack per practice where the review
    /// list goes.
    #[arg(long)]
    pub review_packs: bool,
    /// Focus report.html on a locality (as `audit --focus`): a PCN,
    /// sub-ICB, ICB or region code, several times for several.
    #[arg(long, value_name = "CODE")]
    pub focus: Vec<String>,
    /// Output options.
    #[command(flatten)]
    pub flags: super::RunFlags,
}

/// Runs `merge`.
pub fn run(args: Args, threads: usize) -> Result<(), Failure> {
    super::check_out(&args.out, args.flags.force)?;
    let review = review_placement(
        &args.out,
        args.review_out.as_deref(),
        args.disclosure_control,
        args.flags.force,
    )?;
    check_review_packs(args.review_packs, &review)?;
    let spec = load_spec(&args.spec)?;
    let partials = args
        .partials
        .iter()
        .map(|p| Partial::read(p, spec.compiled.indicators.len()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::data)?;
    let options = AggregateOptions {
        disclosure_control: args.disclosure_control,
        scope: Scope::from_national(args.national),
    };
    let run = merge(&spec, partials, &args.partials, options).map_err(Failure::data)?;
    finish(
        &run,
        &spec,
        &Outputs {
            out: args.out,
            quiet: args.flags.quiet,
            rules: QualityRules {
                strict: args.flags.strict,
                ..QualityRules::default()
            },
            threads,
            review,
            review_packs: args.review_packs,
            focus: args.focus,
            mapping: Default::default(),
        },
    )
}
