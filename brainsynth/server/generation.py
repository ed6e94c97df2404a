"""The one place the server touches the generator.

A `Generator` is the pair (generate, write_outputs) with the teacher's signatures. The worker
processes load it from an import spec `module:attribute` (setting `generator`), where the
attribute is a `Generator` or a zero-argument callable returning one — so tests and benchmarks
can swap in a fake without the server importing anything else.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

ProgressFn = Callable[[float, str], None]


class GenerateFn(Protocol):
    def __call__(
        self,
        model_dir: Path,
        conditions: dict[str, Any],
        seed: int,
        resolution_mm: float,
        contrasts: Sequence[str],
        progress: ProgressFn | None,
    ) -> Any: ...


class WriteFn(Protocol):
    def __call__(self, volume: Any, folder: Path, stem: str) -> list[Path]: ...


@dataclass(frozen=True)
class Generator:
    generate: GenerateFn
    write_outputs: WriteFn


def teacher() -> Generator:
    """The full-size teacher (`brainsynth.teacher`), imported only where it runs."""
    from brainsynth.teacher import generate, write_outputs

    return Generator(generate=generate, write_outputs=write_outputs)


def load_generator(spec: str) -> Generator:
    """Resolve `module:attribute` to a Generator."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"generator spec must look like 'module:attribute' (got {spec!r})")
    obj = getattr(importlib.import_module(module_name), attr)
    gen = obj if isinstance(obj, Generator) else obj()
    if not isinstance(gen, Generator):
        raise TypeError(f"{spec} did not give a brainsynth.server.generation.Generator")
    return gen


def stem_for(seed: int) -> str:
    """File stem of one volume; server-made from the seed only (no request text in paths)."""
    return f"brainsynth_seed-{seed:010d}"


def classify(name: str, stem: str) -> tuple[str, str | None]:
    """(kind, contrast) of an output file name written by `write_outputs`."""
    rest = name[len(stem) :] if name.startswith(stem) else name
    if rest == ".json":
        return "sidecar", None
    if rest == "_dseg.nii.gz":
        return "labels", None
    if rest.startswith("_") and rest.endswith(".nii.gz"):
        return "image", rest[1 : -len(".nii.gz")]
    return "other", None
