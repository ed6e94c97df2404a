"""Generate a dataset: in this process (default) or as Ray tasks, resumable after any crash.

The unit of work is one subject, `make_subject(job, index)`: derive its conditions and seed
(derive.py), generate with the teacher, write its files atomically into its own folder and
return a record (covariates, measured volumes, checksums, timings). Workers write files
straight into the output folder (a shared filesystem on a cluster); only the small records
travel back, and the driver alone writes the manifest. A subject counts as done when its
record is in the manifest; at every start, temporaries and folders of subjects without a
record (interrupted between writing and recording) are removed and those subjects made again
— deterministically, to the same bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from brainsynth.datasets import bids
from brainsynth.datasets.derive import subject
from brainsynth.datasets.manifest import Manifest
from brainsynth.datasets.spec import Spec, SpecError, check_spec, load_model_manifest

MB = 1_000_000
IMAGE_BYTES_1MM = 35 * MB  # upper bound of one float32 image at 1 mm (uncompressed)


@dataclass(frozen=True)
class Job:
    """What a worker needs (plain data: it is pickled to Ray workers)."""

    spec_raw: dict[str, Any]
    models_dir: str
    out: str
    options: bids.WriteOptions = field(default_factory=bids.WriteOptions)
    device: str | None = None  # the teacher's device: None = auto (CUDA when present)


@dataclass
class Progress:
    done: int
    total: int
    started: float
    done_at_start: int
    message: str = ""

    @property
    def rate_per_h(self) -> float:
        made = self.done - self.done_at_start
        elapsed = time.time() - self.started
        return made / elapsed * 3600 if elapsed > 0 and made > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        rate = self.rate_per_h
        return (self.total - self.done) / rate * 3600 if rate > 0 else None

    def line(self) -> str:
        eta = self.eta_s
        eta_text = "?" if eta is None else _duration(eta)
        pct = 100 * self.done / self.total if self.total else 100.0
        return (
            f"[{self.done}/{self.total}] {pct:5.1f}%  {self.rate_per_h:,.0f} subjects/h  "
            f"ETA {eta_text}  {self.message}"
        )


def _duration(s: float) -> str:
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{sec:02d}s"


# -- the unit of work ---------------------------------------------------------------------------
_SPECS: dict[str, Spec] = {}


def _spec(job: Job) -> Spec:
    key = json.dumps(job.spec_raw, sort_keys=True)
    if key not in _SPECS:
        _SPECS[key] = check_spec(job.spec_raw, Path(job.models_dir))
    return _SPECS[key]


def make_subject(job: Job, index: int) -> dict[str, Any]:
    """Generate and write subject `index`; returns its manifest record."""
    from brainsynth.teacher.generate import generate

    spec = _spec(job)
    subj = subject(spec, index)
    model_dir = Path(job.models_dir) / spec.model
    t0 = time.perf_counter()
    volume = generate(
        model_dir,
        dict(subj.conditions),
        subj.seed,
        resolution_mm=float(spec.resolution_mm),
        contrasts=spec.contrasts,
        device=job.device,
    )
    t1 = time.perf_counter()
    pid = subj.participant_id
    side = volume.sidecar
    desc = f"brainsynth {side.get('modelId', '')} {pid} seed {subj.seed}"
    payloads: list[tuple[str, str | None, str, bytes]] = []  # (kind, contrast, name, bytes)
    for name, img in volume.images.items():
        raw = bids.nifti_bytes(img, volume.affine, desc, job.options.image_dtype, label=False)
        payloads.append(("image", name, bids.image_name(pid, name), raw))
    raw = bids.nifti_bytes(volume.labels, volume.affine, desc, "int16", label=True)
    payloads.append(("labels", None, f"{pid}_dseg.nii.gz", raw))
    compressed = [(k, c, n, bids.compress(r, job.options)) for k, c, n, r in payloads]
    t2 = time.perf_counter()
    volumes = dict(side.get("regionalVolumesMl", {}))
    common = {
        "Conditions": side.get("conditions", subj.conditions),
        "Seed": subj.seed,
        "SubjectIndex": index,
        "ModelId": side.get("modelId"),
        "ModelVersion": side.get("modelVersion"),
        "SoftwareVersion": side.get("softwareVersion"),
        "Generator": side.get("generator"),
        "ResolutionMm": side.get("resolutionMm"),
        "Latents": side.get("latents"),
        "RegionalVolumesMl": volumes,
        "Pathology": side.get("pathology"),
        "IntendedUse": side.get("intendedUse"),
        "SpecSha256": spec.digest,
    }
    out = Path(job.out)
    folder = bids.anat_dir(out, pid)
    folder.mkdir(parents=True, exist_ok=True)
    files: list[dict[str, Any]] = []
    for kind, contrast, name, data in compressed:
        bids.atomic_write(folder / name, data)
        sidecar: dict[str, Any] = {"Description": f"synthetic {contrast}", "SkullStripped": False}
        if kind == "labels":
            sidecar = {"Description": "label map: FreeSurfer label values, pathology 700-799"}
        sidecar.update(common)
        side_bytes = bids.write_json(folder / name.replace(".nii.gz", ".json"), sidecar)
        rel = f"{pid}/anat/{name}"
        files.append(
            {"path": rel, "kind": kind, "contrast": contrast, "bytes": len(data)}
            | {"sha256": bids.sha256(data)}
        )
        files.append(
            {"path": rel.replace(".nii.gz", ".json"), "kind": "sidecar", "contrast": contrast}
            | {"bytes": len(side_bytes), "sha256": bids.sha256(side_bytes)}
        )
    t3 = time.perf_counter()
    conditions = common["Conditions"]
    lesion = sum(v for k, v in volumes.items() if k not in _region_names(job))
    row: dict[str, Any] = {
        "idx": index,
        "participant_id": pid,
        "seed": subj.seed,
        "age": float(conditions["age"]),
        "sex": str(conditions["sex"]),
        "pathology": str(conditions["pathology"]),
        "conditions": json.dumps(conditions),
        "pathology_details": json.dumps(side.get("pathology", {})),
        "icv_ml": volumes.get("icv"),
        "lesion_ml": round(float(lesion), 3),
        "bytes": sum(f["bytes"] for f in files),
        "generate_s": round(t1 - t0, 4),
        "compress_s": round(t2 - t1, 4),
        "write_s": round(t3 - t2, 4),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    row.update({bids.volume_column(k): v for k, v in volumes.items()})
    return {"row": row, "files": files}


def _region_names(job: Job) -> frozenset[str]:
    return _regions(job.models_dir, _spec(job).model)


@lru_cache(maxsize=8)
def _regions(models_dir: str, model: str) -> frozenset[str]:
    man = load_model_manifest(Path(models_dir), model)
    return frozenset({str(r["name"]) for r in man.get("regions", [])} | {"icv"})


# -- the driver ---------------------------------------------------------------------------------
class Dataset:
    """An output folder for one spec: prepare (or resume), run, finish."""

    def __init__(
        self,
        spec: Spec,
        out: Path,
        models_dir: Path,
        options: bids.WriteOptions | None = None,
        device: str | None = None,
    ) -> None:
        self.spec = spec
        self.out = Path(out)
        self.models_dir = Path(models_dir)
        self.model = load_model_manifest(self.models_dir, spec.model)
        self.job = Job(
            spec.raw,
            str(self.models_dir.resolve()),
            str(self.out.resolve()),
            options or bids.WriteOptions(),
            device,
        )
        self.manifest: Manifest | None = None
        self.qa_options: Any = None  # qa.QaOptions for the final report (None: defaults)

    @property
    def volume_columns(self) -> list[str]:
        names = [r["name"] for r in self.model.get("regions", [])] + ["icv"]
        names += [e["name"] for e in self.model.get("labels", []) if 700 <= e["value"] <= 799]
        return [bids.volume_column(n) for n in names]

    def estimated_bytes(self, subjects: int) -> int:
        image = IMAGE_BYTES_1MM / float(self.spec.resolution_mm) ** 3
        return int((image * len(self.spec.contrasts) + image / 2 + 20_000) * subjects)

    def prepare(self) -> Manifest:
        """Create or resume the folder: refuses another spec's folder; removes temporaries and
        unrecorded subjects' folders."""
        self.out.mkdir(parents=True, exist_ok=True)
        manifest = Manifest(self.out / bids.MANIFEST_FILE, self.volume_columns)
        digest = manifest.get_meta("spec_sha256")
        if digest is not None and digest != self.spec.digest:
            manifest.close()
            raise SpecError(
                [f"out: {self.out} holds another spec's dataset (sha256 {digest[:12]}...)"]
            )
        if digest is None:
            bids.write_top_level(
                self.out, self.spec.name, self.model, self.spec.raw, self.spec.digest
            )
            manifest.set_meta(
                spec_sha256=self.spec.digest,
                spec=json.dumps(self.spec.raw),
                model_id=str(self.model.get("id")),
                model_version=str(self.model.get("version")),
                created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                count=str(self.spec.count),
            )
        bids.remove_temporaries(self.out)
        done = manifest.done()
        for p in self.out.glob("sub-*"):
            label = p.name[4:]
            if p.is_dir() and label.isdigit() and int(label) - 1 not in done:
                shutil.rmtree(p)  # written but not recorded: made again
        self.manifest = manifest
        return manifest

    def todo(self) -> list[int]:
        assert self.manifest is not None
        done = self.manifest.done()
        return [i for i in range(self.spec.count) if i not in done]

    def check_quota(self, todo: int) -> None:
        if self.spec.quota_mb is None:
            return
        assert self.manifest is not None
        used = sum(int(f["bytes"]) for f in self.manifest.files())
        need = self.estimated_bytes(todo)
        if used + need > self.spec.quota_mb * MB:
            raise SpecError(
                [
                    f"quotaMb: {todo} more subjects need up to {need / MB:,.0f} MB; with the "
                    f"{used / MB:,.0f} MB written that exceeds the quota of "
                    f"{self.spec.quota_mb:,.0f} MB"
                ]
            )

    def check_space(self, todo: int, keep_free_mb: float = 500.0) -> None:
        free = shutil.disk_usage(self.out).free
        need = self.estimated_bytes(todo)
        if free - need < keep_free_mb * MB:
            raise OSError(
                28,
                f"not enough disk space for {todo} subjects: up to {need / MB:,.0f} MB needed, "
                f"{free / MB:,.0f} MB free, {keep_free_mb:,.0f} MB kept free",
            )

    def run(
        self,
        backend: str = "local",
        ray_address: str | None = None,
        workers: int | None = None,
        limit: int | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        keep_free_mb: float = 500.0,
    ) -> Progress:
        manifest = self.manifest or self.prepare()
        todo = self.todo()
        if limit is not None:
            todo = todo[:limit]
        self.check_quota(len(todo))
        self.check_space(len(todo), keep_free_mb)
        prog = Progress(manifest.count(), self.spec.count, time.time(), manifest.count())
        manifest.set_meta(state="running", pid=str(os.getpid()))
        report = on_progress or (lambda _p: None)
        report(prog)
        records = (
            _ray_records(self.job, todo, ray_address, workers)
            if backend == "ray"
            else (make_subject(self.job, i) for i in todo)
        )
        for rec in records:
            t = time.perf_counter()
            manifest.record(rec)
            prog.done = manifest.count()
            prog.message = f"{rec['row']['participant_id']} ({time.perf_counter() - t:.3f} s index)"
            manifest.set_meta(done=str(prog.done), rate_per_h=f"{prog.rate_per_h:.1f}")
            report(prog)
        if prog.done == self.spec.count:
            self.finish()
            manifest.set_meta(state="complete")
            prog.message = "complete"
        else:
            manifest.set_meta(state="partial")
        report(prog)
        return prog

    def finish(self) -> None:
        """participants.tsv from the manifest, then the QA report."""
        assert self.manifest is not None
        rows = self.manifest.subjects()
        columns = list(bids.PARTICIPANT_COLUMNS)
        columns += [bids.volume_column(r["name"]) for r in self.model.get("regions", [])]
        bids.write_participants(self.out, rows, columns)
        from brainsynth.datasets import qa

        try:
            qa.write_report(self.out, self.spec, self.model, rows, self.models_dir, self.qa_options)
        finally:  # written also when the report refuses the dataset (qa.Refused)
            self.manifest.set_meta(
                qa_report=f"{bids.QA_DIR}/report.html", qa_json=f"{bids.QA_DIR}/qa.json"
            )


def _ray_records(
    job: Job, todo: list[int], address: str | None, workers: int | None
) -> Iterator[dict[str, Any]]:
    """Subjects as Ray tasks (one GPU each when the cluster has GPUs, else one CPU), at most
    2 per worker in flight; records are yielded as they finish (any order)."""
    try:
        import ray
    except ImportError:
        raise RuntimeError("the ray backend needs `pip install 'brainsynth[ray]'`") from None
    started_here = not ray.is_initialized()
    if started_here:
        root = str(Path(__file__).resolve().parents[2])
        env = {"env_vars": {"PYTHONPATH": os.pathsep.join([root, *sys.path[1:]])}}
        if address:
            ray.init(address=address, runtime_env=env, log_to_driver=False)
        else:
            ray.init(
                num_cpus=workers or os.cpu_count() or 1,
                runtime_env=env,
                include_dashboard=False,
                log_to_driver=False,
            )
    try:
        gpus = int(ray.cluster_resources().get("GPU", 0))
        remote = ray.remote(num_gpus=1, num_cpus=1) if gpus else ray.remote(num_cpus=1)
        task = remote(make_subject)
        slots = max(1, gpus or int(ray.cluster_resources().get("CPU", 1)))
        job_ref = ray.put(job)
        pending: list[Any] = []
        queue = deque(todo)
        while queue or pending:
            while queue and len(pending) < 2 * slots:
                pending.append(task.remote(job_ref, queue.popleft()))
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                yield ray.get(ref)
    finally:
        if started_here:
            ray.shutdown()


def verify(out: Path) -> list[str]:
    """Problems of a dataset folder: missing, changed, extra, temporary or duplicated files."""
    out = Path(out)
    manifest = Manifest(out / bids.MANIFEST_FILE)
    try:
        problems = []
        recorded = manifest.files()
        paths = [f["path"] for f in recorded]
        if len(paths) != len(set(paths)):
            problems.append("duplicate file records")
        for f in recorded:
            p = out / f["path"]
            if not p.is_file():
                problems.append(f"missing: {f['path']}")
            elif p.stat().st_size != f["bytes"] or bids.file_sha256(p) != f["sha256"]:
                problems.append(f"checksum differs: {f['path']}")
        known = set(paths)
        for p in out.glob("sub-*/**/*"):
            rel = p.relative_to(out).as_posix()
            if p.is_file() and rel not in known:
                problems.append(f"not in the manifest: {rel}")
        count = manifest.get_meta("count")
        subjects = manifest.subjects()
        if count is not None and manifest.get_meta("state") == "complete":
            if len(subjects) != int(count):
                problems.append(f"{len(subjects)} subjects recorded, {count} asked")
            tsv = (out / "participants.tsv").read_text().splitlines()
            ids = [line.split("\t")[0] for line in tsv[1:]]
            if sorted(ids) != sorted(s["participant_id"] for s in subjects) or len(set(ids)) != len(
                ids
            ):
                problems.append("participants.tsv does not match the manifest")
        return problems
    finally:
        manifest.close()


def summary(out: Path) -> dict[str, Any]:
    manifest = Manifest(Path(out) / bids.MANIFEST_FILE)
    try:
        keys = ("state", "count", "done", "rate_per_h", "spec_sha256", "model_id", "created")
        info: dict[str, Any] = {k: manifest.get_meta(k) for k in keys}
        info["recorded"] = manifest.count()
        return info
    finally:
        manifest.close()
