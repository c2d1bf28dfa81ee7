//! Criterion benchmarks of linres: one training step of every engine at several sizes (on one
//! and on two threads), the subspace basis, whole runs, grids with one and two jobs (equal runs,
//! and mixed widths for the scheduling), and a dgemm reference measured in the same run so each
//! engine can be reported as a fraction of what the machine's BLAS reaches.
//!
//! Throughput is reported in elements per second where an element is one floating-point
//! operation (2 per multiply-add of the cost model), so criterion's "elem/s" reads as flop/s.
//! OpenBLAS runs one thread per call (as in every linres run); the engines' own blocks run on a
//! rayon pool of the stated size.
//!
//! The kernels are those OpenBLAS picks for this machine: `OPENBLAS_CORETYPE` and
//! `OPENBLAS_L2_SIZE` are read when the library loads, so when either is set the benchmark runs
//! itself again without them. It prints the core type it measured.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use linres::config::{ResolvedRun, RunConfig};
use linres::engine::plan::cost_per_step;
use linres::engine::reduced::reduce;
use linres::engine::{Chain, Engine, EngineKind};
use linres::grid::Spec;
use linres::linalg::gemm;
use linres::model::TransformGram;
use linres::optim::BatchSampler;
use linres::random::gaussian_matrix;
use linres::runner::{RunOptions, run_grid};
use linres::train::Setup;
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn resolved(yaml: &str) -> ResolvedRun {
    serde_norway::from_str::<RunConfig>(yaml).unwrap().resolve(Path::new(".")).unwrap()
}

fn resnet(m: usize, n: usize, engine: &str, method: &str) -> ResolvedRun {
    resolved(&format!(
        "{{master_seed: 1, data: {{kind: paper, d: 10, n: {n}}}, model: {{arch: resnet, depth: 10, width: {m}, transform: gaussian}},
          optim: {{{method}, iters: 1, step: {{rule: fixed, eta: 1.0e-12}}}}, engine: {engine}}}"
    ))
}

fn linear(m: usize, engine: &str) -> ResolvedRun {
    resolved(&format!(
        "{{master_seed: 1, data: {{kind: paper, d: 10, n: 1000}}, model: {{arch: linear, depth: 10, width: {m}}},
          optim: {{method: gd, iters: 1, step: {{rule: fixed, eta: 1.0e-12}}}}, engine: {engine}}}"
    ))
}

/// Benchmarks one optimiser step of `run` with engine `kind` (set-up outside the timing) on a
/// pool of `threads` threads.
fn bench_step_on(
    c: &mut Criterion,
    group: &str,
    id: String,
    run: &ResolvedRun,
    kind: EngineKind,
    samples: usize,
    threads: usize,
) {
    let setup = Setup::new(run).unwrap();
    let chain = Chain::for_engine(setup.network, kind).unwrap();
    let batch = run.config().optim.batch;
    let mut engine = Engine::new(&setup.problem, chain, kind, batch);
    let mut sampler = setup.seeds.batches.map(|s| BatchSampler::new(setup.problem.n(), batch.unwrap(), s.rng()));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let mut g = c.benchmark_group(group);
    g.sample_size(samples).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements((2.0 * cost_per_step(run, kind)) as u64));
    // The whole measurement runs inside the pool: one `install` per step would add a cross-thread
    // wake-up (tens of µs, more than a reduced step) to every iteration.
    g.bench_function(id, |b| {
        pool.install(|| b.iter(|| black_box(engine.step(sampler.as_mut().map(|s| s.next_batch()), 1e-12))))
    });
    g.finish();
}

/// [`bench_step_on`] on one thread.
fn bench_step(c: &mut Criterion, group: &str, id: String, run: &ResolvedRun, kind: EngineKind, samples: usize) {
    bench_step_on(c, group, id, run, kind, samples, 1);
}

/// dgemm at the shapes of the dense engine: W·H and Wᵀ·G (m×m by m×n), G·Hᵀ (m×n by n×m).
fn dgemm(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut g = c.benchmark_group("dgemm");
    g.sample_size(10).warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(6));
    for (m, n) in [(64, 1000), (256, 1000), (1024, 1000), (1024, 4096)] {
        let w = gaussian_matrix(&mut rng, m, m, 1.0);
        let h = gaussian_matrix(&mut rng, m, n, 1.0);
        let mut out = Array2::zeros((m, n));
        let mut grad = Array2::zeros((m, m));
        g.throughput(Throughput::Elements((2 * m * m * n) as u64));
        let id = format!("m={m}/n={n}");
        g.bench_function(BenchmarkId::new("W·H", &id), |b| {
            b.iter(|| gemm(1.0, &w.view(), &h.view(), 1.0, &mut out.view_mut()))
        });
        g.bench_function(BenchmarkId::new("Wᵀ·G", &id), |b| {
            b.iter(|| gemm(1.0, &w.t(), &h.view(), 1.0, &mut out.view_mut()))
        });
        g.bench_function(BenchmarkId::new("G·Hᵀ", &id), |b| {
            b.iter(|| gemm(-1e-12, &h.view(), &h.t(), 1.0, &mut grad.view_mut()))
        });
    }
    g.finish();
}

fn steps(c: &mut Criterion) {
    for m in [64, 256, 1024] {
        bench_step(
            c,
            "step/resnet_dense",
            format!("m={m}"),
            &resnet(m, 1000, "dense", "method: gd"),
            EngineKind::Dense,
            10,
        );
    }
    for n in [1_000, 100_000] {
        for m in [64, 256, 1024] {
            bench_step(
                c,
                "step/resnet_gram",
                format!("n={n}/m={m}"),
                &resnet(m, n, "gram", "method: gd"),
                EngineKind::Gram,
                10,
            );
        }
    }
    for m in [100, 10_000, 1_000_000] {
        bench_step(
            c,
            "step/resnet_reduced",
            format!("m={m}"),
            &resnet(m, 1000, "reduced", "method: gd"),
            EngineKind::ReducedGram,
            20,
        );
    }
    for (name, kind) in [("dense", EngineKind::Dense), ("gram", EngineKind::Gram)] {
        bench_step(c, "step/linear", format!("{name}/m=256"), &linear(256, name), kind, 10);
    }
    // One run on one and on two threads (its blocks split over the cores).
    for threads in [1, 2] {
        let wide = resnet(1024, 4096, "dense", "method: gd");
        bench_step_on(
            c,
            "step/threads",
            format!("dense/m=1024/n=4096/t={threads}"),
            &wide,
            EngineKind::Dense,
            10,
            threads,
        );
        let peer = resnet(200, 1000, "dense", "method: gd");
        bench_step_on(
            c,
            "step/threads",
            format!("dense/m=200/n=1000/t={threads}"),
            &peer,
            EngineKind::Dense,
            10,
            threads,
        );
        let gram = resnet(1024, 1000, "gram", "method: gd");
        bench_step_on(c, "step/threads", format!("gram/m=1024/t={threads}"), &gram, EngineKind::Gram, 10, threads);
    }
    for (name, kind, m) in [
        ("dense", EngineKind::Dense, 256),
        ("gram", EngineKind::Gram, 256),
        ("reduced_dense", EngineKind::ReducedDense, 256),
    ] {
        bench_step(
            c,
            "step/resnet_sgd_b100",
            format!("{name}/m={m}"),
            &resnet(m, 1000, name, "method: sgd, batch: 100"),
            kind,
            10,
        );
    }
}

/// The orthonormal basis of col(A) + col(Bᵀ) (A′ = QᵀA, B′ = BQ) at m = 10⁶, d = k = 10.
fn basis(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let m = 1_000_000;
    let a = gaussian_matrix(&mut rng, m, 10, (1.0 / m as f64).sqrt());
    let b = gaussian_matrix(&mut rng, 10, m, (0.1f64).sqrt());
    let mut g = c.benchmark_group("setup");
    g.sample_size(10);
    g.bench_function("reduced_basis/m=1000000", |bch| {
        bch.iter(|| black_box(reduce(&TransformGram::of(&a, &b)).unwrap()))
    });
    g.finish();
}

/// A grid of 8 equal runs (seeds 0..7 of a dense ResNet, m = 128, n = 1000, L = 10, 40 steps),
/// recomputed (`force`) with one and with two jobs.
fn grids(c: &mut Criterion) {
    let text = "name: bench
master_seed: 5
seeds: 8
data: {kind: paper, d: 10, n: 1000}
model: {arch: resnet, depth: 10, width: 128, transform: gaussian}
optim: {method: gd, iters: 40, step: {rule: zou, scale: 1}}
engine: dense
log: {points: 10}
";
    let spec = Spec::parse(text, Path::new("bench.yaml"), &[]).unwrap();
    let runs = spec.expand().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = linres::store::Store::new(dir.path(), "bench");
    let mut g = c.benchmark_group("grid_8_runs");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for jobs in [1, 2] {
        let options = RunOptions { force: true, ..RunOptions::new(jobs) };
        g.bench_function(BenchmarkId::new("jobs", jobs), |b| {
            b.iter(|| run_grid(&store, &runs, &options, &|_, _| {}).unwrap())
        });
    }
    g.finish();
}

/// Whole zero-initialised ResNet runs of 1000 GD steps (set-up included): A and B drawn entry by
/// entry at m = 10² and 10⁵, and only their Gram matrix (`sampling: gram`) at m = 10² and 10⁹.
fn whole_runs(c: &mut Criterion) {
    let mut g = c.benchmark_group("train_1000_steps");
    g.sample_size(20);
    for (m, sampling) in [(100, "explicit"), (100_000, "explicit"), (100, "gram"), (1_000_000_000, "gram")] {
        let run = resolved(&format!(
            "{{master_seed: 1, data: {{kind: paper, d: 10, n: 1000}},
              model: {{arch: resnet, depth: 10, width: {m}, transform: {{kind: gaussian, sampling: {sampling}}}}},
              optim: {{method: gd, iters: 1000, step: {{rule: zou, scale: 1}}}}, log: {{points: 2}}}}"
        ));
        g.bench_function(BenchmarkId::new(format!("reduced/{sampling}"), m), |b| {
            b.iter(|| black_box(linres::train::train(&run).unwrap()))
        });
    }
    g.finish();
}

/// A grid of mixed costs: dense ResNets of widths 40 … 1024 (n = 1000, L = 10, 3 steps). With one
/// job its time is the total work; with two, the makespan, to compare with max(total work / 2,
/// longest run), the longest run (m = 1024) being timed alone on one core.
fn mixed_grid(c: &mut Criterion) {
    let text = "name: mixed
master_seed: 6
data: {kind: paper, d: 10, n: 1000}
model: {arch: resnet, depth: 10, width: [40, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1024], transform: gaussian}
optim: {method: gd, iters: 3, step: {rule: zou, scale: 1}}
engine: dense
log: {points: 2}
";
    let spec = Spec::parse(text, Path::new("mixed.yaml"), &[]).unwrap();
    let runs = spec.expand().unwrap();
    let longest: Vec<_> = runs.iter().filter(|r| r.run.config().model.width == 1024).cloned().collect();
    let dir = tempfile::tempdir().unwrap();
    let store = linres::store::Store::new(dir.path(), "mixed");
    let mut g = c.benchmark_group("grid_mixed_widths");
    g.sample_size(10).measurement_time(Duration::from_secs(60));
    for jobs in [1, 2] {
        let options = RunOptions { force: true, ..RunOptions::new(jobs) };
        g.bench_function(BenchmarkId::new("jobs", jobs), |b| {
            b.iter(|| run_grid(&store, &runs, &options, &|_, _| {}).unwrap())
        });
    }
    let options = RunOptions { force: true, ..RunOptions::new(1) };
    g.bench_function("longest_run_alone/jobs=1", |b| {
        b.iter(|| run_grid(&store, &longest, &options, &|_, _| {}).unwrap())
    });
    g.finish();
}

criterion_group!(benches, dgemm, steps, basis, whole_runs, grids, mixed_grid);

/// OpenBLAS's variables that change the kernels it picks (read when the library loads).
const KERNEL_VARS: [&str; 2] = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"];

fn main() {
    if KERNEL_VARS.iter().any(|v| std::env::var_os(v).is_some()) {
        let mut again = std::process::Command::new(std::env::current_exe().expect("the benchmark's path"));
        again.args(std::env::args_os().skip(1));
        for v in KERNEL_VARS {
            again.env_remove(v);
        }
        let status = again.status().expect("the benchmark runs again");
        std::process::exit(status.code().unwrap_or(1));
    }
    eprintln!("OpenBLAS kernels: {} ({})", linres::blas::core_name(), linres::blas::config());
    // Criterion draws its HTML report's charts with plotters, which (its `ab_glyph` feature being
    // on for linres's figures) finds fonts only among the registered ones.
    linres::plot::draw::register_fonts();
    // One OpenBLAS thread per call, as in every linres run (OpenBLAS starts one per core): the dgemm
    // reference is then the one-core rate the engines' blocks run at.
    linres::blas::set_threads(1);
    benches();
    Criterion::default().configure_from_args().final_summary();
}
