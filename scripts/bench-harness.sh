#!/usr/bin/env bash
# The harness at scale (issue 23): times and peak memory of linres's commands on grids of tiny runs
# (spectrum data d = 3, k = 2, n = 20, κ = 4, L ∈ 1…10, m ∈ 8…107, 20 GD steps; 1000 runs per seed), and
# the throughput of `run --jobs 2` against a hand-written numpy loop (scripts/numpy_loop.py).
#
#   scripts/bench-harness.sh [WORKDIR]          (default: a fresh directory under /tmp)
#
# Environment: LINRES (the binary; default target/release/linres, built first), PYTHON (a Python
# with numpy, pandas and pyarrow; default python3), EXPAND_SEEDS (1000: 10⁶ runs), CACHED_SEEDS
# (100: 10⁵ runs), LOOP_SEEDS (10: 10⁴ runs), HUGE_SEEDS (0: skipped; 1000 takes a 10⁶-run grid
# through run, status, plot, check, table and report: ≈ 10 min and 12 GB of disk on 2 cores),
# CURVES_SEEDS (0: skipped; 100 reads the curves of 10⁵ runs × 100 points back with pandas).
# Each line: command, runs, seconds, peak RSS.
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset, so OpenBLAS picks its kernels for this CPU.
set -euo pipefail
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
REPO="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${LINRES:-}" ]; then
    (cd "$REPO" && cargo build --release -q)
    LINRES="$REPO/target/release/linres"
fi
PYTHON="${PYTHON:-python3}"
EXPAND_SEEDS="${EXPAND_SEEDS:-1000}"
CACHED_SEEDS="${CACHED_SEEDS:-100}"
LOOP_SEEDS="${LOOP_SEEDS:-10}"
HUGE_SEEDS="${HUGE_SEEDS:-0}"
CURVES_SEEDS="${CURVES_SEEDS:-0}"
WORK="${1:-$(mktemp -d /tmp/linres-bench.XXXXXX)}"
mkdir -p "$WORK"
cd "$WORK"

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $("$LINRES" --version 2>/dev/null || true); OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset; results in $WORK"

# grid NAME SEEDS [ITERS]: the benchmark grid (with a curves figure, a bars figure and a check).
grid() {
    local depths widths
    depths=$(seq -s, 1 10)
    widths=$(seq -s, 8 107)
    cat > "$1.yaml" <<YAML
name: $1
master_seed: 23
seeds: $2
data: {kind: spectrum, d: 3, k: 2, n: 20, kappa: 4}
model: {arch: resnet, depth: [$depths], width: [$widths], transform: gaussian}
optim: {method: gd, iters: ${3:-20}, step: {rule: zou}}
figures:
  - {name: curves, kind: curves, title: "tiny runs", filter: {model.width: [8, 57, 107]}, facets: model.width, series: model.depth}
  - {name: bars, kind: bars, title: "final relative excess", x: model.width, series: model.depth, y: final_rel_excess}
checks:
  - name: decreases
    claim: "every tiny run decreases its loss"
    measure: final_rel_excess
    test: { each: { at_most: 1.0 } }
YAML
}

# timed LABEL RUNS CMD…: one line "| LABEL | RUNS | seconds | peak RSS |" (/usr/bin/time).
timed() {
    local label=$1 runs=$2
    shift 2
    /usr/bin/time -o "$WORK/time.txt" -f "%e %M" "$@" > /dev/null 2> "$WORK/stderr.txt" || {
        echo "| $label | $runs | failed: $(tail -2 "$WORK/stderr.txt" | tr '\n' ' ') |"
        return 0
    }
    read -r s kb < "$WORK/time.txt"
    printf "| %s | %s | %s s | %s MB |\n" "$label" "$runs" "$s" "$((kb / 1024))"
}

# every_command NAME RUNS: the grid NAME.yaml through every command a user runs on it, in order:
# computed, looked at and run again from the cache, then its figures, checks, a table and the report.
every_command() {
    local name=$1 runs=$2
    timed "run --jobs 2 (computing)" "$runs" "$LINRES" run -q "$name.yaml" --jobs 2
    timed "status, all cached" "$runs" "$LINRES" status "$name.yaml"
    timed "run, all cached (tables unchanged)" "$runs" "$LINRES" run -q "$name.yaml" --jobs 2
    timed "plot (curves + bars)" "$runs" "$LINRES" plot "$name.yaml"
    timed "check" "$runs" "$LINRES" check "$name.yaml" --out "CHECKS-$name.md"
    timed "table (markdown)" "$runs" "$LINRES" table "$name.yaml" --rows model.depth --cols model.width --value final_rel_excess --format markdown
    timed "report" "$runs" "$LINRES" report "$name.yaml" --out "site-$name"
}

echo "| command | runs | time | peak RSS |"
echo "|---|---|---|---|"
R_EXPAND=$((EXPAND_SEEDS * 1000))
R_CACHED=$((CACHED_SEEDS * 1000))
R_LOOP=$((LOOP_SEEDS * 1000))

# 1. Expansion and hashing.
grid big "$EXPAND_SEEDS"
timed "list --json (expand + hash)" "$R_EXPAND" "$LINRES" list big.yaml --json --results empty
timed "status, nothing cached" "$R_EXPAND" "$LINRES" status big.yaml --results empty

# 3. Throughput against the numpy loop (same machine, same benchmark run).
grid loop "$LOOP_SEEDS"
timed "run --jobs 2 (computing)" "$R_LOOP" "$LINRES" run -q loop.yaml --jobs 2
if "$PYTHON" -c "import numpy" 2> /dev/null; then
    # One OpenBLAS thread for numpy: its matrices are tiny, and threads would only slow it down.
    timed "numpy loop (scripts/numpy_loop.py, one thread)" "$R_LOOP" env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 "$PYTHON" "$REPO/scripts/numpy_loop.py" "$LOOP_SEEDS" numpy_out
else
    echo "| numpy loop | $R_LOOP | skipped: $PYTHON has no numpy |"
fi

# 2. The cache, 4. the outputs, 5. merge and diff on the 10⁵-run grid.
grid mid "$CACHED_SEEDS"
every_command mid "$R_CACHED"
# Four shards of the records (by the id's first hex digit), merged into a fresh results directory.
for i in 0 1 2 3; do
    mkdir -p "shard$i/mid/runs"
done
for d in results/mid/runs/??; do
    [ -d "$d" ] || continue
    p=$(basename "$d")
    i=$(( 16#${p:0:1} / 4 ))
    cp -r "$d" "shard$i/mid/runs/"
done
timed "merge of 4 shards" "$R_CACHED" "$LINRES" merge shard0 shard1 shard2 shard3 --into merged
timed "diff of two results" "$R_CACHED" "$LINRES" diff results/mid merged/mid

# 6. Parquet read back by pandas: read_parquet alone (importing pandas takes seconds of its own).
# read_back NAME RUNS: one line per table of results/NAME.
read_back() {
    if "$PYTHON" -c "import pandas, pyarrow" 2> /dev/null; then
        "$PYTHON" - "$1" "$2" <<'PY'
import sys, time
import pandas as pd
for name in ["curves", "summary"]:
    start = time.perf_counter()
    t = pd.read_parquet(f"results/{sys.argv[1]}/{name}.parquet")
    print(f"| pandas.read_parquet({name}.parquet): {len(t)} rows | {sys.argv[2]} | {time.perf_counter() - start:.2f} s | |")
PY
    else
        echo "| pandas.read_parquet | $2 | skipped: $PYTHON has no pandas and pyarrow |"
    fi
}
read_back mid "$R_CACHED"
if [ "$CURVES_SEEDS" -gt 0 ]; then
    R_CURVES=$((CURVES_SEEDS * 1000))
    grid long "$CURVES_SEEDS" 99
    timed "run --jobs 2 (computing, 100 points per run)" "$R_CURVES" "$LINRES" run -q long.yaml --jobs 2
    read_back long "$R_CURVES"
fi

# 7. A 10⁶-run grid end to end (HUGE_SEEDS=1000): every command a user runs on it, in order.
if [ "$HUGE_SEEDS" -gt 0 ]; then
    R_HUGE=$((HUGE_SEEDS * 1000))
    grid huge "$HUGE_SEEDS"
    every_command huge "$R_HUGE"
    echo "# results/huge: $(du -sh results/huge | cut -f1) on disk"
fi
