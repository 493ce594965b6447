"""A database that goes away mid-session: the pages keep the last good data under a banner and
recover by themselves when it is back. Real PostgreSQL behind a TCP relay the test cuts."""

from __future__ import annotations

import socket
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT
from tests.ui.conftest import ANCHOR, run_page

APP = str(ROOT / "app.py")


class Relay:
    """Forwards 127.0.0.1:port to PostgreSQL; ``cut()`` drops the listener and every connection."""

    def __init__(self, target=("127.0.0.1", 5432)):
        self.target = target
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.conns: list[socket.socket] = []
        self.server: socket.socket | None = None

    def start(self) -> None:
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", self.port))
        self.server.listen(16)
        threading.Thread(target=self._accept, args=(self.server,), daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        if self.server is not None:
            try:  # wakes the blocked accept(); a bare close() would leave the port listening
                self.server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.server.close()
            self.server = None
        for c in self.conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
                c.close()
            except OSError:
                pass
        self.conns.clear()


@pytest.fixture
def pg_database(pg_url):
    from tsdash.demo import generate
    from tsdash.sources.write import write_tables

    name = f"tsdash_outage_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    write_tables(generate(days=10, agents=6, seed=2, now=ANCHOR), url)
    yield name
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _banner(at) -> str:
    return " ".join(w.value for w in at.warning if "cannot be read right now" in w.value)


def test_database_outage_shows_banner_then_recovers(pg_database, source_env):
    relay = Relay()
    relay.start()
    try:
        source_env(f"postgresql+psycopg://postgres@127.0.0.1:{relay.port}/{pg_database}")
        at = run_page(APP)
        assert not at.exception and not at.error
        assert _banner(at) == ""
        before = {t.label: t.value for t in at.metric}
        assert before, "the Overview shows its tiles"

        relay.cut()  # the database goes away mid-session
        at.run()
        assert not at.exception and not at.error
        banner = _banner(at)
        assert "cannot be read right now" in banner and "recovers by itself" in banner
        assert "cannot be reached" in banner  # the source's own message says what is wrong
        assert {t.label: t.value for t in at.metric} == before  # the last good data still shows

        relay.start()  # it is back: the next run is fresh, without the banner
        at.run()
        assert not at.exception and not at.error and _banner(at) == ""
        assert {t.label: t.value for t in at.metric} == before
    finally:
        relay.cut()
