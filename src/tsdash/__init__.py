"""tsdash: an operations dashboard for Trust & Safety teams."""

__version__ = "0.1.0"
