"""Run the whole system, the test suite or the benchmarks with one command.

``python -m omnilog.launcher run``   migrate, seed demo data, start web + worker + beat.
``python -m omnilog.launcher test``  ruff, mypy, import-linter, then pytest (extra args pass on).
``python -m omnilog.launcher bench`` the benchmark suite (bench/run.py).
``python -m omnilog.launcher smoke`` start ``run`` with no URLs, wait for /healthz, stop it.

With ``DATABASE_URL`` / ``REDIS_URL`` unset, embedded servers are started first and their URLs
exported to every child process. Ctrl-C stops every process this command started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
QUEUES = "routing,stock,integrations,default"


def _env(settings_module: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _manage(args: Sequence[str], env: dict[str, str]) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=BASE_DIR, env=env, check=True)


def _stop(processes: list[subprocess.Popen[bytes]]) -> int:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    return 0


def run(argv: Sequence[str]) -> int:
    from omnilog.core.embedded import ensure_services, stop_services

    services = ensure_services()
    env = _env("omnilog.settings.local")
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    scale = os.environ.get("DEMO_SCALE", "1")
    print(f"==> services: {', '.join(services.started) or 'configured URLs'}", flush=True)
    _manage(["migrate", "--no-input"], env)
    _manage(["seed_demo", "--scale", scale], env)
    _manage(["seed_demo_store"], env)  # store screens: the demo store users' stores
    _manage(["seed_demo_supply"], env)
    _manage(["seed_demo_replenishment"], env)
    _manage(["seed_demo_flows"], env)  # analytics history: past orders through every service
    _manage(["seed_demo_returns"], env)  # on delivered demo orders (after seed_demo_flows)
    _manage(["collectstatic", "--no-input", "--verbosity", "0"], env)
    var = Path(os.environ.get("OMNILOG_VAR_DIR", BASE_DIR / "var"))
    commands = {
        "web": [
            PYTHON,
            "-m",
            "gunicorn",
            "omnilog.wsgi",
            "--bind",
            f"{host}:{port}",
            "--workers",
            os.environ.get("WEB_CONCURRENCY", "2"),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "5",
        ],
        "worker": [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "omnilog",
            "worker",
            "-Q",
            QUEUES,
            "--concurrency",
            os.environ.get("WORKER_CONCURRENCY", "2"),
            "-l",
            "INFO",
            "-n",
            "worker@%h",
        ],
        "beat": [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "omnilog",
            "beat",
            "-l",
            "INFO",
            "--schedule",
            str(var / "celerybeat-schedule"),
        ],
    }
    processes = {
        name: subprocess.Popen(command, cwd=BASE_DIR, env=env) for name, command in commands.items()
    }
    base = f"http://{host}:{port}"
    print(
        "\n".join(
            [
                "",
                "Omnilog is starting (Ctrl-C stops everything):",
                f"  back office   {base}/admin/        (admin / admin)",
                f"  API docs      {base}/api/docs/",
                f"  tracking page {base}/track/<token> (link in each order's API response)",
                f"  health        {base}/healthz",
                "",
            ]
        ),
        flush=True,
    )
    stopping = False

    def _on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    status = 0
    try:
        while not stopping:
            dead = [name for name, process in processes.items() if process.poll() is not None]
            if dead:
                print(f"==> {dead[0]} exited; stopping everything", flush=True)
                status = 1
                break
            time.sleep(0.5)
    finally:
        _stop(list(processes.values()))
        stop_services()
    print("==> stopped", flush=True)
    return status


def test(argv: Sequence[str]) -> int:
    from omnilog.core.embedded import ensure_services

    ensure_services()
    env = _env("omnilog.settings.test")
    steps: list[tuple[str, list[str]]] = [
        ("ruff check", [PYTHON, "-m", "ruff", "check", "."]),
        ("ruff format", [PYTHON, "-m", "ruff", "format", "--check", "."]),
        ("mypy", [PYTHON, "-m", "mypy", "."]),
        ("import-linter", [str(Path(PYTHON).parent / "lint-imports")]),
        ("pytest", [PYTHON, "-m", "pytest", *argv]),
    ]
    only_pytest = os.environ.get("OMNILOG_ONLY_PYTEST") == "1"
    for name, command in steps:
        if only_pytest and name != "pytest":
            continue
        print(f"==> {name}", flush=True)
        result = subprocess.run(command, cwd=BASE_DIR, env=env, check=False)
        if result.returncode != 0:
            # pytest's 5 means "no tests ran": a failure here, never a pass.
            print(f"==> {name} failed (exit {result.returncode})", flush=True)
            return result.returncode or 1
    return 0


def bench(argv: Sequence[str]) -> int:
    from omnilog.core.embedded import ensure_services

    ensure_services()
    env = _env("omnilog.settings.local")
    env["DEBUG"] = "0"
    return subprocess.run(
        [PYTHON, "-m", "bench.run", *argv], cwd=BASE_DIR, env=env, check=False
    ).returncode


def smoke(argv: Sequence[str]) -> int:
    """The embedded path end to end: no URLs, healthy within the deadline, clean stop."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    port = env.setdefault("PORT", "8765")
    env["DEMO_SCALE"] = env.get("SMOKE_DEMO_SCALE", "0.05")
    process = subprocess.Popen([PYTHON, "-m", "omnilog.launcher", "run"], cwd=BASE_DIR, env=env)
    url = f"http://127.0.0.1:{port}/healthz"
    deadline = time.monotonic() + float(env.get("SMOKE_TIMEOUT", "300"))
    healthy = False
    body: object = None
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = json.loads(response.read())
                healthy = response.status == 200
        except urllib.error.HTTPError as error:
            body = error.read().decode(errors="replace")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if healthy:
            break
        time.sleep(1)
    print(f"==> smoke: healthz {'healthy' if healthy else 'NOT healthy'}: {body}", flush=True)
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        print("==> smoke: run did not stop within 60 s", flush=True)
        return 1
    print(f"==> smoke: run stopped with exit code {code}", flush=True)
    return 0 if healthy and code == 0 else 1


COMMANDS = {"run": run, "test": test, "bench": bench, "smoke": smoke}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    os.chdir(BASE_DIR)
    sys.path.insert(0, str(BASE_DIR))
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
