"""``make lock``: bring every pin in requirements/app.txt and requirements/dev.txt to the newest release the
package index offers for requirements/app.in and requirements/dev.in, in a fresh virtual environment.

    python tools/lock.py            # write the new pins (then `make lock` installs them and runs the tests)

The flow is pip's own: install the ``.in`` files into an empty venv, ``pip check``, ``pip freeze``. app.txt
holds the runtime set; dev.txt holds ``-r app.txt`` and only what the tools add. Nothing is written when
the resolution fails or ``pip check`` complains.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQ = ROOT / "requirements"
WORK = ROOT / "var" / "lock-venv"
SKIP = {"pip", "setuptools", "wheel"}
APP_HEADER = (
    "# Pinned runtime set, seen working together on Python 3.11 (pip check clean).\n"
    "# Regenerate with `make lock` after changing requirements/app.in.\n"
)
DEV_HEADER = "# Test and lint tools, on top of app.txt. Regenerate with `make lock` (requirements/dev.in).\n-r app.txt\n"


def _name(line: str) -> str:
    return re.sub(r"[-_.]+", "-", line.split("==", 1)[0]).lower()


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _freeze(python: str) -> list[str]:
    lines = [line for line in _run(python, "-m", "pip", "freeze", "--all").splitlines() if "==" in line]
    return sorted((line for line in lines if _name(line) not in SKIP), key=lambda line: line.lower())


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(WORK)
    python = str(WORK / "bin" / "python")
    pip = [python, "-m", "pip", "install", "--quiet", "--upgrade"]
    _run(*pip, "pip")
    _run(*pip, "-r", str(REQ / "app.in"))
    _run(python, "-m", "pip", "check")
    app = _freeze(python)
    _run(*pip, "-r", str(REQ / "dev.in"))
    _run(python, "-m", "pip", "check")
    app_names = {_name(line) for line in app}
    dev = [line for line in _freeze(python) if _name(line) not in app_names]
    old = {
        _name(line): line.split("==", 1)[1]
        for path in ("app.txt", "dev.txt")
        for line in (REQ / path).read_text().splitlines()
        if "==" in line
    }
    (REQ / "app.txt").write_text(APP_HEADER + "\n".join(app) + "\n")
    (REQ / "dev.txt").write_text(DEV_HEADER + "\n".join(dev) + "\n")
    changed = [
        f"{line.split('==', 1)[0]} {old[_name(line)]} -> {line.split('==', 1)[1]}"
        for line in app + dev
        if _name(line) in old and old[_name(line)] != line.split("==", 1)[1]
    ]
    added = [line for line in app + dev if _name(line) not in old]
    print(f"{len(app)} runtime pins, {len(dev)} tool pins; {len(changed)} upgraded, {len(added)} new")
    for line in changed + added:
        print("  ", line)
    shutil.rmtree(WORK, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
