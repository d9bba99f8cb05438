"""The stack's gateway: Debian's nginx, and its configuration rendered by gateway/nginx/render.py."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tools.common import ROOT, apt_install

from .config import Config, commands, nginx_env


def ensure_nginx() -> None:
    """Install Debian's nginx when it is missing and we may (root with apt-get)."""
    apt_install("nginx")


def check_worker_access(*paths: Path) -> None:
    """Run as root, nginx's workers drop to "nobody": they must be able to reach these directories."""
    if os.geteuid() != 0:
        return
    for path in paths:
        for folder in (path, *path.parents):
            if not folder.stat().st_mode & stat.S_IXOTH:
                sys.exit(
                    f"nginx's workers (user nobody) cannot enter {folder}: choose a data directory "
                    f"outside it (TEAMMOA_DATA_DIR) or `chmod o+x {folder}`"
                )


def render_gateway(config: Config, upstreams: dict[str, list[int]] | None = None) -> None:
    """Render the gateway config into the data directory and let nginx check it."""
    conf_dir = config.data_dir / "nginx" / "conf"
    (config.data_dir / "nginx" / "run").mkdir(parents=True, exist_ok=True)
    check_worker_access(ROOT / "gateway" / "web", config.data_dir / "nginx" / "run")
    render = [sys.executable, str(ROOT / "gateway" / "nginx" / "render.py"), "--out", str(conf_dir)]
    subprocess.run(render, check=True, stdout=subprocess.DEVNULL, env={**os.environ, **nginx_env(config, upstreams)})
    test = [*commands(config)["nginx"], "-t", "-q"]
    result = subprocess.run(test, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"nginx rejected the rendered config {conf_dir}/nginx.conf:\n{result.stderr}")
