//! Critical widths over depth, and iterations over κ.

use std::collections::BTreeMap;

use super::{CheckOutcome, fail_missing, kappa_of, outcome, show_count};
use crate::config::Arch;
use crate::experiment::{Experiment, Row};
use crate::plot::data::{critical, spread, succeeds};
use crate::plot::spec::FigureKind;

/// Critical widths of a grid: per architecture, (x, width) with ∞ when no width suffices.
pub struct CriticalWidths {
    /// The width grid.
    pub widths: Vec<f64>,
    pub by_arch: BTreeMap<Arch, Vec<(f64, f64)>>,
    /// The success rule, for the report.
    pub rule: String,
}

/// The critical width (∞ if no width of the grid suffices) per depth (or κ), per architecture,
/// under the budget and target of the experiment's first `critical_width` figure.
pub fn critical_widths(exp: &Experiment, x_field_is_depth: bool) -> Result<CriticalWidths, String> {
    let figs = exp.spec.figure_specs().map_err(|e| e.to_string())?;
    let fig = figs
        .iter()
        .find(|f| f.kind == FigureKind::CriticalWidth)
        .ok_or("the experiment declares no critical_width figure")?;
    let (budget, target) = (fig.budget.unwrap_or(10.0), fig.target.unwrap_or(1e-6));
    let mut widths: Vec<f64> = exp.rows.iter().map(|r| r.record.config.model.width as f64).collect();
    widths.sort_by(f64::total_cmp);
    widths.dedup();
    let x_of = |r: &Row| -> f64 { if x_field_is_depth { r.record.config.model.depth as f64 } else { kappa_of(r) } };
    let mut out: BTreeMap<Arch, Vec<(f64, f64)>> = BTreeMap::new();
    for arch in [Arch::Resnet, Arch::Linear] {
        let rows: Vec<&Row> = exp.rows.iter().filter(|r| r.record.config.model.arch == arch).collect();
        let mut xs: Vec<f64> = rows.iter().map(|r| x_of(r)).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup_by(|a, b| (*a - *b).abs() <= 1e-9 * b.abs());
        for x in xs {
            let ok = |w: f64| {
                let at: Vec<bool> = rows
                    .iter()
                    .filter(|r| (x_of(r) - x).abs() <= 1e-9 * x.abs() && r.record.config.model.width as f64 == w)
                    .filter_map(|r| succeeds(r, target, budget))
                    .collect();
                !at.is_empty() && at.iter().filter(|s| **s).count() * 2 >= at.len()
            };
            let crit = critical(&widths, ok).unwrap_or(f64::INFINITY);
            out.entry(arch).or_default().push((x, crit));
        }
    }
    Ok(CriticalWidths {
        widths, by_arch: out, rule: format!("budget {budget} × theory iterations, target {target:e}")
    })
}

fn show_widths(v: &[(f64, f64)]) -> String {
    v.iter().map(|(x, w)| format!("{x}:{}", show_count(*w))).collect::<Vec<_>>().join(" ")
}

/// The critical-width claims over depth: the linear network needs at least the ResNet's width at
/// every depth, strictly more at the deepest, its width grows (≥ 2× from the smallest to the
/// largest depth), and the ResNet's moves by at most one step of the width grid.
pub fn critical_width_depth(exp: &Experiment) -> Vec<CheckOutcome> {
    const CLAIMS: [(&str, &str, &str); 4] = [
        (
            "critical_width_linear_at_least_resnet",
            "the linear network's critical width is at least the ResNet's at every depth",
            "linear ≥ ResNet at every depth",
        ),
        (
            "critical_width_linear_above_resnet_deepest",
            "the linear network's critical width is strictly larger at the deepest depth",
            "linear > ResNet at the largest depth",
        ),
        (
            "critical_width_linear_grows",
            "the linear network's critical width grows with depth",
            "linear at the largest depth ≥ 2 × at the smallest",
        ),
        (
            "critical_width_resnet_flat",
            "the ResNet's critical width hardly moves with depth",
            "ResNet moves by ≤ 1 step of the width grid",
        ),
    ];
    let CriticalWidths { widths, by_arch: crit, rule } = match critical_widths(exp, true) {
        Ok(v) => v,
        Err(why) => return CLAIMS.iter().map(|(n, c, t)| fail_missing(n, c, &why, t)).collect(),
    };
    let (Some(res), Some(lin)) = (crit.get(&Arch::Resnet), crit.get(&Arch::Linear)) else {
        return CLAIMS.iter().map(|(n, c, t)| fail_missing(n, c, "runs of both architectures are needed", t)).collect();
    };
    if res.len() < 2 || res.len() != lin.len() || res.iter().zip(lin).any(|(a, b)| a.0 != b.0) {
        return CLAIMS
            .iter()
            .map(|(n, c, t)| fail_missing(n, c, "both architectures need the same two or more depths", t))
            .collect();
    }
    let measured = format!("ResNet {}; linear {} ({rule})", show_widths(res), show_widths(lin));
    let index = |w: f64| widths.iter().position(|&g| g == w).unwrap_or(widths.len());
    let res_idx: Vec<usize> = res.iter().map(|p| index(p.1)).collect();
    let checks = [
        res.iter().zip(lin).all(|(r, l)| l.1 >= r.1),
        lin.last().unwrap().1 > res.last().unwrap().1,
        lin.last().unwrap().1 >= 2.0 * lin[0].1,
        res.iter().all(|p| p.1.is_finite()) && res_idx.iter().max().unwrap() - res_idx.iter().min().unwrap() <= 1,
    ];
    CLAIMS.iter().zip(checks).map(|((n, c, t), pass)| outcome(n, c, pass, measured.clone(), t)).collect()
}

/// The ResNet's iterations to ε grow roughly linearly with κ: the least-squares slope of
/// log(median iterations) on log κ, at the widest width, lies in [0.5, 1.5].
pub fn iterations_vs_kappa(exp: &Experiment) -> CheckOutcome {
    const NAME: &str = "resnet_iterations_linear_in_kappa";
    const CLAIM: &str = "ResNet iterations to 1e-6 relative excess grow about linearly with κ";
    const THRESHOLD: &str = "fitted log–log slope in [0.5, 1.5] (widest width, median of seeds, ≥ 3 values of κ)";
    let rows: Vec<&Row> = exp.rows.iter().filter(|r| r.record.config.model.arch == Arch::Resnet).collect();
    let Some(widest) = rows.iter().map(|r| r.record.config.model.width).max() else {
        return fail_missing(NAME, CLAIM, "no ResNet runs", THRESHOLD);
    };
    let mut by_kappa: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.record.config.model.width == widest) {
        let it = r.outcome().iters_to(r.theory.target).map_or(f64::INFINITY, |t| t as f64);
        by_kappa.entry(kappa_of(r).to_bits()).or_default().push(it);
    }
    let points: Vec<(f64, f64)> =
        by_kappa.into_iter().map(|(k, mut v)| (f64::from_bits(k), spread(&mut v).0)).collect();
    if points.len() < 3 || points.iter().any(|p| !p.1.is_finite() || p.1 <= 0.0) {
        return fail_missing(NAME, CLAIM, "fewer than three values of κ with the target reached", THRESHOLD);
    }
    let slope = log_log_slope(&points);
    let measured = format!(
        "m={widest}: {} → slope {slope:.2}",
        points.iter().map(|(k, i)| format!("κ{k}:{i}")).collect::<Vec<_>>().join(" ")
    );
    outcome(NAME, CLAIM, (0.5..=1.5).contains(&slope), measured, THRESHOLD)
}

/// Least-squares slope of log y on log x.
pub fn log_log_slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (lx, ly): (Vec<f64>, Vec<f64>) = points.iter().map(|(x, y)| (x.ln(), y.ln())).unzip();
    let (mx, my) = (lx.iter().sum::<f64>() / n, ly.iter().sum::<f64>() / n);
    let cov: f64 = lx.iter().zip(&ly).map(|(x, y)| (x - mx) * (y - my)).sum();
    let var: f64 = lx.iter().map(|x| (x - mx) * (x - mx)).sum();
    cov / var
}
