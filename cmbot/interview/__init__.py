"""The interview: flow files, answer validation, sessions and the shared state machine."""

from .answers import Problem, Verdict, parse_number, validate
from .engine import Interview, Step
from .flow import Flow, FlowError, Option, Question, load_flow, load_flows
from .session import CANCELLED, DONE, Answer, Session

__all__ = [
    "CANCELLED", "DONE", "Answer", "Flow", "FlowError", "Interview", "Option", "Problem",
    "Question", "Session", "Step", "Verdict", "load_flow", "load_flows", "parse_number", "validate",
]
