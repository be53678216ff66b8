"""``leadgate serve`` in a process of its own for the live benchmarks (bench_ingest.py, bench_webhooks.py)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(url: str, scorer: str, log: Path) -> Iterator[str]:
    """The server's base URL once ``/health`` answers; the server stops when the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "leadgate.cli", "serve", "--database", url, "--port", str(port)]
    command += ["--rescore-every", "0", "--scorer", scorer]
    server = subprocess.Popen(command, stderr=log.open("w"), stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(400):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
