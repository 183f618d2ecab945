"""The panel's merge: a workshop the article describes (sales, communication and the boss), the
stated rules one by one, then the properties over the whole answer space with hypothesis —
a unanimous panel is one person, an agreeing newcomer changes nothing but the table, and the
members' order never matters."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmbot.advisor import advise
from cmbot.advisor.panel import Member, merge, organisation_states
from cmbot.interview import Interview, builtin_flows_dir, load_flows
from cmbot.interview.loader import inspect_flow

FLOW = load_flows()["community_manager"]
DEPARTMENTS = ["communication", "marketing", "web", "sales", "customer_service", "product", "hr"]
OBJECTIVES = ["fans", "conversion", "company_news", "awareness", "support", "feedback",
              "advocates", "other"]

ORGANISATION: dict[str, Any] = {
    "org_size": "medium",
    "departments": ["communication", "marketing", "web", "sales"],
    "content": "little",
    "brand_reach": "niche",
    "collaboration": ["communication", "marketing", "web"],
}
SALES = Member("sales head", {
    "proposed_host": "sales", "budget_owner": "host", "budget_amount": 10_000,
    "objectives": ["fans", "conversion"], "reporting": "sales", "dedicated_possible": "no"})
COMMUNICATION = Member("communication head", {
    "proposed_host": "communication", "budget_owner": "host", "budget_amount": 30_000,
    "objectives": ["awareness", "advocates"], "reporting": "qualitative",
    "dedicated_possible": "maybe"})
BOSS = Member("managing director", {
    "proposed_host": "management", "budget_owner": "management", "budget_amount": 20_000,
    "objectives": ["conversion", "awareness"], "reporting": "qualitative",
    "dedicated_possible": "maybe"})


def votes(advice, state: str) -> dict[Any, tuple[str, ...]]:
    return {str(value): who for value, who in
            next(s for s in advice.splits if s.state == state).votes}


def test_the_workshop_shows_each_disagreement_and_who_holds_which_view():
    advice = merge(FLOW, ORGANISATION, [SALES, COMMUNICATION, BOSS])
    assert [d.id for d in advice.disagreements] == ["payer_disagreement", "host_disagreement",
                                                    "objectives_conflict"]
    payer = dict(advice.disagreements[0].views)
    # "host" is read as the host each of them named: three different payers.
    assert payer == {"sales head": "sales", "communication head": "communication",
                     "managing director": "management"}
    conflict = dict(advice.disagreements[2].views)
    assert conflict == {"sales head": True, "communication head": False,
                        "managing director": True}
    assert set(advice.divergences) == {"proposed_host", "budget_owner", "budget_amount",
                                       "objectives", "reporting", "dedicated_possible"}
    assert advice.risks[-3:] == ("payer_disagreement", "host_disagreement", "objectives_conflict")
    assert advice.alone["sales head"] != advice.alone["communication head"]


def test_objectives_are_everything_anyone_asked_for_with_who_asked():
    advice = merge(FLOW, ORGANISATION, [SALES, COMMUNICATION, BOSS])
    assert advice.merged["objectives"] == ["fans", "conversion", "awareness", "advocates"]
    assert votes(advice, "objectives")["conversion"] == ("sales head", "managing director")
    assert votes(advice, "objectives")["advocates"] == ("communication head",)
    assert [r.objective for r in advice.recommendation.reframed] == advice.merged["objectives"]


def test_host_payer_and_reporting_go_to_the_majority_with_the_split_kept():
    advice = merge(FLOW, ORGANISATION, [SALES, COMMUNICATION, BOSS])
    assert advice.merged["reporting"] == "qualitative"
    assert votes(advice, "reporting") == {"sales": ("sales head",),
                                          "qualitative": ("communication head",
                                                          "managing director")}
    assert advice.merged["budget_owner"] == "host"  # two of three said "the host's budget"
    assert advice.merged["dedicated_possible"] == "maybe"


def test_a_three_way_split_on_the_host_leaves_it_undecided():
    advice = merge(FLOW, ORGANISATION, [SALES, COMMUNICATION, BOSS])
    host = next(s for s in advice.splits if s.state == "proposed_host")
    assert host.tie and host.value == "undecided" == advice.merged["proposed_host"]


@pytest.mark.parametrize(("state", "a", "b", "unsettled"), [
    ("proposed_host", "sales", "communication", "undecided"),
    ("budget_owner", "host", "management", "unknown"),
    ("dedicated_possible", "yes", "no", "maybe"),
    ("reporting", "qualitative", "volume", "volume"),  # the first in the question's order
])
def test_an_even_split_follows_the_stated_tie_rule(state, a, b, unsettled):
    first = Member("a", {**BOSS.answers, state: a})
    second = Member("b", {**BOSS.answers, state: b})
    for pair in ([first, second], [second, first]):
        advice = merge(FLOW, ORGANISATION, pair)
        chosen = next(s for s in advice.splits if s.state == state)
        assert chosen.tie and chosen.value == unsettled


def test_the_budget_is_the_median_and_the_lower_middle_on_an_even_count():
    assert merge(FLOW, ORGANISATION, [SALES, COMMUNICATION, BOSS]).merged["budget_amount"] == 20_000
    assert merge(FLOW, ORGANISATION, [SALES, COMMUNICATION]).merged["budget_amount"] == 10_000


def test_an_unknown_payer_or_an_undecided_host_takes_no_side():
    unsure = Member("unsure", {**BOSS.answers, "proposed_host": "undecided",
                               "budget_owner": "unknown"})
    unsure.answers.pop("budget_amount")
    advice = merge(FLOW, ORGANISATION, [BOSS, unsure])
    assert [d.id for d in advice.disagreements] == []
    assert set(advice.divergences) == {"proposed_host", "budget_owner", "budget_amount"}
    # Two views, one each: the tie rule leaves the host and the payer open.
    assert advice.merged["proposed_host"] == "undecided"
    assert advice.merged["budget_owner"] == "unknown"
    assert "budget_amount" not in advice.merged  # not asked once the payer is unknown


def test_management_paying_said_two_ways_is_no_disagreement():
    hosts = Member("a", {**BOSS.answers, "budget_owner": "host"})
    advice = merge(FLOW, ORGANISATION, [BOSS, hosts])
    assert "payer_disagreement" not in [d.id for d in advice.disagreements]


def test_free_texts_are_all_kept():
    one = Member("a", {**BOSS.answers, "objectives": ["other"], "objectives_other": "Train partners"})
    two = Member("b", {**BOSS.answers, "objectives": ["other"],
                       "objectives_other": "doubler le nombre d'abonnés"})
    advice = merge(FLOW, ORGANISATION, [one, two])
    assert advice.merged["objectives_other"] == "doubler le nombre d'abonnés / Train partners"


def test_a_member_listed_twice_is_refused():
    with pytest.raises(ValueError, match="twice"):
        merge(FLOW, ORGANISATION, [BOSS, BOSS])


# --- properties over the whole answer space -------------------------------------------------

ORG_STATES = ("org_size", "departments", "content", "brand_reach", "collaboration")


def in_order(picked: list[str], order: list[str]) -> list[str]:
    return [x for x in order if x in picked]


@st.composite
def organisations(draw) -> dict[str, Any]:
    departments = in_order(draw(st.lists(st.sampled_from(DEPARTMENTS), min_size=1, unique=True)),
                           DEPARTMENTS)
    return {
        "org_size": draw(st.sampled_from(["micro", "small", "medium", "large"])),
        "departments": departments,
        "content": draw(st.sampled_from(["none", "little", "regular", "rich"])),
        "brand_reach": draw(st.sampled_from(["household", "known", "niche"])),
        "collaboration": in_order(draw(st.lists(st.sampled_from(departments), unique=True)),
                                  departments),
    }


@st.composite
def opinions(draw, organisation: dict[str, Any]) -> dict[str, Any]:
    """Any opinions the flow can take from one member of that organisation."""
    departments = organisation["departments"]
    answers: dict[str, Any] = {
        "proposed_host": draw(st.sampled_from([*departments, "management", "undecided"])),
        "budget_owner": draw(st.sampled_from(["host", "management", "shared", "dedicated",
                                              "unknown"])),
    }
    if answers["budget_owner"] != "unknown":
        answers["budget_amount"] = draw(st.integers(0, 1_000_000_000))
    answers["objectives"] = in_order(
        draw(st.lists(st.sampled_from(OBJECTIVES), min_size=1, unique=True)), OBJECTIVES)
    if "other" in answers["objectives"]:
        answers["objectives_other"] = draw(st.sampled_from(
            ["Train partners", "double our subscribers", "« doubler le nombre d'abonnés »"]))
    answers["reporting"] = draw(st.sampled_from(["volume", "sales", "qualitative", "none"]))
    answers["dedicated_possible"] = draw(st.sampled_from(["yes", "maybe", "no"]))
    return answers


@st.composite
def panels(draw, size: int = 3) -> tuple[dict[str, Any], list[Member]]:
    organisation = draw(organisations())
    count = draw(st.integers(1, size))
    return organisation, [Member(f"member {i}", draw(opinions(organisation)))
                          for i in range(count)]


def same_advice(one, other) -> bool:
    return (one.merged == other.merged and one.recommendation == other.recommendation
            and one.divergences == other.divergences
            and [(d.id, sorted(d.views)) for d in one.disagreements]
            == [(d.id, sorted(d.views)) for d in other.disagreements])


@given(data=st.data(), organisation=organisations(), size=st.integers(1, 5))
def test_a_unanimous_panel_gives_exactly_the_single_person_advice(data, organisation, size):
    mind = data.draw(opinions(organisation))
    advice = merge(FLOW, organisation, [Member(f"m{i}", dict(mind)) for i in range(size)])
    alone = {**organisation, **mind}
    assert advice.merged == alone
    assert advice.recommendation == advise(alone)
    assert advice.divergences == () and advice.disagreements == ()
    assert advice.risks == advise(alone).risks


@given(data=st.data(), organisation=organisations(), size=st.integers(1, 4))
def test_a_member_who_agrees_with_a_unanimous_panel_changes_nothing_but_the_table(
        data, organisation, size):
    mind = data.draw(opinions(organisation))
    panel = [Member(f"m{i}", dict(mind)) for i in range(size)]
    before = merge(FLOW, organisation, panel)
    after = merge(FLOW, organisation, [*panel, Member("newcomer", dict(mind))])
    assert same_advice(before, after)
    assert after.members == (*before.members, "newcomer")
    assert after.opinions["newcomer"] == mind


@given(panel=panels(size=4), data=st.data())
def test_the_members_order_never_changes_the_advice(panel, data):
    organisation, members = panel
    shuffled = data.draw(st.permutations(members))
    assert same_advice(merge(FLOW, organisation, members), merge(FLOW, organisation, shuffled))


@given(panel=panels(size=4))
def test_the_merged_answers_are_answers_one_person_could_give(panel):
    organisation, members = panel
    advice = merge(FLOW, organisation, members)
    path = [s for s in Interview(FLOW).path(advice.merged) if FLOW.states[s].kind != "confirm"]
    assert list(advice.merged) == [s for s in path if s in advice.merged]
    assert set(path) <= set(advice.merged)  # every question on the path has an answer


# --- flows say what is a fact and what is an opinion ----------------------------------------


def test_the_flows_mark_the_organisation_facts():
    flows = load_flows()
    assert organisation_states(FLOW) == list(ORG_STATES)
    assert organisation_states(flows["objectives_review"]) == [
        "current_host", "budget_owner", "reporting", "content", "brand_reach"]
    opinions = [s for s, q in FLOW.states.items() if q.scope == "person" and q.kind != "confirm"]
    assert opinions == ["proposed_host", "budget_owner", "budget_amount", "objectives",
                        "objectives_other", "reporting", "dedicated_possible"]


def test_a_scope_other_than_organisation_or_person_is_refused():
    text = (builtin_flows_dir() / "community_manager.yaml").read_text(encoding="utf-8")
    broken = text.replace("    scope: organisation\n", "    scope: company\n", 1)
    flow, problems = inspect_flow(broken, "broken.yaml")
    assert flow is None
    assert "'scope' must be one of organisation, person, not 'company'" in str(problems[0])
