//! A run's curve as a small SVG: relative excess (L(W_t) − L*)/(L(W_0) − L*) against the
//! iteration t on a log axis, beside the run's own theory lines q^t (Zou's bound 1 − ρ, the
//! linearisation (1 − ηLμ)², Du & Hu's 1 − ½ηLσ_r²/k, whichever apply to its architecture).

use std::fmt::Write;

use crate::escape::html_text as esc;
use crate::grid::figure::TheoryLine;
use crate::number::compact_text;
use crate::theory::TheoryReport;
use crate::train::RunOutcome;

const W: f64 = 640.0;
/// Plot area: left, top, right, bottom edges in pixels.
const AREA: (f64, f64, f64, f64) = (70.0, 16.0, 620.0, 290.0);
/// Lowest relative excess drawn: below it the digits are rounding.
const FLOOR: f64 = 1e-16;

/// Colour, dash pattern and legend text of a theory line.
fn style(kind: TheoryLine) -> (&'static str, &'static str, &'static str) {
    match kind {
        TheoryLine::Zou => ("#D55E00", "8 5", "Zou et al. bound (1 − ρ)^t"),
        TheoryLine::Linearised => ("#009E73", "2 4", "linearised rate (1 − ηLμ)^{2t}"),
        TheoryLine::DuHu => ("#CC79A7", "8 5", "Du & Hu rate (1 − ½ηLσ_r²/k)^t"),
    }
}

/// The parameter of theory line `kind` with factor `q` under theory `t`, with its digits: Zou's
/// `ρ = 4.8e-5` (from the report, not from 1 − q), the others' `q = 0.81`, or `q = 1 − 9.6e-5`
/// when q rounds to 1 (a slow rate is not "q = 1").
fn rate_text(kind: TheoryLine, t: &TheoryReport, q: f64) -> String {
    if let (TheoryLine::Zou, Some(z)) = (kind, &t.zou) {
        return format!("ρ = {}", compact_text(z.rho));
    }
    let text = compact_text(q);
    if q < 1.0 && text == compact_text(1.0) {
        format!("q = 1 − {}", compact_text(1.0 - q))
    } else {
        format!("q = {text}")
    }
}

/// The SVG of run `o` under theory `t`: the measured curve (solid), each applicable theory line
/// (dashed), a ✗ at the top where the run diverged; values under 1e-16 sit on the floor.
pub fn svg(o: &RunOutcome, t: &TheoryReport) -> String {
    let rel = |excess: f64| if t.excess0 > 0.0 { excess / t.excess0 } else { 0.0 };
    let measured: Vec<(f64, f64)> = o.curve.iter().map(|p| (p.iter as f64, rel(p.excess))).collect();
    let x_max = measured.last().map_or(1.0, |p| p.0).max(1.0);
    let top = measured.iter().map(|p| p.1).filter(|y| y.is_finite()).fold(1.0, f64::max);
    let (lo, hi) = (FLOOR.log10(), top.log10().ceil().max(0.0));
    let (l, tp, r, b) = AREA;
    let px = |x: f64| l + (r - l) * x / x_max;
    let py = |y: f64| {
        let v = if y.is_finite() && y > 0.0 {
            y.log10().clamp(lo, hi)
        } else if y == 0.0 {
            lo
        } else {
            hi
        };
        b - (b - tp) * (v - lo) / (hi - lo)
    };
    let mut s = String::new();
    let _ = writeln!(s, "<rect x=\"{l}\" y=\"{tp}\" width=\"{}\" height=\"{}\" class=\"frame\"/>", r - l, b - tp);
    // Decades on y (every second one labelled when there are many), five steps on x.
    let decades = (hi - lo) as i32;
    let every = if decades > 8 { 2 } else { 1 };
    for d in (lo as i32..=hi as i32).filter(|d| (d - lo as i32) % every == 0) {
        let y = py(10f64.powi(d));
        let _ = writeln!(s, "<line x1=\"{l}\" x2=\"{r}\" y1=\"{y:.1}\" y2=\"{y:.1}\" class=\"grid\"/>");
        let _ =
            writeln!(s, "<text x=\"{}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">1e{d}</text>", l - 6.0, y + 4.0);
    }
    for i in 0..=5 {
        let x = x_max * i as f64 / 5.0;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
            px(x),
            b + 16.0,
            compact_text(x.round())
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">iteration t</text>",
        (l + r) / 2.0,
        b + 34.0
    );
    let _ = writeln!(
        s,
        "<text x=\"14\" y=\"{}\" class=\"axis\" text-anchor=\"middle\" transform=\"rotate(-90 14 {})\">relative excess</text>",
        (tp + b) / 2.0,
        (tp + b) / 2.0
    );
    let polyline = |points: &mut dyn Iterator<Item = (f64, f64)>| {
        points.map(|(x, y)| format!("{:.1},{:.1}", px(x), py(y))).collect::<Vec<_>>().join(" ")
    };
    let mut legend = vec![("#0072B2", "", "measured".to_string())];
    for kind in TheoryLine::ALL {
        let Some(q) = kind.factor(t) else { continue };
        let (colour, dash, text) = style(kind);
        let points = polyline(&mut measured.iter().map(|&(x, _)| (x, q.powf(x))));
        let _ = writeln!(
            s,
            "<polyline points=\"{points}\" class=\"line\" stroke=\"{colour}\" stroke-dasharray=\"{dash}\"/>"
        );
        legend.push((colour, dash, format!("{text}, {}", rate_text(kind, t, q))));
    }
    let points = polyline(&mut measured.iter().copied().filter(|p| !p.1.is_nan()));
    let _ = writeln!(s, "<polyline points=\"{points}\" class=\"line measured\" stroke=\"#0072B2\"/>");
    if let Some(at) = o.diverged_at {
        let x = px(at as f64);
        let _ =
            writeln!(s, "<text x=\"{x:.1}\" y=\"{}\" class=\"diverged\" text-anchor=\"middle\">✗</text>", tp + 14.0);
        legend.push(("#000000", "", format!("✗ diverged at t = {at}")));
    }
    // The legend under the axes.
    for (i, (colour, dash, text)) in legend.iter().enumerate() {
        let y = b + 56.0 + 18.0 * i as f64;
        let x = l;
        let _ = writeln!(
            s,
            "<line x1=\"{x}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" class=\"line\" stroke=\"{colour}\" stroke-dasharray=\"{dash}\"/>\
             <text x=\"{}\" y=\"{}\" class=\"key\">{}</text>",
            x + 24.0,
            x + 30.0,
            y + 4.0,
            esc(text)
        );
    }
    let height = b + 48.0 + 18.0 * legend.len() as f64;
    format!(
        "<svg class=\"run-curve\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {height}\" width=\"{W}\" \
         height=\"{height}\" role=\"img\" aria-label=\"relative excess against iteration\">\n{s}</svg>\n"
    )
}
