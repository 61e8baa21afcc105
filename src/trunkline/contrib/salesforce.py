"""Salesforce: ``QuerySalesforce`` exports a SOQL query to a file through the Bulk API.

``SalesforceAPI`` logs in with the SOAP API (``[salesforce] username``,
``password``, ``security_token``, ``sb_security_token`` for sandboxes), then
runs a Bulk API query job: create the job, add the query as a batch, poll the
batch until it completes, download each result and close the job. Queries the
Bulk API refuses (foreign-key relationships) are retried through the REST
query API. Uses ``requests`` (``pip install "trunkline[salesforce]"``).

Where Luigi's code still wrote bytes into CSV writers (a leftover of Python 2,
which fails or writes ``b'...'``), text is written here.
"""

from __future__ import annotations

import abc
import csv
import logging
import re
import tempfile
import time
import warnings
import xml.etree.ElementTree as ET
from collections import OrderedDict
from typing import IO, Any
from urllib.parse import urlsplit

import trunkline as luigi
from trunkline import Task
from trunkline.contrib._dbdeps import optional_import

logger = logging.getLogger("luigi-interface")

requests: Any = optional_import("requests", "salesforce")


def get_soql_fields(soql: str) -> list[str]:
    """The field names between SELECT and FROM of a SOQL query."""
    match = re.search(r"(?<=select)(.*)(?=from)", soql, re.IGNORECASE | re.DOTALL)
    if match is None:
        raise ValueError(f"not a SELECT ... FROM query: {soql!r}")
    fields = re.split(r"[,\n\r]", match.group().replace(" ", "").replace("\t", ""))
    return [field for field in fields if field != ""]


def ensure_utf(value: Any) -> Any:
    """UTF-8 bytes of a string (Luigi's helper, kept for code that imports it)."""
    return value.encode("utf-8") if isinstance(value, str) else value


def parse_results(fields: list[str], data: dict[str, Any]) -> list[list[Any]]:
    """Rows of a REST query answer, values in ``fields`` order; nested
    relationship fields are addressed as ``Parent.Field``."""
    rows = []
    for record in data["records"]:
        row: list[Any] = [None] * len(fields)
        _traverse_results(record, fields, row, "")
        rows.append(row)
    return rows


def _traverse_results(value: dict[str, Any], fields: list[str], row: list[Any], path: str) -> None:
    for name, item in value.items():
        field_name = f"{path}.{name}" if path else name
        if not isinstance(item, (dict, list, tuple)):
            if field_name in fields:
                row[fields.index(field_name)] = item
        elif isinstance(item, dict) and name != "attributes":
            _traverse_results(item, fields, row, field_name)


class salesforce(luigi.Config):  # noqa: N801 - the class name is the config section
    """Credentials, from the ``[salesforce]`` section."""

    username = luigi.Parameter(default="")
    password = luigi.Parameter(default="")
    security_token = luigi.Parameter(default="")
    sb_security_token = luigi.Parameter(default="")


class QuerySalesforce(Task):
    """Template: write the result of ``soql`` on ``object_name`` to ``self.output().path`` (CSV).

    ``soql`` may name a file instead (``is_soql_file = True``); set
    ``use_sandbox`` and ``sandbox_name`` to query a sandbox.
    """

    @property
    @abc.abstractmethod
    def object_name(self) -> Any:
        """The sObject queried (``Account``...)."""
        return None

    @property
    def use_sandbox(self) -> bool:
        return False

    @property
    def sandbox_name(self) -> str | None:
        return None

    @property
    @abc.abstractmethod
    def soql(self) -> Any:
        """The SOQL query, or the path of a file holding it."""
        return None

    @property
    def is_soql_file(self) -> bool:
        return False

    @property
    def content_type(self) -> str:
        """The Bulk API result format: ``CSV`` or ``XML``."""
        return "CSV"

    def run(self) -> None:
        if self.use_sandbox and not self.sandbox_name:
            raise Exception("Parameter sf_sandbox_name must be provided when uploading to a Salesforce Sandbox")
        config = salesforce()
        sf = SalesforceAPI(
            config.username, config.password, config.security_token, config.sb_security_token, self.sandbox_name
        )
        soql = self.soql
        if self.is_soql_file:
            with open(soql) as infile:
                soql = infile.read()
        job_id = sf.create_operation_job("query", self.object_name, content_type=self.content_type)
        logger.info("Started query job %s in salesforce for object %s", job_id, self.object_name)
        status: dict[str, Any] = {}
        try:
            batch_id = sf.create_batch(job_id, soql, self.content_type)
            logger.info("Creating new batch %s to query: %s for job: %s.", batch_id, self.object_name, job_id)
            status = sf.block_on_batch(job_id, batch_id)
            if status["state"].lower() == "failed":
                msg = f"Batch failed with message: {status.get('state_message')}"
                logger.error(msg)
                if "foreign key relationships not supported" not in (status.get("state_message") or "").lower():
                    raise Exception(msg)
            else:
                self._download(sf, job_id, batch_id)
        finally:
            logger.info("Closing job %s", job_id)
            sf.close_job(job_id)

        if "foreign key relationships not supported" in (status.get("state_message") or "").lower():
            logger.info("Retrying with REST API query")
            data_file = sf.query_all(soql)
            with open(self.output().path, "w", newline="") as outfile:
                csv.writer(outfile, dialect="excel").writerows(csv.reader(data_file))

    def _download(self, sf: SalesforceAPI, job_id: str, batch_id: str) -> None:
        result_ids = sf.get_batch_result_ids(job_id, batch_id)
        if len(result_ids) == 1:
            with open(self.output().path, "wb") as outfile:
                outfile.write(sf.get_batch_result(job_id, batch_id, result_ids[0]))
            return
        for i, result_id in enumerate(result_ids):
            logger.info("Downloading batch result %s for batch: %s and job: %s", result_id, batch_id, job_id)
            with open(f"{self.output().path}.{i}", "wb") as outfile:
                outfile.write(sf.get_batch_result(job_id, batch_id, result_id))
        logger.info("Merging results of batch %s", batch_id)
        self.merge_batch_results(result_ids)

    def merge_batch_results(self, result_ids: list[str]) -> None:
        """Join the per-result CSV files ``<output>.<i>`` into the output, keeping one header."""
        if self.content_type.lower() != "csv":
            raise Exception(f"Batch result merging not implemented for {self.content_type}")
        with open(self.output().path, "w") as outfile:
            for i, _ in enumerate(result_ids):
                with open(f"{self.output().path}.{i}", "r") as part:
                    header = part.readline()
                    if i == 0:
                        outfile.write(header)
                    for line in part:
                        outfile.write(line)


class SalesforceAPI:
    """A small client of Salesforce's SOAP login, REST query and Bulk (async) APIs."""

    API_VERSION = 34.0
    SOAP_NS = "{urn:partner.soap.sforce.com}"
    API_NS = "{http://www.force.com/2009/06/asyncapi/dataload}"

    def __init__(
        self, username: str, password: str, security_token: str, sb_token: str | None = None, sandbox_name: str | None = None
    ) -> None:
        self.username = username
        self.password = password
        self.security_token = security_token
        self.sb_security_token = sb_token
        self.sandbox_name = sandbox_name
        if self.sandbox_name:
            self.username += f".{self.sandbox_name}"
        self.session_id: str | None = None
        self.server_url: str | None = None
        self.hostname: str | None = None

    def start_session(self) -> None:
        """Log in; keeps the session id and the instance's host for later calls."""
        if self.has_active_session():
            raise Exception("Session already in progress.")
        response = requests.post(self._get_login_url(), headers=self._get_login_headers(), data=self._get_login_xml())
        response.raise_for_status()
        root = ET.fromstring(response.text)
        for element in root.iter(f"{self.SOAP_NS}sessionId"):
            if self.session_id:
                raise Exception("Invalid login attempt.  Multiple session ids found.")
            self.session_id = element.text
        for element in root.iter(f"{self.SOAP_NS}serverUrl"):
            if self.server_url:
                raise Exception("Invalid login attempt.  Multiple server urls found.")
            self.server_url = element.text
        if not self.has_active_session():
            raise Exception(
                f"Invalid login attempt resulted in null sessionId [{self.session_id}] "
                f"and/or serverUrl [{self.server_url}]."
            )
        self.hostname = urlsplit(str(self.server_url)).hostname

    def has_active_session(self) -> Any:
        return self.session_id and self.server_url

    def query(self, query: str, **kwargs: Any) -> Any:
        """One page of a REST query's answer (JSON)."""
        response = requests.get(
            self._get_norm_query_url(), headers=self._get_rest_headers(), params={"q": query}, **kwargs
        )
        if response.status_code != requests.codes.ok:
            raise Exception(response.content)
        return response.json()

    def query_more(self, next_records_identifier: str, identifier_is_url: bool = False, **kwargs: Any) -> Any:
        """The next page: ``nextRecordsUrl`` (a path) or a bare query locator id."""
        if identifier_is_url:
            url = f"{self._get_origin()}{next_records_identifier}"
        else:
            url = f"{self._get_norm_query_url()}{next_records_identifier}"
        response = requests.get(url, headers=self._get_rest_headers(), **kwargs)
        response.raise_for_status()
        return response.json()

    def query_all(self, query: str, **kwargs: Any) -> IO[str]:
        """Every page of a REST query as CSV (header first) in a temporary file, rewound."""
        response = self.query(query, **kwargs)
        fields = get_soql_fields(query)
        tmp_dir = luigi.configuration.get_config().get("salesforce", "local-tmp-dir", None)
        tmp_file = tempfile.TemporaryFile(mode="w+", newline="", dir=tmp_dir)
        writer = csv.writer(tmp_file)
        writer.writerow(fields)
        writer.writerows(parse_results(fields, response))
        length = len(response["records"])
        while not response["done"]:
            response = self.query_more(response["nextRecordsUrl"], identifier_is_url=True, **kwargs)
            writer.writerows(parse_results(fields, response))
            length += len(response["records"])
            if not length % 10000:
                logger.info("Requested %d lines...", length)
        logger.info("Requested a total of %d lines.", length)
        tmp_file.seek(0)
        return tmp_file

    def restful(self, path: str, params: Any) -> Any:
        """GET a REST resource under ``/services/data/vXX``; None for an empty answer."""
        response = requests.get(self._get_norm_base_url() + path, headers=self._get_rest_headers(), params=params)
        if response.status_code != 200:
            raise Exception(response)
        json_result = response.json(object_pairs_hook=OrderedDict)
        return json_result if len(json_result) else None

    def create_operation_job(
        self, operation: str, obj: str, external_id_field_name: str | None = None, content_type: str | None = None
    ) -> str:
        """Open a Bulk API job (logging in first if needed); its id."""
        if not self.has_active_session():
            self.start_session()
        response = requests.post(
            self._get_create_job_url(),
            headers=self._get_create_job_headers(),
            data=self._get_create_job_xml(operation, obj, external_id_field_name, content_type),
        )
        response.raise_for_status()
        return ET.fromstring(response.text).find(f"{self.API_NS}id").text  # type: ignore[union-attr,return-value]

    def get_job_details(self, job_id: str) -> Any:
        response = requests.get(self._get_job_details_url(job_id))
        response.raise_for_status()
        return response

    def abort_job(self, job_id: str) -> Any:
        response = requests.post(
            self._get_abort_job_url(job_id), headers=self._get_abort_job_headers(), data=self._get_abort_job_xml()
        )
        response.raise_for_status()
        return response

    def close_job(self, job_id: str) -> Any:
        if not job_id or not self.has_active_session():
            raise Exception("Can not close job without valid job_id and an active session.")
        response = requests.post(
            self._get_close_job_url(job_id), headers=self._get_close_job_headers(), data=self._get_close_job_xml()
        )
        response.raise_for_status()
        return response

    def create_batch(self, job_id: str, data: str, file_type: str) -> str:
        """Add a batch (for a query job: the SOQL) to a job; its id."""
        if not job_id or not self.has_active_session():
            raise Exception("Can not create a batch without a valid job_id and an active session.")
        headers = self._get_create_batch_content_headers(file_type)
        headers["Content-Length"] = str(len(data))
        response = requests.post(self._get_create_batch_url(job_id), headers=headers, data=data)
        response.raise_for_status()
        return ET.fromstring(response.text).find(f"{self.API_NS}id").text  # type: ignore[union-attr,return-value]

    def block_on_batch(
        self, job_id: str, batch_id: str, sleep_time_seconds: float = 5, max_wait_time_seconds: float = -1
    ) -> dict[str, Any]:
        """Poll the batch until it is Completed or Failed (forever, unless
        ``max_wait_time_seconds`` is positive); its last status."""
        if not job_id or not batch_id or not self.has_active_session():
            raise Exception("Can not block on a batch without a valid batch_id, job_id and an active session.")
        start_time = time.time()
        status: dict[str, Any] = {}
        while max_wait_time_seconds < 0 or time.time() - start_time < max_wait_time_seconds:
            status = self._get_batch_info(job_id, batch_id)
            logger.info(
                "Batch %s Job %s in state %s.  %s records processed.  %s records failed.",
                batch_id, job_id, status["state"], status["num_processed"], status["num_failed"],
            )
            if status["state"].lower() in ("completed", "failed"):
                return status
            time.sleep(sleep_time_seconds)
        raise Exception(f"Batch did not complete in {max_wait_time_seconds} seconds.  Final status was: {status}")

    def get_batch_results(self, job_id: str, batch_id: str) -> str:
        """The first result id only; use ``get_batch_result_ids``."""
        warnings.warn(
            "get_batch_results is deprecated and only returns one batch result. Please use get_batch_result_ids"
        )
        return self.get_batch_result_ids(job_id, batch_id)[0]

    def get_batch_result_ids(self, job_id: str, batch_id: str) -> list[str]:
        response = requests.get(self._get_batch_results_url(job_id, batch_id), headers=self._get_batch_info_headers())
        response.raise_for_status()
        root = ET.fromstring(response.text)
        return [result.text for result in root.findall(f"{self.API_NS}result")]  # type: ignore[misc]

    def get_batch_result(self, job_id: str, batch_id: str, result_id: str) -> bytes:
        response = requests.get(
            self._get_batch_result_url(job_id, batch_id, result_id), headers=self._get_session_headers()
        )
        response.raise_for_status()
        content: bytes = response.content
        return content

    def _get_batch_info(self, job_id: str, batch_id: str) -> dict[str, Any]:
        response = requests.get(self._get_batch_info_url(job_id, batch_id), headers=self._get_batch_info_headers())
        response.raise_for_status()
        root = ET.fromstring(response.text)

        def text(tag: str) -> Any:
            return root.find(f"{self.API_NS}{tag}").text  # type: ignore[union-attr]

        result = {"state": text("state"), "num_processed": text("numberRecordsProcessed"), "num_failed": text("numberRecordsFailed")}
        if root.find(f"{self.API_NS}stateMessage") is not None:
            result["state_message"] = text("stateMessage")
        return result

    # URLs. The instance's scheme and port are kept from the login's serverUrl
    # (Luigi kept the host name only and assumed https on 443).

    def _get_login_url(self) -> str:
        server = "test" if self.sandbox_name else "login"
        return f"https://{server}.salesforce.com/services/Soap/u/{self.API_VERSION}"

    def _get_origin(self) -> str:
        if self.server_url:
            parts = urlsplit(self.server_url)
            return f"{parts.scheme}://{parts.netloc}"
        return f"https://{self.hostname}"

    def _get_base_url(self) -> str:
        return f"{self._get_origin()}/services"

    def _get_bulk_base_url(self) -> str:
        return f"{self._get_base_url()}/async/{self.API_VERSION}"

    def _get_norm_base_url(self) -> str:
        return f"{self._get_base_url()}/data/v{self.API_VERSION}"

    def _get_norm_query_url(self) -> str:
        return f"{self._get_norm_base_url()}/query"

    def _get_create_job_url(self) -> str:
        return f"{self._get_bulk_base_url()}/job"

    def _get_job_id_url(self, job_id: str) -> str:
        return f"{self._get_create_job_url()}/{job_id}"

    def _get_job_details_url(self, job_id: str) -> str:
        return self._get_job_id_url(job_id)

    def _get_abort_job_url(self, job_id: str) -> str:
        return self._get_job_id_url(job_id)

    def _get_close_job_url(self, job_id: str) -> str:
        return self._get_job_id_url(job_id)

    def _get_create_batch_url(self, job_id: str) -> str:
        return f"{self._get_job_id_url(job_id)}/batch"

    def _get_batch_info_url(self, job_id: str, batch_id: str) -> str:
        return f"{self._get_create_batch_url(job_id)}/{batch_id}"

    def _get_batch_results_url(self, job_id: str, batch_id: str) -> str:
        return f"{self._get_batch_info_url(job_id, batch_id)}/result"

    def _get_batch_result_url(self, job_id: str, batch_id: str, result_id: str) -> str:
        return f"{self._get_batch_results_url(job_id, batch_id)}/{result_id}"

    # Headers.

    def _get_login_headers(self) -> dict[str, str]:
        return {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"}

    def _get_session_headers(self) -> dict[str, str]:
        return {"X-SFDC-Session": self.session_id}  # type: ignore[dict-item]

    def _get_norm_session_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.session_id}"}

    def _get_rest_headers(self) -> dict[str, str]:
        return self._get_norm_session_headers() | {"Content-Type": "application/json"}

    def _get_job_headers(self) -> dict[str, str]:
        return self._get_session_headers() | {"Content-Type": "application/xml; charset=UTF-8"}

    def _get_create_job_headers(self) -> dict[str, str]:
        return self._get_job_headers()

    def _get_abort_job_headers(self) -> dict[str, str]:
        return self._get_job_headers()

    def _get_close_job_headers(self) -> dict[str, str]:
        return self._get_job_headers()

    def _get_create_batch_content_headers(self, content_type: str) -> dict[str, str]:
        mime = "text/csv" if content_type.lower() == "csv" else "application/xml"
        return self._get_session_headers() | {"Content-Type": f"{mime}; charset=UTF-8"}

    def _get_batch_info_headers(self) -> dict[str, str]:
        return self._get_session_headers()

    # Request bodies.

    def _get_login_xml(self) -> str:
        token = self.security_token if self.sandbox_name is None else self.sb_security_token
        return (
            '<?xml version="1.0" encoding="utf-8" ?>'
            '<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
            ' xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">'
            '<env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com">'
            f"<n1:username>{self.username}</n1:username>"
            f"<n1:password>{self.password}{token}</n1:password>"
            "</n1:login></env:Body></env:Envelope>"
        )

    def _get_create_job_xml(
        self, operation: str, obj: str, external_id_field_name: str | None, content_type: str | None
    ) -> str:
        external_id = f"<externalIdFieldName>{external_id_field_name}</externalIdFieldName>" if external_id_field_name else ""
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload">'
            f"<operation>{operation}</operation><object>{obj}</object>{external_id}"
            f"<contentType>{content_type}</contentType></jobInfo>"
        )

    def _job_state_xml(self, state: str) -> str:
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<jobInfo xmlns="http://www.force.com/2009/06/asyncapi/dataload"><state>{state}</state></jobInfo>'
        )

    def _get_abort_job_xml(self) -> str:
        return self._job_state_xml("Aborted")

    def _get_close_job_xml(self) -> str:
        return self._job_state_xml("Closed")
