from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import global_state  # from this folder, put on the path above


def pytest_configure(config: pytest.Config) -> None:
    # Nothing in the suite may reach the network; the CLI's config reader
    # (_configs.py) sets both for its process too: set here, it changes nothing.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    # transformers quiet (errors only) from its import on, in every test: the
    # model helpers' set_verbosity_error() once made it quiet only for the tests
    # after the first one that built a model.
    os.environ["TRANSFORMERS_VERBOSITY"] = "error"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--overwrite",
        action="store_true",
        default=False,
        help="rewrite the golden files in tests/golden from the current output",
    )


@pytest.fixture
def overwrite(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--overwrite"))


@pytest.fixture(autouse=True)
def _leaves_global_state_as_found(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails a test that leaves process-wide state changed (the formula
    registry, torch's defaults and modes, distributions' validation, logging,
    warnings filters, the environment: ``global_state``), after putting it
    back, so that no later test depends on it; torch's RNG starts from one
    seed in every test and is put back after it. (An autouse fixture is set
    up before the test's other fixtures and torn down after them: their own
    restoring, monkeypatch's and caplog's, has run by then.)"""
    before = global_state.snapshot()
    dynamo_patched = global_state.dynamo_patched()
    global_state.start()
    yield
    leaked = global_state.restore(before, dynamo_patched_before=dynamo_patched)
    if leaked:
        pytest.fail(
            f"{request.node.nodeid} left global state changed (now put back):\n  "
            + "\n  ".join(leaked),
            pytrace=False,
        )
