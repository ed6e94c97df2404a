"""Server settings: defaults, environment (`BRAINSYNTH_*`) and limits, in one pydantic model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The contrast and pathology lists come from conditions.schema.json (brainsynth.schema).
from brainsynth.schema import CONTRASTS as CONTRASTS
from brainsynth.schema import PATHOLOGIES as PATHOLOGIES

RESOLUTIONS_MM = (1, 2)
MODEL_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
SEED_MAX = 2**32 - 1
DEFAULT_CORS = "http://127.0.0.1:5173,http://127.0.0.1:4173,http://localhost:5173"


def _split(value: Any) -> Any:
    """Comma-separated environment strings become lists ("a,b" -> ["a", "b"])."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


class Settings(BaseSettings):
    """Every knob of the server. Environment variables are the field names in upper case with
    the prefix `BRAINSYNTH_` (e.g. `BRAINSYNTH_API_TOKEN`, `BRAINSYNTH_MAX_QUEUED_JOBS`);
    lists are comma-separated."""

    model_config = SettingsConfigDict(env_prefix="BRAINSYNTH_", extra="ignore")

    models_dir: Path = Field(default=Path("public/models"), description="folder of model folders")
    data_dir: Path = Field(
        default=Path(".brainsynth-data"), description="jobs database and outputs"
    )
    api_token: SecretStr | None = Field(default=None, description="bearer token; none = open API")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: _split(DEFAULT_CORS)
    )

    max_queued_jobs: int = Field(default=16, ge=1, le=10_000)
    max_running_jobs: int = Field(default=1, ge=1, le=64, description="worker processes (1 on CPU)")
    max_batch_count: int = Field(default=64, ge=1, le=10_000)
    allowed_resolutions_mm: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: list(RESOLUTIONS_MM)
    )
    allowed_contrasts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(CONTRASTS)
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_attempts: int = Field(default=3, ge=1, description="starts of a job interrupted by a crash")
    job_timeout_s: float = Field(default=3600.0, gt=0, description="wall-clock limit per job")
    max_event_streams: int = Field(default=64, ge=1, description="concurrent SSE connections")
    retain_jobs: int = Field(default=1000, ge=10, description="finished jobs kept (oldest pruned)")
    min_free_mb: float = Field(
        default=500.0,
        ge=0,
        description="free disk space (MB) kept beyond every accepted job's estimated size",
    )
    disk_quota_mb: float | None = Field(
        default=None,
        gt=0,
        description="most MB the data folder (jobs + datasets) may hold; none = no quota",
    )
    max_dataset_subjects: int = Field(
        default=100_000, ge=1, le=10_000_000, description="subjects per ordered dataset"
    )
    generator: str = Field(
        default="brainsynth.server.generation:teacher",
        description="'module:attribute' of the generator the worker processes load",
    )

    @field_validator("cors_origins", "allowed_contrasts", mode="before")
    @classmethod
    def _split_str(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("allowed_resolutions_mm", mode="before")
    @classmethod
    def _split_int(cls, value: Any) -> Any:
        return [int(v) for v in _split(value)] if isinstance(value, str) else value

    @field_validator("allowed_resolutions_mm")
    @classmethod
    def _known_resolutions(cls, value: list[int]) -> list[int]:
        bad = [v for v in value if v not in RESOLUTIONS_MM]
        if bad or not value:
            raise ValueError(f"resolutions must be a non-empty subset of {RESOLUTIONS_MM}")
        return sorted(set(value))

    @field_validator("allowed_contrasts")
    @classmethod
    def _known_contrasts(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if v not in CONTRASTS]
        if bad or not value:
            raise ValueError(f"contrasts must be a non-empty subset of {CONTRASTS}")
        return [c for c in CONTRASTS if c in value]

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    @property
    def datasets_dir(self) -> Path:
        return self.data_dir / "datasets"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "jobs.sqlite3"
