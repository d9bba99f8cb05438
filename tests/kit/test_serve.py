"""services/kit/serve.py: the one uvicorn command line, run the way the images run it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from services.kit import serve
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_an_unknown_service_is_refused_with_the_usage():
    result = subprocess.run(
        [sys.executable, "-m", "services.kit.serve", "nope"], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert result.returncode != 0 and "python -m services.kit.serve" in result.stderr
    with pytest.raises(ValueError):
        serve.uvicorn_args("nope")


def test_the_image_command_serves_the_service_named_by_the_environment(tmp_path):
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEAMMOA_")}
    env.update({"SERVICE": "schedule", "TEAMMOA_DATA_DIR": str(tmp_path)})
    command = [sys.executable, "-m", "services.kit.serve", "--host", "127.0.0.1", "--port", str(port)]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/schedules/openapi.json", timeout=2) as response:
                    assert b"schedule" in response.read().lower()
                    break
            except OSError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, f"the service did not answer:\n{log.read_text()}"
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=15)
