//! The `figures:` section of an experiment file: what to draw, declared in YAML and read once,
//! when the experiment is loaded, into a typed [`FigureDecl`] whose [`FigureKind`] holds exactly
//! the fields its kind takes (a field another kind takes is refused, naming the field).
//!
//! ```yaml
//! figures:
//!   - name: fig1a                 # figures/<experiment>/fig1a.{svg,png,pdf,csv}
//!     kind: curves                # curves | critical_width | bars
//!     title: "Fig. 1(a): m = 40"
//!     filter: {model.width: 40}   # values (or lists of alternatives) of grid fields; n/a (or null)
//!                                 #   keeps runs that do not have the field
//!     series: model.transform     # one colour per value (or a list of fields); seeds are replicates
//!     labels: {modified_identity: modified identity, data.kappa: κ}   # text per value; per field: "κ = 2"
//!     facets: model.width         # curves: one panel per value (or per combination of a list of fields)
//!     x: iter                     # curves: iter | samples; critical_width, bars: a grid field
//!     y: rel_excess               # curves: rel_excess | excess | loss; bars: iters_to_target | final_rel_excess | seconds
//!     xscale: linear              # curves: linear | log
//!     yscale: log                 # curves, bars: linear | log
//!     xmax: 500                   # curves: clip the x axis
//!     ymin: 1.0e-16               # curves: floor of the y axis (default: the data's minimum, ≥ 1e-16 relative)
//!     ymax: 10                    # curves: top of the y axis (default: 10 for relative excess)
//!     lines: [zou]                # curves: theory lines, dashed in the series colour (zou | linearised | du_hu)
//!     budget: 10                  # critical_width: success = the target within budget × the theorem's
//!     # budget_iters: 2000        #   wide-limit iteration count, or within an absolute count
//!     target: 1.0e-6              # critical_width, bars: a decade (default: the experiment's theory.target)
//!     bounds: [zou, du_hu, modified_identity, margin]   # critical_width: bound lines
//!     margin_experiment: width_margin                   # where the `margin` line's runs are
//!     width: 345pt                # printed size (pt, in, cm or mm; a bare number is pt); default
//!     height: 3in                 #   345pt (a one-column \linewidth), height from the layout
//!     font_size: 8pt              # the smallest text as printed at that size (default 8pt)
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::check::theory_steps;
use super::quantity::{Budget, Quantity, QuantityInput, RunMeasure, WidthMeasure};
use super::{FieldPath, FieldValue, Filter, GridRun, Spec, SpecError, displayable, known_field};
use crate::number::float_text;

/// A field name or a list of them.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindName {
    Curves,
    CriticalWidth,
    Bars,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    Linear,
    Log,
}

/// A theory line drawn under a curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TheoryLine {
    /// (1 − ρ)^t of Zou et al.
    Zou,
    /// (1 − ηLμ)^{2t}, the linearisation at W = 0.
    Linearised,
    /// (1 − ½ηLσ_r²/k)^t of Du & Hu.
    DuHu,
}

impl TheoryLine {
    /// Every line, in legend order.
    pub const ALL: [TheoryLine; 3] = [TheoryLine::Zou, TheoryLine::Linearised, TheoryLine::DuHu];

    /// The per-step factor q of the line q^t of the relative excess under run theory `t`:
    /// 1 − ρ (Zou), (1 − ηLμ)² (linearised), 1 − ½ηLσ_r²/k (Du & Hu), clamped at 0; `None` when
    /// the theorem does not apply to the run's architecture.
    pub fn factor(self, t: &crate::theory::TheoryReport) -> Option<f64> {
        match self {
            TheoryLine::Zou => t.zou.as_ref().map(|z| (1.0f64 - z.rho).max(0.0)),
            TheoryLine::Linearised => t.zou.as_ref().map(|z| z.lin_factor),
            TheoryLine::DuHu => t.du_hu.as_ref().map(|h| h.factor.max(0.0)),
        }
    }

    /// The name written in YAML and in figure CSVs.
    pub fn name(self) -> &'static str {
        match self {
            TheoryLine::Zou => "zou",
            TheoryLine::Linearised => "linearised",
            TheoryLine::DuHu => "du_hu",
        }
    }
}

/// A width bound drawn on a critical-width figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WidthBound {
    /// k·r·κ².
    Zou,
    /// k·r̃·κ² with the stable rank.
    ZouStable,
    /// L·r·κ³·k.
    DuHu,
    /// d + k.
    ModifiedIdentity,
    /// The width at which the median Zou condition margin reaches 1.
    Margin,
}

impl WidthBound {
    /// The name written in YAML and in figure CSVs.
    pub fn name(self) -> &'static str {
        match self {
            WidthBound::Zou => "zou",
            WidthBound::ZouStable => "zou_stable",
            WidthBound::DuHu => "du_hu",
            WidthBound::ModifiedIdentity => "modified_identity",
            WidthBound::Margin => "margin",
        }
    }
}

/// The x of a curves figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveX {
    Iteration,
    /// Iteration × batch size: samples seen.
    Samples,
}

/// The y of a curves figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CurveY {
    /// (L(W_t) − L*)/(L(W0) − L*).
    RelExcess,
    /// L(W_t) − L*.
    Excess,
    Loss,
}

/// Excess loss (or loss) against iteration: median across seeds with a min–max band.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvesFigure {
    /// Field(s) whose value combinations get one panel each.
    pub facets: Vec<FieldPath>,
    pub x: CurveX,
    pub y: CurveY,
    pub xscale: Scale,
    pub yscale: Scale,
    pub xmax: Option<f64>,
    pub ymin: Option<f64>,
    pub ymax: Option<f64>,
    pub lines: Vec<TheoryLine>,
}

/// The empirical critical width against a grid field, beside the width bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct CriticalFigure {
    pub x: FieldPath,
    /// Success: relative excess `target` within `budget`.
    pub target: f64,
    pub budget: Budget,
    pub bounds: Vec<WidthBound>,
    /// The experiment whose runs give the `margin` bound.
    pub margin_experiment: Option<String>,
}

/// Grouped bars of a per-run number (median across seeds, min–max whiskers).
#[derive(Debug, Clone, PartialEq)]
pub struct BarsFigure {
    pub x: FieldPath,
    pub y: RunMeasure,
    pub yscale: Scale,
}

/// What a figure draws, with the fields of its kind.
#[derive(Debug, Clone, PartialEq)]
pub enum FigureKind {
    Curves(CurvesFigure),
    CriticalWidth(CriticalFigure),
    Bars(BarsFigure),
}

/// A figure's printed size: how wide (and high) it is placed in a document, in points (1/72 in),
/// and the size of its smallest text at that size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrintSize {
    pub width: f64,
    /// `None`: as high as the figure's layout needs at `width`.
    pub height: Option<f64>,
    pub font: f64,
}

/// `\linewidth` of a one-column LaTeX article at 10 pt: the default figure width.
pub const DEFAULT_WIDTH_PT: f64 = 345.0;
/// The default size of a figure's smallest text, in points.
pub const DEFAULT_FONT_PT: f64 = 8.0;
/// The widths and heights a figure may have, in points (1 in to 30 in).
pub const PRINT_LENGTH: (f64, f64) = (72.0, 2160.0);
/// The font sizes a figure may have, in points.
pub const PRINT_FONT: (f64, f64) = (5.0, 24.0);

impl Default for PrintSize {
    fn default() -> PrintSize {
        PrintSize { width: DEFAULT_WIDTH_PT, height: None, font: DEFAULT_FONT_PT }
    }
}

/// A length written as a number and a unit (`345pt`, `3.4in`, `8.5cm`, `85mm`; a bare number is in
/// points), in points; the rule broken otherwise.
pub fn length_pt(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (number, per_unit) = [("pt", 1.0), ("in", 72.0), ("cm", 72.0 / 2.54), ("mm", 72.0 / 25.4)]
        .iter()
        .find_map(|&(unit, pt)| t.strip_suffix(unit).map(|n| (n.trim(), pt)))
        .unwrap_or((t, 1.0));
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v * per_unit),
        _ => Err(format!("`{text}` is not a positive length such as 345pt, 3.4in, 8.5cm or 85mm")),
    }
}

/// A length as written in YAML: a number (points) or a text with its unit.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum LengthInput {
    Points(f64),
    Text(String),
}

impl LengthInput {
    fn points(&self) -> Result<f64, String> {
        match self {
            LengthInput::Points(v) => length_pt(&float_text(*v)),
            LengthInput::Text(t) => length_pt(t),
        }
    }
}

impl PrintSize {
    /// This size with the lengths given (in points) replacing its own; checked as a declaration is.
    pub fn with(self, width: Option<f64>, height: Option<f64>, font: Option<f64>) -> Result<PrintSize, Problem> {
        let size = PrintSize {
            width: width.unwrap_or(self.width),
            height: height.or(self.height),
            font: font.unwrap_or(self.font),
        };
        size.check()?;
        Ok(size)
    }

    /// Checks the lengths against [`PRINT_LENGTH`] and [`PRINT_FONT`]: (field, rule) of the first
    /// one outside.
    fn check(&self) -> Result<(), Problem> {
        let lengths = [("width", Some(self.width), PRINT_LENGTH), ("height", self.height, PRINT_LENGTH)];
        for (field, v, (lo, hi)) in lengths.into_iter().chain([("font_size", Some(self.font), PRINT_FONT)]) {
            if let Some(v) = v.filter(|v| !(lo..=hi).contains(v)) {
                return Err(problem(
                    field,
                    format!("{}pt is outside {}pt..{}pt", float_text(v), float_text(lo), float_text(hi)),
                ));
            }
        }
        Ok(())
    }
}

/// One declared figure, read and checked against its experiment's grid.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureDecl {
    pub name: String,
    pub title: String,
    /// Its printed size and font size.
    pub print: PrintSize,
    pub filters: Vec<Filter>,
    /// Field(s) whose values (joined by " · ") name the series.
    pub series: Vec<FieldPath>,
    pub labels: BTreeMap<String, String>,
    pub kind: FigureKind,
}

/// One declared figure, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct FigureInput {
    name: String,
    kind: KindName,
    title: String,
    #[serde(default)]
    filter: BTreeMap<String, Json>,
    #[serde(default, deserialize_with = "one_or_many")]
    series: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "one_or_many")]
    facets: Vec<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
    #[serde(default)]
    xscale: Option<Scale>,
    #[serde(default)]
    yscale: Option<Scale>,
    #[serde(default)]
    xmax: Option<f64>,
    #[serde(default)]
    ymin: Option<f64>,
    #[serde(default)]
    ymax: Option<f64>,
    #[serde(default)]
    lines: Vec<TheoryLine>,
    #[serde(default)]
    budget: Option<f64>,
    #[serde(default)]
    budget_iters: Option<u64>,
    #[serde(default)]
    target: Option<f64>,
    #[serde(default)]
    bounds: Vec<WidthBound>,
    #[serde(default)]
    margin_experiment: Option<String>,
    #[serde(default)]
    width: Option<LengthInput>,
    #[serde(default)]
    height: Option<LengthInput>,
    #[serde(default)]
    font_size: Option<LengthInput>,
}

/// (field, rule) of the first problem of a figure as written.
pub type Problem = (String, String);

fn problem(field: &str, rule: impl Into<String>) -> Problem {
    (field.to_string(), rule.into())
}

impl FigureInput {
    /// The fields given that `kind` does not take.
    fn foreign_fields(&self, kind: KindName) -> Vec<&'static str> {
        let given = [
            ("facets", !self.facets.is_empty(), kind == KindName::Curves),
            ("xscale", self.xscale.is_some(), kind == KindName::Curves),
            ("xmax", self.xmax.is_some(), kind == KindName::Curves),
            ("ymin", self.ymin.is_some(), kind == KindName::Curves),
            ("ymax", self.ymax.is_some(), kind == KindName::Curves),
            ("lines", !self.lines.is_empty(), kind == KindName::Curves),
            ("yscale", self.yscale.is_some(), kind != KindName::CriticalWidth),
            ("target", self.target.is_some(), kind != KindName::Curves),
            ("budget", self.budget.is_some(), kind == KindName::CriticalWidth),
            ("budget_iters", self.budget_iters.is_some(), kind == KindName::CriticalWidth),
            ("bounds", !self.bounds.is_empty(), kind == KindName::CriticalWidth),
            ("margin_experiment", self.margin_experiment.is_some(), kind == KindName::CriticalWidth),
        ];
        given.iter().filter(|(_, is_given, takes)| *is_given && !takes).map(|(name, ..)| *name).collect()
    }

    /// The typed declaration, or the first field that breaks a rule. `default_target` is the
    /// experiment's `theory.target`.
    fn read(self, default_target: f64) -> Result<FigureDecl, Problem> {
        if self.name.is_empty() || !self.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) {
            return Err(problem(
                "name",
                format!("`{}` must be a file name of letters, digits, `-` and `_`", self.name),
            ));
        }
        displayable(&self.title).map_err(|rule| problem("title", rule))?;
        for (key, label) in &self.labels {
            displayable(key).map_err(|rule| problem("labels", format!("a key {rule}")))?;
            displayable(label).map_err(|rule| problem(&format!("labels.{key}"), rule))?;
        }
        let kind_name = |k: KindName| match k {
            KindName::Curves => "curves",
            KindName::CriticalWidth => "critical_width",
            KindName::Bars => "bars",
        };
        if let Some(&field) = self.foreign_fields(self.kind).first() {
            let kind = kind_name(self.kind);
            return Err(problem(
                field,
                match field {
                    "facets" => format!("kind {kind} draws one panel: use `filter` (one figure per value) or `series`"),
                    _ => format!("kind {kind} does not take `{field}`"),
                },
            ));
        }
        let length = |field: &str, v: &Option<LengthInput>| {
            v.as_ref().map(|v| v.points().map_err(|rule| problem(field, rule))).transpose()
        };
        let print = PrintSize::default().with(
            length("width", &self.width)?,
            length("height", &self.height)?,
            length("font_size", &self.font_size)?,
        )?;
        let grid_x = |x: &Option<String>| {
            x.as_ref()
                .map(FieldPath::new)
                .ok_or_else(|| problem("x", format!("kind {} needs `x` (a grid field)", kind_name(self.kind))))
        };
        let kind = match self.kind {
            KindName::Curves => {
                let x = match self.x.as_deref() {
                    None | Some("iter") => CurveX::Iteration,
                    Some("samples") => CurveX::Samples,
                    Some(other) => return Err(problem("x", format!("`{other}` is not one of iter, samples"))),
                };
                let y = match self.y.as_deref() {
                    None | Some("rel_excess") => CurveY::RelExcess,
                    Some("excess") => CurveY::Excess,
                    Some("loss") => CurveY::Loss,
                    Some(other) => {
                        return Err(problem("y", format!("`{other}` is not one of rel_excess, excess, loss")));
                    }
                };
                let curves = CurvesFigure {
                    facets: self.facets.iter().map(FieldPath::new).collect(),
                    x,
                    y,
                    xscale: self.xscale.unwrap_or(Scale::Linear),
                    yscale: self.yscale.unwrap_or(Scale::Log),
                    xmax: self.xmax,
                    ymin: self.ymin,
                    ymax: self.ymax,
                    lines: self.lines.clone(),
                };
                curves.check_axes()?;
                FigureKind::Curves(curves)
            }
            KindName::CriticalWidth => {
                if self.series.is_empty() {
                    return Err(problem("series", "kind critical_width needs `series` (e.g. model.arch)"));
                }
                let input = QuantityInput {
                    measure: "critical_width",
                    target: self.target,
                    budget: self.budget,
                    budget_iters: self.budget_iters,
                    over_seeds: None,
                };
                let (target, budget) = input.critical(default_target).map_err(|e| problem(e.field, e.message))?;
                if self.bounds.contains(&WidthBound::Margin) && self.margin_experiment.is_none() {
                    return Err(problem("margin_experiment", "the `margin` bound needs `margin_experiment`"));
                }
                FigureKind::CriticalWidth(CriticalFigure {
                    x: grid_x(&self.x)?,
                    target,
                    budget,
                    bounds: self.bounds.clone(),
                    margin_experiment: self.margin_experiment.clone(),
                })
            }
            KindName::Bars => {
                let target = self.target.unwrap_or(default_target);
                crate::config::decade_of(target)
                    .ok_or_else(|| problem("target", crate::config::decade_rule(target)))?;
                let y = match self.y.as_deref() {
                    Some("iters_to_target") => RunMeasure::ItersToTarget { target },
                    Some("final_rel_excess") => RunMeasure::FinalRelExcess,
                    Some("seconds") => RunMeasure::Seconds,
                    Some(other) => {
                        return Err(problem(
                            "y",
                            format!("`{other}` is not one of iters_to_target, final_rel_excess, seconds"),
                        ));
                    }
                    None => return Err(problem("y", "kind bars needs `y`")),
                };
                FigureKind::Bars(BarsFigure { x: grid_x(&self.x)?, y, yscale: self.yscale.unwrap_or(Scale::Log) })
            }
        };
        Ok(FigureDecl {
            name: self.name,
            title: self.title,
            print,
            filters: Filter::from_map(&self.filter),
            series: self.series.iter().map(FieldPath::new).collect(),
            labels: self.labels,
            kind,
        })
    }

    /// Every grid field the figure names, with where it is written.
    fn named_fields(&self) -> Vec<(String, &String)> {
        let grid_x =
            self.x.iter().filter(|x| !(self.kind == KindName::Curves && ["iter", "samples"].contains(&x.as_str())));
        self.filter
            .keys()
            .map(|k| (format!("filter.{}", k.escape_debug()), k))
            .chain(self.series.iter().map(|f| ("series".to_string(), f)))
            .chain(self.facets.iter().map(|f| ("facets".to_string(), f)))
            .chain(grid_x.map(|x| ("x".to_string(), x)))
            .collect()
    }
}

impl CurvesFigure {
    /// Checks the axis bounds: finite, inside what the axis can draw, and `ymin` < `ymax`.
    fn check_axes(&self) -> Result<(), Problem> {
        let y_log = self.yscale == Scale::Log;
        let x_log = self.xscale == Scale::Log;
        for (field, v, log) in [("ymin", self.ymin, y_log), ("ymax", self.ymax, y_log), ("xmax", self.xmax, x_log)] {
            let Some(v) = v else { continue };
            axis_value(v, log).map_err(|rule| problem(field, rule))?;
        }
        // The x axis starts at 0 (linear) or 1 (log).
        if let Some(x) = self.xmax.filter(|&x| x <= if x_log { 1.0 } else { 0.0 }) {
            return Err(problem(
                "xmax",
                format!("{} is not above the x axis' start ({})", float_text(x), if x_log { 1 } else { 0 }),
            ));
        }
        if let (Some(lo), Some(hi)) = (self.ymin, self.ymax) {
            axis_span(lo, hi, y_log).map_err(|rule| problem("ymax", rule))?;
        }
        Ok(())
    }
}

/// Smallest and largest magnitude a log axis may reach (plotters' key points need normal floats
/// and a bounded number of decades).
pub const LOG_AXIS: (f64, f64) = (1e-300, 1e300);
/// Most decades a log axis may span.
pub const MAX_DECADES: f64 = 300.0;

/// Whether `v` can be a bound of an axis (`log`: a logarithmic one); the rule broken otherwise.
pub fn axis_value(v: f64, log: bool) -> Result<(), String> {
    if !v.is_finite() {
        return Err(format!("an axis bound must be a finite number, got {}", float_text(v)));
    }
    if log && !(LOG_AXIS.0..=LOG_AXIS.1).contains(&v) {
        return Err(format!("a bound of a log axis must lie in [1e-300, 1e300], got {}", float_text(v)));
    }
    if !log && v.abs() > 1e300 {
        return Err(format!("a bound of a linear axis must lie in [-1e300, 1e300], got {}", float_text(v)));
    }
    Ok(())
}

/// Whether `lo..hi` is an axis range that can be drawn; the rule broken otherwise.
pub fn axis_span(lo: f64, hi: f64, log: bool) -> Result<(), String> {
    if lo >= hi {
        return Err(format!("ymin ({}) must be below ymax ({})", float_text(lo), float_text(hi)));
    }
    if log && (hi / lo).log10() > MAX_DECADES {
        return Err(format!(
            "a log axis may span at most {MAX_DECADES} decades, {}..{} spans more",
            float_text(lo),
            float_text(hi)
        ));
    }
    let span = hi - lo;
    let drawable_span = span.is_finite() && span >= 1e-12 * lo.abs().max(hi.abs());
    if !log && !drawable_span {
        return Err(format!(
            "the span {}..{} of a linear axis must be finite and not vanishingly small",
            float_text(lo),
            float_text(hi)
        ));
    }
    Ok(())
}

/// The text of `field`'s `value` under a `labels:` map (the one labelling of figures and tables):
/// its value label if `labels` has one; otherwise "name = value" when the field is labelled
/// (`labels: {data.kappa: κ}`) or `name_it`, with the field's label (or its path) as the name;
/// otherwise the value itself (`n/a` for a field the run does not have).
pub fn value_text(labels: &BTreeMap<String, String>, field: &str, value: &FieldValue, name_it: bool) -> String {
    if let Some(label) = labels.get(value.text()) {
        return label.clone();
    }
    match labels.get(field) {
        Some(name) => format!("{name} = {value}"),
        None if name_it => format!("{field} = {value}"),
        None => value.to_string(),
    }
}

/// The name of `field` under a `labels:` map, as an axis or a table header shows it: its label if
/// `labels` has one, otherwise its name in words for the usual axes ("depth L", "width m",
/// "condition number κ"), otherwise its path.
pub fn field_text(labels: &BTreeMap<String, String>, field: &str) -> String {
    if let Some(label) = labels.get(field) {
        return label.clone();
    }
    match field {
        "model.depth" => "depth L".into(),
        "data.kappa" => "condition number κ".into(),
        "model.width" => "width m".into(),
        other => other.into(),
    }
}

impl FigureDecl {
    /// The facet fields (curves only).
    pub fn facets(&self) -> &[FieldPath] {
        match &self.kind {
            FigureKind::Curves(c) => &c.facets,
            FigureKind::CriticalWidth(_) | FigureKind::Bars(_) => &[],
        }
    }

    /// The grid field along x (critical widths and bars).
    pub fn grid_x(&self) -> Option<&FieldPath> {
        match &self.kind {
            FigureKind::Curves(_) => None,
            FigureKind::CriticalWidth(c) => Some(&c.x),
            FigureKind::Bars(b) => Some(&b.x),
        }
    }

    /// The values of the series fields for `run`.
    pub fn series_values(&self, run: &GridRun) -> Vec<FieldValue> {
        self.series.iter().map(|f| f.value_of(run)).collect()
    }

    /// The series a run belongs to, as text: its series fields' values joined by " · ", a field
    /// the run does not have as `n/a` (the figure CSV's `series_value`).
    pub fn series_of(&self, run: &GridRun) -> String {
        self.series_values(run).iter().map(FieldValue::text).collect::<Vec<_>>().join(" · ")
    }

    /// The legend text of a value as written (a value label if `labels` has one).
    pub fn label(&self, value: &str) -> String {
        self.labels.get(value).cloned().unwrap_or_else(|| value.to_string())
    }

    /// The legend text of a run's series: the label of its joined values if there is one,
    /// otherwise each field's [`FigureDecl::value_text`] joined by " · " (numbers always with their
    /// field). A field the run does not have is left out beside fields it has ("linear" rather
    /// than "linear · n/a"), and named when it is the only one ("model.transform = n/a"): a legend
    /// entry is never blank.
    pub fn series_label(&self, run: &GridRun) -> String {
        let values = self.series_values(run);
        let present: Vec<(&FieldPath, &FieldValue)> =
            self.series.iter().zip(&values).filter(|(_, v)| !v.is_absent()).collect();
        let joined = present.iter().map(|(_, v)| v.text()).collect::<Vec<_>>().join(" · ");
        if let Some(label) = self.labels.get(&joined).or_else(|| self.labels.get(&self.series_of(run))) {
            return label.clone();
        }
        if present.is_empty() {
            return self
                .series
                .iter()
                .map(|f| self.value_text(f.as_str(), &FieldValue::Absent, true))
                .collect::<Vec<_>>()
                .join(" · ");
        }
        // A bare number says nothing in a legend: name its field ("model.depth = 3").
        present
            .iter()
            .map(|(f, v)| self.value_text(f.as_str(), v, v.number().is_some()))
            .collect::<Vec<_>>()
            .join(" · ")
    }

    /// The panel a run belongs to: its facet fields' values (empty without facets).
    pub fn facet_of(&self, run: &GridRun) -> Vec<FieldValue> {
        self.facets().iter().map(|f| f.value_of(run)).collect()
    }

    /// A panel's title: each facet field's [`FigureDecl::value_text`] (always naming the field),
    /// joined by ", ", e.g. "κ = 2, L = 4".
    pub fn facet_title(&self, run: &GridRun) -> String {
        let parts: Vec<String> =
            self.facets().iter().map(|f| self.value_text(f.as_str(), &f.value_of(run), true)).collect();
        parts.join(", ")
    }

    /// The text of `field`'s `value`: its value label if `labels` has one; otherwise
    /// "name = value" when the field is labelled (`labels: {data.kappa: κ}`) or `name_it`, with the
    /// field's label (or its path) as the name; otherwise the value itself.
    pub fn value_text(&self, field: &str, value: &FieldValue, name_it: bool) -> String {
        value_text(&self.labels, field, value, name_it)
    }

    /// The grid fields that name what one mark summarises: series, facets, a grid-field x, and
    /// for a critical width the width it searches over.
    fn named_fields(&self) -> Vec<&str> {
        let width = matches!(self.kind, FigureKind::CriticalWidth(_)).then_some("model.width");
        self.series.iter().chain(self.facets()).chain(self.grid_x()).map(FieldPath::as_str).chain(width).collect()
    }

    /// The runs of `runs` the figure's filters keep.
    pub fn select<'a>(&self, runs: impl IntoIterator<Item = &'a GridRun>) -> Vec<&'a GridRun> {
        runs.into_iter().filter(|r| self.filters.iter().all(|f| f.matches(r))).collect()
    }

    /// The pooling rule, one for every kind: among the grid `runs` the filter keeps, runs that one
    /// mark summarises (equal in every named field) may differ only in the seed. Returns the grid
    /// `axes` that break it, each with its values.
    fn unnamed_fields(&self, runs: &[GridRun], axes: &[String]) -> Vec<(String, Vec<String>)> {
        let named = self.named_fields();
        let kept = self.select(runs);
        let mut broken = Vec::new();
        for axis in axes.iter().filter(|a| *a != "seed" && !named.contains(&a.as_str())) {
            let path = FieldPath::new(axis.as_str());
            // mark (the named fields' values) → the axis' values among its runs
            let mut per_mark: BTreeMap<Vec<FieldValue>, Vec<FieldValue>> = BTreeMap::new();
            for r in &kept {
                let mark = named.iter().map(|f| FieldPath::new(*f).value_of(r)).collect();
                let values = per_mark.entry(mark).or_default();
                let v = path.value_of(r);
                if !values.contains(&v) {
                    values.push(v);
                }
            }
            if let Some(values) = per_mark.into_values().find(|v| v.len() > 1) {
                broken.push((axis.clone(), values.iter().map(|v| v.text().to_string()).collect()));
            }
        }
        broken
    }
}

/// A declared figure that does not fit the expanded grid (it would pool runs that differ in a
/// field it does not name, names a field no run has, selects no run, …), with the error that says
/// why. A command asked to (`run --no-figures`) leaves it out instead of refusing the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenFigure {
    pub name: String,
    pub error: SpecError,
}

/// The figures of a spec read against its grid: those that fit, those that do not, and the notes
/// of the ones that fit.
#[derive(Debug, Clone, Default)]
pub struct FigureDecls {
    pub figures: Vec<FigureDecl>,
    pub broken: Vec<BrokenFigure>,
    /// A note for every filter that leaves out runs only because they lack its field.
    pub notes: Vec<String>,
}

impl Spec {
    /// The figures declared in this spec, read and checked against its expanded grid `runs`:
    /// the fields of each kind, displayable texts, fields that exist, axis bounds, budgets (in
    /// theory iterations only for runs with a theorem's step), and the pooling rule
    /// ([`FigureDecl::unnamed_fields`]); the first figure that breaks one is the error. Also
    /// returns a note for every filter that leaves out runs only because they lack its field
    /// ([`Filter::absence_note`]).
    pub fn figure_decls(&self, runs: &[GridRun]) -> Result<(Vec<FigureDecl>, Vec<String>), SpecError> {
        let decls = self.figure_decls_one_by_one(runs)?;
        match decls.broken.into_iter().next() {
            Some(broken) => Err(broken.error),
            None => Ok((decls.figures, decls.notes)),
        }
    }

    /// The figures declared in this spec checked one by one against `runs` as
    /// [`Spec::figure_decls`] does, each that breaks a rule set apart with its error; only a
    /// `figures` section that does not read as a list of figures is an error.
    pub fn figure_decls_one_by_one(&self, runs: &[GridRun]) -> Result<FigureDecls, SpecError> {
        if self.figures.is_null() {
            return Ok(FigureDecls::default());
        }
        let inputs: Vec<FigureInput> = serde_path_to_error::deserialize(self.figures.clone()).map_err(|e| {
            let path = format!("figures{}", path_suffix(&e.path().to_string()));
            self.figure_error(&path, e.into_inner().to_string())
        })?;
        let axes = self.axis_names()?;
        let mut names = std::collections::HashSet::new();
        let mut decls = FigureDecls::default();
        for (i, input) in inputs.into_iter().enumerate() {
            let name = input.name.clone();
            match self.figure_decl(i, input, runs, &axes, &mut names) {
                Ok(f) => {
                    decls.notes.extend(
                        f.filters
                            .iter()
                            .filter_map(|flt| flt.absence_note(runs))
                            .map(|n| format!("figure `{}`: {n}", f.name)),
                    );
                    decls.figures.push(f);
                }
                Err(error) => decls.broken.push(BrokenFigure { name, error }),
            }
        }
        Ok(decls)
    }

    /// Figure `i` of the spec, read and checked against `runs` (the rules of
    /// [`Spec::figure_decls`]); `names` holds the names of the figures before it.
    fn figure_decl(
        &self,
        i: usize,
        input: FigureInput,
        runs: &[GridRun],
        axes: &[String],
        names: &mut std::collections::HashSet<String>,
    ) -> Result<FigureDecl, SpecError> {
        let at = |field: &str, rule: String| self.figure_error(&format!("figures[{i}].{field}"), rule);
        for (field, name) in input.named_fields() {
            known_field(runs, name).map_err(|rule| at(&field, rule))?;
        }
        let f = input.read(self.theory.target).map_err(|(field, rule)| at(&field, rule))?;
        if !names.insert(f.name.clone()) {
            return Err(at("name", format!("figure `{}` is declared twice", f.name)));
        }
        let kept = f.select(runs);
        if kept.is_empty() {
            return Err(at("filter", "selects no run of the grid".into()));
        }
        if let FigureKind::CriticalWidth(c) = &f.kind {
            let quantity = Quantity::Width(WidthMeasure::Critical { target: c.target, budget: c.budget });
            theory_steps(quantity, &kept).map_err(|rule| at("budget", rule))?;
        }
        let unnamed = f.unnamed_fields(runs, axes);
        if !unnamed.is_empty() {
            let list: Vec<String> =
                unnamed.iter().map(|(axis, values)| format!("`{axis}` ({})", values.join(", "))).collect();
            let places = match f.kind {
                FigureKind::Curves(_) => "filter, series or facets",
                FigureKind::CriticalWidth(_) | FigureKind::Bars(_) => "filter, series or x",
            };
            return Err(self.figure_error(
                &format!("figures[{i}]"),
                format!(
                    "figure `{}` pools runs that differ in {}: seeds are the only replicates; name each such \
                     field in the figure's {places} (a filter value n/a keeps the runs that do not have its field)",
                    f.name,
                    list.join(" and "),
                ),
            ));
        }
        Ok(f)
    }
}

/// `[0].series` stays, `.` (the root) becomes nothing.
fn path_suffix(path: &str) -> String {
    if path == "." {
        String::new()
    } else if path.starts_with('[') {
        path.to_string()
    } else {
        format!(".{path}")
    }
}
