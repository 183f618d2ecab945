"""The interview: flow files, answer validation, sessions and the shared state machine.

`model` (what a flow is), `source`/`schema`/`rules`/`loader` (reading and checking flow files),
`machine` (a flow as transitions data), `engine` (running sessions on it), `answers` (validating
one answer), `session` (an interview in progress, as plain data).
"""

from .answers import Problem, Verdict, parse_number, validate
from .engine import Interview, Step
from .loader import load_flow, load_flows
from .model import Flow, Option, Question
from .session import CANCELLED, DONE, Answer, Session
from .source import DEFAULT_FLOW, FlowError, builtin_flows_dir
from .where import Where

__all__ = [
    "CANCELLED",
    "DEFAULT_FLOW",
    "DONE",
    "Answer",
    "Flow",
    "FlowError",
    "Interview",
    "Option",
    "Problem",
    "Question",
    "Session",
    "Step",
    "Verdict",
    "Where",
    "builtin_flows_dir",
    "load_flow",
    "load_flows",
    "parse_number",
    "validate",
]
