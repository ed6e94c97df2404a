"""Real-vs-synthetic classifiers on the standardised statistics, leave-one-pair-out.

Each synthetic scan is the twin (same age and sex) of one real scan; a fold holds out one
real scan *and* its twin, so every training set stays balanced (41 + 41) and age/sex cannot
leak. Standardisation is fitted inside each fold (a scikit-learn Pipeline). If the synthetic
scans were copies of the real ones the two held-out points would be identical and get the same
prediction: exactly 50 % - the design makes "indistinguishable" read as chance, where plain
leave-one-out on duplicated data would read as 0 %.

Chance control: the real set alone, randomly split into two halves used as fake classes
(paired at random, same leave-one-pair-out), repeated; its mean accuracy is the chance level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

CLASSIFIERS: dict[str, Callable[[], ClassifierMixin]] = {
    "logistic": lambda: LogisticRegression(C=1.0, max_iter=2000),
    "rbfSvm": lambda: SVC(C=1.0, kernel="rbf", gamma="scale"),
    "randomForest": lambda: RandomForestClassifier(n_estimators=50, random_state=0, n_jobs=1),
}


def _pipeline(name: str) -> Pipeline:
    return make_pipeline(StandardScaler(), CLASSIFIERS[name]())


def pair_accuracy(
    x: NDArray[np.float64], y: NDArray[np.int_], groups: NDArray[np.int_], name: str
) -> float:
    """Leave-one-group-out accuracy of classifier `name` (x: samples x features)."""
    if not np.all(np.isfinite(x)):
        raise ValueError("statistics must be finite to classify")
    correct = 0
    for train, test in LeaveOneGroupOut().split(x, y, groups):
        model = _pipeline(name).fit(x[train], y[train])
        correct += int((model.predict(x[test]) == y[test]).sum())
    return correct / len(y)


def real_vs_synthetic(
    real: NDArray[np.float64], synthetic: NDArray[np.float64]
) -> dict[str, float]:
    """Row i of `synthetic` is the twin of row i of `real`."""
    if real.shape != synthetic.shape:
        raise ValueError(
            f"real and synthetic statistics differ in shape: {real.shape} vs {synthetic.shape}"
        )
    n = real.shape[0]
    x = np.vstack([real, synthetic])
    y = np.r_[np.zeros(n, int), np.ones(n, int)]
    groups = np.r_[np.arange(n), np.arange(n)]
    return {name: pair_accuracy(x, y, groups, name) for name in CLASSIFIERS}


def chance_control(real: NDArray[np.float64], repeats: int = 10, seed: int = 0) -> dict[str, Any]:
    """Random halves of the real set as fake classes: mean (and range) accuracy per classifier."""
    if real.shape[0] < 4:
        raise ValueError(f"the chance control needs at least 4 real scans (got {real.shape[0]})")
    rng = np.random.default_rng(seed)
    half = real.shape[0] // 2
    acc: dict[str, list[float]] = {name: [] for name in CLASSIFIERS}
    for _ in range(repeats):
        order = rng.permutation(real.shape[0])[: 2 * half]
        x = real[order]
        y = np.r_[np.zeros(half, int), np.ones(half, int)]
        groups = np.r_[np.arange(half), np.arange(half)]
        for name in CLASSIFIERS:
            acc[name].append(pair_accuracy(x, y, groups, name))
    return {
        name: {"mean": float(np.mean(v)), "min": float(np.min(v)), "max": float(np.max(v))}
        for name, v in acc.items()
    } | {"repeats": repeats}
