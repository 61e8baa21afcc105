"""Load Avro files from GCS into BigQuery, and copy the Avro schema's ``doc``
into the table's description (``pip install "trunkline[bigquery]"`` plus
``avro`` for the description)."""

from __future__ import annotations

import logging
from typing import Any

from trunkline.contrib._dbdeps import optional_import
from trunkline.contrib.bigquery import BigQueryLoadTask, SourceFormat
from trunkline.task import flatten

logger = logging.getLogger("luigi-interface")

avro: Any = optional_import("avro", "bigquery")
if avro:
    import avro.datafile
    import avro.io


def GCSClient(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - Luigi's name for the class
    """``trunkline.contrib.gcs.GCSClient``, imported when first needed."""
    from trunkline.contrib.gcs import GCSClient as client_class

    return client_class(*args, **kwargs)


class BigQueryLoadAvro(BigQueryLoadTask):
    """``BigQueryLoadTask`` for Avro inputs: a directory input loads its ``*.avro`` files."""

    source_format = SourceFormat.AVRO

    def _avro_uri(self, target: Any) -> str:
        path_or_uri: str = target.uri if hasattr(target, "uri") else target.path
        return path_or_uri if path_or_uri.endswith(".avro") else path_or_uri.rstrip("/") + "/*.avro"

    def source_uris(self) -> list[str]:
        return [self._avro_uri(target) for target in flatten(self.input())]

    def _get_input_schema(self) -> Any:
        """The writer schema of the first input file (read from its first 64 KiB)."""
        assert avro, "avro module required"
        input_target = flatten(self.input())[0]
        input_fs = input_target.fs if hasattr(input_target, "fs") else GCSClient()
        input_uri = self.source_uris()[0]
        if "*" in input_uri:
            file_uris = list(input_fs.list_wildcard(input_uri))
            if not file_uris:
                raise RuntimeError("No match for " + input_uri)
            input_uri = file_uris[0]

        schema: list[Any] = []
        failure: list[Exception] = []

        def read_schema(fp: Any) -> bool:
            # Called by download() as bytes arrive; True stops it early.
            try:
                reader = avro.datafile.DataFileReader(fp, avro.io.DatumReader())
                schema[:] = [BigQueryLoadAvro._get_writer_schema(reader.datum_reader)]
            except Exception as error:
                failure[:] = [error]
                return False
            return True

        input_fs.download(input_uri, 64 * 1024, read_schema).close()
        if not schema:
            raise failure[0]
        return schema[0]

    @staticmethod
    def _get_writer_schema(datum_reader: Any) -> Any:
        """The writer schema, under the attribute name the installed avro uses."""
        return datum_reader.writer_schema

    def _set_output_doc(self, avro_schema: Any) -> None:
        table = self.output().table
        self.output().client.client.tables().patch(
            projectId=table.project_id, datasetId=table.dataset_id, tableId=table.table_id,
            body={"description": avro_schema.doc},
        ).execute()

    def run(self) -> None:
        super().run()
        try:
            self._set_output_doc(self._get_input_schema())
        except Exception as error:  # the load succeeded; a missing description is only a warning
            logger.warning("Could not propagate Avro doc to BigQuery table description: %r", error)
