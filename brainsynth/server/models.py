"""Request and response schemas of the HTTP API (pydantic v2). These are also the OpenAPI
document at /openapi.json; `main.py` narrows the limits there to the configured ones."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from brainsynth.server.config import CONTRASTS, MODEL_ID_PATTERN, SEED_MAX

if TYPE_CHECKING:
    Contrast = str
else:  # the contrast enum of conditions.schema.json, as a Literal (same OpenAPI as written out)
    Contrast = Literal[CONTRASTS]
JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
TERMINAL_STATES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
BATCH_HARD_MAX = 10_000


class _Out(BaseModel):
    model_config = ConfigDict(protected_namespaces=())


class ErrorItem(_Out):
    loc: list[str | int] = Field(description="where: ['body', 'conditions', 'age'], ...")
    msg: str
    type: str


class ErrorResponse(_Out):
    detail: str | list[ErrorItem] = Field(description="a sentence, or one item per reason (422)")


class Health(_Out):
    status: Literal["ok"]
    version: str
    device: str = Field(description="'cpu' or the CUDA device name")
    queue_depth: int = Field(description="jobs waiting")
    running: int = Field(description="jobs being generated")
    max_running: int
    models: int = Field(description="usable model folders")
    uptime_s: float


class Ready(_Out):
    ready: bool
    checks: dict[str, str]


class ModelSummary(_Out):
    id: str
    version: str
    kind: str
    description: str
    resolutions_mm: list[int] = Field(description="resolutions this model can generate")
    contrasts: list[str]


class SkippedModel(_Out):
    id: str
    reason: str


class ModelList(_Out):
    models: list[ModelSummary]
    skipped: list[SkippedModel] = Field(description="folders whose manifest is unusable")


class ModelDetail(ModelSummary):
    format: str | None = None
    created: str | None = None
    software_version: str | None = None
    intended_use: str | None = None
    grid: dict[str, Any] | None = None
    labels: int = Field(description="entries of the label table")
    conditions_schema: dict[str, Any] = Field(
        alias="conditionsSchema",
        serialization_alias="conditionsSchema",
        description="JSON Schema of the conditions (what the browser's controls are built from)",
    )

    model_config = ConfigDict(populate_by_name=True, protected_namespaces=())


class JobRequest(BaseModel):
    """One generation job: `count` volumes with seeds seed, seed+1, ..., seed+count-1."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,  # no coercion: `"seed": false` or `"count": "2"` are errors, not 0 and 2
        protected_namespaces=(),
        json_schema_extra={
            "examples": [
                {
                    "model_id": "brainsynth-shape-v1",
                    "conditions": {
                        "age": 60,
                        "sex": "female",
                        "pathology": "none",
                        "contrast": "T1w",
                    },
                    "seed": 42,
                    "resolution_mm": 2,
                    "contrasts": ["T1w", "FLAIR"],
                    "count": 1,
                }
            ]
        },
    )

    model_id: str = Field(pattern=MODEL_ID_PATTERN, max_length=64)
    conditions: dict[str, Any] = Field(
        description="validated against the model's conditionsSchema (rejected, never clamped)"
    )
    seed: int = Field(default=0, ge=0, le=SEED_MAX)
    resolution_mm: Literal[1, 2] = 2
    contrasts: list[Contrast] | None = Field(
        default=None,
        min_length=1,
        max_length=len(CONTRASTS),
        json_schema_extra={"uniqueItems": True},
        description="distinct contrasts to render; default: [conditions.contrast]",
    )
    count: int = Field(default=1, ge=1, le=BATCH_HARD_MAX, description="volumes in this job")

    @field_validator("resolution_mm", mode="before")
    @classmethod
    def _not_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):  # True == 1 would pass the literal check
            raise ValueError("resolution_mm must be the number 1 or 2")
        return value

    @field_validator("contrasts")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("contrasts must not repeat")
        return value


class ResultFile(_Out):
    name: str
    size: int = Field(description="bytes")
    seed: int
    kind: Literal["image", "labels", "sidecar", "other"]
    contrast: str | None = None
    url: str = Field(description="download URL (relative to the API's origin)")


class JobParameters(_Out):
    model_id: str
    conditions: dict[str, Any]
    seed: int
    resolution_mm: int
    contrasts: list[str]
    count: int


class JobStatus(_Out):
    id: str
    state: JobState
    progress: float = Field(ge=0, le=1)
    message: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int = Field(description="times a worker started it (restarts resume it)")
    queue_position: int | None = Field(default=None, description="1 = next; only while queued")
    request: JobParameters
    results: list[ResultFile]
    url: str
    events_url: str


class JobList(_Out):
    jobs: list[JobStatus]
    total: int
    limit: int
    offset: int


DatasetState = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class DatasetStatus(_Out):
    id: str
    state: DatasetState
    message: str
    count: int = Field(description="subjects asked")
    done: int = Field(description="subjects finished (recorded in the manifest)")
    progress: float = Field(ge=0, le=1)
    rate_per_h: float | None = Field(description="subjects per hour of the current run")
    eta_s: float | None = Field(description="seconds left at the current rate")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    estimated_bytes: int = Field(description="upper bound of the disk space it needs")
    spec: dict[str, Any] = Field(description="the spec, defaults filled")
    url: str
    events_url: str
    subjects_url: str
    qa_report_url: str | None


class DatasetList(_Out):
    datasets: list[DatasetStatus]


class SubjectPage(_Out):
    subjects: list[dict[str, Any]] = Field(description="manifest rows: covariates, volumes")
    total: int
    limit: int
    offset: int
