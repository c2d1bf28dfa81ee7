//! Plain-text tables and summaries printed by the commands.

use std::fmt::Write;

use linres::config::{Arch, DataConfig, Method, ResolvedRun, StepRule};
use linres::engine::EngineKind;
use linres::theory::TheoryReport;
use linres::train::{RunOutcome, Status};

pub use linres::number::compact_text as num;

/// One line naming the run: model, data, optimiser.
pub fn describe(run: &ResolvedRun) -> String {
    let c = run.config();
    let dims = run.dims();
    let model = match c.model.arch {
        Arch::Resnet => {
            let t = run.transform().expect("resolved ResNet");
            let init = if run.init_std() > 0.0 { format!(" init_std={}", num(run.init_std())) } else { String::new() };
            format!("resnet L={} m={} {}{init}", c.model.depth, c.model.width, t.kind.name())
        }
        Arch::Linear => format!("linear L={} m={}", c.model.depth, c.model.width),
    };
    let data = match &c.data {
        DataConfig::Spectrum(s) => format!("spectrum κ={} r={}", num(s.kappa), s.rank.unwrap_or(dims.d.min(dims.n))),
        other => other.kind_name().to_string(),
    };
    let optim = match c.optim.method {
        Method::Gd => "gd".to_string(),
        Method::Sgd => format!("sgd b={}", c.optim.batch.unwrap_or(0)),
    };
    let step = match c.optim.step {
        StepRule::Fixed { eta } => format!("η={}", num(eta)),
        StepRule::Zou { scale } => format!("η=zou×{}", num(scale)),
        StepRule::DuHu { scale } => format!("η=du_hu×{}", num(scale)),
    };
    format!(
        "{model} · {data} d={} k={} n={} · {optim} {step} · {} iters · seed {}",
        dims.d, dims.k, dims.n, c.optim.iters, c.seed
    )
}

pub fn run_header(run: &ResolvedRun, engine: EngineKind) -> String {
    format!("run {}  {}\nengine {}\n\n", run.id(), describe(run), engine.name())
}

pub fn curve_table(o: &RunOutcome, theory: &TheoryReport) -> String {
    let diag = o.curve.iter().any(|p| p.grad_norm2.is_some());
    let mut s = String::new();
    let _ = write!(s, "{:>9} {:>13} {:>13} {:>11} {:>11}", "iter", "loss", "excess", "rel.excess", "bound");
    if diag {
        let _ = write!(s, " {:>10} {:>11} {:>10}", "max‖W_l‖", "‖∇L‖²", "PL ratio");
    }
    s.push('\n');
    let e0 = o.theory.excess0;
    for p in &o.curve {
        let rel = if e0 > 0.0 { p.excess / e0 } else { 0.0 };
        let bound = theory.bound_at(p.iter).map(|b| if e0 > 0.0 { b / e0 } else { 0.0 });
        let _ = write!(
            s,
            "{:>9} {:>13.6e} {:>13.6e} {:>11.3e} {:>11}",
            p.iter,
            p.loss,
            p.excess,
            rel,
            bound.map(|b| format!("{b:.3e}")).unwrap_or_else(|| "-".into())
        );
        if let (Some(w), Some(g), Some(pl)) = (p.max_layer_norm, p.grad_norm2, p.pl_ratio) {
            let _ = write!(s, " {:>10.4} {:>11.4e} {:>10.4e}", w, g, pl);
        }
        s.push('\n');
    }
    s.push('\n');
    s
}

pub fn theory_summary(t: &TheoryReport) -> String {
    let d = &t.data;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "data     n={} d={} k={} rank={}  σ_max={} σ_r={} κ={}  ‖X‖_F={} stable rank={}  L*={} ‖W*‖₂={}",
        d.n,
        d.d,
        d.k,
        d.rank,
        num(d.sigma_max),
        num(d.sigma_r),
        num(d.kappa),
        num(d.fro_norm),
        num(d.stable_rank),
        num(d.l_star),
        num(d.w_star_norm)
    );
    let _ = writeln!(s, "start    L(W0)={}  L(W0)−L*={}", num(t.loss0), num(t.excess0));
    let _ = writeln!(s, "step     η={}  Du–Hu k/(2L‖X‖²)={}", num(t.eta), num(t.eta_du_hu));
    if let Some(z) = &t.zou {
        let sp = &z.spectrum;
        let _ = writeln!(
            s,
            "zou      σ_min(A)={} ‖A‖={} σ_min(B)={} ‖B‖={}",
            num(sp.a_sigma_min),
            num(sp.a_norm),
            num(sp.b_sigma_min),
            num(sp.b_norm)
        );
        let margin = z.margin.map(num).unwrap_or_else(|| "∞ (start is optimal)".into());
        let _ = writeln!(
            s,
            "         condition margin={} ({})  step bracket={} (η/bracket={})  covered by the theorem: {}",
            margin,
            if z.margin.is_none_or(|m| m >= 1.0) { "holds" } else { "fails" },
            num(z.eta_bracket),
            num(t.eta / z.eta_bracket),
            if z.covered { "yes" } else { "no" }
        );
        let iters = z.iters_to_target.map(num).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "         ρ={}  iterations to {} by the bound: {}  linearised factor (1−ηLμ)²={}",
            num(z.rho),
            num(t.target),
            iters,
            num(z.lin_factor)
        );
    }
    if let Some(h) = &t.du_hu {
        let iters = h.iters_to_target.map(num).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            s,
            "du_hu    width required={} (margin m/required={})  factor 1−½ηLσ_r²/k={}  iterations to {}: {}",
            num(h.width_required),
            num(h.margin),
            num(h.factor),
            num(t.target),
            iters
        );
    }
    let w = &t.widths;
    let _ = writeln!(
        s,
        "widths   m_Zou=k·r·κ²={}  (stable rank: {})  m_DuHu=L·r·κ³·k={}  d+k={}",
        num(w.zou),
        num(w.zou_stable),
        num(w.du_hu),
        w.modified_identity
    );
    s
}

pub fn outcome_line(o: &RunOutcome, target: f64) -> String {
    let reached = o.iters_to(target).map(|t| format!("relative excess ≤ {} at iteration {t}", num(target)));
    match o.status() {
        Status::Done => format!(
            "\ndone: {}{}\n",
            reached.unwrap_or_else(|| format!("relative excess {} not reached", num(target))),
            o.stopped_at.map(|t| format!("; stopped early at iteration {t}")).unwrap_or_default()
        ),
        Status::Diverged => format!("\ndiverged at iteration {}\n", o.diverged_at.unwrap_or(0)),
    }
}
