"""Scenario files: the shipped ones load, and a bad one names the file, the field and the expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios import SHIPPED_DIR, ScenarioError, ScenarioFilesError, load_scenario, load_scenarios, shipped_scenarios
from scenarios.model import synthetic_tickers

VALID = """
subflow = "report"
message = "Write a report on {tickers}."
tickers = ["AAPL", "MSFT"]
"""


def test_the_required_scenarios_ship() -> None:
    assert {"alone", "report-5", "report-25", "chat-3-turns", "report-5-failure"} <= set(shipped_scenarios())
    assert len(shipped_scenarios()["report-25"].tickers) == 25


def test_a_scenario_records_its_content_hash() -> None:
    first, second = (load_scenario(SHIPPED_DIR / "report-5.toml") for _ in range(2))
    assert len(first.content_hash) == 64 and first.content_hash == second.content_hash
    assert first.content_hash != load_scenario(SHIPPED_DIR / "report-25.toml").content_hash


def test_tickers_fill_the_message_as_cashtags(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(VALID)
    scenario = load_scenario(path)
    assert scenario.messages == ("Write a report on $AAPL, $MSFT.",)
    assert scenario.name == "ok" and scenario.fanout == 8


def test_a_ticker_count_makes_synthetic_symbols(tmp_path: Path) -> None:
    path = tmp_path / "many.toml"
    path.write_text(VALID.replace('["AAPL", "MSFT"]', "100"))
    assert load_scenario(path).tickers == synthetic_tickers(100)


def test_seeded_latency_is_the_same_for_the_same_call_and_differs_between_calls(tmp_path: Path) -> None:
    path = tmp_path / "dist.toml"
    path.write_text(VALID + '[latency.analyst]\nttft_ms = { dist = "lognormal", median = 80, sigma = 0.3 }\n')
    model = load_scenario(path).latency_for("analyst")
    assert model.ttft.sample_ms("1:analyst:AAPL:0") == model.ttft.sample_ms("1:analyst:AAPL:0")
    assert model.ttft.sample_ms("1:analyst:AAPL:0") != model.ttft.sample_ms("1:analyst:MSFT:0")


def test_market_data_endpoints_inherit_the_shared_table(tmp_path: Path) -> None:
    path = tmp_path / "md.toml"
    path.write_text(VALID + "[latency.market_data]\nttft_ms = 40\n[latency.news]\nttft_ms = 90\n")
    scenario = load_scenario(path)
    assert scenario.latency_for("quote").ttft.value == 40
    assert scenario.latency_for("news").ttft.value == 90


@pytest.mark.parametrize(
    ("text", "field", "expected"),
    [
        ('subflow = "report"\nmessage = [', "<file>", "valid UTF-8 TOML"),
        (VALID + "colour = 1\n", "colour", "one of"),
        (VALID.replace('"report"', '"summary"'), "subflow", "one of ['report', 'alone', 'chat']"),
        (VALID.replace('subflow = "report"\n', ""), "subflow", "a str (required)"),
        (VALID.replace('"MSFT"', '"msft"'), "tickers[1]", "an upper-case symbol"),
        (VALID.replace('"MSFT"', '"AAPL"'), "tickers", "distinct symbols"),
        (VALID.replace('"report"', '"alone"'), "tickers", "exactly one ticker"),
        (VALID + "thread_pool_size = 0\n", "thread_pool_size", "an integer from 1 to 1024"),
        (VALID + "streaming = 'yes'\n", "streaming", "a bool"),
        (VALID + "[latency.gpu]\nttft_ms = 1\n", "latency.gpu", "a call kind"),
        (VALID + "[latency.writer]\nttft_ms = -5\n", "latency.writer.ttft_ms", "finite milliseconds >= 0"),
        (VALID + '[latency.writer]\nttft_ms = { dist = "normal" }\n', "latency.writer.ttft_ms.dist", "one of"),
        (VALID + '[latency.writer]\nttft_ms = { dist = "uniform", low = 9, high = 1 }\n', "ttft_ms.low", "low <= high"),
        (VALID + "[latency.writer]\ntokens = 0\n", "latency.writer.tokens", "an integer from 1 to 4096"),
        (VALID + '[[failures]]\ncall = "quote:TSLA"\nkind = "http_500"\n', "failures[0].call", "a call of this"),
        (VALID + '[[failures]]\ncall = "writer"\nkind = "http_418"\n', "failures[0].kind", "one of"),
        (VALID.replace("message =", "messages ="), "messages", "a non-empty list"),
        # Files that would load but could not run (found by trying): each now fails at load time.
        (VALID + "[latency.writer]\nttft_ms = inf\n", "latency.writer.ttft_ms", "finite milliseconds"),
        (VALID + "[latency.writer]\nttft_ms = nan\n", "latency.writer.ttft_ms", "finite milliseconds"),
        (VALID + "[latency.writer]\ngap_ms = 90000\n", "latency.writer.gap_ms", "<= 60,000"),
        (VALID + '[latency.writer]\nttft_ms = { dist = "lognormal", median = 500, sigma = 3 }\n', "ttft_ms", "99.9th"),
        (VALID + "[latency.writer]\ntokens = 100000\n", "latency.writer.tokens", "an integer from 1 to 4096"),
        (VALID + '[[failures]]\ncall = "writer"\nkind = "timeout"\nafter_ms = inf\n', "after_ms", "finite"),
        (VALID.replace('tickers = ["AAPL", "MSFT"]', "tickers = 10000"), "tickers", "a count from 1 to 100"),
        (VALID.replace("{tickers}", "$AAPL"), "message", "routed to report with tickers ['AAPL', 'MSFT']"),
        (VALID.replace("Write a report on {tickers}.", "Hello there"), "message", "routed to chat"),
        ('subflow = "chat"\nmessage = "What about $AAPL?"\n', "message", "routed to chat with tickers []"),
        (
            VALID.replace('["AAPL", "MSFT"]', "100") + "[latency.market_data]\nttft_ms = 2000\n",
            "latency",
            "at most 600 s with every call made one after another",
        ),
        (VALID + 'name = "my report"\n', "name", "letters, digits"),
    ],
)
def test_a_malformed_file_names_file_field_and_expectation(
    tmp_path: Path, text: str, field: str, expected: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: field '")
    assert field in message and expected in message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nope\.toml: field '<file>': expected a readable TOML file"):
        load_scenario(tmp_path / "nope.toml")


def test_every_bad_file_is_named_and_a_shipped_name_cannot_be_taken(tmp_path: Path) -> None:
    (tmp_path / "one.toml").write_text(VALID + "colour = 1\n")
    (tmp_path / "two.toml").write_text(VALID.replace('"MSFT"', '"msft"'))
    (tmp_path / "report-5.toml").write_text(VALID)  # named after its file: a shipped scenario's name
    with pytest.raises(ScenarioFilesError) as raised:
        load_scenarios(sorted(tmp_path.glob("*.toml")))
    problems = raised.value.problems
    assert len(problems) == 3  # one bad file does not hide the others
    assert any("one.toml: field 'colour'" in p for p in problems)
    assert any("two.toml: field 'tickers[1]'" in p for p in problems)
    assert any("report-5.toml: field 'name'" in p and "already the name of" in p for p in problems)
    own = tmp_path / "mine.toml"
    own.write_text(VALID)
    assert load_scenarios([own])["mine"].source == str(own)
