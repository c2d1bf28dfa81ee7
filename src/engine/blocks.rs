//! The fixed split of a pass into blocks, and the parallel loop over them.
//!
//! Every product of a pass is cut along one dimension of a weight matrix into blocks whose sizes
//! depend on the shapes only ([`block_len`]), never on the number of threads. Each block is one
//! single-threaded dgemm into its own rows or columns of the output, so no partial sums are
//! reduced and every output element is computed by the same floating-point operations whichever
//! thread runs its block, and however many there are: a run's numbers do not depend on the cores
//! it was given. Blocks run in parallel on the current rayon pool by recursive halving
//! ([`for_each_block`]); with one thread they run in order. Nothing is allocated.

use ndarray::{ArrayViewMut2, Axis};

/// Block length of passes over few columns (the Gram kernel's c = d): such passes are bound by
/// reading the weights, and a column block of an m×m matrix (m·64 doubles, 512 KiB at m = 1024)
/// stays in a core's L2 cache between the two products of the backward pass that read it.
pub const NARROW_BLOCK: usize = 64;

/// Block length of passes over many columns (samples): dgemm packs the other operand once per
/// block, an overhead of about one memory pass per `WIDE_BLOCK` multiply-adds per element.
pub const WIDE_BLOCK: usize = 256;

/// Length of the blocks that split a dimension of length `len` in a pass over `cols` columns: with
/// fewer than [`NARROW_BLOCK`] columns, ⌈len/64⌉ blocks; otherwise ⌈len/256⌉ blocks, but at least
/// two from len = 128 on (so a width-200 network still splits). The blocks have length
/// ⌈len/blocks⌉, the last possibly shorter. A function of the shapes alone, never of the threads.
pub fn block_len(len: usize, cols: usize) -> usize {
    let blocks = if cols < NARROW_BLOCK {
        len.div_ceil(NARROW_BLOCK)
    } else if len >= 2 * NARROW_BLOCK {
        len.div_ceil(WIDE_BLOCK).max(2)
    } else {
        1
    };
    len.div_ceil(blocks.max(1)).max(1)
}

/// Mutable parts of a pass's output that split at a block boundary into two disjoint halves.
pub trait Split: Sized + Send {
    /// The parts of blocks before and after index `at` (in rows or columns of the split dimension).
    fn split_at(self, at: usize) -> (Self, Self);
}

/// A matrix split along its rows.
pub struct Rows<'a>(pub ArrayViewMut2<'a, f64>);

/// A matrix split along its columns.
pub struct Cols<'a>(pub ArrayViewMut2<'a, f64>);

impl Split for Rows<'_> {
    fn split_at(self, at: usize) -> (Self, Self) {
        let (a, b) = self.0.split_at(Axis(0), at);
        (Rows(a), Rows(b))
    }
}

impl Split for Cols<'_> {
    fn split_at(self, at: usize) -> (Self, Self) {
        let (a, b) = self.0.split_at(Axis(1), at);
        (Cols(a), Cols(b))
    }
}

impl<T: Split> Split for Option<T> {
    fn split_at(self, at: usize) -> (Self, Self) {
        match self {
            Some(t) => {
                let (a, b) = t.split_at(at);
                (Some(a), Some(b))
            }
            None => (None, None),
        }
    }
}

impl<A: Split, B: Split> Split for (A, B) {
    fn split_at(self, at: usize) -> (Self, Self) {
        let (a0, a1) = self.0.split_at(at);
        let (b0, b1) = self.1.split_at(at);
        ((a0, b0), (a1, b1))
    }
}

/// Calls `f(start, parts)` once for each block of 0..len (blocks of [`block_len`]`(len, cols)`),
/// where `start` is the block's first index and `parts` its share of `parts`, in parallel on the
/// current rayon pool.
pub fn for_each_block<P: Split>(parts: P, len: usize, cols: usize, f: &(impl Fn(usize, P) + Sync)) {
    let size = block_len(len, cols);
    halve(parts, 0, len.div_ceil(size).max(1), size, f);
}

/// Blocks `first..first + count` of length `size`.
fn halve<P: Split>(parts: P, first: usize, count: usize, size: usize, f: &(impl Fn(usize, P) + Sync)) {
    if count == 1 {
        f(first * size, parts);
        return;
    }
    let half = count / 2;
    let (a, b) = parts.split_at(half * size);
    rayon::join(|| halve(a, first, half, size, f), || halve(b, first + half, count - half, size, f));
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn blocks_cover_the_dimension_in_nearly_equal_parts() {
        // Few columns: blocks of at most 64.
        assert_eq!(block_len(1, 10), 1);
        assert_eq!(block_len(64, 10), 64);
        assert_eq!(block_len(65, 10), 33);
        assert_eq!(block_len(200, 10), 50);
        assert_eq!(block_len(1024, 10), 64);
        assert_eq!(block_len(1000, 10), 63);
        // Many columns: one block below 128, then at least two, of at most 256.
        assert_eq!(block_len(127, 1000), 127);
        assert_eq!(block_len(128, 1000), 64);
        assert_eq!(block_len(200, 1000), 100);
        assert_eq!(block_len(1024, 4096), 256);
        assert_eq!(block_len(1000, 64), 250);
    }

    #[test]
    fn every_row_is_visited_once_with_its_own_index() {
        for len in [1, 5, 64, 65, 200, 333] {
            let mut a = Array2::<f64>::zeros((len, 2));
            let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
            pool.install(|| {
                for_each_block(Rows(a.view_mut()), len, 10, &|start, Rows(mut block)| {
                    for (i, mut row) in block.rows_mut().into_iter().enumerate() {
                        row[0] += (start + i) as f64;
                        row[1] += 1.0;
                    }
                })
            });
            for (i, row) in a.rows().into_iter().enumerate() {
                assert_eq!((row[0], row[1]), (i as f64, 1.0), "len {len}, row {i}");
            }
        }
    }
}
