"""The Spark and Hadoop examples of docs/integrations/engines.md run as written.

Each runs as the docs show, as a script (so its task classes live in
``__main__`` and must be pickled under the script's module name for the Spark
driver and the Hadoop nodes).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
TEXT = "The cat sat\non the mat\n"
COUNTS = "cat\t1\nmat\t1\non\t1\nsat\t1\nthe\t2\n"


def _run(script: str, *args: str, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), "WordCount", *args],
        capture_output=True, text=True, timeout=600, env=env, cwd=cwd,
    )


def test_hadoop_example_runs_here_with_the_local_runner(tmp_path: Path) -> None:
    (tmp_path / "words.txt").write_text(TEXT)
    result = _run("hadoop_wordcount.py", "--source", "words.txt", "--destination", "wc.tsv", "--local-scheduler",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "wc.tsv").read_text() == COUNTS


def test_hadoop_example_runs_on_hadoop_streaming(tmp_path: Path) -> None:
    (tmp_path / "words.txt").write_text(TEXT)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "hadoop"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__).with_name("standin_hadoop.py")}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    config = tmp_path / "luigi.cfg"
    config.write_text(f"[hadoop]\nstreaming_jar = /opt/hadoop/streaming.jar\npython_executable = {sys.executable}\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env['PATH']}", LUIGI_CONFIG_PATH=str(config))
    result = _run("hadoop_wordcount.py", "--source", "words.txt", "--destination", "wc", "--on-hadoop",
                  "--local-scheduler", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "wc" / "part-00000").read_text() == COUNTS
    assert "wordcount,words=6" in result.stderr


@pytest.mark.slow
def test_spark_example_runs_in_local_mode(tmp_path: Path) -> None:
    pytest.importorskip("pyspark", reason="pyspark comes with trunkline's test extra")
    if shutil.which("java") is None and "JAVA_HOME" not in os.environ:
        pytest.skip("Spark needs a Java runtime (java on PATH or JAVA_HOME)")
    (tmp_path / "words.txt").write_text(TEXT)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "SPARK_HOME", "PYSPARK_PYTHON"}}
    env["SPARK_LOCAL_IP"] = "127.0.0.1"  # the driver and its UI listen on loopback only
    result = _run("spark_wordcount.py", "--source", "words.txt", "--destination", "wc.tsv", "--local-scheduler",
                  env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "wc.tsv").read_text() == COUNTS
