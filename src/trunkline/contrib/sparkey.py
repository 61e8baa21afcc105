""":class:`SparkeyExportTask`: turns tab-separated lines into a Sparkey log file (Spotify's key-value store).

Subclasses give ``requires()`` (whose output yields ``key<separator>value``
lines) and ``output()``, which must be a LocalTarget. The log is written to a
temporary file and moved into place when complete.
The ``sparkey`` Python bindings (github.com/spotify/sparkey-python) and the
libsparkey C library they wrap are installed separately; there is no extra.
"""

from __future__ import annotations

from typing import Any

import trunkline as luigi


class SparkeyExportTask(luigi.Task):
    """Writes one Sparkey entry per input line: the first field maps to the rest of the line."""

    separator = "\t"  # splits each input line into key and value

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def run(self) -> None:
        self._write_sparkey_file()

    def _write_sparkey_file(self) -> None:
        try:
            import sparkey
        except ImportError as exc:
            raise ImportError(
                "SparkeyExportTask needs the sparkey bindings (github.com/spotify/sparkey-python) "
                "and libsparkey, which are not installed"
            ) from exc
        infile = self.input()
        outfile = self.output()
        if not isinstance(outfile, luigi.LocalTarget):
            raise TypeError("output must be a LocalTarget")
        temp_output = luigi.LocalTarget(is_tmp=True)
        writer = sparkey.LogWriter(temp_output.path)
        try:
            for line in infile.open("r"):
                key, value = line.strip().split(self.separator, 1)
                writer[key] = value
        finally:
            writer.close()
        temp_output.move(outfile.path)
