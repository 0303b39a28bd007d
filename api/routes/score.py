"""POST /v1/score: a journey so far, checked against the data contract and scored online with the
champion's own feature code.

Scoring is CPU-heavy (a few per second), so it holds one of a bounded number of slots (per token and
overall; 429 when none is free) and runs on threads of its own: the reads and /healthz never wait
behind it.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio
from fastapi import APIRouter, Request

from api.deps import ChampionsDep, ScorerDep, ScoringSlotsDep, SettingsDep
from api.schemas import ErrorOut, ScoreIn, ScoreOut, ValidationErrorOut
from core.scoring import serving

router = APIRouter(tags=["scoring"])


def to_journey(body: ScoreIn) -> serving.Journey:
    """The domain's journey from a request body."""
    attributes = body.order.model_dump(exclude={"order_id", "attrs"})
    events = [serving.JourneyEvent(e.stage, e.event_ts, e.event_id, e.attrs) for e in body.events]
    return serving.Journey(body.order.order_id, events, attributes, body.order.attrs)


def check_and_score(
    journey: serving.Journey, champions: serving.Champions, store_path: str | None, body: ScoreIn
) -> dict[str, Any]:
    """The journey checked against the data contract (JourneyContractError, 422), then scored."""
    serving.check_journey_contract(journey, store_path)
    return serving.score_journey(journey, champions, store_path, body.as_of)


def _scoring_threads(request: Request) -> anyio.CapacityLimiter:
    # Made on first use, inside the event loop; sized like the slots, apart from the default pool.
    threads = getattr(request.app.state, "scoring_threads", None)
    if threads is None:
        threads = request.app.state.scoring_threads = anyio.CapacityLimiter(request.app.state.scoring_slots.total)
    return threads


@router.post(
    "/v1/score",
    response_model=ScoreOut,
    responses={
        422: {"model": ValidationErrorOut, "description": "Invalid or unscorable journey (which field, why)"},
        429: {"model": ErrorOut, "description": "Too many requests or scorings for this token; see Retry-After"},
    },
)
async def post_score(
    request: Request,
    caller: ScorerDep,
    settings: SettingsDep,
    champions: ChampionsDep,
    slots: ScoringSlotsDep,
    body: ScoreIn,
) -> ScoreOut:
    """Forecast and stuck probability of a posted journey: the batch's answer for the same input."""
    if len(body.events) > settings.max_events:
        raise serving.NotScorableError(f"the journey has {len(body.events)} events; send at most {settings.max_events}")
    work = partial(check_and_score, to_journey(body), champions, settings.store_path, body)
    with slots.hold(caller.token_id):
        result = await anyio.to_thread.run_sync(work, limiter=_scoring_threads(request))
    return ScoreOut.model_validate(result)
