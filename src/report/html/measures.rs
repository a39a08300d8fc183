//! `report.html` of `stomp-audit measures`: the headline table, changes,
//! a funnel plot, caterpillar plot and decile chart per measure, the
//! practice and locality tables, and what was left out of the data.

use std::collections::HashMap;
use std::fmt::Write;

use super::charts::{self, Point, Scale};
use super::{esc, flag_class, long_table, CSS, LONG_TABLE};
use crate::aggregate::statistics::{Model, P998};
use crate::aggregate::Flag;
use crate::date::Month;
use crate::ingest::locality::Level;
use crate::pipeline::measures::roll_up::model;
use crate::pipeline::measures::roll_up::MeasureRow;
use crate::pipeline::measures::MeasuresRun;
use crate::report::focus::{shown, Focus};
use crate::spec::measures::Denominator;
use crate::spec::{AuditSpec, Measure};

fn value(v: Option<f64>, per: f64) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{:.2}", v * per))
}

fn point<'a>(r: &'a MeasureRow, focus: Option<&Focus>) -> Point<'a> {
    Point {
        n: r.denominator,
        rate: r.stats.rate,
        ci: r.stats.ci_low.zip(r.stats.ci_high),
        outlier: matches!(r.stats.flag[P998], Some(Flag::High | Flag::Low)),
        outlier_adjusted: matches!(r.stats.flag_adjusted[P998], Some(Flag::High | Flag::Low)),
        code: &r.unit_code,
        name: &r.unit_name,
        background: !shown(focus, Level::Practice, &r.unit_code),
    }
}

/// Where a practice lies against the 99.8% limits, in words, and how
/// much that matters: 0 beyond the adjusted limits, 1 beyond the plain
/// ones only, 2 within.
fn beyond(r: &MeasureRow) -> (u8, &'static str) {
    match (r.stats.flag_adjusted[P998], r.stats.flag[P998]) {
        (Some(Flag::High), _) => (0, "above, adjusted too"),
        (Some(Flag::Low), _) => (0, "below, adjusted too"),
        (_, Some(Flag::High)) => (1, "above"),
        (_, Some(Flag::Low)) => (1, "below"),
        _ => (2, ""),
    }
}

/// Renders the page: the header, the headline with the measures left
/// out, changes (over several months), the practices compared, how to
/// read it, the localities and what the data held, in that order.
///
/// With a focus, the page is about the focused localities, as the
/// audit's page is.
pub(crate) fn render(
    run: &MeasuresRun,
    spec: &AuditSpec,
    focus: Option<&Focus>,
) -> Result<String, String> {
    let last = *run.months.last().ok_or("no month")?;
    let top = super::top_words(run.rows.iter().map(|r| (r.level, r.unit_name.as_str())));
    let latest = Latest {
        rows: run.rows.iter().filter(|r| r.month == last).collect(),
    };
    let mut h = String::new();
    let w = &mut h;
    header(w, run, spec, last, &top, focus);
    if let Some(f) = focus {
        focus_headline(w, run, &latest, last, &top, f);
    }
    headline(w, run, &latest, last, &top);
    if run.months.len() > 1 {
        change_section(w, run, last, focus);
    }
    practices_compared(w, run, &latest, &top, focus)?;
    super::glossary(w, &top, true);
    locality_tables(w, run, &latest, focus);
    what_the_data_held(w, run);
    w.push_str(super::TABLE_SCRIPT);
    w.push_str("</body></html>");
    Ok(h)
}

/// The rows of the latest month, the month every table but the changes shows.
struct Latest<'a> {
    rows: Vec<&'a MeasureRow>,
}

impl<'a> Latest<'a> {
    /// One measure's rows at one level.
    fn of(&self, id: &str, level: Level) -> Vec<&'a MeasureRow> {
        self.rows
            .iter()
            .copied()
            .filter(|r| r.measure_id == id && r.level == level)
            .collect()
    }

    /// How many units of one level there are (in the first measure).
    fn of_level(&self, level: Level) -> usize {
        let first = self.rows.first().map(|r| r.measure_id.as_str());
        self.rows
            .iter()
            .filter(|r| r.level == level && Some(r.measure_id.as_str()) == first)
            .count()
    }
}

/// The title, the months, the practices' source, spec and engine, and the
/// models the statistics use.
fn header(
    w: &mut String,
    run: &MeasuresRun,
    spec: &AuditSpec,
    last: Month,
    top: &str,
    focus: Option<&Focus>,
) {
    let months: Vec<String> = run.months.iter().map(|m| m.to_string()).collect();
    let _ = write!(
        w,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Psychotropic prescribing measures {last}</title><style>{CSS}</style></head><body>\
         <h1>Psychotropic prescribing measures from public prescribing data{}</h1>{}\
         <p>Month{} {}. Practices: {} (localities from {}). Spec: {} {} ({}). Engine: {} {}.</p>\
         <p class=\"note\">Practice-level measures from the NHSBSA English Prescribing Dataset (or its HSCIC predecessor) over NHS Digital list sizes. \
         Rates per population use a Poisson model: exact (Garwood) 95% intervals and exact Poisson funnel limits around the value for {top}, \
         with over-dispersion-adjusted limits on the square-root scale (DerSimonian–Laird τ², Spiegelhalter 2005). \
         Shares of prescribing use the binomial model (Wilson intervals, exact binomial limits, arcsine scale). \
         Rows split by pack size are added up per practice and presentation first. These data hold no patients.</p>",
        focus.map(|f| format!(": {}", esc(&f.describe()))).unwrap_or_default(),
        focus.map(|f| super::focus_note(f, top, "measures.csv")).unwrap_or_default(),
        if months.len() > 1 { "s" } else { "" },
        months.join(", "),
        run.practices.list.len(),
        esc(&run.hierarchy_source),
        esc(&spec.name),
        esc(&spec.version),
        esc(&spec.origin),
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    );
}

/// Each focused locality against the top level in the latest month: its
/// value, its practices beyond the limits, and its place among its peers.
fn focus_headline(
    w: &mut String,
    run: &MeasuresRun,
    latest: &Latest,
    last: Month,
    top: &str,
    focus: &Focus,
) {
    for (level, code, name) in &focus.units {
        let _ = write!(
            w,
            "<h2>{} {} against {top}, {last}</h2><table class=\"sortable\"><tr><th class=\"l\">Measure</th><th>Value (95% CI)</th><th>{top}</th>\
             <th>Practices</th><th>Above 99.8%</th><th>Below 99.8%</th><th>Above adjusted 99.8%</th><th>Below adjusted 99.8%</th>\
             <th title=\"Percentile rank of its value among every {l} of the run: 0 lowest, 100 highest\">Place among {l}s</th></tr>",
            esc(code),
            esc(name),
            l = level.heading(),
        );
        for m in &run.measures {
            let (Some(unit), Some(nat)) = (
                latest
                    .of(&m.id, *level)
                    .into_iter()
                    .find(|r| &r.unit_code == code),
                latest.of(&m.id, Level::National).into_iter().next(),
            ) else {
                continue;
            };
            let practices: Vec<&MeasureRow> = latest
                .of(&m.id, Level::Practice)
                .into_iter()
                .filter(|r| focus.holds(Level::Practice, &r.unit_code))
                .collect();
            let count = |f: &dyn Fn(&MeasureRow) -> bool| practices.iter().filter(|r| f(r)).count();
            let flagged = super::Beyond::count(practices.iter().map(|r| &r.stats));
            let _ = write!(
                w,
                "<tr class=\"{}\"><td class=\"l\"><a href=\"#{id}\">{id}</a> {title}</td><td>{} ({}–{})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                flag_class(&unit.stats),
                value(unit.stats.rate, m.per),
                value(unit.stats.ci_low, m.per),
                value(unit.stats.ci_high, m.per),
                value(nat.stats.rate, m.per),
                count(&|r| r.denominator > 0.0),
                flagged.above,
                flagged.below,
                flagged.above_adjusted,
                flagged.below_adjusted,
                unit.stats.percentile_rank.map_or_else(|| "–".into(), |p| format!("{:.0}", p * 100.0)),
                id = esc(&m.id),
                title = esc(&m.title),
            );
        }
        w.push_str("</table>");
    }
}

/// Each measure's value for the top level, with how many practices lie
/// beyond its limits, and the measures a month could not have.
fn headline(w: &mut String, run: &MeasuresRun, latest: &Latest, last: Month, top: &str) {
    let _ = write!(
        w,
        "<h2>Headline, {last}</h2><table><tr><th class=\"l\">Measure</th><th>{top}</th><th>Practices</th>\
         <th>Above 99.8%</th><th>Below 99.8%</th><th>Above adjusted 99.8%</th><th>Below adjusted 99.8%</th><th>φ</th><th class=\"l\">Model</th></tr>"
    );
    for m in &run.measures {
        let Some(nat) = latest.of(&m.id, Level::National).into_iter().next() else {
            continue;
        };
        let practices = latest.of(&m.id, Level::Practice);
        let count = |f: &dyn Fn(&MeasureRow) -> bool| practices.iter().filter(|r| f(r)).count();
        let flagged = super::Beyond::count(practices.iter().map(|r| &r.stats));
        let _ = write!(
            w,
            "<tr><td class=\"l\"><a href=\"#{id}\">{id}</a> {title}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td></tr>",
            value(nat.stats.rate, m.per),
            count(&|r| r.denominator > 0.0),
            flagged.above,
            flagged.below,
            flagged.above_adjusted,
            flagged.below_adjusted,
            practices.first().and_then(|r| r.stats.phi).map_or_else(|| "–".into(), |p| format!("{p:.2}")),
            model(m).as_str(),
            id = esc(&m.id),
            title = esc(&m.title),
        );
    }
    w.push_str("</table><p class=\"note\"><a href=\"#how-to-read\">How to read this report</a>: what φ and the adjusted limits mean.</p>");
    for s in &run.skipped {
        let _ = write!(
            w,
            "<p class=\"note\">{} is left out for {}: {}.</p>",
            esc(&s.measure_id),
            s.months
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            esc(&s.reason)
        );
    }
}

/// The changes from the first month to the last, significant ones first.
fn change_section(w: &mut String, run: &MeasuresRun, last: Month, focus: Option<&Focus>) {
    let (changes, significant) = super::significant_first(&run.changes, |c| {
        shown(focus, c.level, &c.unit_code).then_some((c.significant, c.difference?.0))
    });
    let _ = write!(
        w,
        "<h2>Change since {}</h2><p>{significant} unit-measure pairs changed significantly between {} and {last} (95% interval of the difference excludes zero: Newcombe for shares, Poisson Wald for rates).</p>\
         <div class=\"scroll\"><table class=\"sortable\"><tr><th class=\"l\">Measure</th><th class=\"l\">Level</th><th class=\"l\">Unit</th><th>{}</th><th>{last}</th><th>Difference (95% CI)</th></tr>",
        run.months[0], run.months[0], run.months[0]
    );
    for c in changes.iter().take(significant.max(10) + 10) {
        let per = run
            .measures
            .iter()
            .find(|m| m.id == c.measure_id)
            .map_or(1.0, |m| m.per);
        let rate = |n: f64, d: f64| value((d > 0.0).then(|| n / d), per);
        let (d, lo, hi) = c.difference.unwrap_or_default();
        let _ = write!(
            w,
            "<tr class=\"{}\"><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{} {}</td><td>{}</td><td>{}</td><td>{:+.2} ({:+.2} to {:+.2})</td></tr>",
            if c.significant { if d > 0.0 { "high" } else { "low" } } else { "" },
            esc(&c.measure_id), c.level, esc(&c.unit_code), esc(&c.unit_name),
            rate(c.baseline.1, c.baseline.2), rate(c.current.1, c.current.2),
            d * per, lo * per, hi * per
        );
    }
    w.push_str("</table></div>");
}

/// Per measure: the funnel, caterpillar and decile charts of the practices.
fn practices_compared(
    w: &mut String,
    run: &MeasuresRun,
    latest: &Latest,
    top: &str,
    focus: Option<&Focus>,
) -> Result<(), String> {
    let _ = write!(w, "<h2>Practices compared</h2><p class=\"note\">Funnel plots: each dot a practice; solid lines the 95% (grey) and 99.8% (red) limits around the value for {top}; \
                dashed the 99.8% limits adjusted for over-dispersion. Practices outside 99.8% are labelled (when there are few); tables mark them red (above) or blue (below). {}</p>", super::many_dots());
    let all = latest.of_level(Level::Practice);
    if all > LONG_TABLE {
        practice_finder(w, run, latest);
    }
    let cells = super::ByUnit::new(&run.rows, |r: &MeasureRow| {
        (
            r.level,
            r.unit_code.as_str(),
            r.measure_id.as_str(),
            r.month,
        )
    });
    let rate = |r: &MeasureRow| r.stats.rate;
    for m in &run.measures {
        let practices = latest.of(&m.id, Level::Practice);
        let Some(target) = latest
            .of(&m.id, Level::National)
            .first()
            .and_then(|r| r.stats.rate)
        else {
            continue;
        };
        let trend = charts::Trend {
            labels: run.months.iter().map(|m| m.to_string()).collect(),
            deciles: run
                .deciles
                .iter()
                .filter(|d| d.measure_id == m.id)
                .map(|d| d.deciles)
                .collect(),
            national: cells
                .rates(&run.months, Level::National, "", &m.id, rate)
                .into_iter()
                .map(|r| r.unwrap_or(0.0))
                .collect(),
            focus: cells.focus_lines(focus, &run.months, &m.id, rate),
        };
        section(w, &trend, m, &practices, target, top, focus)?;
    }

    Ok(())
}

/// A table per level above the practice of every unit's value for each measure.
fn locality_tables(w: &mut String, run: &MeasuresRun, latest: &Latest, focus: Option<&Focus>) {
    w.push_str("<h2>Localities</h2><p class=\"note\">Each measure at each level in the latest month; numerators and denominators are pooled from the practices.</p>");
    for level in &Level::ALL[1..] {
        let rows: Vec<&&MeasureRow> = latest
            .rows
            .iter()
            .filter(|r| r.level == *level && shown(focus, r.level, &r.unit_code))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let mut units: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.unit_code.as_str(), r.unit_name.as_str()))
            .collect();
        units.sort_unstable();
        units.dedup();
        // Each unit's row of each measure, found once: the first, as a
        // search would find it (a level has up to some 1,300 units).
        let mut at: HashMap<(&str, &str), &MeasureRow> = HashMap::new();
        for r in &rows {
            at.entry((r.measure_id.as_str(), r.unit_code.as_str()))
                .or_insert(**r);
        }
        let _ = write!(
            w,
            "<h3>{level}</h3><div class=\"scroll\"><table class=\"sortable\"><tr><th class=\"l\">Unit</th>"
        );
        for m in &run.measures {
            let _ = write!(w, "<th>{}</th>", esc(&m.id));
        }
        w.push_str("</tr>");
        for (code, name) in units {
            let _ = write!(w, "<tr><td class=\"l\">{} {}</td>", esc(code), esc(name));
            for m in &run.measures {
                let r = at.get(&(m.id.as_str(), code));
                let _ = write!(
                    w,
                    "<td class=\"{}\">{}</td>",
                    r.map_or("", |r| flag_class(&r.stats)),
                    value(r.and_then(|r| r.stats.rate), m.per)
                );
            }
            w.push_str("</tr>");
        }
        w.push_str("</table></div>");
    }
}

/// Each input file's rows read, used, ignored and rejected, and what the
/// fold left out: prescribers that are not practices, practice-months
/// without a list size.
fn what_the_data_held(w: &mut String, run: &MeasuresRun) {
    w.push_str("<h2>What the data held</h2><table><tr><th class=\"l\">File</th><th class=\"l\">Layout</th><th>Rows</th><th>Used</th><th class=\"l\">Ignored</th><th class=\"l\">Rejected</th></tr>");
    for i in &run.inputs {
        let _ = write!(
            w,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td></tr>",
            esc(&i.file.path.display().to_string()),
            i.layout.unwrap_or(match i.file.table.file_stem() { "list_sizes" => "list sizes", other => other }),
            i.tally.account.read,
            i.tally.account.used,
            reasons(i.tally.account.ignored.iter().map(|(k, n)| (k.as_str(), n))),
            reasons(i.tally.account.rejected.iter().map(|(k, n)| (k.as_str(), *n))),
        );
    }
    w.push_str("</table>");
    let f = &run.fold;
    let _ = write!(
        w,
        "<p>{} rows matched a measure and were added up into {} practice-month presentations; {} distinct BNF codes were read, {} of them in a measure.{}</p>",
        f.rows_summed,
        f.presentations,
        f.bnf_codes.0,
        f.bnf_codes.1,
        if f.adq_missing > 0 { format!(" {} of those rows had no ADQ value (counted as 0 ADQs).", f.adq_missing) } else { String::new() }
    );
    if !f.not_practices.is_empty() {
        let rows: u64 = f.not_practices.values().map(|o| o.rows).sum();
        let mut top: Vec<_> = f.not_practices.iter().collect();
        top.sort_by(|a, b| {
            b.1.items
                .partial_cmp(&a.1.items)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let _ = write!(
            w,
            "<p>Left out: {rows} rows from {} prescribers that are not GP practices (largest by items: {}).</p>",
            f.not_practices.len(),
            top.iter().take(10).map(|(c, o)| format!("{} {:.0}", esc(c), o.items)).collect::<Vec<_>>().join(", ")
        );
    }
    if !f.without_list_size.is_empty() {
        let _ = write!(
            w,
            "<p>Left out: measure rows of {} practice-months with no list size ({}).</p>",
            f.without_list_size.len(),
            f.without_list_size
                .keys()
                .take(20)
                .map(|(m, c)| format!("{} {m}", esc(c)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// A search box over every practice of the run, with each one's value
/// and percentile in every measure at the latest month, carried in the
/// page as compact JSON (the page fetches nothing): a national run lists
/// only its outliers in the measure tables.
fn practice_finder(w: &mut String, run: &MeasuresRun, latest: &Latest) {
    type Cell = (Option<String>, Option<u32>, &'static str);
    let mut practices: std::collections::BTreeMap<(&str, &str), Vec<Cell>> =
        std::collections::BTreeMap::new();
    for (k, m) in run.measures.iter().enumerate() {
        for r in latest.of(&m.id, Level::Practice) {
            let cells = practices
                .entry((r.unit_code.as_str(), r.unit_name.as_str()))
                .or_insert_with(|| vec![(None, None, ""); run.measures.len()]);
            cells[k] = (
                r.stats.rate.map(|v| format!("{:.2}", v * m.per)),
                r.stats.percentile_rank.map(|p| (p * 100.0).round() as u32),
                flag_class(&r.stats),
            );
        }
    }
    let rows: Vec<serde_json::Value> = practices
        .into_iter()
        .map(|((code, name), cells)| {
            let mut row = vec![serde_json::json!(code), serde_json::json!(name)];
            row.extend(
                cells
                    .into_iter()
                    .map(|c| serde_json::json!([c.0, c.1, c.2])),
            );
            serde_json::Value::Array(row)
        })
        .collect();
    let data = serde_json::json!({
        "measures": run.measures.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        "practices": rows,
    });
    let _ = write!(
        w,
        "<h3>Find a practice</h3><p class=\"note\">The measure tables below list the practices beyond the 99.8% limits only. \
         Type two or more letters of any practice's code or name to see its value (and percentile) in every measure; \
         <code>measures.csv</code> has every practice with its intervals.</p>\
         <div class=\"find\"><input type=\"search\" id=\"find-practice\" placeholder=\"Find a practice by code or name\" aria-label=\"Find a practice\"></div>\
         <div class=\"scroll\"><table id=\"found-practices\"><thead><tr><th class=\"l\">Practice</th>{}</tr></thead><tbody></tbody></table></div>\
         <script type=\"application/json\" id=\"practice-data\">{}</script>",
        run.measures
            .iter()
            .map(|m| format!("<th title=\"{}\">{}</th>", esc(&m.title), esc(&m.id)))
            .collect::<String>(),
        data.to_string().replace("</", "<\\/")
    );
}

fn reasons(counts: impl Iterator<Item = (&'static str, u64)>) -> String {
    counts
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One measure's definition, charts and practice table.
fn section(
    w: &mut String,
    trend: &charts::Trend,
    m: &Measure,
    practices: &[&MeasureRow],
    target: f64,
    top: &str,
    focus: Option<&Focus>,
) -> Result<(), String> {
    let last = practices
        .first()
        .map(|r| r.month.to_string())
        .unwrap_or_default();
    let _ = write!(
        w,
        "<h3 id=\"{0}\">{0}: {1}</h3><p class=\"note\">Numerator: {2}. Denominator: {3}. Shown per {4}.{5}</p><div class=\"charts\">",
        esc(&m.id),
        esc(&m.title),
        esc(&m.numerator_text()),
        esc(&m.denominator_text()),
        m.per,
        m.note.as_ref().map(|n| format!(" {}.", esc(n))).unwrap_or_default()
    );
    let tau2 = practices.first().and_then(|r| r.stats.tau2);
    let model = model(m);
    let proportion = model == Model::Binomial;
    let per = m.per;
    let y_format = move |v: &f64| {
        if proportion {
            charts::percent(v)
        } else {
            format!("{:.1}", v * per)
        }
    };
    let scale = Scale {
        y_format: &y_format,
        x_desc: match &m.denominator {
            Denominator::ListSize => "Registered patients",
            Denominator::StarPu(_) => "STAR-PU",
            Denominator::Prescribed(_) => "Prescribed (denominator)",
        },
        model,
        top,
    };
    let points: Vec<Point> = practices.iter().map(|r| point(r, focus)).collect();
    w.push_str(&charts::panel(
        &m.id,
        &last,
        &points,
        target,
        tau2,
        &scale,
        Some(trend),
    )?);
    w.push_str("</div>");
    let mut listed: Vec<&&MeasureRow> = practices
        .iter()
        .filter(|r| shown(focus, Level::Practice, &r.unit_code))
        .collect();
    listed.sort_by(|a, b| {
        beyond(a).0.cmp(&beyond(b).0).then(
            b.stats
                .z_score
                .map(f64::abs)
                .partial_cmp(&a.stats.z_score.map(f64::abs))
                .unwrap_or(std::cmp::Ordering::Equal),
        )
    });
    // Beyond the plain limits, unless nearly every practice is (an
    // over-dispersed measure): then beyond the adjusted limits only.
    let plain = listed.iter().filter(|r| beyond(r).0 < 2).count();
    let first = if plain > LONG_TABLE { 1 } else { 2 };
    let rest = listed.iter().filter(|r| beyond(r).0 >= first).count();
    let rows: Vec<(bool, String)> = listed
        .iter()
        .map(|r| {
            let (rank, words) = beyond(r);
            (
                rank < first,
                format!(
                    "<td class=\"l\">{} {}</td><td class=\"{}\">{}</td><td>{:.1}</td><td>{:.1}</td><td>{} ({}–{})</td><td>{}</td><td>{}</td>",
                    esc(&r.unit_code),
                    esc(&r.unit_name),
                    flag_class(&r.stats),
                    words,
                    r.numerator,
                    r.denominator,
                    value(r.stats.rate, m.per),
                    value(r.stats.ci_low, m.per),
                    value(r.stats.ci_high, m.per),
                    r.stats.percentile_rank.map_or_else(|| "–".into(), |p| format!("{:.0}", p * 100.0)),
                    r.stats.z_score.map_or_else(|| "–".into(), |z| format!("{z:.2}")),
                ),
            )
        })
        .collect();
    long_table(
        w,
        &format!("practices-{}", m.id),
        "<th class=\"l\">Practice</th><th class=\"l\">Beyond 99.8%</th><th>Numerator</th><th>Denominator</th><th>Value (95% CI)</th><th>Percentile</th><th>z</th>",
        rows,
        "a practice",
        &format!(
            "Listed: the practices beyond the {} 99.8% limits{}. The {rest} others are not listed here: \
             find one with the search box above, or read every practice in <a href=\"measures.csv\"><code>measures.csv</code></a> (beside this page).",
            if first == 1 { "over-dispersion-adjusted" } else { "plain or adjusted" },
            if first == 1 {
                format!(" ({plain} lie beyond the plain limits: the practices differ far more than chance allows, so read the adjusted ones)")
            } else {
                String::new()
            }
        ),
    );
    Ok(())
}
