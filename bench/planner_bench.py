#!/usr/bin/python3
"""Gongshe planner vs SciPy on the same Leontief systems (bench/RESULTS.md, "Planner").

    /usr/bin/python3 bench/planner_bench.py BUILD_DIR [--runs K] [N ...]   (default: 3 runs; N 10000 100000 1000000)

For each N and each of K runs: runs gongshe_planner_bench (which generates the economy, times
Gongshe -- the median of its own 3 repeats -- and dumps the system), loads the same A, d, l, and
times SciPy solving (I - A) x = d and (I - A)^T v = l with each method below, once. Prints, per N,
one JSON object with the median over the runs of every figure, wall clock and CPU time (this
process's CPU seconds: on a shared machine it leaves out time spent waiting for a core).

SciPy methods (sparse matrices in CSR, SciPy's fastest matrix-vector product):
  bicgstab_jacobi_1e-14  BiCGSTAB, Jacobi preconditioner, rtol 1e-14 (the earlier baseline)
  bicgstab_jacobi_1e-10  the same at rtol 1e-10
  bicgstab_1e-10         BiCGSTAB without preconditioner (diag(I - A) is close to 1), rtol 1e-10
  gmres20_1e-10          restarted GMRES(20), rtol 1e-10
  richardson             Gongshe's method (planner/solver.h) in NumPy: same steps, same
                         extrapolation rule, same componentwise stop; A x and A^T v as two
                         separate products (SciPy cannot share one pass over A)
Every solution's accuracy is measured the way the certificate needs it: the largest componentwise
|r_i| / (|x_i| + |(A x)_i| + |b_i|); `meets_certificate` says whether both systems are within
2^-30 (the certificate's relative tolerance). The ratio reported is the fastest SciPy method that
meets it, over Gongshe's Richardson solve, in wall clock and in CPU time.
SuperLU (spsolve) is left out: on this structure its fill-in took 530 s at N = 10^4.
"""
import json, statistics, subprocess, sys, tempfile, time

import numpy as np
import scipy
import scipy.sparse as sp
import scipy.sparse.linalg as spla

CERTIFICATE_TOLERANCE = 2.0 ** -30
STOP_TOLERANCE = 2.0 ** -32


def with_rtol(fn, m, b, rtol, **kw):
    try:
        return fn(m, b, rtol=rtol, atol=0.0, **kw)
    except TypeError:  # SciPy < 1.12 names it tol
        return fn(m, b, tol=rtol, atol=0.0, **kw)


def componentwise(a, b, x):
    ax = a @ x
    r = b + ax - x
    scale = np.abs(x) + np.abs(ax) + np.abs(b)
    rel = np.divide(np.abs(r), scale, out=np.zeros_like(r), where=scale > 0)
    rel[(scale == 0) & (r != 0)] = np.inf
    return float(rel.max())


def richardson(a, b, max_passes=500):
    """planner/solver.h's extrapolated Richardson iteration on one system, in NumPy."""
    x = b.copy()
    prev_norm, prev_ratio, last_step, have_ratio = np.abs(b).sum(), 0.0, 1.0, False
    for _ in range(max_passes):
        ax = a @ x
        r = b + ax - x
        if np.all(np.abs(r) <= STOP_TOLERANCE * (np.abs(x) + np.abs(ax) + np.abs(b))):
            return x, 0
        norm = np.abs(r).sum()
        known = last_step == 1.0 and prev_norm > 0
        ratio = norm / prev_norm if known else 0.0
        step = 1.0
        if known and have_ratio and 0 < ratio < 0.999 and abs(ratio - prev_ratio) <= 2e-3 * ratio:
            step = 1.0 / (1.0 - ratio)
        have_ratio = known and step == 1.0
        prev_ratio, prev_norm, last_step = ratio, norm, step
        x = x + step * r
    return x, 1


def scipy_methods(m, mt):
    n = m.shape[0]

    def jacobi(mat):
        inv = 1.0 / mat.diagonal()
        return spla.LinearOperator((n, n), matvec=lambda y: y * inv)

    return {
        "bicgstab_jacobi_1e-14": lambda mat, b: with_rtol(spla.bicgstab, mat, b, 1e-14, maxiter=1000, M=jacobi(mat)),
        "bicgstab_jacobi_1e-10": lambda mat, b: with_rtol(spla.bicgstab, mat, b, 1e-10, maxiter=1000, M=jacobi(mat)),
        "bicgstab_1e-10": lambda mat, b: with_rtol(spla.bicgstab, mat, b, 1e-10, maxiter=1000),
        "gmres20_1e-10": lambda mat, b: with_rtol(spla.gmres, mat, b, 1e-10, restart=20, maxiter=100),
    }


def scipy_times(d_dir, n):
    indptr = np.fromfile(f"{d_dir}/indptr.i64", dtype=np.int64)
    indices = np.fromfile(f"{d_dir}/indices.i32", dtype=np.int32)
    data = np.fromfile(f"{d_dir}/data.f64", dtype=np.float64)
    demand = np.fromfile(f"{d_dir}/demand.f64", dtype=np.float64)
    labour = np.fromfile(f"{d_dir}/labour.f64", dtype=np.float64)
    a = sp.csc_matrix((data, indices, indptr), shape=(n, n)).tocsr()
    at = a.T.tocsr()
    m = (sp.identity(n, format="csr") - a).tocsr()
    mt = m.T.tocsr()
    out = {}
    methods = scipy_methods(m, mt)
    methods["richardson"] = None
    for name, solve in methods.items():
        wall = cpu = 0.0
        accuracy = []
        info = 0
        for mat, op, rhs in ((m, a, demand), (mt, at, labour)):
            w0, c0 = time.perf_counter(), time.process_time()
            sol, code = richardson(op, rhs) if solve is None else solve(mat, rhs)
            wall += time.perf_counter() - w0
            cpu += time.process_time() - c0
            info = max(info, int(code))
            accuracy.append(componentwise(op, rhs, sol))
        out[name] = {"wall_s": wall, "cpu_s": cpu, "info": info, "componentwise_max": max(accuracy),
                     "meets_certificate": bool(info == 0 and max(accuracy) <= CERTIFICATE_TOLERANCE)}
    return out


def median_of(runs, path):
    values = []
    for run in runs:
        v = run
        for key in path:
            v = v[key]
        values.append(v)
    return statistics.median(values) if isinstance(values[0], (int, float)) and not isinstance(values[0], bool) else values[0]


def main():
    args = sys.argv[1:]
    build, args = args[0], args[1:]
    runs = 3
    if args and args[0] == "--runs":
        runs, args = int(args[1]), args[2:]
    sizes = [int(s) for s in args] or [10000, 100000, 1000000]
    for n in sizes:
        collected = []
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as d_dir:
                run = subprocess.run([f"{build}/bench/gongshe_planner_bench", str(n), "12", "1", d_dir],
                                     check=True, capture_output=True, text=True)
                gongshe = json.loads(run.stdout)
                collected.append({"gongshe": gongshe, "scipy": scipy_times(d_dir, n)})
        gongshe = {k: median_of(collected, ("gongshe", k)) for k in collected[0]["gongshe"]}
        scipy_med = {name: {k: median_of(collected, ("scipy", name, k)) for k in fields}
                     for name, fields in collected[0]["scipy"].items()}
        eligible = {k: v for k, v in scipy_med.items() if v["meets_certificate"]}
        best_wall = min(eligible, key=lambda k: eligible[k]["wall_s"])
        best_cpu = min(eligible, key=lambda k: eligible[k]["cpu_s"])
        print(json.dumps({
            "n": n, "runs": runs, "scipy_version": scipy.__version__, "gongshe": gongshe, "scipy": scipy_med,
            "scipy_best_wall": best_wall,
            "ratio_wall_scipy_best_over_gongshe": eligible[best_wall]["wall_s"] / gongshe["solve_x_and_v_s"],
            "scipy_best_cpu": best_cpu,
            "ratio_cpu_scipy_best_over_gongshe": eligible[best_cpu]["cpu_s"] / gongshe["solve_x_and_v_cpu_s"],
            "ratio_wall_scipy_bicgstab_jacobi_1e-14_over_gongshe":
                scipy_med["bicgstab_jacobi_1e-14"]["wall_s"] / gongshe["solve_x_and_v_s"],
        }))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
