//! `report.html`: one self-contained page (inline SVG and CSS, no network)
//! a commissioner can read without help. The audit's page and the EPD
//! measures' page share the style, the charts and the words here.

mod audit;
mod charts;
mod definitions;
pub mod measures;
pub mod review_pack;

use std::fmt::Write;

use crate::ingest::locality::Level;

pub(crate) use audit::render;

/// File name.
pub const FILE: &str = "report.html";

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1280px;color:#222;padding:0 1em}\
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:2px solid #1f60aa;padding-bottom:.2em}h3{margin-top:1.6em}\
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right}\
th{background:#eef3fa}td.l,th.l{text-align:left}.high{background:#fbe3e3}.low{background:#e3eefb}\
.charts{display:flex;flex-wrap:wrap;gap:1em}.charts svg{border:1px solid #ddd}.note{color:#555;font-size:.9em}\
.scroll{overflow-x:auto}dl.terms dt{font-weight:600;margin-top:.5em}dl.terms dd{margin-left:1.5em}pre.doc{white-space:pre-wrap;font-size:.85em;background:#f7f7f7;padding:1em}";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "–".into())
}

/// The changes with a difference, significant ones first, then by the
/// size of the difference; and how many are significant. `key` gives
/// (significant, difference), `None` when there is no difference.
fn significant_first<T>(
    changes: &[T],
    key: impl Fn(&T) -> Option<(bool, f64)>,
) -> (Vec<&T>, usize) {
    let mut out: Vec<(&T, (bool, f64))> =
        changes.iter().filter_map(|c| Some((c, key(c)?))).collect();
    out.sort_by(|(_, a), (_, b)| {
        b.0.cmp(&a.0).then(
            b.1.abs()
                .partial_cmp(&a.1.abs())
                .unwrap_or(std::cmp::Ordering::Equal),
        )
    });
    let significant = out.iter().filter(|(_, k)| k.0).count();
    (out.into_iter().map(|(c, _)| c).collect(), significant)
}

/// How the page names the top level, from its unit name: "England" for a
/// national run, else "all practices in this extract" (a PCN's extract is
/// not England, and its rate is not a national rate).
fn top_words<'a>(mut names: impl Iterator<Item = (Level, &'a str)>) -> String {
    match names.find(|(level, _)| *level == Level::National) {
        Some((_, "England")) => "England".to_string(),
        Some((_, name)) => {
            let mut c = name.chars();
            c.next()
                .map(|f| f.to_lowercase().chain(c).collect())
                .unwrap_or_default()
        }
        None => "all practices in this extract".to_string(),
    }
}

/// "How to read this report": one sentence for each term the tables and
/// charts use, so a reader need not look up φ or an ISR. The public-data
/// measures (`measures`) have rates per population and no ISR or
/// suppression.
fn glossary(w: &mut String, top: &str, measures: bool) {
    let _ = write!(
        w,
        "<h2 id=\"how-to-read\">How to read this report</h2><dl class=\"terms\">\
         <dt>Top level</dt><dd>The pooled total is {top}: a run calls it England only when its data cover every practice in England \
         (<code>--national</code>); every comparison below is against its rate.</dd>\
         <dt>95% interval</dt><dd>{}</dd>\
         <dt>Funnel limits and flags</dt><dd>The limits show how far a practice of that size could stray from the rate for {top} by chance alone; \
         a practice is flagged above (or below) 99.8% only when a count as high (or as low) as its own would happen less than once in a thousand times \
         at that rate (an exact test).</dd>\
         <dt>φ (over-dispersion)</dt><dd>The spread of the practices' rates around the rate for {top}, compared with the spread chance alone gives: \
         φ = 1 is what chance gives, and φ = 3 means three times the variance, so some of the difference between practices is real.</dd>\
         <dt>Adjusted limits</dt><dd>Limits widened by the real between-practice variation (τ²) that φ detects: a practice beyond them is unusual \
         even allowing that practices differ, so it is the first to look at.</dd>",
        if measures {
            "A rate per population has an exact (Garwood) Poisson 95% interval; a share of prescribing a Wilson score interval."
        } else {
            "A rate's 95% interval is the Wilson score interval, which stays within 0–100% even for small practices."
        }
    );
    if !measures {
        let _ = write!(
            w,
            "<dt>ISR (indirectly standardised ratio)</dt><dd>In <code>indicators.csv</code>: a unit's numerator over the number expected if each of its \
             age band × sex groups had that group's rate in {top}; 1.2 means 20% more than the make-up of its patients predicts.</dd>\
             <dt>Suppressed</dt><dd>Under disclosure control a count of 1 to 7 is withheld ([suppressed]) and the rest rounded to the nearest 5; \
             a suppressed unit has no rate, interval or flag, and is left out of funnels, deciles and changes.</dd>"
        );
    }
    w.push_str("</dl>");
}

/// A published count, or the marker of one that disclosure control withholds.
fn published(n: Option<u64>) -> String {
    n.map_or_else(|| "[suppressed]".to_string(), |v| v.to_string())
}
