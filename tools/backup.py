"""Back up and restore TeamMoa's data: the three databases (mariadb-dump) and the uploaded files.

    python -m tools.backup backup [--out DIR]
    python -m tools.backup restore DIR [--db-prefix PREFIX] [--files-dir DIR] [--replace]
    python -m tools.backup verify DIR [--db-prefix PREFIX] [--files-dir DIR]

``backup`` writes DIR (default ``<data dir>/backups/<UTC time>``): ``auth.sql.gz``, ``teams.sql.gz``,
``schedule.sql.gz`` (each a consistent ``--single-transaction`` dump without CREATE DATABASE, so it
restores under any name), ``files.tar.gz`` and ``manifest.json`` (each table's row count, each
database's Alembic revision, each file's SHA-256, sizes and timings). ``restore`` loads a backup into
``<prefix>auth`` … and the files directory (also the compose and Kubernetes jobs' backups, which
have no manifest); it refuses to overwrite a database that has tables or a
non-empty files directory unless ``--replace``. ``verify`` compares a restored copy with the manifest
(row counts, revisions, checksums) and exits 1 on any difference.

Environment, as for the local stack (tools/stack): TEAMMOA_STACK_DATABASE_URL (mysql://root@127.0.0.1:3306),
TEAMMOA_STACK_DB_PREFIX (teammoa_stack_), TEAMMOA_DATA_DIR (var/stack; files in ``files/``).
Counts are taken right after the dump: back up a quiet system (or accept that writes in between
show up as differences in ``verify``). ``make backup`` / ``make restore BACKUP=DIR`` run it.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pymysql

from tools.common import ROOT

DATABASES = ("auth", "teams", "schedule")
SKIPPED_FILES = (".health",)  # the teams health check's probe file


@dataclass(frozen=True)
class Target:
    """Where the data lives: a MariaDB server, a database name prefix and a files directory."""

    mysql_url: str
    db_prefix: str
    files_dir: Path

    @classmethod
    def from_env(cls, environ: dict[str, str]) -> Target:
        data_dir = (ROOT / environ.get("TEAMMOA_DATA_DIR", "var/stack")).resolve()
        return cls(
            mysql_url=environ.get("TEAMMOA_STACK_DATABASE_URL", "mysql://root@127.0.0.1:3306").rstrip("/"),
            db_prefix=environ.get("TEAMMOA_STACK_DB_PREFIX", "teammoa_stack_"),
            files_dir=Path(environ.get("TEAMMOA_FILES_DIR", str(data_dir / "files"))),
        )

    def database(self, service: str) -> str:
        return f"{self.db_prefix}{service}"

    def client_args(self) -> tuple[list[str], dict[str, str]]:
        """Command-line arguments for mariadb/mariadb-dump, and the environment carrying the password."""
        parts = urlsplit(self.mysql_url)
        args = [
            f"--host={parts.hostname or '127.0.0.1'}",
            f"--port={parts.port or 3306}",
            f"--user={unquote(parts.username or 'root')}",
        ]
        env = dict(os.environ)
        if parts.password:
            env["MYSQL_PWD"] = unquote(parts.password)  # not on the command line, where ps shows it
        return args, env

    def connect(self, database: str | None = None) -> pymysql.Connection:
        parts = urlsplit(self.mysql_url)
        return pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            database=database,
            autocommit=True,
        )


def tool(*names: str) -> str:
    for name in names:
        if found := shutil.which(name):
            return found
    sys.exit(f"none of {', '.join(names)} is installed (apt-get install -y mariadb-client)")


def snapshot(target: Target, service: str) -> dict[str, Any]:
    """Each table's row count and the Alembic revision of one database."""
    with target.connect(target.database(service)) as conn, conn.cursor() as cursor:
        cursor.execute("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE'")
        tables = sorted(row[0] for row in cursor.fetchall())
        rows = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM `{table}`")
            rows[table] = int(cursor.fetchone()[0])
        revision = None
        if "alembic_version" in tables:
            cursor.execute("SELECT version_num FROM alembic_version")
            revision = ",".join(sorted(row[0] for row in cursor.fetchall()))
    return {"rows": rows, "revision": revision}


def checksums(files_dir: Path) -> dict[str, str]:
    """SHA-256 of every uploaded file, by its path under the files directory."""
    result: dict[str, str] = {}
    if not files_dir.exists():
        return result
    for path in sorted(files_dir.rglob("*")):
        if path.is_file() and path.name not in SKIPPED_FILES:
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            result[str(path.relative_to(files_dir))] = digest.hexdigest()
    return result


def backup(target: Target, out: Path) -> dict[str, Any]:
    """Dump the databases and pack the files into ``out``; return the manifest (also written there)."""
    out.mkdir(parents=True, exist_ok=False)
    dump = tool("mariadb-dump", "mysqldump")
    args, env = target.client_args()
    started = time.monotonic()
    databases = {}
    for service in DATABASES:
        path = out / f"{service}.sql.gz"
        command = [
            dump,
            *args,
            "--single-transaction",  # one consistent snapshot, no table locks (InnoDB)
            "--quick",
            "--routines",
            "--triggers",
            "--hex-blob",
            "--default-character-set=utf8mb4",
            target.database(service),
        ]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as process:
            assert process.stdout is not None
            with gzip.open(path, "wb", compresslevel=6) as packed:
                shutil.copyfileobj(process.stdout, packed, 1 << 20)
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if process.returncode != 0:
            sys.exit(f"{dump} {target.database(service)} failed (exit {process.returncode}): {error.strip()}")
        databases[service] = {"database": target.database(service), **snapshot(target, service)}
    dump_s = time.monotonic() - started
    began = time.monotonic()
    with tarfile.open(out / "files.tar.gz", "w:gz") as archive:
        if target.files_dir.exists():
            for path in sorted(target.files_dir.rglob("*")):
                if path.is_file() and path.name not in SKIPPED_FILES:
                    archive.add(path, arcname=str(path.relative_to(target.files_dir)), recursive=False)
    files_s = time.monotonic() - began
    manifest = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "databases": databases,
        "files": checksums(target.files_dir),
        "bytes": {path.name: path.stat().st_size for path in sorted(out.iterdir())},
        "seconds": {"dump": round(dump_s, 3), "files": round(files_s, 3)},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def restore(backup_dir: Path, target: Target, *, replace: bool = False) -> float:
    """Load a backup into the target's databases and files directory; return the seconds it took."""
    services = [path.name.removesuffix(".sql.gz") for path in sorted(backup_dir.glob("*.sql.gz"))]
    client = tool("mariadb", "mysql")
    args, env = target.client_args()
    started = time.monotonic()
    with target.connect() as conn, conn.cursor() as cursor:
        for service in services:
            name = target.database(service)
            cursor.execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s", (name,))
            if cursor.fetchone()[0] and not replace:
                sys.exit(f"database {name} has tables: restore into another prefix, or pass --replace")
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    for service in services:
        command = [client, *args, "--default-character-set=utf8mb4", target.database(service)]
        with (
            gzip.open(backup_dir / f"{service}.sql.gz", "rb") as dump,
            subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as process,
        ):
            assert process.stdin is not None and process.stderr is not None
            try:
                shutil.copyfileobj(dump, process.stdin, 1 << 20)  # decompressed on the way in
            except BrokenPipeError:
                pass  # the client stopped reading: its error message says why
            process.stdin.close()
            error = process.stderr.read().decode(errors="replace")
        if process.returncode != 0:
            sys.exit(f"loading {service}.sql.gz failed: {error.strip()}")
    files_dir = target.files_dir
    if files_dir.exists() and any(p.name not in SKIPPED_FILES for p in files_dir.iterdir()):
        if not replace:
            sys.exit(f"{files_dir} is not empty: restore into another directory, or pass --replace")
        shutil.rmtree(files_dir)
    files_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(backup_dir / "files.tar.gz", "r:gz") as archive:
        archive.extractall(files_dir, filter="data")  # no absolute paths, no .., no devices
    return time.monotonic() - started


def verify(backup_dir: Path, target: Target) -> dict[str, Any]:
    """Compare a restored copy with the backup's manifest: row counts, revisions, file checksums."""
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    differences = []
    rows_compared = tables = 0
    for service, expected in manifest["databases"].items():
        found = snapshot(target, service)
        if found["revision"] != expected["revision"]:
            differences.append(f"{service}: revision {found['revision']} != {expected['revision']}")
        if set(found["rows"]) != set(expected["rows"]):
            differences.append(f"{service}: tables {sorted(found['rows'])} != {sorted(expected['rows'])}")
        for table, count in expected["rows"].items():
            tables += 1
            rows_compared += count
            if found["rows"].get(table) != count:
                differences.append(f"{service}.{table}: {found['rows'].get(table)} rows != {count}")
    files = checksums(target.files_dir)
    if files != manifest["files"]:
        missing = sorted(set(manifest["files"]) - set(files))
        changed = sorted(name for name in manifest["files"] if name in files and files[name] != manifest["files"][name])
        extra = sorted(set(files) - set(manifest["files"]))
        differences.append(f"files: missing {missing}, changed {changed}, extra {extra}")
    return {
        "tables": tables,
        "rows_compared": rows_compared,
        "files_compared": len(manifest["files"]),
        "revisions": {service: db["revision"] for service, db in manifest["databases"].items()},
        "differences": differences,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.backup", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("backup", help="dump the databases and pack the files")
    make.add_argument("--out", type=Path, help="the backup directory to create")
    for name in ("restore", "verify"):
        sub = commands.add_parser(name)
        sub.add_argument("backup_dir", type=Path)
        sub.add_argument("--db-prefix", help="database name prefix (default: TEAMMOA_STACK_DB_PREFIX)")
        sub.add_argument("--files-dir", type=Path, help="files directory (default: <data dir>/files)")
        if name == "restore":
            sub.add_argument("--replace", action="store_true", help="overwrite databases and files that exist")
    options = parser.parse_args(argv)
    target = Target.from_env(dict(os.environ))
    if options.command == "backup":
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        data_dir = target.files_dir.parent
        out = options.out or data_dir / "backups" / stamp
        manifest = backup(target, out)
        rows = sum(sum(db["rows"].values()) for db in manifest["databases"].values())
        print(
            f"backup written to {out}: {sum(manifest['bytes'].values())} bytes, {rows} rows, "
            f"{len(manifest['files'])} files, dump {manifest['seconds']['dump']} s"
        )
        return 0
    target = Target(
        mysql_url=target.mysql_url,
        db_prefix=options.db_prefix or target.db_prefix,
        files_dir=options.files_dir or target.files_dir,
    )
    if options.command == "restore":
        seconds = restore(options.backup_dir, target, replace=options.replace)
        print(f"restored {options.backup_dir} into {target.db_prefix}* and {target.files_dir} in {seconds:.1f} s")
        if not (options.backup_dir / "manifest.json").exists():
            print("no manifest.json (a compose or Kubernetes job's backup): nothing to compare with")
            return 0
    report = verify(options.backup_dir, target)
    for line in report["differences"]:
        print(f"DIFFERENT: {line}")
    print(
        f"compared {report['tables']} tables ({report['rows_compared']} rows), {report['files_compared']} files, "
        f"revisions {report['revisions']}: {'identical' if not report['differences'] else 'DIFFERENT'}"
    )
    return 1 if report["differences"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
