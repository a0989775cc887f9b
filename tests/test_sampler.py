"""py-spy sampling of a worker's profiled runs: planted costs are recovered, failed runs keep no profile."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from benchmarks.layer_map import attribute
from benchmarks.sampler import SamplingError, parse_raw, profile_worker, py_spy

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 0.06  # planted shares come back within 6 points: ~1,000 samples give a sampling error of ~1.5 points

# Fake layers: modules living where the layer map looks (site-packages/<package>/), loaded by path so their names
# cannot clash with the real packages. Each burns CPU for a planted time per run, measured in CPU seconds.
BURN = """
import json, time
def burn(seconds, through_json=False):
    end = time.process_time() + seconds
    payload = {"k": list(range(50))}
    while time.process_time() < end:
        if through_json:
            json.dumps(payload)  # the standard library counts for its caller: this package
"""

WORKER = """
import importlib.util, sys
from benchmarks.sampler import Budget, serve

def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

site, fail_from = sys.argv[1], int(sys.argv[2])
agno = load("planted_agno", f"{site}/agno/burn.py")
httpx = load("planted_httpx", f"{site}/httpx/burn.py")
mystery = load("planted_mystery", f"{site}/mystery/burn.py")
runs = 0

def run():
    global runs
    runs += 1
    agno.burn(0.0025)
    agno.burn(0.0025, through_json=True)
    httpx.burn(0.003)
    mystery.burn(0.002)
    return runs

def check(run_number):
    return "planted failure" if fail_from and run_number >= fail_from else None

sys.exit(serve(run, check, Budget(warmups=1, timed_runs=2, profiled_s=2.0, profiled_runs=3, rate=500)))
"""


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    if py_spy() is None:
        if os.environ.get("CI"):
            pytest.fail("py-spy is a project dependency and CI must run the real sampler")
        pytest.skip("py-spy not installed")
    site = tmp_path / "site-packages"
    for package in ("agno", "httpx", "mystery"):
        (site / package).mkdir(parents=True)
        (site / package / "burn.py").write_text(textwrap.dedent(BURN))
    (tmp_path / "worker.py").write_text(WORKER)
    return tmp_path


def _command(planted: Path, fail_from: int = 0) -> list[str]:
    return [sys.executable, str(planted / "worker.py"), str(planted / "site-packages"), str(fail_from)]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_planted_costs_come_back_as_layer_shares(planted: Path) -> None:
    profiled = profile_worker(_command(planted), 500, planted / "worker.log", env=_env())
    assert profiled.runs >= 3 and len(profiled.timed) == 2
    counted = attribute(profiled.stacks)
    shares = {layer: sum(kinds.values()) / counted.samples for layer, kinds in counted.by_layer.items()}
    assert counted.samples > 300, counted.samples
    assert shares["agno"] == pytest.approx(0.5, abs=TOLERANCE), shares  # half of it inside json, counted for agno
    assert shares["http"] == pytest.approx(0.3, abs=TOLERANCE), shares
    assert shares["rest"] == pytest.approx(0.2, abs=TOLERANCE), shares  # a package no layer names
    assert "mystery" in counted.rest_sources
    # The warm-ups, the timed runs and the checks ran outside the window: the sampler's own frames (the harness)
    # hold nothing but the loop around the runs.
    assert shares["harness"] < 0.05, shares


@pytest.mark.parametrize("fail_from", [2, 5])  # a timed run fails (before sampling); a profiled run fails (after)
def test_a_failed_run_keeps_no_profile(planted: Path, fail_from: int) -> None:
    with pytest.raises(SamplingError, match=r"failed its check, so its profile is not kept: .*planted failure"):
        profile_worker(_command(planted, fail_from), 500, planted / "worker.log", env=_env())


def test_a_worker_that_dies_is_named_with_its_log(planted: Path) -> None:
    command = [sys.executable, "-c", "import sys; print('boom', file=sys.stderr); sys.exit(3)"]
    with pytest.raises(SamplingError, match=r"ended \(exit 3\) before 'ready'.*worker\.log"):
        profile_worker(command, 500, planted / "worker.log")
    assert "boom" in (planted / "worker.log").read_text()


def test_raw_stacks_are_read_whole_or_refused() -> None:
    text = "a (x.py:1);b (y.py:2) 3\n 4\n\nc (z.py:9) 1\n"
    assert parse_raw(text, "s.txt") == (
        (("a (x.py:1)", "b (y.py:2)"), 3),
        ((), 4),  # a thread with no Python frame: counted, as the rest
        (("c (z.py:9)",), 1),
    )
    with pytest.raises(SamplingError, match=r"s\.txt:2: not 'frames count'"):
        parse_raw("a (x.py:1) 3\na (x.py:1) three\n", "s.txt")
