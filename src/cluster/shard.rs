//! Shards: part I of N of a grid, balanced by the engines' cost model.
//!
//! The partition is longest-processing-time-first (LPT): the runs, ordered by estimated cost
//! ([`estimated_cost`], multiply-adds) from the largest down with ties broken by run id, go one by
//! one into the part whose total cost is smallest so far (ties to the lowest part). It depends only
//! on the set of runs (their configurations), not on their order, the cache, the machine or the
//! time, so N processes started anywhere with I = 0 … N − 1 cover every run exactly once. LPT's
//! largest part costs at most (4/3 − 1/(3N)) times the best possible one (Graham 1969), and at most
//! total/N + the most expensive run. Cost: O(R log R) for R runs, whatever N: with N > R the parts
//! from R on stay empty (LPT never passes over a part below R whose load is zero), so only the
//! first R parts are kept in memory.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::str::FromStr;

use crate::engine::plan::estimated_cost;
use crate::grid::GridRun;

/// Part `index` (0-based) of `count` parts of a grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

/// A `--shard` value that is not `I/N` with 0 ≤ I < N.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}`: {rule}")]
pub struct ShardError {
    pub value: String,
    pub rule: String,
}

impl FromStr for Shard {
    type Err = ShardError;

    /// Parses `I/N`: two decimal integers with N ≥ 1 and 0 ≤ I < N.
    fn from_str(text: &str) -> Result<Shard, ShardError> {
        let err = |rule: String| ShardError { value: text.to_string(), rule };
        let format = || err("expected I/N, part I (counted from 0) of N parts, e.g. 0/4".to_string());
        let (i, n) = text.split_once('/').ok_or_else(format)?;
        let parse = |s: &str| s.trim().parse::<usize>().ok().filter(|_| !s.trim().starts_with('+'));
        let (Some(index), Some(count)) = (parse(i), parse(n)) else { return Err(format()) };
        if count == 0 {
            return Err(err("N must be at least 1 (the number of parts)".to_string()));
        }
        if index >= count {
            return Err(err(format!("I must be below N: the parts of {count} are numbered 0 to {}", count - 1)));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// The part of each item, by the LPT rule of the module documentation, for items given as
/// (tie-break key, cost). Returns one part index per item, in the items' order. Memory and time do
/// not depend on `count`: an item goes to the least loaded part, the lowest-numbered among equals,
/// and while fewer than R items are placed some part below R has load zero, so parts R and above
/// are never chosen and need not exist.
pub fn partition<K: Ord>(items: &[(K, f64)], count: usize) -> Vec<usize> {
    let count = count.clamp(1, items.len().max(1));
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| items[b].1.total_cmp(&items[a].1).then_with(|| items[a].0.cmp(&items[b].0)));
    // Min-heap of (load, part): the least loaded part, the lowest index among equals.
    let mut loads: BinaryHeap<Reverse<(Load, usize)>> = (0..count).map(|p| Reverse((Load(0.0), p))).collect();
    let mut part = vec![0; items.len()];
    for i in order {
        let Reverse((Load(load), p)) = loads.pop().expect("at least one part");
        part[i] = p;
        loads.push(Reverse((Load(load + items[i].1.max(0.0)), p)));
    }
    part
}

/// A total order on loads (costs are finite and non-negative).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Load(f64);

impl Eq for Load {}

impl PartialOrd for Load {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Load {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The part (of `count`) of each run of `runs`, in their order: [`partition`] by estimated cost,
/// ties broken by run id.
pub fn parts(runs: &[GridRun], count: usize) -> Vec<usize> {
    let items: Vec<(String, f64)> = runs.iter().map(|r| (r.run.id(), estimated_cost(&r.run.point_run()))).collect();
    partition(&items, count)
}

/// The runs of `runs` that belong to `shard`, in their original order.
pub fn select(runs: Vec<GridRun>, shard: Shard) -> Vec<GridRun> {
    let parts = parts(&runs, shard.count);
    runs.into_iter().zip(parts).filter(|(_, p)| *p == shard.index).map(|(r, _)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_i_of_n_and_refuses_everything_else() {
        assert_eq!("0/4".parse::<Shard>(), Ok(Shard { index: 0, count: 4 }));
        assert_eq!("3/4".parse::<Shard>(), Ok(Shard { index: 3, count: 4 }));
        for (bad, rule) in [
            ("3/2", "I must be below N"),
            ("2/2", "I must be below N"),
            ("0/0", "N must be at least 1"),
            ("a/b", "expected I/N"),
            ("1", "expected I/N"),
            ("-1/2", "expected I/N"),
            ("1/2/3", "expected I/N"),
            ("+1/2", "expected I/N"),
            ("", "expected I/N"),
        ] {
            let e = bad.parse::<Shard>().expect_err(bad);
            assert!(e.to_string().contains(rule), "{bad}: {e}");
            assert!(e.to_string().contains(&format!("`{bad}`")), "{bad}: {e}");
        }
    }

    /// Loads of each part.
    fn loads(items: &[(u32, f64)], parts: &[usize], n: usize) -> Vec<f64> {
        let mut l = vec![0.0; n];
        for (item, &p) in items.iter().zip(parts) {
            l[p] += item.1;
        }
        l
    }

    #[test]
    fn every_item_goes_to_exactly_one_part_and_parts_are_balanced_by_cost() {
        // Costs spread over four orders of magnitude, as widths 10 … 1000 of a dense grid are.
        let items: Vec<(u32, f64)> = (0..200u32).map(|i| (i, 10f64.powf(f64::from(i % 17) / 4.0))).collect();
        let total: f64 = items.iter().map(|i| i.1).sum();
        let largest = items.iter().map(|i| i.1).fold(0.0, f64::max);
        for n in [1, 2, 3, 7, 16] {
            let parts = partition(&items, n);
            assert!(parts.iter().all(|&p| p < n));
            let l = loads(&items, &parts, n);
            assert!((l.iter().sum::<f64>() - total).abs() < 1e-9 * total);
            let max = l.iter().fold(0.0, |a: f64, &b| a.max(b));
            // Graham's bound for LPT against the lower bound max(total/N, largest) of the optimum.
            let lower = (total / n as f64).max(largest);
            assert!(max <= (4.0 / 3.0 - 1.0 / (3.0 * n as f64)) * lower + 1e-9, "n={n}: {max} vs {lower}");
        }
    }

    #[test]
    fn balances_by_cost_not_by_count() {
        // One run as expensive as ten others: with 2 parts it sits alone.
        let mut items: Vec<(u32, f64)> = (0..10).map(|i| (i, 1.0)).collect();
        items.push((10, 10.0));
        let parts = partition(&items, 2);
        let alone = parts[10];
        assert!(parts[..10].iter().all(|&p| p != alone));
    }

    #[test]
    fn the_partition_does_not_depend_on_the_order_of_the_runs() {
        let items: Vec<(u32, f64)> = (0..50u32).map(|i| (i, f64::from(i % 5 + 1))).collect();
        let parts = partition(&items, 4);
        let mut reversed = items.clone();
        reversed.reverse();
        let parts_rev = partition(&reversed, 4);
        for (i, item) in items.iter().enumerate() {
            let j = reversed.iter().position(|r| r.0 == item.0).unwrap();
            assert_eq!(parts[i], parts_rev[j]);
        }
    }

    #[test]
    fn a_huge_part_count_is_the_partition_over_as_many_parts_as_items() {
        // Costs with ties and zeros: the clamped partition must equal the one over every part.
        let items: Vec<(u32, f64)> = (0..9u32).map(|i| (i, f64::from(i % 3))).collect();
        for count in [9, 10, 17, 40] {
            let full = lpt_over_every_part(&items, count);
            assert_eq!(partition(&items, count), full, "count {count}");
        }
        // Neither memory nor time grows with the count.
        let start = std::time::Instant::now();
        for count in [100_000_000_000, usize::MAX] {
            let parts = partition(&items, count);
            assert!(parts.iter().all(|&p| p < items.len()));
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }

    /// LPT over `count` parts, every part in the heap (the unclamped rule, for small counts).
    fn lpt_over_every_part(items: &[(u32, f64)], count: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|&a, &b| items[b].1.total_cmp(&items[a].1).then_with(|| items[a].0.cmp(&items[b].0)));
        let mut loads = vec![0.0; count];
        let mut part = vec![0; items.len()];
        for i in order {
            // The least loaded part, the lowest index among equals.
            let p = (0..count).fold(0, |best, p| if loads[p] < loads[best] { p } else { best });
            part[i] = p;
            loads[p] += items[i].1;
        }
        part
    }

    #[test]
    fn more_parts_than_runs_leaves_parts_empty() {
        let items = [(0u32, 1.0), (1, 2.0)];
        let parts = partition(&items, 5);
        assert_eq!(parts.len(), 2);
        assert_ne!(parts[0], parts[1]);
    }
}
