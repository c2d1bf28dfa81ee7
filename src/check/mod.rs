//! The paper's claims, measured: each check reads the cached results of one or two experiments,
//! compares what was measured with a fixed threshold, and reports PASS or FAIL with the numbers.
//! A check with nothing to measure (no runs, no covered runs) fails: nothing passes vacuously.

mod bound;
mod depth;
mod engines;
mod sgd;
mod transforms;
mod width;

use std::collections::BTreeMap;
use std::path::Path;

pub use bound::zou_bound;
pub use depth::{linear_depth_grows, resnet_depth_flat};
pub use engines::engines_agree;
pub use sgd::sgd_converges;
pub use transforms::{modified_identity_narrowest, transforms};
pub use width::{CriticalWidths, critical_width_depth, critical_widths, iterations_vs_kappa, log_log_slope};

use crate::config::TransformKind;
use crate::experiment::{Experiment, Row};

/// What a check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// The claim holds on the measurements.
    Pass,
    /// The claim does not hold, or there was nothing to measure.
    Fail,
    /// Runs the check needs have no result yet: the verdict would rest on part of the data.
    Incomplete,
    /// A measurement reported beside the claims (an extension, not a claim of the papers): shown
    /// with its numbers, never gating.
    Finding,
}

impl CheckStatus {
    /// Whether this status lets `linres check` exit 0: PASS and findings do; FAIL and INCOMPLETE do not.
    pub fn gates_ok(self) -> bool {
        matches!(self, CheckStatus::Pass | CheckStatus::Finding)
    }

    /// Upper-case label: PASS, FAIL, INCOMPLETE, FINDING.
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pass => "PASS",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Incomplete => "INCOMPLETE",
            CheckStatus::Finding => "FINDING",
        }
    }
}

/// The verdict of one check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOutcome {
    pub name: String,
    /// The claim, in words.
    pub claim: String,
    pub status: CheckStatus,
    /// What was measured.
    pub measured: String,
    /// The fixed threshold it was compared with.
    pub threshold: String,
}

impl CheckOutcome {
    /// Whether the check passed (a finding is not a pass).
    pub fn passed(&self) -> bool {
        self.status == CheckStatus::Pass
    }
}

fn outcome(name: &str, claim: &str, pass: bool, measured: String, threshold: &str) -> CheckOutcome {
    CheckOutcome {
        name: name.to_string(),
        claim: claim.to_string(),
        status: if pass { CheckStatus::Pass } else { CheckStatus::Fail },
        measured,
        threshold: threshold.to_string(),
    }
}

fn fail_missing(name: &str, claim: &str, what: &str, threshold: &str) -> CheckOutcome {
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

/// A count or width, ∞ for one that was never reached.
fn show_count(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { "∞".into() }
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
            if o.status.gates_ok() { o.status.label().to_string() } else { format!("**{}**", o.status.label()) },
            o.name,
            cell(&o.claim),
            cell(&o.measured),
            cell(&o.threshold)
        ));
    }
    s
}
