"""The project's Streamlit configuration: every option it sets exists in this Streamlit, with
the value the app relies on."""

from __future__ import annotations

import tomllib
from pathlib import Path

from streamlit import config

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def test_every_option_is_one_streamlit_knows():
    data = tomllib.loads(CONFIG.read_text())
    known = config._config_options_template  # noqa: SLF001 - the option registry
    for section, options in data.items():
        for name in options:
            assert f"{section}.{name}" in known, (
                f"{section}.{name} is not a Streamlit {config.__name__} option"
            )


def test_no_full_collection_after_each_run():
    # Streamlit's default runs gc.collect() after every script run, which delays each rerun's
    # last messages by the walk of every object of the process (docs/PERFORMANCE.md, fix U)
    data = tomllib.loads(CONFIG.read_text())
    assert data["runner"]["postScriptGC"] is False
    assert config._config_options_template["runner.postScriptGC"].default_val is True  # noqa: SLF001
