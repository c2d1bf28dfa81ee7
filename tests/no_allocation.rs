//! Training steps allocate nothing: every buffer is allocated once per run. A counting allocator
//! records allocations while an engine takes steps (after one warm-up step). Dimensions are those
//! of the paper (d = k = 10): ndarray hands products whose every dimension is ≤ 7 to
//! matrixmultiply, which allocates a packing buffer per call, instead of BLAS. Allocations of
//! every thread count, so the parallel blocks of a wide network are covered too.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::run;
use linres::engine::{Chain, Engine, EngineKind};
use linres::optim::BatchSampler;
use linres::train::Setup;

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            COUNT.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

#[test]
fn steps_of_every_engine_allocate_nothing() {
    // Width 130 splits every pass into blocks that run in parallel on a pool of two threads, as
    // runs do under `linres run` and `linres train`.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    // Wait until both threads have started (a starting thread allocates its queues).
    pool.broadcast(|_| ());
    for (method, width) in [("method: gd", 24), ("method: sgd, batch: 16", 24), ("method: gd", 130)] {
        let r = run(&format!(
            "master_seed: 1
             data: {{kind: paper, d: 10, n: 64}}
             model: {{arch: resnet, depth: 4, width: {width}, transform: gaussian}}
             optim: {{{method}, iters: 10, step: {{rule: fixed, eta: 0.001}}}}"
        ));
        for kind in EngineKind::ALL {
            let setup = Setup::new(&r).unwrap();
            let chain = Chain::for_engine(setup.network, kind).unwrap();
            let mut engine = Engine::new(&setup.problem, chain, kind, r.config().optim.batch);
            let mut sampler = setup.seeds.batches.map(|s| BatchSampler::new(64, 16, s.rng()));
            pool.install(|| {
                engine.step(sampler.as_mut().map(|s| s.next_batch()), 1e-3);
                COUNT.store(0, Ordering::Relaxed);
                COUNTING.store(true, Ordering::Relaxed);
                for _ in 0..10 {
                    engine.step(sampler.as_mut().map(|s| s.next_batch()), 1e-3);
                }
                COUNTING.store(false, Ordering::Relaxed);
            });
            assert_eq!(COUNT.load(Ordering::Relaxed), 0, "{method}, m = {width}, {kind:?}: allocations during steps");
        }
    }
}
