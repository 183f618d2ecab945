"""The listings of consultations — `cmbot history` (and `--json`), Slack's `/cmbot history` and
the App Home's recent consultations — from one archive of known consultations: what each prints
is pinned whole, so typing the rows (`Summary`) or moving them between layers cannot change a
byte of it; and every storage engine lists the same typed rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from clitools import Cli

from cmbot.consultation import Consultation
from cmbot.interview import Where
from cmbot.service import Desk
from cmbot.slack.conversation import Conductor
from cmbot.slack.history import history_blocks
from cmbot.slack.listeners.home import home_view
from cmbot.store import Store
from cmbot.store.engines import open_storage
from cmbot.summary import Summary

USER = "U1"


def made(cid: str, finished: str, where: Where, placement: str, by: str = USER,
         lang: str = "en", parent_id: str | None = None) -> Consultation:
    return Consultation(id=cid, flow_id="community_manager", flow_version=3, lang=lang,
                        answers={"org_size": "medium"}, answered_by={"org_size": by},
                        recommendation={"placement": placement, "scores": []}, started_by=by,
                        where=where, parent_id=parent_id, created_at=finished,
                        finished_at=finished)


# Newest first: the order every listing shows.
KNOWN = [
    made("c5", "2026-03-05T10:00:00+00:00", Where.in_channel("C2", "1712345678.000100"),
         "dedicated", by="U2"),
    made("c4", "2026-03-04T10:00:00+00:00", Where.dm("D1").with_panel(["U1", "U3"]), "management"),
    made("c3", "2026-03-03T10:00:00+00:00", Where.in_channel("C1", "1712345678.000200"),
         "marketing", lang="fr", parent_id="c1"),
    made("c2", "2026-03-02T10:00:00+00:00", Where.terminal(), "communication", by="local"),
    made("c1", "2026-03-01T10:00:00+00:00", Where.dm("D1"), "sales"),
]
# A record another program wrote: no `where`, nobody started it, no placement.
FOREIGN = {"id": "c0", "flow_id": "community_manager", "lang": "en",
           "finished_at": "2026-02-28T10:00:00+00:00", "answers": {}, "recommendation": {}}


def seed(storage: Any) -> None:
    desk = Desk(storage)
    for consultation in KNOWN:
        desk.add(consultation)
    storage.add_consultation(dict(FOREIGN))


@pytest.fixture
def archive(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path)
    store = Store(cli.db)
    seed(store)
    store.close()
    return cli


HISTORY_JSON = """\
[
  {
    "consultation_id": "c5",
    "flow": "community_manager",
    "lang": "en",
    "started_by": "U2",
    "where": {
      "kind": "channel",
      "channel": "C2",
      "thread_ts": "1712345678.000100"
    },
    "finished_at": "2026-03-05T10:00:00+00:00",
    "placement": "dedicated"
  },
  {
    "consultation_id": "c4",
    "flow": "community_manager",
    "lang": "en",
    "started_by": "U1",
    "where": {
      "kind": "dm",
      "channel": "D1",
      "panel": [
        "U1",
        "U3"
      ]
    },
    "finished_at": "2026-03-04T10:00:00+00:00",
    "placement": "management"
  },
  {
    "consultation_id": "c3",
    "flow": "community_manager",
    "lang": "fr",
    "started_by": "U1",
    "where": {
      "kind": "channel",
      "channel": "C1",
      "thread_ts": "1712345678.000200"
    },
    "finished_at": "2026-03-03T10:00:00+00:00",
    "placement": "marketing"
  },
  {
    "consultation_id": "c2",
    "flow": "community_manager",
    "lang": "en",
    "started_by": "local",
    "where": {
      "kind": "terminal"
    },
    "finished_at": "2026-03-02T10:00:00+00:00",
    "placement": "communication"
  },
  {
    "consultation_id": "c1",
    "flow": "community_manager",
    "lang": "en",
    "started_by": "U1",
    "where": {
      "kind": "dm",
      "channel": "D1"
    },
    "finished_at": "2026-03-01T10:00:00+00:00",
    "placement": "sales"
  },
  {
    "consultation_id": "c0",
    "flow": "community_manager",
    "lang": "en",
    "started_by": null,
    "where": {},
    "finished_at": "2026-02-28T10:00:00+00:00",
    "placement": null
  }
]
"""


def test_history_json_prints_every_row_in_the_same_shape(archive):
    result = archive("history", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stdout == HISTORY_JSON


# rich pads every line to the width: compared without the padding.
HISTORY_TABLE = """\
                                        Consultations
ID  Date              Who    Where                       Placement           Flow
c5  2026-03-05 10:00  U2     channel C2                  A unit of its own   community_manager
c4  2026-03-04 10:00  U1     direct message, panel of 2  General management  community_manager
c3  2026-03-03 10:00  U1     channel C1                  Marketing           community_manager
c2  2026-03-02 10:00  local  terminal                    Communication       community_manager
c1  2026-03-01 10:00  U1     direct message              Sales               community_manager
c0  2026-02-28 10:00         terminal                                        community_manager
"""


def test_history_in_words_shows_every_row_even_one_that_never_said_who(archive):
    result = archive("history", COLUMNS="100")
    assert result.returncode == 0, result.stderr
    assert [line.rstrip() for line in result.stdout.splitlines()] == HISTORY_TABLE.splitlines()


class Members:
    """Slack's `conversations.members`, the one Web API method a listing calls: `USER` is a
    member of C1 and C2 (so sees the channel consultations there), nobody of anything else."""

    def conversations_members(self, channel: str, **_: Any) -> dict[str, Any]:
        return {"ok": True, "members": [USER] if channel in ("C1", "C2") else []}


@pytest.fixture
def conductor(tmp_path: Path):
    store = Store(tmp_path / "cmbot.json")
    seed(store)
    desk = Desk(store)
    yield Conductor(desk, Members(), "en")  # type: ignore[arg-type]
    store.close()


def lines(blocks: list[dict[str, Any]]) -> list[str]:
    """The text of each block (a button: its label, action id and value), in order."""
    found = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        for element in block.get("elements") or []:
            found.append(element["text"] if block["type"] == "context"
                         else f"[{element['text']['text']}: {element['action_id']}={element['value']}]")
    return found


HISTORY_EN = [
    "*Your consultations*",
    "`c5` · 2026-03-05 · <@U2> · <#C2> · *A unit of its own* · community_manager\n"
    "`c4` · 2026-03-04 · <@U1> · DM · *General management* · community_manager\n"
    "`c3` · 2026-03-03 · <@U1> · <#C1> · *Marketing* · community_manager\n"
    "`c1` · 2026-03-01 · <@U1> · DM · *Sales* · community_manager",
]


def test_slack_history_lists_what_the_person_may_see(conductor):
    conductor.set_lang(USER, "en")
    blocks = history_blocks(conductor, conductor.client, USER, 0)
    assert blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": HISTORY_EN[0]}},
                      {"type": "section", "text": {"type": "mrkdwn", "text": HISTORY_EN[1]}}]
    conductor.set_lang(USER, "fr")
    assert lines(history_blocks(conductor, conductor.client, USER, 0)) == [
        "*Vos consultations*",
        "`c5` · 2026-03-05 · <@U2> · <#C2> · *Une entité à part entière* · community_manager\n"
        "`c4` · 2026-03-04 · <@U1> · message direct · *La direction générale* · community_manager\n"
        "`c3` · 2026-03-03 · <@U1> · <#C1> · *Le marketing* · community_manager\n"
        "`c1` · 2026-03-01 · <@U1> · message direct · *Le service commercial* · community_manager"]


def test_slack_history_pages(conductor, monkeypatch):
    conductor.set_lang(USER, "en")
    monkeypatch.setattr("cmbot.slack.history.PAGE", 3)
    first = history_blocks(conductor, conductor.client, USER, 0)
    assert lines(first) == [HISTORY_EN[0], "\n".join(HISTORY_EN[1].split("\n")[:3]),
                            "[More: cmbot_history_more=3]"]
    assert first[-1]["block_id"] == "cmbot_history"
    last = [HISTORY_EN[0], HISTORY_EN[1].split("\n")[3]]
    assert lines(history_blocks(conductor, conductor.client, USER, 3)) == last
    assert lines(history_blocks(conductor, conductor.client, USER, 10**6)) == last  # clamped
    conductor.set_lang("U9", "en")  # a member of no channel, who started nothing
    assert lines(history_blocks(conductor, conductor.client, "U9", 0)) == [
        "No consultation yet. Start one with `/cmbot start`."]


def test_app_home_lists_the_recent_consultations_the_person_started(conductor):
    conductor.set_lang(USER, "en")
    view = home_view(conductor, USER)
    recent = view["blocks"][view["blocks"].index(
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Your recent consultations*"}}) + 1:]
    assert recent == [{"type": "section", "text": {"type": "mrkdwn", "text": text}} for text in (
        "`c4` · 2026-03-04 · *General management*", "`c3` · 2026-03-03 · *Marketing*",
        "`c1` · 2026-03-01 · *Sales*")]
    conductor.set_lang(USER, "fr")
    assert lines(home_view(conductor, USER)["blocks"])[-3:] == [
        "`c4` · 2026-03-04 · *La direction générale*", "`c3` · 2026-03-03 · *Le marketing*",
        "`c1` · 2026-03-01 · *Le service commercial*"]
    conductor.set_lang("U9", "en")
    assert lines(home_view(conductor, "U9")["blocks"])[-2:] == ["*Your recent consultations*",
                                                                "Nothing yet."]


# --- every engine lists the same typed rows ---------------------------------------------------


@pytest.fixture(params=["tinydb", "postgresql", "memory"])
def engine_desk(request: pytest.FixtureRequest, tmp_path: Path):
    url = {"tinydb": lambda: str(tmp_path / "cmbot.json"), "memory": lambda: "memory://",
           "postgresql": lambda: request.getfixturevalue("pg_url")}[request.param]()
    storage = open_storage(url)
    seed(storage)
    yield Desk(storage)
    storage.close()


def test_every_engine_lists_the_same_typed_summaries(engine_desk):
    rows = engine_desk.consultations()
    assert all(isinstance(row, Summary) for row in rows)
    assert rows == [Summary(c.id, c.flow_id, c.lang, c.started_by, c.where, c.finished_at,
                            c.placement) for c in KNOWN] + [
        Summary("c0", "community_manager", "en", None, Where(), "2026-02-28T10:00:00+00:00", None)]
    assert rows[1].where.panel == ("U1", "U3") and rows[2].where.thread_ts == "1712345678.000200"


def test_every_engine_pages_the_typed_listing_of_one_person(engine_desk):
    listing = engine_desk.consultations_for(USER, lambda channel: channel == "C2")
    assert len(listing) == 4
    assert [row.id for row in listing] == ["c5", "c4", "c3", "c1"]  # c3: U1's, in C1
    assert listing[2:] == [Summary.from_record(engine_desk.store.get_consultation(cid))
                           for cid in ("c3", "c1")]
    assert listing[-1].placement == "sales" and listing[0].started_by == "U2"
    assert listing[::2] == [listing[0], listing[2]]
    with pytest.raises(IndexError):
        listing[4]
    assert engine_desk.consultations_for("nobody")[:10] == []
