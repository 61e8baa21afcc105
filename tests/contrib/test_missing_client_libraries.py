"""A module whose client library is missing still imports; using it names the pip extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

CASES = [
    ("docker_runner", "docker", "DockerTask()", "trunkline[docker]"),
    ("ecs", "boto3", "ECSTask(task_def_arn='arn:x').run()", "trunkline[ecs]"),
    ("batch", "boto3", "BatchTask(job_definition='d').run()", "trunkline[aws-batch]"),
    ("kubernetes", "pykube", "type('J', (KubernetesJobTask,), {'name': 'j'})()._init_kubernetes()",
     "trunkline[kubernetes]"),
    ("dataproc", "googleapiclient", "DataprocSparkTask(gcloud_project_id='p', dataproc_cluster_name='c', "
     "main_class='M').run()", "trunkline[gcp-dataproc]"),
]


@pytest.mark.parametrize(("module", "library", "use", "extra"), CASES, ids=[case[0] for case in CASES])
def test_module_imports_without_its_library_and_names_the_extra_when_used(
    module: str, library: str, use: str, extra: str
) -> None:
    code = textwrap.dedent(f"""
        import sys
        for name in ({library!r}, {library!r} + ".config", {library!r} + ".http", {library!r} + ".objects",
                     {library!r} + ".errors", "google", "google.auth"):
            sys.modules[name] = None  # makes `import {library}` raise ImportError
        from trunkline.contrib.{module} import *
        try:
            {use}
        except ImportError as error:
            print("ImportError:", error)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ImportError:" in result.stdout and extra in result.stdout
