//! The HTML report as a person sees it: rendered by headless Chromium,
//! with its plots and tables present, and the same bytes whatever the
//! thread count.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::workdir::{ok, run};

/// The browser the rendering tests use, if one is installed.
pub(super) fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let out = Command::new("which").arg(name).output().ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        })
}

/// A headless browser with a profile of its own that fetches nothing.
pub(super) fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1300,2000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

fn quarterly(out: &Path, threads: &str) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/extract");
    ok(&run(&[
        "audit",
        sample.to_str().unwrap(),
        "--quarters",
        "2023Q1..2024Q1",
        "--threads",
        threads,
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
}

#[test]
fn the_report_renders_with_its_plots_and_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    quarterly(&out, "2");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    // Self-contained: no fetched scripts, stylesheets or resources (the only
    // URLs are SVG namespace names, which nothing fetches); its one script
    // is inline.
    for forbidden in [
        "<link",
        "src=",
        "href=\"http",
        "url(",
        "@import",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(
            !html.contains(forbidden),
            "report.html contains {forbidden}"
        );
    }
    assert_eq!(html.matches("<script").count(), 1, "one inline script");
    // Every dot of every funnel and caterpillar plot names its practice.
    let mut dots = 0;
    for svg in html.split("<svg").skip(1) {
        let svg = &svg[..svg.find("</svg>").unwrap()];
        if svg.contains("funnel plot") || svg.contains("ranked by rate") {
            let (circles, titled) = (
                svg.matches("<circle").count(),
                svg.matches("</title></circle>").count(),
            );
            assert_eq!(circles, titled, "a dot without its practice");
            dots += titled;
        }
    }
    assert!(dots > 100, "{dots} titled dots");
    assert!(html.contains("<title>SP0001 Synthetic Practice 1: "));
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium (.ci/run does)"
        );
        eprintln!("chromium not installed: skipping the rendering check");
        return;
    };
    let url = format!("file://{}", out.join("report.html").display());
    let dom = headless(&browser, &tmp.path().join("p1"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    // 30 indicators x (funnel, caterpillar, deciles over five quarters),
    // and the outcomes over time.
    assert_eq!(
        dom.matches("<svg").count(),
        91,
        "charts in the rendered page"
    );
    assert!(dom.contains("Headline, 2024-03-31"));
    assert!(dom.contains("Change since 2023-03-31"));
    assert!(dom.contains("STOMP03B funnel plot, 2024-03-31"));
    // Stops and reductions per quarter beside current use, one line each,
    // named in the chart's own legend.
    let at = dom
        .find("<h3>Outcomes over time</h3>")
        .expect("no outcome chart");
    let chart = &dom[at..at + dom[at..].find("</svg>").expect("no svg")];
    for id in [
        "STOMP02", "STOMP10", "STOMP14", "STOMP15", "STOMP14B", "STOMP15B",
    ] {
        assert!(chart.contains(id), "{id} not in the outcome chart");
    }
    // Headline, data quality, changes, trends (national, ICB, sub-ICB),
    // four locality levels, definitions, facts and codelists.
    assert_eq!(dom.matches("<table").count(), 13);
    assert!(dom.contains("<h2>Data quality</h2>"));
    assert!(dom.contains("<h2>Trend by index date</h2>"));
    assert!(dom.contains("Benjamini–Hochberg q-value is below 0.05"));
    assert!(dom.contains(
        "antipsychotic (BNF 4.2.1, 4.2.2, asenapine) issued at least 1 time(s) in months 12 to 6 before T"
    ));
    // The definitions of docs/indicators.md travel with the page.
    assert!(dom.contains("id=\"indicator-definitions\""));
    assert!(dom.contains("## STOMP08"));
    let png = tmp.path().join("report.png");
    let shot = headless(&browser, &tmp.path().join("p2"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    // A rendered page of tables and charts, not a blank one: PNG compresses a
    // blank 1300x2000 page to a few kilobytes.
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert!(bytes.len() > 100_000, "screenshot is {} bytes", bytes.len());
}

#[test]
fn outputs_are_byte_identical_with_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    quarterly(&a, "1");
    quarterly(&b, "2");
    for f in [
        "report.html",
        "indicators.csv",
        "indicators.parquet",
        "changes.csv",
        "deciles.csv",
        "review_list.csv",
    ] {
        assert!(
            std::fs::read(a.join(f)).unwrap() == std::fs::read(b.join(f)).unwrap(),
            "{f} differs"
        );
    }
}

/// The top level is England only when the run says the extract is national
/// (`--national` or `national = true` in the config); otherwise it is all
/// practices in this extract, in the tables and on the page.
#[test]
fn the_top_level_is_england_only_when_declared() {
    let tmp = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/extract");
    let audit = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "audit",
            sample.to_str().unwrap(),
            "--index-date",
            "2024-03-31",
            "--out",
            out.to_str().unwrap(),
            "-q",
        ];
        args.extend_from_slice(extra);
        ok(&run(&args));
        let csv = std::fs::read_to_string(out.join("indicators.csv")).unwrap();
        let tops: std::collections::BTreeSet<(String, String)> = super::workdir::parse_csv(&csv)
            .into_iter()
            .filter(|r| r["level"] == "national")
            .map(|r| (r["unit_code"].clone(), r["unit_name"].clone()))
            .collect();
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        (tops, html)
    };
    let pair = |c: &str, n: &str| [(c.to_string(), n.to_string())].into_iter().collect();

    let (tops, html) = audit(&tmp.path().join("extract"), &[]);
    assert_eq!(tops, pair("ALL", "All practices in this extract"));
    assert!(html.contains("<th>Rate, all practices in this extract (95% CI)</th>"));
    assert!(html.contains("around the rate for all practices in this extract"));
    assert!(!html.contains("Rate, England") && !html.contains("national rate"));

    let config = tmp.path().join("national.toml");
    std::fs::write(&config, "national = true\n").unwrap();
    let (tops, html) = audit(
        &tmp.path().join("national"),
        &["--config", config.to_str().unwrap()],
    );
    assert_eq!(tops, pair("ENG", "England"));
    assert!(html.contains("<th>Rate, England (95% CI)</th>"));
    assert!(html.contains("The pooled total is England"));
    // Every term the page uses is explained on it.
    for term in [
        "<dt>φ (over-dispersion)</dt>",
        "<dt>Adjusted limits</dt>",
        "<dt>ISR (indirectly standardised ratio)</dt>",
    ] {
        assert!(html.contains(term), "{term}");
    }
}
