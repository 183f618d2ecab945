"""`cmbot panel A.yaml B.yaml …`: a panel consultation from one answers file per member.

The first file gives the organisation facts and its member's opinions; every other file gives
only its member's opinions. Each member's answers are checked by the interview itself (with the
organisation facts), so a bad file is refused with the file and the question named, and nothing
is saved unless every file is good.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..advisor.panel import Member, merge, organisation_states
from ..consultation import conclude_panel
from ..i18n import t
from ..interview import Where
from ..report import Report
from ..service import Desk
from .chat import AnswersError, fill, load_answers, local_user


@dataclass(frozen=True)
class MemberFile:
    path: Path
    name: str
    answers: dict[str, Any]


def read_member(path: Path, lang: str) -> MemberFile:
    """A member's file: `member: name` inside, or the file's name without its extension."""
    answers = load_answers(path, lang)
    name = answers.pop("member", path.stem)
    if not isinstance(name, str | int) or not str(name).strip() or len(str(name)) > 80:
        raise AnswersError(t("panel.cli.member_name", lang, file=path))
    return MemberFile(path, " ".join(str(name).split()), answers)


def read_members(paths: list[Path], lang: str, facts: list[str]) -> list[MemberFile]:
    if len(paths) < 2:
        raise AnswersError(t("panel.cli.too_few", lang, count=len(paths)))
    files = [read_member(p, lang) for p in paths]
    seen: dict[str, Path] = {}
    for file in files:
        if file.name in seen:
            raise AnswersError(t("panel.cli.duplicate_member", lang, file=file.path,
                                 member=file.name, other=seen[file.name]))
        seen[file.name] = file.path
        given = [s for s in facts if s in file.answers]
        if file is not files[0] and given:
            raise AnswersError(t("panel.cli.organisation_elsewhere", lang, file=file.path,
                                 state=given[0], first=files[0].path))
    return files


def run_panel(desk: Desk, flow_id: str, lang: str, paths: list[Path]) -> Report:
    """Check every file, merge, save one consultation and return its report."""
    interview = desk.interview(flow_id)
    facts = organisation_states(interview.flow)
    files = read_members(paths, lang, facts)
    organisation = {s: v for s, v in files[0].answers.items() if s in facts}
    members = []
    for file in files:
        # The first file is walked first: its facts are then complete for every other member.
        session = fill(interview, {**organisation, **file.answers}, lang, file.path, file.name)
        values = session.values()
        members.append(Member(file.name, {s: v for s, v in values.items() if s not in facts}))
        if file is files[0]:
            organisation = {s: v for s, v in values.items() if s in facts}
    advice = merge(interview.flow, organisation, members)
    consultation = conclude_panel(advice, interview.flow, lang, local_user(), Where.terminal(),
                                  facts_by=files[0].name)
    desk.add(consultation)
    return desk.report(consultation)
