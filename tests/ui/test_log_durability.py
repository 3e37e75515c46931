"""An answer is never returned before its log row is durable: a real server on loopback,
killed with SIGKILL in the middle of an 8-client load, keeps a row for every answer
a client received (bounded: at most 8 x 150 requests, 90 s)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests.ui.test_api import Q, make_services

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIENTS = 8
PER_CLIENT = 150
DEADLINE_S = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_sigkill_during_load_keeps_a_row_for_every_answer_returned(chroma_settings, tmp_path):
    make_services(chroma_settings).close()  # a small index with the fake embedder
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": REPO,
        "MADOGUCHI_DATA_DIR": str(chroma_settings.data_dir),
        "MADOGUCHI_EMBEDDER__KIND": "fake",
        "MADOGUCHI_EMBEDDER__DIM": "256",
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }
    cmd = [
        sys.executable, "-m", "madoguchi.ui.cli", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--no-admin", "--no-access-log",
        "--set", "server.rate_limit_per_minute=0", "--set", "server.daily_cap=0",
        "--set", "answer.answer_threshold=0",
    ]  # fmt: skip
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        t0 = time.monotonic()
        while True:
            assert proc.poll() is None, log_path.read_text(errors="replace")[-3000:]
            assert time.monotonic() - t0 < 120, "the server did not get ready"
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)

        returned: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()
        deadline = time.monotonic() + DEADLINE_S

        def client(c: int) -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                for i in range(PER_CLIENT):
                    if stop.is_set() or time.monotonic() > deadline:
                        return
                    try:
                        r = http.post("/api/v1/ask", json={"question": f"{Q} {c}-{i}"})
                    except httpx.HTTPError:
                        return  # the server is gone
                    if r.status_code == 200:
                        with lock:
                            returned.append(r.json()["answer_id"])

        threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
        for t in threads:
            t.start()
        while time.monotonic() < deadline:  # kill it in full flight
            with lock:
                if len(returned) >= 60:
                    break
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        stop.set()
        for t in threads:
            t.join(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)

    assert proc.returncode == -signal.SIGKILL
    assert len(returned) >= 60, log_path.read_text(errors="replace")[-3000:]
    db = sqlite3.connect(chroma_settings.data_dir / "conversations.sqlite")
    try:
        rows = {r[0] for r in db.execute("SELECT id FROM turns")}
    finally:
        db.close()
    missing = set(returned) - rows
    assert not missing, f"{len(missing)} of {len(returned)} returned answers have no log row"
    assert len(rows) >= len(returned)
