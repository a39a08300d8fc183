//! `--focus`: a page about one locality against the whole run. The
//! focus's practices are the coloured dots over every practice in grey,
//! the limits stay those of the whole run, only the focus's units are in
//! the page's tables, and the output tables stay complete.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::workdir::{ok, run};

/// The fill of a focused (or unfocused) page's plain dots, and of the grey
/// dots of practices outside the focus.
const COLOURED: [&str; 2] = ["#1F60AA", "#C82828"];
const GREY: &str = "#AFAFAF";

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/extract")
}

fn audit(out: &Path, extra: &[&str]) -> std::process::Output {
    let sample = sample();
    let mut args = vec![
        "audit",
        sample.to_str().unwrap(),
        "--quarters",
        "2023Q4..2024Q1",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// The SVGs of the funnel plots on a page.
fn funnels(html: &str) -> Vec<&str> {
    html.split("<svg")
        .skip(1)
        .map(|s| &s[..s.find("</svg>").unwrap()])
        .filter(|s| s.contains("funnel plot"))
        .collect()
}

/// Each dot of a plot: the practice code its title names, and its fill.
fn dots(svg: &str) -> Vec<(String, String)> {
    svg.split("<circle ")
        .skip(1)
        .map(|c| {
            let fill = c.split("fill=\"").nth(1).unwrap();
            let title = c.split("<title>").nth(1).expect("a dot without a title");
            (
                title.split(' ').next().unwrap().to_string(),
                fill[..7].to_string(),
            )
        })
        .collect()
}

/// Everything a plot draws but its dots: axes, limits and the top level's
/// rate, as SVG lines.
fn lines(svg: &str) -> Vec<&str> {
    svg.lines()
        .filter(|l| l.starts_with("<polyline") || l.starts_with("<line"))
        .collect()
}

#[test]
fn a_focused_page_highlights_its_practices_over_unchanged_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, focused) = (tmp.path().join("whole"), tmp.path().join("focused"));
    ok(&audit(&whole, &[]));
    ok(&audit(&focused, &["--focus", "SPCN002"]));
    let read = |dir: &Path, f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    // The tables stay complete: only the page follows the focus.
    for f in [
        "indicators.csv",
        "changes.csv",
        "deciles.csv",
        "review_list.csv",
    ] {
        assert_eq!(read(&whole, f), read(&focused, f), "{f} changed");
    }
    let (a, b) = (read(&whole, "report.html"), read(&focused, "report.html"));
    let (fa, fb) = (funnels(&a), funnels(&b));
    assert_eq!(fa.len(), 30);
    assert_eq!(fa.len(), fb.len());
    for (x, y) in fa.iter().zip(&fb) {
        // Same limits, axes and top-level rate: the focus changes only the dots.
        assert_eq!(lines(x), lines(y));
        assert!(!lines(x).is_empty());
        let (dx, dy) = (dots(x), dots(y));
        let codes = |d: &[(String, String)]| d.iter().map(|p| p.0.clone()).collect::<BTreeSet<_>>();
        assert_eq!(codes(&dx), codes(&dy), "the same practices are drawn");
        assert!(dx.iter().all(|(_, fill)| COLOURED.contains(&fill.as_str())));
        for (code, fill) in &dy {
            // SP0005 alone is in PCN SPCN002.
            if code == "SP0005" {
                assert!(COLOURED.contains(&fill.as_str()), "{code} {fill}");
            } else {
                assert_eq!(fill, GREY, "{code} is outside the focus");
            }
        }
    }
    // The focus's headline, its units only in the page's tables, and the
    // run's other units still in the tables.
    assert!(b.contains("<h1>STOMP audit: psychotropic prescribing for people with a learning disability or autism: PCN SPCN002 Synthetic PCN 2</h1>"));
    assert!(b.contains(
        "<h2>SPCN002 Synthetic PCN 2 against all practices in this extract, 2024-03-31</h2>"
    ));
    assert!(b.contains("<th title=\"Percentile rank of its rate among every PCN of the run"));
    assert!(b.contains("<td class=\"l\">SP0005 Synthetic Practice 5</td>"));
    assert!(!b.contains("<td class=\"l\">SPCN001 Synthetic PCN 1</td>"));
    assert!(!b.contains("<td class=\"l\">SP0001 Synthetic Practice 1</td>"));
    assert!(a.contains("<td class=\"l\">SPCN001 Synthetic PCN 1</td>"));
    assert!(!a.contains("against all practices in this extract, 2024-03-31</h2>"));
    // The deciles over time carry the focus's own line.
    assert!(b.contains("SPCN002 Synthetic PCN 2\n</text>"));
}

#[test]
fn focus_codes_are_checked_and_come_from_the_config_too() {
    let tmp = tempfile::tempdir().unwrap();
    // A practice code is not a locality: refused with what to do instead,
    // and nothing is written.
    let out = tmp.path().join("practice");
    let bad = audit(&out, &["--focus", "SP0001"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("--focus SP0001: no PCN, sub-ICB, ICB or region"),
        "{err}"
    );
    assert!(err.contains("it is a practice"), "{err}");
    assert!(!out.exists());
    let bad = audit(&tmp.path().join("x"), &["--focus", "NOWHERE"]);
    assert_eq!(bad.status.code(), Some(2));
    // A partial writes no page.
    let bad = audit(&tmp.path().join("p"), &["--focus", "S01", "--partial"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("give it to merge"));
    // A quarterly job sets it in its config file; codes match in any case.
    let config = tmp.path().join("job.toml");
    std::fs::write(&config, "focus = [\"spcn002\"]\nreview_packs = true\n").unwrap();
    let out = tmp.path().join("job");
    ok(&audit(&out, &["--config", config.to_str().unwrap()]));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("This page is about PCN SPCN002 Synthetic PCN 2"));
    assert!(out.join("review_packs/index.html").exists());
    // merge takes it as audit does.
    let part = tmp.path().join("part");
    ok(&run(&[
        "audit",
        sample().to_str().unwrap(),
        "--quarters",
        "2023Q4..2024Q1",
        "--out",
        part.to_str().unwrap(),
        "--partial",
        "-q",
    ]));
    let merged = tmp.path().join("merged");
    ok(&run(&[
        "merge",
        part.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
        "--focus",
        "SPCN002",
        "-q",
    ]));
    assert_eq!(
        std::fs::read_to_string(merged.join("report.html")).unwrap(),
        html,
        "merge's focused page is audit's"
    );
}

/// `measures --focus` on a generated month over 42 ICBs: the focus's
/// practices alone in the measure tables and coloured in the plots.
#[test]
fn measures_pages_focus_on_an_icb() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("epd");
    ok(&run(&[
        "synth-epd",
        "--practices",
        "126",
        "--rows-per-practice",
        "24",
        "--psychotropic-share",
        "1",
        "--out",
        data.to_str().unwrap(),
    ]));
    let measures = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            "measures",
            "--epd",
            "EPD",
            "--list-sizes",
            "LISTS",
            "--practices",
            "PRACTICES",
            "--out",
            out.to_str().unwrap(),
            "-q",
        ];
        args.extend_from_slice(extra);
        let files = [
            data.join("epd_202403.csv"),
            data.join("list_sizes_202403.csv"),
            data.join("practices.csv"),
        ];
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let args: Vec<&str> = args
            .into_iter()
            .map(|a| match a {
                "EPD" => files[0].as_str(),
                "LISTS" => files[1].as_str(),
                "PRACTICES" => files[2].as_str(),
                other => other,
            })
            .collect();
        ok(&run(&args));
    };
    let (whole, focused) = (tmp.path().join("whole"), tmp.path().join("focused"));
    measures(&whole, &[]);
    measures(&focused, &["--focus", "QI001"]);
    let read = |dir: &Path, f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    assert_eq!(read(&whole, "measures.csv"), read(&focused, "measures.csv"));
    // 126 practices in 42 ICBs: three each, P00001-P00003 in QI001.
    let mine: BTreeSet<String> = ["P00001", "P00002", "P00003"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let page = read(&focused, "report.html");
    assert!(page.contains("<h2>QI001 Synthetic ICB 1 against all practices in this extract"));
    let plots = funnels(&page);
    assert_eq!(plots.len(), 7);
    for (svg, whole_svg) in plots.iter().zip(funnels(&read(&whole, "report.html"))) {
        assert_eq!(lines(svg), lines(whole_svg));
        for (code, fill) in dots(svg) {
            assert_eq!(fill == GREY, !mine.contains(&code), "{code} {fill}");
        }
    }
    // The practice tables of the measures list the focus's practices only.
    let listed: BTreeSet<String> = page
        .split("<td class=\"l\">P")
        .skip(1)
        .map(|s| format!("P{}", &s[..5]))
        .collect();
    assert_eq!(listed, mine);
}
