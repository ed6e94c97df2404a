"""A dataset spec: loaded from JSON or YAML, checked by `spec.schema.json` (structure) and then
against the model's conditions schema (names, ranges, enums), every reason reported at once.

Numbers must be finite: `NaN`/`Infinity` literals are refused when parsing JSON, and any
non-finite value (`1e999`, YAML's `.nan`/`.inf`) is a reason like any other.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).with_name("spec.schema.json")
CORE = ("age", "sex", "pathology", "contrast")  # set by the spec's own fields, not parameters


class SpecError(ValueError):
    """An unusable spec; `reasons` lists every problem as 'where: what'."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("invalid dataset spec: " + "; ".join(reasons))
        self.reasons = reasons


@lru_cache(maxsize=1)
def spec_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    return schema


@dataclass(frozen=True)
class PathologyArm:
    type: str
    fraction: float
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Spec:
    name: str
    model: str
    count: int
    seed: int
    resolution_mm: int
    contrasts: tuple[str, ...]
    age_min: float
    age_max: float
    age_distribution: str
    age_mean: float | None
    age_sd: float | None
    female_fraction: float
    pathology: tuple[PathologyArm, ...]
    quota_mb: float | None
    description: str
    raw: dict[str, Any]  # the spec as given, defaults filled (what is written beside the data)

    @property
    def digest(self) -> str:
        """sha256 of the canonical spec: a restart must continue the same dataset."""
        text = json.dumps(self.raw, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number (JSON has no NaN or Infinity)")


def parse_text(text: str, suffix: str = ".json") -> Any:
    """JSON (default) or YAML (`.yaml`/`.yml`) text -> a value; SpecError when unparseable."""
    try:
        if suffix.lower() in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise SpecError(["spec: YAML needs pyyaml ('brainsynth[datasets]')"]) from None

            return yaml.safe_load(text)
        return json.loads(text, parse_constant=_refuse_constant)
    except SpecError:
        raise
    except ValueError as exc:
        raise SpecError([f"spec: cannot parse: {exc}"]) from None
    except Exception as exc:  # noqa: BLE001 - yaml's errors have no common base in its stubs
        raise SpecError([f"spec: cannot parse: {exc}"]) from None


def load_spec_file(path: Path, models_dir: Path) -> Spec:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([f"spec: cannot read {path}: {exc}"]) from None
    return check_spec(parse_text(text, Path(path).suffix), models_dir)


def _non_finite(value: Any, where: str) -> list[str]:
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{where}: {value!r} is not a finite number"]
    if isinstance(value, dict):
        return [r for k, v in value.items() for r in _non_finite(v, f"{where}/{k}")]
    if isinstance(value, list):
        return [r for i, v in enumerate(value) for r in _non_finite(v, f"{where}/{i}")]
    return []


def load_model_manifest(models_dir: Path, model_id: str) -> dict[str, Any]:
    """The model's manifest.json (the id is pattern-checked by the spec schema first)."""
    file = Path(models_dir) / model_id / "manifest.json"
    try:
        man: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SpecError([f"model: cannot read model {model_id!r} ({file}): {exc}"]) from None
    return man


def check_spec(value: Any, models_dir: Path) -> Spec:
    """Validate a parsed spec (structure, then against the model) and fill its defaults."""
    reasons = _non_finite(value, "spec")
    if reasons:
        raise SpecError(reasons)
    validator = jsonschema.Draft202012Validator(spec_schema())
    errors = sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.path)))
    if errors:
        raise SpecError([f"{'/'.join(map(str, e.path)) or 'spec'}: {e.message}" for e in errors])
    assert isinstance(value, dict)
    props = spec_schema()["properties"]
    raw = {
        k: value.get(k, props[k].get("default"))
        for k in props
        if k in value or "default" in props[k]
    }
    man = load_model_manifest(models_dir, str(raw["model"]))
    cond = man.get("conditionsSchema", {}).get("properties", {})
    reasons = []

    contrasts = list(raw["contrasts"])
    known = list(cond.get("contrast", {}).get("enum", []))
    looks = (man.get("appearance") or {}).get("contrasts")
    if isinstance(looks, dict):
        known = [c for c in known if c in looks]
    reasons += [f"contrasts: {c!r} is not one of {known}" for c in contrasts if c not in known]
    if raw["resolutionMm"] == 1 and "templateLabels1mm" not in (man.get("teacherArrays") or {}):
        reasons.append(f"resolutionMm: model {raw['model']} has no 1 mm template")

    age_schema = cond.get("age", {})
    lo, hi = float(age_schema.get("minimum", -math.inf)), float(age_schema.get("maximum", math.inf))
    age = dict(value.get("age") or {"min": lo, "max": hi})
    age.setdefault("distribution", "uniform")
    raw["age"] = age
    if not lo <= age["min"] <= age["max"] <= hi:
        reasons.append(f"age: need {lo:g} <= min <= max <= {hi:g} (got {age['min']}..{age['max']})")
    if age["distribution"] == "normal":
        if "mean" not in age or "sd" not in age:
            reasons.append("age: a normal distribution needs 'mean' and 'sd'")
        elif not age["min"] <= age["mean"] <= age["max"]:
            reasons.append("age/mean: must lie within min..max")
    elif "mean" in age or "sd" in age:
        reasons.append("age: 'mean' and 'sd' apply to the normal distribution only")

    arms_raw = list(value.get("pathology") or [{"type": "none", "fraction": 1.0}])
    raw["pathology"] = arms_raw
    kinds = list(cond.get("pathology", {}).get("enum", []))
    total = sum(float(a["fraction"]) for a in arms_raw)
    if abs(total - 1.0) > 1e-6:
        reasons.append(f"pathology: fractions add up to {total:g}, not 1")
    seen: set[str] = set()
    arms = []
    for n, arm in enumerate(arms_raw):
        where = f"pathology/{n}"
        kind = str(arm["type"])
        if kind not in kinds:
            reasons.append(f"{where}/type: {kind!r} is not one of {kinds}")
        if kind in seen:
            reasons.append(f"{where}/type: {kind!r} appears twice")
        seen.add(kind)
        params = dict(arm.get("parameters") or {})
        for name, rule in params.items():
            reasons += _check_parameter(f"{where}/parameters/{name}", name, rule, kind, cond)
        arms.append(PathologyArm(kind, float(arm["fraction"]), params))
    if reasons:
        raise SpecError(reasons)
    return Spec(
        name=str(raw["name"]),
        model=str(raw["model"]),
        count=int(raw["count"]),
        seed=int(raw["seed"]),
        resolution_mm=int(raw["resolutionMm"]),
        contrasts=tuple(contrasts),
        age_min=float(age["min"]),
        age_max=float(age["max"]),
        age_distribution=str(age["distribution"]),
        age_mean=float(age["mean"]) if "mean" in age else None,
        age_sd=float(age["sd"]) if "sd" in age else None,
        female_fraction=float(raw["femaleFraction"]),
        pathology=tuple(arms),
        quota_mb=float(raw["quotaMb"]) if raw.get("quotaMb") is not None else None,
        description=str(raw.get("description") or ""),
        raw=raw,
    )


def _check_parameter(
    where: str, name: str, rule: Any, kind: str, cond: dict[str, Any]
) -> list[str]:
    prop = cond.get(name)
    if prop is None or name in CORE:
        allowed = sorted(
            k for k, p in cond.items() if p.get("x-showWhen", {}).get("pathology") == kind
        )
        return [f"{where}: not a parameter of pathology {kind!r} (its parameters: {allowed})"]
    when = prop.get("x-showWhen", {})
    if when and when.get("pathology") != kind:
        return [f"{where}: applies to pathology {when.get('pathology')!r}, not {kind!r}"]
    values: list[Any]
    if isinstance(rule, dict) and "min" in rule:
        if rule["min"] > rule["max"]:
            return [f"{where}: min {rule['min']} is greater than max {rule['max']}"]
        values = [rule["min"], rule["max"]]
        if prop.get("type") != "number":
            return [f"{where}: a range needs a numeric parameter ({name} is {prop.get('type')})"]
    elif isinstance(rule, dict):
        values = list(rule["choices"])
        weights = rule.get("weights")
        if weights is not None and (len(weights) != len(values) or sum(weights) <= 0):
            return [f"{where}/weights: need one non-negative weight per choice, not all 0"]
    else:
        values = [rule]
    out = []
    check = jsonschema.Draft202012Validator(
        {k: v for k, v in prop.items() if not k.startswith("x-")}
    )
    for v in values:
        out += [f"{where}: {e.message}" for e in check.iter_errors(v)]
    return out
