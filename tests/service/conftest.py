"""A real server on loopback (uvicorn in a thread) over a fresh SQLite store with the classic definition."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from leadgate.service.app import create_app
from leadgate.store.store import Store
from tests.conftest import EXAMPLES


@dataclass
class Server:
    url: str
    store: Store
    write_key: str
    admin_key: str
    app: FastAPI

    def settle(self) -> None:
        """Wait until the background scorer has scored everything handed to it."""
        assert self.app.state.scorer.wait_idle(10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ready_store(url: str) -> Store:
    store = Store(url)
    store.upgrade()
    version = store.push_definition((EXAMPLES / "classic.yaml").read_text(), author="tests")
    store.activate(version.id, actor="tests")
    return store


@contextlib.contextmanager
def serving(store: Store, **options: Any) -> Iterator[Server]:
    """``create_app(store, **options)`` served by uvicorn on a free loopback port, with a write and an admin key."""
    port = _free_port()
    app = create_app(store, **options)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not srv.started and time.time() < deadline:
        time.sleep(0.02)
    try:
        yield Server(
            f"http://127.0.0.1:{port}",
            store,
            store.create_key("test write", "write"),
            store.create_key("test admin", "admin"),
            app,
        )
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def server(store_url: str) -> Iterator[Server]:
    store = ready_store(store_url)
    with serving(store) as srv:
        yield srv
    store.engine.dispose()
