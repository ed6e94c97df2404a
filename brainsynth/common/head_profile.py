"""The head's layers over the cranial vault, measured without registration.

Above the brain, the head is a stack of thin shells: CSF, the skull's inner table, the diploe,
the outer table, the scalp's soft tissue and fat, the skin. An affine alignment of a template
to a real scan misplaces these few-millimetre layers by more than their thickness, so a label's
median intensity "through the alignment" mixes every layer (skull and scalp read alike). Here
every voxel between the brain and the skin gets a *normalised depth*

    t = d_brain / (d_brain + d_skin)   (0 at the brain's surface, 1 at the skin)

from two Euclidean distance maps of the scan itself, and the vault profile is the median
intensity per bin of t. The same function runs on a real scan (its DLMUSE brain mask and its
own head mask) and on a synthetic one (its label map's brain and the same head threshold on its
image), so the two profiles compare layer for layer, whatever each head's size.

- brain: cortex, WM, ventricles, deep GM, other brain (`tissue.BRAIN_CLASSES`), holes filled;
  CSF outside it is part of the profile (its first bins), on both sides alike;
- head: image > `HEAD_LEVEL` x WM, closed by two voxels, holes filled, plus the brain;
- vault: voxel centres more than `VAULT_OFFSET_MM` above the brain's centroid (world z), where
  the layers run parallel to the brain (no face, orbits, skull base or neck).

Used by the pipeline's head fit (`pipeline.head_fit`) and the realism benchmark. Written here
because no library measures layer profiles of the scalp and skull on a T1 without a
segmentation of them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from brainsynth.common.tissue import BRAIN_CLASSES

HEAD_LEVEL = 0.1  # x the eroded-WM median: the head mask's threshold (air is ~0 in IXI)
VAULT_OFFSET_MM = 10.0
N_BINS = 10
MIN_VOXELS = 20  # a bin with fewer voxels reads NaN


def vault_bins(
    image: NDArray[np.floating],
    classes: NDArray[np.int8],
    affine: NDArray[np.float64],
    n_bins: int = N_BINS,
) -> NDArray[np.int16]:
    """Per voxel, its bin of normalised depth (0..n_bins-1) in the vault's head; -1 elsewhere.
    `image` is divided by its eroded-WM median; `classes` are `tissue` classes."""
    if image.shape != classes.shape:
        raise ValueError(f"image {image.shape} and classes {classes.shape} differ in shape")
    if n_bins < 1:
        raise ValueError(f"n_bins must be positive (got {n_bins})")
    brain = ndimage.binary_fill_holes(np.isin(classes, BRAIN_CLASSES))
    if not brain.any():
        raise ValueError("no brain voxels: the label map does not cover the brain")
    head = ndimage.binary_closing(np.asarray(image) > HEAD_LEVEL, iterations=2)
    head = ndimage.binary_fill_holes(head | brain)
    spacing = tuple(float(s) for s in np.sqrt((np.asarray(affine)[:3, :3] ** 2).sum(axis=0)))
    d_skin = ndimage.distance_transform_edt(head, sampling=spacing)
    d_brain = ndimage.distance_transform_edt(~brain, sampling=spacing)
    # world z of every voxel centre, and the brain's centroid height
    a = np.asarray(affine, np.float64)
    i, j, k = (np.arange(n, dtype=np.float64) for n in image.shape)
    zi = (a[2, 0] * i[:, None, None] + a[2, 1] * j[None, :, None] + a[2, 2] * k[None, None, :]) + a[
        2, 3
    ]
    vault = zi > float(zi[brain].mean()) + VAULT_OFFSET_MM
    sel = head & ~brain & vault & (d_skin > 0)
    out = np.full(image.shape, -1, np.int16)
    t = d_brain[sel] / (d_brain[sel] + d_skin[sel])
    out[sel] = np.minimum((t * n_bins).astype(np.int16), n_bins - 1)
    return out


def profile(
    image: NDArray[np.floating], bins: NDArray[np.int16], n_bins: int = N_BINS
) -> NDArray[np.float64]:
    """Median of `image` per bin of `bins` (NaN where a bin has < MIN_VOXELS voxels)."""
    img = np.asarray(image, np.float64)
    out = np.full(n_bins, np.nan)
    for b in range(n_bins):
        m = bins == b
        if int(m.sum()) >= MIN_VOXELS:
            out[b] = float(np.median(img[m]))
    return out


def vault_profile(
    image: NDArray[np.floating],
    classes: NDArray[np.int8],
    affine: NDArray[np.float64],
    n_bins: int = N_BINS,
) -> NDArray[np.float64]:
    """The vault profile of one scan: median intensity (WM units) per bin of normalised depth."""
    return profile(image, vault_bins(image, classes, affine, n_bins), n_bins)
