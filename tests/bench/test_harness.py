"""The benchmark harness runs end to end and reports well-formed figures.

No timing threshold here, ever: these tests check structure and that numbers were measured,
not how fast this machine is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.registry import Measurement, benchmark, load_figures, select, unregister
from bench.report import FigureResult, evaluate

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def test_quick_run_of_l2_and_l3_writes_json_and_markdown(
    test_database_url: str, tmp_path: Path
) -> None:
    env = dict(os.environ, DATABASE_URL=test_database_url)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run",
            "--quick",
            "--only",
            "L2,L3",
            "--duration",
            "1",
            "--copy-rows",
            "5000",
            "--schema",
            f"bench_raw_test_{os.getpid()}",
            "--output-dir",
            str(tmp_path),
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    document = json.loads((tmp_path / "latest.json").read_text())
    assert document["schema_version"] == 1
    assert set(document["machine"]) >= {"cpu_count", "postgresql", "date", "git_commit"}
    assert document["settings"]["only"] == ["L2", "L3"]
    figures = {figure["name"]: figure for figure in document["figures"]}
    assert list(figures) == ["L2", "L3"]
    for figure in figures.values():
        assert figure["error"] is None
        assert isinstance(figure["value"], float)
        assert figure["value"] > 0
        assert figure["limit"] is None
        assert figure["ratio"] is None
    assert figures["L2"]["unit"] == "updates/s"
    assert (
        figures["L2"]["details"]["counter_final_value"] == figures["L2"]["details"]["transactions"]
    )
    assert figures["L3"]["details"]["rows"] == 5000
    markdown = (tmp_path / "latest.md").read_text()
    assert "| figure | value | limit | ratio | goal | result |" in markdown
    assert "| L3 COPY" in markdown
    assert markdown in result.stdout


@pytest.fixture
def throwaway_benchmark() -> Iterator[object]:
    """A benchmark registered for one test (compared with L2) and removed afterwards."""

    @benchmark("B99", limit="L2", goal=">= 0.5", unit="updates/s")
    def b99(context: object) -> Measurement:
        """Throw-away benchmark for the registry tests."""
        return Measurement(value=1.0)

    yield b99
    unregister("B99")


@pytest.mark.usefixtures("throwaway_benchmark")
def test_a_benchmark_brings_its_limit_and_is_judged_on_its_ratio() -> None:
    figures = load_figures()
    selected = select(figures, ["B99"])
    limit = FigureResult(name="L2", title="hot row", unit="updates/s", value=400.0)

    passing = evaluate(selected[1], Measurement(value=300.0), limits={"L2": limit}, seconds=1)
    failing = evaluate(selected[1], Measurement(value=100.0), limits={"L2": limit}, seconds=1)

    assert [spec.name for spec in selected] == ["L2", "B99"]
    assert selected[1].title == "Throw-away benchmark for the registry tests."
    assert (passing.ratio, passing.goal, passing.passed) == (0.75, ">= 0.5", True)
    assert (failing.ratio, failing.passed) == (0.25, False)


@pytest.mark.usefixtures("throwaway_benchmark")
def test_a_benchmark_whose_limit_failed_has_no_ratio_and_no_verdict() -> None:
    spec = load_figures()["B99"]
    broken = FigureResult(name="L2", title="hot row", unit="updates/s", value=None, error="boom")

    result = evaluate(spec, Measurement(value=300.0), limits={"L2": broken}, seconds=1)

    assert (result.value, result.ratio, result.passed) == (300.0, None, None)


def test_unknown_figures_are_refused() -> None:
    with pytest.raises(KeyError, match="unknown figures: L42"):
        select(load_figures(), ["L0", "L42"])
