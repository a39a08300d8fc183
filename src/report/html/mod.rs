//! `report.html`: one self-contained page (inline SVG and CSS, no network)
//! a commissioner can read without help. The audit's page and the EPD
//! measures' page share the style, the charts and the words here.

mod audit;
mod charts;
mod definitions;
pub mod measures;
pub mod review_pack;

use std::collections::HashMap;
use std::fmt::Write;
use std::hash::Hash;

use crate::aggregate::statistics::P998;
use crate::aggregate::{Flag, UnitStats};
use crate::ingest::locality::Level;
use crate::report::focus::Focus;

pub(crate) use audit::render;

/// File name.
pub const FILE: &str = "report.html";

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1280px;color:#222;padding:0 1em}\
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:2px solid #1f60aa;padding-bottom:.2em}h3{margin-top:1.6em}\
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right}\
th{background:#eef3fa}td.l,th.l{text-align:left}.high{background:#fbe3e3}.low{background:#e3eefb}\
.charts{display:flex;flex-wrap:wrap;gap:1em}.charts svg{border:1px solid #ddd}.note{color:#555;font-size:.9em}\
.scroll{overflow-x:auto}p.focus{background:#eef3fa;border-left:4px solid #1f60aa;padding:.5em 1em}\
table.sortable th{cursor:pointer}th[aria-sort=ascending]::after{content:\" ▲\"}th[aria-sort=descending]::after{content:\" ▼\"}\
.find{margin:.4em 0}.find input{font:inherit;padding:.2em .4em;width:28em}dl.terms dt{font-weight:600;margin-top:.5em}dl.terms dd{margin-left:1.5em}pre.doc{white-space:pre-wrap;font-size:.85em;background:#f7f7f7;padding:1em}";

/// The page's only script, inline (the page fetches nothing): tables of
/// class `sortable` sort by the column whose heading is clicked (numbers
/// by value, then text); a search box filters its table's rows by their
/// first cell; and, where the page carries `practice-data`, a search box
/// finds any practice's values in every measure. Without script the page
/// still reads: it lists what matters first.
const TABLE_SCRIPT: &str = r#"<script>
(function(){
function key(c){var t=c.textContent.trim(),n=parseFloat(t.replace(/,/g,''));return isNaN(n)?[1,t.toLowerCase()]:[0,n];}
function cmp(a,b){return a[0]-b[0]||(a[1]<b[1]?-1:a[1]>b[1]?1:0);}
document.querySelectorAll('table.sortable').forEach(function(t){
var head=t.rows[0];
Array.prototype.forEach.call(head.cells,function(th,i){th.addEventListener('click',function(){
var asc=th.getAttribute('aria-sort')!=='ascending';
Array.prototype.forEach.call(head.cells,function(h){h.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',asc?'ascending':'descending');
var body=head.parentNode,rows=Array.prototype.slice.call(body.rows).filter(function(r){return r!==head;});
rows.sort(function(a,b){var x=cmp(key(a.cells[i]),key(b.cells[i]));return asc?x:-x;});
rows.forEach(function(r){body.appendChild(r);});});});});
document.querySelectorAll('.find[data-table]').forEach(function(f){
var t=document.getElementById(f.getAttribute('data-table')),q=f.querySelector('input');
q.addEventListener('input',function(){var s=q.value.trim().toLowerCase();
Array.prototype.forEach.call(t.rows,function(r,k){if(k===0)return;r.style.display=s&&r.cells[0].textContent.toLowerCase().indexOf(s)<0?'none':'';});});});
var d=document.getElementById('practice-data');
if(d){var data=JSON.parse(d.textContent),q=document.getElementById('find-practice'),out=document.getElementById('found-practices');
q.addEventListener('input',function(){var s=q.value.trim().toLowerCase(),h='';
if(s.length>1){var n=0;for(var k=0;k<data.practices.length&&n<20;k++){var p=data.practices[k];
if((p[0]+' '+p[1]).toLowerCase().indexOf(s)<0)continue;n++;
h+='<tr><td class="l">'+esc(p[0]+' '+p[1])+'</td>';
for(var m=0;m<data.measures.length;m++){var v=p[2+m];h+='<td class="'+(v[2]||'')+'">'+(v[0]===null?'–':v[0])+(v[1]===null?'':' ('+v[1]+')')+'</td>';}
h+='</tr>';}}
out.tBodies[0].innerHTML=h;});}
function esc(s){return s.replace(/[&<>"]/g,function(c){return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c];});}
})();
</script>"#;

/// What a focused page shows, and that the tables (`table`, the main
/// one, and the rest) do not follow it.
fn focus_note(f: &Focus, top: &str, table: &str) -> String {
    format!(
        "<p class=\"focus\">This page is about {}: its practices are drawn in colour over every practice of the run (grey) in the plots, \
         whose limits and deciles are those of {top}; its units alone are listed in the tables below. \
         The output tables (<code>{table}</code> and the rest) hold every unit of the run.</p>",
        esc(&f.describe())
    )
}

/// How the plots draw many practices, and a focus, for the notes above them.
fn many_dots() -> String {
    format!(
        "With more than {} practices, those within the limits are shaded by how many fall in each area (funnel) \
         and drawn as a band of their median 95% interval by rank (caterpillar); outliers stay dots. Every dot names its practice on hover. \
         On a focused page the focus's practices are the coloured dots, over every other practice in grey.",
        charts::DENSE_ABOVE
    )
}

/// Tables longer than this list only what matters (units beyond the
/// limits) and leave the rest to the output tables.
const LONG_TABLE: usize = 200;

/// Tables longer than this get a search box.
const SEARCHABLE_TABLE: usize = 20;

/// Writes a sortable table whose rows are `(matters, cells)`: over
/// [`LONG_TABLE`] rows, only those that matter (beyond the limits) are
/// listed, in the order given, and `note` under the table says which and
/// where the others are (the output tables hold every unit; thousands of
/// rows would weigh the page down); over [`SEARCHABLE_TABLE`] rows it
/// gets a search box. `head` is the heading row's cells; `what` names a
/// row for the search box ("a practice").
fn long_table(
    w: &mut String,
    id: &str,
    head: &str,
    mut rows: Vec<(bool, String)>,
    what: &str,
    note: &str,
) {
    let long = rows.len() > LONG_TABLE;
    if long {
        rows.retain(|(matters, _)| *matters);
    }
    if rows.len() > SEARCHABLE_TABLE {
        let _ = write!(
            w,
            "<div class=\"find\" data-table=\"{id}\"><input type=\"search\" placeholder=\"Filter this table: {what}'s code or name\" aria-label=\"Filter this table\"></div>"
        );
    }
    let _ = write!(
        w,
        "<div class=\"scroll\"><table class=\"sortable\" id=\"{id}\"><tr>{head}</tr>"
    );
    for (_, cells) in &rows {
        let _ = write!(w, "<tr>{cells}</tr>");
    }
    w.push_str("</table></div>");
    if long {
        let _ = write!(w, "<p class=\"note\">{note}</p>");
    }
}

/// How many units lie beyond the 99.8% limits: above and below, plain
/// and over-dispersion adjusted. The headlines count practices with it.
#[derive(Default)]
struct Beyond {
    above: usize,
    below: usize,
    above_adjusted: usize,
    below_adjusted: usize,
}

impl Beyond {
    fn count<'a>(stats: impl Iterator<Item = &'a UnitStats>) -> Beyond {
        let mut b = Beyond::default();
        for s in stats {
            b.above += usize::from(s.flag[P998] == Some(Flag::High));
            b.below += usize::from(s.flag[P998] == Some(Flag::Low));
            b.above_adjusted += usize::from(s.flag_adjusted[P998] == Some(Flag::High));
            b.below_adjusted += usize::from(s.flag_adjusted[P998] == Some(Flag::Low));
        }
        b
    }
}

/// The class of a unit's row or cell beyond its 99.8% limits: red above,
/// blue below.
fn flag_class(s: &UnitStats) -> &'static str {
    match s.flag[P998] {
        Some(Flag::High) => "high",
        Some(Flag::Low) => "low",
        _ => "",
    }
}

/// A page's rows by (level, unit code, indicator or measure id, period),
/// indexed once: the trends ask for every period of every indicator, and
/// a scan of the run's rows for each grows with periods × units.
struct ByUnit<'a, P, R> {
    rows: HashMap<(Level, &'a str, &'a str, P), &'a R>,
    /// The top level's one unit code.
    top: Option<&'a str>,
}

impl<'a, P: Copy + Eq + Hash, R> ByUnit<'a, P, R> {
    /// Indexes `rows` by `key`: (level, unit code, id, period).
    fn new(rows: &'a [R], key: impl Fn(&'a R) -> (Level, &'a str, &'a str, P)) -> Self {
        let mut index = HashMap::with_capacity(rows.len());
        let mut top = None;
        for r in rows {
            let k = key(r);
            if k.0 == Level::National {
                top.get_or_insert(k.1);
            }
            index.entry(k).or_insert(r);
        }
        ByUnit { rows: index, top }
    }

    /// One unit's row for one id and period.
    fn get(&self, level: Level, code: &str, id: &str, period: P) -> Option<&'a R> {
        self.rows.get(&(level, code, id, period)).copied()
    }

    /// One unit's `rate` in each period (the top level's, whatever its
    /// code, for [`Level::National`]).
    fn rates(
        &self,
        periods: &[P],
        level: Level,
        code: &str,
        id: &str,
        rate: impl Fn(&R) -> Option<f64>,
    ) -> Vec<Option<f64>> {
        let code = match level {
            Level::National => self.top.unwrap_or(code),
            _ => code,
        };
        periods
            .iter()
            .map(|p| self.get(level, code, id, *p).and_then(&rate))
            .collect()
    }

    /// The focused localities' lines over the periods, for the deciles
    /// chart (0 where a period has no rate).
    fn focus_lines(
        &self,
        focus: Option<&Focus>,
        periods: &[P],
        id: &str,
        rate: impl Fn(&R) -> Option<f64>,
    ) -> Vec<(String, Vec<f64>)> {
        focus
            .map(|f| {
                f.units
                    .iter()
                    .map(|(level, code, name)| {
                        let line = self.rates(periods, *level, code, id, &rate);
                        (
                            format!("{code} {name}"),
                            line.into_iter().map(|r| r.unwrap_or(0.0)).collect(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

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
