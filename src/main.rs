//! The `stomp-audit` binary: parse the command line, run one subcommand,
//! map failures to exit codes (0 ok, 1 data error, 2 usage error).

mod cli;

use clap::Parser;
use cli::{Cli, Command};

/// mimalloc reuses the memory it frees: the streaming scans free and
/// allocate a batch's buffers thousands of times, and the system allocator
/// hands much of it back to the kernel, which must clear fresh pages on
/// every reuse (on a virtual machine, at a cost comparable to the
/// decoding). Measured on this project's machine it also spends less time
/// in allocation than jemalloc. Built without transparent huge pages
/// (`no_thp`): with them, each first touch of a 2 MiB region clears all
/// of it, which doubled the kernel's share of a national run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Hands the pages mimalloc keeps for reuse back to the kernel, once a
/// run has freed a large part of its memory. mimalloc returns freed
/// memory after a delay, when it next works on that memory, so the
/// review lines made after evaluation (190 MB at 20 M patients) came on
/// top of 0.6 GB of freed histories and registrations it still held
/// (20 M patients, 8 quarter ends: 2,078 MiB peak; 1,862 MiB with
/// this). Purging on every free (`MIMALLOC_PURGE_DELAY=0`) gives about
/// the same peak but costs a third more time.
pub(crate) fn release_freed_memory() {
    extern "C" {
        // mimalloc's own (libmimalloc-sys builds and links it; its Rust
        // declaration is behind a feature that needs one more crate).
        fn mi_collect(force: bool);
    }
    // SAFETY: mi_collect takes no pointer and may be called at any time
    // from any thread.
    unsafe { mi_collect(true) }
}

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
        Command::SynthEpd(args) => cli::synth_epd::run(args),
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
        Command::Codes(args) => cli::codes::run(args),
    };
    if let Err(f) = result {
        eprintln!("error: {:#}", f.error);
        std::process::exit(f.code);
    }
}
