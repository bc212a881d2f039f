#!/usr/bin/env python3
"""The paper's Figure 1 network in plain NumPy, as an eosweep exec trial.

Ahn et al., "Learning threshold neurons via the edge of stability": the
first layer is fixed to the 2d neurons +e_i and -e_i with one shared bias b,
the output is

    f(x) = a+ * sum_i ReLU(x_i + b) + a- * sum_i ReLU(-x_i + b),

and full-batch gradient descent trains theta = (a+, a-, b) on the logistic
loss over n samples x = lam * y * e_j + sigma * xi (y = +-1 and j uniform,
xi ~ N(0, I_d)), from a+, a- ~ N(0, 1/(2d)) and b = 0, for ceil(horizon/eta)
steps. Past eta* = 8 pi / d^2 gradient descent runs at the edge of stability
(eta * sharpness / 2 = 1) and the bias is driven below its gradient-flow
plateau: the threshold neuron. The sharpness is the largest eigenvalue of the
exact 3x3 Hessian, measured at theta_0, every ceil(steps/256) steps (or
--sharpness-every) and at the end, as eosweep's native engine measures it;
max_eos_ratio is the largest eta * sharpness / 2 of those measurements.

It prints a progress line "EOSWEEP_PROGRESS {...}" every 1/16 of the run and
its result as one JSON object on the last line of stdout, with eosweep's
result field names. Data and init come from NumPy's generator seeded by
(seed, stream), so every eta of a seed sees the same data: the trials of a
seed are a paired series over eta, as the boundary analysis wants.

    python3 figure1.py --eta 0.003 --seed 0 --d 100
"""
import argparse
import json
import math
import sys

import numpy as np


def sample(rng, n, d, lam, sigma):
    """n samples x = lam*y*e_j + sigma*xi with their labels y."""
    y = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    j = rng.integers(0, d, size=n)
    x = sigma * rng.standard_normal((n, d))
    x[np.arange(n), j] += lam * y
    return x, y


def features(x, b):
    """P = sum ReLU(x_i+b), M = sum ReLU(-x_i+b) and their derivatives in b."""
    p = np.maximum(x + b, 0.0).sum(axis=1)
    m = np.maximum(b - x, 0.0).sum(axis=1)
    cp = (x > -b).sum(axis=1).astype(float)
    cm = (x < b).sum(axis=1).astype(float)
    return p, m, cp, cm


def logistic(s):
    """l(s) = log(1+e^-s), l'(s), l''(s), stable for large |s|."""
    e = np.exp(-np.abs(s))
    sig = 1.0 / (1.0 + e)  # sigmoid(|s|)
    loss = np.maximum(-s, 0.0) + np.log1p(e)
    d1 = np.where(s >= 0, -e * sig, -sig)
    d2 = e * sig * sig
    return loss, d1, d2


class Network:
    def __init__(self, x, y):
        self.x, self.y, self.n = x, y, len(y)

    def loss_grad_hess(self, theta, hessian):
        ap, am, b = theta
        p, m, cp, cm = features(self.x, b)
        s = self.y * (ap * p + am * m)
        loss, d1, d2 = logistic(s)
        c = d1 * self.y
        v = np.stack([p, m, ap * cp + am * cm])  # ds/dtheta up to the sign y
        grad = (v * c).sum(axis=1) / self.n
        if not hessian:
            return loss.mean(), grad, None
        h = (v * d2) @ v.T / self.n
        h[0, 2] += (c * cp).sum() / self.n
        h[2, 0] = h[0, 2]
        h[1, 2] += (c * cm).sum() / self.n
        h[2, 1] = h[1, 2]
        return loss.mean(), grad, h


def accuracy(theta, x, y):
    ap, am, b = theta
    p, m, _, _ = features(x, b)
    return float(np.mean(y * (ap * p + am * m) > 0)) if len(y) else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eta", type=float, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--d", type=int, default=100)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--n-test", type=int, default=2000)
    ap.add_argument("--lam", type=float, default=3.0)
    ap.add_argument("--sigma", type=float, default=1.0)
    ap.add_argument("--horizon", type=float, default=10.0)
    ap.add_argument("--sharpness-every", type=int, default=0,
                    help="measure the sharpness every this many steps (0: about 256 times per run)")
    args = ap.parse_args()
    if not args.eta > 0:
        sys.exit("--eta must be > 0")

    d = args.d
    x, y = sample(np.random.default_rng([args.seed, d, args.n, 0]), args.n, d, args.lam, args.sigma)
    xt, yt = sample(np.random.default_rng([args.seed, d, args.n_test, 1]), args.n_test, d, args.lam, args.sigma)
    init = np.random.default_rng([args.seed, d, 2])
    theta = np.array([*(init.standard_normal(2) / math.sqrt(2 * d)), 0.0])
    net = Network(x, y)

    steps = math.ceil(args.horizon / args.eta)
    every = args.sharpness_every if args.sharpness_every > 0 else max(1, (steps + 255) // 256)
    sample_every = max(1, (steps + 255) // 256)  # trajectory points: about 256
    report = max(1, steps // 16)
    sharp = sharp0 = 0.0
    max_eos = 0.0
    min_bias = theta[2]
    trajectory = []
    diverged = False
    for step in range(steps + 1):
        last = step == steps
        measured = last or step % every == 0
        loss, grad, h = net.loss_grad_hess(theta, measured)
        if measured:
            s = float(np.linalg.eigvalsh(h)[-1]) if np.all(np.isfinite(h)) else float("nan")
            if math.isfinite(s):
                sharp = s
            if step == 0:
                sharp0, max_eos = sharp, args.eta * sharp / 2
            max_eos = max(max_eos, args.eta * sharp / 2)
        bias = float(theta[2])
        min_bias = min(min_bias, bias)
        if not math.isfinite(loss) or abs(loss) > 1e6:
            diverged = True
        point = {"step": step, "loss": loss if math.isfinite(loss) else 1e6, "bias": bias,
                 "sharpness": sharp if measured else 0.0}
        if last or diverged or step % sample_every == 0:
            trajectory.append(point)
        if step % report == 0 and not last:
            print("EOSWEEP_PROGRESS", json.dumps(point), flush=True)
        if last or diverged:
            break
        nxt = theta - args.eta * grad
        if not np.all(np.isfinite(nxt)):
            diverged = True
            break
        theta = nxt

    result = {
        "final_bias": float(theta[2]),
        "min_bias": float(min_bias),
        "initial_sharpness": sharp0,
        "final_sharpness": sharp,
        "eos_ratio": args.eta * sharp / 2,
        "max_eos_ratio": max_eos,
        "final_loss": float(loss) if math.isfinite(loss) else 1e6,
        "train_acc": accuracy(theta, x, y),
        "test_acc": accuracy(theta, xt, yt),
        "steps_run": step,
        "diverged": diverged,
        "trajectory": trajectory,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
