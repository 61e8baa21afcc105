"""Task behaviour a Luigi user relies on."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

import trunkline as luigi
from trunkline import task as task_module
from trunkline.task_register import Register, TaskClassAmbigiousException, TaskClassNotFoundException
from trunkline.util import common_params, copies, inherits, requires


class Leaf(luigi.Task):
    n = luigi.IntParameter()

    def output(self):
        return luigi.LocalTarget(f"/tmp/trunkline-test-leaf-{self.n}")


def test_constructing_a_task_twice_returns_the_same_object() -> None:
    assert Leaf(1) is Leaf(n=1)
    assert Leaf(1) is not Leaf(2)
    Register.clear_instance_cache()
    first = Leaf(3)
    Register.clear_instance_cache()
    assert Leaf(3) is not first and Leaf(3) == first


def test_input_keeps_the_structure_of_requires() -> None:
    class Structured(luigi.Task):
        def requires(self):
            return {"one": Leaf(1), "pair": [Leaf(2), Leaf(3)], "nested": {"t": (Leaf(4),)}}

    paths = Structured().input()
    assert paths["one"].path.endswith("leaf-1")
    assert [t.path[-1] for t in paths["pair"]] == ["2", "3"]
    assert isinstance(paths["nested"]["t"], tuple)
    assert Structured().deps() == [Leaf(1), Leaf(2), Leaf(3), Leaf(4)]


def test_flatten_handles_every_shape() -> None:
    assert task_module.flatten(None) == []
    assert task_module.flatten("abc") == ["abc"]
    assert task_module.flatten({"a": [1, (2, 3)], "b": 4}) == [1, 2, 3, 4]
    assert task_module.flatten(5) == [5]


def test_task_without_outputs_is_never_complete_and_warns() -> None:
    class Nothing(luigi.Task):
        pass

    with pytest.warns(UserWarning, match="without outputs has no custom complete"):
        assert Nothing().complete() is False


def test_wrapper_task_is_complete_when_what_it_requires_is(tmp_path: Path) -> None:
    class File(luigi.ExternalTask):
        name = luigi.Parameter()

        def output(self):
            return luigi.LocalTarget(str(tmp_path / self.name))

    class Both(luigi.WrapperTask):
        def requires(self):
            return [File("a"), File("b")]

    (tmp_path / "a").write_text("x")
    assert Both().complete() is False
    (tmp_path / "b").write_text("x")
    assert Both().complete() is True


def test_namespaces_prefix_the_family() -> None:
    luigi.namespace("reports")

    class Monthly(luigi.Task):
        pass

    luigi.namespace()

    class Plain(luigi.Task):
        pass

    class Explicit(luigi.Task):
        task_namespace = "custom"

    assert Monthly.get_task_family() == "reports.Monthly"
    assert Monthly().task_family == "reports.Monthly"
    assert Plain.get_task_family() == "Plain"
    assert Explicit.get_task_family() == "custom.Explicit"
    assert Register.get_task_cls("reports.Monthly") is Monthly


def test_a_namespace_set_after_the_class_shows_in_its_family_and_its_subclasses() -> None:
    class Base(luigi.Task):
        pass

    class Child(Base):
        pass

    assert (Base.get_task_family(), Child.get_task_family()) == ("Base", "Child")
    Base.task_namespace = "late"
    assert (Base.get_task_family(), Child.get_task_family()) == ("late.Base", "late.Child")
    del Base.task_namespace
    assert (Base.get_task_family(), Child().task_family) == ("Base", "Child")


def test_an_overridden_get_task_namespace_is_asked_every_time() -> None:
    current = ["first"]

    class Dynamic(luigi.Task):
        @classmethod
        def get_task_namespace(cls) -> str:
            return current[0]

    assert Dynamic.get_task_family() == "first.Dynamic"
    current[0] = "second"
    assert Dynamic.get_task_family() == "second.Dynamic"


def test_auto_namespace_uses_the_module_name() -> None:
    luigi.auto_namespace(scope=__name__)

    class Auto(luigi.Task):
        pass

    luigi.namespace(scope=__name__)
    assert Auto.get_task_family() == f"{__name__}.Auto"


def test_unknown_task_name_suggests_close_names() -> None:
    class Aggregation(luigi.Task):
        pass

    with pytest.raises(TaskClassNotFoundException, match="Did you mean:\n.*Aggregation"):
        Register.get_task_cls("Agregation")


def test_two_unrelated_classes_with_one_family_are_ambiguous() -> None:
    def make() -> type:
        class Twin(luigi.Task):
            pass

        return Twin

    make()
    make()
    with pytest.raises(TaskClassAmbigiousException):
        Register.get_task_cls("Twin")


def test_to_str_params_from_str_params_and_clone_round_trip() -> None:
    class Report(luigi.Task):
        day = luigi.DateParameter()
        window = luigi.IntParameter(default=7)

    import datetime

    report = Report(day=datetime.date(2024, 3, 1))
    assert report.to_str_params() == {"day": "2024-03-01", "window": "7"}
    assert Report.from_str_params({"day": "2024-03-01", "window": "7"}) is report
    assert report.clone(window=3).window == 3
    assert repr(report) == "Report(day=2024-03-01, window=7)"


def test_tasks_pickle_and_come_back_equal() -> None:
    restored = pickle.loads(pickle.dumps(Leaf(9)))
    assert restored == Leaf(9) and restored.task_id == Leaf(9).task_id


def test_externalize_returns_an_external_copy_and_leaves_the_original() -> None:
    class Producer(luigi.Task):
        def run(self):
            pass

    External = task_module.externalize(Producer)
    assert External.run is None
    assert Producer.run is not None
    assert External.get_task_family() == "Producer"


def test_inherits_and_requires_share_parameters() -> None:
    class Upstream(luigi.Task):
        day = luigi.Parameter()
        size = luigi.IntParameter(default=1)

    @inherits(Upstream)
    class Sibling(luigi.Task):
        extra = luigi.Parameter(default="e")

    @requires(Upstream)
    class Downstream(luigi.Task):
        pass

    sibling = Sibling(day="d", size=2)
    assert sibling.clone_parent() == Upstream(day="d", size=2)
    assert Downstream(day="d").requires() == Upstream(day="d")
    assert common_params(sibling, Upstream) == {"day": "d", "size": 2}


def test_copies_copies_the_output_line_by_line(tmp_path: Path) -> None:
    class Source(luigi.Task):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "source"))

        def run(self):
            with self.output().open("w") as f:
                f.write("a\nb\n")

    @copies(Source)
    class Copy(luigi.Task):
        def output(self):
            return luigi.LocalTarget(str(tmp_path / "copy"))

    assert luigi.build([Copy()], local_scheduler=True)
    assert (tmp_path / "copy").read_text() == "a\nb\n"


def test_overriding_init_still_works_with_the_instance_cache() -> None:
    class Custom(luigi.Task):
        x = luigi.IntParameter()

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.doubled = self.x * 2

    assert Custom(4).doubled == 8
    assert Custom(x=4) is Custom(4)


def test_forgetting_super_init_is_a_clear_error() -> None:
    class Broken(luigi.Task):
        def __init__(self):
            pass

    from trunkline.worker import TaskException, Worker

    with Worker() as worker, pytest.raises(TaskException, match="forget to call super"):
        worker.add(Broken())
