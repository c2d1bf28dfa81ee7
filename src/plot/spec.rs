//! The `figures:` section of an experiment file: what to draw, declared in YAML.
//!
//! ```yaml
//! figures:
//!   - name: fig1a                 # figures/<experiment>/fig1a.{svg,png,csv}
//!     kind: curves                # curves | critical_width | bars
//!     title: "Fig. 1(a): m = 40"
//!     filter: {model.width: 40}   # values (or lists of alternatives) of grid fields
//!     series: model.transform     # one colour per value (or a list of fields); seeds are replicates
//!     labels: {modified_identity: modified identity}   # legend text per value
//!     facets: model.width         # one panel per value
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
use crate::spec::{Filter, GridRun, Spec, SpecError};

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
    #[serde(default)]
    pub facets: Option<String>,
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
        if let Some(t) = self.target.filter(|t| !(*t > 0.0 && *t < 1.0)) {
            return Err(("target", format!("a relative excess in (0, 1), got {t}")));
        }
        Ok(())
    }
}

impl Spec {
    /// The figures declared in this spec, checked.
    pub fn figure_specs(&self) -> Result<Vec<FigureSpec>, SpecError> {
        if self.figures.is_null() {
            return Ok(Vec::new());
        }
        let figures: Vec<FigureSpec> = serde_path_to_error::deserialize(self.figures.clone()).map_err(|e| {
            let path = format!("figures{}", path_suffix(&e.path().to_string()));
            self.figure_error(&path, e.into_inner().to_string())
        })?;
        let mut names = std::collections::HashSet::new();
        for (i, f) in figures.iter().enumerate() {
            f.check().map_err(|(field, rule)| self.figure_error(&format!("figures[{i}].{field}"), rule))?;
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
