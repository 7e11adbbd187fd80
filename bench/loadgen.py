"""A small HTTP/1.1 load generator for the benchmarks: keep-alive connections over asyncio streams,
no dependency beyond the standard library (the machine has no wrk2).

Two ways to load a server:

- :func:`saturate` — closed loop, ``concurrency`` requests always in flight for ``seconds``: the
  maximum throughput.
- :func:`open_loop` — requests *scheduled* at a constant rate whatever the server does; each
  latency is measured from the request's intended send time, so a stalled server is charged for
  every request it delayed (coordinated omission avoided, as wrk2 does). A request waiting for a
  free connection is waiting on the server too and is charged the same way.

A request is ``(method, path, headers, body_bytes)``; ``make(i)`` returns the i-th one.
"""
from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

Request = tuple[str, str, dict[str, str], bytes | None]


class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, req: Request) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        method, path, headers, body = req
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Connection: keep-alive"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed by server")
        status = int(status_line.split()[1])
        length, chunked, close = None, False, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            payload = b"".join(parts)
        else:
            payload = await self.reader.readexactly(length or 0)
        if close:
            self.close()
        return status, payload


@dataclass
class Result:
    offered_rate: float | None
    seconds: float
    completed: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float | None:
        if not self.latencies:
            return None
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

    def summary(self) -> dict:
        ms = lambda v: None if v is None else round(v * 1000, 2)  # noqa: E731
        return {"offered_rate": self.offered_rate, "throughput": round(self.throughput, 1),
                "completed": self.completed, "errors": self.errors,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "p50_ms": ms(self.pct(50)), "p90_ms": ms(self.pct(90)), "p99_ms": ms(self.pct(99)),
                "max_ms": ms(max(self.latencies) if self.latencies else None),
                "mean_ms": ms(statistics.fmean(self.latencies) if self.latencies else None)}


def _record(res: Result, status: int, payload: bytes, latency: float, keep_bodies: bool) -> None:
    res.statuses[status] = res.statuses.get(status, 0) + 1
    if status >= 400:
        res.errors += 1
    res.completed += 1
    res.latencies.append(latency)
    if keep_bodies:
        res.bodies.append(payload)


async def _saturate(host, port, make, concurrency, seconds, keep_bodies) -> Result:
    res = Result(None, seconds)
    counter = iter(range(10**9))
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds

    async def worker():
        conn = Connection(host, port)
        while loop.time() < end:
            req = make(next(counter))
            t = loop.time()
            try:
                status, payload = await conn.request(req)
            except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
                conn.close()
                res.errors += 1
                continue
            _record(res, status, payload, loop.time() - t, keep_bodies)
        conn.close()

    start = loop.time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    res.seconds = loop.time() - start
    return res


async def _open_loop(host, port, make, rate, seconds, max_connections, keep_bodies) -> Result:
    res = Result(rate, seconds)
    loop = asyncio.get_running_loop()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(max_connections):
        pool.put_nowait(Connection(host, port))
    n = int(rate * seconds)
    start = loop.time() + 0.05
    tasks = []

    async def one(i: int, intended: float):
        req = make(i)
        conn = await pool.get()
        try:
            status, payload = await conn.request(req)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
            conn.close()
            res.errors += 1
            return
        finally:
            pool.put_nowait(conn)
        _record(res, status, payload, loop.time() - intended, keep_bodies)

    for i in range(n):
        intended = start + i / rate
        delay = intended - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(i, intended)))
    await asyncio.gather(*tasks)
    res.seconds = max(seconds, loop.time() - start)
    while not pool.empty():
        pool.get_nowait().close()
    return res


def saturate(host: str, port: int, make: Callable[[int], Request], *, concurrency: int = 16, seconds: float = 8.0,
             keep_bodies: bool = False) -> Result:
    return asyncio.run(_saturate(host, port, make, concurrency, seconds, keep_bodies))


def open_loop(host: str, port: int, make: Callable[[int], Request], *, rate: float, seconds: float = 10.0,
              max_connections: int = 64, keep_bodies: bool = False) -> Result:
    return asyncio.run(_open_loop(host, port, make, rate, seconds, max_connections, keep_bodies))


def now() -> float:
    return time.time()
