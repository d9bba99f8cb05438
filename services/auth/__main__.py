"""Operator commands of the auth service.

python -m services.auth purge-unverified   delete accounts unverified for 3 days (once per deployment)
python -m services.auth rotate-key         add a new signing key (old keys stay published)
"""

from __future__ import annotations

import asyncio
import sys

from services.kit import db as kit_db

from . import accounts, keys
from .settings import AuthSettings


async def _run(command: str) -> None:
    settings = AuthSettings()
    database = kit_db.make_database(settings.database_url)
    await database.connect()
    try:
        if command == "purge-unverified":
            print(f"purged {await accounts.purge_unverified(db=database)} unverified accounts")
        elif command == "rotate-key":
            print(f"new signing key {await keys.add_key(database)}; restart or wait for JWKS caches (10 min)")
            await keys.retire_older_than_newest(database, keep=2)
        else:
            raise SystemExit(__doc__)
    finally:
        await kit_db.disconnect(database)


if __name__ == "__main__":
    asyncio.run(_run(sys.argv[1] if len(sys.argv) > 1 else ""))
