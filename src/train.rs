//! Training one run: build data and network, pick the engine, take the steps, log the curve.

use serde::{Deserialize, Serialize};

use crate::config::DECADES;
use crate::config::{Method, ResolvedRun};
use crate::data::Dataset;
use crate::engine::{Chain, Engine, EngineKind, Eval, plan};
use crate::error::RunError;
use crate::model::Network;
use crate::optim::{BatchSampler, log_iterations, step_size};
use crate::problem::Problem;
use crate::rng::RunSeeds;
use crate::theory::{DataTheory, TheoryFacts, TransformSpectrum};

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// All steps taken (or stopped early at `optim.stop_below`).
    Done,
    /// The loss became non-finite at iteration `diverged_at`.
    Diverged,
}

/// One logged iteration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    pub iter: usize,
    /// L(W_t) over all n samples.
    #[serde(with = "crate::json_float")]
    pub loss: f64,
    /// L(W_t) − L*.
    #[serde(with = "crate::json_float")]
    pub excess: f64,
    /// max_l ‖W_l‖₂ (with `log.diagnostics`).
    #[serde(skip_serializing_if = "Option::is_none", default, with = "crate::json_float::option")]
    pub max_layer_norm: Option<f64>,
    /// ‖∇L(W_t)‖²_F (with `log.diagnostics`).
    #[serde(skip_serializing_if = "Option::is_none", default, with = "crate::json_float::option")]
    pub grad_norm2: Option<f64>,
    /// ‖∇L‖²_F/(L(W_t) − L*) (with `log.diagnostics`; infinite at zero excess).
    #[serde(skip_serializing_if = "Option::is_none", default, with = "crate::json_float::option")]
    pub pl_ratio: Option<f64>,
}

/// The result of training one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    /// First iteration whose loss was non-finite (the run diverged).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub diverged_at: Option<usize>,
    /// Iteration at which `optim.stop_below` ended the run early.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stopped_at: Option<usize>,
    /// `first_below[j − 1]`: the first iteration with relative excess ≤ 10⁻ʲ, j = 1…16, so that
    /// "iterations to ε" is exact for every decade ε whatever target a reader asks for. Every
    /// iteration is checked under GD, and under SGD with `optim.stop_below`; otherwise SGD checks
    /// the logged iterations.
    pub first_below: Vec<Option<usize>>,
    /// The engine that trained the run.
    pub engine: EngineKind,
    /// Width p of the reduced problem (reduced engines).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reduced_dim: Option<usize>,
    pub seeds: RunSeeds,
    /// The constant-free theory facts (the rest is derived when results are read).
    pub theory: TheoryFacts,
    pub curve: Vec<CurvePoint>,
}

impl RunOutcome {
    pub fn status(&self) -> Status {
        if self.diverged_at.is_some() { Status::Diverged } else { Status::Done }
    }

    /// The first iteration with relative excess ≤ `target`, a decade 10⁻ʲ (targets are checked to
    /// be decades where they are read; any other value has no answer).
    pub fn iters_to(&self, target: f64) -> Option<usize> {
        crate::config::decade_of(target).and_then(|j| self.first_below.get(j - 1).copied().flatten())
    }
}

/// A run's data, network and the theory facts that need the full-width network.
#[derive(Clone)]
pub struct Setup {
    pub seeds: RunSeeds,
    pub problem: Problem,
    pub network: Network,
    pub data_theory: DataTheory,
    pub transform: Option<TransformSpectrum>,
}

impl Setup {
    /// Derives the seeds and builds the data, the network at initialisation and the spectra of
    /// X, A and B. OpenBLAS is set to one thread first: linres splits the work itself, in fixed
    /// blocks, whereas OpenBLAS's own threads (and LAPACK's blocked routines over them) would make
    /// the last digits depend on the thread count.
    pub fn new(run: &ResolvedRun) -> Result<Setup, RunError> {
        crate::blas::set_threads(1);
        crate::engine::footprint::check_fits(run)?;
        crate::engine::footprint::reserve(run)?;
        let seeds = RunSeeds::derive(run);
        let problem = Problem::new(Dataset::build(run, &seeds)?)?;
        if problem.rank == 0 {
            return Err(RunError::Degenerate("X has rank 0: every input is zero, so there is nothing to fit".into()));
        }
        let network = Network::init(run, &seeds)?;
        let data_theory = DataTheory::of(&problem)?;
        let transform = match &network {
            Network::Resnet { gram, .. } => Some(TransformSpectrum::of(gram, &problem)?),
            Network::Linear { .. } => None,
        };
        Ok(Setup { seeds, problem, network, data_theory, transform })
    }
}

/// 10⁻¹ … 10⁻¹⁶, exactly as `1e-j` literals parse.
const DECADE_VALUES: [f64; DECADES] =
    [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15, 1e-16];

/// Trains `run` with the engine [`plan()`] picks.
pub fn train(run: &ResolvedRun) -> Result<RunOutcome, RunError> {
    train_with(run, plan(run))
}

/// A started run: engine at W0, its step size and theory facts.
struct Start<'p> {
    engine: Engine<'p>,
    eval0: Eval,
    theory: TheoryFacts,
    reduced_dim: Option<usize>,
}

fn start<'p>(
    run: &ResolvedRun,
    problem: &'p Problem,
    network: Network,
    facts: (&DataTheory, Option<TransformSpectrum>),
    kind: EngineKind,
) -> Result<Start<'p>, RunError> {
    let c = run.config();
    let chain = Chain::for_engine(network, kind)?;
    let reduced_dim = kind.is_reduced().then(|| chain.layers[0].nrows());
    let mut engine = Engine::new(problem, chain, kind, c.optim.batch);
    let eval0 = engine.evaluate();
    if !eval0.loss.is_finite() {
        return Err(RunError::Degenerate(format!(
            "the loss at initialisation is not finite (L(W0) = {}): the inputs or transformations are too large",
            eval0.loss
        )));
    }
    let (data, transform) = facts;
    let eta = step_size(&c.optim.step, c.model.depth, problem.k(), data.sigma_max, eval0.loss, transform.as_ref());
    if !(eta.is_finite() && eta > 0.0) {
        return Err(RunError::Degenerate(format!(
            "the step size of rule {:?} is {eta} (‖X‖₂ = {}, L(W0) = {})",
            c.optim.step, data.sigma_max, eval0.loss
        )));
    }
    let theory = TheoryFacts { data: data.clone(), transform, loss0: eval0.loss, excess0: eval0.excess, eta };
    Ok(Start { engine, eval0, theory, reduced_dim })
}

/// The theory facts of `run` at initialisation, without training.
pub fn initial_theory(run: &ResolvedRun) -> Result<TheoryFacts, RunError> {
    Setup::new(run)?.initial_theory(run)
}

impl Setup {
    /// The theory facts of `run` at initialisation (consumes the network to build the engine).
    pub fn initial_theory(self, run: &ResolvedRun) -> Result<TheoryFacts, RunError> {
        let s = start(run, &self.problem, self.network, (&self.data_theory, self.transform), plan(run))?;
        Ok(s.theory)
    }
}

/// Trains `run` with engine `kind` (which must apply to it).
pub fn train_with(run: &ResolvedRun, kind: EngineKind) -> Result<RunOutcome, RunError> {
    train_until(run, kind, &|| false)
}

/// Trains `run` with engine `kind`, asking `stop` before every step whether to give up (an
/// interrupted run returns [`RunError::Interrupted`] and leaves no partial result).
pub fn train_until(run: &ResolvedRun, kind: EngineKind, stop: &dyn Fn() -> bool) -> Result<RunOutcome, RunError> {
    let c = run.config();
    let Setup { seeds, problem, network, data_theory, transform } = Setup::new(run)?;
    let Start { mut engine, eval0, theory, reduced_dim } =
        start(run, &problem, network, (&data_theory, transform), kind)?;
    let eta = theory.eta;
    let iters = c.optim.iters;
    let schedule = log_iterations(&c.log, iters);
    let mut next_log = 0;
    let mut sampler =
        seeds.batches.map(|s| BatchSampler::new(problem.n(), c.optim.batch.expect("sgd has a batch"), s.rng()));
    let sgd = c.optim.method == Method::Sgd;
    let relative = |e: &Eval| if eval0.excess > 0.0 { e.excess / eval0.excess } else { 0.0 };

    let mut outcome = RunOutcome {
        diverged_at: None,
        stopped_at: None,
        first_below: vec![None; DECADES],
        engine: kind,
        reduced_dim,
        seeds: seeds.clone(),
        theory,
        curve: Vec::with_capacity(schedule.len()),
    };
    for t in 0..=iters {
        if stop() {
            return Err(RunError::Interrupted);
        }
        let logged = schedule.get(next_log) == Some(&t);
        if logged {
            next_log += 1;
        }
        let last = t == iters;
        // Under SGD the full loss costs an extra evaluation: at logged iterations, or at every
        // iteration when the run must stop at a threshold.
        let evaluate = last || (sgd && (logged || c.optim.stop_below.is_some()));
        let mut eval = evaluate.then(|| engine.evaluate());
        let diagnostics = if logged && c.log.diagnostics { Some(engine.diagnostics()?) } else { None };
        let mut finite = eval.is_none_or(|e| e.loss.is_finite());
        if !last && finite {
            let info = engine.step(sampler.as_mut().map(|s| s.next_batch()), eta);
            eval = eval.or(info.full);
            finite = info.finite && eval.is_none_or(|e| e.loss.is_finite());
        }
        if !finite {
            outcome.diverged_at = Some(t);
            break;
        }
        let Some(e) = eval else { continue };
        let rel = relative(&e);
        for (j, first) in outcome.first_below.iter_mut().enumerate() {
            if first.is_none() && rel <= DECADE_VALUES[j] {
                *first = Some(t);
            }
        }
        let stop = c.optim.stop_below.is_some_and(|s| rel <= s) && !last;
        if logged || stop {
            outcome.curve.push(CurvePoint {
                iter: t,
                loss: e.loss,
                excess: e.excess,
                max_layer_norm: diagnostics.map(|d| d.max_layer_norm),
                grad_norm2: diagnostics.map(|d| d.grad_norm2),
                pl_ratio: diagnostics.map(|d| d.grad_norm2 / e.excess),
            });
        }
        if stop {
            outcome.stopped_at = Some(t);
            break;
        }
    }
    Ok(outcome)
}
