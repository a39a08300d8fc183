//! The audit's `report.html`: the headline table, significant changes and
//! trends, a funnel plot, caterpillar plot and decile chart per indicator,
//! the locality tables, and the definitions used.

use std::collections::HashMap;
use std::fmt::Write;

use super::charts;
use super::definitions::definitions;
use super::{
    esc, flag_class, glossary, long_table, pct, published, significant_first, top_words, CSS,
};
use crate::aggregate::statistics::{Model, P998};
use crate::aggregate::{Flag, IndicatorRow};
use crate::audit::dose::IMPLAUSIBLE_PERCENT;
use crate::date::Date;
use crate::ingest::locality::Level;
use crate::pipeline::audit::AuditRun;
use crate::pipeline::quality::{DataQuality, Status};
use crate::report::focus::{shown, Focus};
use crate::spec::AuditSpec;
use crate::stats::disclosure::round_count;

/// Renders the report: the header, the headline, data quality, changes
/// and trends (over several index dates), the practices compared, the
/// locality tables, how to read it and the definitions, in that order.
///
/// With a focus, the page is about the focused localities: their
/// headline first, their practices highlighted in the plots over every
/// practice of the run (limits and deciles stay the run's), and only
/// their units in the changes, trends and tables.
pub(crate) fn render(
    run: &AuditRun,
    spec: &AuditSpec,
    quality: &DataQuality,
    focus: Option<&Focus>,
) -> Result<String, String> {
    let last = *run.dates.last().ok_or("no index date")?;
    let top = top_words(run.rows.iter().map(|r| (r.level, &*r.unit_name)));
    let latest = Latest {
        rows: run.rows.iter().filter(|r| r.index_date == last).collect(),
    };
    let cells = Cells::new(&run.rows, |r| {
        (r.level, &*r.unit_code, &*r.indicator_id, r.index_date)
    });
    let mut h = String::new();
    let w = &mut h;
    header(w, run, spec, last, &top, focus);
    if let Some(f) = focus {
        focus_headline(w, spec, &latest, last, &top, f);
    }
    headline(w, spec, &latest, last, &top);
    data_quality_section(w, quality);
    doses_known(w, run, spec);
    if run.dates.len() > 1 {
        change_section(w, run, last, focus);
        trend_section(w, run, spec, &cells, &top, focus);
    }
    practices_compared(w, run, spec, &latest, &cells, &top, focus)?;
    locality_tables(w, spec, &latest, focus);
    glossary(w, &top, false);
    definitions(w, spec);
    w.push_str(super::TABLE_SCRIPT);
    w.push_str("</body></html>\n");
    Ok(h)
}

/// Each focused locality against the top level at the latest date: its
/// rate, its practices beyond the limits, and its place among its peers.
fn focus_headline(
    w: &mut String,
    spec: &AuditSpec,
    latest: &Latest,
    last: Date,
    top: &str,
    focus: &Focus,
) {
    for (level, code, name) in &focus.units {
        let _ = write!(
            w,
            "<h2>{} {} against {top}, {last}</h2><table class=\"sortable\"><tr><th class=\"l\">Indicator</th><th>Numerator</th><th>Denominator</th>\
             <th>Rate (95% CI)</th><th>Rate, {top}</th><th>Practices</th><th>Above 99.8%</th><th>Below 99.8%</th><th>Above adjusted 99.8%</th>\
             <th title=\"Percentile rank of its rate among every {l} of the run: 0 lowest, 100 highest\">Place among {l}s</th></tr>",
            esc(code),
            esc(name),
            l = level.heading(),
        );
        for ind in &spec.compiled.indicators {
            let (Some(unit), Some(nat)) = (
                latest
                    .of(&ind.id, *level)
                    .into_iter()
                    .find(|r| *r.unit_code == **code),
                latest.of(&ind.id, Level::National).into_iter().next(),
            ) else {
                continue;
            };
            let practices: Vec<&IndicatorRow> = latest
                .of(&ind.id, Level::Practice)
                .into_iter()
                .filter(|r| focus.holds(Level::Practice, &r.unit_code))
                .collect();
            let count =
                |f: &dyn Fn(&IndicatorRow) -> bool| practices.iter().filter(|r| f(r)).count();
            let flagged = super::Beyond::count(practices.iter().map(|r| &r.stats));
            let _ = write!(
                w,
                "<tr class=\"{}\"><td class=\"l\"><a href=\"#{id}\">{id}</a> {title}</td><td>{}</td><td>{}</td><td>{} ({}–{})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                flag_class(&unit.stats),
                published(unit.numerator),
                published(unit.denominator),
                pct(unit.stats.rate),
                pct(unit.stats.ci_low),
                pct(unit.stats.ci_high),
                pct(nat.stats.rate),
                count(&|r| r.denominator.is_some_and(|d| d > 0)),
                flagged.above,
                flagged.below,
                flagged.above_adjusted,
                unit.stats.percentile_rank.map_or_else(|| "–".into(), |p| format!("{:.0}", p * 100.0)),
                id = esc(&ind.id),
                title = esc(&ind.title),
            );
        }
        w.push_str("</table>");
    }
}

/// The rows of the latest index date, the date every table but the
/// trends and changes shows.
struct Latest<'a> {
    rows: Vec<&'a IndicatorRow>,
}

impl<'a> Latest<'a> {
    /// One indicator's rows at one level.
    fn of(&self, id: &str, level: Level) -> Vec<&'a IndicatorRow> {
        self.rows
            .iter()
            .copied()
            .filter(|r| &*r.indicator_id == id && r.level == level)
            .collect()
    }
}

/// The units of one level among `rows`, each once, by code.
fn units_at<'a>(
    rows: impl Iterator<Item = &'a IndicatorRow>,
    level: Level,
) -> Vec<(&'a str, &'a str)> {
    let mut units: Vec<(&str, &str)> = rows
        .filter(|r| r.level == level)
        .map(|r| (&*r.unit_code, &*r.unit_name))
        .collect();
    units.sort();
    units.dedup();
    units
}

/// The title, the run's dates, spec and engine, and what kind of report it is.
fn header(
    w: &mut String,
    run: &AuditRun,
    spec: &AuditSpec,
    last: Date,
    top: &str,
    focus: Option<&Focus>,
) {
    let _ = write!(
        w,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>STOMP audit report {last}</title><style>{CSS}</style></head><body>"
    );
    let _ = write!(
        w,
        "<h1>STOMP audit: psychotropic prescribing for people with a learning disability or autism{}</h1>{}\
         <p>Index date{} {}; data to {}. Spec: {} {} ({}). Engine: {} {}.{}</p>\
         <p class=\"note\">Aggregate report: it holds no patient-level data. Rates use Wilson 95% intervals; funnel limits are exact binomial around the rate for {top}; \
         adjusted limits allow for over-dispersion between practices (DerSimonian–Laird τ² on the arcsine scale, Spiegelhalter 2005).</p>",
        focus.map(|f| format!(": {}", esc(&f.describe()))).unwrap_or_default(),
        focus.map(|f| super::focus_note(f, top, "indicators.csv")).unwrap_or_default(),
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
}

/// Each indicator's rate for the top level, with how many practices lie
/// beyond its limits.
fn headline(w: &mut String, spec: &AuditSpec, latest: &Latest, last: Date, top: &str) {
    let _ = write!(
        w,
        "<h2>Headline, {last}</h2><table><tr><th class=\"l\">Indicator</th><th>Numerator</th><th>Denominator</th><th>Rate, {top} (95% CI)</th>\
         <th>Practices</th><th>Above 99.8%</th><th>Below 99.8%</th><th>Above adjusted 99.8%</th><th>φ</th></tr>"
    );
    for ind in &spec.compiled.indicators {
        let Some(nat) = latest.of(&ind.id, Level::National).into_iter().next() else {
            continue;
        };
        let practices = latest.of(&ind.id, Level::Practice);
        let count = |f: &dyn Fn(&IndicatorRow) -> bool| practices.iter().filter(|r| f(r)).count();
        let flagged = super::Beyond::count(practices.iter().map(|r| &r.stats));
        let _ = write!(
            w,
            "<tr><td class=\"l\"><a href=\"#{id}\">{id}</a> {title}</td><td>{}</td><td>{}</td><td>{} ({}–{})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            published(nat.numerator),
            published(nat.denominator),
            pct(nat.stats.rate),
            pct(nat.stats.ci_low),
            pct(nat.stats.ci_high),
            count(&|r| r.denominator.is_some_and(|d| d > 0)),
            flagged.above,
            flagged.below,
            flagged.above_adjusted,
            practices.first().and_then(|r| r.stats.phi).map(|p| format!("{p:.2}")).unwrap_or_else(|| "–".into()),
            id = esc(&ind.id),
            title = esc(&ind.title),
        );
    }
    w.push_str("</table><p class=\"note\"><a href=\"#how-to-read\">How to read this report</a>: what φ, the adjusted limits and the ISR mean.</p>");
}

/// The changes from the earliest index date to the latest: significant
/// ones (after the false discovery rate) first, then the largest others.
fn change_section(w: &mut String, run: &AuditRun, last: Date, focus: Option<&Focus>) {
    let (changes, significant) = significant_first(&run.changes, |c| {
        shown(focus, c.level, &c.unit_code).then_some((c.significant_fdr, c.difference?.0))
    });
    let tested = run.changes.iter().filter(|c| c.p_value.is_some()).count();
    let _ = write!(
        w,
        "<h2>Change since {}</h2><p>{significant} unit-indicator pairs changed significantly between {} and {}, of {tested} tested at once: \
         with that many tests, about one in twenty would pass a 95% test by chance alone, so a change is called significant here only when its \
         Benjamini–Hochberg q-value is below 0.05 (a false discovery rate of 5%). They are listed first, then the largest other changes; \
         the interval is Newcombe's 95% interval of the difference (<code>changes.csv</code> has both the 95% and the FDR verdicts).{}</p>\
         <div class=\"scroll\"><table class=\"sortable\"><tr><th class=\"l\">Indicator</th><th class=\"l\">Level</th><th class=\"l\">Unit</th><th>Baseline</th><th>Now</th><th>Difference (95% CI)</th><th>Significant (FDR 5%)</th></tr>",
        run.dates[0], run.dates[0], last,
        if focus.is_some() { " Only the focused localities and the units inside them are listed (the test counts are the run's)." } else { "" }
    );
    for c in changes.iter().take(significant.max(10) + 10) {
        let rate =
            |c: Option<(u64, u64)>| pct(c.and_then(|(n, d)| (d > 0).then(|| n as f64 / d as f64)));
        let count =
            |c: Option<(u64, u64)>, k: usize| published(c.map(|c| if k == 0 { c.0 } else { c.1 }));
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
}

/// Per indicator: the funnel, caterpillar and decile charts of the practices.
fn practices_compared(
    w: &mut String,
    run: &AuditRun,
    spec: &AuditSpec,
    latest: &Latest,
    cells: &Cells,
    top: &str,
    focus: Option<&Focus>,
) -> Result<(), String> {
    // The date every chart but the trend shows (render refuses a run without one).
    let last = run.dates.last().map(|d| d.to_string()).unwrap_or_default();
    let _ = write!(w, "<h2>Practices compared</h2><p class=\"note\">Funnel plots: each dot a practice; solid lines the 95% (grey) and 99.8% (red) limits around the rate for {top}; \
                dashed the 99.8% limits adjusted for over-dispersion. Practices outside 99.8% are labelled (when there are few). Caterpillar plots rank practices with their 95% intervals. {}</p>", super::many_dots());
    for ind in &spec.compiled.indicators {
        let practices = latest.of(&ind.id, Level::Practice);
        let Some(target) = latest
            .of(&ind.id, Level::National)
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
            top,
        };
        let points: Vec<charts::Point> = practices.iter().map(|r| point(r, focus)).collect();
        w.push_str(&charts::panel(
            &ind.id,
            &last,
            &points,
            target,
            tau2,
            &scale,
            Some(&national_trend(run, cells, &ind.id, focus)),
        )?);
        w.push_str("</div>");
    }
    Ok(())
}

/// An audit page's rows by (level, unit, indicator, index date).
type Cells<'a> = super::ByUnit<'a, Date, IndicatorRow>;

/// An indicator's deciles and top-level rate at every index date, and the
/// focused localities' rates.
fn national_trend(run: &AuditRun, cells: &Cells, id: &str, focus: Option<&Focus>) -> charts::Trend {
    let rate = |r: &IndicatorRow| r.stats.rate;
    charts::Trend {
        labels: run.dates.iter().map(|d| d.to_string()).collect(),
        deciles: run
            .deciles
            .iter()
            .filter(|d| &*d.indicator_id == id)
            .map(|d| d.deciles)
            .collect(),
        national: cells
            .rates(&run.dates, Level::National, "", id, rate)
            .into_iter()
            .map(|r| r.unwrap_or(0.0))
            .collect(),
        focus: cells.focus_lines(focus, &run.dates, id, rate),
    }
}

/// A table per locality level of every unit's rate for each indicator,
/// each cell looked up in one index of the latest rows.
fn locality_tables(w: &mut String, spec: &AuditSpec, latest: &Latest, focus: Option<&Focus>) {
    let mut cells = HashMap::new();
    for r in &latest.rows {
        cells
            .entry((r.level, &*r.unit_code, &*r.indicator_id))
            .or_insert(*r);
    }
    w.push_str("<h2>Localities</h2><p class=\"note\">Rate (numerator/denominator) at the latest index date; red above, blue below the 99.8% limits. \
                Click a column's heading to sort by it.</p>");
    let levels = focus
        .map(|_| Level::ALL[..5].to_vec())
        .unwrap_or_else(|| Level::LOCALITIES.to_vec());
    for level in levels {
        let units: Vec<(&str, &str)> = units_at(latest.rows.iter().copied(), level)
            .into_iter()
            .filter(|(code, _)| shown(focus, level, code))
            .collect();
        if units.is_empty() {
            continue;
        }
        let mut head = String::from("<th class=\"l\">Unit</th>");
        for ind in &spec.compiled.indicators {
            let _ = write!(
                head,
                "<th title=\"{}\">{}</th>",
                esc(&ind.title),
                esc(&ind.id)
            );
        }
        let rows: Vec<(bool, String)> = units
            .iter()
            .map(|(code, name)| {
                let mut row = format!("<td class=\"l\">{} {}</td>", esc(code), esc(name));
                let mut flagged = false;
                for ind in &spec.compiled.indicators {
                    match cells.get(&(level, *code, ind.id.as_str())) {
                        Some(r) => {
                            flagged |= !flag_class(&r.stats).is_empty();
                            let _ = write!(
                                row,
                                "<td class=\"{}\">{}</td>",
                                flag_class(&r.stats),
                                rate_with_counts(r)
                            );
                        }
                        None => row.push_str("<td>–</td>"),
                    }
                }
                (flagged, row)
            })
            .collect();
        let rest = rows.iter().filter(|r| !r.0).count();
        let _ = write!(w, "<h3>{}</h3>", level.heading());
        long_table(
            w,
            &format!("units-{}", level.as_str()),
            &head,
            rows,
            "a unit",
            &format!(
                "Listed: the units beyond the 99.8% limits in any indicator. The {rest} others are not listed here: \
                 <a href=\"indicators.csv\"><code>indicators.csv</code></a> (beside this page) has every unit, and <code>--focus CODE</code> gives a locality a page of its own."
            ),
        );
    }
}

/// The rate at every index date of each indicator, for England (or the
/// extract's whole), each ICB and each sub-ICB: the trend a quarterly job
/// follows, beside the change since the baseline.
fn trend_section(
    w: &mut String,
    run: &AuditRun,
    spec: &AuditSpec,
    cells: &Cells,
    top: &str,
    focus: Option<&Focus>,
) {
    let _ = write!(
        w,
        "<h2>Trend by index date</h2><p class=\"note\">Rate (numerator/denominator) at each index date. Index dates are the days the audit looks back from; \
         a quarter end is the same day in calendar quarters and in NHS financial-year quarters (31 March 2024 ends 2024Q1 and 2023/24 Q4).</p>"
    );
    outcome_chart(w, run, spec, cells, top);
    for level in [Level::National, Level::Icb, Level::SubIcb] {
        let units: Vec<(&str, &str)> = units_at(run.rows.iter(), level)
            .into_iter()
            .filter(|(code, _)| shown(focus, level, code))
            .collect();
        if units.is_empty() {
            continue;
        }
        let heading = match level {
            Level::National => top.to_string(),
            other => other.heading(),
        };
        let _ = write!(
            w,
            "<h3>{heading}</h3><div class=\"scroll\"><table class=\"sortable\"><tr><th class=\"l\">Unit</th><th class=\"l\">Indicator</th>"
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
                    match cells.get(level, code, &ind.id, *d) {
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

/// The spec's outcome indicators at the top level over the index dates, in
/// one chart: stops and reductions beside current use.
fn outcome_chart(w: &mut String, run: &AuditRun, spec: &AuditSpec, cells: &Cells, top: &str) {
    let inds = &spec.compiled.indicators;
    if spec.compiled.outcome_chart.is_empty() {
        return;
    }
    let series: Vec<(String, Vec<Option<f64>>)> = spec
        .compiled
        .outcome_chart
        .iter()
        .map(|&i| {
            let id = inds[i].id.as_str();
            (
                id.to_string(),
                cells.rates(&run.dates, Level::National, "", id, |r| r.stats.rate),
            )
        })
        .collect();
    let labels: Vec<String> = run.dates.iter().map(|d| d.to_string()).collect();
    let legend: Vec<String> = spec
        .compiled
        .outcome_chart
        .iter()
        .map(|&i| format!("{} {}", esc(&inds[i].id), esc(&inds[i].title)))
        .collect();
    match charts::lines(&format!("Outcomes over time, {top}"), &labels, &series) {
        Ok(svg) => {
            let _ = write!(
                w,
                "<h3>Outcomes over time</h3><div class=\"charts\">{svg}</div><p class=\"note\">{}</p>",
                legend.join("; ")
            );
        }
        Err(e) => {
            let _ = write!(
                w,
                "<p class=\"note\">The outcome chart could not be drawn: {}</p>",
                esc(&e)
            );
        }
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

/// How many of the dose concept's doses were known at the latest index
/// date, and why the others were not: the high-dose and reduction
/// indicators count known doses only. Counts are published under
/// disclosure control like every other.
fn doses_known(w: &mut String, run: &AuditRun, spec: &AuditSpec) {
    let (Some(c), Some(d), Some(t)) = (
        spec.compiled.dose_review_concept,
        run.dose_coverage.last(),
        run.dates.last(),
    ) else {
        return;
    };
    let n = |v: u64| {
        if run.aggregate.disclosure_control {
            published(round_count(v))
        } else {
            v.to_string()
        }
    };
    let u = &d.drugs_unknown;
    let _ = write!(
        w,
        "<p class=\"note\">Daily doses ({concept} drugs) at {t}, from issues (see the definitions): of {} cohort patients holding one, \
         the total is known for {} as % of the BNF maximum and for {} in chlorpromazine equivalents. Of {} drugs held, \
         unknown: {} with no strength in the product name, {} with no quantity or clear daily dose, {} implausible (over {IMPLAUSIBLE_PERCENT}% of the maximum), \
         {} with no BNF maximum and {} with no chlorpromazine equivalent in the spec's tables.</p>",
        n(d.patients_holding),
        n(d.patients_known_bnf_maximum),
        n(d.patients_known_chlorpromazine),
        n(d.drugs_held),
        n(u.no_strength),
        n(u.no_quantity),
        n(u.implausible),
        n(u.not_in_bnf_maximum_table),
        n(u.not_in_chlorpromazine_table),
        concept = esc(&spec.compiled.concepts[c as usize].name),
    );
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

/// The header's sentence on disclosure control, with how many units of
/// the latest date have a suppressed count.
fn disclosure_note(run: &AuditRun, last: Date) -> String {
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

/// A practice row as a chart point; in the background when a focus leaves
/// it out.
fn point<'a>(r: &'a IndicatorRow, focus: Option<&Focus>) -> charts::Point<'a> {
    charts::Point {
        n: r.denominator.unwrap_or(0) as f64,
        rate: r.stats.rate,
        ci: r.stats.ci_low.zip(r.stats.ci_high),
        outlier: matches!(r.stats.flag[P998], Some(Flag::High | Flag::Low)),
        outlier_adjusted: matches!(r.stats.flag_adjusted[P998], Some(Flag::High | Flag::Low)),
        code: &r.unit_code,
        name: &r.unit_name,
        background: !shown(focus, Level::Practice, &r.unit_code),
    }
}
