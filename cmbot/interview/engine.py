"""The interview engine: one `transitions` machine per flow, shared by every session.

A session is attached to the machine only while one of its steps runs (`add_model` with the
saved state, then `remove_model`), so thousands of saved interviews cost nothing and a step is
a fraction of a millisecond. Callers serialise steps of one session (see `cmbot.locks`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from transitions import Machine

from .answers import Problem, Verdict, validate
from .flow import Flow, Question
from .session import CANCELLED, DONE, Answer, Session, now_iso


@dataclass(frozen=True)
class Step:
    """What happened to one input: accepted, or a problem to tell the person (re-ask)."""

    ok: bool
    problem: Problem | None = None

    @staticmethod
    def refused(key: str, **params: Any) -> Step:
        return Step(False, Problem(key, params))


ACCEPTED = Step(True)


class _Cursor:
    """The model `transitions` drives: a view of one session's `state` field."""

    def __init__(self, session: Session):
        self.session = session

    @property
    def state(self) -> str:
        return self.session.state

    @state.setter
    def state(self, value: str) -> None:
        self.session.state = value


class Interview:
    """Runs sessions of one flow. Holds the flow and its machine; no per-session state."""

    def __init__(self, flow: Flow):
        self.flow = flow
        self.confirm_state = next(q.id for q in flow.states.values() if q.kind == "confirm")
        self.machine = Machine(
            model=None,
            states=[*flow.states, DONE, CANCELLED],
            initial=flow.start,
            auto_transitions=False,
            send_event=True,
        )
        for question in flow.states.values():
            for rule in question.next:
                conditions = [self._holds(rule.when)] if rule.when else []
                self.machine.add_transition("advance", question.id, rule.goto, conditions=conditions)
            self.machine.add_transition(f"revisit_{question.id}", "*", question.id)
        self.machine.add_transition("finish", self.confirm_state, DONE)
        self.machine.add_transition("restart", "*", flow.start)
        self.machine.add_transition("cancel", "*", CANCELLED)

    @staticmethod
    def _holds(condition):  # type: ignore[no-untyped-def]
        return lambda event: condition.holds(event.model.session.values())

    @contextmanager
    def _attached(self, session: Session) -> Iterator[_Cursor]:
        cursor = _Cursor(session)
        self.machine.add_model(cursor, initial=session.state)
        try:
            yield cursor
        finally:
            self.machine.remove_model(cursor)
            session.updated_at = now_iso()

    def _fire(self, session: Session, trigger: str) -> None:
        with self._attached(session) as cursor:
            cursor.trigger(trigger)  # type: ignore[attr-defined]

    # --- what the front doors call -----------------------------------------------------------

    def start(self, **fields: Any) -> Session:
        return Session(flow_id=self.flow.id, flow_version=self.flow.version,
                       state=self.flow.start, **fields)

    def prefill(self, session: Session, answers: dict[str, Any], by: str) -> None:
        """Answer from an earlier consultation while its answers still fit this flow; the
        interview then waits at the first question that needs asking (usually the summary)."""
        while (question := self.question(session)) and question.kind != "confirm":
            if question.id not in answers or not self.answer(session, answers[question.id], by).ok:
                return

    def question(self, session: Session) -> Question | None:
        return None if session.finished else self.flow.states[session.state]

    def check(self, session: Session, raw: Any) -> Verdict:
        """Validate an answer to the current question without changing anything."""
        question = self.question(session)
        if question is None:
            return Verdict(problem=Problem("answer.finished"))
        return validate(self.flow, question, raw, session.values())

    def answer(self, session: Session, raw: Any, by: str = "local") -> Step:
        """Record an answer to the current question and move on (or say why not)."""
        verdict = self.check(session, raw)
        if not verdict.ok:
            return Step(False, verdict.problem)
        question = self.flow.states[session.state]
        if question.kind == "confirm":
            if verdict.value == "confirm":
                self._fire(session, "finish")
            return ACCEPTED  # "edit": the front door then asks which question to change
        session.answers[question.id] = Answer(verdict.value, by, now_iso())
        if question.id in session.history:
            session.history = session.history[: session.history.index(question.id)]
        session.history.append(question.id)
        self._fire(session, "advance")
        while session.editing and session.state != self.confirm_state and self._still_valid(session):
            session.history.append(session.state)
            self._fire(session, "advance")
        if session.state == self.confirm_state:
            session.editing = False
        self._drop_off_path(session)
        return ACCEPTED

    def _drop_off_path(self, session: Session) -> None:
        """Forget answers the new answers took off the path, so they are asked if it comes back."""
        path = set(self.flow.path(session.values()))
        session.answers = {k: v for k, v in session.answers.items() if k in path}

    def _still_valid(self, session: Session) -> bool:
        """During an edit, later answers are kept (skipped) while they still fit the new ones."""
        previous = session.answers.get(session.state)
        return previous is not None and self.check(session, previous.value).ok

    def back(self, session: Session) -> Step:
        if session.finished:
            return Step.refused("answer.finished")
        if not session.history:
            return Step.refused("nav.at_first")
        target = session.history.pop()
        session.editing = False
        self._fire(session, f"revisit_{target}")
        return ACCEPTED

    def edit(self, session: Session, state_id: str) -> Step:
        """From the confirm step, go back to one question; the others are kept."""
        if session.state != self.confirm_state:
            return Step.refused("nav.edit_only_at_confirm")
        if state_id not in session.history:
            return Step.refused("nav.edit_unknown")
        session.history = session.history[: session.history.index(state_id)]
        session.editing = True
        self._fire(session, f"revisit_{state_id}")
        return ACCEPTED

    def restart(self, session: Session) -> Step:
        session.answers, session.history, session.editing = {}, [], False
        self._fire(session, "restart")
        return ACCEPTED

    def cancel(self, session: Session) -> Step:
        if session.finished:
            return Step.refused("answer.finished")
        self._fire(session, "cancel")
        return ACCEPTED

    def progress(self, session: Session) -> tuple[int, int]:
        """(number of the current question, questions on the path) — "question 4 of 12"."""
        path = [s for s in self.flow.path(session.values())
                if self.flow.states[s].kind != "confirm"]
        if session.state in path:
            return path.index(session.state) + 1, len(path)
        return len(path), len(path)

    def summary(self, session: Session) -> list[tuple[Question, Any]]:
        """The answers on the current path, in flow order (for the confirm step)."""
        values = session.values()
        return [(self.flow.states[s], values[s]) for s in self.flow.path(values) if s in values]
