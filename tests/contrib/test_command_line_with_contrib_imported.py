"""Importing an integration must not make the command line reach for its service.

``luigi.run`` builds its parser from the parameters of every registered task
class, reading each class's attributes; a task class of an integration (the
Dataproc tasks hold a lazily built Google client) must not contact the service,
or ask for credentials, when that happens.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap


def test_luigi_run_works_with_every_engine_module_imported_and_no_cloud_credentials() -> None:
    code = textwrap.dedent(
        """
        import trunkline as luigi
        from trunkline.contrib import batch, dataproc, ecs, kubernetes, pai, spark  # noqa: F401

        class Hello(luigi.Task):
            def complete(self):
                return True

        print(luigi.run(["Hello", "--local-scheduler", "--no-lock", "--log-level", "ERROR"]))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "AWS_", "KUBECONFIG"))}
    env["HOME"] = "/nonexistent"  # no ~/.config/gcloud either
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("True")
