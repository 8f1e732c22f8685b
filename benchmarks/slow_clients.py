"""How many slow-body clients it takes to stall `moderation serve` (127.0.0.1 only, bounded in time).

Each slow client sends a POST's headers announcing a 1,000-byte body, then one byte, and
waits: a gunicorn thread reading that body is held until the client sends the rest or goes
away. With the clients holding, /healthz is probed over fresh connections; a probe that does
not answer within --probe-timeout counts as stalled. Every configuration given with
--config WORKERSxTHREADS (repeatable) is started in turn on a free local port.

    python benchmarks/slow_clients.py --config 2x4 --config 2x16 --connections 2,4,6,8,12,16,24,32
    python benchmarks/slow_clients.py --config 2x4 --nginx   # through docs/nginx/proxy.conf

With --nginx the clients talk to an nginx (from PATH) on another local port that proxies to the
server with the settings of docs/nginx/proxy.conf, as the deployment guide asks.
The servers listen on 127.0.0.1 only and every wait has a limit: this measures our own
processes, never anything on the network.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
SLOW_REQUEST = (
    b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ne"
)


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(workers: int, threads: int, port: int, folder: Path) -> subprocess.Popen:
    env = dict(os.environ,
               MODERATION_DATABASE_URL=f"sqlite:///{folder / 'slow.sqlite3'}",
               MODERATION_SECRET_KEY="slow-client-benchmark",
               # No model: /healthz does not need one, and a missing file fails fast.
               MODERATION_DETOXIFY_CHECKPOINT=str(folder / "missing.ckpt"),
               MODERATION_DETOXIFY_CONFIG_DIR=str(folder / "missing-config"),
               MODERATION_LOG_LEVEL="WARNING")
    command = [sys.executable, "-m", "moderation.cli", "serve", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--threads", str(threads)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            time.sleep(0.3)
    server.kill()
    raise SystemExit(f"server {workers}x{threads} did not start within 60 s")


NGINX_CONF = """
daemon off;
user root;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    upstream moderation {{ server 127.0.0.1:{upstream}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        include {root}/docs/nginx/proxy.conf;
        location / {{ proxy_pass http://moderation; }}
    }}
}}
"""


def start_nginx(upstream: int, port: int, folder: Path) -> subprocess.Popen:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(folder=folder, upstream=upstream, port=port, root=ROOT))
    proxy = subprocess.Popen([nginx, "-c", str(conf), "-e", str(folder / "nginx-error.log")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proxy
        except requests.RequestException:
            time.sleep(0.2)
    proxy.kill()
    raise SystemExit(f"nginx did not start: {(folder / 'nginx-error.log').read_text()[-500:]}")


def open_slow_clients(port: int, count: int) -> list[socket.socket]:
    clients = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(SLOW_REQUEST)
        clients.append(sock)
    return clients


def probe(port: int, probes: int, timeout: float) -> int:
    """How many of `probes` fresh /healthz requests answered in time."""
    answered = 0
    for _ in range(probes):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=timeout).status_code == 200:
                answered += 1
        except requests.RequestException:
            pass
    return answered


def measure(workers: int, threads: int, connections: list[int], probes: int, timeout: float,
            through_nginx: bool = False) -> list[tuple[int, int]]:
    results = []
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        server = start_server(workers, threads, port, Path(folder))
        proxy = None
        if through_nginx:
            nginx_port = free_port()
            try:
                proxy = start_nginx(port, nginx_port, Path(folder))
            except BaseException:
                server.kill()
                raise
            port = nginx_port  # the clients and the probes go through nginx
        try:
            for count in connections:
                clients = open_slow_clients(port, count)
                time.sleep(1.0)  # let the workers hand the connections to their threads
                answered = probe(port, probes, timeout)
                for sock in clients:
                    sock.close()
                results.append((count, answered))
                time.sleep(1.0)  # closed clients free their threads
                if not probe(port, 1, 10.0):
                    raise SystemExit(f"{workers}x{threads} did not recover after the slow clients left")
        finally:
            if proxy is not None:
                proxy.terminate()
                proxy.wait(timeout=15)
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", action="append", help="WORKERSxTHREADS, e.g. 2x4 (repeatable)")
    parser.add_argument("--connections", default="2,4,6,8,12,16,24,32,48,64")
    parser.add_argument("--probes", type=int, default=4)
    parser.add_argument("--probe-timeout", type=float, default=2.0)
    parser.add_argument("--nginx", action="store_true", help="put nginx with docs/nginx/proxy.conf in front")
    args = parser.parse_args()
    configs = args.config or ["2x4"]
    connections = [int(n) for n in args.connections.split(",")]
    print("workers x threads | slow clients | /healthz answered within "
          f"{args.probe_timeout:g} s (of {args.probes})")
    for config in configs:
        workers, threads = (int(n) for n in config.lower().split("x"))
        first_stall = None
        label = f"{workers} x {threads}" + (" behind nginx" if args.nginx else "")
        for count, answered in measure(workers, threads, connections, args.probes, args.probe_timeout, args.nginx):
            print(f"{label} | {count} | {answered}", flush=True)
            if answered < args.probes and first_stall is None:
                first_stall = count
        stall = first_stall if first_stall else f"none up to {connections[-1]}"
        print(f"{label}: first stall at {stall} slow clients", flush=True)


if __name__ == "__main__":
    main()
