//! A progress display on a terminal (indicatif); silent when quiet or when
//! standard error is not a terminal, as in a scheduled job.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use stomp_audit::audit::Progress;

/// A spinner with the current stage and the rows read so far.
pub struct Spinner {
    bar: Option<ProgressBar>,
}

impl Spinner {
    /// A spinner when `show` and standard error is a terminal.
    pub fn new(show: bool) -> Spinner {
        let bar = (show && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Spinner { bar }
    }

    /// Removes the spinner.
    pub fn clear(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Progress for Spinner {
    fn stage(&self, name: &'static str) {
        if let Some(b) = &self.bar {
            b.set_message(format!("{name}..."));
        }
    }

    fn freed(&self) {
        crate::release_freed_memory();
    }

    fn done(&self, rows: u64) {
        if let (Some(b), true) = (&self.bar, rows > 0) {
            b.println(format!(
                "  {} ({rows} rows)",
                b.message().trim_end_matches("...")
            ));
        }
    }
}
