"""Which drivers the database URLs choose: aiomysql by default, asyncmy when the URL names it."""

from services.kit.db import async_url, sync_url


def test_a_plain_mysql_url_uses_aiomysql_and_pymysql():
    url = "mysql://root@127.0.0.1:3306/teammoa_teams"
    assert async_url(url) == "mysql+aiomysql://root@127.0.0.1:3306/teammoa_teams"
    assert sync_url(url) == "mysql+pymysql://root@127.0.0.1:3306/teammoa_teams"


def test_a_url_naming_asyncmy_keeps_it_and_migrates_with_pymysql():
    url = "mysql+asyncmy://root@127.0.0.1:3306/teammoa_teams"
    assert async_url(url) == url
    assert sync_url(url) == "mysql+pymysql://root@127.0.0.1:3306/teammoa_teams"


def test_sqlite_urls_use_aiosqlite():
    assert async_url("sqlite:////tmp/x.db") == "sqlite+aiosqlite:////tmp/x.db"
