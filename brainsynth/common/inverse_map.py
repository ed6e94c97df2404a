"""Inverse of the output -> template mapping of MODEL_FORMAT.md §3 step 6 (no glioma mass
effect) for single points, in float64: MS lesion sites are drawn in template space (§4) and
need their output-space position. Mirrors src/engine/sampler/inverseMap.ts step for step.

Forward: x' = C + (x - C)/k, p = x' + T(u, x'). Given t, solve F(x') = x' + T(u, x') - t = 0 by
damped Newton with the exact Jacobian of the trilinear interpolant; a fixed-point iteration is
not enough because |grad u| exceeds 1 in places (up to ~4 inside white matter).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from brainsynth.common.grid import Grid

Vec3 = tuple[float, float, float]
Mat3 = tuple[Vec3, Vec3, Vec3]
TOLERANCE_MM = 1e-4
MAX_ITERATIONS = 50


class PointField:
    """A displacement field [3, nx, ny, nz] kept as x-fastest float64 planes for point lookups."""

    def __init__(self, u: NDArray[np.floating], grid: Grid) -> None:
        self.grid = grid
        self.planes = [np.ascontiguousarray(u[c].T, np.float64).ravel().tolist() for c in range(3)]

    def sample(self, p: Vec3) -> tuple[Vec3, Mat3]:
        """Trilinear value and Jacobian (row = component, column = axis) at world point p, with
        the boundary rule of §3 step 4; the gradient along a clamped axis is 0."""
        g = self.grid
        i0, w, inside = [], [], []
        for a in range(3):
            q = (p[a] - g.origin[a]) / g.spacing[a]
            qc = min(max(q, 0.0), g.shape[a] - 1.0)
            lo = min(max(math.floor(qc), 0), g.shape[a] - 2)
            i0.append(lo)
            w.append(qc - lo)
            inside.append(1.0 / g.spacing[a] if q == qc else 0.0)
        nx, ny, _ = g.shape
        val = [0.0, 0.0, 0.0]
        jac = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
        for dz in (0, 1):
            wz, gz = (w[2], 1.0) if dz else (1.0 - w[2], -1.0)
            for dy in (0, 1):
                wy, gy = (w[1], 1.0) if dy else (1.0 - w[1], -1.0)
                for dx in (0, 1):
                    wx, gx = (w[0], 1.0) if dx else (1.0 - w[0], -1.0)
                    v = i0[0] + dx + nx * (i0[1] + dy + ny * (i0[2] + dz))
                    weight = wx * wy * wz
                    dwx = gx * wy * wz * inside[0]
                    dwy = wx * gy * wz * inside[1]
                    dwz = wx * wy * gz * inside[2]
                    for c in range(3):
                        f = self.planes[c][v]
                        val[c] += weight * f
                        jac[c][0] += dwx * f
                        jac[c][1] += dwy * f
                        jac[c][2] += dwz * f
        return (val[0], val[1], val[2]), tuple(tuple(r) for r in jac)  # type: ignore[return-value]


def _det3(m: list[list[float]]) -> float:
    return (
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    )


def _newton_step(jac: Mat3, r: Vec3) -> Vec3 | None:
    """Solve (I + J) d = -r by Cramer's rule; None when (nearly) singular."""
    m = [[jac[i][j] + (1.0 if i == j else 0.0) for j in range(3)] for i in range(3)]
    det = _det3(m)
    if not abs(det) > 1e-12:
        return None

    def column(k: int) -> float:
        mk = [[-r[i] if j == k else m[i][j] for j in range(3)] for i in range(3)]
        return _det3(mk) / det

    return (column(0), column(1), column(2))


@dataclass
class Inverted:
    point: Vec3  # output-space world position x (mm)
    residual_mm: float  # |p(x) - t|


def invert_mapping(
    field: PointField, t: Vec3, scale: float, centre: tuple[float, float, float]
) -> Inverted:
    def residual(x: Vec3) -> tuple[Vec3, Mat3]:
        val, jac = field.sample(x)
        return (x[0] + val[0] - t[0], x[1] + val[1] - t[1], x[2] + val[2] - t[2]), jac

    start, _ = field.sample(t)
    x: Vec3 = (t[0] - start[0], t[1] - start[1], t[2] - start[2])
    r, jac = residual(x)
    err = math.hypot(*r)
    it = 0
    while it < MAX_ITERATIONS and err >= TOLERANCE_MM:
        d = _newton_step(jac, r) or (-r[0], -r[1], -r[2])
        lam = 1.0
        nx_, nr, njac = x, r, jac
        for _ in range(7):  # halve the step until the residual falls (at most 6 times)
            nx_ = (x[0] + lam * d[0], x[1] + lam * d[1], x[2] + lam * d[2])
            nr, njac = residual(nx_)
            if math.hypot(*nr) < err:
                break
            lam /= 2
        x, r, jac = nx_, nr, njac
        err = math.hypot(*r)
        it += 1
    return Inverted(
        (
            centre[0] + scale * (x[0] - centre[0]),
            centre[1] + scale * (x[1] - centre[1]),
            centre[2] + scale * (x[2] - centre[2]),
        ),
        err,
    )
