"""The backup drill: back up the seeded stack (tools/backup.py: mariadb-dump of the three databases and
a tarball of the uploaded files), restore it into other database names on the suite's private MariaDB
and another files directory, compare row counts, Alembic revisions and the files' SHA-256 with the
backup's manifest (and with the live databases), then sign in against the restored copy: an auth
and a teams instance started on the restored databases answer the seeded user and team, and serve
an uploaded file byte for byte.

Prints one ``RELIABILITY {json}`` line with the figures: dump size, dump and restore seconds, rows
and files compared.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.servers import free_port, listening

from .conftest import DB_PREFIX, FULL, ROOT

pytestmark = pytest.mark.stack
RESTORED_PREFIX = DB_PREFIX.rstrip("_") + "_restored_"
START_TIMEOUT_S = 60
# The seeded data: small in CI, a team's worth in full mode (make reliability)
MEMBERS, TODOS, FILES, FILE_BYTES = (12, 300, 20, 400_000) if FULL else (2, 5, 3, 50_000)


def _backup_tool(rstack, *args: str, prefix: str = DB_PREFIX, files_dir: Path | None = None):
    env = {
        **rstack.env,
        "TEAMMOA_STACK_DATABASE_URL": rstack.mysql_url,
        "TEAMMOA_STACK_DB_PREFIX": prefix,
        "TEAMMOA_FILES_DIR": str(files_dir or rstack.data_dir / "files"),
    }
    return subprocess.run(
        [sys.executable, "-m", "tools.backup", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(name="seeded", scope="module")
def fx_seeded(rstack):
    """Users, a team with members, todos, a post with files and a painted week, through the gateway."""
    host, *members = (rstack.account("drill") for _ in range(MEMBERS + 1))
    team = rstack.team(host, *members, name="Backup drill")
    blobs = {f"drill-{n}.bin": secrets.token_bytes(FILE_BYTES + n * 7_000) for n in range(FILES)}
    monday = datetime.date.today() - datetime.timedelta(days=datetime.date.today().weekday())
    with rstack.http() as http:
        for n in range(TODOS):
            r = http.post(f"/api/v1/teams/{team['id']}/todos/", json={"content": f"drill {n}"}, headers=host.headers)
            assert r.status_code == 201, r.text
        stored = []
        for n, (name, blob) in enumerate(blobs.items()):
            if n % 5 == 0:  # a post holds at most 5 files
                post = http.post(f"/api/v1/teams/{team['id']}/posts/", json={"title": "Backups"}, headers=host.headers)
                assert post.status_code == 201, post.text
            r = http.post(
                f"/api/v1/teams/{team['id']}/posts/{post.json()['id']}/files/",
                files={"file": (name, blob)},
                headers=host.headers,
            )
            assert r.status_code == 201, r.text
            stored.append((r.json()["id"], blob))
        for member in (host, *members):
            r = http.put(
                f"/api/v1/teams/{team['id']}/schedules/me/",
                json={"week_start": monday.isoformat(), "slots": {monday.isoformat(): [9, 10, 11]}},
                headers=member.headers,
            )
            assert r.status_code == 200, r.text
    return {"host": host, "team": team, "files": stored}


def _start(rstack, service: str, port: int, env: dict[str, str], folder: Path) -> subprocess.Popen:
    log = (folder / f"{service}.log").open("ab")
    command = [sys.executable, "-m", "uvicorn", "--factory", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--no-access-log", f"services.{service}.app:create_app"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    log.close()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not listening(port):
        assert process.poll() is None, (folder / f"{service}.log").read_text()[-3000:]
        assert time.monotonic() < deadline, f"the restored {service} did not listen"
        time.sleep(0.1)
    return process


def test_a_backup_restores_into_other_databases_identical_and_usable(rstack, seeded, tmp_path):
    backup_dir = tmp_path / "backup"
    made = _backup_tool(rstack, "backup", "--out", str(backup_dir))
    assert made.returncode == 0, made.stdout + made.stderr
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert {path.name for path in backup_dir.iterdir()} == {
        "auth.sql.gz",
        "teams.sql.gz",
        "schedule.sql.gz",
        "files.tar.gz",
        "manifest.json",
    }
    assert len(manifest["files"]) >= len(seeded["files"])

    # the manifest says what the live databases hold (the stack is quiet while it runs)
    live = rstack.sql("teams", "SELECT COUNT(*) FROM todos WHERE team_id = :team", team=seeded["team"]["id"])
    assert live == [(TODOS,)]
    assert manifest["databases"]["teams"]["rows"]["todos"] >= TODOS
    for service in ("auth", "teams", "schedule"):
        (revision,) = rstack.sql(service, "SELECT version_num FROM alembic_version")[0]
        assert manifest["databases"][service]["revision"] == revision

    restored_files = Path(rstack.data_dir.parent) / "restored-files"
    began = time.monotonic()
    restored = _backup_tool(
        rstack, "restore", str(backup_dir), "--db-prefix", RESTORED_PREFIX, "--files-dir", str(restored_files)
    )
    restore_s = time.monotonic() - began
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "identical" in restored.stdout, restored.stdout
    verified = _backup_tool(rstack, "verify", str(backup_dir), prefix=RESTORED_PREFIX, files_dir=restored_files)
    assert verified.returncode == 0, verified.stdout

    # a second restore over the same names is refused rather than mixing data
    again = _backup_tool(
        rstack, "restore", str(backup_dir), "--db-prefix", RESTORED_PREFIX, "--files-dir", str(restored_files)
    )
    assert again.returncode != 0 and "has tables" in again.stdout + again.stderr

    # a restored copy that lost a row is caught
    _sql_on(rstack, RESTORED_PREFIX + "teams", "DELETE FROM todos WHERE team_id = %s LIMIT 1", seeded["team"]["id"])
    broken = _backup_tool(rstack, "verify", str(backup_dir), prefix=RESTORED_PREFIX, files_dir=restored_files)
    assert broken.returncode == 1 and "teams.todos" in broken.stdout

    # sign in against the restored copy: its own auth and teams instances, nothing of the live stack
    folder = tmp_path / "restored"
    folder.mkdir()
    auth_port, teams_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEAMMOA_")}
    env.update(
        {
            "TEAMMOA_MODE": "production",
            "TEAMMOA_SERVICE_TOKEN": rstack.service_token,
            "TEAMMOA_DATA_DIR": str(folder),
            "TEAMMOA_FILES_DIR": str(restored_files),
            "TEAMMOA_AUTO_MIGRATE": "false",
            "TEAMMOA_AUTH_DATABASE_URL": f"{rstack.mysql_url}/{RESTORED_PREFIX}auth",
            "TEAMMOA_TEAMS_DATABASE_URL": f"{rstack.mysql_url}/{RESTORED_PREFIX}teams",
            "TEAMMOA_AUTH_URL": f"http://127.0.0.1:{auth_port}",
            "TEAMMOA_TEAMS_URL": f"http://127.0.0.1:{teams_port}",
            "TEAMMOA_SCHEDULE_URL": "http://127.0.0.1:9",
            "TEAMMOA_REALTIME_URL": "http://127.0.0.1:9",
            "TEAMMOA_SITE_URL": "http://127.0.0.1",
            "TEAMMOA_ALLOWED_ORIGINS": "http://127.0.0.1",
            "TEAMMOA_COOKIE_SECURE": "false",
            "TEAMMOA_ARGON2_MEMORY_KIB": "1024",
            "TEAMMOA_ARGON2_TIME_COST": "1",
            "TEAMMOA_LOG_REQUESTS": "false",
        }
    )
    processes = [_start(rstack, "auth", auth_port, env, folder), _start(rstack, "teams", teams_port, env, folder)]
    try:
        host = seeded["host"]
        r = httpx.post(
            f"http://127.0.0.1:{auth_port}/api/v1/users/login/",
            json={"login": host.username, "password": PASSWORD},
            timeout=15,
        )
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        assert r.json()["user"]["id"] == host.id
        headers = {"Authorization": f"Bearer {token}"}
        teams = httpx.get(f"http://127.0.0.1:{teams_port}/api/v1/teams/", headers=headers, timeout=15)
        assert teams.status_code == 200, teams.text
        assert seeded["team"]["id"] in {team["id"] for team in _items(teams.json())}
        file_id, blob = seeded["files"][0]
        download = httpx.get(
            f"http://127.0.0.1:{teams_port}/api/v1/teams/{seeded['team']['id']}/files/{file_id}/",
            headers=headers,
            timeout=15,
        )
        assert download.status_code == 200 and download.content == blob
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        for service in ("auth", "teams", "schedule"):
            _sql_on(rstack, None, f"DROP DATABASE IF EXISTS `{RESTORED_PREFIX}{service}`")
        shutil.rmtree(restored_files, ignore_errors=True)

    rows = sum(sum(db["rows"].values()) for db in manifest["databases"].values())
    line = {
        "fault": "backup drill (dump, restore into other names, compare, sign in)",
        "dump_bytes": sum(manifest["bytes"].values()),
        "dump_s": manifest["seconds"]["dump"],
        "files_s": manifest["seconds"]["files"],
        "restore_s": round(restore_s, 2),
        "rows_compared": rows,
        "tables_compared": sum(len(db["rows"]) for db in manifest["databases"].values()),
        "files_compared": len(manifest["files"]),
        "notes": f"{sum(manifest['bytes'].values()) / 1024:.0f} KiB; dump {manifest['seconds']['dump']} s "
        f"+ files {manifest['seconds']['files']} s; "
        f"restore {restore_s:.1f} s; {rows} rows, {len(manifest['files'])} files identical; signed in on the copy",
    }
    print("\nRELIABILITY " + json.dumps(line))


def _items(body):
    return body["items"] if isinstance(body, dict) else body


def _sql_on(rstack, database: str | None, query: str, *params) -> None:
    import pymysql

    with (
        pymysql.connect(host="127.0.0.1", port=rstack.mariadb.port, user="root", database=database, autocommit=True) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute(query, params or None)
