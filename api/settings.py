"""The API's settings: one object, read from the environment (JOURNEYOPS_STORE, JOURNEYOPS_API_*)."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field

ENV_PREFIX = "JOURNEYOPS_API_"


class Settings(BaseModel):
    """Everything the API can be told; each field is $JOURNEYOPS_API_<NAME> (the store is $JOURNEYOPS_STORE)."""

    store_path: str | None = None
    max_body_bytes: int = Field(256 * 1024, gt=0)
    max_events: int = Field(500, gt=0)
    rate_per_s: float = Field(50.0, gt=0)
    rate_burst: int = Field(100, gt=0)
    champion_check_s: float = Field(1.0, ge=0)
    forecast_check_s: float = Field(1.0, ge=0)
    busy_retry_after_s: int = Field(5, gt=0)
    # Scoring is CPU-heavy (a few per second): at most this many at once, per token and overall.
    score_concurrency: int = Field(4, gt=0)
    score_concurrency_per_token: int = Field(2, gt=0)
    # Failed token attempts per client address: `auth_fail_burst` at once, then one per 1/rate s.
    auth_fail_rate_per_s: float = Field(0.2, gt=0)
    auth_fail_burst: int = Field(10, gt=0)
    # /docs, /redoc and /openapi.json (the schema is api/openapi.json in the repository).
    docs_enabled: bool = False
    # /metrics without a token (for a scraper inside a private network); by default it needs one.
    metrics_public: bool = False

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Settings from environment variables; unset ones keep their defaults."""
        env = dict(os.environ if environ is None else environ)
        values: dict[str, str] = {}
        for name in cls.model_fields:
            key = ENV_PREFIX + name.upper()
            if key in env:
                values[name] = env[key]
        if "store_path" not in values and env.get("JOURNEYOPS_STORE"):
            values["store_path"] = env["JOURNEYOPS_STORE"]
        return cls.model_validate(values)


@lru_cache
def get_default_settings() -> Settings:
    """The process's settings from its environment, read once."""
    return Settings.from_env()
