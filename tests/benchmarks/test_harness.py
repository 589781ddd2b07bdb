"""benchmarks/harness.py and benchmarks/report.py: statistics, ratios, targets, the process figures,
the JSON contract and the README block. No timing is asserted: only the arithmetic on given values."""

import json
import sys
from pathlib import Path

import jsonschema
import pytest

from benchmarks import report
from benchmarks.harness import SCHEMA_PATH, Bench, Stats, run_process

SCHEMA = json.loads(SCHEMA_PATH.read_text())


def validate(result: dict) -> None:
    jsonschema.validate(result, SCHEMA, format_checker=jsonschema.FormatChecker())


def test_stats_median_min_max_and_empty_refused():
    stats = Stats([3, 1, 2, 10], unit="ms")
    entry = stats.as_json("x")
    assert (entry["median"], entry["min"], entry["max"]) == (2.5, 1.0, 10.0)
    with pytest.raises(ValueError, match="at least one value"):
        Stats([])


@pytest.mark.parametrize("kind, expected", [("speedup", 4.0), ("relative", 0.25), ("throughput", 0.25)])
def test_ratio_kinds(kind, expected, tmp_path):
    bench = Bench(name="t", title="t", out=tmp_path / "t.json")
    entry = bench.compare("fig", Stats([1.0]), Stats([4.0]), ratio=kind)
    assert entry["ratio"] == pytest.approx(expected)
    assert entry["ratio_kind"] == kind


def test_targets_on_ratio_and_on_figure(tmp_path):
    bench = Bench(name="t", title="t", out=tmp_path / "t.json")
    fast = bench.compare("fast", Stats([1.0]), Stats([3.0]), target=">= 2")
    assert fast["met"] is True and fast["target"]["on"] == "ratio"
    slow = bench.compare("slow", Stats([2.0]), Stats([3.0]), target=">= 2")
    assert slow["met"] is False
    memory = bench.figure("rss", [1200.0], unit="MB", target="< 1000 MB")
    assert memory["met"] is False and memory["target"]["on"] == "median"
    with pytest.raises(ValueError, match="unit 'GB'"):
        bench.figure("rss", [1.0], unit="MB", target="< 1 GB")
    with pytest.raises(ValueError, match="no baseline"):
        bench.figure("rss", [1.0], unit="MB", target="< 1")
    with pytest.raises(ValueError, match="'about 2'"):
        bench.figure("rss", [1.0], unit="MB", target="about 2")
    with pytest.raises(ValueError, match="ratio must be one of"):
        bench.compare("x", Stats([1.0]), Stats([1.0]), ratio="faster")


def test_written_file_validates_and_renders(tmp_path):
    bench = Bench(name="demo_bench", title="a demonstration", out=tmp_path / "demo_bench.json")
    figure = bench.repeat(lambda: sum(range(1000)), repeats=3, unit="ms", scale=1000)
    baseline = bench.repeat(lambda: sum(range(2000)), repeats=3, unit="ms", scale=1000)
    bench.compare("sum", figure, baseline, baseline_name="twice the sum", target=">= 1.2",
                  details={"items": 1000})
    bench.note("a sentence")
    path = bench.write()
    result = json.loads(path.read_text())
    validate(result)
    assert result["machine"]["cores"] >= 1 and result["machine"]["tensorflow"]
    assert len(result["measurements"][0]["repeats"]) == 3
    text = report.render([result])
    assert "| sum |" in text and "twice the sum" in text and "- a sentence" in text
    # The targets table leads, one row per measurement with a target, named by its benchmark.
    assert text.startswith("**Targets**") and "| `demo_bench` | sum |" in text
    bench.measurements[0]["target"] = None
    assert not report.render([bench.as_json()]).startswith("**Targets**")


def test_skipped_needs_a_reason(tmp_path):
    bench = Bench(name="gone", title="needs data", out=tmp_path / "gone.json")
    bench.skip("data folder not found: /nowhere")
    result = json.loads(bench.write().read_text())
    validate(result)
    assert "SKIPPED: data folder not found" in report.render([result])
    result["reason"] = None
    with pytest.raises(jsonschema.ValidationError):
        validate(result)


def test_ok_without_measurements_is_invalid(tmp_path):
    result = Bench(name="empty", title="nothing", out=tmp_path / "e.json").as_json()
    with pytest.raises(jsonschema.ValidationError):
        validate(result)


def test_run_process_reports_time_v_figures():
    usage = run_process([sys.executable, "-c", "x = bytearray(64 * 2**20); x[::4096] = b'1' * len(x[::4096])"])
    assert usage.returncode == 0
    assert usage.peak_rss_mb >= 60  # the child's own 64 MB touched, not this process's
    assert usage.minor_faults > 1000 and 0.0 <= usage.sys_share <= 1.0
    with pytest.raises(RuntimeError, match="exit code 3"):
        run_process([sys.executable, "-c", "import sys; sys.exit(3)"])


def test_update_readme_replaces_only_the_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.BEGIN}\nold\n{report.END}\noutro\n")
    bench = Bench(name="b", title="t", out=tmp_path / "b.json")
    bench.figure("n", [1.0], unit="clips")
    results = [bench.as_json()]
    assert report.update_readme(readme, results) is True
    assert report.update_readme(readme, results) is False
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old" not in text
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="no benchmark markers"):
        report.update_readme(readme, results)


def test_run_process_peak_is_the_childs_own_not_the_parents():
    # Linux would hand a directly forked child this process's 300 MB as its starting peak
    held = bytearray(300 * 2**20)
    held[::4096] = b"1" * len(held[::4096])
    usage = run_process([sys.executable, "-c", "pass"])
    assert usage.peak_rss_mb < 150, usage.peak_rss_mb
    del held


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="needs /proc/stat (Linux)")
def test_other_load_counts_other_processes_not_the_benchmarks_own(tmp_path):
    """CPU accounting, not a timing: a process that burns 1 s of CPU is other load while nobody
    has reaped it, and the benchmark's own once it is its reaped child."""
    import os
    import subprocess

    burn = [sys.executable, "-c", "import time\nt = time.process_time()\n"
            "while time.process_time() - t < 1.0: pass"]

    def other_cores(reap: bool) -> float:
        bench = Bench(name="x", title="t", quick=True, out=tmp_path / "x.json")
        child = subprocess.Popen(burn)
        os.waitid(os.P_PID, child.pid, os.WEXITED | (0 if reap else os.WNOWAIT))
        cores = bench.as_json()["load"]["other_cores"]
        child.wait()
        return cores

    unreaped, reaped = other_cores(reap=False), other_cores(reap=True)
    assert unreaped >= reaped + 0.3, (unreaped, reaped)


def test_command_line_is_relative_to_the_checkout():
    from benchmarks.harness import ROOT, _command_line

    line = _command_line([str(ROOT / "benchmarks" / "bench_x.py"), "--data",
                          f"ravdess={ROOT.parent}/shared/data", "--quick"])
    assert line == "python benchmarks/bench_x.py --data ravdess=../shared/data --quick"
