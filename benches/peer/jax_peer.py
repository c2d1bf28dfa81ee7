"""The peer sweep of docs/PERFORMANCE.md in JAX, as a JAX user writes it: the loss as a function,
its gradient by autodiff, one jitted GD step, float64 like linres.

    pip install jax            # CPU build from PyPI
    /usr/bin/time -f %e python benches/peer/jax_peer.py

Data and model as benches/peer/peer.yaml: X (d×n) N(0, 1), Y = −X + 0.1·E, A (m×d) N(0, 1/m),
B (k×m) N(0, 1/k), W_l = 0, f = B(I + W_L)…(I + W_1)AX, loss ½‖f − Y‖²_F, 300 GD steps at the
Zou step η = 1/(L‖A‖‖B‖‖X‖(√L(W0) + ‖A‖‖B‖‖X‖)), widths 40 and 200, one after the other.
Prints the time of each width (compilation included) and the final loss.
"""

import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402

D = K = 10
N, DEPTH, STEPS = 1000, 10, 300


def sweep_one(m: int, seed: int) -> float:
    kx, ke, ka, kb = jax.random.split(jax.random.PRNGKey(seed), 4)
    x = jax.random.normal(kx, (D, N))
    y = -x + 0.1 * jax.random.normal(ke, (K, N))
    a = jax.random.normal(ka, (m, D)) / jnp.sqrt(m)
    b = jax.random.normal(kb, (K, m)) / jnp.sqrt(K)

    def loss(ws):
        h = a @ x
        for l in range(DEPTH):
            h = h + ws[l] @ h
        return 0.5 * jnp.sum((b @ h - y) ** 2)

    ws = jnp.zeros((DEPTH, m, m))
    abx = jnp.linalg.norm(a, 2) * jnp.linalg.norm(b, 2) * jnp.linalg.norm(x, 2)
    eta = 1.0 / (DEPTH * abx * (jnp.sqrt(loss(ws)) + abx))

    @jax.jit
    def step(ws):
        value, grad = jax.value_and_grad(loss)(ws)
        return ws - eta * grad, value

    for _ in range(STEPS):
        ws, value = step(ws)
    return float(value)


if __name__ == "__main__":
    total = time.perf_counter()
    for m in (40, 200):
        start = time.perf_counter()
        final = sweep_one(m, seed=1)
        print(f"m = {m}: {time.perf_counter() - start:.2f} s (final loss {final:.6g})")
    print(f"sweep: {time.perf_counter() - total:.2f} s")
