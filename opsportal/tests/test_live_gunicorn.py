"""The live gunicorn of the concurrency and fuzz tests runs on the MongoDB leg too (issue 9): where
`MONGODB_URI` is set it gets that server, with a test database of its own."""

from opsportal.testing.live_gunicorn import live_server_env


def test_on_sqlite_the_server_gets_a_fresh_file_and_none_of_pytests_variables(tmp_path):
    env = live_server_env(tmp_path, 8123, {"PATH": "/bin", "PYTEST_CURRENT_TEST": "t", "DJANGO_COLORS": "x"})
    assert "MONGODB_URI" not in env
    assert env["OPSPORTAL_SQLITE_PATH"] == str(tmp_path / "live.sqlite3")
    assert env["PATH"] == "/bin"
    assert not [name for name in env if name.startswith("PYTEST") or name == "DJANGO_COLORS"]
    assert (env["HOST"], env["PORT"], env["WEB_CONCURRENCY"], env["DEBUG"]) == ("127.0.0.1", "8123", "2", "false")


def test_on_mongodb_the_server_gets_the_uri_naming_a_test_database_of_its_own(tmp_path):
    uri = "mongodb://ci:pw@db1:27017,db2:27017/opsportal?directConnection=true&w=majority"
    env = live_server_env(tmp_path, 8123, {"MONGODB_URI": uri})
    # not test_opsportal itself: pytest-django recreates that at session start and flushes it after every test
    assert (
        env["MONGODB_URI"] == "mongodb://ci:pw@db1:27017,db2:27017/test_opsportal_live?directConnection=true&w=majority"
    )
    assert env["OPSPORTAL_CACHE_DIR"] == str(tmp_path / "cache")
