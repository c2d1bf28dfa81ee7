//! The reduced engine trains a width-100 000 ResNet (d = k = 10, L = 10) without allocating
//! anything of size m×m: a counting allocator records the largest single allocation of the run.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::run;
use linres::engine::EngineKind;
use linres::train::{Status, train};

struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Largest = Largest;

#[test]
fn width_100k_resnet_trains_in_the_subspace_without_an_m_by_m_allocation() {
    let m = 100_000usize;
    let r = run(&format!(
        "master_seed: 7
         data: {{kind: paper, d: 10, n: 1000}}
         model: {{arch: resnet, depth: 10, width: {m}, transform: gaussian}}
         optim: {{method: gd, iters: 300, step: {{rule: zou, scale: 1}}}}"
    ));
    LARGEST.store(0, Ordering::Relaxed);
    let out = train(&r).unwrap();
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(out.engine.is_reduced(), "auto picked {:?}", out.engine);
    assert_eq!(out.engine, EngineKind::ReducedGram);
    assert_eq!(out.reduced_dim, Some(20));
    assert_eq!(out.status(), Status::Done);
    // The largest buffers are A (m×d) and B (k×m): 8·m·10 bytes. An m×m matrix would be 8·m².
    assert!(largest <= 8 * m * 10, "largest allocation {largest} bytes");
    let last = out.curve.last().unwrap();
    assert!(last.excess <= 1e-10 * out.theory.excess0, "relative excess {}", last.excess / out.theory.excess0);
}
