"""Public data the workforce tests read (``../shared/data`` beside the project, see its SOURCES.md).

A user's fresh clone may not have it: those tests then skip with a message. Under CI (``CI=true``) the
data must be there, and a missing file is a failure, not a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path:
    """``ACCUEIL_SHARED_DATA`` if set, else ``../shared/data`` relative to the project root."""
    configured = os.environ.get("ACCUEIL_SHARED_DATA")
    return Path(configured) if configured else PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    """``shared_data("wfm/anonymous_bank_1999_6min_calls.csv")`` -> the file's path, or skip (fail in CI)."""

    def locate(relative: str) -> Path:
        path = shared_data_dir() / relative
        if not path.exists():
            message = f"public data {relative} not found under {shared_data_dir()} (set ACCUEIL_SHARED_DATA)"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        return path

    return locate
