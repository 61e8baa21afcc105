"""Luigi's task id: family, a readable summary of the first parameters, a hash.

``Family_<first 3 param values, 16 chars each, joined by _>_<md5[:10]>`` where
the hash is of the parameters as canonical JSON (sorted keys, no spaces). The
same algorithm as Luigi, so trunkline and Luigi workers agree on ids.
"""

from __future__ import annotations

import hashlib
import json
import re

TASK_ID_INCLUDE_PARAMS = 3
TASK_ID_TRUNCATE_PARAMS = 16
TASK_ID_TRUNCATE_HASH = 10
TASK_ID_INVALID_CHAR_REGEX = re.compile(r"[^A-Za-z0-9_]")


# Built once: json.dumps with these options would build an encoder per call.
_CANONICAL_JSON = json.JSONEncoder(separators=(",", ":"), sort_keys=True)
_quote = json.encoder.encode_basestring_ascii  # json.dumps's quoting (ensure_ascii)
_VALID_SUMMARY = re.compile(r"[A-Za-z0-9_]*").fullmatch


def task_id_str(task_family: str, params: dict[str, str]) -> str:
    """The id of the task of ``task_family`` with these serialized parameters."""
    names = sorted(params)
    parts = []
    for name in names:
        value = params[name]
        if type(name) is not str or type(value) is not str:
            canonical = _CANONICAL_JSON.encode(params)
            break
        parts.append(_quote(name) + ":" + _quote(value))
    else:
        # Only strings (what serialize() gives): json.dumps's text, without an encoder per call.
        canonical = "{" + ",".join(parts) + "}"
    digest = hashlib.md5(canonical.encode("utf-8"), usedforsecurity=False).hexdigest()
    summary = "_".join(params[name][:TASK_ID_TRUNCATE_PARAMS] for name in names[:TASK_ID_INCLUDE_PARAMS])
    if not _VALID_SUMMARY(summary):
        summary = TASK_ID_INVALID_CHAR_REGEX.sub("_", summary)
    return f"{task_family}_{summary}_{digest[:TASK_ID_TRUNCATE_HASH]}"
