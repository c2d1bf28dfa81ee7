//! The `optim` section: the optimiser, its step size and its iteration budget.

use serde::{Deserialize, Serialize};

use super::model::{Arch, ModelConfig};
use super::{Dims, check_at_least, check_positive, rule};
use crate::error::ConfigError;

/// The optimiser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimConfig {
    pub method: Method,
    /// SGD only: minibatch size b, drawn uniformly without replacement at every step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<usize>,
    /// Number of steps.
    pub iters: usize,
    pub step: StepRule,
    /// Stop early once the relative excess loss (L(W_t) − L*)/(L(W_0) − L*) is at or below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_below: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Full-batch gradient descent.
    Gd,
    /// Minibatch SGD with the unbiased (n/b)-scaled gradient.
    Sgd,
}

/// The step size η. Written as `{rule: fixed, eta: …}`, `{rule: zou, scale: …}` or
/// `{rule: du_hu, scale: …}` (scale defaults to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StepInput", into = "StepInput")]
pub enum StepRule {
    /// A fixed η.
    Fixed { eta: f64 },
    /// η = scale / (L‖A‖‖B‖‖X‖(√L(W0) + ‖A‖‖B‖‖X‖)), the bracket of Zou et al. (ResNet only).
    Zou { scale: f64 },
    /// η = scale · k / (2L‖X‖²), the step of Du & Hu.
    DuHu { scale: f64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Fixed,
    Zou,
    DuHu,
}

impl StepKind {
    /// The fields a `step` mapping of this rule may have besides `rule`.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            StepKind::Fixed => &["eta"],
            StepKind::Zou | StepKind::DuHu => &["scale"],
        }
    }
}

/// The `step` mapping as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    pub rule: StepKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,
}

impl TryFrom<StepInput> for StepRule {
    type Error = String;

    fn try_from(i: StepInput) -> Result<Self, String> {
        match (i.rule, i.eta, i.scale) {
            (StepKind::Fixed, Some(eta), None) => Ok(StepRule::Fixed { eta }),
            (StepKind::Fixed, None, _) => Err("rule fixed needs `eta`".into()),
            (StepKind::Fixed, Some(_), Some(_)) => {
                Err("field `scale` does not apply to rule fixed (it takes `eta`)".into())
            }
            (_, Some(_), _) => Err("field `eta` applies only to rule fixed (rules zou and du_hu take `scale`)".into()),
            (StepKind::Zou, None, scale) => Ok(StepRule::Zou { scale: scale.unwrap_or(1.0) }),
            (StepKind::DuHu, None, scale) => Ok(StepRule::DuHu { scale: scale.unwrap_or(1.0) }),
        }
    }
}

impl From<StepRule> for StepInput {
    fn from(r: StepRule) -> StepInput {
        match r {
            StepRule::Fixed { eta } => StepInput { rule: StepKind::Fixed, eta: Some(eta), scale: None },
            StepRule::Zou { scale } => StepInput { rule: StepKind::Zou, eta: None, scale: Some(scale) },
            StepRule::DuHu { scale } => StepInput { rule: StepKind::DuHu, eta: None, scale: Some(scale) },
        }
    }
}

impl OptimConfig {
    pub(super) fn resolve(&mut self, model: &ModelConfig, dims: Dims) -> Result<(), ConfigError> {
        check_at_least("optim.iters", self.iters, 1)?;
        match self.method {
            Method::Gd => self.batch = None,
            Method::Sgd => {
                let b = self.batch.ok_or_else(|| rule("optim.batch", "method sgd needs a batch size"))?;
                if b == 0 || b > dims.n {
                    return Err(rule("optim.batch", format!("must satisfy 1 ≤ batch ≤ n = {}, got {b}", dims.n)));
                }
            }
        }
        match self.step {
            StepRule::Fixed { eta } => {
                check_positive("optim.step.eta", eta)?;
            }
            StepRule::Zou { scale } => {
                check_positive("optim.step.scale", scale)?;
                if model.arch != Arch::Resnet {
                    return Err(rule("optim.step.rule", "rule zou uses A and B, so it needs arch resnet"));
                }
            }
            StepRule::DuHu { scale } => {
                check_positive("optim.step.scale", scale)?;
            }
        }
        if let Some(s) = self.stop_below {
            check_positive("optim.stop_below", s)?;
        }
        Ok(())
    }
}
