//! Rendering with plotters onto any backend (SVG and PNG share this code), sized for print
//! ([`Canvas`]: every length is in printed points). Layout: the title on top, the panels in a grid,
//! the legend in its own strip below them, so it never covers data; every mark drawn has a legend
//! entry.
//! Colours are the Okabe–Ito palette, distinguishable with the common colour-vision deficiencies;
//! from the eighth series on a series also carries a marker shape ([`look`]), so no two series of
//! a figure look alike.

use std::sync::Once;

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;

use super::data::{BarData, CritPoint, CriticalData, CurveData, Panel};
use super::layout::{Canvas, Frame, text_width, wrap};
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
/// The dotted line of a curves figure's floor.
const FLOOR: RGBColor = RGBColor(150, 150, 150);
pub const FONT: &str = "sans-serif";

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A marker shape that tells series of one colour apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Square,
    Diamond,
    OpenCircle,
    OpenSquare,
    OpenDiamond,
}

/// The shapes series take after the first round of colours, in order (a point's own shape, the
/// filled circle, comes first in [`Look::point`]).
const MARKERS: [Marker; 5] =
    [Marker::Square, Marker::Diamond, Marker::OpenCircle, Marker::OpenSquare, Marker::OpenDiamond];

/// How a series is drawn: its colour and, from the eighth series on, a marker shape (along a
/// curve, on top of a bar, as a point's shape). Distinct for the first 7 × 6 = 42 series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    pub colour: RGBColor,
    pub marker: Option<Marker>,
}

impl Look {
    /// The shape of a point of this series (a filled circle unless it has a marker).
    pub fn point(self) -> Marker {
        self.marker.unwrap_or(Marker::Circle)
    }
}

/// The look of colour slot `slot`: the palette's colours in turn, each round after the first
/// with the next marker shape.
pub fn look(slot: usize) -> Look {
    let round = slot / PALETTE.len();
    Look { colour: colour(slot), marker: round.checked_sub(1).map(|r| MARKERS[r % MARKERS.len()]) }
}

/// Draws `marker` of half-size `size` pixels centred at `at` on `area`, in `colour`.
fn draw_marker<DB, CT>(
    area: &DrawingArea<DB, CT>,
    c: &Canvas,
    at: CT::From,
    marker: Marker,
    size: i32,
    colour: RGBColor,
) -> DrawResult<(), DB>
where
    DB: DrawingBackend,
    CT: plotters::coord::CoordTranslate,
    CT::From: Clone,
{
    let (filled, open) = (colour.filled(), colour.stroke_width(c.stroke(0.8)));
    let a = size;
    let d = a + a / 3;
    let diamond = vec![(0, -d), (d, 0), (0, d), (-d, 0)];
    let at = EmptyElement::at(at);
    match marker {
        Marker::Circle => area.draw(&(at + Circle::new((0, 0), a, filled))),
        Marker::OpenCircle => area.draw(&(at + Circle::new((0, 0), a, open))),
        Marker::Square => area.draw(&(at + Rectangle::new([(-a, -a), (a, a)], filled))),
        Marker::OpenSquare => area.draw(&(at + Rectangle::new([(-a, -a), (a, a)], open))),
        Marker::Diamond => area.draw(&(at + Polygon::new(diamond, filled))),
        Marker::OpenDiamond => {
            let mut closed = diamond.clone();
            closed.push(diamond[0]);
            area.draw(&(at + PathElement::new(closed, open)))
        }
    }
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
        if lo < hi {
            (lo, hi)
        } else {
            // An empty or reversed range: two decades ending a decade above `lo`.
            let top = (lo * 10.0).min(LOG_AXIS.1);
            ((top / 100.0).max(LOG_AXIS.0), top)
        }
    } else {
        let clamp = |v: f64, fallback: f64| if v.is_nan() { fallback } else { v.clamp(-1e300, 1e300) };
        let (lo, hi) = (clamp(lo, 0.0), clamp(hi, 1.0));
        let pad = 1e-9 * lo.abs().max(hi.abs()).max(1.0);
        if hi - lo > pad { (lo, hi) } else { (lo - pad, lo + pad) }
    }
}

/// A legend entry: the line or marker style and its text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Key {
    /// A line of this colour: solid (""), "dashed" or "dotted".
    Line(RGBColor, &'static str),
    /// A series' solid line, with its marker if it has one.
    Series(Look),
    /// A wide pale line under the data (a bound that would hide under a series' line).
    Halo(RGBColor),
    /// A series' point, in its shape.
    Point(Look),
    /// A series' bar, with its marker if it has one.
    Bar(Look),
    /// A shaded min–max band with its outline.
    Band,
    /// A min–max whisker.
    Whisker,
    /// The ✗ of a value never reached.
    Cross,
    /// The ▼ under a value that is only an upper bound.
    Below,
    /// The ▲ above the widest width: none sufficed.
    Above,
}

/// Draws a dashed (`dash` and `gap` in points) polyline on a backend-pixel area.
fn dashes<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: &Canvas,
    (x0, x1, y): (i32, i32, i32),
    style: ShapeStyle,
    (dash, gap): (f64, f64),
) -> DrawResult<(), DB> {
    let (dash, gap) = (c.px(dash).max(1), c.px(gap).max(1));
    let mut x = x0;
    while x < x1 {
        area.draw(&PathElement::new(vec![(x, y), ((x + dash).min(x1), y)], style))?;
        x += dash + gap;
    }
    Ok(())
}

/// The dash and gap of a line style, in points.
fn dash_of(style: &str) -> (f64, f64) {
    match style {
        "dashed" => (3.0, 2.0),
        "dotted" => (0.8, 1.5),
        _ => (1000.0, 0.0),
    }
}

/// Splits `root` into title, body and legend; draws title and legend; returns the body.
fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &Canvas,
    title: &str,
    keys: &[(Key, String)],
) -> DrawResult<DrawingArea<DB, Shift>, DB> {
    root.fill(&WHITE)?;
    let texts: Vec<String> = keys.iter().map(|(_, t)| t.clone()).collect();
    let f = Frame::of(c, title, &texts);
    let (_, h) = root.dim_in_pixel();
    let (top, rest) = root.split_vertically(f.title_h);
    let title_font = c.title_font().color(&BLACK);
    for (i, line) in f.title.iter().enumerate() {
        top.draw_text(line, &title_font, (c.em(0.8), c.em(0.5) + i as i32 * c.em(1.15 * 1.3)))?;
    }
    let body_h = (h as i32 - f.title_h - f.legend_h).max(1);
    let (body, legend) = rest.split_vertically(body_h);
    let font = c.text(1.0).color(&BLACK);
    let (m, mid) = (c.em(2.0), c.em(0.6));
    for ((key, _), item) in keys.iter().zip(&f.items) {
        let (x, y) = (item.x, item.y);
        let cy = y + mid;
        match key {
            Key::Line(colour, dash) => {
                let style = colour.stroke_width(c.stroke(if dash.is_empty() { 1.2 } else { 1.0 }));
                dashes(&legend, c, (x, x + m, cy), style, dash_of(dash))?
            }
            Key::Series(look) => {
                legend.draw(&PathElement::new(vec![(x, cy), (x + m, cy)], look.colour.stroke_width(c.stroke(1.2))))?;
                if let Some(marker) = look.marker {
                    draw_marker(&legend, c, (x + m / 2, cy), marker, c.px(1.8), look.colour)?;
                }
            }
            Key::Halo(colour) => legend
                .draw(&PathElement::new(vec![(x, cy), (x + m, cy)], colour.mix(0.35).stroke_width(c.stroke(3.5))))?,
            Key::Point(look) => draw_marker(&legend, c, (x + m / 2, cy), look.point(), c.px(2.0), look.colour)?,
            Key::Bar(look) => {
                let bar = [(x + m / 5, y + c.em(0.1)), (x + 4 * m / 5, y + c.em(1.1))];
                legend.draw(&Rectangle::new(bar, look.colour.mix(0.85).filled()))?;
                if let Some(marker) = look.marker {
                    draw_marker(&legend, c, (x + m / 2, y + c.em(0.1)), marker, c.px(1.8), BLACK)?;
                }
            }
            Key::Band => {
                let r = [(x, y + c.em(0.1)), (x + m, y + c.em(1.1))];
                legend.draw(&Rectangle::new(r, GREY.mix(band_alpha(2)).filled()))?;
                legend.draw(&Rectangle::new(r, GREY.mix(0.7).stroke_width(c.stroke(0.4))))?;
                legend.draw(&PathElement::new(vec![(x, cy), (x + m, cy)], GREY.stroke_width(c.stroke(1.2))))?;
            }
            Key::Whisker => legend.draw(&ErrorBar::new_vertical(
                x + m / 2,
                y,
                cy,
                y + c.em(1.2),
                BLACK.stroke_width(c.stroke(0.7)),
                c.px(3.0) as u32,
            ))?,
            Key::Cross => legend.draw(&Cross::new((x + m / 2, cy), c.px(2.2), GREY.stroke_width(c.stroke(0.9))))?,
            Key::Below => legend.draw(&Polygon::new(
                vec![
                    (x + m / 2 - c.px(2.5), cy - c.px(2.0)),
                    (x + m / 2 + c.px(2.5), cy - c.px(2.0)),
                    (x + m / 2, cy + c.px(2.2)),
                ],
                GREY.filled(),
            ))?,
            Key::Above => legend.draw(&TriangleMarker::new((x + m / 2, cy), c.px(2.5), GREY.filled()))?,
        }
        for (i, line) in item.lines.iter().enumerate() {
            legend.draw_text(line, &font, (x + c.em(2.6), y + i as i32 * c.em(1.3)))?;
        }
    }
    Ok(body)
}

/// The mesh style every figure shares: label fonts and light grid lines.
fn house_style<'a, 'b, X, Y, DB>(
    mesh: &'b mut MeshStyle<'a, 'b, X, Y, DB>,
    c: &Canvas,
) -> &'b mut MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged,
    Y: Ranged,
    DB: DrawingBackend,
{
    mesh.axis_desc_style(c.text(1.0))
        .label_style(c.text(1.0))
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(218, 218, 218))
        .axis_style(BLACK.stroke_width(c.stroke(0.5)))
        .set_all_tick_mark_size(c.px(2.0))
}

/// Opacity of a min–max band in a panel of `bands` bands: low enough that where every band of the
/// panel overlaps (up to 8) the shading stays below a quarter opacity, a light tint rather than a
/// grey block, and the lines over it stay apart (each band also has an outline in its colour);
/// at least 3.5 %, so a band shows.
fn band_alpha(bands: usize) -> f64 {
    (0.2 / bands.max(1) as f64).clamp(0.035, 0.08)
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

/// Whether every series of `panel` has the same `kind` line (one line drawn once, in grey).
fn shared_line(panel: &Panel, kind: TheoryLine) -> bool {
    let mut lines = panel.bands.iter().map(|b| b.lines.iter().find(|l| l.kind == kind));
    let Some(Some(first)) = lines.next() else { return false };
    panel.bands.len() > 1 && lines.all(|l| l.is_some_and(|l| l.points == first.points))
}

/// The legend of a curves figure: each series (with how many of its runs diverged in each
/// panel), the band, each theory line (one grey line when every series shares it, else in the
/// series' colours), the floor where lines end, the ✗.
pub fn curve_keys(d: &CurveData) -> Vec<(Key, String)> {
    // (label, colour, per panel: (panel title, runs, diverged))
    type PanelCount<'a> = (&'a str, usize, usize);
    let mut series: Vec<(&str, usize, Vec<PanelCount>)> = Vec::new();
    for p in &d.panels {
        for band in &p.bands {
            let count = (p.title.as_str(), band.runs, band.diverged.len());
            match series.iter_mut().find(|s| s.0 == band.label) {
                Some(s) => s.2.push(count),
                None => series.push((&band.label, band.colour, vec![count])),
            }
        }
    }
    // A figure without `series` has one unnamed series per panel: the band's entry names its line.
    let mut keys: Vec<(Key, String)> = series
        .iter()
        .filter(|(label, _, counts)| !label.is_empty() || counts.iter().any(|(_, _, k)| *k > 0))
        .map(|(label, c, counts)| {
            // Counted per panel: a series spans panels, a reader counts the seeds of one.
            let diverged: Vec<String> = counts
                .iter()
                .filter(|(_, _, k)| *k > 0)
                .map(|(panel, runs, k)| format!("{k} of {runs} runs diverged in {panel}"))
                .collect();
            let text = match counts.as_slice() {
                [(_, runs, k)] if *k > 0 => format!("{label} ({k} of {runs} runs diverged)"),
                _ if !diverged.is_empty() => format!("{label} ({})", diverged.join("; ")),
                _ => label.to_string(),
            };
            (Key::Series(look(*c)), text)
        })
        .collect();
    let runs: Vec<usize> = d.panels.iter().flat_map(|p| &p.bands).map(|b| b.runs).collect();
    let (lo, hi) = (runs.iter().min().copied().unwrap_or(0), runs.iter().max().copied().unwrap_or(0));
    let n = if lo == hi { format!("{lo}") } else { format!("{lo}–{hi}") };
    keys.push((Key::Band, format!("median (line), min–max of {n} seeds (band)")));
    for kind in TheoryLine::ALL {
        let panels: Vec<&Panel> =
            d.panels.iter().filter(|p| p.bands.iter().any(|b| b.lines.iter().any(|l| l.kind == kind))).collect();
        if panels.is_empty() {
            continue;
        }
        let text = line_text(kind, d.sgd);
        let mut slots = panels.iter().flat_map(|p| &p.bands).map(|b| b.colour);
        let first = slots.next();
        if let Some(slot) = first.filter(|&f| slots.all(|s| s == f)) {
            // One series: its lines are drawn in its colour, and so is their key.
            keys.push((Key::Line(look(slot).colour, line_style(kind)), text.to_string()));
        } else if panels.iter().all(|p| shared_line(p, kind)) {
            keys.push((Key::Line(GREY, line_style(kind)), format!("{text}, the same for every series")));
        } else {
            keys.push((Key::Line(GREY, line_style(kind)), format!("{text}, in each series' colour")));
        }
    }
    if d.ends_at_floor {
        keys.push((Key::Line(FLOOR, "dotted"), format!("floor {}: lines end where they reach it", tick(d.y_floor))));
    }
    if d.panels.iter().flat_map(|p| &p.bands).any(|b| !b.diverged.is_empty()) {
        keys.push((Key::Cross, "✗ at the top: the iteration where a run diverged (loss not finite)".to_string()));
    }
    keys
}

/// The grid of panels of a curves figure at printed width `width` (points): (rows, columns).
pub fn panel_grid(panels: usize, width: f64) -> (usize, usize) {
    let n = panels.max(1);
    let columns = n.min(((width / MIN_PANEL_WIDTH).floor() as usize).max(1));
    (n.div_ceil(columns), columns)
}

/// Narrowest panel, in points.
const MIN_PANEL_WIDTH: f64 = 165.0;

/// The default height of a curves figure's panels at printed width `width`, in points.
pub fn curves_body(d: &CurveData, width: f64) -> f64 {
    let (rows, columns) = panel_grid(d.panels.len(), width);
    rows as f64 * (width / columns as f64 * 0.75).clamp(130.0, 260.0)
}

/// The default height of a one-panel figure at printed width `width`, in points.
pub fn single_body(width: f64) -> f64 {
    (width * 0.62).clamp(150.0, 420.0)
}

/// Draws a curves figure.
pub fn curves<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &Canvas,
    title: &str,
    d: &CurveData,
) -> DrawResult<(), DB> {
    let body = frame(root, c, title, &curve_keys(d))?;
    let (rows, columns) = panel_grid(d.panels.len(), c.width);
    let areas = body.split_evenly((rows, columns));
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
    for (i, (panel, area)) in d.panels.iter().zip(&areas).enumerate() {
        let place = Place { left: i % columns == 0, bottom: i + columns >= d.panels.len() };
        match (d.xscale, d.yscale) {
            (Scale::Linear, Scale::Log) => {
                curve_panel(area, c, place, panel, d, x_lo..x_hi, (y_lo..y_hi).log_scale(), y_hi)?
            }
            (Scale::Log, Scale::Log) => {
                curve_panel(area, c, place, panel, d, (x_lo..x_hi).log_scale(), (y_lo..y_hi).log_scale(), y_hi)?
            }
            (Scale::Linear, Scale::Linear) => curve_panel(area, c, place, panel, d, x_lo..x_hi, y_lo..y_hi, y_hi)?,
            (Scale::Log, Scale::Linear) => {
                curve_panel(area, c, place, panel, d, (x_lo..x_hi).log_scale(), y_lo..y_hi, y_hi)?
            }
        }
    }
    Ok(())
}

/// Where a panel sits in the grid: axis descriptions only on the left column and bottom row.
#[derive(Clone, Copy)]
struct Place {
    left: bool,
    bottom: bool,
}

/// The points of a median line up to where it first reaches `floor` (that point kept, on the
/// floor), each clipped to `top`.
fn until_floor(points: &[(f64, f64)], floor: f64, top: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for &(x, y) in points {
        out.push((x, y.max(floor).min(top)));
        if y <= floor {
            break;
        }
    }
    out
}

/// Where the markers of a curve go: every sixth of its points, shifted by its colour slot so
/// that the markers of curves that run together do not sit on each other.
fn marker_points(line: &[(f64, f64)], slot: usize) -> impl Iterator<Item = &(f64, f64)> {
    let step = (line.len() / 6).max(1);
    line.iter().skip((slot * step / 7) % step).step_by(step)
}

/// Vertical offsets (in steps of one marker) that keep markers at pixel columns `xs` at least
/// `gap` pixels apart: each takes the lowest level free of a marker closer than `gap`.
/// Ticks of a log axis over [`lo`, `hi`]: on a range of at most `most`/2 decades the numbers
/// 1, 2 and 5 × 10^e inside it; on a longer one the powers of ten 10^(j·s), with the step s the
/// smallest whole number of decades that gives at most `most` ticks (plotters' own log ticks stop
/// short of the bottom of a range that spans tens of decades).
pub fn decade_ticks(lo: f64, hi: f64, most: usize) -> Vec<f64> {
    let (first, last) = (lo.log10().floor() as i32, hi.log10().floor() as i32);
    let inside = |v: &f64| (lo..=hi).contains(v);
    let decades = (last - first) as usize + 1;
    if 2 * decades <= most {
        return (first..=last).flat_map(|e| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(e))).filter(inside).collect();
    }
    let step = decades.div_ceil(most.max(1)).max(1) as i32;
    (first.div_euclid(step) * step..=last).step_by(step as usize).map(|e| 10f64.powi(e)).filter(inside).collect()
}

pub fn stack_levels(xs: &[i32], gap: i32) -> Vec<usize> {
    let mut placed: Vec<(i32, usize)> = Vec::new();
    xs.iter()
        .map(|&x| {
            let level = (0..).find(|l| !placed.iter().any(|&(px, pl)| pl == *l && (px - x).abs() < gap)).unwrap_or(0);
            placed.push((x, level));
            level
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn curve_panel<DB, X, Y>(
    area: &DrawingArea<DB, Shift>,
    c: &Canvas,
    place: Place,
    panel: &Panel,
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
    // The panel's title, wrapped to its width and centred above it.
    let (w, _) = area.dim_in_pixel();
    let font = c.text(1.0);
    let lines = if panel.title.is_empty() { Vec::new() } else { wrap(&panel.title, &font, w as i32 - c.em(1.0)) };
    let (head, area) = area.split_vertically(c.em(0.4) + lines.len() as i32 * c.em(1.3));
    for (i, line) in lines.iter().enumerate() {
        let x = (w as i32 - text_width(line, &font)) / 2;
        head.draw_text(line, &font.color(&BLACK), (x, c.em(0.4) + i as i32 * c.em(1.3)))?;
    }
    let mut chart = ChartBuilder::on(&area)
        .margin(c.em(0.6))
        .margin_right(c.em(1.4))
        .x_label_area_size(c.em(if place.bottom { 3.0 } else { 1.8 }))
        .y_label_area_size(c.em(if place.left { 4.8 } else { 3.4 }))
        .build_cartesian_2d(xr, yr)?;
    house_style(&mut chart.configure_mesh(), c)
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .x_desc(if place.bottom { d.x_label.as_str() } else { "" })
        .y_desc(if place.left { d.y_label.as_str() } else { "" })
        .draw()?;
    let floor = d.y_floor;
    let top = d.y_max.unwrap_or(f64::INFINITY);
    if d.ends_at_floor {
        let (x0, x1) = (chart.x_range().start, chart.x_range().end);
        chart.draw_series(DashedLineSeries::new(
            [(x0, floor), (x1, floor)],
            c.px(0.8) as u32,
            c.px(1.5) as u32,
            FLOOR.stroke_width(c.stroke(0.8)),
        ))?;
    }
    // Every band (shading and outline) first, then every median line over them, so no band's
    // shading covers another series' line.
    let alpha = band_alpha(panel.bands.len());
    for band in &panel.bands {
        let colour = look(band.colour).colour;
        let pts: Vec<_> = band.points.iter().filter(|p| p.x >= 0.0).collect();
        if pts.len() > 1 {
            let clip = |y: f64| y.max(floor).min(top);
            let upper: Vec<(f64, f64)> = pts.iter().map(|p| (p.x.max(f64::MIN_POSITIVE), clip(p.max))).collect();
            let lower: Vec<(f64, f64)> = pts.iter().map(|p| (p.x.max(f64::MIN_POSITIVE), clip(p.min))).collect();
            let poly: Vec<(f64, f64)> = upper.iter().chain(lower.iter().rev()).copied().collect();
            chart.draw_series(std::iter::once(Polygon::new(poly, colour.mix(alpha).filled())))?;
            let outline = colour.mix(0.75).stroke_width(c.stroke(0.45));
            chart.draw_series(LineSeries::new(upper, outline))?;
            chart.draw_series(LineSeries::new(lower, outline))?;
        }
    }
    for band in &panel.bands {
        let look = look(band.colour);
        let colour = look.colour;
        let median: Vec<(f64, f64)> = band.points.iter().filter(|p| p.x >= 0.0).map(|p| (p.x, p.median)).collect();
        let line = until_floor(&median, floor, top);
        chart.draw_series(LineSeries::new(line.iter().copied(), colour.stroke_width(c.stroke(1.2))))?;
        if let Some(marker) = look.marker {
            for &at in marker_points(&line, band.colour) {
                draw_marker(chart.plotting_area(), c, at, marker, c.px(1.8), colour)?;
            }
        }
    }
    // Theory lines above every series' data, never hidden under another band; a line every
    // series shares is drawn once, in grey.
    for kind in TheoryLine::ALL {
        let (dash, gap) = dash_of(line_style(kind));
        let (dash, gap) = (c.px(dash) as u32, c.px(gap) as u32);
        if shared_line(panel, kind) {
            let line = panel.bands.iter().find_map(|b| b.lines.iter().find(|l| l.kind == kind));
            if let Some(line) = line {
                chart.draw_series(DashedLineSeries::new(
                    line.points.iter().copied(),
                    dash,
                    gap,
                    GREY.stroke_width(c.stroke(1.0)),
                ))?;
            }
            continue;
        }
        for band in &panel.bands {
            for line in band.lines.iter().filter(|l| l.kind == kind) {
                let style = colour(band.colour).stroke_width(c.stroke(1.0));
                chart.draw_series(DashedLineSeries::new(line.points.iter().copied(), dash, gap, style))?;
            }
        }
    }
    // Diverged runs: a ✗ at the top of the panel at the iteration where each diverged, stacked
    // downwards where they would touch.
    let crosses: Vec<(f64, RGBColor)> =
        panel.bands.iter().flat_map(|b| b.diverged.iter().map(|&x| (x, colour(b.colour)))).collect();
    let xs: Vec<i32> = crosses.iter().map(|&(x, _)| chart.backend_coord(&(x, y_top)).0).collect();
    let size = c.px(2.2);
    let levels = stack_levels(&xs, 2 * size + c.px(0.6));
    for (&(x, colour), level) in crosses.iter().zip(levels) {
        let dy = size + c.px(0.8) + level as i32 * (2 * size + c.px(0.6));
        chart.draw_series(std::iter::once(
            EmptyElement::at((x, y_top)) + Cross::new((0, dy), size, colour.stroke_width(c.stroke(0.9))),
        ))?;
    }
    Ok(())
}

fn bound_text(kind: WidthBound) -> &'static str {
    match kind {
        WidthBound::Zou => "m_Zou = k·r·κ²",
        WidthBound::ZouStable => "k·r̃·κ² (stable rank)",
        WidthBound::DuHu => "m_DuHu = L·r·κ³·k",
        WidthBound::ModifiedIdentity => "d + k (wide pale line)",
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

/// A bound drawn as a wide pale line under the data (it may coincide with a series' line).
fn halo(kind: WidthBound) -> bool {
    kind == WidthBound::ModifiedIdentity
}

fn censored_below(p: &CritPoint) -> bool {
    matches!(p.width.pooled, Measured::AtMost(_))
}

fn censored_above(p: &CritPoint) -> bool {
    !matches!(p.width.pooled, Measured::Value(_) | Measured::AtMost(_))
}

/// The legend of a critical-width figure.
pub fn critical_keys(d: &CriticalData) -> Vec<(Key, String)> {
    let mut keys: Vec<(Key, String)> =
        d.series.iter().map(|s| (Key::Point(look(s.colour + 3)), s.label.clone())).collect();
    keys.push((Key::Whisker, "critical width of the pooled seeds (point), min–max of single seeds (whisker)".into()));
    keys.extend(d.bounds.iter().map(|b| {
        let key =
            if halo(b.kind) { Key::Halo(bound_colour(b.kind)) } else { Key::Line(bound_colour(b.kind), "dashed") };
        (key, bound_text(b.kind).to_string())
    }));
    keys.push((Key::Line(GREY, "dotted"), "widest width run".to_string()));
    if d.series.iter().flat_map(|s| &s.points).any(censored_above) {
        keys.push((Key::Above, "▲: none of the widths sufficed".to_string()));
    }
    if d.series.iter().flat_map(|s| &s.points).any(censored_below) {
        keys.push((Key::Below, "▼: the smallest width run already sufficed (critical width ≤ it)".to_string()));
    }
    keys
}

/// Draws a critical-width figure (log–log).
pub fn critical<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &Canvas,
    title: &str,
    d: &CriticalData,
) -> DrawResult<(), DB> {
    let body = frame(root, c, title, &critical_keys(d))?;
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
    let mut chart = single(&body, c)
        .build_cartesian_2d((x_from..x_to).log_scale().with_key_points(xs.clone()), (y_lo..y_hi).log_scale())?;
    house_style(&mut chart.configure_mesh(), c)
        .x_desc(d.x_label.as_str())
        .y_desc("width m")
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .draw()?;
    // Bounds that may coincide with a series: wide and pale, under the data.
    for b in d.bounds.iter().filter(|b| halo(b.kind)) {
        let style = bound_colour(b.kind).mix(0.35).stroke_width(c.stroke(3.5));
        chart.draw_series(LineSeries::new(b.points.iter().copied(), style))?;
    }
    // The widest width of the grid: a critical width above it was not found.
    chart.draw_series(DashedLineSeries::new(
        [(x_from, widths_top), (x_to, widths_top)],
        c.px(0.8) as u32,
        c.px(1.5) as u32,
        GREY.stroke_width(c.stroke(0.6)),
    ))?;
    let n = d.series.len().max(1) as f64;
    for (i, s) in d.series.iter().enumerate() {
        let look = look(s.colour + 3);
        let colour = look.colour;
        // Series side by side around each x so their error bars do not overlap.
        let shift = 1.0 + 0.05 * (i as f64 - (n - 1.0) / 2.0);
        // A width the grid pins down or bounds from above is a point; "none sufficed" a ▲ above
        // the widest width.
        let found = |m: Measured| match m {
            Measured::Value(w) | Measured::AtMost(w) => Some(w),
            Measured::Above(_) | Measured::Absent(_) => None,
        };
        let line: Vec<(f64, f64)> =
            s.points.iter().filter_map(|p| found(p.width.pooled).map(|w| (p.x * shift, w))).collect();
        chart.draw_series(LineSeries::new(line.iter().copied(), colour.stroke_width(c.stroke(1.0))))?;
        for p in &s.points {
            let x = p.x * shift;
            let (lo, hi) =
                (found(p.width.seed_min).unwrap_or(y_lo), found(p.width.seed_max).unwrap_or(widths_top * 1.4));
            chart.draw_series(std::iter::once(ErrorBar::new_vertical(
                x,
                lo,
                found(p.width.pooled).unwrap_or(hi),
                hi,
                colour.stroke_width(c.stroke(0.7)),
                c.px(3.0) as u32,
            )))?;
            match found(p.width.pooled) {
                Some(w) => {
                    draw_marker(chart.plotting_area(), c, (x, w), look.point(), c.px(2.0), colour)?;
                    if censored_below(p) {
                        let (a, b) = (c.px(2.0), c.px(3.0));
                        let below = Polygon::new(vec![(-a, b), (a, b), (0, b + c.px(3.0))], colour.filled());
                        chart.draw_series(std::iter::once(EmptyElement::at((x, w)) + below))?;
                    }
                }
                None => {
                    let above = TriangleMarker::new((x, widths_top * 1.4), c.px(2.5), colour.filled());
                    chart.draw_series(std::iter::once(above))?;
                }
            }
        }
    }
    // The other bound lines above the data, never hidden under it.
    for b in d.bounds.iter().filter(|b| !halo(b.kind)) {
        chart.draw_series(DashedLineSeries::new(
            b.points.iter().copied(),
            c.px(3.0) as u32,
            c.px(2.0) as u32,
            bound_colour(b.kind).stroke_width(c.stroke(1.0)),
        ))?;
    }
    Ok(())
}

/// Whether a bars figure draws points with whiskers (a log axis: a bar's length from an arbitrary
/// base means nothing) rather than bars from zero.
fn as_points(d: &BarData) -> bool {
    d.yscale == Scale::Log
}

/// The legend of a bars figure.
pub fn bar_keys(d: &BarData) -> Vec<(Key, String)> {
    // A figure without `series` has one unnamed series: the whisker's entry names its marks.
    let mut keys: Vec<(Key, String)> = d
        .series
        .iter()
        .filter(|s| !s.label.is_empty() || s.diverged > 0)
        .map(|s| {
            let key = if as_points(d) { Key::Point(look(s.colour)) } else { Key::Bar(look(s.colour)) };
            let text = if s.diverged > 0 {
                format!("{} ({} of {} runs diverged)", s.label, s.diverged, s.runs)
            } else {
                s.label.clone()
            };
            (key, text)
        })
        .collect();
    let mark = if as_points(d) { "point" } else { "bar" };
    keys.push((Key::Whisker, format!("median ({mark}) and min–max (whisker) across seeds")));
    if d.series.iter().flat_map(|s| s.values.iter().flatten()).any(|s| !s.median.is_finite()) {
        keys.push((
            Key::Cross,
            "✗ at the top: the median is ∞ (the run diverged, or never reached the target)".to_string(),
        ));
    }
    keys
}

/// Draws grouped bars of a per-run number, with min–max whiskers: points on a log axis, bars on a
/// linear one; a median that is never reached (infinite) is a ✗ at the top.
pub fn bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &Canvas,
    title: &str,
    d: &BarData,
) -> DrawResult<(), DB> {
    let body = frame(root, c, title, &bar_keys(d))?;
    let finite: Vec<f64> = d
        .series
        .iter()
        .flat_map(|s| s.values.iter().flatten().flat_map(|s| [s.median, s.min, s.max]))
        .filter(|v| v.is_finite() && (!as_points(d) || *v > 0.0))
        .collect();
    let top = finite.iter().copied().fold(0.0, f64::max);
    let cats = d.categories.clone();
    let x_range = -0.5..cats.len() as f64 - 0.5;
    let cat_label = |v: &f64| {
        let i = v.round();
        if (v - i).abs() < 1e-6 && i >= 0.0 { cats.get(i as usize).cloned().unwrap_or_default() } else { String::new() }
    };
    if as_points(d) {
        // No finite value at all (no seed reached the target): one decade above 1.
        let lo = finite.iter().copied().fold(f64::INFINITY, f64::min).min(top) / 2.0;
        let (y_lo, y_hi) = if finite.is_empty() { (1.0, 100.0) } else { drawable(lo, top * 4.0, true) };
        let y_axis = (y_lo..y_hi).log_scale().with_key_points(decade_ticks(y_lo, y_hi, 6));
        let mut chart = single(&body, c).build_cartesian_2d(x_range, y_axis)?;
        house_style(&mut chart.configure_mesh(), c)
            .disable_x_mesh()
            .x_labels(cats.len())
            .x_desc(d.x_label.as_str())
            .y_desc(d.y_label.as_str())
            .x_label_formatter(&cat_label)
            .y_label_formatter(&|v| tick(*v))
            .draw()?;
        grouped(&mut chart, c, d, y_hi / 2.0, |chart, look, (left, right), v| {
            let mid = (left + right) / 2.0;
            if v.median.is_finite() {
                draw_marker(chart.plotting_area(), c, (mid, v.median), look.point(), c.px(2.0), look.colour)?;
            }
            Ok(())
        })
    } else {
        let (y_lo, y_hi) = drawable(0.0, top * 1.15, false);
        let mut chart = single(&body, c).build_cartesian_2d(x_range, y_lo..y_hi)?;
        house_style(&mut chart.configure_mesh(), c)
            .disable_x_mesh()
            .x_labels(cats.len())
            .x_desc(d.x_label.as_str())
            .y_desc(d.y_label.as_str())
            .x_label_formatter(&cat_label)
            .y_label_formatter(&|v| tick(*v))
            .draw()?;
        grouped(&mut chart, c, d, y_hi * 0.97, |chart, look, (left, right), v| {
            if v.median.is_finite() {
                let bar =
                    Rectangle::new([(left + 0.01, 0.0), (right - 0.01, v.median)], look.colour.mix(0.85).filled());
                chart.draw_series(std::iter::once(bar))?;
                if let Some(marker) = look.marker {
                    draw_marker(chart.plotting_area(), c, ((left + right) / 2.0, v.median), marker, c.px(1.8), BLACK)?;
                }
            }
            Ok(())
        })
    }
}

/// The chart builder of a one-panel figure.
fn single<'a, 'b, DB: DrawingBackend>(body: &'a DrawingArea<DB, Shift>, c: &Canvas) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(body);
    b.margin(c.em(0.6)).margin_right(c.em(1.4)).x_label_area_size(c.em(3.0)).y_label_area_size(c.em(4.8));
    b
}

type BarChart<'a, DB, Y> = ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>;

/// Draws every series' values side by side in each category: `mark` draws a median in the slot
/// (left, right); the whisker from min to max and the ✗ of an infinite median (at `y_cap`, where
/// an infinite maximum also ends) are drawn here.
fn grouped<DB, Y>(
    chart: &mut BarChart<'_, DB, Y>,
    c: &Canvas,
    d: &BarData,
    y_cap: f64,
    mark: impl Fn(&mut BarChart<'_, DB, Y>, Look, (f64, f64), &Spread) -> DrawResult<(), DB>,
) -> DrawResult<(), DB>
where
    DB: DrawingBackend,
    Y: Ranged<ValueType = f64>,
{
    let width = 0.8 / d.series.len().max(1) as f64;
    for (j, series) in d.series.iter().enumerate() {
        let look = look(series.colour);
        let colour = look.colour;
        for (i, v) in series.values.iter().enumerate() {
            let Some(v) = v else { continue };
            let left = i as f64 - 0.4 + j as f64 * width;
            let mid = left + width / 2.0;
            if v.min.is_finite() {
                chart.draw_series(std::iter::once(ErrorBar::new_vertical(
                    mid,
                    v.min,
                    v.median.min(y_cap),
                    v.max.min(y_cap),
                    colour.mix(0.9).stroke_width(c.stroke(0.7)),
                    c.px(3.0) as u32,
                )))?;
            }
            mark(chart, look, (left, left + width), v)?;
            if !v.median.is_finite() {
                chart.draw_series(std::iter::once(Cross::new(
                    (mid, y_cap),
                    c.px(2.2),
                    colour.stroke_width(c.stroke(0.9)),
                )))?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The legend keys of the series of a figure with `n` series of each kind.
    fn series_keys(n: usize) -> Vec<Vec<Key>> {
        use super::super::data::{Band, BarSeries, CritSeries};
        let label = |i: usize| format!("series {i}");
        let bands = (0..n)
            .map(|i| Band {
                label: label(i),
                value: i.to_string(),
                colour: i,
                runs: 2,
                points: Vec::new(),
                lines: Vec::new(),
                diverged: Vec::new(),
            })
            .collect();
        let curves = CurveData {
            panels: vec![Panel { title: String::new(), value: String::new(), bands }],
            x_label: String::new(),
            y_label: String::new(),
            xscale: Scale::Linear,
            yscale: Scale::Log,
            y_floor: 1e-16,
            y_max: None,
            x_max: 10.0,
            ends_at_floor: false,
            sgd: false,
        };
        let critical = CriticalData {
            series: (0..n)
                .map(|i| CritSeries { label: label(i), value: i.to_string(), colour: i, points: Vec::new() })
                .collect(),
            bounds: Vec::new(),
            x_label: String::new(),
            widths: vec![10.0],
        };
        let bars = |yscale| BarData {
            categories: vec!["1".into()],
            series: (0..n)
                .map(|i| BarSeries {
                    label: label(i),
                    value: i.to_string(),
                    colour: i,
                    runs: 2,
                    diverged: 0,
                    values: vec![None],
                })
                .collect(),
            x_label: String::new(),
            y_label: String::new(),
            yscale,
        };
        let of_series = |keys: Vec<(Key, String)>| -> Vec<Key> {
            keys.into_iter().filter(|(_, t)| t.starts_with("series ")).map(|(k, _)| k).collect()
        };
        vec![
            of_series(curve_keys(&curves)),
            of_series(critical_keys(&critical)),
            of_series(bar_keys(&bars(Scale::Log))),
            of_series(bar_keys(&bars(Scale::Linear))),
        ]
    }

    #[test]
    fn the_theory_line_of_a_single_series_is_keyed_in_the_colour_it_is_drawn_in() {
        use super::super::data::{Band, LineData};
        let band = |slot: usize| Band {
            label: String::new(),
            value: String::new(),
            colour: slot,
            runs: 5,
            points: Vec::new(),
            lines: vec![LineData { kind: TheoryLine::Zou, points: vec![(0.0, 1.0), (10.0, 0.1)] }],
            diverged: Vec::new(),
        };
        let figure = |bands_per_panel: Vec<Vec<Band>>| CurveData {
            panels: bands_per_panel
                .into_iter()
                .map(|bands| Panel { title: "p".into(), value: String::new(), bands })
                .collect(),
            x_label: String::new(),
            y_label: String::new(),
            xscale: Scale::Linear,
            yscale: Scale::Log,
            y_floor: 1e-16,
            y_max: None,
            x_max: 10.0,
            ends_at_floor: false,
            sgd: false,
        };
        let zou_key = |d: &CurveData| {
            curve_keys(d).into_iter().find(|(_, t)| t.starts_with("Zou et al.")).map(|(k, _)| k).unwrap()
        };
        // One series over two panels (no `series`): drawn in its colour in each, keyed so.
        assert_eq!(zou_key(&figure(vec![vec![band(0)], vec![band(0)]])), Key::Line(look(0).colour, "dashed"));
        // Two series sharing the line: drawn once in grey, keyed grey.
        assert_eq!(zou_key(&figure(vec![vec![band(0), band(1)]])), Key::Line(GREY, "dashed"));
    }

    #[test]
    fn where_every_band_of_a_panel_overlaps_the_fills_stay_translucent() {
        for bands in 1..=15 {
            let a = band_alpha(bands);
            let stacked = 1.0 - (1.0 - a).powi(bands as i32);
            assert!(a >= 0.035, "{bands} bands: each shows ({a})");
            if bands <= 8 {
                assert!(stacked <= 0.25, "{bands} bands overlap to {stacked} opacity");
            }
        }
    }

    #[test]
    fn decade_ticks_cover_a_long_log_range_with_at_most_the_asked_number() {
        let close = |got: Vec<f64>, want: &[f64]| {
            got.len() == want.len() && got.iter().zip(want).all(|(g, w)| ((g - w) / w).abs() < 1e-12)
        };
        // 3e-32 … 4e-7: the 25 powers of ten 1e-31 … 1e-7 at a step of 5 decades (≤ 6 ticks),
        // at multiples of the step.
        assert!(close(decade_ticks(3e-32, 4e-7, 6), &[1e-30, 1e-25, 1e-20, 1e-15, 1e-10]));
        // Four decades of 6 ticks at most: every decade.
        assert!(close(decade_ticks(0.5, 2000.0, 6), &[1.0, 10.0, 100.0, 1000.0]));
        // Up to 3 decades: 1, 2, 5 × 10^e.
        assert!(close(decade_ticks(30.0, 3000.0, 6), &[50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0]));
        assert!(close(decade_ticks(2.0, 5.0, 6), &[2.0, 5.0]));
    }

    #[test]
    fn every_series_of_a_figure_of_many_series_has_its_own_look() {
        // 7 colours: the 8th series and on would repeat a colour without a marker.
        for n in [9, 15, 39] {
            for keys in series_keys(n) {
                assert_eq!(keys.len(), n);
                for (i, a) in keys.iter().enumerate() {
                    for b in &keys[..i] {
                        assert_ne!(a, b, "{n} series: two share {a:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn any_data_range_becomes_a_drawable_one() {
        let cases = [
            (1e-320, 10.0, true),
            (f64::NAN, f64::NAN, true),
            (f64::INFINITY, f64::INFINITY, true),
            (0.0, f64::INFINITY, true),
            (5.0, 5.0, true),
            (1e-300, 1e300, true),
            (f64::INFINITY, 0.0, true),
            (1e300, 1e-300, true),
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
