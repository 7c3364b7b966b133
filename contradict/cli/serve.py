"""`contradict serve`: checks the options, binds the port, loads the model once, then runs uvicorn.

The port is bound before the model loads, so a port in use fails in a second, with one line; the
server packages are imported only when the command runs, so the rest of the CLI works without them.
"""
from __future__ import annotations

import argparse
import errno
import ipaddress
import os
import socket
from urllib.parse import urlsplit

from ..defaults import SCAN_WORKERS
from ..errors import ContradictError
from .options import add_model_options, count, model_options, positive_int

TOKEN_ENV = "CONTRADICT_TOKEN"
MIN_TOKEN_CHARS = 16


def _port(text: str) -> int:
    value = count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number between 0 and 65535")
    return value


def _milliseconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1000.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of milliseconds between 0 and 1000")
    return value


def add_commands(sub):
    p = sub.add_parser("serve", help="a local web page and JSON API, the model loaded once",
                       description="Serve the page at / and the JSON API under /v1/ (see the README, Server).")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default loopback; any other needs --token)")
    p.add_argument("--port", type=_port, default=8000, help="0 picks a free port (printed)")
    add_model_options(p)
    p.add_argument("--token", default=None,
                   help=f"every API call must send 'Authorization: Bearer TOKEN' (or set ${TOKEN_ENV}, "
                        "which other users cannot read in the process list)")
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                   help="let pages at this origin (https://host[:port]) call the API; repeatable; off by default")
    p.add_argument("--max-bytes", type=positive_int, default=1_000_000, help="largest request body (413 above)")
    p.add_argument("--max-pairs", type=positive_int, default=1024, help="most pairs per /v1/score request")
    p.add_argument("--queue-pairs", type=positive_int, default=4096,
                   help="most pairs waiting to be scored; a full queue answers 503")
    p.add_argument("--max-wait-ms", type=_milliseconds, default=5.0,
                   help="how long the batcher waits for other requests' pairs")
    p.add_argument("--scan-workers", type=positive_int, default=SCAN_WORKERS, help="scans run at once")
    p.add_argument("--scan-queue", type=count, default=16, help="scans that may wait; more answer 503")
    p.add_argument("--ranker", default="default",
                   help="default (the model's learned ranker.json, else the rules), rules, or a ranker.json path")
    p.add_argument("--log-level", default="warning", choices=("critical", "error", "warning", "info", "debug"))
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.set_defaults(func=cmd_serve)


def is_loopback(host: str) -> bool:
    """True when every address `host` names is a loopback one."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ContradictError(f"cannot resolve --host {host!r}: {exc.strerror}") from None
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


def listening_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart at once; a live listener still blocks
    try:
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        reason = "the address is already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise ContradictError(f"cannot listen on {host}:{port}: {reason}; choose another --port "
                              "(--port 0 picks a free one)") from None
    return sock


def _origins(values: list[str]) -> tuple[str, ...]:
    origins = []
    for value in values:
        parts = urlsplit(value.strip())
        if value.strip() == "*" or parts.scheme not in ("http", "https") or not parts.netloc or \
                parts.path not in ("", "/") or parts.query:
            raise ContradictError(f"--cors-origin {value!r} is not an origin like https://example.org[:port] "
                                  "(a wildcard is not accepted)")
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(origins)


def cmd_serve(args):
    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV)
    token = token.strip() if token else None
    loopback = is_loopback(args.host)
    if not loopback and not token:
        raise ContradictError(f"--host {args.host} can be reached from other machines: also give --token "
                              f"(or set {TOKEN_ENV}) so that every API call must carry it")
    if token and len(token) < MIN_TOKEN_CHARS:
        raise ContradictError(f"the token must have at least {MIN_TOKEN_CHARS} characters "
                              "(python -c 'import secrets; print(secrets.token_urlsafe())' makes one)")
    origins = _origins(args.cors_origin)
    try:
        import uvicorn

        from ..server.app import ServerSettings, create_app
        from ..server.guard import LOOPBACK_NAMES, host_name
    except ImportError as exc:
        raise ContradictError(f"contradict serve needs the server packages ({exc.name} is missing): "
                              "pip install 'contradict[serve]'") from None
    from ..pipeline.detector import Detector

    sock = listening_socket(args.host, args.port)
    try:
        options = model_options(args)  # sets the process's torch threads: here, not in a constructor
        settings = ServerSettings(
            max_bytes=args.max_bytes, max_pairs=args.max_pairs, batch_size=args.batch_size,
            max_wait_ms=args.max_wait_ms, queue_pairs=args.queue_pairs, scan_workers=args.scan_workers,
            scan_queue=args.scan_queue, token=token, cors_origins=origins,
            allowed_hosts=LOOPBACK_NAMES | {host_name(args.host)} if loopback else None)
        app = create_app(Detector, model=args.model, settings=settings, batch_size=args.batch_size,
                         ranker=args.ranker, **options)
    except BaseException:
        sock.close()
        raise
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"contradict: serving {args.model} at http://{shown}:{port}/ (Ctrl-C stops)", flush=True)
    config = uvicorn.Config(app, log_level=args.log_level, access_log=args.access_log, server_header=False,
                            proxy_headers=False, timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])
