//! Whether two records of one run describe the same result: the comparison behind `linres merge`
//! (conflicts) and `linres diff` (differences).
//!
//! Compared, because they determine the trajectory: the id, the status, the logged iterations,
//! the iteration at which the run diverged or stopped, the iterations to the target (exactly) and
//! the loss and excess at every logged point, within a relative tolerance:
//!
//! |a − b| ≤ rtol · max(|a|, |b|, 1e-6 · s),  s = the largest |value| of that quantity on either curve.
//!
//! The floor is rounding's: the excess ½‖(P − W*)X‖²_F is computed from a residual whose entries
//! carry absolute errors of order ε‖P X‖, so its own absolute error is of order
//! ε·√(excess · s) — relative ε·√(s/excess), growing as the run converges (other OpenBLAS kernels
//! give 1.5e-9 at excess = 1.4e-11·s, and 1 near 1e-25·s). Measured against max(excess, 1e-6·s),
//! rounding stays below about 1e3·ε ≈ 2e-13 times the accumulated error factor, far under the
//! default tolerance, while a real difference, say a run that stalls at 1e-8·s where the other
//! converges, still exceeds it by orders of magnitude.
//!
//! Informative only, because they legitimately differ between machines or versions: `seconds`, `provenance` (reported when the
//! OpenBLAS kernels differ, since they change the last digits), the engine, the theory block and
//! the error text of a failed run.

use std::fmt;

use crate::store::{Record, RecordStatus};
use crate::train::RunOutcome;

/// The default relative tolerance of curve values.
pub const DEFAULT_RTOL: f64 = 1e-9;
/// Fraction of a curve's largest value below which differences are measured against it (rounding).
const FLOOR: f64 = 1e-6;

/// One way in which two records of a run differ.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// What differs, e.g. `status`, `iters_to_target`, `curve.excess at t = 40`.
    pub what: String,
    /// The value on each side, as text.
    pub a: String,
    pub b: String,
}

impl Difference {
    fn new(what: impl Into<String>, a: impl fmt::Display, b: impl fmt::Display) -> Difference {
        Difference { what: what.into(), a: a.to_string(), b: b.to_string() }
    }
}

/// The differences between two records of one run that matter (module documentation); empty when
/// they agree.
pub fn compare(a: &Record, b: &Record, rtol: f64) -> Vec<Difference> {
    let mut out = Vec::new();
    if a.id != b.id {
        out.push(Difference::new("id", &a.id, &b.id));
    }
    if a.status != b.status {
        out.push(Difference::new("status", status_name(a.status), status_name(b.status)));
    }
    if let (Some(x), Some(y)) = (&a.outcome, &b.outcome) {
        outcomes(x, y, rtol, &mut out);
    }
    out
}

fn outcomes(a: &RunOutcome, b: &RunOutcome, rtol: f64, out: &mut Vec<Difference>) {
    let opt = |v: Option<usize>| v.map_or("-".to_string(), |t| t.to_string());
    let below = |o: &RunOutcome, j: usize| o.first_below.get(j).copied().flatten();
    let decades = (0..a.first_below.len().max(b.first_below.len()))
        .map(|j| (format!("first iteration below 1e-{}", j + 1), below(a, j), below(b, j)));
    let ends =
        [("diverged_at".to_string(), a.diverged_at, b.diverged_at), ("stopped_at".into(), a.stopped_at, b.stopped_at)];
    for (what, x, y) in decades.chain(ends) {
        if x != y {
            out.push(Difference::new(what, opt(x), opt(y)));
        }
    }
    let iters = |o: &RunOutcome| o.curve.iter().map(|p| p.iter).collect::<Vec<_>>();
    if iters(a) != iters(b) {
        let text =
            |o: &RunOutcome| format!("{} points, last t = {}", o.curve.len(), o.curve.last().map_or(0, |p| p.iter));
        out.push(Difference::new("curve iterations", text(a), text(b)));
        return;
    }
    type Get = fn(&crate::train::CurvePoint) -> f64;
    for (name, get) in [("loss", (|p| p.loss) as Get), ("excess", (|p| p.excess) as Get)] {
        let scale = a.curve.iter().chain(&b.curve).map(|p| get(p).abs()).filter(|v| v.is_finite()).fold(0.0, f64::max);
        let floor = FLOOR * scale;
        // Report the point of largest relative difference of each quantity.
        let mut worst: Option<(f64, usize, f64, f64)> = None;
        for (p, q) in a.curve.iter().zip(&b.curve) {
            let (x, y) = (get(p), get(q));
            let rel = relative_difference(x, y, floor);
            if rel > rtol && worst.is_none_or(|w| rel > w.0) {
                worst = Some((rel, p.iter, x, y));
            }
        }
        if let Some((rel, t, x, y)) = worst {
            out.push(Difference::new(
                format!("curve.{name} at t = {t} (relative {rel:.1e})"),
                format!("{x:e}"),
                format!("{y:e}"),
            ));
        }
    }
}

/// |x − y| / max(|x|, |y|, floor); 0 for equal values (infinities of one sign, NaNs included) and
/// ∞ when only one side is finite.
pub fn relative_difference(x: f64, y: f64, floor: f64) -> f64 {
    if x == y || (x.is_nan() && y.is_nan()) {
        return 0.0;
    }
    if !x.is_finite() || !y.is_finite() {
        return f64::INFINITY;
    }
    let scale = x.abs().max(y.abs()).max(floor);
    if scale == 0.0 { 0.0 } else { (x - y).abs() / scale }
}

/// `done`, `diverged` or `failed`.
pub fn status_name(s: RecordStatus) -> &'static str {
    match s {
        RecordStatus::Done => "done",
        RecordStatus::Diverged => "diverged",
        RecordStatus::Failed => "failed",
    }
}

/// The OpenBLAS kernels a record was computed with: the core type named in OpenBLAS's
/// configuration string (e.g. `Haswell` from "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY
/// Haswell MAX_THREADS=64") with the version, or the whole string when it names none.
pub fn kernels(record: &Record) -> String {
    let config = &record.provenance.openblas_config;
    let mut words = config.split_whitespace();
    let version = match (words.next(), words.next()) {
        (Some("OpenBLAS"), Some(v)) => Some(v),
        _ => None,
    };
    let Some(version) = version else { return config.clone() };
    let flag = |w: &str| w.contains('=') || w.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    let cores: Vec<&str> = words.filter(|w| !flag(w)).collect();
    if cores.is_empty() { config.clone() } else { format!("{} (OpenBLAS {version})", cores.join(" ")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunConfig;
    use crate::provenance::Provenance;
    use crate::train::train;

    fn record() -> Record {
        let config: RunConfig = serde_norway::from_str(
            "{master_seed: 1, data: {kind: paper, d: 4, n: 30}, model: {arch: resnet, depth: 3, width: 12}, \
             optim: {method: gd, iters: 40, step: {rule: zou, scale: 4}}, log: {points: 10}}",
        )
        .unwrap();
        let run = config.resolve(std::path::Path::new(".")).unwrap();
        let outcome = train(&run).unwrap();
        Record::finished(run.id(), run.config().clone(), outcome, 0.1, Provenance::now(1))
    }

    #[test]
    fn a_record_agrees_with_itself_whatever_its_timing_provenance_and_engine() {
        let a = record();
        let mut b = a.clone();
        b.seconds = 99.0;
        b.provenance.cpu = "another".into();
        b.provenance.openblas_config = "OpenBLAS 0.3.21 DYNAMIC_ARCH Cooperlake MAX_THREADS=64".into();
        b.outcome.as_mut().unwrap().engine = crate::engine::EngineKind::Dense;
        b.outcome.as_mut().unwrap().theory.data.w_star_norm *= 2.0;
        assert_eq!(compare(&a, &b, DEFAULT_RTOL), vec![]);
    }

    #[test]
    fn a_curve_value_beyond_the_tolerance_is_a_difference_and_within_it_is_not() {
        let a = record();
        let mut b = a.clone();
        let p = &mut b.outcome.as_mut().unwrap().curve[3];
        let t = p.iter;
        p.loss *= 1.0 + 1e-7;
        let d = compare(&a, &b, 1e-9);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].what.starts_with(&format!("curve.loss at t = {t}")), "{d:?}");
        assert!(compare(&a, &b, 1e-6).is_empty());
    }

    #[test]
    fn rounding_below_the_floor_is_not_a_difference() {
        let a = record();
        let mut b = a.clone();
        let curve = &mut b.outcome.as_mut().unwrap().curve;
        let scale = curve.iter().map(|p| p.excess).fold(0.0, f64::max);
        let last = curve.last_mut().unwrap();
        // Two excesses of order 1e-25 · scale that differ by their own size: rounding.
        last.excess = 3e-25 * scale;
        let mut a = a;
        a.outcome.as_mut().unwrap().curve.last_mut().unwrap().excess = 1e-25 * scale;
        assert!(compare(&a, &b, 1e-9).is_empty());
        // An absolute error of 1e-14·√(excess·s), as other kernels leave (relative 3e-9 here), agrees too.
        let x = 1e-11 * scale;
        a.outcome.as_mut().unwrap().curve.last_mut().unwrap().excess = x;
        b.outcome.as_mut().unwrap().curve.last_mut().unwrap().excess = x + 1e-14 * (x * scale).sqrt();
        assert!(compare(&a, &b, 1e-9).is_empty());
        // A run that stalls at 1e-8·s where the other converges differs.
        b.outcome.as_mut().unwrap().curve.last_mut().unwrap().excess = 1e-8 * scale;
        assert_eq!(compare(&a, &b, 1e-9).len(), 1);
    }

    #[test]
    fn status_iterations_and_logged_points_must_match_exactly() {
        let a = record();
        let mut b = a.clone();
        b.outcome.as_mut().unwrap().first_below[5] = Some(7);
        let mut c = a.clone();
        c.outcome.as_mut().unwrap().curve.pop();
        let mut f = a.clone();
        f.status = RecordStatus::Failed;
        f.outcome = None;
        f.error = Some("boom".into());
        let whats = |x: &Record| compare(&a, x, 1e-9).into_iter().map(|d| d.what).collect::<Vec<_>>();
        assert_eq!(whats(&b), ["first iteration below 1e-6"]);
        assert_eq!(whats(&c), ["curve iterations"]);
        assert_eq!(whats(&f), ["status"]);
        // Two failed records agree whatever their error texts.
        let mut g = f.clone();
        g.error = Some("another".into());
        assert!(compare(&f, &g, 1e-9).is_empty());
    }

    #[test]
    fn relative_differences_of_special_values() {
        assert_eq!(relative_difference(1.0, 1.0, 0.0), 0.0);
        assert_eq!(relative_difference(f64::INFINITY, f64::INFINITY, 0.0), 0.0);
        assert_eq!(relative_difference(f64::NAN, f64::NAN, 0.0), 0.0);
        assert_eq!(relative_difference(1.0, f64::NAN, 0.0), f64::INFINITY);
        assert_eq!(relative_difference(0.0, 0.0, 0.0), 0.0);
        assert!((relative_difference(1.0, 1.1, 0.0) - 0.1 / 1.1).abs() < 1e-15);
        // Below the floor the difference is measured against the floor.
        assert!((relative_difference(1e-20, 3e-20, 1e-10) - 2e-10).abs() < 1e-20);
    }

    #[test]
    fn kernels_name_the_core_type_and_version() {
        let mut r = record();
        r.provenance.openblas_config =
            "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".into();
        assert_eq!(kernels(&r), "Haswell (OpenBLAS 0.3.21)");
        r.provenance.openblas_config = "OpenBLAS 0.3.26 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=128".into();
        assert_eq!(kernels(&r), "SkylakeX (OpenBLAS 0.3.26)");
        r.provenance.openblas_config = "something else".into();
        assert_eq!(kernels(&r), "something else");
    }
}
