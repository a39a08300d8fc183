//! The `stomp-audit` binary: parse the command line, run one subcommand,
//! map failures to exit codes (0 ok, 1 data error, 2 usage error).

mod cli;

use clap::Parser;
use cli::{Cli, Command};

/// jemalloc, told to keep freed memory for a second before giving it
/// back: the streaming scans free and allocate a batch's buffers thousands
/// of times, and memory handed straight back to the kernel returns as
/// fresh pages it must clear (on a virtual machine, at a cost comparable
/// to the decoding). Kept for longer, the peak would grow by the memory
/// of every stage before; a second keeps the peak of a 20 M-patient run
/// near 1.8 GiB instead of 2.1.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read before `main` (its `malloc_conf` string).
#[export_name = "_rjem_malloc_conf"]
#[allow(non_upper_case_globals)]
pub static malloc_conf: &[u8; 40] = b"dirty_decay_ms:1000,muzzy_decay_ms:1000\0";

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Audit(args) => cli::audit::Settings::resolve(args).and_then(|s| {
            let threads = cli::set_threads(s.threads);
            cli::audit::run(s, threads)
        }),
        Command::Synth(args) => {
            cli::set_threads(None);
            cli::synth::run(args)
        }
        Command::Partition(args) => {
            cli::set_threads(None);
            cli::partition::run(args)
        }
        Command::Merge(args) => {
            let threads = cli::set_threads(None);
            cli::merge::run(args, threads)
        }
        Command::Measures(args) => {
            let threads = cli::set_threads(args.threads);
            cli::measures::run(args, threads)
        }
        Command::Validate(args) => {
            cli::set_threads(None);
            cli::validate::run(args)
        }
    };
    if let Err(f) = result {
        eprintln!("error: {:#}", f.error);
        std::process::exit(f.code);
    }
}
