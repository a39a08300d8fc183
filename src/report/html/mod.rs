//! `report.html`: one self-contained page (inline SVG and CSS, no network)
//! a commissioner can read without help: the headline table, significant
//! changes, a funnel plot, caterpillar plot and decile chart per indicator,
//! the locality tables, and the definitions used.

mod charts;
pub mod measures;

use crate::aggregate::statistics::P998;
use std::fmt::Write;

use crate::aggregate::statistics::Model;
use crate::aggregate::{Flag, IndicatorRow};
use crate::ingest::locality::Level;
use crate::pipeline::audit::AuditRun;
use crate::pipeline::quality::{DataQuality, Status};
use crate::spec::{AuditSpec, Fact, Term};

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

fn terms(spec: &AuditSpec, ts: &[Term]) -> String {
    if ts.is_empty() {
        return "registered and alive at T".into();
    }
    ts.iter()
        .map(|t| {
            format!(
                "{}{}",
                if t.negated { "no " } else { "" },
                spec.compiled.fact_names[t.fact]
            )
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

/// A fact in words, with its window.
fn describe_fact(spec: &AuditSpec, i: usize) -> String {
    let c = &spec.compiled;
    let label = |bit: &u8| c.concepts[*bit as usize].label.clone();
    let list = |ts: &[Term]| {
        ts.iter()
            .map(|t| {
                format!(
                    "{}{}",
                    if t.negated { "not " } else { "" },
                    c.fact_names[t.fact]
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match &c.facts[i] {
        Fact::Recorded { concept, months: None } => format!("{} recorded on or before T", label(concept)),
        Fact::Recorded { concept, months: Some(m) } => format!("{} recorded in the {m} months to T", label(concept)),
        Fact::Issued { concept, exclude, months, offset_months, min_issues } => {
            let window = if *offset_months == 0 {
                format!("the {months} months to T")
            } else {
                format!("months {} to {offset_months} before T", months + offset_months)
            };
            let except = exclude.map(|x| format!(" (other than {})", label(&x))).unwrap_or_default();
            format!("{}{except} issued at least {min_issues} time(s) in {window}", label(concept))
        }
        Fact::Ingredients { concept, months, depot_months, at_least } => format!(
            "{at_least} or more different {} drugs (active ingredients; oral and depot forms of one drug are one drug), each held: issued in the {months} months to T and in the {months} months before that ({depot_months} and {depot_months} months for depot injections)",
            label(concept)
        ),
        Fact::Started { concept, months, washout_months, settle_days } => format!(
            "first {} issue in the {months} months to T, at least {settle_days} days before T, with none in the {washout_months} months before it, by a patient registered for all of those {washout_months} months",
            label(concept)
        ),
        Fact::RecordedAfterStart { concept, start, from_days, to_days } => format!(
            "{} recorded {from_days} to {to_days} days after the start of {}",
            label(concept),
            c.fact_names[*start]
        ),
        Fact::Any(ts) => format!("any of: {}", list(ts)),
        Fact::All(ts) => format!("all of: {}", list(ts)),
        Fact::Count(ts, k) => format!("at least {k} of: {}", list(ts)),
    }
}

/// `docs/indicators.md`, carried in every report so a reader has the
/// definitions without the source.
const INDICATOR_DEFINITIONS: &str = include_str!("../../../docs/indicators.md");

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

/// The rate at every index date of each indicator, for England (or the
/// extract's whole), each ICB and each sub-ICB: the trend a quarterly job
/// follows, beside the change since the baseline.
fn trend_section(w: &mut String, run: &AuditRun, spec: &AuditSpec, top: &str) {
    let mut cells: std::collections::HashMap<
        (Level, &str, &str, crate::date::Date),
        &IndicatorRow,
    > = std::collections::HashMap::new();
    for r in &run.rows {
        cells.insert(
            (
                r.level,
                r.unit_code.as_str(),
                r.indicator_id.as_str(),
                r.index_date,
            ),
            r,
        );
    }
    let _ = write!(
        w,
        "<h2>Trend by index date</h2><p class=\"note\">Rate (numerator/denominator) at each index date. Index dates are the days the audit looks back from; \
         a quarter end is the same day in calendar quarters and in NHS financial-year quarters (31 March 2024 ends 2024Q1 and 2023/24 Q4).</p>"
    );
    for level in [Level::National, Level::Icb, Level::SubIcb] {
        let mut units: Vec<(&str, &str)> = run
            .rows
            .iter()
            .filter(|r| r.level == level)
            .map(|r| (r.unit_code.as_str(), r.unit_name.as_str()))
            .collect();
        units.sort();
        units.dedup();
        let heading = match level {
            Level::National => top.to_string(),
            other => other.heading(),
        };
        let _ = write!(
            w,
            "<h3>{heading}</h3><div class=\"scroll\"><table><tr><th class=\"l\">Unit</th><th class=\"l\">Indicator</th>"
        );
        for d in &run.dates {
            let _ = write!(w, "<th>{d}</th>");
        }
        w.push_str("</tr>");
        for (code, name) in &units {
            for ind in &spec.compiled.indicators {
                let _ = write!(
                    w,
                    "<tr><td class=\"l\">{} {}</td><td class=\"l\" title=\"{}\">{}</td>",
                    esc(code),
                    esc(name),
                    esc(&ind.title),
                    esc(&ind.id)
                );
                for d in &run.dates {
                    match cells.get(&(level, *code, ind.id.as_str(), *d)) {
                        Some(r) => {
                            let _ = write!(w, "<td>{}</td>", rate_with_counts(r));
                        }
                        None => w.push_str("<td>–</td>"),
                    }
                }
                w.push_str("</tr>");
            }
        }
        w.push_str("</table></div>");
    }
}

/// What the reader should know of the data: warnings, and each table's
/// rejected rows by reason with their shares.
fn data_quality_section(w: &mut String, q: &DataQuality) {
    let _ = write!(
        w,
        "<h2>Data quality</h2><p>Status: <b>{}</b>.</p>",
        if q.status == Status::Ok {
            "ok"
        } else {
            "warnings"
        }
    );
    if !q.warnings.is_empty() {
        w.push_str("<ul>");
        for warning in &q.warnings {
            let _ = write!(w, "<li>{}</li>", esc(warning));
        }
        w.push_str("</ul>");
    }
    w.push_str("<table><tr><th class=\"l\">Table</th><th>Rows read</th><th>Rejected</th><th>Share</th><th class=\"l\">By reason</th></tr>");
    for t in &q.tables {
        let reasons: Vec<String> = t
            .rejected_by_reason
            .iter()
            .map(|(r, (n, share))| format!("{r}: {n} ({:.2}%)", share * 100.0))
            .collect();
        let _ = write!(
            w,
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{:.2}%</td><td class=\"l\">{}</td></tr>",
            esc(&t.table),
            t.rows_read,
            t.rows_rejected,
            t.rejected_share * 100.0,
            esc(&reasons.join("; "))
        );
    }
    w.push_str("</table>");
}

/// A published count, or the marker of one that disclosure control withholds.
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

/// A unit's rate with its published numerator and denominator: "12.5% (1/8)".
fn rate_with_counts(r: &IndicatorRow) -> String {
    format!(
        "{} ({}/{})",
        pct(r.stats.rate),
        published(r.numerator),
        published(r.denominator)
    )
}

fn published(n: Option<u64>) -> String {
    n.map_or_else(|| "[suppressed]".to_string(), |v| v.to_string())
}

/// The header's sentence on disclosure control, with how many units of
/// the latest date have a suppressed count.
fn disclosure_note(run: &AuditRun, last: crate::date::Date) -> String {
    if !run.aggregate.disclosure_control {
        return String::new();
    }
    let latest = run.rows.iter().filter(|r| r.index_date == last);
    let (suppressed, all) =
        latest.fold((0, 0), |(s, a), r| (s + usize::from(r.suppressed()), a + 1));
    format!(
        " <b>Disclosure control applied</b>: counts of 1 to 7 are suppressed (shown as [suppressed]) and the rest rounded to the nearest 5; \
         rates come from the rounded counts. A unit with a suppressed count has no rate, interval or flag, and is left out of the funnels, ranks, \
         deciles, over-dispersion and changes: {suppressed} of {all} unit-indicator rows at {last}. Expected counts and standardised ratios \
         are not published (they rest on age-sex cells below the threshold)."
    )
}

/// A practice row as a chart point.
fn point(r: &IndicatorRow) -> charts::Point<'_> {
    charts::Point {
        n: r.denominator.unwrap_or(0) as f64,
        rate: r.stats.rate,
        ci: r.stats.ci_low.zip(r.stats.ci_high),
        outlier: matches!(r.stats.flag[P998], Some(Flag::High | Flag::Low)),
        code: &r.unit_code,
    }
}

/// Renders the report.
pub fn render(run: &AuditRun, spec: &AuditSpec, quality: &DataQuality) -> Result<String, String> {
    let last = *run.dates.last().ok_or("no index date")?;
    let top = top_words(run.rows.iter().map(|r| (r.level, r.unit_name.as_str())));
    let mut h = String::new();
    let w = &mut h;
    let _ = write!(
        w,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>STOMP audit report {last}</title><style>{CSS}</style></head><body>"
    );
    let _ = write!(
        w,
        "<h1>STOMP audit: psychotropic prescribing for people with a learning disability or autism</h1>\
         <p>Index date{} {}; data to {}. Spec: {} {} ({}). Engine: {} {}.{}</p>\
         <p class=\"note\">Aggregate report: it holds no patient-level data. Rates use Wilson 95% intervals; funnel limits are exact binomial around the rate for {top}; \
         adjusted limits allow for over-dispersion between practices (DerSimonian–Laird τ² on the arcsine scale, Spiegelhalter 2005).</p>",
        if run.dates.len() > 1 { "s" } else { "" },
        run.dates.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "),
        run.data_to().map(|d| d.to_string()).unwrap_or_else(|| "–".into()),
        esc(&spec.name),
        esc(&spec.version),
        esc(&spec.origin),
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
        disclosure_note(run, last)
    );

    let latest: Vec<&IndicatorRow> = run.rows.iter().filter(|r| r.index_date == last).collect();
    let of = |id: &str, level: Level| -> Vec<&IndicatorRow> {
        latest
            .iter()
            .copied()
            .filter(|r| r.indicator_id == id && r.level == level)
            .collect()
    };

    // Headline table.
    let _ = write!(
        w,
        "<h2>Headline, {last}</h2><table><tr><th class=\"l\">Indicator</th><th>Numerator</th><th>Denominator</th><th>Rate, {top} (95% CI)</th>\
         <th>Practices</th><th>Above 99.8%</th><th>Below 99.8%</th><th>Above adjusted 99.8%</th><th>φ</th></tr>"
    );
    for ind in &spec.compiled.indicators {
        let Some(nat) = of(&ind.id, Level::National).into_iter().next() else {
            continue;
        };
        let practices = of(&ind.id, Level::Practice);
        let count = |f: &dyn Fn(&IndicatorRow) -> bool| practices.iter().filter(|r| f(r)).count();
        let _ = write!(
            w,
            "<tr><td class=\"l\"><a href=\"#{id}\">{id}</a> {title}</td><td>{}</td><td>{}</td><td>{} ({}–{})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            published(nat.numerator),
            published(nat.denominator),
            pct(nat.stats.rate),
            pct(nat.stats.ci_low),
            pct(nat.stats.ci_high),
            count(&|r| r.denominator.is_some_and(|d| d > 0)),
            count(&|r| r.stats.flag[P998] == Some(Flag::High)),
            count(&|r| r.stats.flag[P998] == Some(Flag::Low)),
            count(&|r| r.stats.flag_adjusted[P998] == Some(Flag::High)),
            practices.first().and_then(|r| r.stats.phi).map(|p| format!("{p:.2}")).unwrap_or_else(|| "–".into()),
            id = esc(&ind.id),
            title = esc(&ind.title),
        );
    }
    w.push_str("</table><p class=\"note\"><a href=\"#how-to-read\">How to read this report</a>: what φ, the adjusted limits and the ISR mean.</p>");
    data_quality_section(w, quality);

    // Significant changes, listed first.
    if run.dates.len() > 1 {
        let (changes, significant) =
            significant_first(&run.changes, |c| Some((c.significant_fdr, c.difference?.0)));
        let tested = run.changes.iter().filter(|c| c.p_value.is_some()).count();
        let _ = write!(
            w,
            "<h2>Change since {}</h2><p>{significant} unit-indicator pairs changed significantly between {} and {}, of {tested} tested at once: \
             with that many tests, about one in twenty would pass a 95% test by chance alone, so a change is called significant here only when its \
             Benjamini–Hochberg q-value is below 0.05 (a false discovery rate of 5%). They are listed first, then the largest other changes; \
             the interval is Newcombe's 95% interval of the difference (<code>changes.csv</code> has both the 95% and the FDR verdicts).</p>\
             <div class=\"scroll\"><table><tr><th class=\"l\">Indicator</th><th class=\"l\">Level</th><th class=\"l\">Unit</th><th>Baseline</th><th>Now</th><th>Difference (95% CI)</th><th>Significant (FDR 5%)</th></tr>",
            run.dates[0], run.dates[0], last
        );
        for c in changes.iter().take(significant.max(10) + 10) {
            let rate = |c: Option<(u64, u64)>| {
                pct(c.and_then(|(n, d)| (d > 0).then(|| n as f64 / d as f64)))
            };
            let count = |c: Option<(u64, u64)>, k: usize| {
                published(c.map(|c| if k == 0 { c.0 } else { c.1 }))
            };
            let (diff, lo, hi) = c.difference.unwrap_or_default();
            let _ = write!(
                w,
                "<tr class=\"{}\"><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{} {}</td><td>{} ({}/{})</td><td>{} ({}/{})</td><td>{:+.1} ({:+.1} to {:+.1}) pts</td><td>{}</td></tr>",
                if c.significant_fdr { if diff > 0.0 { "high" } else { "low" } } else { "" },
                esc(&c.indicator_id), c.level, esc(&c.unit_code), esc(&c.unit_name),
                rate(c.baseline), count(c.baseline, 0), count(c.baseline, 1), rate(c.current), count(c.current, 0), count(c.current, 1),
                diff * 100.0, lo * 100.0, hi * 100.0, if c.significant_fdr { "yes" } else { "no" }
            );
        }
        w.push_str("</table></div>");
        trend_section(w, run, spec, &top);
    }

    // Charts per indicator.
    let _ = write!(w, "<h2>Practices compared</h2><p class=\"note\">Funnel plots: each dot a practice; solid lines the 95% (grey) and 99.8% (red) limits around the rate for {top}; \
                dashed the 99.8% limits adjusted for over-dispersion. Practices outside 99.8% are labelled. Caterpillar plots rank practices with their 95% intervals.</p>");
    for ind in &spec.compiled.indicators {
        let practices = of(&ind.id, Level::Practice);
        let Some(target) = of(&ind.id, Level::National)
            .first()
            .and_then(|r| r.stats.rate)
        else {
            continue;
        };
        let _ = write!(
            w,
            "<h3 id=\"{0}\">{0}: {1}</h3><div class=\"charts\">",
            esc(&ind.id),
            esc(&ind.title)
        );
        let tau2 = practices.first().and_then(|r| r.stats.tau2);
        let scale = charts::Scale {
            y_format: &charts::percent,
            x_desc: "Denominator (patients)",
            model: Model::Binomial,
            top: &top,
        };
        let points: Vec<charts::Point> = practices.iter().map(|r| point(r)).collect();
        let trend = charts::Trend {
            labels: run.dates.iter().map(|d| d.to_string()).collect(),
            deciles: run
                .deciles
                .iter()
                .filter(|d| d.indicator_id == ind.id)
                .map(|d| d.deciles)
                .collect(),
            national: run
                .dates
                .iter()
                .map(|d| {
                    run.rows
                        .iter()
                        .find(|r| {
                            r.index_date == *d
                                && r.indicator_id == ind.id
                                && r.level == Level::National
                        })
                        .and_then(|r| r.stats.rate)
                        .unwrap_or(0.0)
                })
                .collect(),
        };
        w.push_str(&charts::panel(
            &ind.id,
            &last.to_string(),
            &points,
            target,
            tau2,
            &scale,
            Some(&trend),
        )?);
        w.push_str("</div>");
    }

    // Locality tables, each cell looked up in one index of the latest rows.
    let mut cells = std::collections::HashMap::new();
    for r in &latest {
        cells
            .entry((r.level, r.unit_code.as_str(), r.indicator_id.as_str()))
            .or_insert(*r);
    }
    w.push_str("<h2>Localities</h2><p class=\"note\">Rate (numerator/denominator) at the latest index date; red above, blue below the 99.8% limits.</p>");
    for level in Level::LOCALITIES {
        let mut units: Vec<(&str, &str)> = latest
            .iter()
            .filter(|r| r.level == level)
            .map(|r| (r.unit_code.as_str(), r.unit_name.as_str()))
            .collect();
        units.sort();
        units.dedup();
        let _ = write!(
            w,
            "<h3>{}</h3><div class=\"scroll\"><table><tr><th class=\"l\">Unit</th>",
            level.heading()
        );
        for ind in &spec.compiled.indicators {
            let _ = write!(w, "<th title=\"{}\">{}</th>", esc(&ind.title), esc(&ind.id));
        }
        w.push_str("</tr>");
        for (code, name) in units {
            let _ = write!(w, "<tr><td class=\"l\">{} {}</td>", esc(code), esc(name));
            for ind in &spec.compiled.indicators {
                match cells.get(&(level, code, ind.id.as_str())) {
                    Some(r) => {
                        let class = match r.stats.flag[P998] {
                            Some(Flag::High) => " class=\"high\"",
                            Some(Flag::Low) => " class=\"low\"",
                            _ => "",
                        };
                        let _ = write!(w, "<td{class}>{}</td>", rate_with_counts(r));
                    }
                    None => w.push_str("<td>–</td>"),
                }
            }
            w.push_str("</tr>");
        }
        w.push_str("</table></div>");
    }

    glossary(w, &top, false);

    // Definitions.
    w.push_str("<h2>Definitions</h2><p>A date d is in the N-month window ending at T when T − N months &lt; d ≤ T; a code is recorded by T when dated on or before T. \
                Registered at T: a registration spanning T (the latest start wins); alive at T: no date of death on or before T. \
                Only people on the LD or autism registers are evaluated; the registered population is the denominator of STOMP01.</p>\
                Each indicator's numerator, denominator, codelists with their versions, windows, exclusions, the standard it follows and its known \
                limitations are set out in <a href=\"#indicator-definitions\">docs/indicators.md</a>, reproduced at the end of this page.</p>\
                <table><tr><th class=\"l\">Indicator</th><th class=\"l\">Denominator</th><th class=\"l\">Numerator (also)</th><th class=\"l\">Standard</th></tr>");
    for ind in &spec.compiled.indicators {
        let _ = write!(
            w,
            "<tr><td class=\"l\">{} {}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
            esc(&ind.id),
            esc(&ind.title),
            esc(&terms(spec, &ind.denominator)),
            esc(&terms(spec, &ind.numerator)),
            esc(ind.standard.as_deref().unwrap_or(""))
        );
    }
    w.push_str("</table><h3>Facts and their windows</h3><table><tr><th class=\"l\">Fact</th><th class=\"l\">Definition at index date T</th></tr>");
    for (i, name) in spec.compiled.fact_names.iter().enumerate() {
        let _ = write!(
            w,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
            esc(name),
            esc(&describe_fact(spec, i))
        );
    }
    w.push_str("</table><h3>Codelists</h3><table><tr><th class=\"l\">Name</th><th class=\"l\">Version</th><th>Codes</th><th class=\"l\">SHA-256</th></tr>");
    for c in spec.codelists.values() {
        let _ = write!(
            w,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td class=\"l\"><code>{}</code></td></tr>",
            esc(&c.name),
            esc(&c.version),
            c.entries.len(),
            &c.sha256[..16]
        );
    }
    let _ = write!(
        w,
        "</table><details id=\"indicator-definitions\"><summary>docs/indicators.md: the definitions of the default spec, with their standards and limitations</summary><pre class=\"doc\">{}</pre></details>",
        esc(INDICATOR_DEFINITIONS)
    );
    w.push_str("</body></html>\n");
    Ok(h)
}
