from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from core import store
from core.domain import CostAssumptions
from core.errors import ConfigError
from core.monitor import assumptions


def test_defaults_until_something_is_saved(store_file: Path):
    with store.connect(store_file):
        pass
    assert assumptions.load_assumptions(store_file) == CostAssumptions()
    assert assumptions.load_targets(store_file) == assumptions.BenefitTargets()
    assert assumptions.assumption_history("costs", store_file).empty


def test_save_keeps_history_and_loads_as_of(store_file: Path):
    first = assumptions.save_assumptions(
        {"contact_cost": 8.0}, actor="ana", reason="new call-centre contract", store_path=store_file
    )
    assert first == CostAssumptions(contact_cost=8.0)
    between = store.utcnow()
    time.sleep(0.01)
    second = assumptions.save_assumptions(
        {"sla_breach_cost": 20.0}, actor="ben", reason="penalty clause", store_path=store_file
    )
    # fields not given keep their current value
    assert second == CostAssumptions(contact_cost=8.0, sla_breach_cost=20.0)
    assert assumptions.load_assumptions(store_file) == second
    assert assumptions.load_assumptions(store_file, at=between) == first
    assert assumptions.load_assumptions(store_file, at=between - timedelta(days=1)) == CostAssumptions()
    history = assumptions.assumption_history("costs", store_file)
    assert list(history.drop_duplicates("revision")[["revision", "actor", "reason"]].itertuples(index=False)) == [
        (2, "ben", "penalty clause"),
        (1, "ana", "new call-centre contract"),
    ]
    # each revision holds every field
    assert len(history) == 2 * len(CostAssumptions.__dataclass_fields__)
    # a day means the end of that day
    assert assumptions.load_assumptions(store_file, at=date.today()) == second
    assert assumptions.load_assumptions(store_file, at=date.today().isoformat()) == second


def test_targets_can_be_cleared_and_are_separate_from_costs(store_file: Path):
    saved = assumptions.save_targets(
        assumptions.BenefitTargets(lead_time_h=36.0, triage_value_eur=None),
        actor="owner",
        reason="Q2 plan",
        store_path=store_file,
    )
    assert saved.lead_time_h == 36.0 and saved.triage_value_eur is None
    assert assumptions.load_targets(store_file) == saved
    assert assumptions.load_assumptions(store_file) == CostAssumptions()
    assert set(assumptions.assumption_history("targets", store_file)["revision"]) == {1}


def test_bad_input_is_refused_and_saves_nothing(store_file: Path):
    with pytest.raises(ConfigError, match="unknown costs field.*contact_price.*known: contact_cost"):
        assumptions.save_assumptions({"contact_price": 1.0}, actor="a", reason="r", store_path=store_file)
    with pytest.raises(ConfigError, match="must be a finite number >= 0"):
        assumptions.save_assumptions({"contact_cost": -1.0}, actor="a", reason="r", store_path=store_file)
    with pytest.raises(ConfigError, match="must be a number"):
        assumptions.save_assumptions({"contact_cost": "six"}, actor="a", reason="r", store_path=store_file)
    with pytest.raises(ConfigError, match="must be a number"):
        assumptions.save_assumptions({"contact_cost": None}, actor="a", reason="r", store_path=store_file)
    with pytest.raises(ConfigError, match="needs a reason"):
        assumptions.save_targets({"lead_time_h": 1.0}, actor="a", reason=" ", store_path=store_file)
    with pytest.raises(ConfigError, match="needs an actor"):
        assumptions.save_targets({"lead_time_h": 1.0}, actor="", reason="r", store_path=store_file)
    with pytest.raises(ConfigError, match="unknown kind"):
        assumptions.assumption_history("prices", store_file)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="cannot read 'soon' as a date"):
        assumptions.load_assumptions(store_file, at="soon")
    # every check runs before the store is even opened
    assert not store_file.exists()


def test_a_store_from_before_the_table_reads_defaults(store_file: Path):
    # an older store opened read-only is never migrated: no history table at all
    duckdb.connect(str(store_file)).close()
    assert assumptions.load_assumptions(store_file, at=datetime(2026, 1, 1)) == CostAssumptions()
    assert assumptions.assumption_history("targets", store_file).empty


def test_assumptions_cli(store_file: Path, capsys: pytest.CaptureFixture[str]):
    import json

    from core.cli import main

    store_arg = ["--store", str(store_file)]
    assert main(["init", *store_arg]) == 0
    assert (
        main(["assumptions", "set", "contact_cost=7.5", "--reason", "new contract", "--actor", "ana", *store_arg]) == 0
    )
    capsys.readouterr()
    assert main(["assumptions", "show", "--json", *store_arg]) == 0
    assert json.loads(capsys.readouterr().out)["contact_cost"] == 7.5
    assert main(["assumptions", "set", "lead_time_h=none", "--targets", "--reason", "no target", *store_arg]) == 0
    capsys.readouterr()
    assert main(["assumptions", "show", "--targets", "--json", *store_arg]) == 0
    assert json.loads(capsys.readouterr().out)["lead_time_h"] is None
    assert main(["assumptions", "show", "--history", *store_arg]) == 0
    assert "new contract" in capsys.readouterr().out
    assert main(["assumptions", "show", "--at", "2020-01-01", "--json", *store_arg]) == 0
    assert json.loads(capsys.readouterr().out)["contact_cost"] == CostAssumptions().contact_cost
    # errors: one line, non-zero
    assert main(["assumptions", "set", "contact_cost=8", *store_arg]) == 2
    assert "needs a reason" in capsys.readouterr().err
    assert main(["assumptions", "set", "contact_cost", "--reason", "r", *store_arg]) == 2
    assert "write fields as NAME=VALUE" in capsys.readouterr().err
    assert main(["assumptions", "set", "--reason", "r", *store_arg]) == 2
    assert "at least one NAME=VALUE" in capsys.readouterr().err
