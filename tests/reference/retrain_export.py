#!/usr/bin/env python3
"""Re-train a run exported by `linres export --npy DIR` with plain numpy and print its losses.

    linres export experiments/paper_fig1_transforms.yaml --run <ID> --npy /tmp/run
    python3 tests/reference/retrain_export.py /tmp/run 10 [results/<name>/runs/<ID>.json]

With a record file, the losses are compared with the record's curve at the logged iterations.
Full-batch GD only (an SGD run's minibatches come from linres's ChaCha8 stream).
"""
import argparse
import json
from functools import reduce
from pathlib import Path


def chain(mats, start):
    return reduce(lambda acc, m: m @ acc, mats, start)


def losses(d, steps):
    meta = json.loads((d / "meta.json").read_text())
    eta, depth = meta["eta"], meta["depth"]
    X, Y = np.load(d / "X.npy").T, np.load(d / "Y.npy").T  # d×n, k×n
    out = []
    if meta["model"] == "resnet":
        A, B = np.load(d / "A.npy"), np.load(d / "B.npy")
        m = A.shape[0]
        W = [np.load(d / f"W{l}.npy") if (d / f"W{l}.npy").exists() else np.zeros((m, m)) for l in range(1, depth + 1)]
        for _ in range(steps + 1):
            T = [np.eye(m) + w for w in W]
            R = B @ chain(T, np.eye(m)) @ A @ X - Y
            out.append(0.5 * np.sum(R * R))
            G = [(B @ chain(T[l + 1:], np.eye(m))).T @ R @ X.T @ (chain(T[:l], np.eye(m)) @ A).T for l in range(depth)]
            W = [w - eta * g for w, g in zip(W, G)]
    else:
        alpha = meta["alpha"]
        W = [np.load(d / f"W{l}.npy") for l in range(1, depth + 1)]
        for _ in range(steps + 1):
            R = alpha * chain(W, X) - Y
            out.append(0.5 * np.sum(R * R))
            G = [alpha * chain(W[l + 1:], np.eye(W[l].shape[0])).T @ R @ chain(W[:l], X).T for l in range(depth)]
            W = [w - eta * g for w, g in zip(W, G)]
    return out


def arguments():
    p = argparse.ArgumentParser(
        description="Re-train a run exported by `linres export --npy DIR` with plain numpy and print its losses.",
        epilog="Full-batch GD only (an SGD run's minibatches come from linres's ChaCha8 stream).",
    )
    p.add_argument("dir", type=Path, help="the directory `linres export --npy DIR` wrote")
    p.add_argument("steps", type=int, help="number of GD steps")
    p.add_argument("record", type=Path, nargs="?", help="results/<name>/runs/<ID>.json: compare with its curve")
    return p.parse_args()


def main():
    args = arguments()
    global np
    import numpy as np

    ls = losses(args.dir, args.steps)
    record = json.loads(args.record.read_text()) if args.record else None
    logged = {p["iter"]: p["loss"] for p in record["curve"]} if record else {}
    worst = 0.0
    for t, loss in enumerate(ls):
        line = f"{t:6d} {loss:.15e}"
        if t in logged:
            rel = abs(loss - logged[t]) / abs(logged[t])
            worst = max(worst, rel)
            line += f"   linres {logged[t]:.15e}   rel. diff {rel:.1e}"
        print(line)
    if logged:
        print(f"largest relative difference at logged iterations: {worst:.1e}")


if __name__ == "__main__":
    main()
