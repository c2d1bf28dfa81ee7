//! The `figures:` section of an experiment file: what to draw, declared in YAML.
//!
//! ```yaml
//! figures:
//!   - name: fig1a                 # figures/<experiment>/fig1a.{svg,png,csv}
//!     kind: curves                # curves | critical_width | bars
//!     title: "Fig. 1(a): m = 40"
//!     filter: {model.width: 40}   # values (or lists of alternatives) of grid fields
//!     series: model.transform     # one colour per value (or a list of fields); seeds are replicates
//!     labels: {modified_identity: modified identity, data.kappa: κ}   # text per value; per field: "κ = 2"
//!     facets: model.width         # curves: one panel per value (or per combination of a list of fields)
//!     x: iter                     # curves: iter | samples; critical_width, bars: a grid field
//!     y: rel_excess               # curves: rel_excess | excess | loss; bars: iters_to_target | final_rel_excess | seconds
//!     xscale: linear              # linear | log
//!     yscale: log
//!     xmax: 500                   # curves: clip the x axis
//!     ymin: 1.0e-16               # curves: floor of the y axis (default: the data's minimum, ≥ 1e-16 relative)
//!     ymax: 10                    # curves: top of the y axis (default: 10 for relative excess)
//!     lines: [zou]                # curves: theory lines, dashed in the series colour (zou | linearised | du_hu)
//!     budget: 10                  # critical_width: success = iterations to `target` ≤ budget × the
//!     target: 1.0e-6              #   theorem's wide-limit iteration count
//!     bounds: [zou, du_hu, modified_identity, margin]   # critical_width: bound lines
//!     margin_experiment: width_margin                   # where the `margin` line's runs are
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::export::tables::param_value;
use crate::number::float_text;
use crate::spec::{Filter, GridRun, Spec, SpecError, displayable, known_field};

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
pub enum FigureKind {
    /// Excess loss (or loss) against iteration: median across seeds with a min–max band.
    Curves,
    /// The empirical critical width against a grid field, beside the width bounds.
    CriticalWidth,
    /// Grouped bars of a per-run number (median across seeds, min–max whiskers).
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

/// One declared figure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FigureSpec {
    pub name: String,
    pub kind: FigureKind,
    pub title: String,
    #[serde(default)]
    pub filter: BTreeMap<String, Json>,
    /// Field(s) whose values (joined by " · ") name the series.
    #[serde(default, deserialize_with = "one_or_many")]
    pub series: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Field(s) whose value combinations get one panel each (curves).
    #[serde(default, deserialize_with = "one_or_many")]
    pub facets: Vec<String>,
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
    #[serde(default)]
    pub xscale: Option<Scale>,
    #[serde(default)]
    pub yscale: Option<Scale>,
    #[serde(default)]
    pub xmax: Option<f64>,
    #[serde(default)]
    pub ymin: Option<f64>,
    #[serde(default)]
    pub ymax: Option<f64>,
    #[serde(default)]
    pub lines: Vec<TheoryLine>,
    #[serde(default)]
    pub budget: Option<f64>,
    #[serde(default)]
    pub target: Option<f64>,
    #[serde(default)]
    pub bounds: Vec<WidthBound>,
    #[serde(default)]
    pub margin_experiment: Option<String>,
}

const CURVE_X: [&str; 2] = ["iter", "samples"];
const CURVE_Y: [&str; 3] = ["rel_excess", "excess", "loss"];
pub const BAR_Y: [&str; 3] = ["iters_to_target", "final_rel_excess", "seconds"];

impl FigureSpec {
    /// The figure's filters.
    pub fn filters(&self) -> Vec<Filter> {
        Filter::from_map(&self.filter)
    }

    /// The series a run belongs to: the values of the series fields it has, joined by " · "
    /// (a linear network has no transformation, so it contributes no value for that field).
    pub fn series_of(&self, run: &GridRun) -> String {
        self.series.iter().map(|f| param_value(run, f)).filter(|v| !v.is_empty()).collect::<Vec<_>>().join(" · ")
    }

    /// The legend text of a series value.
    pub fn label(&self, value: &str) -> String {
        self.labels.get(value).cloned().unwrap_or_else(|| value.to_string())
    }

    /// The legend text of a run's series: the label of the joined value if there is one, otherwise
    /// each field's [`FigureSpec::value_text`] joined by " · " (numbers always with their field).
    pub fn series_label(&self, run: &GridRun) -> String {
        let joined = self.series_of(run);
        if let Some(label) = self.labels.get(&joined) {
            return label.clone();
        }
        let parts: Vec<String> = self
            .series
            .iter()
            .map(|f| (f, param_value(run, f)))
            .filter(|(_, v)| !v.is_empty())
            // A bare number says nothing in a legend: name its field ("model.depth = 3").
            .map(|(f, v)| self.value_text(f, &v, v.parse::<f64>().is_ok()))
            .collect();
        parts.join(" · ")
    }

    /// The panel a run belongs to: its facet fields' values (empty without facets).
    pub fn facet_of(&self, run: &GridRun) -> Vec<String> {
        self.facets.iter().map(|f| param_value(run, f)).collect()
    }

    /// A panel's title: each facet field's [`FigureSpec::value_text`] (always naming the field),
    /// joined by ", ", e.g. "κ = 2, L = 4".
    pub fn facet_title(&self, run: &GridRun) -> String {
        let parts: Vec<String> = self.facets.iter().map(|f| self.value_text(f, &param_value(run, f), true)).collect();
        parts.join(", ")
    }

    /// The text of `field`'s `value`: its value label if `labels` has one; otherwise
    /// "name = value" when the field is labelled (`labels: {data.kappa: κ}`) or `name_it`, with the
    /// field's label (or its path) as the name; otherwise the value itself.
    pub fn value_text(&self, field: &str, value: &str, name_it: bool) -> String {
        if let Some(label) = self.labels.get(value) {
            return label.clone();
        }
        match self.labels.get(field) {
            Some(name) => format!("{name} = {value}"),
            None if name_it => format!("{field} = {value}"),
            None => value.to_string(),
        }
    }

    /// Checks the fields the kind needs; returns (field, rule) of the first problem.
    fn check(&self) -> Result<(), (&'static str, String)> {
        if self.name.is_empty() || !self.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)) {
            return Err(("name", format!("`{}` must be a file name of letters, digits, `-` and `_`", self.name)));
        }
        let one_of = |field: &'static str, v: &Option<String>, allowed: &[&str], default_ok: bool| match v {
            None if default_ok => Ok(()),
            None => Err((field, format!("kind {:?} needs `{field}`", self.kind))),
            Some(v) if allowed.is_empty() || allowed.contains(&v.as_str()) => Ok(()),
            Some(v) => Err((field, format!("`{v}` is not one of {}", allowed.join(", ")))),
        };
        match self.kind {
            FigureKind::Curves => {
                one_of("x", &self.x, &CURVE_X, true)?;
                one_of("y", &self.y, &CURVE_Y, true)?;
            }
            FigureKind::CriticalWidth => {
                one_of("x", &self.x, &[], false)?;
                if self.series.is_empty() {
                    return Err(("series", "kind critical_width needs `series` (e.g. model.arch)".into()));
                }
                if self.budget.is_none_or(|b| !(b.is_finite() && b > 0.0)) {
                    return Err((
                        "budget",
                        "kind critical_width needs a positive `budget` (a multiple of the theory's iterations)".into(),
                    ));
                }
                if self.bounds.contains(&WidthBound::Margin) && self.margin_experiment.is_none() {
                    return Err(("margin_experiment", "the `margin` bound needs `margin_experiment`".into()));
                }
            }
            FigureKind::Bars => {
                one_of("x", &self.x, &[], false)?;
                one_of("y", &self.y, &BAR_Y, false)?;
            }
        }
        if self.kind != FigureKind::Curves && !self.facets.is_empty() {
            return Err((
                "facets",
                format!("kind {:?} draws one panel: use `filter` (one figure per value) or `series`", self.kind),
            ));
        }
        if let Some(t) = self.target.filter(|t| !(*t > 0.0 && *t < 1.0)) {
            return Err(("target", format!("a relative excess in (0, 1), got {}", float_text(t))));
        }
        self.check_bounds()
    }

    /// Checks the text the figure displays (its title, the keys and values of its labels) with
    /// [`displayable`]; returns (field, rule) of the first problem.
    fn check_texts(&self) -> Result<(), (String, String)> {
        displayable(&self.title).map_err(|rule| ("title".to_string(), rule))?;
        for (key, label) in &self.labels {
            displayable(key).map_err(|rule| ("labels".to_string(), format!("a key {rule}")))?;
            displayable(label).map_err(|rule| (format!("labels.{key}"), rule))?;
        }
        Ok(())
    }

    /// Checks that every grid field the figure names (filter keys, series, facets, a grid-field
    /// `x`) is a field of the grid `runs` ([`known_field`]); returns (field, rule) of the first
    /// unknown one.
    fn check_fields(&self, runs: &[GridRun]) -> Result<(), (String, String)> {
        let named = self
            .filter
            .keys()
            .map(|k| (format!("filter.{}", k.escape_debug()), k))
            .chain(self.series.iter().map(|f| ("series".to_string(), f)))
            .chain(self.facets.iter().map(|f| ("facets".to_string(), f)))
            .chain(self.x.iter().filter(|x| !CURVE_X.contains(&x.as_str())).map(|x| ("x".to_string(), x)));
        for (at, field) in named {
            known_field(runs, field).map_err(|rule| (at, rule))?;
        }
        Ok(())
    }

    /// Checks the axis bounds: finite, inside what the axis can draw, and `ymin` < `ymax`.
    fn check_bounds(&self) -> Result<(), (&'static str, String)> {
        let y_log = self.yscale.unwrap_or(Scale::Log) == Scale::Log;
        let x_log = self.xscale == Some(Scale::Log);
        // The x axis starts at 0 (linear) or 1 (log).
        for (field, v, log) in [("ymin", self.ymin, y_log), ("ymax", self.ymax, y_log), ("xmax", self.xmax, x_log)] {
            let Some(v) = v else { continue };
            axis_value(v, log).map_err(|rule| (field, rule))?;
        }
        if let Some(x) = self.xmax.filter(|&x| x <= if x_log { 1.0 } else { 0.0 }) {
            return Err((
                "xmax",
                format!("{} is not above the x axis' start ({})", float_text(x), if x_log { 1 } else { 0 }),
            ));
        }
        if let (Some(lo), Some(hi)) = (self.ymin, self.ymax) {
            axis_span(lo, hi, y_log).map_err(|rule| ("ymax", rule))?;
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

impl FigureSpec {
    /// The grid fields that name what one mark summarises: `series`, `facets`, a grid-field `x`,
    /// and for a critical width the width it searches over.
    fn named_fields(&self) -> Vec<&str> {
        let x = self.x.as_deref().filter(|x| !CURVE_X.contains(x));
        let width = (self.kind == FigureKind::CriticalWidth).then_some("model.width");
        self.series.iter().chain(&self.facets).map(String::as_str).chain(x).chain(width).collect()
    }

    /// The pooling rule, one for every kind: among the grid `runs` the filter keeps, runs that one
    /// mark summarises (equal in every named field) may differ only in the seed. Returns the grid
    /// `axes` that break it, each with its values.
    fn unnamed_fields(&self, runs: &[GridRun], axes: &[String]) -> Vec<(String, Vec<String>)> {
        let filters = self.filters();
        let named = self.named_fields();
        let kept: Vec<&GridRun> = runs.iter().filter(|r| filters.iter().all(|f| f.matches(r))).collect();
        let mut broken: Vec<(String, Vec<String>)> = Vec::new();
        for axis in axes.iter().filter(|a| *a != "seed" && !named.contains(&a.as_str())) {
            // mark (the named fields' values) → the axis' values among its runs
            let mut per_mark: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
            for r in &kept {
                let mark = named.iter().map(|f| param_value(r, f)).collect();
                let values = per_mark.entry(mark).or_default();
                let v = param_value(r, axis);
                if !values.contains(&v) {
                    values.push(v);
                }
            }
            if let Some(values) = per_mark.into_values().find(|v| v.len() > 1) {
                broken.push((axis.clone(), values));
            }
        }
        broken
    }
}

impl Spec {
    /// The figures declared in this spec, checked against its expanded grid `runs`: fields,
    /// bounds, and the pooling rule ([`FigureSpec::unnamed_fields`]).
    pub fn figure_specs(&self, runs: &[GridRun]) -> Result<Vec<FigureSpec>, SpecError> {
        if self.figures.is_null() {
            return Ok(Vec::new());
        }
        let figures: Vec<FigureSpec> = serde_path_to_error::deserialize(self.figures.clone()).map_err(|e| {
            let path = format!("figures{}", path_suffix(&e.path().to_string()));
            self.figure_error(&path, e.into_inner().to_string())
        })?;
        let axes = self.axis_names()?;
        let mut names = std::collections::HashSet::new();
        for (i, f) in figures.iter().enumerate() {
            let at = |field: &str, rule: String| self.figure_error(&format!("figures[{i}].{field}"), rule);
            f.check().map_err(|(field, rule)| at(field, rule))?;
            f.check_texts().map_err(|(field, rule)| at(&field, rule))?;
            f.check_fields(runs).map_err(|(field, rule)| at(&field, rule))?;
            let unnamed = f.unnamed_fields(runs, &axes);
            if !unnamed.is_empty() {
                let list: Vec<String> =
                    unnamed.iter().map(|(axis, values)| format!("`{axis}` ({})", values.join(", "))).collect();
                return Err(self.figure_error(
                    &format!("figures[{i}]"),
                    format!(
                        "figure `{}` pools runs that differ in {}: seeds are the only replicates; name each such \
                         field in the figure's {}",
                        f.name,
                        list.join(" and "),
                        if f.kind == FigureKind::Curves { "filter, series or facets" } else { "filter, series or x" }
                    ),
                ));
            }
            if !names.insert(f.name.clone()) {
                return Err(
                    self.figure_error(&format!("figures[{i}].name"), format!("figure `{}` is declared twice", f.name))
                );
            }
        }
        Ok(figures)
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
