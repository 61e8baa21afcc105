"""Google Cloud authentication shared by the GCS and BigQuery clients."""

from __future__ import annotations

import logging
from typing import Any

from trunkline.contrib._optional import optional, require

logger = logging.getLogger("luigi-interface")

# Module-level names Luigi's module has; None when the libraries are absent.
google = optional("google.auth")
if google is not None:
    import google.auth.exceptions  # noqa: F401 - makes google.auth.exceptions reachable
    google = optional("google")
httplib2 = optional("httplib2")


def get_authenticate_kwargs(oauth_credentials: Any = None, http_: Any = None) -> dict[str, Any]:
    """Keyword arguments for ``googleapiclient.discovery.build``: how to authenticate.

    Given credentials or an ``httplib2.Http`` win; otherwise the application
    default credentials (``gcloud auth application-default login``, a service
    account in ``GOOGLE_APPLICATION_CREDENTIALS``, the metadata server), and
    failing those an unauthenticated ``httplib2.Http()``.
    """
    if oauth_credentials:
        return {"credentials": oauth_credentials}
    if http_:
        return {"http": http_}
    auth = require("google.auth", "gcs", "Google Cloud authentication")
    import google.auth.exceptions

    try:
        credentials, _ = auth.default()
        return {"credentials": credentials}
    except google.auth.exceptions.DefaultCredentialsError:
        return {"http": require("httplib2", "gcs", "Google Cloud authentication").Http()}
