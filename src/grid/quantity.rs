//! What a figure, a check or a table measures, as declared: one enum per kind of measure, each
//! variant with exactly the fields it needs, read once when the experiment file (or a command
//! line) is read. The numbers themselves are computed by the measures layer (`measure`).
//!
//! Per-run measures ([`RunMeasure`]) give one number per run and are combined over the seeds of a
//! cell ([`OverSeeds`]); width measures ([`WidthMeasure`]) give one number per cell of runs that
//! differ in the seed and the width.

use serde::Deserialize;

use crate::config::{decade_of, decade_rule};
use crate::number::float_text;

/// A quantity of a run's theory report (under the experiment's constants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TheoryQuantity {
    /// The Zou condition margin σ_min²(A)σ_min²(B)/(‖A‖‖B‖) ÷ C‖X‖√(L(W0) − L*)/σ_r² (ResNet).
    ZouMargin,
    /// η over the Zou step bracket (ResNet).
    ZouEtaOverBracket,
    /// ρ = ηLσ_min²(A)σ_min²(B)σ_r²/e (ResNet).
    ZouRho,
    /// Iterations the Zou bound needs to reach the target (∞ when it never does).
    ZouItersBound,
    /// The linearised per-step factor (1 − ηLμ)² at W = 0 (ResNet).
    LinFactor,
    /// Du & Hu's required width (linear network).
    DuHuWidthRequired,
    /// Iterations Du & Hu's bound needs to reach the target (linear network; ∞ when it never does).
    DuHuItersBound,
    /// k·r·κ².
    MZou,
    /// L·r·κ³·k.
    MDuHu,
    /// κ = σ_max²(X)/σ_r²(X).
    Kappa,
    /// The step η.
    Eta,
}

impl TheoryQuantity {
    /// Every quantity, in the order the documentation lists them.
    pub const ALL: [TheoryQuantity; 11] = [
        TheoryQuantity::ZouMargin,
        TheoryQuantity::ZouEtaOverBracket,
        TheoryQuantity::ZouRho,
        TheoryQuantity::ZouItersBound,
        TheoryQuantity::LinFactor,
        TheoryQuantity::DuHuWidthRequired,
        TheoryQuantity::DuHuItersBound,
        TheoryQuantity::MZou,
        TheoryQuantity::MDuHu,
        TheoryQuantity::Kappa,
        TheoryQuantity::Eta,
    ];

    /// The name after `theory.` in a measure.
    pub fn name(self) -> &'static str {
        match self {
            TheoryQuantity::ZouMargin => "zou_margin",
            TheoryQuantity::ZouEtaOverBracket => "zou_eta_over_bracket",
            TheoryQuantity::ZouRho => "zou_rho",
            TheoryQuantity::ZouItersBound => "zou_iters_bound",
            TheoryQuantity::LinFactor => "lin_factor",
            TheoryQuantity::DuHuWidthRequired => "du_hu_width_required",
            TheoryQuantity::DuHuItersBound => "du_hu_iters_bound",
            TheoryQuantity::MZou => "m_zou",
            TheoryQuantity::MDuHu => "m_du_hu",
            TheoryQuantity::Kappa => "kappa",
            TheoryQuantity::Eta => "eta",
        }
    }

    pub fn parse(name: &str) -> Option<TheoryQuantity> {
        TheoryQuantity::ALL.into_iter().find(|q| q.name() == name)
    }
}

/// A number per run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RunMeasure {
    /// Relative excess (L(W_T) − L*)/(L(W0) − L*) at the last logged iteration; ∞ for a run that
    /// diverged.
    FinalRelExcess,
    /// The first iteration with relative excess ≤ `target` (a decade); ∞ when never reached.
    ItersToTarget {
        target: f64,
    },
    Theory(TheoryQuantity),
    /// Wall-clock seconds of the run.
    Seconds,
    /// The largest weight norm max_{l,t} ‖W_l(t)‖₂ over the logged points (logged with
    /// `log.diagnostics`, absent without). For a ResNet, Zou et al.'s proof keeps it O(1/L).
    MaxLayerNorm,
}

/// The iterations a run may take to reach the target, for a critical width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    /// A multiple of the run's theorem's wide-limit iteration count at its step (runs with a
    /// fixed step have none: refused where declared).
    TimesTheory(f64),
    /// The same absolute count for every run.
    Iterations(u64),
}

impl Budget {
    pub fn describe(self) -> String {
        match self {
            Budget::TimesTheory(b) => format!("{} × the theorem's wide-limit iterations", float_text(b)),
            Budget::Iterations(n) => format!("{n} iterations"),
        }
    }
}

/// A number per cell of runs that differ only in the seed and the width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WidthMeasure {
    /// The smallest width of the grid from which every wider width reaches `target` within
    /// `budget` in at least half the seeds.
    Critical { target: f64, budget: Budget },
    /// The width at which the median Zou condition margin reaches 1 (log–log interpolation).
    MarginOne,
    /// The width each theorem certifies: the margin-one width of a ResNet, the median of Du &
    /// Hu's required width of a linear network.
    Certified,
}

/// How the seeds of one cell are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OverSeeds {
    #[default]
    Median,
    Min,
    Max,
    Mean,
}

impl OverSeeds {
    pub fn name(self) -> &'static str {
        match self {
            OverSeeds::Median => "median",
            OverSeeds::Min => "min",
            OverSeeds::Max => "max",
            OverSeeds::Mean => "mean",
        }
    }
}

/// One number per cell: what a check compares and a table shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantity {
    Run { measure: RunMeasure, over_seeds: OverSeeds },
    Width(WidthMeasure),
}

/// Where a quantity as written breaks a rule: the field and the rule.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantityError {
    /// `measure`, `target`, `budget` or `over_seeds`.
    pub field: &'static str,
    pub message: String,
}

/// The measures a check, a table or a figure names, with every name a user may write.
pub const MEASURE_NAMES: &str = "final_rel_excess, iters_to_target, seconds, max_layer_norm, critical_width, margin_one_width, certified_width or \
     theory.<q>";

/// A quantity as written (a check's fields, or `linres table`'s flags), before it is read.
#[derive(Debug, Clone, Default)]
pub struct QuantityInput<'a> {
    pub measure: &'a str,
    pub target: Option<f64>,
    pub budget: Option<f64>,
    pub budget_iters: Option<u64>,
    pub over_seeds: Option<OverSeeds>,
}

impl QuantityInput<'_> {
    /// Reads the quantity: the measure by name, `target` (default `default_target`) a decade,
    /// exactly one positive budget for `critical_width` and none otherwise, `over_seeds` only for
    /// per-run measures.
    pub fn read(&self, default_target: f64) -> Result<Quantity, QuantityError> {
        let err = |field, message: String| QuantityError { field, message };
        let target = self.target.unwrap_or(default_target);
        decade_of(target).ok_or_else(|| err("target", decade_rule(target)))?;
        let width = |m: WidthMeasure| Ok::<_, QuantityError>(Quantity::Width(m));
        let quantity = match self.measure {
            "final_rel_excess" => self.run(RunMeasure::FinalRelExcess),
            "iters_to_target" => self.run(RunMeasure::ItersToTarget { target }),
            "seconds" => self.run(RunMeasure::Seconds),
            "max_layer_norm" => self.run(RunMeasure::MaxLayerNorm),
            "critical_width" => {
                let (target, budget) = self.critical(default_target)?;
                width(WidthMeasure::Critical { target, budget })
            }
            "margin_one_width" => width(WidthMeasure::MarginOne),
            builtin @ ("zou_bound" | "engines_agree") => {
                return Err(err(
                    "measure",
                    format!("`{builtin}` is a built-in check (it brings its own test), not a number per cell"),
                ));
            }
            "certified_width" => width(WidthMeasure::Certified),
            other => match other.strip_prefix("theory.").and_then(TheoryQuantity::parse) {
                Some(q) => self.run(RunMeasure::Theory(q)),
                None => {
                    let names: Vec<&str> = TheoryQuantity::ALL.iter().map(|q| q.name()).collect();
                    return Err(err(
                        "measure",
                        format!("`{other}` is not a measure; expected {MEASURE_NAMES} (q: {})", names.join(" | ")),
                    ));
                }
            },
        }?;
        if !matches!(quantity, Quantity::Width(WidthMeasure::Critical { .. }))
            && (self.budget.is_some() || self.budget_iters.is_some())
        {
            return Err(err("budget", "only critical_width takes a budget".into()));
        }
        if self.over_seeds.is_some() && matches!(quantity, Quantity::Width(_)) {
            return Err(err("over_seeds", format!("{} combines the seeds itself", self.measure)));
        }
        Ok(quantity)
    }

    /// The target (a decade, default `default_target`) and the one positive budget of a critical
    /// width: `budget` (a multiple of the theorem's iterations) or `budget_iters` (absolute).
    pub fn critical(&self, default_target: f64) -> Result<(f64, Budget), QuantityError> {
        let err = |field, message: String| QuantityError { field, message };
        let target = self.target.unwrap_or(default_target);
        decade_of(target).ok_or_else(|| err("target", decade_rule(target)))?;
        let budget = match (self.budget, self.budget_iters) {
            (Some(b), None) if b.is_finite() && b > 0.0 => Budget::TimesTheory(b),
            (None, Some(n)) if n > 0 => Budget::Iterations(n),
            _ => {
                return Err(err(
                    "budget",
                    "critical_width needs one positive budget: `budget` (a multiple of the theorem's iterations) \
                     or `budget_iters` (the same count for every run)"
                        .into(),
                ));
            }
        };
        Ok((target, budget))
    }

    fn run(&self, measure: RunMeasure) -> Result<Quantity, QuantityError> {
        Ok(Quantity::Run { measure, over_seeds: self.over_seeds.unwrap_or_default() })
    }
}

impl RunMeasure {
    /// The measure in words.
    pub fn describe(self) -> String {
        match self {
            RunMeasure::FinalRelExcess => "final relative excess".into(),
            RunMeasure::ItersToTarget { target } => format!("iterations to relative excess {}", float_text(target)),
            RunMeasure::Theory(q) => format!("theory.{}", q.name()),
            RunMeasure::Seconds => "seconds".into(),
            RunMeasure::MaxLayerNorm => "largest weight norm max_{l,t} ‖W_l‖₂".into(),
        }
    }
}

impl WidthMeasure {
    /// The measure in words.
    pub fn describe(self) -> String {
        match self {
            WidthMeasure::Critical { target, budget } => format!(
                "critical width (the smallest width from which every wider one reaches {} within {} in ≥ \
                 half the seeds)",
                float_text(target),
                budget.describe()
            ),
            WidthMeasure::MarginOne => "width at which the median Zou condition margin reaches 1".into(),
            WidthMeasure::Certified => {
                "certified width (ResNet: the median Zou margin reaches 1; linear network: Du & Hu's required width)"
                    .into()
            }
        }
    }
}

impl Quantity {
    /// Whether a cell spans the widths of the grid (the measure is a width).
    pub fn over_widths(self) -> bool {
        matches!(self, Quantity::Width(_))
    }

    /// The quantity in words: "iterations to relative excess 1e-6 (median over seeds)".
    pub fn describe(self) -> String {
        match self {
            Quantity::Run { measure, over_seeds } => {
                format!("{} ({} over seeds)", measure.describe(), over_seeds.name())
            }
            Quantity::Width(w) => w.describe(),
        }
    }
}
