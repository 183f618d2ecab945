"""The advisor: pure functions from answers to a `Recommendation`."""

from .advise import advise
from .model import Reason, Recommendation, Reframe, Score
from .rules import BUSINESS, QUANTITATIVE

__all__ = ["BUSINESS", "QUANTITATIVE", "Reason", "Recommendation", "Reframe", "Score", "advise"]
