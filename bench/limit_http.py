"""Raw limit L4: the trivial DRF view ``GET /api/v1/ping`` on the production web server setup.

gunicorn serves ``omnilog.wsgi`` with ``omnilog.settings.production`` and 4 sync workers on a
loopback socket that this process binds (to a free port) and hands over with ``fd://``, so no
other program can take the port in between. Load comes from ``wrk`` when it is on PATH, else
from :mod:`bench.loadgen` in separate processes.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.context import BenchContext, progress
from bench.loadgen import LoadSpec, generate_load
from bench.registry import Measurement, raw_limit

BASE_DIR = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PATH = "/api/v1/ping"
WORKERS = 4
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class HttpFigures:
    """Requests per second and latency percentiles (ms) from one load run."""

    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    errors: int
    generator: str


def _server_env(context: BenchContext) -> dict[str, str]:
    """The production settings' environment; ``DJANGO_SETTINGS_MODULE`` is overridden because
    the launcher exports the local settings to the harness.
    """
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="omnilog.settings.production",
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=context.database_url,
        REDIS_URL=context.redis_url,
        ALLOWED_HOSTS=HOST,
        DEBUG="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", PATH)
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


@contextmanager
def gunicorn_server(context: BenchContext) -> Iterator[int]:
    """Run gunicorn on a free loopback port; yield the port once ``PATH`` answers 200.

    Raises ``RuntimeError`` (with the server log) when it exits or stays silent for
    ``START_TIMEOUT_SECONDS``. Always stops the server: SIGTERM, then SIGKILL after a delay.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, 0))
    listener.listen(2048)
    port = listener.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "omnilog.wsgi",
        "--bind",
        f"fd://{listener.fileno()}",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync",
        "--log-level",
        "warning",
        "--graceful-timeout",
        "5",
    ]
    with tempfile.TemporaryFile(prefix="omnilog-bench-gunicorn-") as log:
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=_server_env(context),
            pass_fds=(listener.fileno(),),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        # gunicorn owns the socket now; our copy would only keep the port open after it stops.
        listener.close()
        try:
            _wait_until_ready(process, port, log)
            yield port
        finally:
            _stop(process)


def _wait_until_ready(process: subprocess.Popen[bytes], port: int, log: object) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited {process.returncode}:\n{_read_log(log)}")
        if _answers(port):
            return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT_SECONDS} s")


def _read_log(log: object) -> str:
    seek, read = getattr(log, "seek", None), getattr(log, "read", None)
    if seek is None or read is None:
        return ""
    seek(0)
    return bytes(read()).decode(errors="replace")[-4000:]


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


_WRK_RATE = re.compile(r"^Requests/sec:\s+([0-9.]+)", re.MULTILINE)
_WRK_PERCENTILE = re.compile(r"^\s+(50|75|90|99)%\s+([0-9.]+)(us|ms|s)\s*$", re.MULTILINE)
_WRK_REQUESTS = re.compile(r"^\s+(\d+) requests in", re.MULTILINE)
_WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _load_with_wrk(wrk: str, port: int, seconds: float, connections: int) -> HttpFigures:
    """Run ``wrk --latency`` (not tested here: these machines have no wrk).

    wrk reports p50/p75/p90/p99 but no p95; the p95 field then holds wrk's p90, a lower bound,
    and the generator label says so.
    """
    result = subprocess.run(
        [
            wrk,
            "--threads",
            "2",
            "--connections",
            str(connections),
            "--duration",
            f"{max(1, round(seconds))}s",
            "--latency",
            f"http://{HOST}:{port}{PATH}",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    output = result.stdout
    rate = _WRK_RATE.search(output)
    requests = _WRK_REQUESTS.search(output)
    if not rate or not requests:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    percentiles = {
        match.group(1): float(match.group(2)) * _UNIT_MS[match.group(3)]
        for match in _WRK_PERCENTILE.finditer(output)
    }
    errors = _WRK_ERRORS.search(output)
    return HttpFigures(
        requests_per_second=float(rate.group(1)),
        p50_ms=percentiles.get("50", 0.0),
        p95_ms=percentiles.get("90", 0.0),
        p99_ms=percentiles.get("99", 0.0),
        requests=int(requests.group(1)),
        errors=int(errors.group(1)) if errors else 0,
        generator=f"wrk, 2 threads x {connections} connections (p95 column is wrk's p90)",
    )


def _load_with_python(context: BenchContext, port: int, seconds: float) -> HttpFigures:
    sizes = context.sizes
    result = generate_load(
        LoadSpec(
            host=HOST,
            port=port,
            path=PATH,
            seconds=seconds,
            processes=sizes.http_processes,
            connections=sizes.http_connections_per_process,
        )
    )
    return HttpFigures(
        requests_per_second=result.requests_per_second,
        p50_ms=result.percentile_ms(50),
        p95_ms=result.percentile_ms(95),
        p99_ms=result.percentile_ms(99),
        requests=result.requests,
        errors=result.errors,
        generator=(
            f"python bench.loadgen, {sizes.http_processes} processes x "
            f"{sizes.http_connections_per_process} connections"
        ),
    )


@raw_limit("L4", unit="req/s", title="trivial DRF view on gunicorn, 4 sync workers")
def ping_view(context: BenchContext) -> Measurement:
    """Warm up, then load ``GET /api/v1/ping`` for the run's duration; report req/s."""
    wrk = shutil.which("wrk")
    connections = context.sizes.http_processes * context.sizes.http_connections_per_process
    with gunicorn_server(context) as port:
        progress(f"L4: gunicorn answers on {HOST}:{port}; warm-up")

        def load(seconds: float) -> HttpFigures:
            if wrk:
                return _load_with_wrk(wrk, port, seconds, connections)
            return _load_with_python(context, port, seconds)

        load(context.sizes.http_warmup_seconds)
        progress(f"L4: measuring for {context.duration:g} s")
        figures = load(context.duration)
    if figures.requests == 0:
        raise RuntimeError(f"no request succeeded ({figures.errors} errors)")
    return Measurement(
        value=figures.requests_per_second,
        details={
            "p50_ms": round(figures.p50_ms, 2),
            "p95_ms": round(figures.p95_ms, 2),
            "p99_ms": round(figures.p99_ms, 2),
            "requests": figures.requests,
            "errors": figures.errors,
            "workers": WORKERS,
            "load_generator": figures.generator,
        },
    )
