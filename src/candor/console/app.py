"""The web console at ``/console``: server-rendered pages over the same operations the API
serves.

Every action a page takes is a Rekognition operation run through the same worker pool as a
signed API request, as the signed-in key's account (so policy, audit and per-account isolation
hold exactly as for boto3); what no operation gives (the account's video jobs, the audit log,
an evaluation of a collection) comes from :mod:`candor.console.work`, in the same workers.

Security: sessions in the key store (:mod:`candor.console.sessions`); every POST carries the
session's CSRF token and, when the browser sends one, an Origin of this host; pages are
``Cache-Control: no-store`` under a Content-Security-Policy that allows only this origin's
scripts and styles (nothing from a CDN) and no framing.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from candor import __version__
from candor.api import http
from candor.api.front.logs import log
from candor.calibration import fmr_for_similarity
from candor.console.charts import det_points, fmr_text, pct, timeline_of
from candor.console.sessions import COOKIE, Sessions, SignedIn, csrf_ok
from candor.console.work import AuditFilter
from candor.errors import ServiceError
from candor.types import Caller

PREFIX = "/console"
MAX_FORM_BYTES = 16 * 1024 * 1024  # two images at Rekognition's 5 MB Bytes limit, and slack
MAX_RESULT_PAGES = 10  # a video job's timeline reads at most this many pages of 1,000
VIDEO_OPERATIONS = {
    "StartFaceDetection": "Faces",
    "StartFaceSearch": "Face search (a collection)",
    "StartLabelDetection": "Labels",
    "StartSegmentDetection": "Shots",
    "StartTextDetection": "Text",
    "StartContentModeration": "Moderation",
}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

Runner = Callable[[str, bytes, str, Caller], Awaitable[http.Reply]]
Call = Callable[..., Awaitable[Any]]


class FormTooLarge(Exception):
    """The form's Content-Length is missing or over MAX_FORM_BYTES."""


class BadForm(Exception):
    """The form's body is not valid urlencoded or multipart data."""


@dataclass
class Result:
    """An operation's answer: its JSON, or the error Rekognition's protocol gave."""

    data: dict[str, Any]
    error: str | None = None

    @property
    def pretty(self) -> str:
        return json.dumps(self.data, indent=2)


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height as shown (EXIF orientation applied), from the header only."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
            orientation = img.getexif().get(0x0112, 1)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None  # not shown; the operations say what is wrong with it
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)


def _cookie_dropped(request: Request) -> bool:
    """True when a browser will drop the Secure session cookie: plain HTTP to an address that
    is not this machine's (browsers accept Secure cookies from http://localhost only)."""
    if request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https":
        return False
    host = (request.url.hostname or "").strip("[]")
    return host not in ("localhost", "127.0.0.1", "::1") and not host.endswith(".localhost")


def _data_uri(data: bytes, upload: UploadFile) -> str:
    kind = "image/png" if upload.content_type == "image/png" else "image/jpeg"  # never SVG
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def build_console(
    run: Runner, call: Call, sessions: Sessions | None, read_deadline_s: float,
    *, thumbnails: bool = False,
) -> list[BaseRoute]:
    """The console's routes, mounted under ``/console`` by :func:`candor.api.front.app.build_app`.
    ``sessions`` is None when the server runs with ``--no-auth``: then there is no sign-in and
    the console refuses to serve (it would act for anyone who can reach it). ``thumbnails``:
    the operator keeps face thumbnails (CANDOR_FACE_THUMBNAILS), so collection pages show them."""
    env = Environment(
        loader=PackageLoader("candor.console", "templates"),
        autoescape=select_autoescape(("html",)),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(version=__version__, prefix=PREFIX, fmr_text=fmr_text, pct=pct,
                       fmr_for_similarity=fmr_for_similarity)
    score_table: list[dict[str, float]] = []

    def render(
        request: Request, name: str, who: SignedIn | None, status: int = 200, **context: Any
    ) -> Response:
        html = env.get_template(name).render(
            request=request, who=who, csrf=who.csrf if who else "", path=request.url.path,
            **context,
        )
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def caller_of(who: SignedIn, purpose: str | None = None) -> Caller:
        return Caller(
            account=who.principal.account_name,
            access_key_id=who.principal.access_key_id,
            purpose=(purpose or "").strip()[:512] or None,
        )

    async def op(who: SignedIn, name: str, body: dict[str, Any], purpose: str | None = None
                 ) -> Result:
        reply = await run(name, json.dumps(body).encode(), str(uuid.uuid4()),
                          caller_of(who, purpose))
        try:
            data = json.loads(reply.body) if reply.body else {}
        except ValueError:
            data = {}
        if reply.status >= 400:
            code = data.get("__type", reply.error_code)
            return Result(data, f"{code}: {data.get('message', '')}")
        return Result(data)

    async def blocking(fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def signed_in(request: Request) -> SignedIn | None:
        if sessions is None:
            return None
        return await blocking(sessions.current, request.cookies.get(COOKIE))  # type: ignore[no-any-return]

    def same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            referer = request.headers.get("referer")
            if referer is None:
                return origin is None  # no Origin and no Referer: a non-browser client
            origin = referer
        parts = urlsplit(origin)
        return parts.netloc == request.headers.get("host", "")

    async def read_form(request: Request) -> FormData:
        length = request.headers.get("content-length")
        if length is None or not length.isdigit() or int(length) > MAX_FORM_BYTES:
            raise FormTooLarge
        try:
            return await asyncio.wait_for(
                request.form(max_files=2, max_fields=40, max_part_size=64 * 1024),
                read_deadline_s,
            )
        except HTTPException as exc:  # starlette's answer to a malformed multipart body
            raise BadForm(str(exc.detail)) from None

    def failed(request: Request, who: SignedIn | None) -> Response:
        request_id = str(uuid.uuid4())
        log.exception("console page %s failed (request %s)", request.url.path, request_id)
        return render(request, "refused.html", who, status=500,
                      reason=f"The console hit an unexpected error (request {request_id}); "
                      "the server log has its traceback.")

    def page(
        handler: Callable[[Request, SignedIn, FormData | None], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        """Sign-in required; a POST must carry the session's CSRF token from this origin."""

        async def endpoint(request: Request) -> Response:
            try:
                return await checked(request)
            except Exception:  # the session store unreachable, or a bug in a page
                return failed(request, None)

        async def checked(request: Request) -> Response:
            if sessions is None:
                return render(request, "no_auth.html", None, status=503)
            who = await signed_in(request)
            if who is None:
                if request.method == "POST":
                    return render(request, "refused.html", None, status=403,
                                  reason="Your session has ended. Sign in again.")
                target = urlencode({"next": request.url.path})
                return RedirectResponse(f"{PREFIX}/sign-in?{target}", 303, headers=HEADERS)
            form = None
            if request.method == "POST":
                try:
                    form = await read_form(request)
                except FormTooLarge:
                    return render(request, "refused.html", who, status=413,
                                  reason=f"The upload is over {MAX_FORM_BYTES // 2**20} MiB "
                                  "(or came without a Content-Length).")
                except TimeoutError:
                    return render(request, "refused.html", who, status=408,
                                  reason="The upload did not arrive in time.")
                except BadForm as exc:
                    return render(request, "refused.html", who, status=400,
                                  reason=f"The form could not be read: {exc}")
                if not same_origin(request):
                    return render(request, "refused.html", who, status=403,
                                  reason="This form was posted from another site; the console "
                                  "takes forms only from its own pages.")
                if not csrf_ok(who, form.get("csrf")):
                    return render(request, "refused.html", who, status=403,
                                  reason="This form did not come from your console session "
                                  "(its CSRF token is missing or wrong). Reload the page and "
                                  "try again.")
            try:
                return await handler(request, who, form)
            except Exception:
                return failed(request, who)  # keeps the signed-in header on the error page

        return endpoint

    async def image_of(form: FormData, field: str) -> tuple[bytes, dict[str, Any] | None]:
        upload = form.get(field)
        if not isinstance(upload, UploadFile):
            return b"", None
        data = await upload.read()
        if not data:
            return b"", None
        size = _image_size(data)
        shown = None
        if size is not None:
            shown = {"uri": _data_uri(data, upload), "width": size[0], "height": size[1],
                     "name": upload.filename or field}
        return data, shown

    # --- sign-in -----------------------------------------------------------------------------

    async def sign_in(request: Request) -> Response:
        try:
            return await _sign_in(request)
        except Exception:
            return failed(request, None)

    async def _sign_in(request: Request) -> Response:
        if sessions is None:
            return render(request, "no_auth.html", None, status=503)
        next_path = request.query_params.get("next", "")
        if not next_path.startswith(PREFIX + "/") or "//" in next_path:
            next_path = f"{PREFIX}/analyze"
        if request.method == "GET":
            return render(request, "sign_in.html", None, next=next_path,
                          insecure=_cookie_dropped(request))
        try:
            form = await read_form(request)
        except (FormTooLarge, TimeoutError, BadForm):
            return render(request, "refused.html", None, status=400, reason="Bad sign-in form.")
        if not same_origin(request):
            return render(request, "refused.html", None, status=403,
                          reason="The sign-in form did not come from this console.")
        ticket = str(form.get("ticket") or "").strip()
        if ticket:
            token = await blocking(sessions.redeem, ticket)
        else:
            token = await blocking(sessions.sign_in, str(form.get("access_key_id") or ""),
                                   str(form.get("secret") or ""))
        if token is None:
            return render(request, "sign_in.html", None, status=401, next=next_path,
                          error="Those credentials do not match an active key (or the token "
                          "was used or has expired).")
        response = RedirectResponse(next_path, 303, headers=HEADERS)
        response.set_cookie(COOKIE, token, max_age=int(sessions.lifetime.total_seconds()),
                            path=PREFIX, secure=True, httponly=True, samesite="strict")
        return response

    async def sign_out(request: Request, who: SignedIn, form: FormData | None) -> Response:
        assert sessions is not None
        await blocking(sessions.sign_out, who)
        response = RedirectResponse(f"{PREFIX}/sign-in", 303, headers=HEADERS)
        response.delete_cookie(COOKIE, path=PREFIX, secure=True, httponly=True,
                               samesite="strict")
        return response

    async def home(request: Request) -> Response:
        return RedirectResponse(f"{PREFIX}/analyze", 303, headers=HEADERS)

    # --- analyze and compare -----------------------------------------------------------------

    async def analyze(request: Request, who: SignedIn, form: FormData | None) -> Response:
        if form is None:
            return render(request, "analyze.html", who)
        data, shown = await image_of(form, "image")
        if not data:
            return render(request, "analyze.html", who, status=400,
                          error="Choose an image file first.")
        image = {"Bytes": base64.b64encode(data).decode()}
        faces, labels, text, moderation = await asyncio.gather(
            op(who, "DetectFaces", {"Image": image, "Attributes": ["ALL"]}),
            op(who, "DetectLabels", {"Image": image, "MaxLabels": 15}),
            op(who, "DetectText", {"Image": image}),
            op(who, "DetectModerationLabels", {"Image": image}),
        )
        return render(request, "analyze.html", who, shown=shown, faces=faces, labels=labels,
                      text=text, moderation=moderation)

    async def scores() -> list[dict[str, float]]:
        if not score_table:
            score_table.extend(await call("score_table"))
        return score_table

    async def compare(request: Request, who: SignedIn, form: FormData | None) -> Response:
        table = await scores()
        if form is None:
            return render(request, "compare.html", who, table=table)
        source, source_shown = await image_of(form, "source")
        target, target_shown = await image_of(form, "target")
        if not source or not target:
            return render(request, "compare.html", who, status=400, table=table,
                          error="Choose two images: a source face and a target image.")
        result = await op(who, "CompareFaces", {
            "SourceImage": {"Bytes": base64.b64encode(source).decode()},
            "TargetImage": {"Bytes": base64.b64encode(target).decode()},
            "SimilarityThreshold": 0,
        })
        best = max((m["Similarity"] for m in result.data.get("FaceMatches", [])), default=None)
        return render(request, "compare.html", who, table=table, result=result, best=best,
                      source=source_shown, target=target_shown)

    # --- collections -------------------------------------------------------------------------

    async def collections(request: Request, who: SignedIn, form: FormData | None) -> Response:
        message, error, status = None, None, 200
        if form is not None:
            cid = str(form.get("collection_id") or "").strip()
            created = await op(who, "CreateCollection", {"CollectionId": cid})
            if created.error:
                error, status = created.error, 400
            else:
                message = f"Created collection {cid}."
        token = request.query_params.get("next")
        body: dict[str, Any] = {"MaxResults": 50}
        if token:
            body["NextToken"] = token
        listed = await op(who, "ListCollections", body)
        described = await asyncio.gather(*(
            op(who, "DescribeCollection", {"CollectionId": c})
            for c in listed.data.get("CollectionIds", [])
        ))
        rows = [
            {"id": c, **d.data}
            for c, d in zip(listed.data.get("CollectionIds", []), described, strict=True)
        ]
        return render(request, "collections.html", who, status=status, rows=rows,
                      next_token=listed.data.get("NextToken"), message=message,
                      error=error or listed.error)

    async def collection_delete(request: Request, who: SignedIn, form: FormData | None
                                ) -> Response:
        assert form is not None
        cid = request.path_params["cid"]
        if str(form.get("confirm") or "").strip() != cid:
            return await collection_page(request, who, None, status=400,
                                         error="Type the collection's id to confirm deleting it.")
        deleted = await op(who, "DeleteCollection", {"CollectionId": cid})
        if deleted.error:
            return await collection_page(request, who, None, status=400, error=deleted.error)
        return RedirectResponse(f"{PREFIX}/collections", 303, headers=HEADERS)

    async def collection_page(
        request: Request, who: SignedIn, form: FormData | None, *, status: int = 200,
        error: str | None = None, message: str | None = None, search: Result | None = None,
        probe: dict[str, Any] | None = None, threshold: float = 80.0,
    ) -> Response:
        cid = request.path_params["cid"]
        described = await op(who, "DescribeCollection", {"CollectionId": cid})
        if described.error:
            return render(request, "refused.html", who, status=404, reason=described.error)
        body: dict[str, Any] = {"CollectionId": cid, "MaxResults": 25}
        token = request.query_params.get("next")
        if token:
            body["NextToken"] = token
        faces, tags, users = await asyncio.gather(
            op(who, "ListFaces", body),
            op(who, "ListTagsForResource", {"ResourceArn": described.data["CollectionARN"]}),
            op(who, "ListUsers", {"CollectionId": cid, "MaxResults": 25}),
        )
        shown_faces = [f["FaceId"] for f in faces.data.get("Faces", [])]
        thumbs = (await call("thumbnails", who.principal.account_name, cid, shown_faces)
                  if thumbnails and shown_faces else {})
        return render(
            request, "collection.html", who, status=status, cid=cid, info=described.data,
            thumbnails=thumbnails, thumbs=thumbs,
            faces=faces, tags=tags.data.get("Tags", {}), users=users.data.get("Users", []),
            next_token=faces.data.get("NextToken"), error=error or faces.error, message=message,
            search=search, probe=probe, threshold=threshold, table=await scores(),
        )

    async def collection_get(request: Request, who: SignedIn, form: FormData | None
                             ) -> Response:
        return await collection_page(request, who, form)

    async def collection_search(request: Request, who: SignedIn, form: FormData | None
                                ) -> Response:
        assert form is not None
        cid = request.path_params["cid"]
        data, shown = await image_of(form, "image")
        try:
            threshold = min(max(float(str(form.get("threshold") or 80)), 0.0), 100.0)
        except ValueError:
            threshold = 80.0
        if not data:
            return await collection_page(request, who, None, status=400, threshold=threshold,
                                         error="Choose an image to search with.")
        result = await op(who, "SearchFacesByImage", {
            "CollectionId": cid, "Image": {"Bytes": base64.b64encode(data).decode()},
            "FaceMatchThreshold": threshold, "MaxFaces": 50,
        }, purpose=str(form.get("purpose") or ""))
        return await collection_page(request, who, None, status=400 if result.error else 200,
                                     search=result, probe=shown, threshold=threshold,
                                     error=result.error)

    async def collection_tags(request: Request, who: SignedIn, form: FormData | None
                              ) -> Response:
        assert form is not None
        cid = request.path_params["cid"]
        described = await op(who, "DescribeCollection", {"CollectionId": cid})
        if described.error:
            return render(request, "refused.html", who, status=404, reason=described.error)
        arn = described.data["CollectionARN"]
        key = str(form.get("key") or "").strip()
        if form.get("action") == "remove":
            done = await op(who, "UntagResource", {"ResourceArn": arn, "TagKeys": [key]})
            note = f"Removed tag {key}."
        else:
            value = str(form.get("value") or "").strip()
            done = await op(who, "TagResource", {"ResourceArn": arn, "Tags": {key: value}})
            note = f"Set {key} = {value}."
        return await collection_page(request, who, None, status=400 if done.error else 200,
                                     error=done.error, message=None if done.error else note)

    # --- video jobs --------------------------------------------------------------------------

    async def video(request: Request, who: SignedIn, form: FormData | None) -> Response:
        error, status = None, 200
        if form is not None:
            operation = str(form.get("operation") or "")
            if operation not in VIDEO_OPERATIONS:
                error, status = f"Unknown job type {operation!r}.", 400
            else:
                body: dict[str, Any] = {"Video": {"S3Object": {
                    "Bucket": str(form.get("bucket") or "").strip(),
                    "Name": str(form.get("name") or "").strip(),
                }}}
                if str(form.get("tag") or "").strip():
                    body["JobTag"] = str(form.get("tag")).strip()
                if operation == "StartSegmentDetection":
                    body["SegmentTypes"] = ["SHOT"]  # Candor detects no technical cues
                if operation == "StartFaceSearch":
                    body["CollectionId"] = str(form.get("collection_id") or "").strip()
                started = await op(who, operation, body, purpose=str(form.get("purpose") or ""))
                if started.error:
                    error, status = started.error, 400
                else:
                    job_id = started.data["JobId"]
                    return RedirectResponse(f"{PREFIX}/video/{job_id}", 303, headers=HEADERS)
        jobs = await call("video_jobs", who.principal.account_name)
        listed = await op(who, "ListCollections", {"MaxResults": 100})
        return render(request, "video.html", who, status=status, jobs=jobs, error=error,
                      operations=VIDEO_OPERATIONS, collections=listed.data.get("CollectionIds", []),
                      form=form)

    async def video_job(request: Request, who: SignedIn, form: FormData | None) -> Response:
        job_id = request.path_params["job_id"]
        jobs = await call("video_jobs", who.principal.account_name)
        job = next((j for j in jobs if j["job_id"] == job_id), None)
        if job is None:
            return render(request, "refused.html", who, status=404,
                          reason=f"No video job {job_id!r} in this account.")
        items: list[dict[str, Any]] = []
        first: Result | None = None
        token: str | None = None
        sort = "INDEX" if job["getter"] == "GetFaceSearch" else "TIMESTAMP"
        for _ in range(MAX_RESULT_PAGES):
            body: dict[str, Any] = {"JobId": job_id, "MaxResults": 1000}
            if job["getter"] != "GetSegmentDetection":
                body["SortBy"] = sort
            if token:
                body["NextToken"] = token
            got = await op(who, job["getter"], body)
            first = first or got
            if got.error:
                break
            member = next((k for k, v in got.data.items() if isinstance(v, list)
                           and k not in ("SelectedSegmentTypes", "AudioMetadata",
                                         "VideoMetadata")), None)
            items.extend(got.data.get(member, []) if member else [])
            token = got.data.get("NextToken")
            if not token or job["status"] != "SUCCEEDED":
                break
        assert first is not None
        timeline = timeline_of(job["getter"], first.data, items)
        if job["getter"] != "GetSegmentDetection" and job["status"] == "SUCCEEDED":
            # The shots of the same video, from a segment job of this account, as the top lane.
            shot_job = next((j for j in jobs if j["getter"] == "GetSegmentDetection"
                             and j["status"] == "SUCCEEDED" and j["video"] == job["video"]), None)
            if shot_job is not None:
                shots = await op(who, "GetSegmentDetection",
                                 {"JobId": shot_job["job_id"], "MaxResults": 1000})
                lanes = timeline_of("GetSegmentDetection", first.data,
                                  shots.data.get("Segments", []))["lanes"]
                timeline["lanes"] = {**lanes, **timeline["lanes"]}
        return render(request, "video_job.html", who, job=job, result=first, items=items,
                      timeline=timeline, refresh=job["status"] == "IN_PROGRESS")

    # --- audit and evaluation ----------------------------------------------------------------

    async def audit_get(request: Request, who: SignedIn, form: FormData | None) -> Response:
        q = request.query_params
        f = AuditFilter(operation=q.get("operation", ""), collection=q.get("collection", ""),
                        principal=q.get("principal", ""), outcome=q.get("outcome", ""),
                        since=q.get("since", ""))
        message = None
        if form is not None:
            if not who.principal.is_admin:
                return render(request, "refused.html", who, status=403,
                              reason="Only an admin key may sign audit checkpoints.")
            saved = await call("save_checkpoint")
            message = saved.get("error") or f"Signed a checkpoint: {saved['file']}"
        data = await call("audit_page", who.principal.account_name, who.principal.is_admin, f)
        return render(request, "audit.html", who, audit=data, filters=f, message=message)

    async def evaluation(request: Request, who: SignedIn, form: FormData | None) -> Response:
        listed = await op(who, "ListCollections", {"MaxResults": 100})
        report, error, status = None, None, 200
        if form is not None:
            upload = form.get("pairs")
            try:
                if isinstance(upload, UploadFile):
                    data = await upload.read()
                    report = await call("evaluate_upload", caller_of(who),
                                        upload.filename or "upload.zip", data)
                else:
                    report = await call("evaluate_collection", caller_of(who),
                                        str(form.get("collection_id") or ""))
            except ServiceError as exc:  # from the worker: no such collection, a bad ZIP
                error, status = f"{exc.code}: {exc.message}", exc.status
        det = det_points(report["curve"]) if report else None
        return render(request, "evaluation.html", who, status=status,
                      collections=listed.data.get("CollectionIds", []), report=report, det=det,
                      error=error)

    static = StaticFiles(directory=str(Path(__file__).parent / "static"))
    return [
        Route(PREFIX, home, methods=["GET"]),
        Route(f"{PREFIX}/", home, methods=["GET"]),
        Route(f"{PREFIX}/sign-in", sign_in, methods=["GET", "POST"]),
        Route(f"{PREFIX}/sign-out", page(sign_out), methods=["POST"]),
        Route(f"{PREFIX}/analyze", page(analyze), methods=["GET", "POST"]),
        Route(f"{PREFIX}/compare", page(compare), methods=["GET", "POST"]),
        Route(f"{PREFIX}/collections", page(collections), methods=["GET", "POST"]),
        Route(f"{PREFIX}/collections/{{cid}}", page(collection_get), methods=["GET"]),
        Route(f"{PREFIX}/collections/{{cid}}/search", page(collection_search),
              methods=["POST"]),
        Route(f"{PREFIX}/collections/{{cid}}/tags", page(collection_tags), methods=["POST"]),
        Route(f"{PREFIX}/collections/{{cid}}/delete", page(collection_delete),
              methods=["POST"]),
        Route(f"{PREFIX}/video", page(video), methods=["GET", "POST"]),
        Route(f"{PREFIX}/video/{{job_id}}", page(video_job), methods=["GET"]),
        Route(f"{PREFIX}/audit", page(audit_get), methods=["GET", "POST"]),
        Route(f"{PREFIX}/evaluation", page(evaluation), methods=["GET", "POST"]),
        Mount(f"{PREFIX}/static", static, name="console-static"),
    ]
