"""Two ``madoguchi serve`` replicas, real processes, on the shared back-ends.

Each replica is ``python -m madoguchi.ui.cli serve`` (uvicorn) on a free port of
127.0.0.1, its settings from the environment as an operator would give them
(``MADOGUCHI_STORE__DATABASE_URL`` / ``__CHROMA_URL``), the fake embedder and no rate
limits; the session's throwaway PostgreSQL cluster and ``chroma run`` server
(tests/shared_backends.py) hold the rows and the vectors. The names say ``postgres``
and ``chroma_server`` so ``pytest -k postgres`` / ``-k chroma_server`` pick them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
from shared_backends import free_port

from madoguchi.eval.dataset import load_dataset
from madoguchi.eval.run import run_items
from madoguchi.ingest.services import build_services
from madoguchi.ingest.towns import Town, TownRegistry, add_town, town_settings
from madoguchi.kit.config import Settings

REPO = Path(__file__).resolve().parents[1]


def _env(conf: Settings, data_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "MADOGUCHI_DATA_DIR": str(data_dir),
        "MADOGUCHI_EMBEDDER__KIND": "fake",
        "MADOGUCHI_EMBEDDER__DIM": "256",
        "MADOGUCHI_ANSWER__ANSWER_THRESHOLD": "0.0",
        "MADOGUCHI_STORE__DATABASE_URL": conf.store.database_url or "",
        "MADOGUCHI_STORE__CHROMA_URL": conf.store.chroma_url or "",
        "MADOGUCHI_STORE__NAMESPACE": conf.store.namespace,
        "MADOGUCHI_STORE__POLL_SECONDS": "0.5",
    }
    env.pop("MADOGUCHI_CONFIG", None)
    return env


class Replica:
    """One ``madoguchi serve`` process."""

    def __init__(self, conf: Settings, data_dir: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        cmd = [
            sys.executable, "-m", "madoguchi.ui.cli", "serve",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--no-admin", "--no-access-log",
            "--set", "server.rate_limit_per_minute=0",
            "--set", "server.daily_cap=0",
        ]  # fmt: skip
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd, cwd=REPO, env=_env(conf, data_dir), stdout=out, stderr=subprocess.STDOUT
            )

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"replica exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"replica not ready: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def _turns(conf: Settings) -> dict[str, str]:
    """The conversation log's rows (id → conversation id), read apart from the kit."""
    with psycopg.connect(conf.store.database_url) as conn:
        rows = conn.execute(f'SELECT id, conversation_id FROM "{conf.store.pg_schema}".turns')
        return {r[0]: r[1] for r in rows}


def _questions() -> list[str]:
    lines = (REPO / "demo" / "eval.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


# ---------------------------------------------------------------------------- SIGKILL


def test_sigkill_of_one_replica_under_load_postgres_chroma_server_loses_no_logged_answer(
    shared_settings, tmp_path, monkeypatch
):
    """16 clients, 8 per replica, ask demo questions; part way through replica 1 is
    killed (SIGKILL). Replica 2's clients get no error, and every answer any client
    received, from either replica, has its row in the PostgreSQL log."""
    monkeypatch.chdir(REPO)
    conf = shared_settings.with_overrides(**{"answer.answer_threshold": 0.0})
    svc = build_services(conf.with_overrides(data_dir=str(tmp_path / "ingest")))
    assert svc.ingest(["demo/faq.csv", "demo/pages"]).counts()["added"] > 60
    svc.close()
    replicas = [Replica(conf, tmp_path / f"r{i}", tmp_path / f"r{i}.log") for i in (1, 2)]
    try:
        for r in replicas:
            r.wait_ready()
        questions = _questions()
        per_client, budget = 100, 30.0
        lock = threading.Lock()
        answers: list[tuple[int, str, str]] = []  # (replica, answer_id, conversation_id)
        errors: dict[int, list[str]] = {1: [], 2: []}
        killed = threading.Event()
        start = time.monotonic()

        def client(n: int, replica: int) -> None:
            url = replicas[replica - 1].url
            with httpx.Client(timeout=20) as http:
                for i in range(per_client):
                    if time.monotonic() - start > budget:
                        return
                    q = questions[(n * per_client + i) % len(questions)]
                    try:
                        r = http.post(f"{url}/api/v1/ask", json={"question": q})
                        r.raise_for_status()
                        data = r.json()
                        with lock:
                            answers.append((replica, data["answer_id"], data["conversation_id"]))
                    except (httpx.HTTPError, KeyError, ValueError) as exc:
                        with lock:
                            errors[replica].append(f"{type(exc).__name__}: {exc}")
                        if replica == 1 and killed.is_set():
                            return  # its server is gone

        threads = [threading.Thread(target=client, args=(n, 1 + n % 2)) for n in range(16)]
        for t in threads:
            t.start()
        # part way: once replica 1 has answered a good share (or after a few seconds)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with lock:
                if sum(1 for a in answers if a[0] == 1) >= 150:
                    break
            time.sleep(0.05)
        replicas[0].proc.send_signal(signal.SIGKILL)
        replicas[0].proc.wait(10)
        killed.set()
        with lock:
            before_kill = sum(1 for a in answers if a[0] == 1)
            two_at_kill = sum(1 for a in answers if a[0] == 2)
        for t in threads:
            t.join(budget + 30)
        assert not any(t.is_alive() for t in threads)
        assert replicas[0].proc.returncode == -signal.SIGKILL

        by_replica = {k: [a for a in answers if a[0] == k] for k in (1, 2)}
        assert errors[2] == [], errors[2][:5]
        assert 0 < before_kill < 8 * per_client  # killed part way through its load
        assert len(by_replica[1]) >= before_kill
        assert len(by_replica[2]) - two_at_kill >= 100  # replica 2 went on answering
        rows = _turns(conf)
        missing = [a for a in answers if a[1] not in rows]
        assert missing == [], f"{len(missing)} answers returned without a log row"
        assert all(rows[aid] == cid for _, aid, cid in answers)
        assert len({a[1] for a in answers}) == len(answers)  # one row per answer
        assert len(rows) >= len(answers)
        print(
            f"answers: replica 1 {len(by_replica[1])} (kill at {before_kill}), "
            f"replica 2 {len(by_replica[2])} ({two_at_kill} at the kill); "
            f"replica 1 client errors {len(errors[1])}; "
            f"log rows {len(rows)}; {time.monotonic() - start:.1f} s"
        )
    finally:
        for r in replicas:
            r.stop()


# ---------------------------------------------------------------------------- towns

DEMO = ["demo/faq.csv", "demo/pages", "demo/pdf"]
# ids of their own: the session's cluster also holds the towns other tests made
CORPORA = {
    "demo-r": DEMO,
    "kawabe-r": ["demo/towns/kawabe/faq.csv"],
    "yamanoue-r": ["demo/towns/yamanoue/faq.csv"],
}


def _embedded(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        embedder={"kind": "fake", "dim": 256},
        answer={"answer_threshold": 0.0},
        server={"rate_limit_per_minute": 0, "daily_cap": 0},
    )


def _town_files(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "demo" / "synonyms.csv", data_dir / "synonyms.csv")
    shutil.copy(REPO / "demo" / "departments.csv", data_dir / "departments.csv")


def _without_latency(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "latency_ms"} for r in rows]


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_three_towns_on_two_replicas_postgres_chroma_server_equal_the_embedded_run(
    pg_cluster, chroma_server, tmp_path, monkeypatch
):
    """Three towns of one service on the shared back-ends, two replicas sharing the
    towns' folder (their town.toml files): each town ingested by the CLI beside
    replica 1, asked through replica 2 under /t/<town>/. The demo town's evaluation
    details equal the embedded single-town run's, latency aside."""
    monkeypatch.chdir(REPO)
    items = load_dataset(REPO / "demo" / "eval.jsonl")

    # the single-town service of demo/, embedded (SQLite + Chroma files)
    single = _embedded(tmp_path / "single")
    _town_files(single.data_dir)
    svc = build_services(single)
    svc.ingest(DEMO)
    run_items(svc, items, details_path=tmp_path / "single.jsonl")
    svc.close()
    single_rows = _read(tmp_path / "single.jsonl")
    assert len(single_rows) == len(items) > 50

    # the towns' registry: one folder both replicas read
    root = tmp_path / "root"
    base = _embedded(root).with_overrides(
        **{"store.database_url": pg_cluster.url, "store.chroma_url": chroma_server.url}
    )
    reg = TownRegistry(root)
    for tid in CORPORA:
        add_town(reg, Town(id=tid, name=base.town_name if tid == "demo-r" else tid))
    _town_files(reg.path("demo-r"))
    replicas = [Replica(base, root, tmp_path / f"r{i}.log") for i in (1, 2)]
    try:
        for r in replicas:
            r.wait_ready()
        two = replicas[1].url
        before = httpx.post(f"{two}/t/kawabe-r/api/v1/ask", json={"question": "住民票は？"})
        assert before.status_code == 200 and before.json()["citations"] == []
        # each town ingested by the CLI on replica 1's side, in processes of their own
        cli = [
            subprocess.Popen(
                [sys.executable, "-m", "madoguchi.ui.cli", "ingest", "--town", tid, *paths],
                cwd=REPO,
                env=_env(base, root),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for tid, paths in CORPORA.items()
        ]
        for p in cli:
            out, _ = p.communicate(timeout=120)
            assert p.returncode == 0, out.decode()[-2000:]
        towns = {tid: town_settings(base, reg.get(tid)) for tid in CORPORA}
        with psycopg.connect(pg_cluster.url) as conn:
            for tid, conf in towns.items():
                row = conn.execute(f'SELECT COUNT(*) FROM "{conf.store.pg_schema}".sources')
                assert row.fetchone()[0] > 0, tid  # type: ignore[index]

        # replica 2 sees them without a restart
        def kawabe_answers() -> bool:
            r = httpx.post(f"{two}/t/kawabe-r/api/v1/ask", json={"question": "住民票は？"})
            return r.status_code == 200 and bool(r.json()["citations"])

        deadline = time.monotonic() + 15
        while not kawabe_answers():
            assert time.monotonic() < deadline, "replica 2 never saw the CLI's ingest"
            time.sleep(0.2)

        # every demo question through replica 2, as eval.run asks it
        got = []
        with httpx.Client(timeout=30) as http:
            for item in items:
                conv = None
                if item.history:
                    conv = f"eval:{item.id}"
                    for earlier in item.history:
                        http.post(
                            f"{two}/t/demo-r/api/v1/ask",
                            json={"question": earlier, "conversation_id": conv},
                        ).raise_for_status()
                r = http.post(
                    f"{two}/t/demo-r/api/v1/ask",
                    json={"question": item.question, "conversation_id": conv},
                )
                assert r.status_code == 200, r.text
                data = r.json()
                got.append(
                    {
                        "id": item.id,
                        "answer": data["answer"],
                        "refused": data["refused"],
                        "lang": data["lang"],
                        "citations": data["citations"],
                    }
                )
        # replica 1 answers the same; feedback sent to it reaches replica 2's turn
        one = replicas[0].url
        sample = [i for i, item in enumerate(items) if not item.history][::8]
        for i in sample:
            r = httpx.post(f"{one}/t/demo-r/api/v1/ask", json={"question": items[i].question})
            assert r.status_code == 200, r.text
            assert {k: r.json()[k] for k in got[i] if k != "id"} == {
                k: v for k, v in got[i].items() if k != "id"
            }, items[i].id
        fb = httpx.post(
            f"{one}/t/demo-r/api/v1/feedback",
            json={"answer_id": data["answer_id"], "helpful": False},
        )
        assert fb.status_code == 200, fb.text
        asked = len(items) + sum(len(item.history) for item in items) + len(sample)
        with psycopg.connect(pg_cluster.url) as conn:
            schema = towns["demo-r"].store.pg_schema
            turns = conn.execute(f'SELECT COUNT(*) FROM "{schema}".turns').fetchone()
            marked = conn.execute(
                f'SELECT feedback FROM "{schema}".turns WHERE id = %s', (data["answer_id"],)
            ).fetchone()
        assert turns is not None and turns[0] == asked
        assert marked is not None and marked[0] == 0
        # a town registered while both run is served at once (the folder is shared);
        # an id never registered is 404
        add_town(reg, Town(id="late-r", name="late-r"))
        late = httpx.post(f"{two}/t/late-r/api/v1/ask", json={"question": "住民票は？"})
        assert late.status_code == 200 and late.json()["citations"] == [], late.text
        unknown = httpx.post(f"{two}/t/nowhere-r/api/v1/ask", json={"question": "住民票は？"})
        assert unknown.status_code == 404 and unknown.json()["error"] == "TownNotFound"
        other = httpx.post(
            f"{two}/t/yamanoue-r/api/v1/ask", json={"question": items[0].question}
        ).json()
        cited = [x["source"] for x in other["citations"] + other["related"]]
        assert cited and all(s.startswith("demo/towns/yamanoue/") for s in cited)
    finally:
        for r in replicas:
            r.stop()

    # what the API shows of each answer equals the embedded run's details
    seen = [
        {k: v for k, v in r.items() if k not in ("latency_ms", "retrieved")} for r in single_rows
    ]
    assert got == seen
    assert sum(bool(r["citations"]) for r in got) > 50
    # and the whole details (retrieved sources too) of the demo town on the shared
    # back-ends, as ``madoguchi eval run --town`` would compute them
    shared = build_services(towns["demo-r"])
    run_items(shared, items, details_path=tmp_path / "town.jsonl")
    shared.close()
    assert _without_latency(_read(tmp_path / "town.jsonl")) == _without_latency(single_rows)
