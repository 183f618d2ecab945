"""What the CLI tests share: `cmbot` run as a person runs it (see `commandline`) with its
database in a temporary folder, the article's case as answers, and the same answers as typed at
the prompts."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml
from commandline import environment, run

from cmbot.service import Desk
from cmbot.store.sessions import iter_sessions

# The article's own case: a CM placed in sales and paid by sales, asked for fans, conversions
# and the company's news, with no budget, little content, a little-known brand, reported on volume.
ARTICLE: dict[str, Any] = {
    "org_size": "medium",
    "departments": ["communication", "marketing", "web", "sales"],
    "proposed_host": "sales",
    "budget_owner": "host",
    "budget_amount": 0,
    "objectives": ["fans", "conversion", "company_news"],
    "reporting": "volume",
    "content": "little",
    "brand_reach": "niche",
    "collaboration": ["communication", "marketing", "web"],
    "dedicated_possible": "no",
}
ARTICLE_RISKS = {"quantitative_objectives", "budget_owner_pressure",
                 "no_budget_for_volume_targets", "unrealistic_audience_target",
                 "reporting_mismatch"}

# The same answers typed at the numbered prompts (options are numbered in the flow's order).
ARTICLE_KEYS = [
    "3",        # org_size: 50 to 249
    "1,2,3,4",  # departments: communication, marketing, web, sales
    "4",        # proposed_host: communication, marketing, web, [sales], management, undecided
    "1",        # budget_owner: host
    "0",        # budget_amount
    "1,2,3",    # objectives: fans, conversion, company_news
    "1",        # reporting: volume
    "2",        # content: little
    "3",        # brand_reach: niche
    "1,2,3",    # collaboration: communication, marketing, web
    "3",        # dedicated_possible: no
]


class Cli:
    def __init__(self, tmp_path: Path):
        self.dir = tmp_path
        self.db = tmp_path / "cmbot.json"

    def env(self, **extra: str | None) -> dict[str, str]:
        """No CMBOT_/SLACK_/locale settings but ours and `extra` (None removes one)."""
        return environment(self.db, **extra)

    def __call__(self, *args: str, stdin: str = "", **env: str | None) -> subprocess.CompletedProcess:
        return run(args, env=self.env(**env), cwd=self.dir, stdin=stdin)

    def answers_file(self, answers: dict[str, Any], name: str = "answers.yaml") -> Path:
        path = self.dir / name
        path.write_text(yaml.safe_dump(answers, allow_unicode=True), encoding="utf-8")
        return path

    def chat_json(self, answers: dict[str, Any], *extra: str, **env: str | None) -> dict[str, Any]:
        result = self("chat", "--answers", str(self.answers_file(answers)), "--json", *extra, **env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def history(self, **env: str | None) -> list[dict[str, Any]]:
        result = self("history", "--json", **env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def exported(self, consultation_id: str) -> dict[str, Any]:
        result = self("export", consultation_id, "--format", "json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def sessions_on_disk(self) -> dict[str, Any]:
        return {record["id"]: record for record in iter_sessions(self.db)}


def finish(desk: Desk, answers: dict[str, Any], **fields: Any) -> str:
    """A finished interview, archived as a consultation the way the front doors do it, in the
    test process (where what is tested is not the command that made it); its id."""
    interview = desk.interview("community_manager")
    session = interview.start(**fields)
    while not session.finished:
        question = interview.question(session)
        assert question is not None
        raw = "confirm" if question.kind == "confirm" else answers[question.id]
        assert interview.answer(session, raw, by=session.started_by).ok, question.id
    desk.save(session)
    return session.id


def typed(*lines: str) -> str:
    return "".join(line + "\n" for line in lines)


def saved_id(stdout: str) -> str:
    rows = [line for line in stdout.splitlines() if "cmbot show" in line]
    assert rows, stdout
    return rows[-1].split("cmbot show ")[1].strip("`. ")
