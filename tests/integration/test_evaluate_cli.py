"""`audotics evaluate` end to end: the installed command on a ListenBrainz export fixture."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "listenbrainz-export.jsonl"
AUDOTICS = Path(sys.executable).parent / "audotics"
MODELS = ("popularity", "item-knn", "ease", "als", "bpr", "hybrid")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AUDOTICS), "evaluate", *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_evaluate_listenbrainz_export_prints_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = _run(str(FIXTURE), "--format", "listenbrainz", "--quick", "--json", str(out))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "6 users, 14 items" in lines[0] and "3 bad rows skipped" in lines[0]
    header = next(line for line in lines if line.startswith("model"))
    assert header.split()[1:4] == ["ndcg@10", "recall@10", "precision@10"]
    rows = {
        line.split()[0].rstrip("*"): line.split()
        for line in lines
        if line.split()[0].rstrip("*") in MODELS
    }
    assert set(rows) == set(MODELS)

    report = json.loads(out.read_text())
    assert (report["users"], report["items"], report["parse_issues"]) == (6, 14, 3)
    assert report["split"] == "leave-last-out(n=1)" and report["users_evaluated"] == 6
    assert set(report["models"]) == set(MODELS)
    for name, values in report["models"].items():
        for metric in ("ndcg@10", "recall@10", "coverage@10", "map@10", "diversity@10"):
            assert 0.0 <= values[metric] <= 1.0, (name, metric)
        assert f"{values['ndcg@10']:.4f}" == rows[name][1]
    check = report["hybrid_vs_baselines"]
    assert check["best_baseline"] in MODELS and check["best_baseline"] != "hybrid"
    checks = [line for line in lines if line.startswith("check: hybrid vs best baseline")]
    assert checks == [lines[-2]], lines  # the table's last line, before "report written"
    assert f"({check['best_baseline']}): {100 * check['ndcg_gain']:+.1f} %" in checks[0]
    # Two taste groups (rock, jazz) in the fixture: co-listening beats popularity.
    assert report["models"]["item-knn"]["ndcg@10"] > report["models"]["popularity"]["ndcg@10"]


def test_evaluate_options_and_errors(tmp_path: Path) -> None:
    """In-process (typer's runner) to keep it fast; the command is the same object."""
    from typer.testing import CliRunner

    from audotics.cli import app

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["evaluate", *args])
        return result.exit_code, result.output

    code, output = run(str(FIXTURE), "-f", "listenbrainz", "--models", "popularity", "--k", "3")
    assert code == 0, output
    assert "ndcg@3" in output and "als" not in output

    code, output = run(str(FIXTURE), "--format", "spotify")
    assert code == 2 and "--format" in output

    code, output = run(str(tmp_path / "nothing.jsonl"), "--format", "listenbrainz")
    assert code == 2 and "error:" in output

    empty = tmp_path / "empty.csv"
    empty.write_text("user_id,artist,track\n,,\n", encoding="utf-8")
    code, output = run(str(empty), "--format", "csv")
    assert code == 2 and "no usable listens" in output
