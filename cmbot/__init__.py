"""cmbot: advice on where a community manager belongs, who pays, and what to aim for."""

__version__ = "0.1.0"
