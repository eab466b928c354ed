"""Run the load generator against the bare server, then against Parley, with the same load.

Starts each server on a free loopback port (Parley with BCRYPT_ROUNDS=4 so registering the
bench's users is quick; SQLite in a temporary folder unless --database-url is given), runs
`node bench/load.mjs` against it, stops it, and writes both reports and Parley's ratio to the
bare server to bench/results/<timestamp>.json (the servers' output beside it, as
<timestamp>-bare.log and -parley.log). `make bench BENCH_ARGS="..."` runs this.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
STARTUP_SECONDS = 60.0
LOAD_OPTIONS = ("groups", "members", "senders", "rate", "duration", "drain", "size", "procs")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=10, help="G groups (default 10)")
    parser.add_argument("--members", type=int, default=20, help="M members a group (default 20)")
    parser.add_argument("--senders", type=int, default=5, help="S senders a group (default 5)")
    parser.add_argument("--rate", type=float, default=5, help="R msgs/s a sender (default 5)")
    parser.add_argument("--duration", type=float, default=15, help="D seconds (default 15)")
    parser.add_argument("--drain", type=float, default=10, help="seconds to wait for stragglers")
    parser.add_argument("--size", type=int, default=100, help="characters of content")
    parser.add_argument("--procs", type=int, default=1, help="Node client processes")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis-url", help="run Parley with REDIS_URL (Redis fan-out)")
    parser.add_argument("--parley-url", help="use this running Parley instead of starting one")
    parser.add_argument("--parley-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--only", choices=("bare", "parley"), help="run one target only")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
        with (
            contextlib.suppress(urllib.error.URLError, ConnectionError),
            urllib.request.urlopen(url, timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"server not ready after {STARTUP_SECONDS:.0f}s:\n{log.read_text()[-3000:]}")


@contextlib.contextmanager
def server(
    command: list[str], env: dict[str, str], ready_path: str, log: Path
) -> Iterator[tuple[str, int]]:
    """A server process on a free port: yields (base_url, pid); stopped with SIGTERM."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            cwd=PROJECT_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_ready(url + ready_path, process, log)
            yield url, process.pid
        finally:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def parley_env(args: argparse.Namespace, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=args.database_url or f"sqlite://{workdir / 'bench.sqlite3'}",
        BCRYPT_ROUNDS="4",
        JWT_SECRET=secrets.token_urlsafe(48),
        DATA_DIR=str(workdir / "data"),
        UPLOAD_DIR=str(workdir / "uploads"),
        PARLEY_ENV="development",
        LOG_LEVEL="WARNING",
    )
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    for item in args.parley_env:
        name, _, value = item.partition("=")
        env[name.upper()] = value
    return env


def ensure_node_modules() -> None:
    if not (shutil.which("node") and shutil.which("npm")):
        raise SystemExit("the load generator needs Node.js 18+ and npm on PATH")
    if not (BENCH_DIR / "node_modules" / "socket.io-client").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH_DIR, check=True)


def load(args: argparse.Namespace, target: str, url: str, pid: int | None) -> dict:
    """Run load.mjs against one server (its summary line goes straight to stderr).

    With the server's `pid`, the report includes the server's CPU use during the load phase.
    """
    command = ["node", str(BENCH_DIR / "load.mjs"), "--url", url, "--target", target]
    for option in LOAD_OPTIONS:
        command += [f"--{option}", str(getattr(args, option))]
    if pid is not None:
        command += ["--server-pid", str(pid)]
    load_average = os.getloadavg()
    result = subprocess.run(command, stdout=subprocess.PIPE, check=False)
    if result.returncode != 0:
        raise SystemExit(f"load generator failed against {target}")
    report = json.loads(result.stdout)
    report["machine_load_average_before"] = [round(value, 2) for value in load_average]
    return report


def send_outcomes(url: str) -> dict[str, float]:
    """Parley's own count of `message:send` outcomes so far (its /metrics), by outcome."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    outcomes: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("parley_events_total{") and 'event="message:send"' in line:
            outcome = line.split('outcome="', 1)[1].split('"', 1)[0]
            outcomes[outcome] = float(line.rsplit(" ", 1)[1])
    return outcomes


def load_parley(args: argparse.Namespace, url: str, pid: int | None) -> dict:
    """`load` against Parley, plus how Parley itself says the sends ended."""
    before = send_outcomes(url)
    report = load(args, "parley", url, pid)
    after = send_outcomes(url)
    report["server_send_outcomes"] = {
        outcome: int(count - before.get(outcome, 0)) for outcome, count in after.items()
    }
    return report


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 3) if numerator and denominator else None


def ratios(parley: dict, bare: dict) -> dict[str, float | None]:
    return {
        "delivered_per_second": ratio(parley["delivered_per_second"], bare["delivered_per_second"]),
        "latency_p50": ratio(parley["latency_ms"]["p50"], bare["latency_ms"]["p50"]),
        "latency_p99": ratio(parley["latency_ms"]["p99"], bare["latency_ms"]["p99"]),
    }


def run_targets(args: argparse.Namespace, workdir: Path, logs: str) -> dict[str, dict]:
    """Load each target in turn; servers' output goes to `<logs>-bare.log` / `-parley.log`."""
    reports: dict[str, dict] = {}
    if args.only != "parley":
        bare = [sys.executable, "-m", "bench.bare_server"]
        with server(bare, dict(os.environ), "/healthz", Path(f"{logs}-bare.log")) as (url, pid):
            reports["bare"] = load(args, "bare", url, pid)
    if args.only != "bare":
        if args.parley_url:
            reports["parley"] = load_parley(args, args.parley_url.rstrip("/"), None)
        else:
            command = [sys.executable, "server.py"]
            env = parley_env(args, workdir)
            with server(command, env, "/readyz", Path(f"{logs}-parley.log")) as (url, pid):
                reports["parley"] = load_parley(args, url, pid)
    return reports


def describe_database(args: argparse.Namespace) -> str:
    if args.parley_url:
        return "as configured on the running Parley"
    return "postgres" if (args.database_url or "").startswith("postgres") else "sqlite"


def node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    args = parse_args()
    ensure_node_modules()
    started_at = datetime.now(UTC)
    stem = RESULTS_DIR / started_at.strftime("%Y%m%dT%H%M%SZ")
    RESULTS_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        reports = run_targets(args, Path(tmp), str(stem))
    record = {
        "started_at": started_at.isoformat().replace("+00:00", "Z"),
        "command": shlex.join(["python", "bench/run.py", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "node": node_version(),
        },
        "parley": {
            "database": describe_database(args),
            "redis": bool(args.redis_url),
            "bcrypt_rounds": 4,
            "env_overrides": args.parley_env,
        },
        "runs": reports,
    }
    if "bare" in reports and "parley" in reports:
        record["parley_to_bare"] = ratios(reports["parley"], reports["bare"])
        print(f"parley/bare: {json.dumps(record['parley_to_bare'])}", file=sys.stderr)
    path = stem.with_suffix(".json")
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"results: {path.relative_to(PROJECT_DIR)}", file=sys.stderr)


if __name__ == "__main__":
    main()
