//! The paper's claims, measured: each check reads the cached results of one or two experiments,
//! compares what was measured with a fixed threshold, and reports PASS or FAIL with the numbers.
//! A check with nothing to measure (no runs, no covered runs) fails: nothing passes vacuously.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::{Arch, Method, TransformKind};
use crate::engine::{EngineKind, plan::cost_per_step};
use crate::experiment::{Experiment, Row};
use crate::plot::data::{critical, spread, succeeds};
use crate::plot::spec::FigureKind;
use crate::train::train_with;

/// The verdict of one check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    pub name: &'static str,
    /// The claim, in words.
    pub claim: &'static str,
    pub pass: bool,
    /// What was measured.
    pub measured: String,
    /// The fixed threshold it was compared with.
    pub threshold: String,
}

fn outcome(name: &'static str, claim: &'static str, pass: bool, measured: String, threshold: &str) -> CheckOutcome {
    CheckOutcome { name, claim, pass, measured, threshold: threshold.to_string() }
}

fn fail_missing(name: &'static str, claim: &'static str, what: &str, threshold: &str) -> CheckOutcome {
    outcome(name, claim, false, format!("nothing to measure: {what}"), threshold)
}

fn e(v: f64) -> String {
    if v.is_infinite() { "∞".into() } else { format!("{v:.2e}") }
}

/// Final relative excess loss (L(W_T) − L*)/(L(W0) − L*) of a run.
pub fn final_rel_excess(row: &Row) -> Option<f64> {
    let o = row.record.outcome.as_ref()?;
    let last = o.curve.last()?;
    Some(if o.theory.excess0 > 0.0 { last.excess / o.theory.excess0 } else { 0.0 })
}

fn transform_of(row: &Row) -> Option<TransformKind> {
    row.record.config.model.transform.as_ref().map(|t| t.kind)
}

/// Fig. 1(a)(b): identity transformations stay at relative excess ≥ 1e-2 while modified identity
/// and Gaussian ones reach ≤ 1e-6, at m = 40 and m = 200.
pub fn transforms(exp: &Experiment) -> CheckOutcome {
    const NAME: &str = "transforms";
    const CLAIM: &str = "identity transformations get stuck; modified identity and Gaussian ones converge (Fig. 1(a)(b), m = 40 and 200)";
    const THRESHOLD: &str =
        "identity: every seed ≥ 1e-2; modified identity, Gaussian: every seed ≤ 1e-6 (final relative excess)";
    let mut parts = Vec::new();
    let mut pass = true;
    for m in [40, 200] {
        for kind in [TransformKind::Identity, TransformKind::ModifiedIdentity, TransformKind::Gaussian] {
            let values: Vec<f64> = exp
                .rows
                .iter()
                .filter(|r| r.record.config.model.width == m && transform_of(r) == Some(kind))
                .filter_map(final_rel_excess)
                .collect();
            if values.is_empty() {
                return fail_missing(NAME, CLAIM, &format!("no {} runs at m = {m}", kind.name()), THRESHOLD);
            }
            let (lo, hi) =
                (values.iter().copied().fold(f64::INFINITY, f64::min), values.iter().copied().fold(0.0, f64::max));
            if kind == TransformKind::Identity {
                pass &= lo >= 1e-2;
                parts.push(format!("m={m} identity min {}", e(lo)));
            } else {
                pass &= hi <= 1e-6;
                parts.push(format!("{} max {}", kind.name(), e(hi)));
            }
        }
    }
    outcome(NAME, CLAIM, pass, parts.join("; "), THRESHOLD)
}

/// Modified identity at exactly m = d + k converges for every seed, on each experiment given.
pub fn modified_identity_narrowest(experiments: &[&Experiment]) -> CheckOutcome {
    const NAME: &str = "modified_identity_d_plus_k";
    const CLAIM: &str = "the modified identity at width exactly d + k converges for every seed (paper data and digits)";
    const THRESHOLD: &str = "final relative excess ≤ 1e-6 for every seed";
    let mut parts = Vec::new();
    let mut pass = true;
    for exp in experiments {
        let values: Vec<f64> = exp
            .rows
            .iter()
            .filter(|r| transform_of(r) == Some(TransformKind::ModifiedIdentity))
            .filter(|r| {
                r.record
                    .outcome
                    .as_ref()
                    .is_some_and(|o| r.record.config.model.width == o.theory.data.d + o.theory.data.k)
            })
            .filter_map(final_rel_excess)
            .collect();
        if values.is_empty() {
            return fail_missing(
                NAME,
                CLAIM,
                &format!("no modified-identity run at m = d + k in {}", exp.spec.name),
                THRESHOLD,
            );
        }
        let worst = values.iter().copied().fold(0.0, f64::max);
        pass &= worst <= 1e-6;
        parts.push(format!("{}: {} seeds, worst {}", exp.spec.name, values.len(), e(worst)));
    }
    outcome(NAME, CLAIM, pass, parts.join("; "), THRESHOLD)
}

/// The Zou et al. bound holds on every run that meets its conditions (margin ≥ 1, η ≤ bracket),
/// at every logged iteration where the bound is above 1e-12 × the initial excess.
pub fn zou_bound(experiments: &[&Experiment]) -> CheckOutcome {
    const NAME: &str = "zou_bound";
    const CLAIM: &str = "L(W_t) − L* ≤ (1 − ρ)^t (L(W0) − L*) on every run that meets the theorem's conditions";
    const THRESHOLD: &str = "no violation above 1e-12 × (L(W0) − L*); at least one covered run";
    let (mut runs, mut points, mut violations) = (0, 0, Vec::new());
    let mut worst: f64 = 0.0;
    for exp in experiments {
        for row in &exp.rows {
            let Some(o) = &row.record.outcome else { continue };
            if !o.theory.zou.as_ref().is_some_and(|z| z.covered) {
                continue;
            }
            runs += 1;
            for p in &o.curve {
                let Some(line) = o.theory.bound_at(p.iter) else { continue };
                if line <= 1e-12 * o.theory.excess0 {
                    break;
                }
                points += 1;
                if p.iter > 0 {
                    worst = worst.max(p.excess / line);
                }
                if p.excess > line {
                    violations.push(format!("{} t={}", row.record.id, p.iter));
                }
            }
        }
    }
    if runs == 0 {
        return fail_missing(NAME, CLAIM, "no run meets the theorem's conditions", THRESHOLD);
    }
    let measured = format!(
        "{runs} covered runs, {points} points checked, largest excess/bound after t = 0 {worst:.3}, {} violations{}",
        violations.len(),
        violations.first().map(|v| format!(" (first: {v})")).unwrap_or_default()
    );
    outcome(NAME, CLAIM, violations.is_empty(), measured, THRESHOLD)
}

/// Median iterations to the target of one architecture: width → [(depth, median)] in increasing
/// depth; ∞ when the median run did not reach the target.
fn iterations_by_depth(exp: &Experiment, arch: Arch) -> BTreeMap<usize, Vec<(usize, f64)>> {
    let mut groups: BTreeMap<(usize, usize), Vec<f64>> = BTreeMap::new();
    for r in exp.rows.iter().filter(|r| r.record.config.model.arch == arch) {
        let it = r.record.outcome.as_ref().and_then(|o| o.iters_to_target).map_or(f64::INFINITY, |t| t as f64);
        groups.entry((r.record.config.model.width, r.record.config.model.depth)).or_default().push(it);
    }
    let mut out: BTreeMap<usize, Vec<(usize, f64)>> = BTreeMap::new();
    for ((m, depth), mut v) in groups {
        out.entry(m).or_default().push((depth, spread(&mut v).0));
    }
    out
}

/// A count or width, ∞ for one that was never reached.
fn show_count(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { "∞".into() }
}

/// Fig. 1(c)(d): the ResNet's iterations to ε change little with depth (within 2× at each width).
pub fn resnet_depth_flat(exp: &Experiment) -> CheckOutcome {
    const NAME: &str = "resnet_iterations_flat_in_depth";
    const CLAIM: &str = "ResNet iterations to 1e-6 relative excess change little with depth (Fig. 1(c)(d))";
    const THRESHOLD: &str = "max/min of the median over depths ≤ 2 at every width, every depth reached";
    let by = iterations_by_depth(exp, Arch::Resnet);
    if by.is_empty() {
        return fail_missing(NAME, CLAIM, "no ResNet runs", THRESHOLD);
    }
    let mut pass = true;
    let mut parts = Vec::new();
    for (m, its) in by {
        if its.len() < 2 {
            return fail_missing(NAME, CLAIM, &format!("fewer than two depths at m = {m}"), THRESHOLD);
        }
        let lo = its.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let hi = its.iter().map(|p| p.1).fold(0.0, f64::max);
        let ratio = hi / lo;
        pass &= ratio.is_finite() && ratio <= 2.0;
        let list: Vec<String> = its.iter().map(|(l, v)| format!("L{l}:{}", show_count(*v))).collect();
        parts.push(format!("m={m}: {} (ratio {ratio:.2})", list.join(" ")));
    }
    outcome(NAME, CLAIM, pass, parts.join("; "), THRESHOLD)
}

/// Fig. 1(c)(d): the linear network's iterations to ε grow with depth.
pub fn linear_depth_grows(exp: &Experiment) -> CheckOutcome {
    const NAME: &str = "linear_iterations_grow_with_depth";
    const CLAIM: &str = "the linear network's iterations to 1e-6 relative excess grow with depth (Fig. 1(c)(d))";
    const THRESHOLD: &str = "median at the largest depth > median at the smallest, at every width";
    let by = iterations_by_depth(exp, Arch::Linear);
    if by.is_empty() {
        return fail_missing(NAME, CLAIM, "no linear-network runs", THRESHOLD);
    }
    let mut pass = true;
    let mut parts = Vec::new();
    for (m, its) in by {
        let (first, last) = (its[0], its[its.len() - 1]);
        pass &= its.len() >= 2 && first.1.is_finite() && last.1 > first.1;
        parts.push(format!("m={m}: L{} {} → L{} {}", first.0, show_count(first.1), last.0, show_count(last.1)));
    }
    outcome(NAME, CLAIM, pass, parts.join("; "), THRESHOLD)
}

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
        let Some(o) = &r.record.outcome else { continue };
        let it = o.iters_to_target.map_or(f64::INFINITY, |t| t as f64);
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

/// SGD converges (relative excess ≤ 1e-6) for every batch size run on noiseless data.
pub fn sgd_converges(exp: &Experiment) -> CheckOutcome {
    const NAME: &str = "sgd_converges";
    const CLAIM: &str = "SGD converges for every batch size run (noiseless targets, fixed step)";
    const THRESHOLD: &str = "final relative excess ≤ 1e-6 for every SGD run with label noise 0";
    let noiseless = |r: &&Row| match &r.record.config.data {
        crate::config::DataConfig::Paper(p) => p.noise == 0.0,
        crate::config::DataConfig::Spectrum(s) => s.noise == 0.0,
        _ => false,
    };
    let mut by_batch: BTreeMap<usize, f64> = BTreeMap::new();
    for r in exp.rows.iter().filter(|r| r.record.config.optim.method == Method::Sgd).filter(noiseless) {
        let v = final_rel_excess(r).unwrap_or(f64::INFINITY);
        let worst = by_batch.entry(r.record.config.optim.batch.unwrap_or(0)).or_insert(0.0);
        *worst = worst.max(v);
    }
    if by_batch.is_empty() {
        return fail_missing(NAME, CLAIM, "no SGD runs on noiseless data", THRESHOLD);
    }
    let pass = by_batch.values().all(|&v| v <= 1e-6);
    let measured = by_batch.iter().map(|(b, v)| format!("b={b}: worst {}", e(*v))).collect::<Vec<_>>().join("; ");
    outcome(NAME, CLAIM, pass, measured, THRESHOLD)
}

/// Largest multiply-adds a re-run in the engine sample may cost.
const SAMPLE_COST_LIMIT: f64 = 2e10;

/// A sample of cached runs re-trained with every other applicable engine agrees with the cache to
/// relative 1e-9: |a − b| ≤ 1e-9 · max(|a|, |b|, 1e-12·(L(W0) − L*)) for the loss and the excess
/// at every logged point (the floor is where rounding decides the digits of a vanishing excess).
///
/// The sample: in each experiment, the first run of each architecture whose re-runs are cheap and
/// whose trajectory has no plateau (it reached the target within 5 × its theorem's wide-limit
/// iteration count, or for a fixed step at all). A trajectory that lingers near a saddle amplifies
/// rounding differences exponentially while it escapes, so two exact engines then agree only in
/// distribution: a width-5 linear network that leaves a 30 000-step plateau differs by 3e-2
/// between the Gram and the dense engine right at the escape.
pub fn engines_agree(experiments: &[&Experiment]) -> CheckOutcome {
    const NAME: &str = "engines_agree";
    const CLAIM: &str = "cached runs re-run with every other applicable engine give the same curve";
    const THRESHOLD: &str =
        "|a − b| ≤ 1e-9 · max(|a|, |b|, 1e-12 × initial excess) at every logged point; ≥ 1 comparison";
    let mut compared = 0;
    let mut worst: f64 = 0.0;
    let mut worst_at = String::new();
    let mut problems = Vec::new();
    for exp in experiments {
        for arch in [Arch::Resnet, Arch::Linear] {
            let pick = exp.rows.iter().find(|r| {
                r.run.run.config().model.arch == arch
                    && no_plateau(r)
                    && EngineKind::ALL.iter().all(|&k| {
                        !k.applies_to(&r.run.run)
                            || cost_per_step(&r.run.run, k) * r.run.run.config().optim.iters as f64 <= SAMPLE_COST_LIMIT
                    })
            });
            let Some(row) = pick else { continue };
            let Some(cached) = &row.record.outcome else { continue };
            for kind in EngineKind::ALL.into_iter().filter(|&k| k != cached.engine && k.applies_to(&row.run.run)) {
                match train_with(&row.run.run, kind) {
                    Ok(again) => {
                        compared += 1;
                        let floor = 1e-12 * cached.theory.excess0;
                        if again.curve.len() != cached.curve.len() {
                            problems.push(format!("{} {}: curve lengths differ", row.record.id, kind.name()));
                        }
                        for (p, q) in cached.curve.iter().zip(&again.curve) {
                            for (a, b) in [(p.loss, q.loss), (p.excess, q.excess)] {
                                let rel = (a - b).abs() / a.abs().max(b.abs()).max(floor);
                                if rel > worst {
                                    worst = rel;
                                    worst_at = format!(
                                        " ({} {} vs {} at t = {})",
                                        row.record.id,
                                        cached.engine.name(),
                                        kind.name(),
                                        p.iter
                                    );
                                }
                            }
                        }
                    }
                    Err(err) => problems.push(format!("{} {}: {err}", row.record.id, kind.name())),
                }
            }
        }
    }
    if compared == 0 {
        return fail_missing(NAME, CLAIM, "no cached run could be re-run", THRESHOLD);
    }
    let measured = format!(
        "{compared} re-runs compared, largest relative difference {worst:.1e}{worst_at}{}",
        if problems.is_empty() { String::new() } else { format!("; {}", problems.join("; ")) }
    );
    outcome(NAME, CLAIM, problems.is_empty() && worst <= 1e-9, measured, THRESHOLD)
}

/// Whether a run reached its target without a plateau: within 5 × its theorem's wide-limit
/// iteration count (any time for a fixed step).
fn no_plateau(row: &Row) -> bool {
    let Some(o) = &row.record.outcome else { return false };
    let limit =
        crate::theory::wide_limit_iterations(&row.record.config.optim.step, o.theory.data.kappa, o.theory.target);
    o.iters_to_target.is_some_and(|t| limit.is_none_or(|l| t as f64 <= 5.0 * l))
}

/// The condition number a run's data was generated with (`spectrum` data), else the measured κ.
fn kappa_of(row: &Row) -> f64 {
    match &row.record.config.data {
        crate::config::DataConfig::Spectrum(s) => s.kappa,
        _ => row.record.outcome.as_ref().map_or(0.0, |o| o.theory.data.kappa),
    }
}

/// The experiments the checks read, by name.
pub const EXPERIMENTS: [&str; 7] =
    ["paper_fig1_transforms", "paper_fig1_depth", "rates", "width_vs_depth", "width_vs_kappa", "sgd", "digits"];

/// Runs every check on the experiment files in `dir` and their results under `results`. A missing
/// experiment file or missing results make the checks that need them fail.
pub fn run_all(dir: &Path, results: &Path) -> Vec<CheckOutcome> {
    let loaded: BTreeMap<&str, Result<Experiment, String>> = EXPERIMENTS
        .iter()
        .map(|&name| {
            let exp =
                Experiment::load(&dir.join(format!("{name}.yaml")), results).map_err(|e| e.to_string()).and_then(|x| {
                    if x.rows.is_empty() { Err(format!("{name} has no results (run `make figures`)")) } else { Ok(x) }
                });
            (name, exp)
        })
        .collect();
    let get = |name: &str| loaded[name].as_ref();
    let missing = |name: &'static str, claim: &'static str, why: &String| fail_missing(name, claim, why, "-");
    let mut out = Vec::new();
    match get("paper_fig1_transforms") {
        Ok(x) => out.push(transforms(x)),
        Err(why) => out.push(missing("transforms", "identity stuck, others converge", why)),
    }
    match (get("paper_fig1_transforms"), get("digits")) {
        (Ok(a), Ok(b)) => out.push(modified_identity_narrowest(&[a, b])),
        (Err(why), _) | (_, Err(why)) => {
            out.push(missing("modified_identity_d_plus_k", "modified identity converges at d + k", why))
        }
    }
    let available: Vec<&Experiment> = loaded.values().filter_map(|r| r.as_ref().ok()).collect();
    out.push(zou_bound(&available));
    match get("paper_fig1_depth") {
        Ok(x) => {
            out.push(resnet_depth_flat(x));
            out.push(linear_depth_grows(x));
        }
        Err(why) => out.push(missing("iterations_vs_depth", "depth dependence of iterations", why)),
    }
    match get("width_vs_depth") {
        Ok(x) => out.extend(critical_width_depth(x)),
        Err(why) => out.push(missing("critical_width_vs_depth", "critical widths over depth", why)),
    }
    match get("width_vs_kappa") {
        Ok(x) => out.push(iterations_vs_kappa(x)),
        Err(why) => out.push(missing("resnet_iterations_linear_in_kappa", "iterations over κ", why)),
    }
    match get("sgd") {
        Ok(x) => out.push(sgd_converges(x)),
        Err(why) => out.push(missing("sgd_converges", "SGD converges", why)),
    }
    out.push(engines_agree(&available));
    out
}

/// The checks as a markdown table.
pub fn markdown(outcomes: &[CheckOutcome]) -> String {
    let mut s = String::from("| result | check | claim | measured | threshold |\n|---|---|---|---|---|\n");
    for o in outcomes {
        let cell = |t: &str| t.replace('|', "\\|");
        s.push_str(&format!(
            "| {} | `{}` | {} | {} | {} |\n",
            if o.pass { "PASS" } else { "**FAIL**" },
            o.name,
            cell(o.claim),
            cell(&o.measured),
            cell(&o.threshold)
        ));
    }
    s
}
