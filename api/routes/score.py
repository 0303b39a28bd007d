"""POST /v1/score: a journey so far, scored online with the champion's own feature code."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ChampionsDep, ScorerDep, SettingsDep
from api.schemas import ScoreIn, ScoreOut, ValidationErrorOut
from core.scoring import serving

router = APIRouter(tags=["scoring"])


def to_journey(body: ScoreIn) -> serving.Journey:
    """The domain's journey from a request body."""
    attributes = body.order.model_dump(exclude={"order_id", "attrs"})
    events = [serving.JourneyEvent(e.stage, e.event_ts, e.event_id, e.attrs) for e in body.events]
    return serving.Journey(body.order.order_id, events, attributes, body.order.attrs)


@router.post(
    "/v1/score",
    response_model=ScoreOut,
    responses={422: {"model": ValidationErrorOut, "description": "Invalid or unscorable journey (which field, why)"}},
)
def post_score(_: ScorerDep, settings: SettingsDep, champions: ChampionsDep, body: ScoreIn) -> ScoreOut:
    """Forecast and stuck probability of a posted journey: the batch's answer for the same input."""
    if len(body.events) > settings.max_events:
        raise serving.NotScorableError(f"the journey has {len(body.events)} events; send at most {settings.max_events}")
    result = serving.score_journey(to_journey(body), champions, settings.store_path, body.as_of)
    return ScoreOut.model_validate(result)
