"""Settings: environment parsing, validation, and that every setting is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from candor.config import Settings, settings_help
from candor.errors import ConfigurationError

ROOT = Path(__file__).resolve().parent.parent


def test_from_env() -> None:
    s = Settings.from_env(
        {"CANDOR_DATA_DIR": "/tmp/x", "CANDOR_LANDMARKS_68": "yes", "CANDOR_HOG_UPSAMPLE": "0"}
    )
    assert s.data_dir == Path("/tmp/x") and s.landmarks_68 is True and s.hog_upsample == 0
    assert s.media_dir == Path("/tmp/x/media")


@pytest.mark.parametrize(
    "env",
    [
        {"CANDOR_FACE_DETECTOR": "magic"},
        {"CANDOR_HOG_UPSAMPLE": "many"},
        {"CANDOR_LANDMARKS_68": "perhaps"},
    ],
)
def test_bad_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        Settings.from_env(env)


def test_every_setting_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name, _, _ in settings_help() if f"`{name}`" not in readme]
    assert not missing, f"settings not documented in README.md: {missing}"
