"""Throwaway shared back-ends for the tests: a PostgreSQL cluster and a ``chroma run``
server, each on a free port of 127.0.0.1, in a temporary folder removed at the end.

The cluster is made with the server's own ``initdb`` and ``pg_ctl`` (from
``/usr/lib/postgresql/<version>/bin`` or the PATH). PostgreSQL refuses to run as root,
so as root the cluster belongs to the ``postgres`` user (``runuser -u postgres``), in a
folder that user owns. ``stop()`` and ``start()`` play an outage on the same port and
files. ``chroma`` is the CLI installed beside this Python (the ``chromadb`` package).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, or None."""
    for found in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(found).parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


def chroma_cli() -> Path | None:
    here = Path(sys.executable).parent / "chroma"
    if here.exists():
        return here
    which = shutil.which("chroma")
    return Path(which) if which else None


def postgres_missing() -> str | None:
    """Why no cluster can be made here, or None."""
    if postgres_bin() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql"
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and no 'postgres' user to own the test cluster"
        if shutil.which("runuser") is None:
            return "running as root and no runuser to start the cluster as 'postgres'"
    return None


class PostgresCluster:
    def __init__(self) -> None:
        bindir = postgres_bin()
        assert bindir is not None
        self.bin = bindir
        self.root = Path(tempfile.mkdtemp(prefix="madoguchi-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stdout}\n{done.stderr}")

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off -c max_connections=100"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            opts,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class ChromaServer:
    def __init__(self) -> None:
        cli = chroma_cli()
        assert cli is not None
        self.cli = cli
        self.root = Path(tempfile.mkdtemp(prefix="madoguchi-chroma-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        log = open(self.root / "log", "ab")  # noqa: SIM115 - the server's, closed with it
        self.proc = subprocess.Popen(
            [
                str(self.cli),
                "run",
                "--path",
                str(self.root / "db"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited: {(self.root / 'log').read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("chroma run did not answer within 60 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
