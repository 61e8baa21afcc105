"""SparkeyExportTask with a stand-in ``sparkey`` module (the real one needs libsparkey, a C library)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

import trunkline as luigi
from trunkline.contrib.sparkey import SparkeyExportTask


class FakeLogWriter:
    """Records what the task puts, and writes it on close as the real writer would."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.entries: dict[str, str] = {}

    def __setitem__(self, key: str, value: str) -> None:
        self.entries[key] = value

    def close(self) -> None:
        Path(self.path).write_text("".join(f"{k}={v}\n" for k, v in self.entries.items()))


def test_export_writes_every_line_and_publishes_by_moving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sparkey", types.SimpleNamespace(LogWriter=FakeLogWriter))
    source = tmp_path / "in.tsv"
    source.write_text("a\t1\nb\t2\tmore\n")

    class Lines(luigi.ExternalTask):
        def output(self) -> luigi.LocalTarget:
            return luigi.LocalTarget(str(source))

    class Export(SparkeyExportTask):
        def requires(self) -> Lines:
            return Lines()

        def output(self) -> luigi.LocalTarget:
            return luigi.LocalTarget(str(tmp_path / "out.spl"))

    assert luigi.build([Export()], local_scheduler=True)
    assert (tmp_path / "out.spl").read_text() == "a=1\nb=2\tmore\n"


def test_missing_bindings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sparkey", None)  # import fails

    class Export(SparkeyExportTask):
        pass

    with pytest.raises(ImportError, match="sparkey-python"):
        Export()._write_sparkey_file()
