//! The report's charts as inline SVG, drawn with plotters' SVG backend:
//! a funnel plot, a caterpillar plot and deciles over time.

use std::fmt::Write;

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::aggregate::statistics::Model;

/// One unit on a chart.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Point<'a> {
    /// The denominator (x of a funnel plot).
    pub n: f64,
    /// The rate, when the denominator is not 0.
    pub rate: Option<f64>,
    /// The 95% interval of the rate.
    pub ci: Option<(f64, f64)>,
    /// Outside the 99.8% limits.
    pub outlier: bool,
    /// Outside the over-dispersion-adjusted 99.8% limits too.
    pub outlier_adjusted: bool,
    /// The unit code, labelled when an outlier.
    pub code: &'a str,
    /// The unit's name, in the dot's title with its code.
    pub name: &'a str,
    /// Outside a focused page's localities: drawn in grey behind the
    /// focused practices, unlabelled.
    pub background: bool,
}

impl Point<'_> {
    /// What a dot says on hover (and to a screen reader): the practice,
    /// its rate and its denominator.
    fn title(&self, scale: &Scale) -> String {
        format!(
            "{} {}: {} (n = {})",
            self.code,
            self.name,
            self.rate.map_or("–".into(), |v| (scale.y_format)(&v)),
            self.n
        )
    }
}

/// Gives the chart's dots, the `<circle>`s in the order drawn, a `<title>`
/// each, so that every dot names its practice even among thousands.
fn with_titles(svg: String, titles: &[String]) -> String {
    let extra: usize = titles.iter().map(|t| t.len() + 24).sum();
    let mut out = String::with_capacity(svg.len() + extra);
    let mut rest = svg.as_str();
    let mut titles = titles.iter();
    while let Some(at) = rest.find("<circle ") {
        let Some(end) = rest[at..].find("/>").map(|e| at + e) else {
            break;
        };
        out.push_str(&rest[..end]);
        match titles.next() {
            Some(t) => {
                let _ = write!(out, "><title>{}</title></circle>", super::esc(t));
            }
            None => out.push_str("/>"),
        }
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// How a chart reads its rates: proportions (0–100%) or rates per population.
pub(crate) struct Scale<'a> {
    /// The y-axis label of a rate.
    pub y_format: &'a dyn Fn(&f64) -> String,
    /// What the denominator counts, for the funnel's x axis.
    pub x_desc: &'a str,
    /// The statistical model, which gives the funnel limits; a binomial
    /// rate is a proportion, so its y axis stops at 100%.
    pub model: Model,
    /// What the top level is called ("England", or "all practices in
    /// this extract"), for the legend of its rate.
    pub top: &'a str,
}

const W: u32 = 600;
const H: u32 = 380;
const FONT: &str = "sans-serif";
const GREY: RGBColor = RGBColor(150, 150, 150);
const DARK: RGBColor = RGBColor(40, 40, 40);
const POINT: RGBColor = RGBColor(31, 96, 170);
const ALERT: RGBColor = RGBColor(200, 40, 40);
const MUTED: RGBColor = RGBColor(175, 175, 175);

/// Above this many practices a plot draws the unremarkable ones as a
/// density (funnel) or a band (caterpillar): thousands of dots overlap
/// into a blot, and each would weigh the page down. Outliers and a
/// focus's practices stay dots, each naming its practice.
pub(crate) const DENSE_ABOVE: usize = 400;

/// Outliers are labelled with their code only when there are at most
/// this many; more labels overlap into noise (every dot still has its
/// title, and the tables list the outliers).
const LABEL_AT_MOST: usize = 25;

/// How a dot is drawn, in drawing order (grey first, red on top).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Dot {
    Background,
    Plain,
    Outlier,
}

impl Dot {
    fn of(p: &Point) -> Dot {
        match (p.background, p.outlier) {
            (true, _) => Dot::Background,
            (false, true) => Dot::Outlier,
            (false, false) => Dot::Plain,
        }
    }

    fn style(self) -> ShapeStyle {
        match self {
            Dot::Background => MUTED.mix(0.7).filled(),
            Dot::Plain => POINT.mix(0.8).filled(),
            Dot::Outlier => ALERT.filled(),
        }
    }
}

/// Which points a plot draws as dots, in drawing order, and which it
/// folds into a density: with few points every one is a dot; with many,
/// the outliers and (on a focused page) the focus's practices, unless
/// those are many too. When most practices lie beyond the plain limits
/// (an over-dispersed measure, such as ADQ totals), only those beyond
/// the adjusted limits stay dots.
fn split_dots<'p, 'a>(points: &[&'p Point<'a>]) -> (Vec<&'p Point<'a>>, Vec<&'p Point<'a>>) {
    if points.len() <= DENSE_ABOVE {
        let mut dots = points.to_vec();
        dots.sort_by_key(|p| Dot::of(p));
        return (dots, Vec::new());
    }
    let count = |dot: Dot| points.iter().filter(|p| Dot::of(p) == dot).count();
    let (plain, outliers) = (count(Dot::Plain), count(Dot::Outlier));
    let focused = points.iter().any(|p| p.background);
    let (mut dots, dense): (Vec<&Point>, Vec<&Point>) =
        points.iter().partition(|p| match Dot::of(p) {
            Dot::Outlier => outliers <= DENSE_ABOVE || p.outlier_adjusted,
            Dot::Plain => focused && plain <= DENSE_ABOVE,
            Dot::Background => false,
        });
    dots.sort_by_key(|p| Dot::of(p));
    (dots, dense)
}

/// Shading of a grid of cells by how many points fall in each (the
/// square root, so that a few points still show), as rectangles in data
/// coordinates.
fn density(
    points: &[(f64, f64)],
    x: (f64, f64),
    y: (f64, f64),
    colour: RGBColor,
) -> Vec<Rectangle<(f64, f64)>> {
    const NX: usize = 60;
    const NY: usize = 38;
    let mut cells = vec![0u32; NX * NY];
    let (dx, dy) = ((x.1 - x.0) / NX as f64, (y.1 - y.0) / NY as f64);
    for &(px, py) in points {
        let i = (((px - x.0) / dx) as usize).min(NX - 1);
        let j = (((py.min(y.1) - y.0) / dy).max(0.0) as usize).min(NY - 1);
        cells[j * NX + i] += 1;
    }
    let top = f64::from(cells.iter().copied().max().unwrap_or(1).max(1));
    cells
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| {
            let (i, j) = ((k % NX) as f64, (k / NX) as f64);
            let alpha = 0.15 + 0.75 * (f64::from(*n) / top).sqrt();
            Rectangle::new(
                [
                    (x.0 + i * dx, y.0 + j * dy),
                    (x.0 + (i + 1.0) * dx, y.0 + (j + 1.0) * dy),
                ],
                colour.mix(alpha).filled(),
            )
        })
        .collect()
}

type Result = std::result::Result<String, String>;
/// A line or outline in data coordinates.
type Path = Vec<(f64, f64)>;
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A titled chart area with room for axis labels.
fn axes<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    title: &str,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> std::result::Result<Chart<'a, 'b>, String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    ChartBuilder::on(root)
        .caption(title, (FONT, 15))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(x, y)
        .map_err(|e| e.to_string())
}

/// Axes with the index dates along x (one tick each) and rates up to
/// `ymax` on y, labelled `y` (its title and format).
fn dated_axes<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    title: &str,
    dates: &[String],
    ymax: f64,
    y: (&str, &dyn Fn(&f64) -> String),
) -> std::result::Result<Chart<'a, 'b>, String> {
    let n = dates.len().max(2);
    let mut chart = axes(root, title, -0.2f64..(n - 1) as f64 + 0.2, 0f64..ymax)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(dates.len().max(1))
        .x_label_formatter(&|x| {
            let k = x.round();
            if (x - k).abs() < 1e-6 && k >= 0.0 {
                dates.get(k as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(y.0)
        .y_label_formatter(y.1)
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(chart)
}

/// The series legend, top right.
fn legend<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>) -> std::result::Result<(), String> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(GREY)
        .label_font((FONT, 11))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| e.to_string())
}

/// A proportion as a percentage (one decimal below 10%).
pub(crate) fn percent(v: &f64) -> String {
    if *v < 0.1 {
        format!("{:.1}%", v * 100.0)
    } else {
        format!("{:.0}%", v * 100.0)
    }
}

fn y_max(values: impl Iterator<Item = f64>, bounded: bool) -> f64 {
    let top = values.fold(0.0f64, f64::max) * 1.1;
    if bounded {
        top.clamp(0.05, 1.0)
    } else if top > 0.0 {
        top
    } else {
        1.0
    }
}

/// Practices' rates against their denominators, with the exact limits
/// around `target` (95% and 99.8%, solid) and the over-dispersion adjusted
/// 99.8% limits (dashed); practices outside 99.8% are labelled.
pub fn funnel(
    title: &str,
    practices: &[Point],
    target: f64,
    tau2: Option<f64>,
    scale: &Scale,
) -> Result {
    let max_n = practices
        .iter()
        .map(|r| r.n.round())
        .fold(1.0f64, f64::max)
        .max(10.0);
    let ymax = y_max(
        practices
            .iter()
            .filter_map(|r| r.rate)
            .chain([target * 2.5]),
        scale.model == Model::Binomial,
    );
    let grid: Vec<f64> = (0..=120)
        .map(|k| max_n.powf(k as f64 / 120.0).round())
        .filter(|n| *n >= 1.0)
        .collect();
    let mut svg = String::new();
    let titles: Vec<String>;
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        let mut chart = axes(&root, title, 0f64..max_n * 1.05, 0f64..ymax)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_desc(scale.x_desc)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_desc("Rate")
            .y_label_formatter(scale.y_format)
            .draw()
            .map_err(|e| e.to_string())?;
        let line = |p: f64, adj: bool| -> Vec<(f64, f64)> {
            grid.iter()
                .filter_map(|&n| {
                    let tau2 = adj.then(|| tau2.unwrap_or(0.0));
                    scale
                        .model
                        .limit(target, n, p, tau2)
                        .map(|v| (n, v.min(ymax)))
                })
                .collect()
        };
        chart
            .draw_series(LineSeries::new(
                [(0.0, target), (max_n * 1.05, target)],
                DARK.stroke_width(1),
            ))
            .map_err(|e| e.to_string())?
            .label(format!("rate, {}", scale.top))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], DARK));
        for (p, style, label) in [
            (0.025, GREY.stroke_width(1), "95% limits"),
            (0.975, GREY.stroke_width(1), ""),
            (0.001, ALERT.mix(0.6).stroke_width(1), "99.8% limits"),
            (0.999, ALERT.mix(0.6).stroke_width(1), ""),
        ] {
            let s = chart
                .draw_series(LineSeries::new(line(p, false), style))
                .map_err(|e| e.to_string())?;
            if !label.is_empty() {
                s.label(label)
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], style));
            }
        }
        if tau2.is_some_and(|t| t > 0.0) {
            for p in [0.001, 0.999] {
                chart
                    .draw_series(DashedLineSeries::new(
                        line(p, true),
                        4,
                        4,
                        ALERT.mix(0.4).stroke_width(1),
                    ))
                    .map_err(|e| e.to_string())?;
            }
        }
        let rated: Vec<&Point> = practices.iter().filter(|r| r.rate.is_some()).collect();
        let (dots, dense) = split_dots(&rated);
        let focused = rated.iter().any(|p| p.background);
        if !dense.is_empty() {
            let xy: Vec<(f64, f64)> = dense.iter().filter_map(|p| Some((p.n, p.rate?))).collect();
            let colour = if focused { MUTED } else { POINT };
            chart
                .draw_series(density(&xy, (0.0, max_n * 1.05), (0.0, ymax), colour))
                .map_err(|e| e.to_string())?;
        }
        titles = dots.iter().map(|r| r.title(scale)).collect();
        chart
            .draw_series(dots.iter().filter_map(|p| {
                let radius = if p.background { 2 } else { 3 };
                Some(Circle::new((p.n, p.rate?), radius, Dot::of(p).style()))
            }))
            .map_err(|e| e.to_string())?;
        let labelled: Vec<&&Point> = dots.iter().filter(|p| Dot::of(p) == Dot::Outlier).collect();
        if labelled.len() <= LABEL_AT_MOST {
            chart
                .draw_series(labelled.iter().filter_map(|p| {
                    Some(Text::new(
                        p.code.to_string(),
                        (p.n, p.rate?),
                        (FONT, 11).into_font().color(&ALERT),
                    ))
                }))
                .map_err(|e| e.to_string())?;
        }
        legend(&mut chart)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(with_titles(svg, &titles))
}

/// Practices ranked by rate, each with its 95% interval, against the
/// national rate.
pub fn caterpillar(title: &str, practices: &[Point], target: f64, scale: &Scale) -> Result {
    let mut ranked: Vec<&Point> = practices.iter().filter(|r| r.rate.is_some()).collect();
    ranked.sort_by(|a, b| {
        a.rate
            .partial_cmp(&b.rate)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let n = ranked.len().max(1);
    let ymax = y_max(
        ranked
            .iter()
            .filter_map(|r| r.ci.map(|c| c.1))
            .chain([target]),
        scale.model == Model::Binomial,
    );
    let mut svg = String::new();
    let mut titles = Vec::with_capacity(ranked.len());
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        let mut chart = axes(&root, title, 0f64..n as f64 + 1.0, 0f64..ymax)?;
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .x_desc("Practices, ranked by rate")
            .y_desc("Rate (95% CI)")
            .y_label_formatter(scale.y_format)
            .x_label_formatter(&|_| String::new())
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, target), (n as f64 + 1.0, target)],
                DARK.stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
        let (dots, dense) = split_dots(&ranked);
        if !dense.is_empty() {
            let colour = if ranked.iter().any(|p| p.background) {
                MUTED
            } else {
                POINT
            };
            let (band, line) = ranked_band(&ranked);
            chart
                .draw_series([Polygon::new(band, colour.mix(0.35).filled())])
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(LineSeries::new(line, colour.stroke_width(1)))
                .map_err(|e| e.to_string())?;
        }
        let rank: std::collections::HashMap<*const Point, usize> = ranked
            .iter()
            .enumerate()
            .map(|(k, p)| (*p as *const Point, k))
            .collect();
        for r in dots {
            let x = rank
                .get(&(r as *const Point))
                .map_or(0.0, |k| *k as f64 + 1.0);
            let style = Dot::of(r).style();
            if let (Some((lo, hi)), Some(v)) = (r.ci, r.rate) {
                chart
                    .draw_series([PathElement::new([(x, lo), (x, hi)], style.stroke_width(1))])
                    .map_err(|e| e.to_string())?;
                chart
                    .draw_series([Circle::new((x, v), 3, style)])
                    .map_err(|e| e.to_string())?;
                titles.push(r.title(scale));
            }
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(with_titles(svg, &titles))
}

/// Ranked practices' 95% intervals as one band (the median lower and
/// median upper limit of each of at most 300 columns of ranks) and their
/// rates as a line through each column's middle practice.
fn ranked_band(ranked: &[&Point]) -> (Path, Path) {
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied()
    };
    let per = ranked.len().div_ceil(300).max(1);
    let mut lower = Vec::new();
    let mut upper = Vec::new();
    let mut line = Vec::new();
    for (c, column) in ranked.chunks(per).enumerate() {
        let x = (c * per) as f64 + column.len() as f64 / 2.0 + 0.5;
        let lo = median(column.iter().filter_map(|p| p.ci.map(|c| c.0)).collect());
        let hi = median(column.iter().filter_map(|p| p.ci.map(|c| c.1)).collect());
        if let (Some(lo), Some(hi)) = (lo, hi) {
            lower.push((x, lo));
            upper.push((x, hi));
        }
        if let Some(v) = column[column.len() / 2].rate {
            line.push((x, v));
        }
    }
    upper.reverse();
    lower.extend(upper);
    (lower, line)
}

/// The 10th..90th percentiles of practice rates at each index date (grey;
/// the median dark), with the top level's rate (red).
pub(crate) fn deciles_over_time(title: &str, t: &Trend, scale: &Scale) -> Result {
    let (dates, deciles, national) = (&t.labels, &t.deciles, &t.national);
    let ymax = y_max(
        deciles
            .iter()
            .flat_map(|d| d.iter().copied())
            .chain(national.iter().copied())
            .chain(t.focus.iter().flat_map(|f| f.1.iter().copied())),
        scale.model == Model::Binomial,
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        let mut chart = dated_axes(&root, title, dates, ymax, ("Practice rate", scale.y_format))?;
        for k in 0..9 {
            let style = if k == 4 {
                DARK.stroke_width(2)
            } else {
                GREY.stroke_width(1)
            };
            let pts: Vec<(f64, f64)> = deciles
                .iter()
                .enumerate()
                .map(|(i, d)| (i as f64, d[k]))
                .collect();
            let s = chart
                .draw_series(LineSeries::new(pts, style))
                .map_err(|e| e.to_string())?;
            if k == 4 {
                s.label("median practice")
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], style));
            } else if k == 0 {
                s.label("deciles")
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], style));
            }
        }
        let pts: Vec<(f64, f64)> = national
            .iter()
            .enumerate()
            .map(|(i, v)| (i as f64, *v))
            .collect();
        chart
            .draw_series(LineSeries::new(pts, ALERT.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(scale.top.to_string())
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], ALERT.stroke_width(2)));
        for (name, rates) in &t.focus {
            let pts: Vec<(f64, f64)> = rates
                .iter()
                .enumerate()
                .map(|(i, v)| (i as f64, *v))
                .collect();
            let style = POINT.stroke_width(3);
            chart
                .draw_series(LineSeries::new(pts, style).point_size(3))
                .map_err(|e| e.to_string())?
                .label(name.clone())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], style));
        }
        legend(&mut chart)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// A few proportions over the index dates, one line each (a gap where a
/// rate has no denominator): outcomes beside prevalence.
pub(crate) fn lines(
    title: &str,
    dates: &[String],
    series: &[(String, Vec<Option<f64>>)],
) -> Result {
    const COLOURS: [RGBColor; 6] = [
        DARK,
        ALERT,
        POINT,
        RGBColor(40, 150, 80),
        RGBColor(200, 130, 20),
        RGBColor(120, 60, 160),
    ];
    let ymax = y_max(
        series.iter().flat_map(|(_, v)| v.iter().flatten().copied()),
        true,
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        let mut chart = dated_axes(&root, title, dates, ymax, ("Rate", &percent))?;
        for (k, (label, values)) in series.iter().enumerate() {
            let style = COLOURS[k % COLOURS.len()].stroke_width(2);
            // Each run of known rates is one line.
            let mut runs: Vec<Vec<(f64, f64)>> = vec![vec![]];
            for (i, v) in values.iter().enumerate() {
                match v {
                    Some(v) => runs.last_mut().map_or((), |r| r.push((i as f64, *v))),
                    None => runs.push(vec![]),
                }
            }
            let mut first = true;
            for run in runs.into_iter().filter(|r| !r.is_empty()) {
                let s = chart
                    .draw_series(LineSeries::new(run, style).point_size(3))
                    .map_err(|e| e.to_string())?;
                if std::mem::take(&mut first) {
                    s.label(label.clone())
                        .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], style));
                }
            }
        }
        legend(&mut chart)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Per-period history behind a deciles-over-time chart.
pub struct Trend {
    /// Period labels, oldest first.
    pub labels: Vec<String>,
    /// The deciles of practice rates in each period.
    pub deciles: Vec<[f64; 9]>,
    /// The top level's rate in each period.
    pub national: Vec<f64>,
    /// A focused page's localities: each one's name and rate in each period.
    pub focus: Vec<(String, Vec<f64>)>,
}

/// One indicator's or measure's charts: the funnel plot, the caterpillar
/// plot and, with a history of two or more periods, deciles over time.
pub(crate) fn panel(
    id: &str,
    period: &str,
    practices: &[Point],
    target: f64,
    tau2: Option<f64>,
    scale: &Scale,
    trend: Option<&Trend>,
) -> Result {
    let mut out = funnel(
        &format!("{id} funnel plot, {period}"),
        practices,
        target,
        tau2,
        scale,
    )?;
    out.push_str(&caterpillar(
        &format!("{id} practices with 95% CIs"),
        practices,
        target,
        scale,
    )?);
    if let Some(t) = trend.filter(|t| t.labels.len() > 1 && t.deciles.len() == t.labels.len()) {
        out.push_str(&deciles_over_time(
            &format!("{id} deciles over time"),
            t,
            scale,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` practices at a 10% rate; `outlier(k)` and `focused(k)` say which
    /// are beyond the limits and inside the focus (`None`: no focus).
    fn points(
        n: usize,
        outlier: impl Fn(usize) -> (bool, bool),
        focused: Option<&dyn Fn(usize) -> bool>,
    ) -> Vec<Point<'static>> {
        (0..n)
            .map(|k| Point {
                n: 100.0 + k as f64,
                rate: Some(0.1 + k as f64 / (10.0 * n as f64)),
                ci: Some((0.05, 0.15 + k as f64 / (10.0 * n as f64))),
                outlier: outlier(k).0,
                outlier_adjusted: outlier(k).1,
                code: "X",
                name: "X",
                background: focused.is_some_and(|f| !f(k)),
            })
            .collect()
    }

    fn split(p: &[Point<'static>]) -> (usize, usize, Vec<Dot>) {
        let refs: Vec<&Point> = p.iter().collect();
        let (dots, dense) = split_dots(&refs);
        let kinds = dots.iter().map(|d| Dot::of(d)).collect();
        (dots.len(), dense.len(), kinds)
    }

    #[test]
    fn few_practices_are_all_dots_grey_under_blue_under_red() {
        let p = points(10, |k| (k == 0, false), Some(&|k| k >= 5));
        let (dots, dense, kinds) = split(&p);
        assert_eq!((dots, dense), (10, 0));
        assert!(kinds.windows(2).all(|w| w[0] <= w[1]), "{kinds:?}");
        assert_eq!(kinds[0], Dot::Background);
        assert_eq!(kinds[9], Dot::Plain);
        // Practice 0 is an outlier outside the focus: grey like the others.
        assert_eq!(kinds.iter().filter(|k| **k == Dot::Outlier).count(), 0);
    }

    #[test]
    fn many_practices_keep_only_outliers_and_the_focus_as_dots() {
        // 1,000 practices, 5 outliers, no focus: 5 dots, the rest shaded.
        let p = points(1000, |k| (k % 200 == 0, false), None);
        assert_eq!(split(&p).0, 5);
        assert_eq!(split(&p).1, 995);
        // A focus of 20, 3 of them outliers: its 20 are the dots.
        let p = points(1000, |k| (k % 7 == 0, false), Some(&|k| k < 20));
        let (dots, dense, kinds) = split(&p);
        assert_eq!((dots, dense), (20, 980));
        assert_eq!(kinds.iter().filter(|k| **k == Dot::Outlier).count(), 3);
        // Over-dispersed: 600 beyond the plain limits, 10 beyond the adjusted.
        let p = points(1000, |k| (k < 600, k < 10), None);
        assert_eq!(split(&p).0, 10);
    }

    #[test]
    fn density_shades_each_occupied_cell_once() {
        let cells = density(
            &[(1.0, 1.0), (1.05, 1.05), (9.95, 9.95), (20.0, 50.0)],
            (0.0, 10.0),
            (0.0, 10.0),
            POINT,
        );
        // Cells are 1/6 wide and 10/38 high: the first two points share
        // one; the last is clamped into the top right cell, the third's.
        assert_eq!(cells.len(), 2);
        assert!(density(&[], (0.0, 10.0), (0.0, 10.0), POINT).is_empty());
    }

    #[test]
    fn the_band_follows_the_ranked_intervals_in_at_most_300_columns() {
        let p = points(1000, |_| (false, false), None);
        let ranked: Vec<&Point> = p.iter().collect();
        let (band, line) = ranked_band(&ranked);
        assert_eq!(line.len(), 250);
        assert_eq!(band.len(), 500);
        // Lower limits left to right, then upper limits right to left.
        let (lower, upper) = band.split_at(250);
        assert!(lower.iter().all(|p| (p.1 - 0.05).abs() < 1e-12));
        assert!(upper
            .windows(2)
            .all(|w| w[0].0 > w[1].0 && w[0].1 >= w[1].1));
        assert!(line.windows(2).all(|w| w[0].1 <= w[1].1));
    }
}
