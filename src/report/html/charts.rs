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
    /// The unit code, labelled when an outlier.
    pub code: &'a str,
    /// The unit's name, in the dot's title with its code.
    pub name: &'a str,
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

type Result = std::result::Result<String, String>;
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
        .light_line_style(WHITE)
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
            .light_line_style(WHITE)
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
        let points: Vec<(f64, f64, bool, &str)> = practices
            .iter()
            .filter_map(|r| r.rate.map(|v| (r.n, v, r.outlier, r.code)))
            .collect();
        titles = practices
            .iter()
            .filter(|r| r.rate.is_some())
            .map(|r| r.title(scale))
            .collect();
        chart
            .draw_series(points.iter().map(|&(x, y, out, _)| {
                Circle::new(
                    (x, y),
                    3,
                    if out {
                        ALERT.filled()
                    } else {
                        POINT.mix(0.8).filled()
                    },
                )
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(points.iter().filter(|p| p.2).map(|&(x, y, _, code)| {
                Text::new(
                    code.to_string(),
                    (x, y),
                    (FONT, 11).into_font().color(&ALERT),
                )
            }))
            .map_err(|e| e.to_string())?;
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
            .light_line_style(WHITE)
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
        for (k, r) in ranked.iter().enumerate() {
            let x = k as f64 + 1.0;
            let color = if r.outlier { ALERT } else { POINT };
            if let (Some((lo, hi)), Some(v)) = (r.ci, r.rate) {
                chart
                    .draw_series([PathElement::new([(x, lo), (x, hi)], color.stroke_width(1))])
                    .map_err(|e| e.to_string())?;
                chart
                    .draw_series([Circle::new((x, v), 3, color.filled())])
                    .map_err(|e| e.to_string())?;
                titles.push(r.title(scale));
            }
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(with_titles(svg, &titles))
}

/// The 10th..90th percentiles of practice rates at each index date (grey;
/// the median dark), with the top level's rate (red).
pub(crate) fn deciles_over_time(
    title: &str,
    dates: &[String],
    deciles: &[[f64; 9]],
    national: &[f64],
    scale: &Scale,
) -> Result {
    let ymax = y_max(
        deciles
            .iter()
            .flat_map(|d| d.iter().copied())
            .chain(national.iter().copied()),
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
            &t.labels,
            &t.deciles,
            &t.national,
            scale,
        )?);
    }
    Ok(out)
}
