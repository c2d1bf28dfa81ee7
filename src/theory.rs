//! Every quantity the two theorems use, computed for one run (THEORY.md is the reference).
//!
//! Data: r, σ_max(X), σ_r(X) (smallest nonzero), κ = σ_max²/σ_r², ‖X‖_F, stable rank ‖X‖_F²/‖X‖₂²,
//! L*, ‖W*‖₂. ResNet (Zou, Long & Gu): σ_min and ‖·‖₂ of A and B, the condition margin, the step
//! bracket, the rate ρ = ηLσ_min²(A)σ_min²(B)σ_r²/e and its line (1 − ρ)^t(L(W0) − L*), iterations
//! to a relative excess ε, and the linearised rate at W = 0. Linear network (Du & Hu): the step
//! bound k/(2L‖X‖²), the rate 1 − ½ηLσ_r²/k and the width condition. Width bounds for both.

use crate::model::TransformGram;
use serde::{Deserialize, Serialize};

use crate::config::{Arch, Method, RunConfig, TheoryConstants};
use crate::error::LinalgError;
use crate::linalg::{spectral_norm, symmetric_eigenvalues};
use crate::problem::Problem;

/// Spectral facts about the training set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataTheory {
    pub n: usize,
    pub d: usize,
    pub k: usize,
    /// Numerical rank r of X.
    pub rank: usize,
    /// σ_max(X) = ‖X‖₂.
    #[serde(with = "crate::json_float")]
    pub sigma_max: f64,
    /// σ_r(X), the smallest nonzero singular value.
    #[serde(with = "crate::json_float")]
    pub sigma_r: f64,
    /// κ = σ_max²/σ_r².
    #[serde(with = "crate::json_float")]
    pub kappa: f64,
    /// ‖X‖_F.
    #[serde(with = "crate::json_float")]
    pub fro_norm: f64,
    /// ‖X‖_F²/‖X‖₂².
    #[serde(with = "crate::json_float")]
    pub stable_rank: f64,
    /// L* = ½‖W*X − Y‖²_F.
    #[serde(with = "crate::json_float")]
    pub l_star: f64,
    /// ‖W*‖₂.
    #[serde(with = "crate::json_float")]
    pub w_star_norm: f64,
}

/// σ_min and ‖·‖₂ of the fixed maps A (m×d) and B (k×m).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TransformSpectrum {
    /// σ_d(A).
    #[serde(with = "crate::json_float")]
    pub a_sigma_min: f64,
    #[serde(with = "crate::json_float")]
    pub a_norm: f64,
    /// σ_k(B).
    #[serde(with = "crate::json_float")]
    pub b_sigma_min: f64,
    #[serde(with = "crate::json_float")]
    pub b_norm: f64,
    /// λ_r(XᵀAᵀAX), the smallest nonzero eigenvalue of the input Gram matrix after A.
    #[serde(with = "crate::json_float")]
    pub ax_lambda_r: f64,
}

/// The GD theorem of Zou et al. applied to one ResNet run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZouTheory {
    #[serde(flatten)]
    pub spectrum: TransformSpectrum,
    /// [σ_min²(A)σ_min²(B)/(‖A‖‖B‖)] / [C‖X‖√(L(W0) − L*)/σ_r²]; the condition holds when ≥ 1
    /// (`None` when the start is already optimal).
    #[serde(with = "crate::json_float::option")]
    pub margin: Option<f64>,
    /// C₁/(L‖A‖‖B‖‖X‖(√L(W0) + ‖A‖‖B‖‖X‖)), the largest step of the theorem (C₁ = `theory.c_step`).
    #[serde(with = "crate::json_float")]
    pub eta_bracket: f64,
    /// ρ = ηLσ_min²(A)σ_min²(B)σ_r²/e; the bound is L(W_t) − L* ≤ (1 − ρ)^t (L(W0) − L*).
    #[serde(with = "crate::json_float")]
    pub rho: f64,
    /// Iterations the bound needs to reach relative excess ε: ln(1/ε)/(−ln(1 − ρ)).
    #[serde(with = "crate::json_float::option")]
    pub iters_to_target: Option<f64>,
    /// μ = λ_min(BBᵀ)·λ_r(XᵀAᵀAX): at W = 0 the excess falls by about (1 − ηLμ)² per step.
    #[serde(with = "crate::json_float")]
    pub lin_mu: f64,
    /// (1 − ηLμ)².
    #[serde(with = "crate::json_float")]
    pub lin_factor: f64,
    /// GD, margin ≥ 1 and η ≤ bracket: the run is covered by the GD theorem.
    pub covered: bool,
}

/// The GD theorem of Du & Hu applied to one linear-network run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuHuTheory {
    /// C·L·max{rκ³k(1 + ‖W*‖₂²), rκ³ln(r/δ), ln L}.
    #[serde(with = "crate::json_float")]
    pub width_required: f64,
    /// m / width_required.
    #[serde(with = "crate::json_float")]
    pub margin: f64,
    /// 1 − ½ηLσ_r²/k, the per-step factor of the bound.
    #[serde(with = "crate::json_float")]
    pub factor: f64,
    /// Iterations the bound needs to reach relative excess ε.
    #[serde(with = "crate::json_float::option")]
    pub iters_to_target: Option<f64>,
}

/// The width bounds of the two papers for this data set and depth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WidthBounds {
    /// C·k·r·κ² (Zou et al., Gaussian transformations).
    #[serde(with = "crate::json_float")]
    pub zou: f64,
    /// C·k·r̃·κ² with the stable rank r̃.
    #[serde(with = "crate::json_float")]
    pub zou_stable: f64,
    /// C·L·r·κ³·k (Du & Hu).
    #[serde(with = "crate::json_float")]
    pub du_hu: f64,
    /// d + k (modified identity).
    pub modified_identity: usize,
}

/// What a run's record keeps of the theory: the facts that do not depend on the theorems' open
/// constants (C, C₁, C of the width bounds, δ) or on the accuracy target. Every quantity of a
/// [`TheoryReport`] follows from these, the run's shape and the constants, when results are read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TheoryFacts {
    pub data: DataTheory,
    /// σ's of A and B (ResNet).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub transform: Option<TransformSpectrum>,
    /// L(W0).
    #[serde(with = "crate::json_float")]
    pub loss0: f64,
    /// L(W0) − L*.
    #[serde(with = "crate::json_float")]
    pub excess0: f64,
    /// The step size used.
    #[serde(with = "crate::json_float")]
    pub eta: f64,
}

/// What the theorems need to know of a run besides its facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunShape {
    pub arch: Arch,
    pub method: Method,
    pub depth: usize,
    pub width: usize,
}

impl RunShape {
    pub fn of(c: &RunConfig) -> RunShape {
        RunShape { arch: c.model.arch, method: c.optim.method, depth: c.model.depth, width: c.model.width }
    }
}

/// All theory quantities of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TheoryReport {
    pub data: DataTheory,
    /// L(W0).
    #[serde(with = "crate::json_float")]
    pub loss0: f64,
    /// L(W0) − L*.
    #[serde(with = "crate::json_float")]
    pub excess0: f64,
    /// The step size used.
    #[serde(with = "crate::json_float")]
    pub eta: f64,
    /// k/(2L‖X‖²), the Du & Hu step bound.
    #[serde(with = "crate::json_float")]
    pub eta_du_hu: f64,
    pub widths: WidthBounds,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub zou: Option<ZouTheory>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub du_hu: Option<DuHuTheory>,
    /// The relative excess ε that the `iters_to_target` fields refer to.
    #[serde(with = "crate::json_float")]
    pub target: f64,
}

impl DataTheory {
    pub fn of(problem: &Problem) -> Result<DataTheory, LinalgError> {
        let s = &problem.singular_values;
        let r = problem.rank;
        let sigma_max = s.first().copied().unwrap_or(0.0);
        let sigma_r = if r > 0 { s[r - 1] } else { 0.0 };
        let fro2: f64 = s.iter().map(|v| v * v).sum();
        Ok(DataTheory {
            n: problem.n(),
            d: problem.d(),
            k: problem.k(),
            rank: r,
            sigma_max,
            sigma_r,
            kappa: (sigma_max / sigma_r).powi(2),
            fro_norm: fro2.sqrt(),
            stable_rank: fro2 / (sigma_max * sigma_max),
            l_star: problem.l_star,
            w_star_norm: spectral_norm(&problem.w_star.view())?,
        })
    }
}

impl TransformSpectrum {
    /// From the blocks AᵀA (d×d) and BBᵀ (k×k) of the transforms' Gram matrix: σ² are their
    /// eigenvalues. λ_r(XᵀAᵀAX) is the smallest eigenvalue of FᵀAᵀAF (r×r), F = U_rS_r, which
    /// has the same nonzero spectrum. Cost O((d + k)³ + d²r).
    pub fn of(gram: &TransformGram, problem: &Problem) -> Result<TransformSpectrum, LinalgError> {
        let ka = gram.ata();
        let la = symmetric_eigenvalues(&ka)?;
        let lb = symmetric_eigenvalues(&gram.bbt())?;
        let f = problem.sigma_half();
        let fkf = f.t().dot(&ka).dot(f);
        let lfk = symmetric_eigenvalues(&fkf.view())?;
        let sqrt0 = |v: f64| v.max(0.0).sqrt();
        Ok(TransformSpectrum {
            a_sigma_min: sqrt0(la[0]),
            a_norm: sqrt0(la[la.len() - 1]),
            b_sigma_min: sqrt0(lb[0]),
            b_norm: sqrt0(lb[lb.len() - 1]),
            ax_lambda_r: lfk.first().copied().unwrap_or(0.0).max(0.0),
        })
    }
}

/// The step of the Zou rule: scale/(L‖A‖‖B‖‖X‖(√L(W0) + ‖A‖‖B‖‖X‖)).
pub fn zou_step(scale: f64, depth: usize, t: &TransformSpectrum, x_norm: f64, loss0: f64) -> f64 {
    let abx = t.a_norm * t.b_norm * x_norm;
    scale / (depth as f64 * abx * (loss0.sqrt() + abx))
}

/// The step of the Du & Hu rule: scale·k/(2L‖X‖²).
pub fn du_hu_step(scale: f64, depth: usize, k: usize, x_norm: f64) -> f64 {
    scale * k as f64 / (2.0 * depth as f64 * x_norm * x_norm)
}

/// Iterations for a per-step factor q ∈ (0, 1) to reach ε: ln(1/ε)/(−ln q).
fn iters_for(factor: f64, target: f64) -> Option<f64> {
    (factor > 0.0 && factor < 1.0).then(|| target.ln() / factor.ln())
}

impl TheoryReport {
    /// Every quantity of the two theorems for a run with these facts and shape, under `constants`.
    pub fn derive(facts: &TheoryFacts, shape: RunShape, constants: &TheoryConstants) -> TheoryReport {
        let TheoryFacts { data, transform, loss0, excess0, eta } = facts.clone();
        let RunShape { arch, method, depth, width } = shape;
        let l = depth as f64;
        let (r, k) = (data.rank as f64, data.k as f64);
        let widths = WidthBounds {
            zou: constants.c_width * k * r * data.kappa.powi(2),
            zou_stable: constants.c_width * k * data.stable_rank * data.kappa.powi(2),
            du_hu: constants.c_width * l * r * data.kappa.powi(3) * k,
            modified_identity: data.d + data.k,
        };
        let sr2 = data.sigma_r * data.sigma_r;
        let zou = transform.filter(|_| arch == Arch::Resnet).map(|t| {
            let lhs = t.a_sigma_min.powi(2) * t.b_sigma_min.powi(2) / (t.a_norm * t.b_norm);
            let rhs = constants.c_zou * data.sigma_max * excess0.sqrt() / sr2;
            let margin = (rhs > 0.0).then(|| lhs / rhs);
            let eta_bracket = zou_step(constants.c_step, depth, &t, data.sigma_max, loss0);
            let rho = eta * l * t.a_sigma_min.powi(2) * t.b_sigma_min.powi(2) * sr2 / std::f64::consts::E;
            let lin_mu = t.b_sigma_min.powi(2) * t.ax_lambda_r;
            ZouTheory {
                spectrum: t,
                margin,
                eta_bracket,
                rho,
                iters_to_target: iters_for(1.0 - rho, constants.target),
                lin_mu,
                lin_factor: (1.0 - eta * l * lin_mu).powi(2),
                covered: method == Method::Gd && margin.is_none_or(|m| m >= 1.0) && eta <= eta_bracket * (1.0 + 1e-12),
            }
        });
        let du_hu = (arch == Arch::Linear).then(|| {
            let k3 = r * data.kappa.powi(3);
            let width_required = constants.c_width
                * l
                * (k3 * k * (1.0 + data.w_star_norm.powi(2))).max(k3 * (r / constants.delta).ln()).max(l.ln());
            let factor = 1.0 - 0.5 * eta * l * sr2 / k;
            DuHuTheory {
                width_required,
                margin: width as f64 / width_required,
                factor,
                iters_to_target: iters_for(factor, constants.target),
            }
        });
        TheoryReport {
            eta_du_hu: du_hu_step(1.0, depth, data.k, data.sigma_max),
            data,
            loss0,
            excess0,
            eta,
            widths,
            zou,
            du_hu,
            target: constants.target,
        }
    }

    /// The excess loss the proven bound allows at iteration t: (1 − ρ)^t(L(W0) − L*) for a ResNet,
    /// (1 − ½ηLσ_r²/k)^t(L(W0) − L*) for a linear network.
    pub fn bound_at(&self, t: usize) -> Option<f64> {
        let factor = match (&self.zou, &self.du_hu) {
            (Some(z), _) => 1.0 - z.rho,
            (_, Some(h)) => h.factor,
            _ => return None,
        };
        Some(factor.max(0.0).powf(t as f64) * self.excess0)
    }
}

/// Iterations the run's theorem guarantees for relative excess ε in the limit of infinite width,
/// at the run's step rule: ln(1/ε)/(−ln(1 − s/(eκ))) for the Zou step ×s (as m → ∞,
/// σ_min(A)/‖A‖ → 1, σ_min(B)/‖B‖ → 1 and √L(W0) ≪ ‖A‖‖B‖‖X‖, so ρ → s/(eκ)), and
/// ln(1/ε)/(−ln(1 − s/(4κ))) for the Du & Hu step ×s (its rate 1 − ½ηLσ_r²/k at
/// η = s·k/(2L‖X‖²), which does not depend on the width). `None` for a fixed step.
pub fn wide_limit_iterations(step: &crate::config::StepRule, kappa: f64, target: f64) -> Option<f64> {
    let rate = match *step {
        crate::config::StepRule::Zou { scale } => scale / (std::f64::consts::E * kappa),
        crate::config::StepRule::DuHu { scale } => scale / (4.0 * kappa),
        crate::config::StepRule::Fixed { .. } => return None,
    };
    iters_for(1.0 - rate, target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::StepRule;

    #[test]
    fn wide_limit_iterations_follow_the_two_rates() {
        let z = wide_limit_iterations(&StepRule::Zou { scale: 1.0 }, 4.0, 1e-6).unwrap();
        assert!((z - (1e6f64).ln() / -(1.0 - 1.0 / (std::f64::consts::E * 4.0)).ln()).abs() < 1e-9);
        let h = wide_limit_iterations(&StepRule::DuHu { scale: 2.0 }, 4.0, 1e-6).unwrap();
        assert!((h - (1e6f64).ln() / -(1.0f64 - 2.0 / 16.0).ln()).abs() < 1e-9);
        assert!(wide_limit_iterations(&StepRule::Fixed { eta: 0.1 }, 4.0, 1e-6).is_none());
        // A step too large for a contraction has no count.
        assert!(wide_limit_iterations(&StepRule::DuHu { scale: 64.0 }, 4.0, 1e-6).is_none());
    }
}
