//! The outcome indicators a STOMP programme is judged by (issue 14): stops
//! since a year before T. dm+d codes only, as real extracts carry them.
//! Expectations counted by hand at T = 2024-03-31:
//!   a year before: the 6 months to T − 12m, (2022-09-30, 2023-03-31]
//!   now:           the 6 months to T,       (2023-09-30, 2024-03-31]

use super::workdir::{counts, ok, Workdir};

const T: &str = "2024-03-31";
const RISPERIDONE: &str = "321589009"; // Risperidone 1mg tablets
const SERTRALINE: &str = "321959007"; // Sertraline 50mg tablets

fn national(w: &Workdir, id: &str) -> (u64, u64) {
    let c = counts(&w.read_out("indicators.csv"));
    c[&(id.to_string(), "national".to_string(), "ALL".to_string())]
}

/// Issues of one drug on each date.
fn issues(w: &mut Workdir, id: &str, dmd: &str, dates: &[&str]) {
    for d in dates {
        w.med(id, d, dmd, "");
    }
}

#[test]
fn stopped_counts_a_stop_not_a_continuation_or_a_restart() {
    let mut w = Workdir::new();
    // Stopped: last issue on the baseline window's last day.
    w.ld("stop");
    issues(&mut w, "stop", RISPERIDONE, &["2023-01-15", "2023-03-31"]);
    // Stopped: last issue exactly 6 months before T, just outside "now".
    w.ld("stop-edge");
    issues(
        &mut w,
        "stop-edge",
        RISPERIDONE,
        &["2022-10-01", "2023-09-30"],
    );
    // Continued.
    w.ld("continued");
    issues(
        &mut w,
        "continued",
        RISPERIDONE,
        &["2023-02-01", "2023-08-01", "2024-02-01"],
    );
    // Stopped for months, then restarted in the 6 months to T: not a stop.
    w.ld("restart");
    issues(
        &mut w,
        "restart",
        RISPERIDONE,
        &["2023-01-01", "2024-03-01"],
    );
    // Baseline issue one day too early: not in the denominator.
    w.ld("too-early");
    w.med("too-early", "2022-09-30", RISPERIDONE, "");
    // Not on the LD register.
    w.patient("no-ld");
    w.med("no-ld", "2023-03-01", RISPERIDONE, "");
    // Antidepressants: one stop, one continuation.
    w.ld("ad-stop");
    w.med("ad-stop", "2023-03-01", SERTRALINE, "");
    w.ld("ad-continued");
    issues(
        &mut w,
        "ad-continued",
        SERTRALINE,
        &["2023-03-01", "2024-01-01"],
    );
    ok(&w.audit(&["--index-date", T, "-q"]));
    assert_eq!(national(&w, "STOMP14"), (2, 4));
    assert_eq!(national(&w, "STOMP14B"), (1, 2));
}
