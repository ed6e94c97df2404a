"""Subject i of a spec: its conditions and generation seed, from (spec seed, i) only.

Each subject has its own random stream, `numpy.random.SeedSequence(spec.seed, spawn_key=(i,))`
— exactly the i-th child of `SeedSequence(spec.seed).spawn(n)`, but made directly, so any
subject regenerates alone and workers can split the indices without talking to each other.

Sex and pathology are not drawn independently: subject i takes the point
frac(offset + i * alpha) of a Kronecker (additive recurrence) sequence, one irrational alpha
per covariate, and picks the category whose cumulative share contains it. Every prefix of
the dataset then matches the asked shares to within a subject or two ("10 % MS" is 10 % of
any 1,000 consecutive subjects), the (sex, pathology) pairs are balanced too, and the
result still depends on (seed, i) alone. Age and pathology parameters come from the
subject's own stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from brainsynth.datasets.spec import Spec

ALPHA_SEX = math.sqrt(2.0) - 1.0
ALPHA_PATHOLOGY = (math.sqrt(5.0) - 1.0) / 2.0


@dataclass(frozen=True)
class Subject:
    index: int  # 0-based position in the dataset
    label: str  # BIDS participant label ("00001")
    seed: int  # the teacher's seed (0 .. 2^32-1)
    conditions: dict[str, Any]

    @property
    def participant_id(self) -> str:
        return f"sub-{self.label}"


def label_width(count: int) -> int:
    return max(5, len(str(count)))


def _offsets(seed: int) -> tuple[float, float]:
    a, b = np.random.SeedSequence(seed).generate_state(2, np.uint64)
    return float(a) / 2.0**64, float(b) / 2.0**64


def _pick(u: float, shares: list[float]) -> int:
    total = 0.0
    for k, share in enumerate(shares):
        total += share
        if u < total:
            return k
    return max(k for k, s in enumerate(shares) if s > 0)


def _draw(rng: np.random.Generator, rule: Any) -> Any:
    if isinstance(rule, dict) and "min" in rule:
        return round(float(rng.uniform(rule["min"], rule["max"])), 3)
    if isinstance(rule, dict):
        choices = list(rule["choices"])
        weights = np.asarray(rule.get("weights") or [1.0] * len(choices), float)
        return choices[int(rng.choice(len(choices), p=weights / weights.sum()))]
    return rule


def _age(spec: Spec, rng: np.random.Generator) -> float:
    if spec.age_distribution == "normal":
        assert spec.age_mean is not None and spec.age_sd is not None
        for _ in range(1000):  # truncated normal by rejection (min..max holds the mean)
            a = float(rng.normal(spec.age_mean, spec.age_sd))
            if spec.age_min <= a <= spec.age_max:
                break
        else:
            a = spec.age_mean
    else:
        a = float(rng.uniform(spec.age_min, spec.age_max))
    return min(max(round(a, 2), spec.age_min), spec.age_max)


def subject(spec: Spec, index: int) -> Subject:
    if not 0 <= index < spec.count:
        raise IndexError(f"subject index {index} outside 0..{spec.count - 1}")
    seq = np.random.SeedSequence(spec.seed, spawn_key=(index,))
    seed_state, stream_state = seq.spawn(2)
    seed = int(seed_state.generate_state(1, np.uint32)[0])
    rng = np.random.default_rng(stream_state)
    off_sex, off_path = _offsets(spec.seed)
    u_sex = (off_sex + index * ALPHA_SEX) % 1.0
    u_path = (off_path + index * ALPHA_PATHOLOGY) % 1.0
    sex = "female" if u_sex < spec.female_fraction else "male"
    arm = spec.pathology[_pick(u_path, [a.fraction for a in spec.pathology])]
    conditions: dict[str, Any] = {
        "age": _age(spec, rng),
        "sex": sex,
        "pathology": arm.type,
        "contrast": spec.contrasts[0],
    }
    for name in sorted(arm.parameters):
        conditions[name] = _draw(rng, arm.parameters[name])
    label = f"{index + 1:0{label_width(spec.count)}d}"
    return Subject(index=index, label=label, seed=seed, conditions=conditions)
