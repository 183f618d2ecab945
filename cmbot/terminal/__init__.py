"""The terminal front door: the interview with arrow keys or numbered prompts, the recommendation
and the history drawn with rich, deleting with a question first, the panel."""
