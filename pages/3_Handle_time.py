"""Handle time: weekly AHT, median and p90 overall and per queue, the distribution with the
slowest cases, agents against the team median, agent x queue, new hires' learning curve."""

from tsdash import ui
from tsdash.ui import trends_a

ctx = ui.frame("Handle time", page="handle_time", url_keys=trends_a.URL_KEYS)
trends_a.render_handle_time(ctx)
