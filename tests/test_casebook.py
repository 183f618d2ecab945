"""The casebook: every realistic answers file in `examples/`, run in English and French through
the real desk (TinyDB in a temporary folder), read the way the manager reads it — the Markdown
memo, the terminal panels and the Slack message — for the placement, who should pay, the risks
and the sentences that carry the advice."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rich.console import Console

from cmbot.export import render
from cmbot.report import Report
from cmbot.service import Desk
from cmbot.slack.blocks import recommendation_blocks, recommendation_metadata
from cmbot.store import Store
from cmbot.terminal.chat import run_answers
from cmbot.terminal.render import show_report

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@dataclass(frozen=True)
class Case:
    placement: str
    runner_up: str | None
    budget: str
    risks: tuple[str, ...]
    en: tuple[str, ...]
    fr: tuple[str, ...]
    flow: str = "community_manager"
    absent: dict[str, tuple[str, ...]] = field(default_factory=dict)


CASES: dict[str, Case] = {
    "article-case": Case(
        "dedicated", "management", "dedicated",
        ("quantitative_objectives", "budget_owner_pressure", "no_budget_for_volume_targets",
         "unrealistic_audience_target", "isolated_role", "reporting_mismatch"),
        en=("Recommended placement: a unit of its own", "you said it might be possible",
            "Recommended funding: a budget line of its own",
            "If the sales department pays as you planned, it will set the role's targets in revenue "
            "and leads",
            "The community manager would work with the sales department only.",
            "There is no budget for community actions yet"),
        fr=("Rattachement recommandé\u00a0: une entité à part entière",
            "Financement recommandé\u00a0: une ligne budgétaire propre",
            "Si le service commercial paie comme prévu, c’est lui qui fixera les objectifs du poste",
            "Le community manager ne travaillerait qu’avec le service commercial.",
            "produit peu de contenu engageant")),
    "micro-startup": Case(
        "management", None, "management",
        ("quantitative_objectives", "budget_owner_pressure", "unrealistic_audience_target",
         "reporting_mismatch"),
        en=("Recommended placement: general management",
            "With fewer than 10 people, the role reports to whoever runs the company",
            "No good alternative", "Recommended funding: general management's budget",
            "If the marketing department pays as you planned",
            "16% of community teams have no full-time member."),
        fr=("Rattachement recommandé\u00a0: la direction générale",
            "Avec moins de 10 personnes",
            "Pas de bonne alternative", "Si le marketing paie comme prévu",
            "16\u202f% des équipes communautaires")),
    "product-feedback": Case(
        "product", "management", "host", (),
        en=("Recommended placement: product",
            "Recommended funding: the budget of the product team, where the role sits",
            "The role can be paid from the budget of the product team", "That is the payer you named.",
            "ideas that shape the product",
            "No particular risk in these answers."),
        fr=("Rattachement recommandé\u00a0: le produit",
            "Financement recommandé\u00a0: le budget de l’équipe produit, où le poste est rattaché",
            "C’est le financement que vous aviez prévu.")),
    "support-community": Case(
        "customer_service", "product", "host", (),
        en=("Recommended placement: customer service",
            "Recommended funding: the budget of customer service, where the role sits",
            "faster answers from people who had the same problem"),
        fr=("Rattachement recommandé\u00a0: le service client",
            "Le poste peut être financé sur le budget du service client",
            "des réponses plus rapides, de la part de gens qui ont eu le même problème")),
    "household-brand": Case(
        "dedicated", "management", "dedicated",
        ("quantitative_objectives", "budget_owner_pressure", "reporting_mismatch"),
        en=("The role would sit in the marketing department with “Gain as many fans and "
            "followers as possible” as its target.",
            "If the marketing department pays as you planned, it will set the role's targets",
            "Marketing is the most common home of community teams: 30% of them sit there.",
            "Source: CMX, Community Industry Report 2021"),
        fr=("Le poste serait rattaché au marketing, avec pour objectif «\u00a0Gagner le plus "
            "d’abonnés possible\u00a0».",
            "Si le marketing paie comme prévu",
            "30\u202f% d’entre elles en dépendent")),
    "management-unit": Case(
        "dedicated", "management", "management", (),
        en=("Recommended placement: a unit of its own",
            "The role forms a unit of its own that reports to general management",
            "Recommended funding: general management's budget",
            "General management pays for a unit that reports to it",
            "That is the payer you named."),
        fr=("Rattachement recommandé\u00a0: une entité à part entière",
            "Financement recommandé\u00a0: le budget de la direction générale",
            "15\u202f% des équipes communautaires forment un service à part entière.")),
    "zero-budget-fans": Case(
        "communication", "management", "management",
        ("no_budget_for_volume_targets", "unrealistic_audience_target", "reporting_mismatch"),
        en=("Communication and general management are equally good (60/100). Communication "
            "comes first because it is where you planned to place the role, and it raises no risk.",
            "Recommended funding: general management's budget",
            "If the cost stays with the communication department alone",
            "when the company produces no engaging content and its brand is little known"),
        fr=("La communication et la direction générale se valent (60/100). La communication "
            "passe en premier, car c’est là que vous pensiez rattacher le poste",
            "Si le financement reste à la seule charge de la communication",
            "ne produit aucun contenu engageant et que sa marque est peu connue")),
    "all-unknown": Case(
        "dedicated", "management", "dedicated", ("isolated_role",),
        en=("You have not said who pays yet: settle it before the role starts",
            "Until it exists, attach the role to general management",
            "Plan a budget line of its own for the unit; until the unit exists, general "
            "management should pay",
            "The community manager would work with no department at all.",
            "80% of communities send their reports to a VP or higher"),
        fr=("Vous n’avez pas encore dit qui paie\u00a0: tranchez",
            "Le community manager ne travaillerait avec aucun service.")),
    "only-other-newsletter": Case(
        "management", "communication", "management",
        ("quantitative_objectives", "budget_owner_pressure", "reporting_mismatch"),
        en=("Behind “Doubler le nombre d’inscrits à la newsletter d’ici un an”: count the people "
            "who take part, not only those who sign up.",
            "General management and communication are equally good",
            "comes first because it ties the role less to one department's objectives"),
        fr=("Derrière «\u00a0Doubler le nombre d’inscrits à la newsletter d’ici un an\u00a0»\u00a0: "
            "compter ceux qui participent, pas seulement ceux qui s’inscrivent.",
            "avec pour objectif «\u00a0Doubler le nombre d’inscrits",
            "Si le marketing paie comme prévu")),
    "only-other-resellers": Case(
        "management", "product", "management", (),
        en=("Turn “Help our resellers share what works and learn the new range” into a community "
            "where partners learn from each other and from the company.",
            "That is the payer you named."),
        fr=("Faire de «\u00a0Help our resellers share what works and learn the new range\u00a0» "
            "une communauté où les partenaires apprennent les uns des autres",)),
    "hr-internal": Case(
        "communication", "management", "host", (),
        en=("Turn “Faire vivre le réseau interne des salariés et attirer des candidats” into "
            "employees and candidates who talk about the company of their own accord.",
            "If the cost stays with human resources alone"),
        fr=("Si le financement reste à la seule charge des ressources humaines",
            "Financement recommandé\u00a0: le budget de la communication")),
    "web-million": Case(
        "communication", "web", "management", ("reporting_mismatch",),
        en=("If the cost stays with the web team alone",
            "The role has its daily home in the communication department, but the money should "
            "come from general management"),
        fr=("Si le financement reste à la seule charge de l’équipe web",
            "Le poste est accueilli au quotidien à la communication, mais l’argent doit venir de "
            "la direction générale")),
    "review-sales": Case(
        "dedicated", "management", "management",
        ("quantitative_objectives", "budget_owner_pressure", "unrealistic_audience_target",
         "reporting_mismatch"),
        flow="objectives_review",
        en=("Review of the role in place",
            "The department that pays sets the targets",
            "Sales both hosts and pays for the role.",
            "The role sits in the sales department with",
            "Results are reported as sales and conversions.",
            "As long as the sales department pays"),
        fr=("Bilan du poste actuel", "Le service qui paie fixe les objectifs",
            "Le service commercial accueille et finance le poste.",
            "Les résultats sont présentés sous forme de ventes et conversions."),
        absent={"en": ("Recommended placement", "/100", " would "),
                "fr": ("Rattachement recommandé", "/100", "serait", "accueillerait")}),
    "review-healthy": Case(
        "customer_service", "dedicated", "host", (), flow="objectives_review",
        en=("That is how the role is paid today.", "No particular risk in these answers."),
        fr=("C’est ainsi que le poste est financé aujourd’hui.",),
        absent={"en": ("Recommended placement", "/100"), "fr": ("Rattachement recommandé",)}),
}


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    return Desk(Store(tmp_path_factory.mktemp("casebook") / "db"))


def test_every_example_is_in_the_casebook():
    files = {p.stem for p in EXAMPLES.glob("*.yaml") if not p.stem.startswith("panel-")}
    assert files == set(CASES)
    assert len(files) >= 12


def terminal_text(report: Report, full: bool) -> str:
    console = Console(record=True, width=400, color_system=None)
    show_report(console, report, full=full)
    return console.export_text()


# Spacing French typography forbids: a plain space before : ; ? ! », after «, before %.
FRENCH_SPACING = re.compile(r" [:;?!»%]|« ")


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_the_manager_reads_sound_advice(desk, name, lang):
    case = CASES[name]
    report = run_answers(desk, case.flow, lang, EXAMPLES / f"{name}.yaml")
    full = case.flow == "community_manager"

    advice = report.advice
    assert advice.placement.place == case.placement
    assert advice.runner_up.place == case.runner_up
    assert advice.funding is not None and advice.funding.owner == case.budget
    assert report.risk_ids == list(case.risks)

    memo = render(report, desk.flow(case.flow), lang, "md")
    terminal = terminal_text(report, full)
    blocks = json.dumps(recommendation_blocks(report, full), ensure_ascii=False)
    assert recommendation_metadata(report)["event_payload"]["budget_owner"] == case.budget

    for sentence in getattr(case, lang):
        assert sentence in memo, sentence
    # Every door shows who should pay and each risk.
    for text in (memo, terminal, blocks):
        assert advice.funding.line in text
        for risk in advice.risks:
            assert risk.title in text
    if full:
        for text in (memo, terminal, blocks):
            assert advice.placement.line in text
    for sentence in case.absent.get(lang, ()):
        assert sentence not in memo, sentence

    # The memo has its own title and headings, and keeps French typography through Markdown.
    headings = [line for line in memo.splitlines() if line.startswith("#")]
    assert len(headings) == len(set(headings))
    assert not any(h.rstrip("# ") == "" for h in headings)
    if lang == "fr":
        ours = memo
        for value in report.answers.values():
            ours = ours.replace(str(value), "")
        assert not FRENCH_SPACING.search(ours), FRENCH_SPACING.search(ours)
        assert "\u202f" in memo and "\u00a0" in memo


def test_a_consultation_saved_before_budgets_existed_still_says_who_pays(desk):
    """Consultations archived by an earlier cmbot have no budget in their stored advice."""
    report = run_answers(desk, "community_manager", "en", EXAMPLES / "article-case.yaml")
    consultation = desk.consultation(report.consultation_id)
    for key in ("budget", "tie", "evidence", "in_place"):
        consultation.recommendation.pop(key)
    again = desk.report(consultation)
    assert again.advice.funding == report.advice.funding
    assert again.advice.placement == report.advice.placement
