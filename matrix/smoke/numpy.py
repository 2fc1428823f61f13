# Smoke test for numpy: linear algebra through np.linalg (LAPACK/BLAS bundled with the wheel or
# provided by the system), checked against hand-computed answers. Exits non-zero on a wrong result.
import numpy as np

A = np.array([[3.0, 2.0, -1.0], [2.0, -2.0, 4.0], [-1.0, 0.5, -1.0]])
b = np.array([1.0, -2.0, 0.0])

x = np.linalg.solve(A, b)  # LAPACK gesv
assert np.allclose(x, [1.0, -2.0, -2.0]), x
assert np.allclose(A @ x, b), A @ x

d = np.linalg.det(A)  # LAPACK getrf; by cofactor expansion det = -3
assert abs(d - (-3.0)) < 1e-9, d

# BLAS gemm on a larger matrix: M @ inv(M) must be the identity.
rng = np.random.default_rng(12345)
M = rng.standard_normal((200, 200)) + 200.0 * np.eye(200)
I = M @ np.linalg.inv(M)
assert np.allclose(I, np.eye(200), atol=1e-9), np.abs(I - np.eye(200)).max()

# matmul with exact integers: [[1,2],[3,4]] @ [[5,6],[7,8]] = [[19,22],[43,50]]
P = np.array([[1.0, 2.0], [3.0, 4.0]]) @ np.array([[5.0, 6.0], [7.0, 8.0]])
assert (P == np.array([[19.0, 22.0], [43.0, 50.0]])).all(), P

# symmetric eigenvalues (LAPACK syevd): [[2,1],[1,2]] has eigenvalues 1 and 3
w = np.linalg.eigvalsh(np.array([[2.0, 1.0], [1.0, 2.0]]))
assert np.allclose(w, [1.0, 3.0]), w

blas = "?"
try:
    cfg = np.show_config(mode="dicts")
    blas = cfg["Build Dependencies"]["blas"]["name"]
except Exception:
    pass
print("numpy %s ok: solve/det/inv/matmul/eigvalsh checked (blas: %s)" % (np.__version__, blas))
