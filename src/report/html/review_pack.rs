//! Review packs: one printable page per practice for its pharmacist, with
//! the practice's flagged patients at the latest index date, one block per
//! patient (every indicator that flags them, what is missing, their
//! psychotropics with last issue dates, their antipsychotic doses and last
//! medication review), the most concerning first; and a header comparing
//! the practice's rates with its PCN, its ICB and the top level.
//!
//! Patient-level, like `review_list.csv`: written only where the review
//! list goes, never into the aggregate report, and never under disclosure
//! control (the rates in the header are the unrounded counts).

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use super::{esc, pct, CSS};
use crate::audit::partial::ReviewLine;
use crate::ingest::locality::Level;
use crate::pipeline::audit::AuditRun;
use crate::spec::{AuditSpec, Fact};

/// The folder the packs go into, beside the review list.
pub const FOLDER: &str = "review_packs";

/// The folder's index page.
pub const INDEX: &str = "index.html";

/// What every pack says first.
const NOTICE: &str = "Patient-level data (pseudonymised ids) for the practice pharmacist: not for publication, never to leave the practice's care team.";

/// One practice's pack.
pub(crate) struct Pack {
    /// The practice code.
    pub practice_code: String,
    /// Its file: the code, with any character that is not a letter, digit
    /// or `-` written `_` (codes come from the extract; `-2`, `-3` after a
    /// code that then repeats another's), then `.html`.
    pub file: String,
    /// Patients listed.
    pub patients: usize,
    /// The page.
    pub html: String,
}

/// One flagged patient, as the pack shows them.
struct Patient<'a> {
    lines: Vec<&'a ReviewLine>,
    high_dose: bool,
}

impl Patient<'_> {
    fn first(&self) -> &ReviewLine {
        self.lines[0]
    }

    /// Most flags first, then a high dose, then the longest without a
    /// medication review (none at all first), then the id.
    fn order(&self) -> impl Ord + '_ {
        let r = self.first();
        (
            Reverse(self.lines.len()),
            Reverse(self.high_dose),
            r.last_review,
            r.patient_id.len(),
            r.patient_id.as_str(),
        )
    }
}

/// The packs of every practice with a flagged patient at the latest index
/// date, in practice code order.
pub(crate) fn render(run: &AuditRun, spec: &AuditSpec) -> Vec<Pack> {
    let Some(&last) = run.dates.last() else {
        return Vec::new();
    };
    let mut by_practice: BTreeMap<&str, BTreeMap<&str, Vec<&ReviewLine>>> = BTreeMap::new();
    for r in run.review.iter().filter(|r| r.date == last) {
        by_practice
            .entry(&r.practice_code)
            .or_default()
            .entry(&r.patient_id)
            .or_default()
            .push(r);
    }
    let rates = Rates::new(run);
    // A high dose is a flag by an indicator whose numerator is a dose
    // above a threshold (STOMP10), as the audit judged it.
    let compiled = &spec.compiled;
    let high_dose_indicator: Vec<bool> = compiled
        .indicators
        .iter()
        .map(|ind| {
            ind.numerator
                .iter()
                .any(|t| !t.negated && matches!(compiled.facts[t.fact], Fact::DoseAbove { .. }))
        })
        .collect();
    let mut files = std::collections::HashSet::new();
    by_practice
        .into_iter()
        .map(|(code, patients)| {
            let mut patients: Vec<Patient<'_>> = patients
                .into_values()
                .map(|lines| Patient {
                    high_dose: lines.iter().any(|l| high_dose_indicator[l.indicator]),
                    lines,
                })
                .collect();
            patients.sort_by(|a, b| a.order().cmp(&b.order()));
            let stem: String = code
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            // Two codes that differ only in such characters get two files.
            let mut file = format!("{stem}.html");
            for k in 2.. {
                if files.insert(file.clone()) {
                    break;
                }
                file = format!("{stem}-{k}.html");
            }
            Pack {
                file,
                practice_code: code.to_string(),
                patients: patients.len(),
                html: page(run, spec, &rates, code, &patients),
            }
        })
        .collect()
}

/// The folder's index: every pack with its practice and patient count.
pub(crate) fn index(run: &AuditRun, packs: &[Pack]) -> String {
    let mut w = String::new();
    let date = run.dates.last().map(|d| d.to_string()).unwrap_or_default();
    let _ = write!(
        w,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Review packs, {date}</title><style>{CSS}</style></head><body>\
         <p class=\"notice\"><b>{NOTICE}</b></p><h1>Review packs, {date}</h1>\
         <table><tr><th class=\"l\">Practice</th><th>Patients to review</th></tr>"
    );
    for p in packs {
        let name = run
            .practices
            .get(&p.practice_code)
            .map(|i| {
                run.practices.list[i as usize].units[Level::Practice]
                    .1
                    .clone()
            })
            .unwrap_or_default();
        let _ = write!(
            w,
            "<tr><td class=\"l\"><a href=\"{}\">{}</a> {}</td><td>{}</td></tr>",
            esc(&p.file),
            esc(&p.practice_code),
            esc(&name),
            p.patients,
        );
    }
    w.push_str("</table></body></html>\n");
    w
}

/// Unrounded counts at the latest date per (level, unit), by indicator.
struct Rates(HashMap<(Level, String), Vec<(u64, u64)>>);

impl Rates {
    fn new(run: &AuditRun) -> Rates {
        let mut sums: HashMap<(Level, String), Vec<(u64, u64)>> = HashMap::new();
        let d = run.dates.len().saturating_sub(1);
        let indicators = run.counts.indicators;
        for (p, practice) in run.practices.list.iter().enumerate() {
            let own: Vec<(u64, u64)> = (0..indicators).map(|i| run.counts.get(d, i, p)).collect();
            for level in Level::ALL {
                let unit = sums
                    .entry((level, practice.units[level].0.clone()))
                    .or_insert_with(|| vec![(0, 0); indicators]);
                for (u, (n, m)) in unit.iter_mut().zip(&own) {
                    u.0 += n;
                    u.1 += m;
                }
            }
        }
        Rates(sums)
    }

    /// "12.5% (1/8)", or a dash without a denominator.
    fn cell(&self, i: usize, level: Level, code: &str) -> String {
        match self.0.get(&(level, code.to_string())).map(|u| u[i]) {
            Some((n, m)) if m > 0 => format!("{} ({n}/{m})", pct(Some(n as f64 / m as f64))),
            _ => "–".into(),
        }
    }
}

const PACK_CSS: &str = ".notice{background:#fff3cd;border:1px solid #e0c060;padding:.5em 1em}\
.patient{border:1px solid #bbb;border-radius:4px;padding:.4em 1em;margin:.8em 0;break-inside:avoid;page-break-inside:avoid}\
.patient h3{margin:.2em 0}.flags li{margin:.15em 0}\
@media print{body{margin:0;max-width:none}.patient{break-inside:avoid}a{color:inherit;text-decoration:none}}";

fn page(
    run: &AuditRun,
    spec: &AuditSpec,
    rates: &Rates,
    code: &str,
    patients: &[Patient<'_>],
) -> String {
    let inds = &spec.compiled.indicators;
    let last = run.dates.last().map(|d| d.to_string()).unwrap_or_default();
    let units = run
        .practices
        .get(code)
        .map(|i| run.practices.list[i as usize].units.clone());
    let name = units
        .as_ref()
        .map_or(String::new(), |u| u[Level::Practice].1.clone());
    let mut w = String::new();
    let _ = write!(
        w,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Review pack {code}, {last}</title>\
         <style>{CSS}{PACK_CSS}</style></head><body><p class=\"notice\"><b>{NOTICE}</b></p>\
         <h1>Review pack: {} {}</h1><p>Index date {last}: {} patients flagged by the STOMP audit, the most concerning first \
         (most flags, then a dose above the BNF maximum, then the longest without a medication review). \
         Spec {} {}.</p>",
        esc(code),
        esc(&name),
        patients.len(),
        esc(&spec.name),
        esc(&spec.version),
        code = esc(code),
    );
    if let Some(units) = &units {
        comparison(&mut w, spec, rates, units);
    }
    for p in patients {
        patient(&mut w, inds, p);
    }
    w.push_str("</body></html>\n");
    w
}

/// The practice's rates against its PCN, ICB and the top level, for the
/// indicators that put patients on review lists.
fn comparison(
    w: &mut String,
    spec: &AuditSpec,
    rates: &Rates,
    units: &crate::ingest::locality::Units,
) {
    let levels = [Level::Practice, Level::Pcn, Level::Icb, Level::National];
    w.push_str(
        "<h2>The practice against its localities</h2><table><tr><th class=\"l\">Indicator</th>",
    );
    for l in levels {
        let _ = write!(w, "<th>{}</th>", esc(&units[l].1));
    }
    w.push_str("</tr>");
    for (i, ind) in spec.compiled.indicators.iter().enumerate() {
        if !ind.review {
            continue;
        }
        let _ = write!(
            w,
            "<tr><td class=\"l\">{} {}</td>",
            esc(&ind.id),
            esc(&ind.title)
        );
        for l in levels {
            let _ = write!(w, "<td>{}</td>", rates.cell(i, l, &units[l].0));
        }
        w.push_str("</tr>");
    }
    w.push_str("</table>");
}

/// One patient's block.
fn patient(w: &mut String, inds: &[crate::spec::Indicator], p: &Patient<'_>) {
    let r = p.first();
    let _ = write!(
        w,
        "<div class=\"patient\"><h3>Patient {} <span class=\"note\">({}, {}; {} flag{})</span></h3><ul class=\"flags\">",
        esc(&r.patient_id),
        esc(&r.age_band),
        esc(&r.sex),
        p.lines.len(),
        if p.lines.len() == 1 { "" } else { "s" }
    );
    for l in &p.lines {
        let ind = &inds[l.indicator];
        let _ = write!(
            w,
            "<li><b>{}</b> {}{}</li>",
            esc(&ind.id),
            esc(&ind.title),
            ind.reason
                .as_deref()
                .map(|why| format!(": <i>{}</i>", esc(why)))
                .unwrap_or_default()
        );
    }
    w.push_str("</ul>");
    let mut drugs: Vec<&str> = p
        .lines
        .iter()
        .flat_map(|l| l.drugs.split("; "))
        .filter(|d| !d.is_empty())
        .collect();
    drugs.sort_unstable();
    drugs.dedup();
    let _ = write!(
        w,
        "<p><b>Psychotropics issued in the last months:</b> {}</p>",
        if drugs.is_empty() {
            "none of the flagged classes".to_string()
        } else {
            esc(&drugs.join("; "))
        }
    );
    let d = &r.dose;
    if !d.doses.is_empty() {
        let _ = write!(
            w,
            "<p><b>Antipsychotic doses:</b> {}. Total: {} of the BNF maximum; a year before: {}.</p>",
            esc(&d.doses),
            or_unknown(&d.percent_max, "%", "unknown"),
            or_unknown(&d.percent_max_before, "%", "none held or unknown"),
        );
    }
    let _ = write!(
        w,
        "<p><b>Last medication review:</b> {}</p></div>",
        r.last_review
            .map_or("none recorded".to_string(), |d| d.to_string())
    );
}

/// A total with its unit, or what to say without one.
fn or_unknown(v: &str, unit: &str, missing: &str) -> String {
    if v.is_empty() {
        missing.into()
    } else {
        format!("{v}{unit}")
    }
}
