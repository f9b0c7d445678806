"""A small closed-loop HTTP load generator for loopback servers, used when ``wrk`` is absent.

Several processes (so that the client is not limited by one GIL), each running a few threads,
each thread with its own keep-alive ``http.client`` connection (re-opened transparently when
the server closes it, as gunicorn's sync workers do after every response). Every loop is
bounded by a deadline and a request count.
"""

from __future__ import annotations

import http.client
import math
import multiprocessing
import random
import threading
import time
from dataclasses import dataclass

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
CONNECT_TIMEOUT_SECONDS = 10.0
# A safety bound, far above what one connection can do in any sensible duration.
MAX_REQUESTS_PER_CONNECTION = 2_000_000
# Time allowed for the load processes to start (spawn + import) before the common window opens.
SPAWN_ALLOWANCE_SECONDS = 1.5


@dataclass(frozen=True)
class LoadSpec:
    """One load run: ``processes`` x ``connections`` concurrent clients for ``seconds``."""

    host: str
    port: int
    path: str
    seconds: float
    processes: int
    connections: int
    max_requests_per_connection: int = MAX_REQUESTS_PER_CONNECTION
    # Sent with every request (e.g. an API key).
    headers: tuple[tuple[str, str], ...] = ()
    # When given, each connection cycles through these paths (from its own offset) instead of
    # requesting ``path`` every time.
    paths: tuple[str, ...] = ()
    # When given, each request is a POST of one of these JSON bodies (cycled like ``paths``).
    bodies: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if self.host not in LOOPBACK_HOSTS:
            raise ValueError(f"the load generator only targets loopback hosts, not {self.host!r}")


@dataclass(frozen=True)
class LoadResult:
    """Completed requests, failures and the latency of every successful request (seconds)."""

    requests: int
    errors: int
    seconds: float
    latencies: tuple[float, ...]

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def percentile_ms(self, percent: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds (0 when there are none)."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(percent / 100 * len(ordered)))
        return ordered[rank - 1] * 1000


def _connection_loop(spec: LoadSpec, deadline: float, out: list[float], errors: list[int]) -> None:
    """Send GETs (POSTs with ``bodies``) on one connection until ``deadline`` or the request
    bound; record latencies."""
    connection = http.client.HTTPConnection(spec.host, spec.port, timeout=CONNECT_TIMEOUT_SECONDS)
    headers = dict(spec.headers)
    paths = spec.paths or (spec.path,)
    offset = random.randrange(len(paths))  # connections start at different paths
    try:
        for count in range(spec.max_requests_per_connection):
            if time.monotonic() >= deadline:
                break
            path = paths[(offset + count) % len(paths)]
            started = time.perf_counter()
            try:
                if spec.bodies:
                    body = spec.bodies[(offset + count) % len(spec.bodies)]
                    post_headers = {**headers, "Content-Type": "application/json"}
                    connection.request("POST", path, body=body, headers=post_headers)
                else:
                    connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                connection.close()
                continue
            if response.status == 200:
                out.append(time.perf_counter() - started)
            else:
                errors[0] += 1
    finally:
        connection.close()


def _process_main(spec: LoadSpec, start_at: float) -> tuple[list[float], int]:
    """One load process: ``spec.connections`` threads from wall-clock ``start_at`` for
    ``spec.seconds``; every process of a run shares ``start_at``, so their windows coincide.
    """
    time.sleep(max(0.0, min(start_at - time.time(), SPAWN_ALLOWANCE_SECONDS)))
    deadline = time.monotonic() + spec.seconds
    latencies: list[list[float]] = [[] for _ in range(spec.connections)]
    errors: list[list[int]] = [[0] for _ in range(spec.connections)]
    threads = [
        threading.Thread(
            target=_connection_loop, args=(spec, deadline, latencies[index], errors[index])
        )
        for index in range(spec.connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        # Each loop ends at the deadline; the extra time covers one request's timeout.
        thread.join(timeout=spec.seconds + CONNECT_TIMEOUT_SECONDS + 5)
    return [value for chunk in latencies for value in chunk], sum(chunk[0] for chunk in errors)


def generate_load(spec: LoadSpec) -> LoadResult:
    """Run the load described by ``spec`` and return what the clients observed.

    The rate is completed requests over ``spec.seconds``, the window every process shares.
    """
    context = multiprocessing.get_context("spawn")
    start_at = time.time() + SPAWN_ALLOWANCE_SECONDS
    with context.Pool(processes=spec.processes) as pool:
        pending = [pool.apply_async(_process_main, (spec, start_at)) for _ in range(spec.processes)]
        timeout = SPAWN_ALLOWANCE_SECONDS + spec.seconds + CONNECT_TIMEOUT_SECONDS + 60
        outcomes = [item.get(timeout=timeout) for item in pending]
    latencies = tuple(value for chunk, _ in outcomes for value in chunk)
    return LoadResult(
        requests=len(latencies),
        errors=sum(count for _, count in outcomes),
        seconds=spec.seconds,
        latencies=latencies,
    )
