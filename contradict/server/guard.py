"""What every request passes before it reaches a route: Host, Origin, token and body size.

Plain ASGI, so that it holds for every path, including ones added later.
"""
from __future__ import annotations

import hmac
import json
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException

# Names a browser uses for a server bound to loopback.  Anything else in the Host header of such a server
# is a page on another site that re-pointed its own name at 127.0.0.1 (DNS rebinding).
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

# Every response but the page (which sets its own): nothing to run, nothing may frame it.
_DEFAULT_CSP = b"default-src 'none'; frame-ancestors 'none'"


def error_body(status: int, message: str, **extra) -> bytes:
    return json.dumps({"error": message, "status": status, **extra}, ensure_ascii=False).encode("utf-8")


def host_name(host_header: str) -> str:
    """'localhost:8000' -> 'localhost', '[::1]:8000' -> '::1'."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def origin_of(url: str) -> str:
    parts = urlsplit(url.strip().lower())
    return f"{parts.scheme}://{parts.netloc}"


class RequestGuard:
    """`allowed_hosts`: Host names accepted (None: any); `token`: required as `Authorization: Bearer …`
    on /v1/ paths; `cors_origins`: other origins whose browser requests are let through; `max_bytes`:
    the largest request body, by Content-Length and as it streams in."""

    def __init__(self, app, *, allowed_hosts=LOOPBACK_NAMES, token: str | None = None, cors_origins=(),
                 max_bytes: int = 1_000_000):
        self.app = app
        self.allowed_hosts = None if allowed_hosts is None else frozenset(allowed_hosts)
        self.token = token.encode("utf-8") if token else None
        self.cors_origins = frozenset(origin_of(o) for o in cors_origins)
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal:
            status, message, extra_headers = refusal
            return await self._reply(send, status, message, extra_headers)

        async def limited_receive():
            message = await receive()
            if message["type"] == "http.request":
                limited_receive.seen += len(message.get("body", b""))
                if limited_receive.seen > self.max_bytes:
                    raise HTTPException(413, self._too_large())
            return message
        limited_receive.seen = 0

        async def secured_send(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
                if b"content-security-policy" not in names:
                    extra.append((b"content-security-policy", _DEFAULT_CSP))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, limited_receive, secured_send)

    def _too_large(self) -> str:
        return (f"the request body is over the {self.max_bytes:,}-byte limit (--max-bytes): "
                "split the text, or use `contradict scan-batch` for large jobs")

    def _refusal(self, scope, headers) -> tuple[int, str, list] | None:
        host = headers.get("host", "")
        if self.allowed_hosts is not None and host_name(host) not in self.allowed_hosts:
            return 400, (f"unexpected Host header {host!r}: this server answers only to "
                         f"{', '.join(sorted(self.allowed_hosts))}"), []
        if scope["path"].startswith("/v1/"):
            origin = headers.get("origin")
            # browsers name the page's origin on every cross-site POST ("null" for sandboxed frames and
            # local files): a page elsewhere gets no answer unless --cors-origin names it
            if origin and origin_of(origin) not in self.cors_origins and \
                    urlsplit(origin.lower()).netloc != host.lower():
                return 403, (f"requests from pages at {origin} are refused; start the server with "
                             "--cors-origin ORIGIN to allow a page elsewhere"), []
            if self.token is not None and not self._token_ok(headers.get("authorization", "")):
                return 401, "missing or wrong token: send the header 'Authorization: Bearer <token>'", \
                    [(b"www-authenticate", b'Bearer realm="contradict"')]
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return 400, f"bad Content-Length {length!r}", []
            if int(length) > self.max_bytes:
                return 413, self._too_large(), []
        return None

    def _token_ok(self, authorization: str) -> bool:
        scheme, _, given = authorization.partition(" ")
        # compare_digest takes the same time wherever the first wrong byte is
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode("utf-8"), self.token)

    @staticmethod
    async def _reply(send, status: int, message: str, extra_headers: list):
        body = error_body(status, message)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"x-content-type-options", b"nosniff"), (b"content-security-policy", _DEFAULT_CSP),
                                *extra_headers]})
        await send({"type": "http.response.body", "body": body})
