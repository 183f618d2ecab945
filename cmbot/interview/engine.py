"""The interview engine: one `transitions` machine per flow, shared by every session.

Why a state machine: an interview is a set of questions with branches, and a person moves
through it one answer at a time, goes back, edits from the summary, resumes days later. Written
as transitions data (`machine.py`) the flow's branching is declared once, as conditions on the
`answer` trigger, and everything that happens on the way is a callback the machine runs at the
right moment: recording the answer before the conditions read it, keeping still-valid answers
while an edit returns to the confirm step, forgetting answers that fell off the path.

A session is attached to the machine only while one of its steps runs (`add_model` with the
saved state, then `remove_model`), so thousands of saved interviews cost nothing and a step is
a fraction of a millisecond. Callers serialise steps of one session (the service's lock).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transitions import EventData, Machine

from .answers import Problem, Verdict, validate
from .machine import ANSWER, answer_transitions, walk
from .model import Flow, Question
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

    def values(self) -> dict[str, Any]:
        return self.session.values()


@dataclass(frozen=True)
class _CameFrom:
    """`back` condition: the last answered question is `state` (history is the path walked)."""

    state: str

    def __call__(self, event: EventData) -> bool:
        history = event.model.session.history
        return bool(history) and history[-1] == self.state


@dataclass(frozen=True)
class _Chosen:
    """`edit` condition: the question the person picked on the summary."""

    state: str

    def __call__(self, event: EventData) -> bool:
        return event.kwargs.get("target") == self.state


class _LeanMachine(Machine):
    """A `Machine` that gives a model only what cmbot calls, its `trigger` method. The stock
    one also binds an `is_<state>` per state and a method and a `may_<trigger>` per trigger to
    every model it attaches: cmbot attaches a session for each step and removes it after, so
    that binding was most of a step's time and served nothing."""

    def _add_model_to_state(self, state: Any, model: Any) -> None:
        pass

    def _add_trigger_to_model(self, trigger: str, model: Any) -> None:
        pass


class Interview:
    """Runs sessions of one flow. Holds the flow and its machine; no per-session state."""

    def __init__(self, flow: Flow):
        self.flow = flow
        self.confirm_state = flow.confirm
        states = [{"name": q.id, "on_enter": [self._keep_while_editing]} for q in flow.questions]
        states += [{"name": self.confirm_state, "on_enter": [self._end_edit]}, DONE, CANCELLED]
        self.machine = _LeanMachine(model=None, states=states, initial=flow.start, auto_transitions=False,
                               send_event=True, ignore_invalid_triggers=True)
        for spec in answer_transitions(flow):
            if spec["source"] == self.confirm_state:
                self.machine.add_transition(**spec)
                continue
            self.machine.add_transition(**spec, prepare=[self._record], after=[self._drop_off_path])
            # `back` runs each answer edge in reverse, when its source is the last question answered.
            self.machine.add_transition("back", spec["dest"], spec["source"],
                                        conditions=[_CameFrom(spec["source"])], before=[self._step_back])
        for question in flow.questions:
            self.machine.add_transition("edit", self.confirm_state, question.id,
                                        conditions=[_Chosen(question.id)], after=[self._begin_edit])
        self.machine.add_transition("restart", "*", flow.start, before=[self._forget])
        self.machine.add_transition("cancel", "*", CANCELLED)

    def _fire(self, session: Session, trigger: str, **kwargs: Any) -> bool:
        cursor = _Cursor(session)
        self.machine.add_model(cursor, initial=session.state)
        try:
            return bool(cursor.trigger(trigger, **kwargs))  # type: ignore[attr-defined]
        finally:
            self.machine.remove_model(cursor)
            session.updated_at = now_iso()

    # --- callbacks the machine runs -------------------------------------------------------------

    @staticmethod
    def _record(event: EventData) -> None:
        """Before the conditions read it: the answer, and the question on the walked path."""
        session, question = event.model.session, event.transition.source
        session.answers[question] = event.kwargs["answer"]
        if question in session.history:
            session.history = session.history[: session.history.index(question)]
        session.history.append(question)

    def _keep_while_editing(self, event: EventData) -> None:
        """Entering a question while an edit returns to the confirm step: an answer that still
        fits the changed ones is kept (with who gave it) and the interview moves straight on."""
        session = event.model.session
        if event.event.name != ANSWER or not session.editing:
            return
        previous = session.answers.get(session.state)
        if previous is not None and self.check(session, previous.value).ok:
            event.model.trigger(ANSWER, answer=previous)

    @staticmethod
    def _end_edit(event: EventData) -> None:
        event.model.session.editing = False

    def _drop_off_path(self, event: EventData) -> None:
        """Forget answers the new answers took off the path, so they are asked if it comes back."""
        session = event.model.session
        path = set(self.path(session.values()))
        session.answers = {k: v for k, v in session.answers.items() if k in path}

    @staticmethod
    def _step_back(event: EventData) -> None:
        """Going back leaves any edit: the person walks forward again, question by question."""
        session = event.model.session
        session.history.pop()
        session.editing = False

    @staticmethod
    def _begin_edit(event: EventData) -> None:
        """From the summary to one question; answering it returns to the summary."""
        session = event.model.session
        session.history = session.history[: session.history.index(event.kwargs["target"])]
        session.editing = True

    @staticmethod
    def _forget(event: EventData) -> None:
        session = event.model.session
        session.answers, session.history, session.editing = {}, [], False

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
        """Record an answer to the current question and move on (or say why not).

        At the confirm step, "confirm" finishes; "edit" keeps the person there and the front
        door asks which question to change."""
        verdict = self.check(session, raw)
        if not verdict.ok:
            return Step(False, verdict.problem)
        self._fire(session, ANSWER, answer=Answer(verdict.value, by, now_iso()))
        return ACCEPTED

    def back(self, session: Session) -> Step:
        if session.finished:
            return Step.refused("answer.finished")
        if not session.history or not self._fire(session, "back"):
            return Step.refused("nav.at_first")
        return ACCEPTED

    def edit(self, session: Session, state_id: str) -> Step:
        """From the confirm step, go back to one question; the others are kept."""
        if session.state != self.confirm_state:
            return Step.refused("nav.edit_only_at_confirm")
        if state_id not in session.history or not self._fire(session, "edit", target=state_id):
            return Step.refused("nav.edit_unknown")
        return ACCEPTED

    def restart(self, session: Session) -> Step:
        self._fire(session, "restart")
        return ACCEPTED

    def cancel(self, session: Session) -> Step:
        if session.finished:
            return Step.refused("answer.finished")
        self._fire(session, "cancel")
        return ACCEPTED

    def path(self, values: dict[str, Any]) -> list[str]:
        """The states a person with these answers goes through, start to confirm step."""
        return walk(self.machine, self.flow.start, self.confirm_state, values)

    def progress(self, session: Session) -> tuple[int, int]:
        """(number of the current question, questions on the path) — "question 4 of 12"."""
        path = [s for s in self.path(session.values()) if s != self.confirm_state]
        if session.state in path:
            return path.index(session.state) + 1, len(path)
        return len(path), len(path)

    def summary(self, session: Session) -> list[tuple[Question, Any]]:
        """The answers on the current path, in flow order (for the confirm step)."""
        values = session.values()
        return [(self.flow.states[s], values[s]) for s in self.path(values) if s in values]
