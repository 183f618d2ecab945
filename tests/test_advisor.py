"""The advisor: the article's own case, each risk's trigger and non-trigger, then every
DESIGN.md invariant checked over the whole answer space with hypothesis."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmbot.advisor import advise
from cmbot.advisor.explain import explain, place_why
from cmbot.advisor.model import from_dict, to_dict
from cmbot.interview import load_flows

FLOW = load_flows()["community_manager"]

DEPARTMENTS = ["communication", "marketing", "web", "sales", "customer_service", "product", "hr"]
OBJECTIVES = ["fans", "conversion", "company_news", "awareness", "support", "feedback",
              "advocates", "other"]
QUANTITATIVE = {"fans", "conversion", "company_news"}
BUSINESS = {"sales", "marketing"}
RISK_IDS = ["quantitative_objectives", "budget_owner_pressure", "no_budget_for_volume_targets",
            "unrealistic_audience_target", "isolated_role", "reporting_mismatch"]

# The article: a CM placed in sales and paid by sales, asked for fans, conversions and the
# company's news, with no budget, little content, a little-known brand, reported on volume.
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

# Answers that raise no risk at all; each test below changes one thing.
CLEAN: dict[str, Any] = {
    "org_size": "medium",
    "departments": ["communication", "marketing", "web", "sales"],
    "proposed_host": "management",
    "budget_owner": "management",
    "budget_amount": 20_000,
    "objectives": ["awareness", "feedback"],
    "reporting": "qualitative",
    "content": "regular",
    "brand_reach": "known",
    "collaboration": ["communication", "marketing", "web"],
    "dedicated_possible": "maybe",
}


def with_(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    answers = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            answers.pop(key, None)
        else:
            answers[key] = value
    return answers


# --- the article's case ----------------------------------------------------------------------


@pytest.mark.parametrize("dedicated", ["yes", "maybe", "no"])
@pytest.mark.parametrize("size", ["micro", "small", "medium", "large"])
def test_the_article_case_is_not_placed_in_a_business_department(size, dedicated):
    rec = advise(with_(ARTICLE, org_size=size, dedicated_possible=dedicated))
    assert rec.placement not in BUSINESS
    assert rec.placement in {"dedicated", "management", "communication", "web"}


def test_the_article_case_names_exactly_its_risks():
    rec = advise(ARTICLE)
    assert set(rec.risks) == {
        "quantitative_objectives", "budget_owner_pressure", "no_budget_for_volume_targets",
        "unrealistic_audience_target", "reporting_mismatch",
    }
    assert len(rec.risks) == 5


def test_the_article_case_reframes_all_three_objectives():
    rec = advise(ARTICLE)
    assert [r.objective for r in rec.reframed] == ["fans", "conversion", "company_news"]
    for lang in ("en", "fr"):
        words = explain(rec, FLOW, lang)
        assert [r["from"] for r in words["reframed"]] == ["fans", "conversion", "company_news"]
        for item in words["reframed"]:
            assert item["to"].strip() and item["why"].strip()
            assert item["indicators"] and all(i.strip() for i in item["indicators"])
            # The reframed objective is not the volume objective repeated.
            assert item["to"] != FLOW.label("objectives", item["from"], lang)


def test_the_sales_department_is_ruled_out_and_says_why():
    rec = advise(ARTICLE)
    sales = next(s for s in rec.scores if s.place == "sales")
    assert not sales.eligible
    assert rec.runner_up != "sales"
    words = explain(rec, FLOW, "en")
    sales_words = next(s for s in words["scores"] if s["place"] == "sales")
    assert sales_words["reasons"], "a ruled-out placement must say why"


def test_the_article_case_explanations_cite_its_answers():
    words = explain(advise(ARTICLE), FLOW, "en")
    details = {d["id"]: d for d in words["risk_details"]}
    assert "Sales" in details["budget_owner_pressure"]["explanation"]
    for objective in ("fans", "conversion", "company_news"):
        label = FLOW.label("objectives", objective, "en")
        assert label in details["no_budget_for_volume_targets"]["explanation"]
    assert all(d["title"].strip() and d["explanation"].strip() for d in details.values())


# --- each risk: trigger and non-trigger ------------------------------------------------------


def test_clean_answers_raise_no_risk():
    assert advise(CLEAN).risks == ()


RISK_CASES: list[tuple[str, dict[str, Any], bool]] = [
    # quantitative_objectives: a volume objective and the role sits in / is paid by business.
    ("quantitative_objectives", with_(CLEAN, objectives=["fans"], proposed_host="marketing"), True),
    ("quantitative_objectives",
     with_(CLEAN, objectives=["company_news"], proposed_host="sales", budget_owner="host"), True),
    ("quantitative_objectives",
     with_(CLEAN, objectives=["conversion", "feedback"], proposed_host="sales"), True),
    ("quantitative_objectives", with_(CLEAN, objectives=["fans"]), False),
    ("quantitative_objectives", with_(CLEAN, objectives=["fans"], proposed_host="web"), False),
    ("quantitative_objectives", with_(CLEAN, objectives=["awareness"], proposed_host="sales",
                                      budget_owner="host"), False),
    # budget_owner_pressure: the host pays and the host is a business department.
    ("budget_owner_pressure", with_(CLEAN, proposed_host="sales", budget_owner="host"), True),
    ("budget_owner_pressure", with_(CLEAN, proposed_host="marketing", budget_owner="host"), True),
    ("budget_owner_pressure", with_(CLEAN, proposed_host="sales", budget_owner="management"),
     False),
    ("budget_owner_pressure", with_(CLEAN, proposed_host="sales", budget_owner="shared"), False),
    ("budget_owner_pressure", with_(CLEAN, proposed_host="communication", budget_owner="host"),
     False),
    ("budget_owner_pressure", with_(CLEAN, proposed_host="management", budget_owner="host"), False),
    ("budget_owner_pressure", with_(CLEAN, proposed_host="undecided", budget_owner="host"), False),
    # no_budget_for_volume_targets: budget 0 and a volume objective.
    ("no_budget_for_volume_targets", with_(CLEAN, budget_amount=0, objectives=["fans"]), True),
    ("no_budget_for_volume_targets",
     with_(CLEAN, budget_amount=0, objectives=["company_news", "awareness"]), True),
    ("no_budget_for_volume_targets", with_(CLEAN, budget_amount=0), False),
    ("no_budget_for_volume_targets", with_(CLEAN, budget_amount=1, objectives=["fans"]), False),
    ("no_budget_for_volume_targets",
     with_(CLEAN, budget_owner="unknown", budget_amount=None, objectives=["fans"]), False),
    # unrealistic_audience_target: fans, little or no content, not a household name.
    ("unrealistic_audience_target",
     with_(CLEAN, objectives=["fans"], content="none", brand_reach="niche"), True),
    ("unrealistic_audience_target",
     with_(CLEAN, objectives=["fans", "support"], content="little", brand_reach="known"), True),
    ("unrealistic_audience_target",
     with_(CLEAN, objectives=["fans"], content="none", brand_reach="household"), False),
    ("unrealistic_audience_target",
     with_(CLEAN, objectives=["fans"], content="regular", brand_reach="niche"), False),
    ("unrealistic_audience_target",
     with_(CLEAN, objectives=["company_news"], content="none", brand_reach="niche"), False),
    # isolated_role: few or no departments to work with.
    ("isolated_role", with_(CLEAN, collaboration=[]), True),
    ("isolated_role", with_(CLEAN, collaboration=["web"]), True),
    ("isolated_role", with_(CLEAN, departments=["web"], proposed_host="web", collaboration=[]),
     True),
    ("isolated_role", with_(CLEAN, collaboration=["web", "sales"]), False),
    # reporting_mismatch: reported as volume or sales only.
    ("reporting_mismatch", with_(CLEAN, reporting="volume"), True),
    ("reporting_mismatch", with_(CLEAN, reporting="sales"), True),
    ("reporting_mismatch", with_(CLEAN, reporting="qualitative"), False),
    ("reporting_mismatch", with_(CLEAN, reporting="none"), False),
]


@pytest.mark.parametrize(("risk", "answers", "present"), RISK_CASES,
                         ids=[f"{r}-{'yes' if p else 'no'}-{n}"
                              for n, (r, _, p) in enumerate(RISK_CASES)])
def test_risk_trigger_and_non_trigger(risk, answers, present):
    rec = advise(answers)
    assert (risk in rec.risks) == present, rec.risks
    if present:
        for lang in ("en", "fr"):
            detail = next(d for d in explain(rec, FLOW, lang)["risk_details"] if d["id"] == risk)
            assert detail["title"].strip() and detail["explanation"].strip()
            assert "{" not in detail["explanation"]


# --- the business-payer rule and the unit of its own -----------------------------------------


@pytest.mark.parametrize("host", ["sales", "marketing"])
@pytest.mark.parametrize("objectives", [["fans"], ["conversion"], ["fans", "conversion",
                                                                    "company_news"]])
def test_a_business_department_that_pays_for_volume_is_never_the_placement(host, objectives):
    # Everything else pushes towards that department: it is the only one, it is the plan,
    # and nothing else is possible.
    answers = with_(CLEAN, departments=[host], proposed_host=host, budget_owner="host",
                    objectives=objectives, collaboration=[host], dedicated_possible="no",
                    org_size="micro")
    rec = advise(answers)
    assert rec.placement != host


@pytest.mark.parametrize("base", [ARTICLE, CLEAN])
def test_a_unit_of_its_own_wins_when_it_is_possible(base):
    for size in ("micro", "small", "medium", "large"):
        rec = advise(with_(base, dedicated_possible="yes", org_size=size))
        assert rec.placement == "dedicated"


# --- the whole answer space ------------------------------------------------------------------


def in_flow_order(picked: list[str], order: list[str]) -> list[str]:
    return [x for x in order if x in picked]


FREE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=80
).map(str.strip).filter(bool) | st.sampled_from(["{text}", "{0}", "50% {", "Train partners"])


@st.composite
def answer_sets(draw) -> dict[str, Any]:
    """Any set of answers the flow can produce."""
    answers: dict[str, Any] = {"org_size": draw(st.sampled_from(["micro", "small", "medium",
                                                                  "large"]))}
    departments = in_flow_order(
        draw(st.lists(st.sampled_from(DEPARTMENTS), min_size=1, unique=True)), DEPARTMENTS)
    answers["departments"] = departments
    answers["proposed_host"] = draw(st.sampled_from([*departments, "management", "undecided"]))
    answers["budget_owner"] = draw(st.sampled_from(["host", "management", "shared", "dedicated",
                                                    "unknown"]))
    if answers["budget_owner"] != "unknown":
        answers["budget_amount"] = draw(st.just(0) | st.integers(0, 1_000_000_000))
    objectives = in_flow_order(
        draw(st.lists(st.sampled_from(OBJECTIVES), min_size=1, unique=True)), OBJECTIVES)
    answers["objectives"] = objectives
    if "other" in objectives:
        answers["objectives_other"] = draw(FREE_TEXT)
    answers["reporting"] = draw(st.sampled_from(["volume", "sales", "qualitative", "none"]))
    answers["content"] = draw(st.sampled_from(["none", "little", "regular", "rich"]))
    answers["brand_reach"] = draw(st.sampled_from(["household", "known", "niche"]))
    answers["collaboration"] = in_flow_order(
        draw(st.lists(st.sampled_from(departments), unique=True)), departments)
    answers["dedicated_possible"] = draw(st.sampled_from(["yes", "maybe", "no"]))
    return answers


def expected_risks(answers: dict[str, Any], placement: str) -> dict[str, bool | None]:
    """Each DESIGN.md risk condition; None where DESIGN leaves the case open."""
    objectives = answers["objectives"]
    quantitative = bool(QUANTITATIVE & set(objectives))
    host = answers["proposed_host"]
    host_pays = answers["budget_owner"] == "host"
    collaboration, departments = answers["collaboration"], answers["departments"]
    if not collaboration or (len(collaboration) == 1 and len(departments) > 1):
        isolated: bool | None = True
    elif len(collaboration) >= 2 or len(departments) == 1:
        isolated = False  # works with several departments, or with the only one there is
    else:
        isolated = None
    return {
        "quantitative_objectives": quantitative and (
            host in BUSINESS or placement in BUSINESS or (host_pays and host in BUSINESS)),
        "budget_owner_pressure": host_pays and host in BUSINESS,
        "no_budget_for_volume_targets": answers.get("budget_amount") == 0 and quantitative,
        "unrealistic_audience_target": "fans" in objectives
        and answers["content"] in ("none", "little") and answers["brand_reach"] != "household",
        "isolated_role": isolated,
        "reporting_mismatch": answers["reporting"] in ("volume", "sales"),
    }


PROPERTY = settings(max_examples=400, deadline=None)


@PROPERTY
@given(answers=answer_sets())
def test_invariants_hold_for_every_answer_set(answers):
    rec = advise(answers)
    candidates = {"dedicated", "management", *answers["departments"]}

    # placement and runner-up: two different candidates
    assert rec.placement in candidates
    assert rec.runner_up in candidates
    assert rec.placement != rec.runner_up

    # scores: every candidate exactly once, 0..100
    places = [s.place for s in rec.scores]
    assert sorted(places) == sorted(candidates)
    assert all(0 <= s.score <= 100 for s in rec.scores)
    assert all(isinstance(s.score, int) for s in rec.scores)

    # a unit of its own when it can have one
    if answers["dedicated_possible"] == "yes":
        assert rec.placement == "dedicated"

    # never a business department that pays for the role and gets only volume targets
    host = answers["proposed_host"]
    if (answers["budget_owner"] == "host" and host in BUSINESS
            and set(answers["objectives"]) <= QUANTITATIVE):
        assert rec.placement != host

    # one reframe per chosen objective, in order; `other` from its text
    assert [r.objective for r in rec.reframed] == answers["objectives"]
    for reframe in rec.reframed:
        if reframe.objective == "other":
            assert reframe.text == answers["objectives_other"]

    # risks: only DESIGN ids, no repeats, each present iff its condition holds
    assert set(rec.risks) <= set(RISK_IDS)
    assert len(set(rec.risks)) == len(rec.risks)
    for risk, expected in expected_risks(answers, rec.placement).items():
        if expected is not None:
            assert (risk in rec.risks) == expected, (risk, rec.risks)


@PROPERTY
@given(answers=answer_sets())
def test_advice_is_deterministic(answers):
    first = advise(answers)
    second = advise(copy.deepcopy(answers))
    assert first == second
    assert to_dict(first) == to_dict(second)
    # What is stored with a consultation gives back the same advice.
    assert from_dict(to_dict(first)) == first


@PROPERTY
@given(answers=answer_sets())
def test_advice_reads_in_english_and_french(answers):
    rec = advise(answers)
    for lang in ("en", "fr"):
        words = explain(rec, FLOW, lang)  # a missing message would raise KeyError
        assert words["placement"] == rec.placement
        assert words["placement_label"].strip() and words["placement_why"].strip()
        assert words["runner_up_label"].strip()
        assert [s["place"] for s in words["scores"]] == [s.place for s in rec.scores]
        for score in words["scores"]:
            assert score["label"].strip()
            assert all(r["text"].strip() for r in score["reasons"])
        assert [d["id"] for d in words["risk_details"]] == list(rec.risks)
        for detail in words["risk_details"]:
            assert detail["title"].strip() and detail["explanation"].strip()
            assert "{" not in detail["title"]
        assert [r["from"] for r in words["reframed"]] == answers["objectives"]
        for item in words["reframed"]:
            assert item["to"].strip() and item["why"].strip()
            assert isinstance(item["indicators"], list) and item["indicators"]
            if item["from"] == "other":
                assert answers["objectives_other"] in item["to"]
                assert item["from_label"] == answers["objectives_other"]


def test_english_and_french_texts_differ():
    en, fr = explain(advise(ARTICLE), FLOW, "en"), explain(advise(ARTICLE), FLOW, "fr")
    assert en["placement_why"] != fr["placement_why"]
    assert [d["title"] for d in en["risk_details"]] != [d["title"] for d in fr["risk_details"]]
    assert [r["to"] for r in en["reframed"]] != [r["to"] for r in fr["reframed"]]


WRONG_FRENCH = ("à Le ", "à La ", "à Les ", "à le ", "à les ")


def test_french_placement_sentence_is_grammatical():
    answers = with_(CLEAN, proposed_host="communication", budget_owner="host",
                    objectives=["awareness", "company_news"], dedicated_possible="no")
    rec = advise(answers)
    assert rec.placement == "communication"
    why = explain(rec, FLOW, "fr")["placement_why"]
    assert not any(wrong in why for wrong in WRONG_FRENCH), why


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_french_placement_sentence_is_grammatical_for_every_department(department):
    why = place_why(department, "fr")
    assert not any(wrong in why for wrong in WRONG_FRENCH), why
