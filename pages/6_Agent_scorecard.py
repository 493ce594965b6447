"""Agent scorecard: one agent's numbers against their team, for a one-on-one (``?agent=ID``)."""

from tsdash import ui
from tsdash.ui import scorecard

ctx = ui.frame("Agent scorecard", page="scorecard")
scorecard.render(ctx)
