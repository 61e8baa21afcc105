""":class:`RedisTarget`: a marker in Redis that says an update has been done.

The marker is a hash at ``<marker_prefix>:<update_id>`` holding the update id
and the time it was touched; ``expire`` (seconds) lets Redis delete it, after
which the task runs again. ``marker_prefix`` defaults to ``[redis]
marker-prefix`` (itself defaulting to ``luigi``) and can be set per target.
``pip install "trunkline[redis]"`` brings in the client.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from trunkline import configuration
from trunkline.contrib._optional import optional, require
from trunkline.parameter import Parameter
from trunkline.target import Target

logger = logging.getLogger("luigi-interface")

redis = optional("redis")  # the module-level name Luigi's module has; None when absent


class RedisTarget(Target):
    """Done once ``touch()`` has set its marker and the marker has not expired."""

    # Declared as a Parameter (as Luigi does) for the config path; a target is not
    # a task, so marker_key() resolves it from the configuration when not overridden.
    marker_prefix: Any = Parameter(default="luigi", config_path=dict(section="redis", name="marker-prefix"))

    def __init__(
        self,
        host: str,
        port: int,
        db: int,
        update_id: str,
        password: str | None = None,
        socket_timeout: float | None = None,
        expire: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.db = db
        self.password = password
        self.socket_timeout = socket_timeout
        self.update_id = update_id
        self.expire = expire
        client_module = redis or require("redis", "redis", "RedisTarget")
        # The client connects lazily: constructing a target opens no socket.
        self.redis_client = client_module.StrictRedis(
            host=host, port=port, password=password, db=db, socket_timeout=socket_timeout
        )

    def __str__(self) -> str:
        return self.marker_key()

    def _prefix(self) -> str:
        try:
            prefix = self.marker_prefix
        except AttributeError:  # trunkline's Parameter is a descriptor with no value on a target
            prefix = None
        if prefix is None or isinstance(prefix, Parameter):
            return str(configuration.get_config().get("redis", "marker-prefix", "luigi"))
        return str(prefix)

    def marker_key(self) -> str:
        """The key of this update's marker hash."""
        return f"{self._prefix()}:{self.update_id}"

    def touch(self) -> None:
        """Mark the update done (with an expiry if the target has one)."""
        key = self.marker_key()
        pipeline = self.redis_client.pipeline()  # one round trip, and no marker without its date
        pipeline.hset(key, mapping={"update_id": self.update_id, "date": datetime.datetime.now().isoformat()})
        if self.expire is not None:
            pipeline.expire(key, self.expire)
        pipeline.execute()

    def exists(self) -> bool:
        return bool(self.redis_client.exists(self.marker_key()) == 1)
