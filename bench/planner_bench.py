#!/usr/bin/python3
"""Gongshe planner vs SciPy on the same Leontief systems (bench/RESULTS.md, "Planner").

    /usr/bin/python3 bench/planner_bench.py BUILD_DIR [N ...]     (default N: 10000 100000 1000000)

For each N, runs gongshe_planner_bench (which generates the economy, times Gongshe and dumps the
system), loads the same A, d, l, and times SciPy solving (I - A) x = d and (I - A)^T v = l with
BiCGSTAB (Jacobi preconditioner, same relative tolerance 1e-14 capped at 1000 iterations).
SuperLU (spsolve) is left out: on this structure its fill-in took 530 s at N = 10^4. Prints one JSON object per N with the ratio
SciPy time / Gongshe time for the two solves.
"""
import json, subprocess, sys, tempfile, time

import numpy as np
import scipy
import scipy.sparse as sp
import scipy.sparse.linalg as spla


def bicgstab(m, b, precond):
    try:
        return spla.bicgstab(m, b, rtol=1e-14, atol=0.0, maxiter=1000, M=precond)
    except TypeError:  # SciPy < 1.12 names it tol
        return spla.bicgstab(m, b, tol=1e-14, atol=0.0, maxiter=1000, M=precond)


def scipy_times(d_dir, n):
    indptr = np.fromfile(f"{d_dir}/indptr.i64", dtype=np.int64)
    indices = np.fromfile(f"{d_dir}/indices.i32", dtype=np.int32)
    data = np.fromfile(f"{d_dir}/data.f64", dtype=np.float64)
    demand = np.fromfile(f"{d_dir}/demand.f64", dtype=np.float64)
    labour = np.fromfile(f"{d_dir}/labour.f64", dtype=np.float64)
    a = sp.csc_matrix((data, indices, indptr), shape=(n, n))
    m = (sp.identity(n, format="csc") - a).tocsr()
    mt = m.T.tocsr()
    out = {}
    for name, mat in (("x", m), ("v", mt)):
        diag = mat.diagonal()
        precond = spla.LinearOperator((n, n), matvec=lambda y, dg=diag: y / dg)
        rhs = demand if name == "x" else labour
        start = time.perf_counter()
        sol, info = bicgstab(mat, rhs, precond)
        out[f"bicgstab_{name}_s"] = time.perf_counter() - start
        out[f"bicgstab_{name}_info"] = int(info)
        out[f"bicgstab_{name}_rel_residual"] = float(np.linalg.norm(rhs - mat @ sol) / np.linalg.norm(rhs))
    out["bicgstab_s"] = out["bicgstab_x_s"] + out["bicgstab_v_s"]
    return out


def main():
    build = sys.argv[1]
    sizes = [int(s) for s in sys.argv[2:]] or [10000, 100000, 1000000]
    for n in sizes:
        with tempfile.TemporaryDirectory() as d_dir:
            run = subprocess.run([f"{build}/bench/gongshe_planner_bench", str(n), "12", "1", d_dir],
                                 check=True, capture_output=True, text=True)
            gongshe = json.loads(run.stdout)
            s = scipy_times(d_dir, n)
        best = s["bicgstab_s"]
        print(json.dumps({"n": n, "gongshe": gongshe, "scipy": s, "scipy_version": scipy.__version__,
                          "ratio_scipy_best_over_gongshe_solve": best / gongshe["solve_x_and_v_s"]}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
