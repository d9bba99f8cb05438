"""The realtime modules import each other in one direction only (no cycle, not even for type checking):
hubs and frame handling reach the instance through narrow Protocols (hubs.HubHost, channels.ChannelHost),
a subscription reaches its socket through sequencing.Outlet."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "services" / "realtime"


def _imports(path: Path) -> set[str]:
    """The sibling modules a module imports, anywhere in it (TYPE_CHECKING blocks included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path, node, nxt]
            if nxt not in state and (found := visit(nxt, [*path, node])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [])):
            return found
    return None


def test_the_realtime_modules_form_no_import_cycle():
    graph = {path.stem: _imports(path) for path in PACKAGE.glob("*.py")}
    assert graph["sequencing"] <= {"protocol"}, "a subscription must not know the connection or the hubs"
    assert "service" not in graph["hubs"] | graph["channels"], "hubs and frame handling must not know Realtime"
    assert _cycle(graph) is None


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
