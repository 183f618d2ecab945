"""Who should pay for the role: the question the article puts before "where does it sit?".

Whoever pays sets the targets. So a business department never pays alone for a role it hosts
(it would turn the role's objectives into its own sales figures); a unit of its own is paid by a
line of its own or by general management, to which it reports; a department whose own aims are
participation (customer service running a support community, product collecting feedback) may
pay for the role it hosts. The manager's own answer is kept whenever it is one of these, and
when it is not, the advice says what keeping it would change.
"""

from __future__ import annotations

from .model import Budget
from .rules import BUSINESS, DEPARTMENTS, Facts


def acceptable(facts: Facts, home: str, payer: str) -> bool:
    """Can `payer` fund a role that sits in `home` without bending its objectives?"""
    if payer in ("management", "dedicated"):
        return True
    if payer == "shared":
        return home != "dedicated"  # a unit of its own answers to management, not to a committee
    return payer == home and home in DEPARTMENTS and home not in BUSINESS and not facts.quantitative


def default_owner(facts: Facts, home: str) -> str:
    if home == "dedicated":
        return "dedicated"
    if home in DEPARTMENTS and acceptable(facts, home, home):
        return "host"
    return "management"


def owner_of(payer: str, home: str) -> str:
    """The payer in the contract's words: the department the role sits in is `host`."""
    return "host" if payer == home and payer in DEPARTMENTS else payer


def case_of(facts: Facts, owner: str, home: str) -> str:
    if owner == "host" or owner == "shared":
        return owner
    if home == "dedicated":
        if owner == "management":
            return "unit_management"
        return "unit_own_maybe" if facts.unit == "maybe" else "unit_own"
    if owner == "dedicated":
        return "own_line"
    if home == "management":
        return "boss_micro" if facts.micro else "boss"
    return "department_management"


def named_of(facts: Facts, owner: str, home: str) -> str:
    """What the answer about the payer was: kept as it is, not given, or to be changed."""
    payer = facts.payer
    if payer in ("unknown", "undecided"):
        return payer
    if owner_of(payer, home) == owner:
        return "same"
    if payer in BUSINESS:
        return f"keep_{payer}"
    return "keep_shared" if payer == "shared" else "keep_department"


def recommend(facts: Facts, home: str) -> Budget:
    payer = facts.payer
    owner = owner_of(payer, home) if payer not in ("unknown", "undecided") and acceptable(
        facts, home, payer) else default_owner(facts, home)
    return Budget(owner=owner, home=home, case=case_of(facts, owner, home),
                  named=named_of(facts, owner, home), payer=payer,
                  zero=facts.get("budget_amount") == 0)
