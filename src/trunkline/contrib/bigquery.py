"""Google BigQuery: ``BigQueryTarget`` (a table), load/query/extract/view tasks, ``BigQueryClient``.

Every call goes through Google's discovery client for the BigQuery v2 REST API
(``pip install "trunkline[bigquery]"``): jobs are inserted with
``jobs.insert`` and polled with ``jobs.get`` until ``DONE``. Credentials: the
``oauth_credentials`` or ``http_`` given to ``BigQueryClient``, else Google's
application-default credentials, else an unauthenticated ``httplib2.Http``.
``descriptor`` takes a discovery document instead of the built-in one (a
private endpoint, or a stand-in in tests).

Calls that fail with a 5xx answer or a connection error are retried twice,
with a fresh client each time, waiting 1, 2... up to 10 seconds.
"""

from __future__ import annotations

import collections
import functools
import logging
import time
from typing import Any, Callable, Iterator, TypeVar

import trunkline as luigi
import trunkline.target
import trunkline.task
from trunkline.contrib._dbdeps import MissingLibrary, optional_import, sibling_module

# contrib.gcp (credentials shared with gcs) ships with the storage integrations.
gcp: Any = sibling_module("gcp")

logger = logging.getLogger("luigi-interface")

httplib2: Any = optional_import("httplib2", "bigquery")
discovery: Any = optional_import("googleapiclient.discovery", "bigquery")
errors: Any = optional_import("googleapiclient.errors", "bigquery")
http: Any = optional_import("googleapiclient.http", "bigquery")
RETRYABLE_ERRORS: tuple[type[BaseException], ...] = (
    (httplib2.HttpLib2Error, IOError, TimeoutError, BrokenPipeError) if httplib2 else ()
)


def is_error_5xx(err: BaseException) -> bool:
    """A server-side error from the API, worth retrying."""
    if isinstance(errors, MissingLibrary):
        return False
    return isinstance(err, errors.HttpError) and err.resp.status >= 500


_F = TypeVar("_F", bound=Callable[..., Any])
_ATTEMPTS = 3


def bq_retry(method: _F) -> _F:
    """Retry a ``BigQueryClient`` method on 5xx answers and connection errors:
    three attempts in all, waiting 1 s, then 2 s (at most 10), re-creating the
    client between attempts; the last error is raised."""

    @functools.wraps(method)
    def retrying(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                return method(*args, **kwargs)
            except Exception as error:
                if attempt == _ATTEMPTS or not (is_error_5xx(error) or isinstance(error, RETRYABLE_ERRORS)):
                    raise
                logger.warning("BigQuery call failed (%s); retrying", error)
                args[0]._initialise_client()
                time.sleep(min(10, 2 ** (attempt - 1)))
        raise AssertionError("unreachable")

    return retrying  # type: ignore[return-value]


def _authenticate_kwargs(oauth_credentials: Any = None, http_: Any = None) -> dict[str, Any]:
    if gcp is not None:
        try:
            kwargs: dict[str, Any] = gcp.get_authenticate_kwargs(oauth_credentials, http_)
        except ImportError as error:
            # contrib.gcp names the gcs extra; a BigQuery user needs bigquery's.
            raise ImportError(
                f'BigQuery needs Google\'s client libraries ({error.name or "google-auth"}): '
                'pip install "trunkline[bigquery]"'
            ) from error
        return kwargs
    if oauth_credentials:
        return {"credentials": oauth_credentials}
    if http_:
        return {"http": http_}
    try:
        import google.auth

        credentials, _ = google.auth.default()
        return {"credentials": credentials}
    except Exception:  # no application-default credentials (or google-auth): go anonymous
        return {"http": httplib2.Http()}


class CreateDisposition:
    CREATE_IF_NEEDED = "CREATE_IF_NEEDED"
    CREATE_NEVER = "CREATE_NEVER"


class WriteDisposition:
    WRITE_TRUNCATE = "WRITE_TRUNCATE"
    WRITE_APPEND = "WRITE_APPEND"
    WRITE_EMPTY = "WRITE_EMPTY"


class QueryMode:
    INTERACTIVE = "INTERACTIVE"
    BATCH = "BATCH"


class SourceFormat:
    AVRO = "AVRO"
    CSV = "CSV"
    DATASTORE_BACKUP = "DATASTORE_BACKUP"
    NEWLINE_DELIMITED_JSON = "NEWLINE_DELIMITED_JSON"
    PARQUET = "PARQUET"


class FieldDelimiter:
    """Common CSV separators (BigQuery accepts any single byte)."""

    COMMA = ","
    TAB = "\t"
    PIPE = "|"


class PrintHeader:
    TRUE = True
    FALSE = False


class DestinationFormat:
    AVRO = "AVRO"
    CSV = "CSV"
    NEWLINE_DELIMITED_JSON = "NEWLINE_DELIMITED_JSON"


class Compression:
    GZIP = "GZIP"
    NONE = "NONE"


class Encoding:
    """Encodings BigQuery reads CSV in."""

    UTF_8 = "UTF-8"
    ISO_8859_1 = "ISO-8859-1"


BQDataset = collections.namedtuple("BQDataset", "project_id dataset_id location")


class BQTable(collections.namedtuple("BQTable", "project_id dataset_id table_id location")):
    @property
    def dataset(self) -> BQDataset:
        return BQDataset(project_id=self.project_id, dataset_id=self.dataset_id, location=self.location)

    @property
    def uri(self) -> str:
        return f"bq://{self.project_id}/{self.dataset_id}/{self.table_id}"


def _table_reference(table: BQTable) -> dict[str, str]:
    return {"projectId": table.project_id, "datasetId": table.dataset_id, "tableId": table.table_id}


class BigQueryClient:
    """A thin layer over the BigQuery v2 API; ``client`` is the discovery client itself."""

    def __init__(self, oauth_credentials: Any = None, descriptor: Any = "", http_: Any = None) -> None:
        self.oauth_credentials = oauth_credentials
        self.descriptor = descriptor
        self.http_ = http_
        self._initialise_client()

    def _initialise_client(self) -> None:
        kwargs = _authenticate_kwargs(self.oauth_credentials, self.http_)
        if self.descriptor:
            self.client = discovery.build_from_document(self.descriptor, **kwargs)
        else:
            self.client = discovery.build("bigquery", "v2", cache_discovery=False, **kwargs)

    @bq_retry
    def dataset_exists(self, dataset: BQDataset) -> bool:
        """Whether the dataset exists; one in another location than asked is an error."""
        try:
            response = self.client.datasets().get(projectId=dataset.project_id, datasetId=dataset.dataset_id).execute()
        except http.HttpError as ex:
            if ex.resp.status == 404:
                return False
            raise
        if dataset.location is not None:
            fetched = response.get("location")
            if dataset.location != fetched:
                raise Exception(
                    f"Dataset already exists with regional location {fetched if fetched is not None else 'unspecified'}. "
                    f"Can't use {dataset.location}."
                )
        return True

    @bq_retry
    def table_exists(self, table: BQTable) -> bool:
        if not self.dataset_exists(table.dataset):
            return False
        try:
            self.client.tables().get(**_table_reference(table)).execute()
        except http.HttpError as ex:
            if ex.resp.status == 404:
                return False
            raise
        return True

    def make_dataset(self, dataset: BQDataset, raise_if_exists: bool = False, body: dict[str, Any] | None = None) -> None:
        """Create the dataset; one that exists already is fine unless ``raise_if_exists``."""
        body = {} if body is None else body
        body["datasetReference"] = {"projectId": dataset.project_id, "datasetId": dataset.dataset_id}
        if dataset.location is not None:
            body["location"] = dataset.location
        try:
            self.client.datasets().insert(projectId=dataset.project_id, body=body).execute()
        except http.HttpError as ex:
            if ex.resp.status != 409:
                raise
            if raise_if_exists:
                raise luigi.target.FileAlreadyExists() from ex

    def delete_dataset(self, dataset: BQDataset, delete_nonempty: bool = True) -> None:
        if not self.dataset_exists(dataset):
            return
        self.client.datasets().delete(
            projectId=dataset.project_id, datasetId=dataset.dataset_id, deleteContents=delete_nonempty
        ).execute()

    def delete_table(self, table: BQTable) -> None:
        if not self.table_exists(table):
            return
        self.client.tables().delete(**_table_reference(table)).execute()

    def _paged(self, collection: Any, request: Any, key: str, reference: str, id_key: str) -> Iterator[str]:
        while request is not None:
            response = request.execute()
            for item in response.get(key, []):
                yield item[reference][id_key]
            request = collection.list_next(request, response)

    def list_datasets(self, project_id: str) -> Iterator[str]:
        """Ids of the project's datasets, following the API's pages."""
        datasets = self.client.datasets()
        request = datasets.list(projectId=project_id, maxResults=1000)
        return self._paged(datasets, request, "datasets", "datasetReference", "datasetId")

    def list_tables(self, dataset: BQDataset) -> Iterator[str]:
        """Ids of the dataset's tables, following the API's pages."""
        tables = self.client.tables()
        request = tables.list(projectId=dataset.project_id, datasetId=dataset.dataset_id, maxResults=1000)
        return self._paged(tables, request, "tables", "tableReference", "tableId")

    def get_view(self, table: BQTable) -> str | None:
        """The view's SQL; None for a missing table or a table that is no view."""
        try:
            response = self.client.tables().get(**_table_reference(table)).execute()
        except http.HttpError as ex:
            if ex.resp.status == 404:
                return None
            raise
        return response["view"]["query"] if "view" in response else None

    def update_view(self, table: BQTable, view: str) -> None:
        """Create the view, or replace its SQL."""
        body = {"tableReference": _table_reference(table), "view": {"query": view}}
        if self.table_exists(table):
            self.client.tables().update(**_table_reference(table), body=body).execute()
        else:
            self.client.tables().insert(projectId=table.project_id, datasetId=table.dataset_id, body=body).execute()

    def run_job(self, project_id: str, body: dict[str, Any], dataset: BQDataset | None = None) -> str:
        """Insert a job (creating ``dataset`` first if it is missing) and wait for
        it; its id. A job that ends with an error raises ``BigQueryExecutionError``."""
        if dataset and not self.dataset_exists(dataset):
            self.make_dataset(dataset)
        new_job = self.client.jobs().insert(projectId=project_id, body=body).execute()
        job_id: str = new_job["jobReference"]["jobId"]
        logger.info("Started import job %s:%s", project_id, job_id)
        while True:
            status = self.client.jobs().get(projectId=project_id, jobId=job_id).execute(num_retries=10)
            if status["status"]["state"] == "DONE":
                if status["status"].get("errorResult"):
                    raise BigQueryExecutionError(job_id, status["status"]["errorResult"])
                return job_id
            logger.info("Waiting for job %s:%s to complete...", project_id, job_id)
            time.sleep(5)

    def copy(
        self,
        source_table: BQTable,
        dest_table: BQTable,
        create_disposition: str = CreateDisposition.CREATE_IF_NEEDED,
        write_disposition: str = WriteDisposition.WRITE_TRUNCATE,
    ) -> None:
        """Copy one table into another with a copy job."""
        job = {
            "configuration": {
                "copy": {
                    "sourceTable": _table_reference(source_table),
                    "destinationTable": _table_reference(dest_table),
                    "createDisposition": create_disposition,
                    "writeDisposition": write_disposition,
                }
            }
        }
        self.run_job(dest_table.project_id, job, dataset=dest_table.dataset)


class BigQueryTarget(luigi.target.Target):
    """A BigQuery table; it exists when the table does."""

    def __init__(
        self, project_id: str, dataset_id: str, table_id: str, client: BigQueryClient | None = None, location: str | None = None
    ) -> None:
        self.table = BQTable(project_id=project_id, dataset_id=dataset_id, table_id=table_id, location=location)
        self.client = client or BigQueryClient()

    @classmethod
    def from_bqtable(cls, table: BQTable, client: BigQueryClient | None = None) -> BigQueryTarget:
        return cls(table.project_id, table.dataset_id, table.table_id, client=client)

    def exists(self) -> bool:
        return self.client.table_exists(self.table)

    def __str__(self) -> str:
        return str(self.table)


class MixinBigQueryBulkComplete:
    """``bulk_complete`` with one table listing per dataset instead of one call per task
    (range tools check hundreds of dates at once)."""

    @classmethod
    def bulk_complete(cls, parameter_tuples: Any) -> Iterator[Any]:
        task_class: Any = cls
        tasks_with_params = [(task_class(p), p) for p in parameter_tuples]
        if not tasks_with_params:
            return
        datasets = {task.output().table.dataset for task, _ in tasks_with_params}
        logger.info("Checking datasets %s for available tables", datasets)
        client = tasks_with_params[0][0].output().client
        available_tables = {d: set(client.list_tables(d)) for d in datasets if client.dataset_exists(d)}
        for task, params in tasks_with_params:
            table = task.output().table
            if table.table_id in available_tables.get(table.dataset, ()):
                yield params


class BigQueryLoadTask(MixinBigQueryBulkComplete, luigi.Task):
    """Template: load files from GCS (``gs://`` inputs) into the output ``BigQueryTarget``.

    Override ``source_format``, ``schema`` (a list of field dicts; empty: let
    BigQuery detect it), ``write_disposition``, the CSV options, or
    ``configure_job`` to edit the job configuration last.
    """

    @property
    def source_format(self) -> str:
        return SourceFormat.NEWLINE_DELIMITED_JSON

    @property
    def encoding(self) -> str:
        return Encoding.UTF_8

    @property
    def write_disposition(self) -> str:
        return WriteDisposition.WRITE_EMPTY

    @property
    def schema(self) -> list[dict[str, Any]]:
        return []

    @property
    def max_bad_records(self) -> int:
        return 0

    @property
    def field_delimiter(self) -> str:
        return FieldDelimiter.COMMA

    def source_uris(self) -> list[str]:
        """The ``gs://`` paths of the inputs."""
        return [target.path for target in luigi.task.flatten(self.input())]

    @property
    def skip_leading_rows(self) -> int:
        return 0

    @property
    def allow_jagged_rows(self) -> bool:
        return False

    @property
    def ignore_unknown_values(self) -> bool:
        return False

    @property
    def allow_quoted_new_lines(self) -> bool:
        return False

    def configure_job(self, configuration: dict[str, Any]) -> dict[str, Any]:
        """Edit the job's ``configuration`` before it is sent; return it."""
        return configuration

    def run(self) -> None:
        output = self.output()
        assert isinstance(output, BigQueryTarget), f"Output must be a BigQueryTarget, not {output}"
        source_uris = self.source_uris()
        assert all(uri.startswith("gs://") for uri in source_uris)
        load: dict[str, Any] = {
            "destinationTable": _table_reference(output.table),
            "encoding": self.encoding,
            "sourceFormat": self.source_format,
            "writeDisposition": self.write_disposition,
            "sourceUris": source_uris,
            "maxBadRecords": self.max_bad_records,
            "ignoreUnknownValues": self.ignore_unknown_values,
        }
        if self.source_format == SourceFormat.CSV:
            load["fieldDelimiter"] = self.field_delimiter
            load["skipLeadingRows"] = self.skip_leading_rows
            load["allowJaggedRows"] = self.allow_jagged_rows
            load["allowQuotedNewlines"] = self.allow_quoted_new_lines
        if self.schema:
            load["schema"] = {"fields": self.schema}
        else:
            load["autodetect"] = True
        job = {"configuration": self.configure_job({"load": load})}
        output.client.run_job(output.table.project_id, job, dataset=output.table.dataset)


class BigQueryRunQueryTask(MixinBigQueryBulkComplete, luigi.Task):
    """Template: run ``query`` and write its result to the output table."""

    @property
    def write_disposition(self) -> str:
        return WriteDisposition.WRITE_TRUNCATE

    @property
    def create_disposition(self) -> str:
        return CreateDisposition.CREATE_IF_NEEDED

    @property
    def flatten_results(self) -> bool:
        return True

    @property
    def query(self) -> str:
        """The SQL to run."""
        raise NotImplementedError()

    @property
    def query_mode(self) -> str:
        return QueryMode.INTERACTIVE

    @property
    def udf_resource_uris(self) -> list[str]:
        """``gs://`` URIs of JavaScript UDF files (legacy SQL)."""
        return []

    @property
    def use_legacy_sql(self) -> bool:
        return True

    def configure_job(self, configuration: dict[str, Any]) -> dict[str, Any]:
        return configuration

    def run(self) -> None:
        output = self.output()
        assert isinstance(output, BigQueryTarget), f"Output must be a BigQueryTarget, not {output}"
        query = self.query
        assert query, "No query was provided"
        logger.info("Launching Query")
        logger.info("Query destination: %s (%s)", output, self.write_disposition)
        logger.info("Query SQL: %s", query)
        job = {
            "configuration": self.configure_job({
                "query": {
                    "query": query,
                    "priority": self.query_mode,
                    "destinationTable": _table_reference(output.table),
                    "allowLargeResults": True,
                    "createDisposition": self.create_disposition,
                    "writeDisposition": self.write_disposition,
                    "flattenResults": self.flatten_results,
                    "userDefinedFunctionResources": [{"resourceUri": uri} for uri in self.udf_resource_uris],
                    "useLegacySql": self.use_legacy_sql,
                }
            })
        }
        output.client.run_job(output.table.project_id, job, dataset=output.table.dataset)


class BigQueryCreateViewTask(luigi.Task):
    """Template: make the output table a view of ``view``; complete when the view
    exists with exactly that SQL (so editing ``view`` re-runs the task)."""

    @property
    def view(self) -> str:
        raise NotImplementedError()

    def complete(self) -> bool:
        output = self.output()
        assert isinstance(output, BigQueryTarget), f"Output must be a BigQueryTarget, not {output}"
        if not output.exists():
            return False
        return output.client.get_view(output.table) == self.view

    def run(self) -> None:
        output = self.output()
        assert isinstance(output, BigQueryTarget), f"Output must be a BigQueryTarget, not {output}"
        view = self.view
        assert view, "No view was provided"
        logger.info("Create view")
        logger.info("Destination: %s", output)
        logger.info("View SQL: %s", view)
        output.client.update_view(output.table, view)


class ExternalBigQueryTask(MixinBigQueryBulkComplete, luigi.ExternalTask):
    """A BigQuery table made outside the workflow."""


class BigQueryExtractTask(luigi.Task):
    """Template: export the one ``BigQueryTarget`` input to the ``gs://`` outputs."""

    @property
    def destination_uris(self) -> list[str]:
        return [target.path for target in luigi.task.flatten(self.output())]

    @property
    def print_header(self) -> bool:
        return PrintHeader.TRUE

    @property
    def field_delimiter(self) -> str:
        return FieldDelimiter.COMMA

    @property
    def destination_format(self) -> str:
        return DestinationFormat.CSV

    @property
    def compression(self) -> str:
        return Compression.NONE

    def configure_job(self, configuration: dict[str, Any]) -> dict[str, Any]:
        return configuration

    def run(self) -> None:
        source = luigi.task.flatten(self.input())[0]
        assert isinstance(source, BigQueryTarget) or (
            len(source) == 1 and isinstance(source[0], BigQueryTarget)
        ), f"Input must be exactly one BigQueryTarget, not {source}"
        destination_uris = self.destination_uris
        assert all(uri.startswith("gs://") for uri in destination_uris)
        logger.info("Launching Extract Job")
        logger.info("Extract source: %s", source)
        logger.info("Extract destination: %s", destination_uris)
        extract: dict[str, Any] = {
            "sourceTable": _table_reference(source.table),
            "destinationUris": destination_uris,
            "destinationFormat": self.destination_format,
            "compression": self.compression,
        }
        if self.destination_format == "CSV":
            extract["printHeader"] = self.print_header
            extract["fieldDelimiter"] = self.field_delimiter
        job = {"configuration": self.configure_job({"extract": extract})}
        source.client.run_job(source.table.project_id, job, dataset=source.table.dataset)


# The spellings of Luigi's first releases.
BigqueryClient = BigQueryClient
BigqueryTarget = BigQueryTarget
MixinBigqueryBulkComplete = MixinBigQueryBulkComplete
BigqueryLoadTask = BigQueryLoadTask
BigqueryRunQueryTask = BigQueryRunQueryTask
BigqueryCreateViewTask = BigQueryCreateViewTask
ExternalBigqueryTask = ExternalBigQueryTask


class BigQueryExecutionError(Exception):
    """A job finished with an error; ``error_message`` is BigQuery's ``errorResult``."""

    def __init__(self, job_id: str, error_message: Any) -> None:
        super().__init__(f"BigQuery job {job_id} failed: {error_message}")
        self.error_message = error_message
        self.job_id = job_id
