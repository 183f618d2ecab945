"""The recommendation as the terminal draws it, at 80 and 160 columns, in both languages:
`cmbot show` run as a person runs it, its lines read back."""

from __future__ import annotations

import io
import json
import re
from functools import cache

import pytest
from clitools import ARTICLE, Cli
from rich.console import Console

from cmbot.i18n import t
from cmbot.report import Report
from cmbot.terminal.render import show_report  # installs the no-break-space rule
from cmbot.terminal.typography import shorten, wrap

WIDTHS = [80, 160]


@pytest.fixture(scope="module")
def article(tmp_path_factory) -> tuple[Cli, dict]:
    cli = Cli(tmp_path_factory.mktemp("render"))
    return cli, cli.chat_json({**ARTICLE, "collaboration": ["communication"]})


@cache
def shown(cli: Cli, cid: str, lang: str, width: int) -> tuple[str, ...]:
    """`cmbot show` prints the same lines for the same consultation, language and width: it
    runs once for each, and every test that reads those lines reads them."""
    result = cli("show", cid, "--lang", lang, COLUMNS=str(width))
    assert result.returncode == 0, result.stderr
    return tuple(result.stdout.splitlines())


def inner(line: str) -> str:
    """A line without the panel's border and padding."""
    return line.strip().strip("│").strip()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_no_line_overflows_and_no_punctuation_starts_one(article, lang, width):
    cli, report = article
    for line in shown(cli, report["consultation_id"], lang, width):
        assert len(line) <= width, line
        text = inner(line)
        assert not re.match(r"[?!;:»]", text), line   # torn from the word before it
        assert not text.endswith("«"), line


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_head_panel_gives_the_scores(article, lang, width):
    cli, report = article
    scores = {s["place"]: s["score"] for s in report["scores"]}
    labels = json.loads(cli("export", report["consultation_id"], "--format", "json", "--lang",
                            lang).stdout)
    joined = " ".join(inner(line) for line in shown(cli, report["consultation_id"], lang, width))
    assert f"{labels['placement_line']} ({scores[report['placement']]}/100)" in joined
    assert f"{labels['runner_up_line']} ({scores[report['runner_up']]}/100)" in joined


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_scores_table_is_compact(article, lang):
    """Each placement is one line (score, bar, label) and each reason one line at 160 columns;
    at 80 a reason may wrap, but the table stays under twice that height."""
    cli, report = article
    title = t("advice.scores", lang)
    reasons = sum(len(s["reasons"]) for s in report["scores"])
    needed = len(report["scores"]) * 2 - 1 + reasons  # a blank line between placements
    heights = {}
    for width in WIDTHS:
        lines = shown(cli, report["consultation_id"], lang, width)
        start = next(i for i, line in enumerate(lines) if title in line)
        end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("╰"))
        heights[width] = end - start - 1
        rows = [inner(line) for line in lines[start + 1:end]]
        for s in report["scores"]:
            label = re.escape(t(f"place.{s['place']}", lang))
            assert any(re.match(rf"\s*{s['score']}/100 [█░]{{10}} {label}", r) for r in rows), label
    assert heights[160] == needed
    assert heights[80] < 2 * needed


@pytest.mark.parametrize("width", WIDTHS)
def test_risk_explanations_hang_under_their_title(article, width):
    cli, report = article
    lines = shown(cli, report["consultation_id"], "fr", width)
    start = next(i for i, line in enumerate(lines) if t("advice.risks", "fr") in line)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("╰"))
    body = [line.strip("│").rstrip() for line in lines[start + 1:end]]
    for line in body:
        assert line.startswith(" • ") or line.startswith("   "), line


def test_no_break_spaces_hold_words_together():
    """rich would break "manager ?" before the "?" (it wraps at every Unicode space)."""
    console = Console(width=34, file=io.StringIO(), color_system=None)  # "?" at column 35
    console.print("Où placer votre community manager\u202f? Répondez «\u00a0retour\u00a0»")
    printed = console.file.getvalue().splitlines()
    assert all(not line.lstrip().startswith(("?", "»")) for line in printed), printed
    assert any("manager\u202f?" in line for line in printed), printed
    assert any("«\u00a0retour\u00a0»" in line for line in printed), printed


def test_prompt_wrapping_and_shortening_keep_words_whole():
    prompt = "Le poste pourrait-il former une entité à part, rattachée à la direction générale\u202f?"
    lines = wrap(prompt, 30, indent="  ")
    assert all(len(line) <= 30 for line in lines)
    assert lines[-1].endswith("générale\u202f?")
    assert " ".join(line.strip() for line in lines) == prompt
    assert shorten(prompt, 40) == "Le poste pourrait-il former une entité …"
    assert shorten("Short", 40) == "Short"


def test_show_report_draws_into_any_console(article):
    """The same drawing code serves `chat`, `show` and `--answers` without --json."""
    _, report = article  # as `--json` printed it: read back into the typed report
    console = Console(width=80, file=io.StringIO(), color_system=None)
    show_report(console, Report.from_dict(report))
    assert t("advice.risks", "en") in console.file.getvalue()
