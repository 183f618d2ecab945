"""A finished interview and its advice: the record people list, reopen, export and delete."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .advisor import advise
from .advisor.explain import explain, inline, place_label
from .advisor.model import Recommendation, from_dict, to_dict
from .advisor.panel import PanelAdvice
from .i18n import t
from .interview import Flow, Interview, Session, Where
from .interview.session import new_id, now_iso
from .panel import panel_report
from .panel import record as panel_record
from .report import Changes, Report, ScoreChange


@dataclass
class Consultation:
    id: str
    flow_id: str
    flow_version: int
    lang: str
    answers: dict[str, Any]
    answered_by: dict[str, str]
    recommendation: dict[str, Any]  # the advisor's `Recommendation` as stored: ids (`advice_of`)
    started_by: str = "local"
    where: Where = field(default_factory=Where)
    team: bool = False
    parent_id: str | None = None
    created_at: str = field(default_factory=now_iso)
    finished_at: str = field(default_factory=now_iso)

    @property
    def placement(self) -> str | None:
        """The recommended placement's id, as stored (no advice is recomputed to read it)."""
        return self.recommendation.get("placement")

    @property
    def panel(self) -> dict[str, Any] | None:
        """A panel's members and each one's own answers, kept with the advice they led to (so
        every storage engine and the export format carry it as they carry any advice)."""
        return self.recommendation.get("panel")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["where"] = self.where.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Consultation:
        known = cls.__dataclass_fields__
        fields = {k: v for k, v in data.items() if k in known}
        fields["where"] = Where.from_dict(data.get("where"))
        return cls(**fields)


def conclude(session: Session, interview: Interview) -> Consultation:
    """Advice for a finished session, with the session's answers in the order they were asked."""
    flow = interview.flow
    ordered = {question.id: value for question, value in interview.summary(session)}
    return Consultation(
        id=session.id,
        flow_id=flow.id,
        flow_version=flow.version,
        lang=session.lang,
        answers=ordered,
        answered_by={sid: session.answers[sid].by for sid in ordered},
        recommendation=to_dict(advise(ordered, in_place=not flow.full_advice)),
        started_by=session.started_by,
        where=session.where,
        team=session.team,
        parent_id=session.parent_id,
        created_at=session.created_at,
    )


def conclude_panel(advice: PanelAdvice, flow: Flow, lang: str, started_by: str,
                   where: Where, facts_by: str,
                   langs: dict[str, str] | None = None, id: str | None = None) -> Consultation:
    """One consultation for a whole panel: the merged answers and their advice, the members and
    each one's own answers. A fact was answered by `facts_by`, an opinion by the panel."""
    return Consultation(
        id=id or new_id(),
        flow_id=flow.id,
        flow_version=flow.version,
        lang=lang,
        answers=advice.merged,
        answered_by={s: facts_by if s in advice.organisation else "panel" for s in advice.merged},
        recommendation={**to_dict(advice.recommendation),
                        "panel": panel_record(advice, facts_by, langs)},
        started_by=started_by,
        where=where.with_panel(advice.members),
    )


def changes(before: Consultation, after: Consultation, flow: Flow, lang: str) -> Changes:
    """What a re-run changed: answers, placement, scores and risks (ids, with words)."""
    old, new = from_dict(before.recommendation), from_dict(after.recommendation)
    old_scores = {s.place: s.score for s in old.scores}
    new_scores = {s.place: s.score for s in new.scores}
    places = [p for p in new_scores if old_scores.get(p) != new_scores[p]]
    places += [p for p in old_scores if p not in new_scores]
    answers = tuple(sid for sid in flow.states if before.answers.get(sid) != after.answers.get(sid)
                    and (sid in before.answers or sid in after.answers))
    return Changes(
        parent_id=before.id,
        answers=answers,
        answers_labels=tuple(flow.states[sid].prompt[lang] for sid in answers),
        placement_before=old.placement,
        placement_after=new.placement,
        scores=tuple(ScoreChange(p, place_label(p, lang), old_scores.get(p), new_scores.get(p))
                     for p in places),
        risks_added=tuple(r for r in new.risks if r not in old.risks),
        risks_removed=tuple(r for r in old.risks if r not in new.risks),
    )


def advice_of(consultation: Consultation, flow: Flow) -> Recommendation:
    """The stored advice; one saved before cmbot said who should pay is advised again from its
    answers, so every consultation shows a budget."""
    rec = from_dict(consultation.recommendation)
    if rec.budget is None:
        rec = advise(consultation.answers, in_place=not flow.full_advice)
    return rec


def report(consultation: Consultation, flow: Flow, lang: str | None = None,
           parent: Consultation | None = None) -> Report:
    """The consultation in words in `lang`: what every front door shows.

    With the consultation it re-ran (`parent`), it also says what changed."""
    lang = lang or consultation.lang
    panel = consultation.panel
    return Report(
        consultation_id=consultation.id,
        flow=consultation.flow_id,
        flow_version=consultation.flow_version,
        lang=lang,
        answers=consultation.answers,
        answered_by=consultation.answered_by,
        started_by=consultation.started_by,
        where=consultation.where,
        parent_id=consultation.parent_id,
        created_at=consultation.created_at,
        finished_at=consultation.finished_at,
        advice=explain(advice_of(consultation, flow), flow, lang),
        changes=changes(parent, consultation, flow, lang) if parent else None,
        panel=panel_report(panel, flow, lang) if panel else None,
    )


def change_lines(diff: Changes, lang: str) -> tuple[str, list[str]]:
    """A re-run's differences as a title and sentences, for every front door."""
    lines = [t("changes.answers", lang, questions=", ".join(diff.answers_labels))
             if diff.answers else t("changes.no_answers", lang)]
    before, after = diff.placement_before, diff.placement_after
    lines.append(t("changes.placement", lang, before=inline(place_label(before, lang)),
                   after=inline(place_label(after, lang))) if before != after
                 else t("changes.same_placement", lang, placement=inline(place_label(after, lang))))
    lines += [t("changes.score", lang, place=s.label, before=s.before if s.before
                is not None else "—", after=s.after if s.after is not None else "—")
              for s in diff.scores]
    lines += [t("changes.risk_added", lang, title=t(f"risk.{r}.title", lang))
              for r in diff.risks_added]
    lines += [t("changes.risk_removed", lang, title=t(f"risk.{r}.title", lang))
              for r in diff.risks_removed]
    return t("changes.title", lang, id=diff.parent_id), lines
