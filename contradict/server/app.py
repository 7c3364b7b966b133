"""The ASGI app: the page, the JSON API, the micro-batcher and the scan workers.

    from contradict.server.app import create_app
    app = create_app(model="default")          # loads the model now, once

FastAPI because the request models below are both the validation (a wrong type is a 422 naming the
field) and the OpenAPI schema, so the two cannot drift apart.  Its docs pages load Swagger/ReDoc from a
CDN and are turned off; the schema itself is served at /openapi.json.
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from contradict.defaults import BATCH_SIZE, SCAN_WORKERS
from contradict import LABELS, PRESETS, ContradictError, Detector, InputError, __version__
from contradict.files import decode
from contradict.report import render_html

from .batcher import BatchedScorer, MicroBatcher, QueueFull
from .guard import LOOPBACK_NAMES, RequestGuard
from .page import PAGE_CSP, PAGE_CSS, PAGE_JS, page_html

log = logging.getLogger("contradict.server")

LANG_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})?$"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


@dataclass
class ServerSettings:
    """Limits and security.  `allowed_hosts` None accepts any Host header (a server bound beyond
    loopback, behind its token); `scan_workers` scans run at once and `scan_queue` more may wait."""
    max_bytes: int = 1_000_000
    max_pairs: int = 1024
    batch_size: int = BATCH_SIZE
    max_wait_ms: float = 5.0
    queue_pairs: int = 4096
    scan_workers: int = SCAN_WORKERS
    scan_queue: int = 16
    retry_after_s: int = 1
    token: str | None = None
    cors_origins: tuple[str, ...] = ()
    allowed_hosts: frozenset | None = field(default=LOOPBACK_NAMES)


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


# -- request and response models (the OpenAPI schema) ------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class _Options(_Strict):
    lang: str | None = Field(None, pattern=LANG_PATTERN, description="language code; default: detected")
    threshold: float | None = Field(None, ge=0.0, le=1.0,
                                    description="minimum score to report; default: the ranker's own")
    top_k: int | None = Field(None, ge=1, description="report at most this many")
    model: str | None = Field(None, description="if given, must name the served model (GET /v1/models)")


class ScanRequest(_Options):
    text: str = Field(description="the text to scan")


class CompareRequest(_Options):
    text_a: str
    text_b: str


class ScoreRequest(_Strict):
    pairs: list[Annotated[list[str], Field(min_length=2, max_length=2)]] = Field(
        description="[[premise, hypothesis], ...]")
    model: str | None = None


class Span(BaseModel):
    text: str
    start: int
    end: int
    source: str | None


class ContradictionOut(BaseModel):
    """One element of the CLI's JSON contract (README "JSON contract")."""
    model_config = ConfigDict(extra="allow")
    score: float
    a: Span
    b: Span
    kinds: list[str]
    probs: dict[str, dict[str, float]]


class ScoreOut(BaseModel):
    model: str
    labels: list[str]
    results: list[dict[str, float | str]] = Field(description="per pair: each label's probability, and `label`")


class ReportOut(BaseModel):
    contradictions: list[ContradictionOut]
    html: str = Field(description="the self-contained HTML report")
    model: str


class ErrorOut(BaseModel):
    error: str
    status: int


_ERRORS = {code: {"model": ErrorOut} for code in (400, 401, 403, 404, 413, 415, 422, 503)}


# -- the work -------------------------------------------------------------------------------------

def _selected(found, threshold: float, top_k: int | None) -> list:
    """The CLI's cut: the detector keeps every pair (threshold 0), each request applies its own."""
    kept = [c for c in found if c.score >= threshold]
    return kept[:top_k] if top_k else kept


def _checked_text(value: str, name: str) -> str:
    if not value.strip():
        raise ApiError(422, f"{name} is empty" + (" (only whitespace)" if value else ""))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:  # JSON's "\ud800" escapes decode to text no tokenizer takes
        raise ApiError(422, f"{name} has an unpaired surrogate (\\u{ord(value[exc.start]):04x}) at character "
                            f"{exc.start}: send valid Unicode") from None
    return value


def _decoded_upload(data: bytes, name: str, encoding: str | None) -> str:
    """An uploaded file's text: UTF-8 (a byte-order mark honoured) unless `encoding` names another."""
    try:
        return decode(data, name, encoding, how_to_name="name its encoding in the `encoding` field")
    except InputError as exc:
        raise ApiError(422, str(exc)) from None


class Service:
    """The loaded detector, the shared batcher, and the threads detector work runs in."""

    def __init__(self, detector, settings: ServerSettings):
        self.detector = detector
        self.settings = settings
        self.model_name = str(getattr(detector, "model_name", "model"))
        real_scorer = detector.scorer
        self.batcher = MicroBatcher(
            lambda pairs: real_scorer.predict(pairs, batch_size=settings.batch_size, show_progress_bar=False),
            batch_size=settings.batch_size, max_wait=settings.max_wait_ms / 1000, max_queued=settings.queue_pairs)
        # the detector's scans now score through the batcher, sharing batches with every other request
        # all scans in flight together hold at most half the queue: /v1/score requests keep room
        chunk = max(1, settings.queue_pairs // (2 * settings.scan_workers))
        detector.scorer = BatchedScorer(real_scorer, self.batcher, chunk=chunk)
        self.executor = ThreadPoolExecutor(max_workers=settings.scan_workers, thread_name_prefix="contradict-scan")
        self.scans_in_flight = 0  # touched only on the event loop

    def busy(self, what: str) -> ApiError:
        return ApiError(503, f"the server is busy ({what}); retry in a moment",
                        {"Retry-After": str(self.settings.retry_after_s)})

    def check_model(self, model: str | None):
        if model is None or model == self.model_name:
            return
        hint = f"this server serves {self.model_name!r} (GET /v1/models)"
        if model in PRESETS:
            raise ApiError(404, f"model {model!r} is not loaded here: {hint}; "
                                f"start another server with --model {model}")
        raise ApiError(404, f"unknown model {model!r}: {hint}")

    async def run(self, work, *args):
        """`work(*args)` in a scan thread: the event loop stays free; past the queue, 503."""
        if self.scans_in_flight >= self.settings.scan_workers + self.settings.scan_queue:
            raise self.busy(f"{self.scans_in_flight} scans running or waiting")
        self.scans_in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, work, *args)
        except QueueFull:
            raise self.busy("the scoring queue is full") from None
        except ContradictError as exc:
            raise ApiError(422, str(exc)) from None
        finally:
            self.scans_in_flight -= 1

    def _threshold(self, threshold: float | None) -> float:
        return self.detector.ranker.threshold if threshold is None else threshold

    def scan(self, text: str, lang, threshold: float | None, top_k) -> list:
        return _selected(self.detector.find(text, lang=lang), self._threshold(threshold), top_k)

    def compare(self, text_a: str, text_b: str, lang, threshold: float | None, top_k) -> list:
        return _selected(self.detector.compare(text_a, text_b, lang=lang), self._threshold(threshold), top_k)

    def report(self, texts: list[str], lang, threshold: float, top_k) -> dict:
        found = (self.scan(texts[0], lang, threshold, top_k) if len(texts) == 1
                 else self.compare(texts[0], texts[1], lang, threshold, top_k))
        return {"contradictions": [c.to_dict() for c in found], "model": self.model_name,
                "html": render_html(texts, found, model=self.model_name, min_score=self._threshold(threshold))}

    async def score(self, pairs: list[tuple[str, str]]) -> list:
        try:
            future = self.batcher.submit(pairs)
        except QueueFull:
            raise self.busy("the scoring queue is full") from None
        return await asyncio.wrap_future(future)

    def close(self):
        self.batcher.close()
        self.executor.shutdown(wait=False, cancel_futures=True)


# -- errors as JSON ---------------------------------------------------------------------------------

def _error(status: int, message: str, headers: dict | None = None, **extra) -> JSONResponse:
    return JSONResponse({"error": message, "status": status, **extra}, status_code=status, headers=headers)


def _where(loc) -> str:
    parts = [p for p in loc if p not in ("body", "form")]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the request body"


def _problem(err: dict) -> str:
    kind = err.get("type", "")
    if kind == "missing":
        return f"{_where(err['loc'])} is required"
    if kind == "extra_forbidden":
        return f"{_where(err['loc'])} is not a known field"
    if kind in ("model_attributes_type", "dict_type") and _where(err["loc"]) == "the request body":
        return "the request body must be a JSON object"
    message = err.get("msg", "is not valid")
    return f"{_where(err['loc'])}: {message[:1].lower()}{message[1:]}"


async def _validation_error(request: Request, exc: RequestValidationError):
    errors = exc.errors()
    if errors and errors[0].get("type") == "json_invalid":
        reason = (errors[0].get("ctx") or {}).get("error", "syntax error")
        position = errors[0]["loc"][-1] if len(errors[0]["loc"]) > 1 else "?"
        return _error(400, f"the request body is not valid JSON: {reason} at character {position}")
    problems = [_problem(e) for e in errors]
    message = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")
    details = [{"field": _where(e["loc"]), "problem": e.get("msg", "")} for e in errors[:20]]
    return _error(422, message, details=details)


async def _api_error(request: Request, exc: ApiError):
    return _error(exc.status, exc.message, exc.headers)


async def _http_error(request: Request, exc: HTTPException):
    message = exc.detail
    if exc.status_code == 404:
        message = f"no such page or endpoint: {request.url.path} (the API is described at /openapi.json)"
    elif exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    return _error(exc.status_code, str(message), getattr(exc, "headers", None))


async def _library_error(request: Request, exc: ContradictError):
    return _error(422, str(exc))


async def _unexpected(request: Request, exc: Exception):
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return _error(500, f"internal error ({type(exc).__name__}); the server log has the details")


class _CheckedRoute(APIRoute):
    """Checks the body's type (and JSON's UTF-8) before FastAPI parses it, for one-line errors:
    JSON endpoints want application/json, which a page on another site cannot send without asking."""

    def get_route_handler(self):
        handler = super().get_route_handler()
        wants_form = self.path == "/v1/report"

        async def checked(request: Request):
            if request.method == "POST":
                kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
                if wants_form and kind not in FORM_TYPES:
                    raise ApiError(415, "send the form as multipart/form-data (or urlencoded)")
                if not wants_form:
                    if kind != "application/json":
                        raise ApiError(415, f"send JSON with 'Content-Type: application/json' "
                                            f"(got {kind or 'no Content-Type'})")
                    body = await request.body()  # kept on the request: FastAPI reads it again for free
                    try:
                        body.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise ApiError(400, f"the request body is not UTF-8 (byte 0x{body[exc.start]:02x} "
                                            f"at offset {exc.start}); JSON must be sent as UTF-8") from None
            return await handler(request)
        return checked


# -- the app ----------------------------------------------------------------------------------------

def create_app(detector_factory=Detector, *, model: str = "default", settings: ServerSettings | None = None,
               **detector_options) -> FastAPI:
    """The app, with the model loaded now: `detector_factory(model, threshold=0.0, top_k=None,
    show_progress_bar=False, max_chars=…, **detector_options)` must return a Detector (or one like it)."""
    settings = settings or ServerSettings()
    detector = detector_factory(model, threshold=0.0, top_k=None, show_progress_bar=False,
                                max_chars=settings.max_bytes, **detector_options)
    service = Service(detector, settings)

    @asynccontextmanager
    async def lifespan(app):
        yield
        service.close()

    middleware = []
    if settings.cors_origins:  # outermost, so that preflight requests are answered before the token check
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                                     allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"]))
    middleware.append(Middleware(RequestGuard, allowed_hosts=settings.allowed_hosts, token=settings.token,
                                 cors_origins=settings.cors_origins, max_bytes=settings.max_bytes))
    app = FastAPI(title="contradict", version=__version__, lifespan=lifespan, middleware=middleware,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json",
                  description="Find contradictions inside a text or between two texts (multilingual NLI).",
                  exception_handlers={ApiError: _api_error, RequestValidationError: _validation_error,
                                      HTTPException: _http_error, ContradictError: _library_error,
                                      Exception: _unexpected})
    app.router.route_class = _CheckedRoute
    app.state.service = service

    page = page_html(service.model_name, __version__, token_required=settings.token is not None)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index():
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"})

    @app.get("/static/page.js", include_in_schema=False)
    async def page_script():
        return Response(PAGE_JS, media_type="text/javascript; charset=utf-8")

    @app.get("/static/page.css", include_in_schema=False)
    async def page_style():
        return Response(PAGE_CSS, media_type="text/css; charset=utf-8")

    @app.get("/healthz", summary="liveness, and how full the queues are")
    async def healthz():
        return {"status": "ok", "model": service.model_name, "version": __version__,
                "queued_pairs": service.batcher.queued_pairs, "scans_in_flight": service.scans_in_flight,
                "model_calls": service.batcher.rounds, "pairs_scored": service.batcher.pairs_scored}

    @app.get("/v1/models", summary="the served model and the presets", responses=_ERRORS)
    async def models():
        listed = [{"name": name, "description": p.description, "served": name == service.model_name}
                  for name, p in PRESETS.items()]
        if service.model_name not in PRESETS:
            listed.insert(0, {"name": service.model_name, "description": "local or hub model", "served": True})
        return {"served": service.model_name, "labels": list(LABELS), "models": listed}

    @app.post("/v1/scan", summary="contradictions inside one text", response_model=None,
              responses={200: {"model": list[ContradictionOut]}, **_ERRORS})
    async def scan(body: ScanRequest):
        service.check_model(body.model)
        found = await service.run(service.scan, _checked_text(body.text, "text"), body.lang, body.threshold,
                                  body.top_k)
        return [c.to_dict() for c in found]

    @app.post("/v1/compare", summary="contradictions between two texts", response_model=None,
              responses={200: {"model": list[ContradictionOut]}, **_ERRORS})
    async def compare(body: CompareRequest):
        service.check_model(body.model)
        found = await service.run(service.compare, _checked_text(body.text_a, "text_a"),
                                  _checked_text(body.text_b, "text_b"), body.lang, body.threshold, body.top_k)
        return [c.to_dict() for c in found]

    @app.post("/v1/score", summary="NLI probabilities for premise/hypothesis pairs", response_model=None,
              responses={200: {"model": ScoreOut}, **_ERRORS})
    async def score(body: ScoreRequest):
        service.check_model(body.model)
        if not body.pairs:
            raise ApiError(422, "pairs is empty: send [[premise, hypothesis], ...]")
        if len(body.pairs) > settings.max_pairs:
            raise ApiError(413, f"{len(body.pairs):,} pairs is over the limit of {settings.max_pairs:,} per "
                                "request (--max-pairs): split them, or use `contradict score` for files")
        pairs = [(_checked_text(p, f"pairs[{i}] premise"), _checked_text(h, f"pairs[{i}] hypothesis"))
                 for i, (p, h) in enumerate(body.pairs)]
        probs = await service.score(pairs)
        results = []
        for row in probs:
            result = {label: round(float(p), 6) for label, p in zip(LABELS, row)}
            result["label"] = LABELS[int(row.argmax())]
            results.append(result)
        return {"model": service.model_name, "labels": list(LABELS), "results": results}

    @app.post("/v1/report", summary="the page's call: a scan or comparison from a form, with the HTML report",
              response_model=None, responses={200: {"model": ReportOut}, **_ERRORS})
    async def report(mode: Annotated[Literal["scan", "compare"], Form()] = "scan",
                     text: Annotated[str | None, Form()] = None, file: Annotated[UploadFile | None, File()] = None,
                     text_b: Annotated[str | None, Form()] = None,
                     file_b: Annotated[UploadFile | None, File()] = None,
                     lang: Annotated[str | None, Form(pattern=LANG_PATTERN)] = None,
                     threshold: Annotated[float | None, Form(ge=0.0, le=1.0)] = None,
                     top_k: Annotated[int | None, Form(ge=1)] = None,
                     encoding: Annotated[str | None, Form(max_length=40)] = None,
                     model: Annotated[str | None, Form()] = None):
        service.check_model(model)
        sides = [("text", text, "file", file)] + ([("text_b", text_b, "file_b", file_b)] if mode == "compare" else [])
        texts = []
        for text_name, value, file_name, upload in sides:
            if upload is not None and value is not None:
                raise ApiError(422, f"send either {text_name} or {file_name}, not both")
            if upload is not None:
                label = f"{file_name} {upload.filename!r}" if upload.filename else file_name
                value = _decoded_upload(await upload.read(), label, encoding)
            if value is None:
                raise ApiError(422, f"{text_name} (or an uploaded {file_name}) is required")
            texts.append(_checked_text(value, text_name))
        return await service.run(service.report, texts, lang, threshold, top_k)

    return app
