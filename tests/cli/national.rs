//! Pages at England's scale, 6,500 practices: a few MB, outliers first in
//! the tables, every dot named, the inline script sorting and finding in
//! Chromium, and the load measured (printed, never asserted: wall time
//! is the benchmark's business; the page's size and element count, which
//! set it, are pinned).

use std::path::Path;
use std::time::Instant;

use super::report::{chromium, headless};
use super::workdir::{ok, run};

/// England's practices.
const PRACTICES: &str = "6500";

/// The most a national page may weigh.
const MAX_BYTES: usize = 3_000_000;

/// The most elements a national page may hold (the browser's work).
const MAX_ELEMENTS: usize = 60_000;

/// A generated national EPD month through `measures --national`.
fn national_measures(dir: &Path) -> String {
    let data = dir.join("epd");
    ok(&run(&[
        "synth-epd",
        "--practices",
        PRACTICES,
        "--rows-per-practice",
        "24",
        "--psychotropic-share",
        "1",
        "--out",
        data.to_str().unwrap(),
    ]));
    let out = dir.join("measures");
    let file = |f: &str| data.join(f).display().to_string();
    let (epd, lists, practices) = (
        file("epd_202403.csv"),
        file("list_sizes_202403.csv"),
        file("practices.csv"),
    );
    ok(&run(&[
        "measures",
        "--epd",
        &epd,
        "--list-sizes",
        &lists,
        "--practices",
        &practices,
        "--national",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    std::fs::read_to_string(out.join("report.html")).unwrap()
}

/// The cells of each body row of the table with this id.
fn table_rows(html: &str, id: &str) -> Vec<Vec<String>> {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let table = &html[at..at + html[at..].find("</table>").unwrap()];
    table
        .split("<tr")
        .skip(2)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|c| {
                    let c = &c[c.find('>').unwrap() + 1..];
                    c[..c.find("</td>").unwrap()].to_string()
                })
                .collect()
        })
        .collect()
}

/// A headline row's whole-number cells, by measure id.
fn headline(html: &str, id: &str) -> Vec<u64> {
    let at = html.find(&format!("<a href=\"#{id}\">{id}</a>")).unwrap();
    let row = &html[at..at + html[at..].find("</tr>").unwrap()];
    row.split("<td>")
        .skip(1)
        .filter_map(|c| c[..c.find('<').unwrap()].parse().ok())
        .collect()
}

fn assert_every_dot_named(html: &str) {
    for svg in html.split("<svg").skip(1) {
        let svg = &svg[..svg.find("</svg>").unwrap()];
        assert_eq!(
            svg.matches("<circle").count(),
            svg.matches("</title></circle>").count(),
            "a dot without its practice"
        );
    }
}

#[test]
fn a_national_measures_page_stays_small_and_lists_outliers_first() {
    let tmp = tempfile::tempdir().unwrap();
    let html = national_measures(tmp.path());
    eprintln!("national measures page: {} bytes", html.len());
    assert!(html.len() < MAX_BYTES, "{} bytes", html.len());
    assert_every_dot_named(&html);
    // Every practice can be found on the page, by code or name.
    assert_eq!(html.matches("[\"P0").count(), 6500);
    for id in [
        "EPD01", "EPD02", "EPD03", "EPD04", "EPD05", "EPD06", "EPD07",
    ] {
        // The headline's counts: practices, above, below, above adjusted,
        // below adjusted (values and φ have decimals).
        let h = headline(&html, id);
        assert_eq!(h[0], 6500);
        let (plain, adjusted) = (h[1] + h[2], h[3] + h[4]);
        let rows = table_rows(&html, &format!("practices-{id}"));
        let rank = |r: &Vec<String>| match r[1].as_str() {
            w if w.ends_with("adjusted too") => 0,
            "above" | "below" => 1,
            _ => 2,
        };
        // Outliers only, adjusted first, then those beyond the plain limits
        // (unless nearly every practice is: an over-dispersed measure).
        let expected = if plain > 200 { adjusted } else { plain };
        assert_eq!(rows.len() as u64, expected, "{id}");
        assert!(rows.windows(2).all(|w| rank(&w[0]) <= rank(&w[1])), "{id}");
        assert!(rows.iter().all(|r| rank(r) < 2), "{id}");
        assert!(html.contains(&format!(
            "The {} others are not listed here",
            6500 - expected
        )));
    }
    let Some(browser) = chromium() else {
        assert!(std::env::var_os("CI").is_none(), "CI must install chromium");
        return;
    };
    // The page's own script, driven as a reader would: find a practice,
    // then sort a table by its percentile column.
    let driven = tmp.path().join("measures/driven.html");
    let drive = "<script>window.addEventListener('load',function(){\
        var t=performance.timing;document.body.setAttribute('data-load-ms',Date.now()-t.navigationStart);\
        var q=document.getElementById('find-practice');q.value='practice 4242';q.dispatchEvent(new Event('input'));\
        document.getElementById('practices-EPD01').rows[0].cells[5].click();});</script></body>";
    std::fs::write(&driven, html.replace("</body>", drive)).unwrap();
    let started = Instant::now();
    let dom = headless(&browser, &tmp.path().join("profile"))
        .arg("--dump-dom")
        .arg(format!("file://{}", driven.display()))
        .output()
        .unwrap();
    let load = started.elapsed();
    let dom = String::from_utf8_lossy(&dom.stdout);
    let elements = dom.matches('<').count() - dom.matches("</").count();
    let page_ms = dom
        .split("data-load-ms=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or("?");
    eprintln!(
        "national measures page in Chromium: {elements} elements, loaded in {page_ms} ms (navigation to the load event); \
         {:.2} s with the browser's start and the dump",
        load.as_secs_f64()
    );
    assert!(elements < MAX_ELEMENTS, "{elements} elements");
    let found = table_rows(&dom, "found-practices");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0][0], "P04242 Synthetic Practice 4242");
    assert_eq!(found[0].len(), 8);
    let percentiles: Vec<f64> = table_rows(&dom, "practices-EPD01")
        .iter()
        .map(|r| r[5].parse().unwrap())
        .collect();
    assert!(percentiles.len() > 10);
    assert!(
        percentiles.windows(2).all(|w| w[0] <= w[1]),
        "not sorted: {percentiles:?}"
    );
}

#[test]
fn a_national_audit_page_stays_small() {
    let tmp = tempfile::tempdir().unwrap();
    let extract = tmp.path().join("extract");
    ok(&run(&[
        "synth",
        "--patients",
        "130000",
        "--practices",
        PRACTICES,
        "--ld-prevalence",
        "0.06",
        "--out",
        extract.to_str().unwrap(),
    ]));
    let out = tmp.path().join("out");
    ok(&run(&[
        "audit",
        extract.to_str().unwrap(),
        "--index-date",
        "2024-03-31",
        "--national",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    eprintln!("national audit page: {} bytes", html.len());
    assert!(html.len() < MAX_BYTES, "{} bytes", html.len());
    assert_every_dot_named(&html);
    // The PCN table lists the PCNs beyond the limits only; indicators.csv
    // has them all.
    let pcns = table_rows(&html, "units-pcn");
    assert!(!pcns.is_empty());
    let listed = html
        .split("id=\"units-pcn\"")
        .nth(1)
        .unwrap()
        .split("</table>")
        .next()
        .unwrap();
    let flagged_rows = listed
        .split("<tr")
        .skip(2)
        .filter(|r| r.contains("<td class=\"high\"") || r.contains("<td class=\"low\""))
        .count();
    assert_eq!(flagged_rows, pcns.len(), "an unflagged PCN listed");
    let csv = std::fs::read_to_string(out.join("indicators.csv")).unwrap();
    let all_pcns: std::collections::BTreeSet<&str> = csv
        .lines()
        .filter(|l| l.contains(",pcn,"))
        .filter_map(|l| l.split(",pcn,").nth(1)?.split(',').next())
        .collect();
    assert_eq!(all_pcns.len(), 1625);
    assert!(html.contains(&format!(
        "The {} others are not listed here",
        all_pcns.len() - pcns.len()
    )));
}
