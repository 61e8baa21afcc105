"""The dependency-graph renderer (static/graph.js) in headless Chromium.

Each test loads graph.js into a blank page with one sized container, renders
a graph built here, and checks what a person looking at the page would see:
boxes, their labels and colours, where they sit, and what clicking,
dragging and the wheel do.
"""

from __future__ import annotations

import json
import random
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from .conftest import STATIC_DIR

Node = dict[str, str]
Edge = list[str]

BLANK_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>graph</title></head>"
    "<body style='margin:0'><div id='graph' style='width:1200px;height:760px'></div></body></html>"
)

RENDER = """([nodes, edges, options]) => {
    window.selectedIds = [];
    const container = document.getElementById('graph');
    window.view = TrunklineGraph.render(container, nodes, edges,
        Object.assign({}, options, {onSelect: (id) => window.selectedIds.push(id)}));
}"""

DRAWN_NODES = """() => Array.from(document.querySelectorAll('#graph .tl-node')).map((g) => {
    const box = g.querySelector('rect').getBoundingClientRect();
    return {
        id: g.getAttribute('data-id'),
        classes: Array.from(g.classList),
        text: g.querySelector('text').textContent,
        title: g.querySelector('title').textContent,
        left: box.left, top: box.top, right: box.right, bottom: box.bottom,
    };
})"""


@pytest.fixture
def graph_page(page: Any) -> Any:
    page.set_content(BLANK_PAGE)
    page.add_style_tag(path=str(STATIC_DIR / "graph.css"))
    page.add_script_tag(path=str(STATIC_DIR / "graph.js"))
    return page


def render(page: Any, nodes: list[Node], edges: list[Edge], **options: Any) -> None:
    page.evaluate(RENDER, [nodes, edges, options])


def drawn_nodes(page: Any) -> dict[str, dict[str, Any]]:
    drawn = page.evaluate(DRAWN_NODES)
    by_id = {node["id"]: node for node in drawn}
    assert len(by_id) == len(drawn), "a node was drawn more than once"
    return by_id


def node(task_id: str, status: str = "PENDING", label: str | None = None) -> Node:
    return {"id": task_id, "label": label or task_id, "status": status, "family": task_id.split("(")[0]}


def random_dag(size: int, edges_per_node: int, seed: int) -> tuple[list[Node], list[Edge]]:
    """Tasks T0..Tn-1; each requires a few tasks with smaller numbers."""
    rng = random.Random(seed)
    statuses = ["PENDING", "RUNNING", "DONE", "FAILED", "DISABLED", "UNKNOWN"]
    nodes = [node(f"T{i}", rng.choice(statuses)) for i in range(size)]
    edges = [[f"T{i}", f"T{rng.randrange(i)}"] for i in range(1, size) for _ in range(rng.randint(1, edges_per_node))]
    return nodes, edges


def layered_graph(layers: int, width: int, edges_per_node: int, seed: int) -> tuple[list[Node], list[Edge]]:
    """A root requiring `width` tasks, each requiring tasks of the layer below."""
    rng = random.Random(seed)
    nodes = [node("Root()", "PENDING")]
    edges: list[Edge] = []
    for layer in range(layers):
        for i in range(width):
            task_id = f"Layer{layer}(i={i})"
            nodes.append(node(task_id, rng.choice(["DONE", "DONE", "PENDING", "RUNNING", "FAILED"])))
            if layer == layers - 1:
                edges.append(["Root()", task_id])
            if layer > 0:
                # Every task of the layer below is required at least once.
                edges.append([task_id, f"Layer{layer - 1}(i={i})"])
                edges.extend([task_id, f"Layer{layer - 1}(i={rng.randrange(width)})"] for _ in range(edges_per_node - 1))
    return nodes, edges


def overlapping(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


def test_every_node_is_drawn_once_with_its_label_and_its_status_class(graph_page: Any) -> None:
    statuses = ["PENDING", "RUNNING", "DONE", "FAILED", "DISABLED", "UNKNOWN", "BATCH_RUNNING"]
    nodes = [node(f"Task{s.title()}(x=1)", s, label=f"{s.lower()} task") for s in statuses]
    render(graph_page, nodes, [[nodes[0]["id"], n["id"]] for n in nodes[1:]])

    drawn = drawn_nodes(graph_page)
    assert set(drawn) == {n["id"] for n in nodes}
    for expected in nodes:
        shown = drawn[expected["id"]]
        assert shown["text"] == expected["label"]
        assert f"status-{expected['status']}" in shown["classes"]
        assert "tl-node" in shown["classes"]
        assert expected["id"] in shown["title"]
    assert graph_page.get_attribute("#graph", "data-rendered-nodes") == "7"


def test_status_colours_tell_done_from_failed_from_running(graph_page: Any) -> None:
    render(graph_page, [node("D", "DONE"), node("F", "FAILED"), node("R", "RUNNING")], [])
    fills = graph_page.evaluate(
        """() => Object.fromEntries(Array.from(document.querySelectorAll('.tl-node')).map(
            (g) => [g.getAttribute('data-id'),
                    getComputedStyle(g.querySelector('rect')).stroke.match(/\\d+/g).map(Number)]))"""
    )
    done_red, done_green, _ = fills["D"]
    failed_red, failed_green, _ = fills["F"]
    running_red, _, running_blue = fills["R"]
    assert done_green > done_red
    assert failed_red > failed_green
    assert running_blue > running_red


@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_a_dependency_is_drawn_before_the_task_that_requires_it(graph_page: Any, direction: str) -> None:
    # B requires A, C requires B.
    render(graph_page, [node("C"), node("A"), node("B")], [["B", "A"], ["C", "B"]], direction=direction)

    drawn = drawn_nodes(graph_page)
    a, b, c = drawn["A"], drawn["B"], drawn["C"]
    if direction == "LR":
        assert a["right"] <= b["left"] and b["right"] <= c["left"]
    else:
        assert a["bottom"] <= b["top"] and b["bottom"] <= c["top"]


def test_no_two_boxes_overlap_in_a_200_node_random_graph(graph_page: Any) -> None:
    nodes, edges = random_dag(200, edges_per_node=3, seed=5)
    render(graph_page, nodes, edges)

    boxes = list(drawn_nodes(graph_page).values())
    assert len(boxes) == 200
    clashes = [(a["id"], b["id"]) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if overlapping(a, b)]
    assert clashes == []


def test_the_first_render_fits_the_whole_graph_in_the_container(graph_page: Any) -> None:
    nodes, edges = random_dag(200, edges_per_node=3, seed=6)
    render(graph_page, nodes, edges)

    frame = graph_page.evaluate("() => { const r = document.getElementById('graph').getBoundingClientRect();"
                                " return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; }")
    outside = [
        b["id"]
        for b in drawn_nodes(graph_page).values()
        if b["left"] < frame["left"] or b["top"] < frame["top"]
        or b["right"] > frame["right"] or b["bottom"] > frame["bottom"]
    ]
    assert outside == []


def test_every_requirement_is_drawn_as_one_edge(graph_page: Any) -> None:
    nodes, edges = random_dag(50, edges_per_node=3, seed=7)
    distinct = {tuple(edge) for edge in edges}
    render(graph_page, nodes, edges)

    assert graph_page.locator("#graph path.tl-edge").count() == len(distinct)


def test_long_labels_are_cut_with_an_ellipsis_inside_their_box(graph_page: Any) -> None:
    long_id = "AggregationTask(date=2024-01-01, window=7, source=s3://bucket/some/very/long/prefix)"
    render(graph_page, [node(long_id)], [])

    shown = drawn_nodes(graph_page)[long_id]
    assert shown["text"].endswith("\u2026")
    assert long_id.startswith(shown["text"][:-1])
    assert shown["title"].startswith(long_id)
    text_width, box_width = graph_page.evaluate(
        "() => [document.querySelector('.tl-node text').getComputedTextLength(),"
        " document.querySelector('.tl-node rect').getBBox().width]"
    )
    assert text_width < box_width


@pytest.mark.parametrize("direction", ["LR", "TB"])
def test_boxes_grow_to_show_ordinary_task_ids_whole(graph_page: Any, direction: str) -> None:
    task_id = "AggregationTask(date=2024-01-05, window=7)"
    render(graph_page, [node(task_id), node("RunAll()")], [["RunAll()", task_id]], direction=direction)

    assert drawn_nodes(graph_page)[task_id]["text"] == task_id
    text_width, box_width = graph_page.evaluate(
        """(id) => { const g = Array.from(document.querySelectorAll('.tl-node'))
                          .find((n) => n.getAttribute('data-id') === id);
                     return [g.querySelector('text').getComputedTextLength(),
                             g.querySelector('rect').getBBox().width]; }""",
        task_id,
    )
    assert text_width < box_width


def test_clicking_a_node_selects_it_and_calls_on_select_with_its_id(graph_page: Any) -> None:
    render(graph_page, [node("A"), node("B"), node("C")], [["B", "A"], ["C", "B"]])

    graph_page.click(".tl-node[data-id='B']")

    assert graph_page.evaluate("() => window.selectedIds") == ["B"]
    assert "selected" in drawn_nodes(graph_page)["B"]["classes"]
    assert graph_page.locator(".tl-node.selected").count() == 1
    assert graph_page.locator(".tl-edge.tl-edge-selected").count() == 2


def test_select_highlights_a_node_without_calling_on_select(graph_page: Any) -> None:
    render(graph_page, [node("A"), node("B")], [["B", "A"]], selected="A")
    assert "selected" in drawn_nodes(graph_page)["A"]["classes"]

    graph_page.evaluate("() => window.view.select('B')")

    drawn = drawn_nodes(graph_page)
    assert "selected" in drawn["B"]["classes"] and "selected" not in drawn["A"]["classes"]
    assert graph_page.evaluate("() => window.selectedIds") == []


def test_dragging_pans_the_graph_and_does_not_select(graph_page: Any) -> None:
    render(graph_page, [node("A"), node("B")], [["B", "A"]])
    before = drawn_nodes(graph_page)["A"]

    start_x, start_y = before["left"] + 10, before["top"] + 5
    graph_page.mouse.move(start_x, start_y)
    graph_page.mouse.down()
    graph_page.mouse.move(start_x + 60, start_y + 40, steps=5)
    graph_page.mouse.up()

    after = drawn_nodes(graph_page)["A"]
    assert after["left"] == pytest.approx(before["left"] + 60, abs=1)
    assert after["top"] == pytest.approx(before["top"] + 40, abs=1)
    assert graph_page.evaluate("() => window.selectedIds") == []


def test_the_wheel_zooms_around_the_cursor(graph_page: Any) -> None:
    render(graph_page, [node("A"), node("B")], [["B", "A"]])
    before = drawn_nodes(graph_page)["B"]
    x, y = before["left"] + 20, before["top"] + 10

    graph_page.mouse.move(x, y)
    graph_page.mouse.wheel(0, -300)
    graph_page.wait_for_function(
        "(w) => document.querySelector(\".tl-node[data-id='B'] rect\").getBoundingClientRect().width > w",
        arg=before["right"] - before["left"],
    )

    after = drawn_nodes(graph_page)["B"]
    assert after["right"] - after["left"] > before["right"] - before["left"]
    # The point under the cursor stays under it: same fraction of the box.
    fraction_before = (x - before["left"]) / (before["right"] - before["left"])
    fraction_after = (x - after["left"]) / (after["right"] - after["left"])
    assert fraction_after == pytest.approx(fraction_before, abs=0.02)


def test_update_recolours_a_changed_node_and_keeps_the_zoom(graph_page: Any) -> None:
    nodes = [node("A", "DONE"), node("B", "RUNNING"), node("C", "PENDING")]
    edges = [["B", "A"], ["C", "B"]]
    render(graph_page, nodes, edges)
    fitted = graph_page.get_attribute(".tl-viewport", "transform")
    graph_page.mouse.move(600, 380)
    graph_page.mouse.wheel(0, 200)
    graph_page.wait_for_function(
        "(fitted) => document.querySelector('.tl-viewport').getAttribute('transform') !== fitted", arg=fitted
    )
    transform = graph_page.get_attribute(".tl-viewport", "transform")
    boxes_before = drawn_nodes(graph_page)

    nodes[1] = node("B", "DONE")
    graph_page.evaluate("([nodes, edges]) => window.view.update(nodes, edges)", [nodes, edges])

    drawn = drawn_nodes(graph_page)
    assert "status-DONE" in drawn["B"]["classes"] and "status-RUNNING" not in drawn["B"]["classes"]
    assert "DONE" in drawn["B"]["title"]
    assert graph_page.get_attribute(".tl-viewport", "transform") == transform
    assert drawn["A"]["left"] == boxes_before["A"]["left"]


def test_update_with_new_tasks_draws_them(graph_page: Any) -> None:
    render(graph_page, [node("A"), node("B")], [["B", "A"]])

    graph_page.evaluate(
        "([nodes, edges]) => window.view.update(nodes, edges)",
        [[node("A"), node("B"), node("C")], [["B", "A"], ["C", "B"]]],
    )

    assert set(drawn_nodes(graph_page)) == {"A", "B", "C"}
    assert graph_page.get_attribute("#graph", "data-rendered-nodes") == "3"


def test_a_graph_with_a_cycle_still_renders(graph_page: Any) -> None:
    render(graph_page, [node("A"), node("B"), node("C"), node("D")], [["B", "A"], ["C", "B"], ["A", "C"], ["D", "C"]])

    assert set(drawn_nodes(graph_page)) == {"A", "B", "C", "D"}
    assert graph_page.locator("path.tl-edge").count() == 4
    assert graph_page.get_attribute("#graph", "data-rendered-nodes") == "4"


def test_a_100000_deep_chain_lays_out_without_recursion(graph_page: Any) -> None:
    layers = graph_page.evaluate(
        """() => {
            const nodes = [], edges = [];
            for (let i = 0; i < 100000; i++) {
                nodes.push({id: 'T' + i, label: 'T' + i, status: 'DONE', family: 'T'});
                if (i > 0) edges.push(['T' + i, 'T' + (i - 1)]);
            }
            const layout = TrunklineGraph.layout(nodes, edges, {direction: 'LR'});
            return [layout.layers, layout.nodes[0].x < layout.nodes[1].x];
        }"""
    )
    assert layers == [100000, True]


def test_a_1000_node_graph_renders(graph_page: Any, artefacts_dir: Path) -> None:
    nodes, edges = layered_graph(layers=9, width=111, edges_per_node=3, seed=11)
    assert len(nodes) == 1000
    render(graph_page, nodes, edges)

    graph_page.wait_for_selector("#graph[data-rendered-nodes='1000']")
    assert graph_page.locator("#graph .tl-node").count() == 1000
    layout_ms = float(graph_page.get_attribute("#graph", "data-layout-ms"))
    graph_page.screenshot(path=str(artefacts_dir / "graph-1000-nodes.png"))
    print(f"1,000 nodes: layout and render took {layout_ms} ms")


def test_a_task_id_with_markup_is_shown_as_text(graph_page: Any) -> None:
    evil = "Evil(x=<script>window.pwned=1</script><img src=x onerror='window.pwned=2'>)"
    render(graph_page, [node(evil, label=evil), node("Safe()")], [["Safe()", evil]])

    shown = graph_page.evaluate(
        """() => { const g = document.querySelectorAll('.tl-node');
                   return Array.from(g).map((n) => n.querySelector('title').textContent); }"""
    )
    assert any(title.startswith(evil) for title in shown)
    assert graph_page.evaluate("() => window.pwned") is None
    assert graph_page.locator("#graph script, #graph img").count() == 0


def test_destroy_removes_the_drawing(graph_page: Any) -> None:
    render(graph_page, [node("A")], [])

    graph_page.evaluate("() => window.view.destroy()")

    assert graph_page.locator("#graph svg").count() == 0
    assert graph_page.get_attribute("#graph", "data-rendered-nodes") is None


def call_scheduler(base_url: str, method: str, **arguments: Any) -> Any:
    body = urllib.parse.urlencode({"data": json.dumps(arguments)}).encode()
    with urllib.request.urlopen(f"{base_url}/api/{method}", data=body, timeout=10) as answer:
        return json.load(answer)["response"]


def test_the_graph_of_a_real_schedulers_dep_graph_answer(graph_page: Any, scheduler_server: str) -> None:
    # What the visualiser does: ask the scheduler for a task's graph and draw it.
    for task_id, status, deps in [
        ("Dump(day=1)", "DONE", []),
        ("Dump(day=2)", "FAILED", []),
        ("Report()", "PENDING", ["Dump(day=1)", "Dump(day=2)"]),
    ]:
        call_scheduler(scheduler_server, "add_task", worker="w", task_id=task_id, status=status, deps=deps,
                       family=task_id.split("(")[0])
    graph = call_scheduler(scheduler_server, "dep_graph", task_id="Report()")
    nodes = [{"id": i, "label": t["display_name"], "status": t["status"], "family": t["name"]} for i, t in graph.items()]
    edges = [[i, dep] for i, t in graph.items() for dep in t["deps"]]

    render(graph_page, nodes, edges)

    drawn = drawn_nodes(graph_page)
    assert {i: [c for c in d["classes"] if c.startswith("status-")] for i, d in drawn.items()} == {
        "Dump(day=1)": ["status-DONE"],
        "Dump(day=2)": ["status-FAILED"],
        "Report()": ["status-PENDING"],
    }
    assert drawn["Dump(day=1)"]["right"] <= drawn["Report()"]["left"]
