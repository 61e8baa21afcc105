"""SGE and LSF tasks against stand-in qsub/qstat and bsub/bjobs on PATH.

No cluster scheduler can be installed here. The stand-ins run the submitted
command at once, as a node would (same shared folder, output to the -o/-e
files), and then answer status queries with "the job has left the queue"
(SGE) or DONE (LSF). So the submission command line, the pickling and the
package tarball, the runner on the "node", and the reading of the job's
error file are all exercised for real.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

import trunkline as luigi

from ._recording import run_with_recording

QSUB = r'''#!/bin/sh
# stand-in qsub: the job's command line arrives on stdin
cmd=$(cat)
out=""; err=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="${2#:}"; shift 2;;
    -e) err="${2#:}"; shift 2;;
    -pe) echo "$*" > "$QSUB_ARGS_LOG"; shift 3;;
    *) shift;;
  esac
done
sh -c "$cmd" > "$out" 2> "$err"
echo "Your job 4242 (\"job\") has been submitted"
'''

BSUB = r'''#!/bin/sh
# stand-in bsub: runs the command after the options, -o/-e files as LSF does
echo "$@" > "$BSUB_ARGS_LOG"
out=""; err=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift 2;;
    -e) err="$2"; shift 2;;
    -q|-n|-M|-R|-W|-J) shift 2;;
    *) break;;
  esac
done
"$@" > "$out" 2> "$err"
echo "Job <77> is submitted to queue <normal>."
'''

JOBS_MODULE = '''
import os
import trunkline as luigi
from trunkline.contrib.sge import SGEJobTask
from trunkline.contrib.lsf import LSFJobTask


class SgeWrite(SGEJobTask):
    path = luigi.Parameter()
    fail = luigi.BoolParameter()

    def output(self):
        return luigi.LocalTarget(self.path)

    def work(self):
        if self.fail:
            raise RuntimeError("the job broke on the node")
        with open(self.path, "w") as f:
            f.write("written on node %s" % os.getcwd())


class LsfWrite(LSFJobTask):
    path = luigi.Parameter()

    def output(self):
        return luigi.LocalTarget(self.path)

    def init_local(self):
        self.greeting = "prepared before submission"

    def work(self):
        with open(self.path, "w") as f:
            f.write(self.greeting)
'''


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _executable(bin_dir / "qsub", QSUB)
    _executable(bin_dir / "qstat", "#!/bin/sh\nexit 0\n")  # empty: the job left the queue
    _executable(bin_dir / "bsub", BSUB)
    _executable(bin_dir / "bjobs", "#!/bin/sh\necho DONE\n")
    _executable(bin_dir / "python", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("QSUB_ARGS_LOG", str(tmp_path / "qsub-args"))
    monkeypatch.setenv("BSUB_ARGS_LOG", str(tmp_path / "bsub-args"))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "cluster_jobs.py").write_text(JOBS_MODULE)
    monkeypatch.syspath_prepend(str(jobs))
    import importlib

    yield importlib.import_module("cluster_jobs")
    sys.modules.pop("cluster_jobs", None)


def test_sge_task_is_submitted_with_qsub_and_its_work_runs_on_the_node(cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shared = tmp_path / "shared"
    shared.mkdir()
    target = tmp_path / "out.txt"
    task = cluster.SgeWrite(path=str(target), shared_tmp_dir=str(shared), poll_time=0, n_cpu=3, parallel_env="smp")
    done, _ = run_with_recording(task)
    assert done
    # work() ran in the job's folder on the shared drive, which was removed afterwards
    assert target.read_text().startswith(f"written on node {shared}/")
    assert list(shared.iterdir()) == []

    assert "-pe smp 3 -N SgeWrite" in (tmp_path / "qsub-args").read_text()


def test_sge_job_that_fails_on_the_node_fails_the_task_with_its_error(cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shared = tmp_path / "shared"
    shared.mkdir()
    task = cluster.SgeWrite(path=str(tmp_path / "never"), fail=True, shared_tmp_dir=str(shared), poll_time=0)
    done, scheduler = run_with_recording(task)
    assert not done
    assert "the job broke on the node" in scheduler.fetch_error(task.task_id)["error"]


def test_lsf_task_is_submitted_with_bsub_and_carries_init_local_state(cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shared = tmp_path / "shared"
    shared.mkdir()
    target = tmp_path / "lsf-out.txt"
    task = cluster.LsfWrite(path=str(target), shared_tmp_dir=str(shared), poll_time=0, queue_flag="short",
                            job_name_flag="nightly")
    done, _ = run_with_recording(task)
    assert done
    assert target.read_text() == "prepared before submission"
    args = (tmp_path / "bsub-args").read_text().split()
    assert args[:12] == ["-q", "short", "-n", "2", "-M", "8192", "-R", "rusage[mem=8192]", "-W", "60", "-J", "nightly"]
    assert args[12:16] == ["-o", str(tmp_path / "job.out"), "-e", str(tmp_path / "job.err")]


def test_sge_qstat_states_are_read_from_the_table() -> None:
    from trunkline.contrib.sge import _parse_qstat_state

    table = (
        "job-ID  prior   name user state submit/start at     queue  slots\n"
        "----------------------------------------------------------------\n"
        "   7 0.5 a root r  07/09/2015 16:56:45 all.q@node001 1\n"
        "   8 0.5 b root Eqw 07/09/2015 16:56:42  1\n"
    )
    assert _parse_qstat_state(table, 7) == "r"
    assert _parse_qstat_state(table.encode(), 8) == "Eqw"
    assert _parse_qstat_state(table, 9) == "u"
