"""The typed report and its JSON: what `--json` and `cmbot export --format json` print reads back
into the same `Report`, for a single consultation, a re-run and a panel, in both languages."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from cmbot.report import Report
from cmbot.service import Desk
from cmbot.store import Store
from cmbot.terminal.chat import run_answers
from cmbot.terminal.panel import run_panel

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PANEL = [EXAMPLES / f"panel-{name}.yaml" for name in ("sales", "communication", "management")]


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    return Desk(Store(tmp_path_factory.mktemp("report") / "db"))


def reports(desk: Desk, lang: str) -> dict[str, Report]:
    article = run_answers(desk, "community_manager", lang, EXAMPLES / "article-case.yaml")
    household = run_answers(desk, "community_manager", lang, EXAMPLES / "household-brand.yaml")
    rerun = dataclasses.replace(desk.consultation(household.consultation_id),
                                parent_id=article.consultation_id)
    return {"article": article, "free text": run_answers(desk, "community_manager", lang,
                                                         EXAMPLES / "only-other-resellers.yaml"),
            "review": run_answers(desk, "objectives_review", lang, EXAMPLES / "review-sales.yaml"),
            "rerun": desk.report(rerun, lang), "panel": run_panel(desk, "community_manager", lang, PANEL)}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_json_reads_back_into_the_same_report(desk, lang):
    for name, report in reports(desk, lang).items():
        printed = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
        again = Report.from_dict(printed)
        assert again.to_dict() == printed, name
        assert again.advice == report.advice, name
        assert again.changes == report.changes, name


def test_the_json_keeps_the_contract_keys_in_their_order(desk):
    found = reports(desk, "en")
    assert list(found["article"].to_dict()) == [
        "consultation_id", "flow", "flow_version", "lang", "answers", "answered_by", "started_by",
        "where", "parent_id", "created_at", "finished_at", "placement", "placement_label",
        "placement_line", "placement_why", "placement_score", "runner_up", "runner_up_label",
        "runner_up_line", "runner_up_score", "tie", "tie_text", "budget", "scores", "risks",
        "risk_details", "reframed", "evidence"]
    assert list(found["rerun"].to_dict())[-1] == "changes"
    panel = found["panel"].to_dict()
    assert list(panel)[-1] == "panel"
    # The contract's risk ids: the advisor's, then the panel's disagreements.
    assert panel["risks"] == [r["id"] for r in panel["risk_details"]] + [
        d["id"] for d in panel["panel"]["disagreements"]]
    # An objective typed in free text says how it was read; a listed one does not.
    other = found["free text"].to_dict()["reframed"]
    assert {"theme", "quantitative"} <= set(other[0])
    assert "theme" not in found["article"].to_dict()["reframed"][0]


def test_a_report_printed_by_an_earlier_cmbot_still_reads(desk):
    """Before survey figures and tie texts, the JSON had no `evidence`, `tie` or `tie_text`."""
    printed = reports(desk, "en")["article"].to_dict()
    for key in ("evidence", "tie", "tie_text"):
        printed.pop(key)
    report = Report.from_dict(printed)
    assert report.advice.evidence == () and report.advice.placement.tie_text is None
    assert report.advice.placement.line == printed["placement_line"]
