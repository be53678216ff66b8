"""The admin API over definition versions, over real HTTP: list, show, diff (stored or YAML), errors."""

from __future__ import annotations

import httpx

from tests.conftest import EXAMPLES
from tests.service.conftest import Server

CLASSIC = (EXAMPLES / "classic.yaml").read_text()


def admin(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.admin_key}"}


def push(server: Server, source: str) -> int:
    r = httpx.post(f"{server.url}/api/definitions", json={"source": source, "author": "ann"}, headers=admin(server))
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


def test_list_show_and_diff(server: Server) -> None:
    v2 = push(server, CLASSIC.replace("version: 1", "version: 2").replace("threshold: 100", "threshold: 90"))
    listed = httpx.get(f"{server.url}/api/definitions", headers=admin(server)).json()
    assert [(v["id"], v["name"], v["version"], v["active"]) for v in listed] == [
        (1, "classic", "1", True), (v2, "classic", "2", False)
    ]  # fmt: skip
    assert listed[1]["author"] == "ann" and len(listed[1]["sha256"]) == 64
    shown = httpx.get(f"{server.url}/api/definitions/classic@2", headers=admin(server)).json()
    assert shown["id"] == v2 and "threshold: 90" in shown["source"]
    assert httpx.get(f"{server.url}/api/definitions/active", headers=admin(server)).json()["id"] == 1
    diff = httpx.get(
        f"{server.url}/api/definitions/diff", params={"old": "1", "new": "classic@2"}, headers=admin(server)
    ).json()
    assert diff["old"]["label"] == "#1 classic@1" and diff["identical"] is False
    qualify = next(c for c in diff["changes"] if c["section"] == "qualify")
    assert qualify["fields"] == [{"field": "threshold", "old": 100, "new": 90}]


def test_diff_against_yaml_not_pushed(server: Server) -> None:
    draft = CLASSIC.replace("points: 25", "points: 40")
    r = httpx.post(
        f"{server.url}/api/definitions/diff", json={"old": "active", "new_source": draft}, headers=admin(server)
    )
    assert r.status_code == 200, r.text
    (change,) = r.json()["changes"]
    assert (change["section"], change["key"], change["fields"]) == (
        "engagement", "demo_request", [{"field": "points", "old": 25, "new": 40}]
    )  # fmt: skip


def test_errors_have_the_one_shape(server: Server) -> None:
    r = httpx.get(f"{server.url}/api/definitions/classic@9", headers=admin(server))
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    assert "classic@9" in r.json()["error"]["message"]
    r = httpx.post(f"{server.url}/api/definitions/diff", json={"old": "1"}, headers=admin(server))
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_request"
    r = httpx.post(
        f"{server.url}/api/definitions/diff", json={"old": "1", "new_source": "schema: 1\nname: x\n"},
        headers=admin(server),
    )  # fmt: skip
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_definition"
    r = httpx.get(f"{server.url}/api/definitions", headers={"Authorization": f"Bearer {server.write_key}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert httpx.get(f"{server.url}/api/definitions").status_code == 401


def test_pushing_a_stored_version_again(server: Server) -> None:
    url, headers = f"{server.url}/api/definitions", admin(server)
    same = httpx.post(url, json={"source": CLASSIC, "author": "bob"}, headers=headers)
    assert same.status_code == 200, same.text
    assert same.json() == {"id": 1, "name": "classic", "version": "1", "active": False, "created": False}
    other = httpx.post(url, json={"source": CLASSIC.replace("threshold: 100", "threshold: 80")}, headers=headers)
    assert other.status_code == 409, other.text
    error = other.json()["error"]
    assert error["code"] == "version_conflict"
    assert error["message"].startswith("classic@1 is already stored as #1 with different content; bump version")
    v2 = httpx.post(url, json={"source": CLASSIC.replace("version: 1", "version: 2")}, headers=headers)
    assert v2.status_code == 200 and v2.json()["created"] is True
    listed = httpx.get(url, headers=headers).json()
    assert [(v["id"], v["version"]) for v in listed] == [(1, "1"), (v2.json()["id"], "2")]
    assert listed[0]["author"] == "tests"  # the repeated push by bob changed nothing
