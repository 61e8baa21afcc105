"""Configuration files: where they are read from, interpolation, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def read_in_fresh_process(tmp_path: Path, code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Configuration is a per-process singleton; each case gets a new process."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env={**{k: v for k, v in os.environ.items() if not k.endswith("CONFIG_PATH")}, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_later_files_win_key_by_key(tmp_path: Path) -> None:
    (tmp_path / "luigi.cfg").write_text("[core]\nworkers = 2\nlog_level = INFO\n")
    (tmp_path / "trunkline.cfg").write_text("[core]\nworkers = 3\n")
    (tmp_path / "extra.cfg").write_text("[core]\nlog_level = ERROR\n")
    done = read_in_fresh_process(
        tmp_path,
        """
        from trunkline.configuration import get_config
        c = get_config()
        print(c.getint("core", "workers"), c.get("core", "log_level"))
        """,
        {"LUIGI_CONFIG_PATH": str(tmp_path / "extra.cfg")},
    )
    assert done.stdout.split() == ["3", "ERROR"], done.stderr


def test_environment_variables_are_interpolated_and_a_missing_one_is_named(tmp_path: Path) -> None:
    (tmp_path / "luigi.cfg").write_text("[paths]\nroot = ${DATA_HOME}/x\nother = ${NOT_SET_ANYWHERE}\n")
    done = read_in_fresh_process(
        tmp_path,
        """
        from trunkline.configuration import get_config
        c = get_config()
        print(c.get("paths", "root"))
        try:
            c.get("paths", "other")
        except Exception as exc:
            print("ERROR", exc)
        """,
        {"DATA_HOME": "/srv/data"},
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "/srv/data/x"
    assert "NOT_SET_ANYWHERE" in lines[1] and "[paths]" in lines[1]


def test_malformed_file_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    (tmp_path / "luigi.cfg").write_text("[core]\nworkers = 2\nthis line is not an option\n")
    done = read_in_fresh_process(
        tmp_path,
        """
        from trunkline.configuration import get_config
        try:
            get_config()
        except Exception as exc:
            print(type(exc).__name__, exc)
        """,
    )
    assert "ConfigFileError" in done.stdout
    assert "luigi.cfg" in done.stdout and "line 3" in done.stdout


def test_toml_configuration_is_read_when_selected(tmp_path: Path) -> None:
    (tmp_path / "luigi.toml").write_text('[core]\nworkers = 4\n[Aggregate]\nwindow = 14\n')
    done = read_in_fresh_process(
        tmp_path,
        """
        import trunkline as luigi
        class Aggregate(luigi.Task):
            window = luigi.IntParameter()
        print(luigi.configuration.get_config().getint("core", "workers"), Aggregate().window)
        """,
        {"LUIGI_CONFIG_PARSER": "toml"},
    )
    assert done.stdout.split() == ["4", "14"], done.stderr


def test_trunkline_config_path_variable_is_read(tmp_path: Path) -> None:
    (tmp_path / "mine.cfg").write_text("[worker]\nkeep_alive = true\n")
    done = read_in_fresh_process(
        tmp_path,
        """
        from trunkline.worker import worker
        print(worker().keep_alive)
        """,
        {"TRUNKLINE_CONFIG_PATH": str(tmp_path / "mine.cfg")},
    )
    assert done.stdout.strip() == "True", done.stderr
