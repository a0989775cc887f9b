"""The report's "What should I do?" sentences: each follows from the data, in both directions (synthetic results)."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from benchmarks.advice import (
    MAX_SENTENCES,
    advise,
    failure_sentence,
    fanout_sentence,
    memory_sentence,
    streaming_sentence,
    workload_sentence,
)
from benchmarks.claims import CLAIMS_BY_ID, Evidence, Verdict
from tests import synthetic


def _ratio(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found is not None, text
    return float(found.group(1))


def _report(threads: float, taskgroup: float, noise: float = 0.01, scenario: str = "report-25") -> list:
    return [
        synthetic.case(scenario, "threads", threads, "3.13", noise=noise, fanout=100),
        synthetic.case(scenario, "taskgroup", taskgroup, "3.13", noise=noise, fanout=100),
    ]


@pytest.mark.parametrize(
    ("threads", "taskgroup", "fastest", "other"),
    [(2.0, 1.0, "taskgroup", "threads"), (1.0, 2.0, "threads", "taskgroup")],
)
def test_the_workload_sentence_names_the_faster_variant(threads: float, taskgroup: float, fastest: str, other: str):
    sentence = workload_sentence(synthetic.run(_report(threads, taskgroup)))
    assert sentence is not None and sentence.evidence == "C1"
    assert f"{fastest} was fastest: {other} took" in sentence.text
    assert _ratio(rf"{other} took ([\d.]+)x as long", sentence.text) == pytest.approx(2.0, rel=0.02)
    assert "On report-25 (100 market-data calls" in sentence.text


def test_the_largest_report_is_the_one_described_and_a_tie_is_called_one() -> None:
    cases = _report(1.2, 1.0, scenario="report-5") + _report(1.0, 1.0, noise=0.3)
    for case in cases[:2]:
        object.__setattr__(case, "fanout", 20)
    sentence = workload_sentence(synthetic.run(cases))
    assert sentence is not None and "On report-25" in sentence.text and "indistinguishable" in sentence.text


def test_no_report_measured_with_two_variants_gives_no_workload_sentence() -> None:
    assert workload_sentence(synthetic.run(_report(2.0, 1.0)[:1])) is None
    assert workload_sentence(synthetic.run()) is None


def _sweep(default: float, sized: float) -> list:
    threads = synthetic.case("fanout-100", "threads", default, "3.13", fanout=400, group="fanout")
    pool = replace(
        synthetic.case("fanout-100", "threads", sized, "3.13", fanout=400, group="fanout", seed=7),
        name="fanout-100/threads@pool-fanout",
        thread_pool_size="fanout",
    )
    tasks = synthetic.case("fanout-100", "taskgroup", 1.0, "3.13", fanout=400, group="fanout")
    return [threads, pool, tasks]


@pytest.mark.parametrize(("default", "sized"), [(3.0, 1.0), (0.8, 1.5)])
def test_the_fanout_sentence_follows_the_sweep(default: float, sized: float) -> None:
    sentence = fanout_sentence(synthetic.run(_sweep(default, sized)))
    assert sentence is not None
    assert "at 400 calls per step, the default thread pool (6 threads) took" in sentence.text
    assert _ratio(r"\(6 threads\) took ([\d.]+)x", sentence.text) == pytest.approx(default, rel=0.02)
    assert _ratio(r"sized to the fan-out ([\d.]+)x", sentence.text) == pytest.approx(sized, rel=0.02)


def _verdict(claim: str, value: float, low: float, high: float, **facts: object) -> Verdict:
    rows = (
        Evidence("older", "3.11", 9.0, 8.0, 10.0, "yes", facts=dict(facts)),
        Evidence("newest", "3.13", value, low, high, "yes", facts=dict(facts)),
    )
    return Verdict(CLAIMS_BY_ID[claim], "holds", value, "", (low, high), "", "", rows)


def test_the_streaming_sentence_follows_c5_both_ways() -> None:
    later = streaming_sentence(_verdict("C5", 2.1, 2.0, 2.2, scenario="report-5"))
    same = streaming_sentence(_verdict("C5", 1.01, 0.98, 1.04, scenario="report-5"))
    assert later is not None and "first chunk 2.10x later" in later.text and "Python 3.13" in later.text
    assert same is not None and "did not delay the first chunk" in same.text
    assert streaming_sentence(None) is None


def test_the_failure_sentence_follows_c7_both_ways() -> None:
    sooner = failure_sentence(_verdict("C7", 0.4, 0.38, 0.42, cancels_siblings=True))
    not_sooner = failure_sentence(_verdict("C7", 1.0, 0.95, 1.05, cancels_siblings=True))
    assert sooner is not None and "in 0.40x the time" in sooner.text and "cancels" in sooner.text
    assert not_sooner is not None and "not quicker" in not_sooner.text


def test_the_memory_sentence_names_the_cheaper_shape() -> None:
    tasks = memory_sentence(
        _verdict("C2b", 0.6, 0.5, 0.7, metric="rss", threads_per_operation=43008, taskgroup_per_operation=15360)
    )
    threads = memory_sentence(
        _verdict("C2b", 2.0, 1.9, 2.1, metric="rss", threads_per_operation=10240, taskgroup_per_operation=20480)
    )
    assert tasks is not None and "favours tasks" in tasks.text and "42.0 KiB" in tasks.text
    assert threads is not None and "favours threads" in threads.text


def test_at_most_five_sentences_each_pointing_at_its_evidence() -> None:
    verdicts = [
        _verdict("C5", 2.1, 2.0, 2.2, scenario="report-5"),
        _verdict("C7", 0.4, 0.38, 0.42),
        _verdict("C2b", 0.6, 0.5, 0.7, metric="rss", threads_per_operation=4.0, taskgroup_per_operation=2.0),
    ]
    sentences = advise(synthetic.run(_report(2.0, 1.0) + _sweep(3.0, 1.0)), verdicts)
    assert [s.evidence for s in sentences] == ["C1", "C1", "C5", "C7", "C2b"]
    assert len(sentences) <= MAX_SENTENCES
    assert advise(synthetic.run(), []) == []
