"""The advice, as data: every weight and rule cmbot reasons with, kept in one place.

The reasoning: the role is transversal; whoever pays sets the objectives; business departments
(sales, marketing) push volume targets that the role cannot honestly meet; volume is unrealistic
without engaging content or a famous brand; ideally the role has a unit of its own, else a place
that does not lock it into one department.

How the scores are built, so that they move the way a consultant would expect:
- every candidate starts at `START`; `HOME` says what each home brings or costs a transversal
  role, with its sign (a drawback is never "+" points);
- adjustments read the answers; volume targets only ever take points from a business department,
  never give it any; a unit of its own only gains as it becomes more possible or the company
  grows; the payer is read once (`Facts.payer`), so "the host pays" with general management as
  host scores exactly like "general management pays";
- a few candidates are ruled out outright (`ruled_out`); ties are broken by `TIE_RULES`, in order,
  and the memo says which rule chose.
Each rule names a reason key whose text lives in the message catalogues (`reason.<key>`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .freetext import Reading, read

QUANTITATIVE = frozenset({"fans", "conversion", "company_news"})
BUSINESS = frozenset({"sales", "marketing"})
DEPARTMENTS = ("communication", "marketing", "web", "sales", "customer_service", "product", "hr")
# The last tie rule: the home that ties the role least to one department's objectives first.
PLACES = ("dedicated", "management", *DEPARTMENTS)

START = 40
# What each home brings to (or costs) a transversal, participative role, before the answers.
HOME = {
    "dedicated": 15, "management": 10, "communication": 5, "web": 0, "customer_service": 0,
    "product": 0, "marketing": -5, "sales": -15, "hr": -15,
}
# A runner-up must be an alternative a consultant would put forward: eligible, and with
# something in its favour beyond the starting point of every home.
CREDIBLE = START + 5

# Participation objectives a department serves naturally (points per chosen objective).
# Volume objectives give a business department nothing: the article's point.
OBJECTIVE_FIT = {
    "awareness": {"communication": 10, "web": 5, "management": 5},
    "support": {"customer_service": 15},
    "feedback": {"product": 15},
    "advocates": {"communication": 5, "marketing": 5},
    "company_news": {"communication": 5},
}
# What an objective typed in free text is about (`freetext.read`) and the departments whose daily
# work it is. Volume themes (sales, audience, reach) fit nobody: they are reframed, not hosted.
THEME_FIT = {
    "internal": {"hr": 10, "communication": 5},
    "employer": {"hr": 10, "communication": 5},
    "events": {"communication": 5},
    "partners": {"sales": 5, "product": 5},
    "learning": {"customer_service": 5, "product": 5},
    "reputation": {"communication": 5, "customer_service": 5},
    "content": {"communication": 5},
}

# Other flows ask about the same things under their own state ids; the rules read these names.
# (`objectives_review` asks where the role sits now: that is the host the rules weigh.)
ALIASES = {"current_host": "proposed_host"}
PAYERS = frozenset({*DEPARTMENTS, "management", "dedicated"})


@dataclass(frozen=True)
class Facts:
    """The answers, named the way the rules talk about them."""

    answers: dict[str, Any]

    @classmethod
    def of(cls, answers: Mapping[str, Any]) -> Facts:
        """Facts from any flow's answers: aliases read as the default flow's names, and what a
        flow did not ask but its answers imply (a role that has a unit of its own can have one)."""
        facts = dict(answers)
        for name, meaning in ALIASES.items():
            if name in facts:
                facts.setdefault(meaning, facts[name])
        if facts.get("proposed_host") == "dedicated":
            facts.setdefault("dedicated_possible", "yes")
        return cls(facts)

    def get(self, key: str, default: Any = None) -> Any:
        return self.answers.get(key, default)

    def asked(self, key: str) -> bool:
        return key in self.answers

    @property
    def objectives(self) -> list[str]:
        return list(self.get("objectives") or [])

    @property
    def other(self) -> Reading | None:
        """How the free-text objective reads, when there is one."""
        text = self.get("objectives_other")
        return read(text) if "other" in self.objectives and isinstance(text, str) else None

    @property
    def quantitative(self) -> list[str]:
        """The volume objectives, a volume target typed in free text included."""
        other = self.other
        return [o for o in self.objectives
                if o in QUANTITATIVE or (o == "other" and other is not None and other.quantitative)]

    @property
    def only_quantitative(self) -> bool:
        return bool(self.objectives) and len(self.quantitative) == len(self.objectives)

    @property
    def collaboration(self) -> list[str]:
        return list(self.get("collaboration") or [])

    @property
    def departments(self) -> list[str]:
        """The company's departments; a flow that does not ask knows at least the host's."""
        if self.asked("departments"):
            return list(self.get("departments") or [])
        return [self.host] if self.host in DEPARTMENTS else []

    @property
    def host(self) -> str | None:
        return self.get("proposed_host")

    @property
    def payer(self) -> str:
        """Who pays, said one way: "the host's budget" is the host itself (a department, general
        management or the unit), `undecided` when no host is chosen yet, `unknown` when not said."""
        owner = self.get("budget_owner") or "unknown"
        if owner == "host":
            return self.host if self.host in PAYERS else "undecided"
        return owner

    @property
    def linked(self) -> list[str]:
        """The departments the role works in or with: the host department and the collaboration."""
        host = [self.host] if self.host in DEPARTMENTS and self.host not in self.collaboration else []
        return host + self.collaboration

    @property
    def size(self) -> str | None:
        return self.get("org_size")

    @property
    def micro(self) -> bool:
        return self.size == "micro"

    @property
    def small(self) -> bool:
        """Fewer than 50 people."""
        return self.size in ("micro", "small")

    @property
    def unit(self) -> str | None:
        return self.get("dedicated_possible")

    @property
    def transversal(self) -> bool:
        return len(self.collaboration) >= 3

    @property
    def host_risk_free(self) -> bool:
        """The proposed host raises no risk of its own: not a business department that would
        get volume targets or pay for the role itself."""
        return self.host not in BUSINESS or not (self.quantitative or self.payer == self.host)


@dataclass(frozen=True)
class Adjustment:
    """`points` for `place` when `applies(facts, place)`; `reason` explains it to the reader."""

    reason: str
    points: int
    applies: Callable[[Facts, str], bool]


def dedicated(place: str) -> bool:
    return place == "dedicated"


def management(place: str) -> bool:
    return place == "management"


def department(place: str) -> bool:
    return place in DEPARTMENTS


def business(place: str) -> bool:
    return place in BUSINESS


ADJUSTMENTS: tuple[Adjustment, ...] = (
    # A unit of its own: the more possible, the higher; never lower as the company grows.
    Adjustment("unit_possible", 45, lambda f, p: dedicated(p) and f.unit == "yes"),
    Adjustment("unit_maybe", 5, lambda f, p: dedicated(p) and f.unit == "maybe"),
    Adjustment("unit_impossible", -35, lambda f, p: dedicated(p) and f.unit == "no"),
    Adjustment("micro_company_unit", -30, lambda f, p: dedicated(p) and f.micro),
    Adjustment("small_company_unit", -15,
               lambda f, p: dedicated(p) and f.size == "small" and f.unit != "yes"),
    Adjustment("large_company_unit", 10, lambda f, p: dedicated(p) and f.size == "large"),
    # The boss of a small company is the natural home of a role that touches everything.
    Adjustment("micro_company_boss", 30, lambda f, p: management(p) and f.micro),
    Adjustment("small_company_boss", 10, lambda f, p: management(p) and f.size == "small"),
    Adjustment("micro_company_department", -20, lambda f, p: department(p) and f.micro),
    # Who pays: read once, whichever way it was said.
    Adjustment("own_budget", 15, lambda f, p: dedicated(p) and f.payer == "dedicated"),
    Adjustment("management_budget_unit", 10, lambda f, p: dedicated(p) and f.payer == "management"),
    Adjustment("management_budget", 15, lambda f, p: management(p) and f.payer == "management"),
    Adjustment("shared_budget", 10, lambda f, p: management(p) and f.payer == "shared"),
    Adjustment("transversal_mandate", 10,
               lambda f, p: (dedicated(p) or management(p)) and f.transversal),
    Adjustment("one_department_of_many", -5, lambda f, p: department(p) and f.transversal),
    Adjustment("proposed_host", 10, lambda f, p: p == f.host),
    Adjustment("works_with", 5, lambda f, p: department(p) and p in f.collaboration),
    Adjustment("business_volume", -20, lambda f, p: business(p) and bool(f.quantitative)),
    Adjustment("payer_sets_targets", -15, lambda f, p: business(p) and p == f.payer),
)


def ruled_out(facts: Facts, place: str) -> str | None:
    """The reason a candidate cannot be recommended at all (a reason key), or None."""
    if dedicated(place) and facts.unit == "no":
        return "excluded_unit_impossible"
    if dedicated(place) and facts.micro:
        return "excluded_micro_unit"
    if business(place) and place == facts.payer and facts.only_quantitative:
        return "excluded_business_payer"
    return None


# --- ties: (rule, test) in order; the first rule that separates two equal scores decides ------


TIE_RULES: tuple[tuple[str, Callable[[Facts, str], bool]], ...] = (
    ("unit_possible", lambda f, p: dedicated(p) and f.unit == "yes"),
    ("proposed_host", lambda f, p: p == f.host and f.host_risk_free),
    ("order", lambda f, p: True),  # PLACES order, applied by the sort key below
)


def tie_key(facts: Facts, place: str) -> tuple[int, ...]:
    return (*(0 if test(facts, place) else 1 for _, test in TIE_RULES[:-1]), PLACES.index(place))


def tie_rule(facts: Facts, first: str, second: str) -> str:
    """The rule that put `first` before `second` when both have the same score."""
    for (rule, _), a, b in zip(TIE_RULES, tie_key(facts, first), tie_key(facts, second), strict=True):
        if a != b:
            return rule
    return TIE_RULES[-1][0]


# --- risks: (id, test) in the order they are reported ------------------------------------


def _isolated(f: Facts) -> bool:
    return len(f.linked) < min(2, len(f.departments))


@dataclass(frozen=True)
class Risk:
    """`id` is raised when `test(facts, placement)` holds. `needs` are the answers the test reads:
    a flow that does not ask one of them (objectives_review asks no collaboration, no amount)
    cannot tell, so the risk is not raised rather than guessed."""

    id: str
    needs: tuple[str, ...]
    test: Callable[[Facts, str], bool]

    def applies(self, facts: Facts, placement: str) -> bool:
        return all(facts.asked(k) for k in self.needs) and self.test(facts, placement)


RISKS: tuple[Risk, ...] = (
    Risk("quantitative_objectives", ("objectives",),
         lambda f, placement: bool(f.quantitative)
         and (f.host in BUSINESS or f.payer in BUSINESS or placement in BUSINESS)),
    Risk("budget_owner_pressure", ("budget_owner", "proposed_host"),
         lambda f, _: f.payer == f.host and f.host in BUSINESS),
    Risk("no_budget_for_volume_targets", ("budget_amount", "objectives"),
         lambda f, _: f.get("budget_amount") == 0 and bool(f.quantitative)),
    Risk("unrealistic_audience_target", ("objectives", "content", "brand_reach"),
         lambda f, _: "fans" in f.objectives and f.get("content") in ("none", "little")
         and f.get("brand_reach") != "household"),
    Risk("isolated_role", ("collaboration",), lambda f, _: _isolated(f)),
    Risk("reporting_mismatch", ("reporting",), lambda f, _: f.get("reporting") in ("volume", "sales")),
)
