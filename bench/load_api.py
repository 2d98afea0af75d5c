"""Load test of ``POST /api/score`` on loopback (issues 8 and 14), open or closed loop.

Open loop (default): sends requests at a fixed rate (default 500 per second for 60 s) over a
pool of keep-alive HTTP/1.1 connections, and measures each latency from the moment the request
was *scheduled*, not sent, so a slow server cannot hide its queueing (no coordinated omission).

    python bench/load_api.py --url http://127.0.0.1:8000 --rate 500 --duration 60 [--json]

Closed loop (``--clients N --requests M``): N clients, each on its own keep-alive connection,
send M requests one after the other (the next when the answer is in); latency from send to the
whole answer.

    python bench/load_api.py --serve --clients 8 --requests 250

With ``--serve`` it starts ``profilage serve`` itself on a free loopback port first (and stops
it afterwards), and reports the server's CPU time per request. The client is plain asyncio
streams (on uvloop when it is installed, as the server's uvicorn then is): it costs far less CPU
than the server, which matters on a 2-core machine where both run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def _body(persona: str, model: str) -> bytes:
    data = json.loads((ROOT / "personas" / f"{persona}.json").read_text())
    return json.dumps({"model": model, "dossier": data}).encode()


class Conn:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, body: bytes) -> int:
        if self.writer is None:
            await self.open()
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                "Connection: keep-alive\r\n\r\n").encode()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            if k.lower() == "content-length":
                length = int(v.strip())
        await self.reader.readexactly(length)
        return status


async def run_load(url: str, rate: float, duration: float, body: bytes, connections: int
                   ) -> dict:
    u = urlsplit(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    pool: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(connections):
        c = Conn(host, port)
        await c.open()
        pool.put_nowait(c)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []

    async def one(scheduled: float) -> None:
        conn = await pool.get()
        try:
            conn = await _post(conn, body, statuses, errors)
        finally:
            latencies.append(time.perf_counter() - scheduled)
            pool.put_nowait(conn)

    loop_start = time.perf_counter()
    total = int(rate * duration)
    tasks = []
    for i in range(total):
        scheduled = loop_start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - loop_start
    return {"mode": "open", "requests": total, "target_rps": rate,
            **_summary(latencies, statuses, errors, total, elapsed)}


async def _post(conn: Conn, body: bytes, statuses: dict[int, int], errors: list[str]) -> Conn:
    """One ``POST /api/score``, its status counted; a failure is counted too and the connection
    replaced by a new one (opened on its next use)."""
    try:
        status = await conn.post("/api/score", body)
        statuses[status] = statuses.get(status, 0) + 1
        return conn
    except Exception as e:  # noqa: BLE001 - a load test counts every failure
        errors.append(type(e).__name__)
        return Conn(conn.host, conn.port)


async def run_closed(url: str, clients: int, requests: int, body: bytes) -> dict:
    """``clients`` connections, each sending ``requests`` requests back to back."""
    u = urlsplit(url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []

    async def client() -> None:
        conn = Conn(host, port)
        await conn.open()
        for _ in range(requests):
            t = time.perf_counter()
            conn = await _post(conn, body, statuses, errors)
            latencies.append(time.perf_counter() - t)
        if conn.writer is not None:
            conn.writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    total = clients * requests
    return {"mode": "closed", "clients": clients, "requests": total, **_summary(
        latencies, statuses, errors, total, elapsed)}


def _summary(latencies: list[float], statuses: dict[int, int], errors: list[str], total: int,
             elapsed: float) -> dict:
    lat = sorted(latencies)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000

    ok = statuses.get(200, 0)
    return {
        "ok": ok, "errors": len(errors) + (total - ok - len(errors)),
        "statuses": statuses, "duration_s": round(elapsed, 2),
        "achieved_rps": round(total / elapsed, 1),
        "p50_ms": round(pct(0.50), 2), "p90_ms": round(pct(0.90), 2),
        "p99_ms": round(pct(0.99), 2), "max_ms": round(lat[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(lat) * 1000, 2),
    }


def _new_loop():
    """uvloop's event loop when installed (a cheaper client), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop(), "asyncio"
    return uvloop.new_event_loop(), "uvloop"


def _run(coro):
    loop, _ = _new_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its live descendants (Linux /proc); with
    ``--workers`` the server's work happens in child processes."""
    stats: dict[int, tuple[int, int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                f = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(d.name)] = (int(f[1]), int(f[11]) + int(f[12]))  # ppid, utime + stime
    tree, grew = {pid}, True
    while grew:
        new = {p for p, (pp, _) in stats.items() if pp in tree and p not in tree}
        tree |= new
        grew = bool(new)
    return sum(stats[p][1] for p in tree if p in stats) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(url: str, timeout: float = 60) -> None:
    import urllib.request
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/api/models", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} not ready after {timeout} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default=None)
    ap.add_argument("--serve", action="store_true", help="start profilage serve first")
    ap.add_argument("--workers", type=int, default=None, help="server workers (with --serve)")
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--persona", default="nathalie")
    ap.add_argument("--model", default="cnaf-2014")
    ap.add_argument("--clients", type=int, default=None,
                    help="closed loop: this many clients, each on its own connection")
    ap.add_argument("--requests", type=int, default=250,
                    help="closed loop: requests per client, one after the other")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    proc = None
    url = a.url
    if a.serve:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, "-m", "profilage", "serve", "--port", str(port)]
        if a.workers:
            cmd += ["--workers", str(a.workers)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_ready(url)
    elif url is None:
        raise SystemExit("give --url or --serve")
    try:
        body = _body(a.persona, a.model)
        # warm-up (model compilation, first requests)
        _run(run_load(url, 50, 2, body, 8))
        cpu0 = _cpu_seconds(proc.pid) if proc else None
        if a.clients:
            res = _run(run_closed(url, a.clients, a.requests, body))
        else:
            res = _run(run_load(url, a.rate, a.duration, body, a.connections))
        if proc:
            # CPU the server spent per request: independent of what else runs on the machine;
            # 2 cores / this figure bounds the sustainable rate.
            res["server_cpu_ms_per_request"] = round(
                (_cpu_seconds(proc.pid) - cpu0) * 1000 / res["requests"], 3)
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)
    res["client_loop"] = _new_loop()[1]
    res["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    res["load_average"] = [round(x, 2) for x in os.getloadavg()]
    res["pass"] = res["errors"] == 0 and res["p99_ms"] <= 50 and (
        a.clients is not None or res["achieved_rps"] >= 0.98 * a.rate)
    if a.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print(f"{k:>14}: {v}")
    sys.exit(0 if res["pass"] else 1)


if __name__ == "__main__":
    main()
