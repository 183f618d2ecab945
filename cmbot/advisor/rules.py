"""The advice, as data: every weight and rule cmbot reasons with, kept in one place.

The reasoning comes from the article in `shared/seed/`: the role is transversal; whoever pays
sets the objectives; business departments (sales, marketing) push volume targets that the role
cannot honestly meet; volume is unrealistic without engaging content or a famous brand; ideally
the role has a unit of its own, else a place that does not lock it into one department.
Each rule names a reason key whose text lives in the message catalogues (`reason.<id>`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

QUANTITATIVE = frozenset({"fans", "conversion", "company_news"})
BUSINESS = frozenset({"sales", "marketing"})
DEPARTMENTS = ("communication", "marketing", "web", "sales", "customer_service", "product", "hr")
OBJECTIVES = ("fans", "conversion", "company_news", "awareness", "support", "feedback",
              "advocates", "other")
# Ties are broken in this order: the article's ideal first, then a cross-department mandate.
PLACES = ("dedicated", "management", *DEPARTMENTS)

# How well each home suits a transversal, participative role before looking at the answers.
BASE_SCORE = {
    "dedicated": 55, "management": 50, "communication": 45, "web": 40,
    "customer_service": 40, "product": 40, "marketing": 35, "sales": 25, "hr": 25,
}

# Objectives that a department serves naturally (points per chosen objective).
OBJECTIVE_FIT = {
    "awareness": {"communication": 10, "web": 5, "management": 5},
    "support": {"customer_service": 15},
    "feedback": {"product": 15},
    "advocates": {"communication": 5, "marketing": 5},
    "company_news": {"communication": 10},
    "conversion": {"sales": 5, "marketing": 5},
    "fans": {"marketing": 5, "communication": 5},
}


# Other flows ask about the same things under their own state ids; the rules read these names.
# (`objectives_review` asks where the role sits now: that is the host the rules weigh.)
ALIASES = {"current_host": "proposed_host"}


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
    def quantitative(self) -> list[str]:
        return [o for o in self.objectives if o in QUANTITATIVE]

    @property
    def only_quantitative(self) -> bool:
        return bool(self.objectives) and all(o in QUANTITATIVE for o in self.objectives)

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
    def host_pays(self) -> bool:
        return self.get("budget_owner") == "host"

    @property
    def small_company(self) -> bool:
        return self.get("org_size") in ("micro", "small")

    @property
    def transversal(self) -> bool:
        return len(self.collaboration) >= 3


@dataclass(frozen=True)
class Adjustment:
    """`points` for `place` when `applies(facts, place)`; `reason` explains it to the reader."""

    reason: str
    points: int
    applies: Callable[[Facts, str], bool]


def _is(place_set: set[str] | frozenset[str]) -> Callable[[str], bool]:
    return lambda place: place in place_set


dedicated, management = _is({"dedicated"}), _is({"management"})
department = _is(set(DEPARTMENTS))
business = _is(BUSINESS)

ADJUSTMENTS: tuple[Adjustment, ...] = (
    Adjustment("unit_possible", 30, lambda f, p: dedicated(p) and f.get("dedicated_possible") == "yes"),
    Adjustment("unit_maybe", 5, lambda f, p: dedicated(p) and f.get("dedicated_possible") == "maybe"),
    Adjustment("unit_impossible", -35, lambda f, p: dedicated(p) and f.get("dedicated_possible") == "no"),
    Adjustment("small_company_unit", -15, lambda f, p: dedicated(p) and f.small_company),
    Adjustment("small_company_boss", 10, lambda f, p: management(p) and f.small_company),
    Adjustment("large_company_unit", 10, lambda f, p: dedicated(p) and f.get("org_size") == "large"),
    Adjustment("own_budget", 15, lambda f, p: dedicated(p) and f.get("budget_owner") == "dedicated"),
    Adjustment("management_budget", 15,
               lambda f, p: management(p) and f.get("budget_owner") == "management"),
    Adjustment("shared_budget", 10, lambda f, p: management(p) and f.get("budget_owner") == "shared"),
    Adjustment("shared_budget_unit", 5, lambda f, p: dedicated(p) and f.get("budget_owner") == "shared"),
    Adjustment("transversal_mandate", 10,
               lambda f, p: (dedicated(p) or management(p)) and f.transversal),
    Adjustment("one_department_of_many", -5, lambda f, p: department(p) and f.transversal),
    Adjustment("proposed_host", 10, lambda f, p: p == f.host),
    Adjustment("works_with", 5, lambda f, p: department(p) and p in f.collaboration),
    Adjustment("business_volume", -20, lambda f, p: business(p) and bool(f.quantitative)),
    Adjustment("payer_sets_targets", -15, lambda f, p: business(p) and p == f.host and f.host_pays),
    Adjustment("qualitative_reporting", 5,
               lambda f, p: management(p) and f.get("reporting") == "qualitative"),
)


def excluded(facts: Facts, place: str) -> bool:
    """DESIGN invariant: a business department that pays for the role and would only get volume
    targets is never the placement."""
    return business(place) and place == facts.host and facts.host_pays and facts.only_quantitative


# --- risks: (id, test) in the order they are reported ------------------------------------


def _isolated(f: Facts) -> bool:
    return len(f.collaboration) < min(2, len(f.departments))


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
         lambda f, placement: bool(f.quantitative) and (f.host in BUSINESS or placement in BUSINESS)),
    Risk("budget_owner_pressure", ("budget_owner", "proposed_host"),
         lambda f, _: f.host_pays and f.host in BUSINESS),
    Risk("no_budget_for_volume_targets", ("budget_amount", "objectives"),
         lambda f, _: f.get("budget_amount") == 0 and bool(f.quantitative)),
    Risk("unrealistic_audience_target", ("objectives", "content", "brand_reach"),
         lambda f, _: "fans" in f.objectives and f.get("content") in ("none", "little")
         and f.get("brand_reach") != "household"),
    Risk("isolated_role", ("collaboration",), lambda f, _: _isolated(f)),
    Risk("reporting_mismatch", ("reporting",), lambda f, _: f.get("reporting") in ("volume", "sales")),
)

