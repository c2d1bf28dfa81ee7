//! Rendering with plotters onto any backend (SVG and PNG share this code). Layout: the title on
//! top, the panels side by side, the legend in its own strip below them, so it never covers data.
//! Colours are the Okabe–Ito palette, distinguishable with the common colour-vision deficiencies.

use std::sync::Once;

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;

use super::data::{BarData, CritPoint, CriticalData, CurveData};
use crate::grid::figure::{LOG_AXIS, MAX_DECADES, Scale, TheoryLine, WidthBound};
use crate::measure::Measured;
use crate::measure::pool::Spread;

/// Okabe–Ito colours (yellow left out: too pale on white).
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(230, 159, 0),   // orange
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
];
const GREY: RGBColor = RGBColor(90, 90, 90);
pub const FONT: &str = "sans-serif";

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Registers the embedded DejaVu Sans font once, so no system fonts are needed.
pub fn register_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .ok()
            .expect("DejaVu Sans is a valid font");
        plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold())
            .ok()
            .expect("DejaVu Sans Bold is a valid font");
    });
}

type DrawResult<T, DB> = Result<T, DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A tick label: powers of ten as 10^k, other values in their shortest form.
pub fn tick(v: f64) -> String {
    if v <= 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let k = v.log10().round();
    if (v / 10f64.powf(k) - 1.0).abs() < 1e-9 {
        return match k as i32 {
            0 => "1".into(),
            1 => "10".into(),
            2 => "100".into(),
            3 => "1000".into(),
            k => format!("1e{k}"),
        };
    }
    if v.abs() >= 1e5 || v.abs() < 1e-3 { format!("{v:.0e}") } else { format!("{}", (v * 1000.0).round() / 1000.0) }
}

/// `lo..hi` made drawable whatever the data (NaN, ±inf, subnormals, an empty or reversed range):
/// clamped into [`LOG_AXIS`] and at most [`MAX_DECADES`] decades on a log axis, finite and
/// non-empty on a linear one, so plotters' key points always terminate.
pub fn drawable(lo: f64, hi: f64, log: bool) -> (f64, f64) {
    if log {
        let clamp = |v: f64, fallback: f64| if v.is_nan() { fallback } else { v.clamp(LOG_AXIS.0, LOG_AXIS.1) };
        let hi = clamp(hi, 10.0);
        let lo = clamp(lo, hi / 1e16).max(hi / 10f64.powf(MAX_DECADES));
        if lo < hi { (lo, hi) } else { ((hi / 10.0).max(LOG_AXIS.0), (lo * 10.0).min(LOG_AXIS.1)) }
    } else {
        let clamp = |v: f64, fallback: f64| if v.is_nan() { fallback } else { v.clamp(-1e300, 1e300) };
        let (lo, hi) = (clamp(lo, 0.0), clamp(hi, 1.0));
        let pad = 1e-9 * lo.abs().max(hi.abs()).max(1.0);
        if hi - lo > pad { (lo, hi) } else { (lo - pad, lo + pad) }
    }
}

/// A legend entry: the line or marker style and its text.
pub enum Key {
    Line(RGBColor, &'static str),
    Point(RGBColor),
    Bar(RGBColor),
    /// A min–max whisker.
    Whisker,
    /// The ✗ of a value never reached.
    Cross,
    /// The ▼ under a value that is only an upper bound.
    Below,
}

/// Splits `root` into title, body and legend; draws title and legend; returns the body.
fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    keys: &[(Key, String)],
) -> DrawResult<DrawingArea<DB, Shift>, DB> {
    root.fill(&WHITE)?;
    let (w, h) = root.dim_in_pixel();
    // Columns as wide as the longest entry (15 px text ≈ 8.5 px per character).
    let column = 50 + keys.iter().map(|(_, t)| t.chars().count()).max().unwrap_or(0) * 17 / 2;
    let per_row = ((w as usize).saturating_sub(40) / column.max(1)).max(1);
    let column = column as i32;
    let rows = keys.len().div_ceil(per_row).max(1) as u32;
    let (top, rest) = root.split_vertically(44);
    top.draw_text(title, &(FONT, 22).into_font().style(FontStyle::Bold).color(&BLACK), (20, 12))?;
    let (body, legend) = rest.split_vertically(h - 44 - 14 - 24 * rows);
    for (i, (key, text)) in keys.iter().enumerate() {
        let x = 30 + (i % per_row) as i32 * column;
        let y = 8 + (i / per_row) as i32 * 24;
        match key {
            Key::Line(c, dash) => {
                let style = c.stroke_width(if dash.is_empty() { 3 } else { 2 });
                let mut x0 = x;
                while x0 < x + 34 {
                    let len = match *dash {
                        "dashed" => 8,
                        "dotted" => 2,
                        _ => 34,
                    };
                    legend.draw(&PathElement::new(vec![(x0, y + 8), ((x0 + len).min(x + 34), y + 8)], style))?;
                    x0 += len + if *dash == "dotted" { 4 } else { 5 };
                }
            }
            Key::Point(c) => legend.draw(&Circle::new((x + 17, y + 8), 5, c.filled()))?,
            Key::Bar(c) => legend.draw(&Rectangle::new([(x + 6, y + 1), (x + 28, y + 15)], c.filled()))?,
            Key::Whisker => legend.draw(&ErrorBar::new_vertical(x + 17, y, y + 8, y + 16, BLACK.stroke_width(1), 6))?,
            Key::Cross => legend.draw(&Cross::new((x + 17, y + 8), 6, GREY.stroke_width(3)))?,
            Key::Below => {
                legend.draw(&Polygon::new(vec![(x + 11, y + 3), (x + 23, y + 3), (x + 17, y + 12)], GREY.filled()))?
            }
        }
        legend.draw_text(text, &(FONT, 15).into_font().color(&BLACK), (x + 42, y))?;
    }
    Ok(body)
}

/// The mesh style every figure shares: label fonts and light grid lines.
fn house_style<'a, 'b, X, Y, DB>(mesh: &'b mut MeshStyle<'a, 'b, X, Y, DB>) -> &'b mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged,
    Y: Ranged,
    DB: DrawingBackend,
{
    mesh.axis_desc_style((FONT, 15))
        .label_style((FONT, 14))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
}

fn line_style(kind: TheoryLine) -> &'static str {
    match kind {
        TheoryLine::Linearised => "dotted",
        TheoryLine::Zou | TheoryLine::DuHu => "dashed",
    }
}

fn line_text(kind: TheoryLine, sgd: bool) -> &'static str {
    match kind {
        TheoryLine::Zou if sgd => "GD bound (1−ρ)^t at this step: a heuristic for SGD",
        TheoryLine::Zou => "Zou et al. bound (1−ρ)^t",
        TheoryLine::Linearised => "linearised rate (1−ηLμ)^(2t)",
        TheoryLine::DuHu => "Du & Hu bound (1−ηLσ_r²/2k)^t",
    }
}

/// A series' legend text: its label, and how many of its runs diverged if any did.
fn series_text(label: &str, runs: usize, diverged: usize) -> String {
    if diverged > 0 { format!("{label} ({diverged} of {runs} runs diverged)") } else { label.to_string() }
}

/// Draws a curves figure.
pub fn curves<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, d: &CurveData) -> DrawResult<(), DB> {
    // One entry per series (a series may span panels), with how many of its runs diverged.
    let mut series: Vec<(&str, usize, usize, usize)> = Vec::new(); // (label, colour, runs, diverged)
    for band in d.panels.iter().flat_map(|p| &p.bands) {
        match series.iter_mut().find(|s| s.0 == band.label) {
            Some(s) => {
                s.2 += band.runs;
                s.3 += band.diverged.len();
            }
            None => series.push((&band.label, band.colour, band.runs, band.diverged.len())),
        }
    }
    let mut keys: Vec<(Key, String)> = series
        .iter()
        .map(|&(label, c, runs, diverged)| (Key::Line(colour(c), ""), series_text(label, runs, diverged)))
        .collect();
    let runs: Vec<usize> = d.panels.iter().flat_map(|p| &p.bands).map(|b| b.runs).collect();
    let (lo, hi) = (runs.iter().min().copied().unwrap_or(0), runs.iter().max().copied().unwrap_or(0));
    let n = if lo == hi { format!("{lo}") } else { format!("{lo}–{hi}") };
    keys.push((Key::Bar(RGBColor(200, 200, 200)), format!("median (line) and min–max (band) of {n} seeds")));
    let mut kinds: Vec<TheoryLine> =
        d.panels.iter().flat_map(|p| &p.bands).flat_map(|b| b.lines.iter().map(|l| l.kind)).collect();
    kinds.dedup();
    kinds.sort_by_key(|k| *k as u8);
    kinds.dedup();
    for k in kinds {
        keys.push((Key::Line(GREY, line_style(k)), line_text(k, d.sgd).to_string()));
    }
    if d.panels.iter().flat_map(|p| &p.bands).any(|b| !b.diverged.is_empty()) {
        keys.push((Key::Cross, "✗ at the top: the iteration where a run diverged (loss not finite)".to_string()));
    }
    let body = frame(root, title, &keys)?;
    let areas = body.split_evenly((1, d.panels.len().max(1)));
    // A diverged seed is +∞ from its ✗ on (drawn at the top): the axis is set by finite values.
    let y_max = d
        .panels
        .iter()
        .flat_map(|p| &p.bands)
        .flat_map(|b| b.points.iter().flat_map(|p| [p.median, p.max]))
        .filter(|v| v.is_finite())
        .fold(d.y_floor, f64::max);
    let y_top = d.y_max.unwrap_or(if d.yscale == Scale::Log { y_max * 3.0 } else { y_max * 1.05 });
    let (y_lo, y_hi) = drawable(d.y_floor, y_top, d.yscale == Scale::Log);
    let (x_lo, x_hi) = drawable(if d.xscale == Scale::Log { 1.0 } else { 0.0 }, d.x_max, d.xscale == Scale::Log);
    for (panel, area) in d.panels.iter().zip(&areas) {
        match (d.xscale, d.yscale) {
            (Scale::Linear, Scale::Log) => curve_panel(area, panel, d, x_lo..x_hi, (y_lo..y_hi).log_scale(), y_hi)?,
            (Scale::Log, Scale::Log) => {
                curve_panel(area, panel, d, (x_lo..x_hi).log_scale(), (y_lo..y_hi).log_scale(), y_hi)?
            }
            (Scale::Linear, Scale::Linear) => curve_panel(area, panel, d, x_lo..x_hi, y_lo..y_hi, y_hi)?,
            (Scale::Log, Scale::Linear) => curve_panel(area, panel, d, (x_lo..x_hi).log_scale(), y_lo..y_hi, y_hi)?,
        }
    }
    Ok(())
}

fn curve_panel<DB, X, Y>(
    area: &DrawingArea<DB, Shift>,
    panel: &super::data::Panel,
    d: &CurveData,
    xr: X,
    yr: Y,
    y_top: f64,
) -> DrawResult<(), DB>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(&panel.title, (FONT, 17))
        .margin(12)
        .x_label_area_size(46)
        .y_label_area_size(74)
        .build_cartesian_2d(xr, yr)?;
    house_style(&mut chart.configure_mesh())
        .x_desc(d.x_label.as_str())
        .y_desc(d.y_label.as_str())
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()?;
    let floor = d.y_floor;
    let top = d.y_max.unwrap_or(f64::INFINITY);
    for band in &panel.bands {
        let c = colour(band.colour);
        let pts: Vec<_> = band.points.iter().filter(|p| p.x >= 0.0).collect();
        if pts.len() > 1 {
            let clip = |y: f64| y.max(floor).min(top);
            let mut poly: Vec<(f64, f64)> = pts.iter().map(|p| (p.x.max(f64::MIN_POSITIVE), clip(p.max))).collect();
            poly.extend(pts.iter().rev().map(|p| (p.x.max(f64::MIN_POSITIVE), clip(p.min))));
            chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(0.18).filled())))?;
        }
        chart
            .draw_series(LineSeries::new(pts.iter().map(|p| (p.x, p.median.max(floor).min(top))), c.stroke_width(2)))?;
    }
    // Theory lines above every series' data, never hidden under another band.
    for band in &panel.bands {
        for line in &band.lines {
            let (dash, gap) = if line.kind == TheoryLine::Linearised { (2, 4) } else { (8, 5) };
            let c = colour(band.colour);
            chart.draw_series(DashedLineSeries::new(line.points.iter().copied(), dash, gap, c.stroke_width(2)))?;
        }
    }
    // Diverged runs: a ✗ at the top of the panel, at the iteration where each diverged.
    for band in &panel.bands {
        let c = colour(band.colour);
        chart.draw_series(
            band.diverged.iter().map(|&x| EmptyElement::at((x, y_top)) + Cross::new((0, 10), 6, c.stroke_width(3))),
        )?;
    }
    Ok(())
}

fn bound_text(kind: WidthBound) -> &'static str {
    match kind {
        WidthBound::Zou => "m_Zou = k·r·κ²",
        WidthBound::ZouStable => "k·r̃·κ² (stable rank)",
        WidthBound::DuHu => "m_DuHu = L·r·κ³·k",
        WidthBound::ModifiedIdentity => "d + k",
        WidthBound::Margin => "Zou condition margin = 1",
    }
}

fn bound_colour(kind: WidthBound) -> RGBColor {
    match kind {
        WidthBound::Zou | WidthBound::ZouStable => colour(0),
        WidthBound::DuHu => colour(1),
        WidthBound::ModifiedIdentity => GREY,
        WidthBound::Margin => colour(2),
    }
}

/// Draws a critical-width figure (log–log).
pub fn critical<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    d: &CriticalData,
) -> DrawResult<(), DB> {
    let mut keys: Vec<(Key, String)> =
        d.series.iter().map(|s| (Key::Point(colour(s.colour + 3)), s.label.clone())).collect();
    keys.extend(d.bounds.iter().map(|b| (Key::Line(bound_colour(b.kind), "dashed"), bound_text(b.kind).to_string())));
    keys.push((Key::Line(GREY, "dotted"), "widest width run (▲: none of the widths sufficed)".to_string()));
    let censored_below = |p: &CritPoint| matches!(p.width.pooled, Measured::AtMost(_));
    if d.series.iter().flat_map(|s| &s.points).any(censored_below) {
        keys.push((Key::Below, "▼: the smallest width run already sufficed (critical width ≤ it)".to_string()));
    }
    let body = frame(root, title, &keys)?;
    let mut xs: Vec<f64> = d.series.iter().flat_map(|s| s.points.iter().map(|p| p.x)).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let (x_lo, x_hi) = (xs.iter().copied().fold(f64::INFINITY, f64::min), xs.iter().copied().fold(0.0, f64::max));
    let widths_top = d.widths.last().copied().unwrap_or(1.0);
    let y_hi = d.bounds.iter().flat_map(|b| b.points.iter().map(|p| p.1)).fold(widths_top, f64::max) * 2.0;
    // Room under the smallest width for the ▼ of an upper bound.
    let y_lo = d.widths.first().copied().unwrap_or(1.0) / 2.5;
    let (x_from, x_to) = drawable(x_lo / 1.25, x_hi * 1.25, true);
    let (y_lo, y_hi) = drawable(y_lo, y_hi, true);
    xs.retain(|x| (x_from..=x_to).contains(x));
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .x_label_area_size(46)
        .y_label_area_size(74)
        .build_cartesian_2d((x_from..x_to).log_scale().with_key_points(xs.clone()), (y_lo..y_hi).log_scale())?;
    house_style(&mut chart.configure_mesh())
        .x_desc(d.x_label.as_str())
        .y_desc("width m")
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()?;
    // The widest width of the grid: a critical width above it was not found.
    chart.draw_series(DashedLineSeries::new([(x_from, widths_top), (x_to, widths_top)], 2, 4, GREY.stroke_width(1)))?;
    let n = d.series.len().max(1) as f64;
    for (i, s) in d.series.iter().enumerate() {
        let c = colour(s.colour + 3);
        // Series side by side around each x so their error bars do not overlap.
        let shift = 1.0 + 0.06 * (i as f64 - (n - 1.0) / 2.0);
        // A width the grid pins down or bounds from above is a point; "none sufficed" a ▲ above
        // the widest width.
        let found = |m: Measured| match m {
            Measured::Value(w) | Measured::AtMost(w) => Some(w),
            Measured::Above(_) | Measured::Absent(_) => None,
        };
        let line: Vec<(f64, f64)> =
            s.points.iter().filter_map(|p| found(p.width.pooled).map(|w| (p.x * shift, w))).collect();
        chart.draw_series(LineSeries::new(line.iter().copied(), c.stroke_width(2)))?;
        for p in &s.points {
            let x = p.x * shift;
            let (lo, hi) =
                (found(p.width.seed_min).unwrap_or(y_lo), found(p.width.seed_max).unwrap_or(widths_top * 1.4));
            chart.draw_series(std::iter::once(ErrorBar::new_vertical(
                x,
                lo,
                found(p.width.pooled).unwrap_or(hi),
                hi,
                c.stroke_width(2),
                8,
            )))?;
            match found(p.width.pooled) {
                Some(w) => {
                    chart.draw_series(std::iter::once(Circle::new((x, w), 6, c.filled())))?;
                    if censored_below(p) {
                        let below = Polygon::new(vec![(-6, 9), (6, 9), (0, 18)], c.filled());
                        chart.draw_series(std::iter::once(EmptyElement::at((x, w)) + below))?;
                    }
                }
                None => {
                    chart.draw_series(std::iter::once(TriangleMarker::new((x, widths_top * 1.4), 7, c.filled())))?;
                }
            }
        }
    }
    // Bound lines above the data, never hidden under it.
    for b in &d.bounds {
        chart.draw_series(DashedLineSeries::new(
            b.points.iter().copied(),
            8,
            5,
            bound_colour(b.kind).stroke_width(2),
        ))?;
    }
    Ok(())
}

/// Draws grouped bars (log y), with min–max whiskers; a run that never reached the target
/// (infinite value) is marked by a cross above its group.
pub fn bars<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str, d: &BarData) -> DrawResult<(), DB> {
    let mut keys: Vec<(Key, String)> =
        d.series.iter().map(|s| (Key::Bar(colour(s.colour)), series_text(&s.label, s.runs, s.diverged))).collect();
    keys.push((Key::Whisker, "median (bar) and min–max (whisker) across seeds".to_string()));
    if d.series.iter().flat_map(|s| s.values.iter().flatten()).any(|s| !s.median.is_finite()) {
        keys.push((Key::Cross, "✗ above a group: the median seed never reached the target".to_string()));
    }
    let body = frame(root, title, &keys)?;
    let finite: Vec<f64> = d
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten().flat_map(|s| [s.median, s.min, s.max]))
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let y_lo = finite.iter().copied().fold(f64::INFINITY, f64::min).min(1.0) / 1.5;
    let y_hi = finite.iter().copied().fold(0.0, f64::max) * 4.0;
    let (y_lo, y_hi) = drawable(y_lo, y_hi, true);
    let cats = d.categories.clone();
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .x_label_area_size(46)
        .y_label_area_size(74)
        .build_cartesian_2d(-0.5..cats.len() as f64 - 0.5, (y_lo..y_hi).log_scale())?;
    let cat_label = |v: &f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 { cats.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
    };
    house_style(&mut chart.configure_mesh())
        .disable_x_mesh()
        .x_labels(cats.len())
        .x_desc(d.x_label.as_str())
        .y_desc(d.y_label.as_str())
        .x_label_formatter(&cat_label)
        .y_label_formatter(&|v| tick(*v))
        .draw()?;
    let n = d.series.len().max(1) as f64;
    let width = 0.8 / n;
    for (j, series) in d.series.iter().enumerate() {
        let c = colour(series.colour);
        for (i, v) in series.values.iter().enumerate() {
            let Some(Spread { median, min: lo, max: hi }) = *v else { continue };
            let left = i as f64 - 0.4 + j as f64 * width;
            let mid = left + width / 2.0;
            if median.is_finite() {
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(left + 0.01, y_lo), (left + width - 0.01, median)],
                    c.mix(0.85).filled(),
                )))?;
            } else {
                chart.draw_series(std::iter::once(Cross::new((mid, y_hi / 2.0), 7, c.stroke_width(3))))?;
            }
            if lo.is_finite() {
                chart.draw_series(std::iter::once(ErrorBar::new_vertical(
                    mid,
                    lo,
                    median.min(y_hi / 2.0),
                    hi.min(y_hi / 2.0),
                    BLACK.stroke_width(1),
                    6,
                )))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_data_range_becomes_a_drawable_one() {
        let cases = [
            (1e-320, 10.0, true),
            (f64::NAN, f64::NAN, true),
            (f64::INFINITY, f64::INFINITY, true),
            (0.0, f64::INFINITY, true),
            (5.0, 5.0, true),
            (1e-300, 1e300, true),
            (f64::NAN, f64::INFINITY, false),
            (-1e308, 1e308, false),
            (3.0, 3.0, false),
        ];
        for (lo, hi, log) in cases {
            let (a, b) = drawable(lo, hi, log);
            assert!(a.is_finite() && b.is_finite() && a < b, "{lo}..{hi} → {a}..{b}");
            if log {
                assert!(a >= LOG_AXIS.0 && b <= LOG_AXIS.1 && (b / a).log10() <= MAX_DECADES + 1e-9, "{a}..{b}");
            } else {
                assert!((b - a).is_finite(), "{a}..{b}");
            }
        }
        assert_eq!(drawable(1e-6, 10.0, true), (1e-6, 10.0), "a sound range is kept");
    }

    #[test]
    fn a_log_axis_over_a_clamped_range_draws_in_bounded_time() {
        register_fonts();
        let start = std::time::Instant::now();
        for (lo, hi) in [drawable(1e-320, 1e-310, true), drawable(f64::NAN, f64::INFINITY, true)] {
            let mut svg = String::new();
            let root = SVGBackend::with_string(&mut svg, (300, 200)).into_drawing_area();
            let mut chart = ChartBuilder::on(&root).build_cartesian_2d(0.0..1.0, (lo..hi).log_scale()).unwrap();
            chart.configure_mesh().draw().unwrap();
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
    }
}
