"""The interview engine: walking the built-in flow, branching, navigation, editing from the
confirm step, who answered, saving and resuming, and one shared machine for every session."""

from __future__ import annotations

import json
import random
import threading
from typing import Any

import pytest
from begun import begun

from cmbot.consultation import conclude
from cmbot.interview import CANCELLED, DONE, Interview, Session, Where, load_flows

FLOW = load_flows()["community_manager"]
IV = Interview(FLOW)  # built once, like the Desk does, and shared by every test below

ARTICLE = {
    "org_size": "medium",
    "departments": ["communication", "marketing", "web", "sales"],
    "proposed_host": "sales",
    "budget_owner": "host",
    "budget_amount": "0",
    "objectives": ["fans", "conversion", "company_news"],
    "reporting": "volume",
    "content": "little",
    "brand_reach": "niche",
    "collaboration": ["communication", "marketing", "web"],
    "dedicated_possible": "no",
}
WITHOUT_BRANCHES = [
    "org_size", "departments", "proposed_host", "budget_owner", "budget_amount", "objectives",
    "reporting", "content", "brand_reach", "collaboration", "dedicated_possible",
]


def walk(session: Session, answers: dict[str, Any], by: str = "local",
         stop_at: str | None = None) -> list[str]:
    """Answer each question from `answers` until the confirm step (or `stop_at`)."""
    asked = []
    while session.state not in (IV.confirm_state, stop_at):
        state = session.state
        asked.append(state)
        step = IV.answer(session, answers[state], by=by)
        assert step.ok, (state, step.problem)
        assert session.state != state, f"stayed on {state}"
    return asked


def summary_ids(session: Session) -> list[str]:
    return [q.id for q, _ in IV.summary(session)]


def test_full_walk_to_done():
    session = IV.start(lang="en")
    assert session.state == "org_size"
    assert walk(session, ARTICLE) == WITHOUT_BRANCHES
    assert session.state == "confirm"
    assert summary_ids(session) == WITHOUT_BRANCHES
    step = IV.answer(session, "confirm")
    assert step.ok
    assert session.state == DONE
    assert session.finished
    assert session.values() == {**ARTICLE, "budget_amount": 0}
    assert IV.question(session) is None


def test_a_refused_answer_changes_nothing():
    session = IV.start()
    walk(session, ARTICLE, stop_at="budget_amount")
    before = session.to_dict()
    step = IV.answer(session, "a lot")
    assert not step.ok
    assert step.problem.key == "answer.number_invalid"
    assert session.state == "budget_amount"
    after = session.to_dict()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"}


# --- branching -------------------------------------------------------------------------------


def test_objectives_other_is_asked_only_after_other():
    with_other = {**ARTICLE, "objectives": ["fans", "other"], "objectives_other": "Train partners"}
    session = IV.start()
    asked = walk(session, with_other)
    assert asked.index("objectives_other") == asked.index("objectives") + 1
    assert session.values()["objectives_other"] == "Train partners"

    session = IV.start()
    asked = walk(session, {**ARTICLE, "objectives": ["fans", "awareness"]})
    assert "objectives_other" not in asked


@pytest.mark.parametrize("owner", ["host", "management", "shared", "dedicated", "unknown"])
def test_budget_amount_is_skipped_only_when_the_budget_owner_is_unknown(owner):
    session = IV.start()
    walk(session, ARTICLE, stop_at="budget_owner")
    IV.answer(session, owner)
    assert session.state == ("objectives" if owner == "unknown" else "budget_amount")


def test_options_depend_on_the_departments_picked():
    session = IV.start()
    walk(session, {**ARTICLE, "departments": ["sales", "web", "hr"]}, stop_at="proposed_host")
    question = IV.question(session)
    offered = [o.id for o in FLOW.options(question, session.values())]
    assert offered == ["web", "sales", "hr", "management", "undecided"]
    refused = IV.answer(session, "marketing")
    assert not refused.ok
    assert refused.problem.key == "answer.choice_unknown"
    assert session.state == "proposed_host"

    walk(session, {**ARTICLE, "proposed_host": "hr"}, stop_at="collaboration")
    question = IV.question(session)
    assert [o.id for o in FLOW.options(question, session.values())] == ["web", "sales", "hr"]
    assert not IV.answer(session, ["marketing"]).ok
    assert IV.answer(session, []).ok  # may be left empty
    assert session.state == "dedicated_possible"
    assert session.values()["collaboration"] == []


# --- back, restart, cancel -------------------------------------------------------------------


def test_back_returns_to_the_previous_question_and_keeps_its_answer():
    session = IV.start()
    walk(session, ARTICLE, stop_at="budget_owner")
    assert IV.back(session).ok
    assert session.state == "proposed_host"
    assert session.values()["proposed_host"] == "sales"  # offered again as the default
    assert IV.back(session).ok
    assert IV.back(session).ok
    assert session.state == "org_size"
    refused = IV.back(session)
    assert not refused.ok
    assert refused.problem.key == "nav.at_first"
    assert session.state == "org_size"


def test_back_follows_the_branch_actually_taken():
    answers = {**ARTICLE, "budget_owner": "unknown", "objectives": ["other"],
               "objectives_other": "Train partners"}
    session = IV.start()
    walk(session, answers, stop_at="content")
    IV.back(session)
    assert session.state == "reporting"
    IV.back(session)
    assert session.state == "objectives_other"
    IV.back(session)
    IV.back(session)
    assert session.state == "budget_owner"  # budget_amount was never asked


def test_back_from_confirm_and_answer_again():
    session = IV.start()
    walk(session, ARTICLE)
    IV.back(session)
    assert session.state == "dedicated_possible"
    IV.answer(session, "yes")
    assert session.state == "confirm"
    assert session.values()["dedicated_possible"] == "yes"


def test_restart_forgets_everything():
    session = IV.start()
    walk(session, ARTICLE, stop_at="reporting")
    assert IV.restart(session).ok
    assert session.state == "org_size"
    assert session.values() == {}
    assert not IV.back(session).ok
    assert walk(session, ARTICLE) == WITHOUT_BRANCHES


def test_cancel_ends_the_interview():
    session = IV.start()
    walk(session, ARTICLE, stop_at="objectives")
    assert IV.cancel(session).ok
    assert session.state == CANCELLED
    assert session.finished
    for step in (IV.answer(session, ["fans"]), IV.back(session), IV.cancel(session)):
        assert not step.ok
        assert step.problem.key == "answer.finished"
    assert session.state == CANCELLED


def test_answers_after_done_are_refused():
    session = IV.start()
    walk(session, ARTICLE)
    IV.answer(session, "confirm")
    step = IV.answer(session, "medium")
    assert not step.ok
    assert step.problem.key == "answer.finished"
    assert session.state == DONE


# --- edit from the confirm step --------------------------------------------------------------


def at_confirm(answers: dict[str, Any] | None = None) -> Session:
    session = IV.start()
    walk(session, answers or ARTICLE)
    return session


def test_edit_is_only_offered_at_confirm():
    session = IV.start()
    walk(session, ARTICLE, stop_at="reporting")
    refused = IV.edit(session, "org_size")
    assert not refused.ok
    assert refused.problem.key == "nav.edit_only_at_confirm"
    assert session.state == "reporting"


def test_edit_of_a_question_not_on_the_path_is_refused():
    session = at_confirm()
    refused = IV.edit(session, "objectives_other")
    assert not refused.ok
    assert refused.problem.key == "nav.edit_unknown"
    assert session.state == "confirm"


def test_confirm_answer_edit_keeps_the_person_at_confirm():
    session = at_confirm()
    assert IV.answer(session, "edit").ok
    assert session.state == "confirm"


def test_edit_one_answer_returns_to_confirm_keeping_the_others():
    session = at_confirm()
    before = session.values()
    assert IV.edit(session, "org_size").ok
    assert session.state == "org_size"
    IV.answer(session, "large")
    assert session.state == "confirm"
    assert session.values() == {**before, "org_size": "large"}
    IV.answer(session, "confirm")
    assert session.state == DONE
    assert session.values()["org_size"] == "large"


def test_edit_that_removes_a_branch_drops_its_answer():
    session = at_confirm()
    IV.edit(session, "budget_owner")
    IV.answer(session, "unknown")
    assert session.state == "confirm"
    assert "budget_amount" not in summary_ids(session)
    assert IV.progress(session) == (10, 10)
    IV.answer(session, "confirm")
    assert "budget_amount" not in session.values()
    consultation = conclude(session, IV)
    assert "budget_amount" not in consultation.answers


def test_edit_that_opens_a_branch_asks_the_new_question():
    session = at_confirm({**ARTICLE, "budget_owner": "unknown"})
    assert "budget_amount" not in summary_ids(session)
    IV.edit(session, "budget_owner")
    IV.answer(session, "management")
    assert session.state == "budget_amount"
    IV.answer(session, "12k")
    assert session.state == "confirm"
    assert session.values()["budget_amount"] == 12_000
    assert summary_ids(session) == WITHOUT_BRANCHES


def test_edit_objectives_to_add_other_asks_for_its_text():
    session = at_confirm()
    IV.edit(session, "objectives")
    IV.answer(session, ["fans", "other"])
    assert session.state == "objectives_other"
    IV.answer(session, "Train partners")
    assert session.state == "confirm"
    assert "objectives_other" in summary_ids(session)


def test_edit_departments_re_asks_the_answers_that_no_longer_fit():
    session = at_confirm()
    IV.edit(session, "departments")
    # Sales (the proposed host) and web (a collaboration department) are gone.
    IV.answer(session, ["communication", "marketing"])
    assert session.state == "proposed_host"
    IV.answer(session, "communication")
    assert session.state == "collaboration"
    IV.answer(session, ["marketing"])
    assert session.state == "confirm"
    values = session.values()
    assert values["collaboration"] == ["marketing"]
    assert values["budget_owner"] == "host"  # untouched answers are kept


def test_edit_departments_keeps_answers_that_still_fit():
    session = at_confirm()
    IV.edit(session, "departments")
    IV.answer(session, ["communication", "marketing", "web", "sales", "hr"])
    assert session.state == "confirm"
    assert session.values()["proposed_host"] == "sales"


# Regression: the dropped answer was once kept hidden and silently reused.
def test_a_dropped_answer_is_asked_again_when_its_branch_comes_back():
    session = at_confirm()  # budget_amount answered 0
    IV.edit(session, "budget_owner")
    IV.answer(session, "unknown")
    assert "budget_amount" not in summary_ids(session)  # dropped, as far as the person sees
    IV.edit(session, "budget_owner")
    IV.answer(session, "host")
    assert session.state == "budget_amount"


# --- who answered ----------------------------------------------------------------------------


def test_each_answer_records_who_gave_it():
    session = IV.start(team=True, started_by="U1")
    people = ["U1", "U2", "U3"]
    for n, state in enumerate(WITHOUT_BRANCHES):
        assert session.state == state
        IV.answer(session, ARTICLE[state], by=people[n % 3])
    IV.answer(session, "confirm", by="U2")
    expected = {state: people[n % 3] for n, state in enumerate(WITHOUT_BRANCHES)}
    assert {sid: a.by for sid, a in session.answers.items()} == expected
    assert all(a.at for a in session.answers.values())
    assert conclude(session, IV).answered_by == expected


def test_a_changed_answer_records_the_new_author():
    session = at_confirm()
    IV.edit(session, "content")
    IV.answer(session, "rich", by="U9")
    assert session.answers["content"].by == "U9"
    assert session.answers["org_size"].by == "local"


# --- saving and resuming ---------------------------------------------------------------------


def round_trip(session: Session) -> Session:
    return Session.from_dict(json.loads(json.dumps(session.to_dict())))


@pytest.mark.parametrize("stop_at", WITHOUT_BRANCHES[1:])
def test_a_saved_session_resumes_where_it_stopped(stop_at):
    session = IV.start(lang="fr", started_by="U1", where=Where.dm("D1"))
    walk(session, ARTICLE, by="U1", stop_at=stop_at)
    restored = round_trip(session)
    assert restored.state == stop_at
    assert restored.values() == session.values()
    assert restored.history == session.history
    assert (restored.lang, restored.started_by, restored.where) == ("fr", "U1", Where.dm("D1"))
    assert session.to_dict()["where"] == {"kind": "dm", "channel": "D1"}  # the stored shape
    assert IV.progress(restored) == IV.progress(session)
    walk(restored, ARTICLE)
    IV.answer(restored, "confirm")
    assert restored.state == DONE
    assert restored.values() == {**ARTICLE, "budget_amount": 0}


def test_a_saved_session_resumes_in_the_middle_of_an_edit():
    session = at_confirm()
    IV.edit(session, "budget_owner")
    restored = round_trip(session)
    assert restored.state == "budget_owner"
    IV.answer(restored, "shared")
    assert restored.state == "confirm"  # still an edit: straight back to the summary


def test_back_works_after_resuming():
    session = IV.start()
    walk(session, ARTICLE, stop_at="reporting")
    restored = round_trip(session)
    IV.back(restored)
    assert restored.state == "objectives"


# --- one machine, many sessions --------------------------------------------------------------


def script(n: int) -> dict[str, Any]:
    """A different, valid answer set per session number."""
    rng = random.Random(n)
    departments = sorted(rng.sample(["communication", "marketing", "web", "sales", "hr"],
                                    rng.randint(1, 4)))
    objectives = rng.sample(["fans", "conversion", "awareness", "other"], rng.randint(1, 3))
    return {
        "org_size": rng.choice(["micro", "small", "medium", "large"]),
        "departments": departments,
        "proposed_host": rng.choice([*departments, "management", "undecided"]),
        "budget_owner": rng.choice(["host", "management", "unknown"]),
        "budget_amount": str(rng.randint(0, 50_000)),
        "objectives": objectives,
        "objectives_other": f"goal {n}",
        "reporting": rng.choice(["volume", "sales", "qualitative", "none"]),
        "content": rng.choice(["none", "little", "regular", "rich"]),
        "brand_reach": rng.choice(["household", "known", "niche"]),
        "collaboration": rng.sample(departments, rng.randint(0, len(departments))),
        "dedicated_possible": rng.choice(["yes", "maybe", "no"]),
    }


def expected_path(answers: dict[str, Any]) -> list[str]:
    path = list(WITHOUT_BRANCHES)
    if answers["budget_owner"] == "unknown":
        path.remove("budget_amount")
    if "other" in answers["objectives"]:
        path.insert(path.index("objectives") + 1, "objectives_other")
    return path


def test_interleaved_sessions_on_one_shared_machine():
    sessions = [IV.start(id=f"s{n}") for n in range(40)]
    scripts = [script(n) for n in range(40)]
    asked: list[list[str]] = [[] for _ in sessions]
    # One step of a session at a time, sessions picked at random so they are all at
    # different points of the flow.
    rng = random.Random(7)
    while any(s.state != "confirm" for s in sessions):
        for n in rng.sample(range(len(sessions)), len(sessions)):
            session = sessions[n]
            if session.state == "confirm" or rng.random() < 0.3:
                continue
            asked[n].append(session.state)
            assert IV.answer(session, scripts[n][session.state]).ok
    for n, session in enumerate(sessions):
        assert asked[n] == expected_path(scripts[n])
        IV.answer(session, "confirm")
        assert session.state == DONE
    assert list(IV.machine.models) == []  # no session stays attached to the machine


def test_sessions_in_threads_on_one_shared_machine():
    errors: list[str] = []

    def run(offset: int) -> None:
        for n in range(offset, offset + 15):
            session = IV.start(id=f"t{n}")
            answers = script(n)
            try:
                assert walk(session, answers) == expected_path(answers)
                IV.answer(session, "confirm")
                assert session.state == DONE
            except AssertionError as exc:  # collected: a thread's failure must fail the test
                errors.append(f"session {n}: {exc!r}")

    threads = [threading.Thread(target=run, args=(k * 100,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_the_service_builds_one_interview_per_flow(tmp_path):
    from cmbot.service import Desk
    from cmbot.store import Store

    desk = Desk(Store(tmp_path / "db.json"))
    interview = desk.interview("community_manager")
    machine = interview.machine
    first = begun(desk)
    second = begun(desk)
    for session_id, answer in ((first.id, "small"), (second.id, "large"), (first.id, ["web"])):
        with desk.session(session_id) as session:
            assert desk.interview(session.flow_id) is interview
            interview.answer(session, answer)
            desk.save(session)
    assert interview.machine is machine
    assert desk.store.get_session(first.id)["state"] == "proposed_host"
    assert desk.store.get_session(second.id)["state"] == "departments"
    desk.store.close()


# --- progress --------------------------------------------------------------------------------


def test_progress_counts_the_questions_on_the_current_path():
    session = IV.start()
    assert IV.progress(session) == (1, 11)
    seen = []
    answers = {**ARTICLE, "objectives": ["fans", "other"], "objectives_other": "Train partners"}
    while session.state != "confirm":
        seen.append(IV.progress(session))
        IV.answer(session, answers[session.state])
    # Picking `other` adds a question: the total grows from 11 to 12 once it is known.
    assert seen[:6] == [(n, 11) for n in range(1, 7)]
    assert seen[6:] == [(n, 12) for n in range(7, 13)]
    assert IV.progress(session) == (12, 12)


def test_progress_without_the_budget_amount():
    session = IV.start()
    walk(session, {**ARTICLE, "budget_owner": "unknown"}, stop_at="objectives")
    assert IV.progress(session) == (5, 10)
    IV.back(session)
    assert IV.progress(session) == (4, 10)


# --- the machine is the one source of the path -------------------------------------------------


def test_the_machines_answer_transitions_carry_the_flows_branching():
    to_objectives, to_amount = IV.machine.get_transitions("answer", "budget_owner")
    assert (to_objectives.dest, [c.func.__name__ for c in to_objectives.conditions]) == (
        "objectives", ["budget_owner is unknown"])
    assert (to_amount.dest, to_amount.conditions) == ("budget_amount", [])


def test_a_condition_changed_on_the_machine_changes_the_path_everywhere():
    """Nothing re-derives the path from the flow data: drop the machine's condition on the
    budget owner and the budget amount is never asked, counted, summed up or gone back to."""
    interview = Interview(FLOW)
    to_objectives = interview.machine.get_transitions("answer", "budget_owner", "objectives")[0]
    to_objectives.conditions.clear()
    session = interview.start()
    assert interview.progress(session) == (1, 10)
    while session.state != "confirm":
        assert session.state != "budget_amount"
        assert interview.answer(session, ARTICLE[session.state]).ok
    assert [q.id for q, _ in interview.summary(session)] == [
        s for s in WITHOUT_BRANCHES if s != "budget_amount"]
    assert interview.edit(session, "objectives").ok
    assert interview.back(session).ok and session.state == "budget_owner"
    assert interview.answer(session, "host").ok and session.state == "objectives"
