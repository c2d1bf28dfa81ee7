"""The hand-written baseline of the harness benchmark (scripts/bench-harness.sh, issue 23 target 3):
the tiny runs of the benchmark's grid trained one after the other with numpy, one JSON file per run.

    python3 scripts/numpy_loop.py SEEDS OUTDIR

Spectrum-like data d = 3, k = 2, n = 20 (X N(0, 1), Y = W*X with W* N(0, 1/d)), ResNet
f = B(I + W_L)…(I + W_1)AX with A (m×d) N(0, 1/m), B (k×m) N(0, 1/k), W_l = 0, loss ½‖f − Y‖²_F,
20 GD steps at the Zou step η = 1/(L‖A‖‖B‖‖X‖(√L(W0) + ‖A‖‖B‖‖X‖)); L ∈ 1…10, m ∈ 8…107, SEEDS
seeds: 1000 × SEEDS runs. Prints the number of runs and the seconds they took.
"""

import json
import os
import sys
import time

import numpy as np

D, K, N, STEPS = 3, 2, 20, 20


def train(depth: int, width: int, seed: int) -> list:
    rng = np.random.default_rng([seed, depth, width])
    x = rng.standard_normal((D, N))
    y = (rng.standard_normal((K, D)) / np.sqrt(D)) @ x
    a = rng.standard_normal((width, D)) / np.sqrt(width)
    b = rng.standard_normal((K, width)) / np.sqrt(K)
    ws = [np.zeros((width, width)) for _ in range(depth)]
    abx = np.linalg.norm(a, 2) * np.linalg.norm(b, 2) * np.linalg.norm(x, 2)
    eta = None
    losses = []
    for t in range(STEPS + 1):
        hs = [a @ x]
        for w in ws:
            hs.append(hs[-1] + w @ hs[-1])
        r = b @ hs[-1] - y
        loss = 0.5 * float(np.sum(r * r))
        losses.append(loss)
        if eta is None:
            eta = 1.0 / (depth * abx * (np.sqrt(loss) + abx))
        if t == STEPS:
            break
        g = b.T @ r
        for l in reversed(range(depth)):
            grad = g @ hs[l].T
            g = g + ws[l].T @ g
            ws[l] -= eta * grad
    return losses


def main() -> None:
    seeds, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    start = time.perf_counter()
    runs = 0
    for seed in range(seeds):
        for depth in range(1, 11):
            for width in range(8, 108):
                losses = train(depth, width, seed)
                record = {"depth": depth, "width": width, "seed": seed, "iters": STEPS, "loss": losses}
                path = os.path.join(out, f"L{depth}_m{width}_s{seed}.json")
                tmp = path + ".tmp"
                with open(tmp, "w") as f:
                    json.dump(record, f)
                os.replace(tmp, path)
                runs += 1
    print(f"numpy loop: {runs} runs in {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
