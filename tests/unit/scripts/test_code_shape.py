# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shape rules of the code (issue 16): no function in plugins/ or the responder is longer than 60 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
LIMIT = 60


def long_functions(paths, base=ROOT, limit=LIMIT):
    """(path under base, name, lines) of every function or method longer than `limit` lines, its docstring included."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found.append((str(path.relative_to(base)), node.name, lines))
    return found


def test_no_function_is_longer_than_60_lines():
    paths = sorted((ROOT / "plugins").rglob("*.py")) + sorted((ROOT / "files" / "responder").rglob("*.py"))
    assert len(paths) > 50
    assert long_functions(paths) == []


def test_the_rule_sees_a_long_method_and_spares_a_short_one(tmp_path):
    sample = tmp_path / "sample.py"
    body = "        x = 1\n"
    sample.write_text("class C:\n    def long(self):\n" + body * LIMIT + "\n    def short(self):\n" + body * (LIMIT - 1))
    assert long_functions([sample], base=tmp_path) == [("sample.py", "long", LIMIT + 1)]
