"""KubernetesJobTask against a stand-in Kubernetes API server on loopback.

pykube sends its real requests (from a kubeconfig pointing at the stand-in);
the stand-in keeps the submitted Job, reports one running pod for it, and
marks the Job succeeded (or failed) after a few status reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pykube", reason="pykube-ng comes with trunkline's kubernetes extra")

from trunkline.contrib.kubernetes import KubernetesJobTask  # noqa: E402

from ._fake_http import FakeServer, Reply, Request, fake_http_server  # noqa: E402


def cluster(outcome: dict[str, int], reads_before_outcome: int = 2):  # type: ignore[no-untyped-def]
    jobs: dict[str, dict[str, Any]] = {}
    reads = {"n": 0}

    def route(request: Request) -> Reply:
        if request.method == "POST" and request.path.endswith("/jobs"):
            job = request.json()
            job["metadata"].setdefault("namespace", "default")
            job["status"] = {}
            job["spec"].setdefault("parallelism", 1)  # the API server's default
            jobs[job["metadata"]["name"]] = job
            return Reply(status=201, body=job)
        if request.method == "GET" and request.path.endswith("/jobs"):
            reads["n"] += 1
            for job in jobs.values():
                job["status"] = dict(outcome) if reads["n"] > reads_before_outcome else {"active": 1}
            return Reply(body={"kind": "JobList", "items": list(jobs.values())})
        if request.method == "GET" and request.path.endswith("/pods"):
            pods = [{"metadata": {"name": f"{name}-pod", "namespace": "default"},
                     "status": {"phase": "Running", "containerStatuses": [{"state": {"running": {}}}]}}
                    for name in jobs]
            return Reply(body={"kind": "PodList", "items": pods})
        if request.method == "GET" and "/jobs/" in request.path:
            return Reply(body=jobs[request.path.rsplit("/", 1)[1]])
        if request.method == "PATCH":
            # a merge patch: the spec fields sent replace the stored ones
            name = request.path.rsplit("/", 1)[1]
            jobs[name]["spec"].update(request.json().get("spec", {}))
            return Reply(body=jobs[name])
        if request.method == "DELETE":
            return Reply(body={"kind": "Status", "status": "Success"})
        return Reply(status=404, body={"kind": "Status", "message": f"no route {request.path}"})

    return route


def kubeconfig(tmp_path: Path, server: FakeServer) -> str:
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": server.url}}],
        "users": [{"name": "me", "user": {"token": "abc"}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "me", "namespace": "default"}}],
    }))
    return str(path)


def job_class(config_path: str, done: list[str]) -> type[KubernetesJobTask]:
    class Pi(KubernetesJobTask):
        name = "pi"
        labels = {"team": "data"}
        spec_schema = {"containers": [{"name": "pi", "image": "perl", "command": ["perl", "-e", "print 3.14"]}]}
        kubeconfig_path = config_path
        poll_interval = 0
        pod_creation_wait_interal = 0

        def signal_complete(self) -> None:
            done.append(self.uu_name)

    return Pi


@pytest.mark.timeout(60)
def test_job_is_submitted_tracked_until_it_succeeds_then_deleted(tmp_path: Path) -> None:
    done: list[str] = []
    with fake_http_server(cluster({"succeeded": 1})) as server:
        job_class(kubeconfig(tmp_path, server), done)().run()
    (create,) = server.find("POST", "/jobs")
    job = create.json()
    assert job["kind"] == "Job" and job["metadata"]["name"].startswith("pi-")
    assert job["metadata"]["labels"]["spawned_by"] == "luigi" and job["metadata"]["labels"]["team"] == "data"
    spec = job["spec"]["template"]["spec"]
    assert spec["restartPolicy"] == "Never" and spec["containers"][0]["image"] == "perl"
    assert job["spec"]["backoffLimit"] == 6
    assert done == [job["metadata"]["name"]]
    # deleted with its pods
    (delete,) = server.find("DELETE", job["metadata"]["name"])
    assert delete.json()["propagationPolicy"] == "Background"


@pytest.mark.timeout(60)
def test_job_failing_more_often_than_max_retrials_fails_the_task(tmp_path: Path) -> None:
    done: list[str] = []
    with fake_http_server(cluster({"failed": 1})) as server:
        task = job_class(kubeconfig(tmp_path, server), done)()
        with pytest.raises(RuntimeError, match="failed"):
            task.run()
    assert done == []
    assert not server.find("DELETE", "/jobs/")
