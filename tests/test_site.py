"""The published side: distilled runs, histories with steps, comparisons, the static site (in Chromium too)."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import pytest

from benchmarks.compare_runs import compare_runs
from benchmarks.compare_runs import main as compare_main
from benchmarks.history import RunRecord, SeriesKey, Value, load_records, series, write_record
from benchmarks.report import render
from benchmarks.run_dir import write_manifest
from benchmarks.site import build_site
from benchmarks.site import main as site_main
from tests.browser import ReportBrowser, artifacts_dir, require_chromium
from tests.synthetic import case, write_speed_suite

STEP_AT = 12
COMMITS = 20


def commit(i: int) -> str:
    return f"{i:02d}" + "ab" * 19


def record(i: int, machine: str = "m1", *, step: float = 1.15, missing: tuple[str, ...] = ()) -> RunRecord:
    """Run i of a history: report-5/taskgroup on 3.12 moves by `step` from commit STEP_AT on, the rest is flat;
    2% noise on each run's values (ten values each, so compare has something to resample)."""
    rng = random.Random(f"{machine}-{i}")
    values = {}
    for python in ("3.11", "3.12"):
        if python in missing:
            continue
        for variant, level in (("taskgroup", 0.200), ("threads", 0.300)):
            if variant == "taskgroup" and python == "3.12" and i >= STEP_AT:
                level *= step
            run_level = level * (1 + rng.gauss(0, 0.02))
            samples = tuple(run_level * (1 + rng.gauss(0, 0.01)) for _ in range(10))
            values[f"report-5/{variant}", python, "wall"] = Value(sorted(samples)[5], samples=samples)
        values["report-5@zero/taskgroup", python, "instructions"] = Value(4.2e8 * (1 + rng.gauss(0, 0.001)))
    return RunRecord(
        run_id=f"202612{i + 1:02d}-120000",
        commit=commit(i),
        commit_date=f"2026-12-{i + 1:02d}T10:00:00+00:00",
        profile="quick",
        machine=machine,
        transport="respx",
        openai="2",
        pythons=tuple(p for p in ("3.11", "3.12") if p not in missing),
        missing=missing,
        verdicts={"C1": "holds", "C4": "refuted"},
        values=values,
    )


@pytest.fixture
def results_root(tmp_path: Path) -> Path:
    root = tmp_path / "results"
    for i in range(COMMITS):
        write_record(record(i, missing=("3.12",) if i == 5 else ()), root)
    for i in range(4):
        write_record(record(i, "m2"), root)
    (root / "m1" / "broken.json").write_text("{not json")
    return root


def test_a_run_is_filed_by_machine_commit_and_profile_and_read_back_whole(tmp_path: Path) -> None:
    path = write_record(record(3), tmp_path)
    assert path.relative_to(tmp_path).as_posix() == f"m1/{commit(3)[:12]}-quick-20261204-120000.json"
    records, problems = load_records(tmp_path)
    assert problems == [] and records[0].values == record(3).values and records[0].verdicts["C4"] == "refuted"


def test_the_planted_step_is_found_at_its_commit_and_nowhere_else(results_root: Path, tmp_path: Path) -> None:
    records, problems = load_records(results_root)
    assert len(problems) == 1 and "broken.json" in problems[0]  # named and skipped
    build_site(records, problems, tmp_path / "site", {})
    page = (tmp_path / "site" / "regressions.html").read_text()
    assert page.count('<td class="regression">') == 1 and 'class="improvement"' not in page
    assert "report-5/taskgroup on Python 3.12" in page and "m1" in page
    assert f"<code>{commit(STEP_AT - 1)[:10]}</code> .. <code>{commit(STEP_AT)[:10]}</code>" in page
    assert re.search(r"<td>\+1[2-8]\.\d%</td>", page)  # the planted +15%, measured through 2% noise


def test_a_missing_interpreter_is_a_gap_not_a_zero(results_root: Path, tmp_path: Path) -> None:
    records, _ = load_records(results_root)
    points = series(records)[SeriesKey("m1", "respx", "quick", "3.12", "report-5/threads", "wall")]
    assert len(points) == COMMITS and points[5][1] is None and all(v is not None for _, v in points[6:])
    build_site(records, [], tmp_path / "site", {})
    history = next((tmp_path / "site" / "history").glob("m1*/wall.html")).read_text()
    assert "No value (a gap in the line, not a zero): Python 3.12 in run 20261206-120000." in history


def test_runs_from_two_machines_make_two_series(results_root: Path, tmp_path: Path) -> None:
    records, _ = load_records(results_root)
    machines = {key.machine for key in series(records)}
    assert machines == {"m1", "m2"}
    keys = [key for key in series(records) if key.case == "report-5/taskgroup" and key.python == "3.11"]
    assert len(keys) == 2 and {len(series(records)[key]) for key in keys} == {COMMITS, 4}
    build_site(records, [], tmp_path / "site", {})
    assert {p.parent.name.split("--")[0] for p in (tmp_path / "site" / "history").glob("*/wall.html")} == {"m1", "m2"}


def test_compare_decides_as_the_gate_and_never_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before, after = record(STEP_AT - 1), record(STEP_AT)
    rows = {(row.case, row.python, row.measure): row for row in compare_runs(before, after)}
    assert rows["report-5/taskgroup", "3.12", "wall"].decision == "regression"
    assert rows["report-5/threads", "3.12", "wall"].decision in ("no change", "slower, within threshold", "faster")
    assert rows["report-5@zero/taskgroup", "3.11", "instructions"].decision == "undecided"  # one count: no interval
    low, high = rows["report-5/taskgroup", "3.12", "wall"].low, rows["report-5/taskgroup", "3.12", "wall"].high
    assert low is not None and high is not None and 1.05 < low < high < 1.3
    a, b = write_record(before, tmp_path / "r"), write_record(after, tmp_path / "r")
    assert compare_main([str(a), str(b), "--out", str(tmp_path / "out")]) == 0  # a regression, reported, exit 0
    document = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert any(row["decision"] == "regression" for row in document["rows"]) and document["warnings"] == []
    assert "1 regression" in capsys.readouterr().out
    assert compare_main([str(a), str(tmp_path / "nowhere.json"), "--out", str(tmp_path / "x")]) == 2


def test_compare_warns_across_machines() -> None:
    from benchmarks.compare_runs import warnings

    assert warnings(record(1), record(2, "m2")) == [
        "different machines (m1 vs m2): a change may be the machine, not the code"
    ]


def _run_folder(root: Path, run_id: str, scale: float, sha: str) -> Path:
    directory = root / run_id
    write_manifest(directory, profile="quick", requested=["3.12"], missing=[], options=[])
    manifest = json.loads((directory / "run.json").read_text())
    manifest |= {"commit": sha, "commit_date": f"2026-12-0{run_id[-1]}T00:00:00+00:00", "machine": "ci-box"}
    (directory / "run.json").write_text(json.dumps(manifest))
    write_speed_suite(directory, "3.12", [case("report-5", "taskgroup", 0.2 * scale), case("report-5", "threads", 0.3)])
    render(directory)
    return directory


def test_publish_distills_run_folders_and_builds_a_site_every_browser_page_of_which_resolves(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    first = _run_folder(reports, "20261201-000001", 1.0, "a" * 40)
    second = _run_folder(reports, "20261202-000002", 1.3, "b" * 40)
    (reports / "broken").mkdir()  # not a run: named and skipped, the site still builds
    args = ["--results", str(tmp_path / "results"), "--out", str(tmp_path / "site")]
    assert site_main([str(first), str(second), str(reports / "broken"), *args]) == 0
    site = tmp_path / "site"
    index = (site / "index.html").read_text()
    assert "runs/20261201-000001/index.html" in index and "runs/20261202-000002/index.html" in index
    assert "broken" in index and "Skipped" in index
    assert (site / "compare" / "20261201-000001--20261202-000002.html").is_file()
    assert len(list((tmp_path / "results" / "ci-box").glob("*.json"))) == 2
    # Published again from results alone (the run folders gone): both runs stay, their reports from the old site.
    shutil.rmtree(reports)
    reports.mkdir()
    assert site_main(["--reports", str(reports), *args]) == 0
    index = (site / "index.html").read_text()
    assert "runs/20261201-000001/index.html" in index and (site / "runs" / "20261202-000002" / "index.html").is_file()
    executable = require_chromium()
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 6
    with ReportBrowser(executable) as browser:
        for page in pages:
            shot = artifacts_dir() / "site" / f"{page.relative_to(site).as_posix().replace('/', '__')}.png"
            check = browser.check(page, shot, "h1", root=site)
            assert check.ok, (page, check.problems())


def test_a_run_records_the_machine_and_commit_it_is_filed_under(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarks.environment import MACHINE_ENV, commit_date, git_commit, machine_name

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz\n")
    monkeypatch.delenv(MACHINE_ENV, raising=False)
    assert machine_name(cpuinfo).startswith("intel-xeon-platinum-8370c-2-80ghz-")  # hardware, not the host name
    monkeypatch.setenv(MACHINE_ENV, "bench-box")
    assert machine_name(cpuinfo) == "bench-box"
    write_manifest(tmp_path / "run", profile="quick", requested=["3.12"], missing=[], options=[])
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    assert manifest["machine"] == "bench-box"
    assert manifest["commit"] == git_commit() and manifest["commit_date"] == commit_date()
