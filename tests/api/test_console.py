"""The web console in a real browser: headless Chromium (Debian's, driven by Playwright) against
a real ``candor serve``.

Each page's main flow, sign-in and sign-out, a refused CSRF post, revoked keys, one-time tokens,
an axe-core check of every page, and a phone-sized window. The screenshots land in a temporary
folder; with CANDOR_UPDATE_SCREENSHOTS=1 (``make screenshots``) they replace ``docs/console``.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import shutil
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import DATA, ON_POSTGRES, ROOT
from .conftest import BIDEN, OBAMA, OBAMA2, Server, candor, start_server, stop_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LFW = DATA / "faces" / "lfw-dev"
HAMILTON = DATA / "video" / "faces" / "short_hamilton_clip.mp4"
DOCS = ROOT / "docs" / "console"
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Debian's chromium for the console tests: apt install chromium")
    pytest.skip("no chromium here (apt install chromium); CI installs it", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
            ) -> Iterator[Server]:
    env = {"CANDOR_FACE_THUMBNAILS": "1"}  # the operator opted in: collection pages show them
    if ON_POSTGRES:
        from tests.pg import new_database

        env["CANDOR_DATABASE_URL"] = new_database(request.getfixturevalue("pg_server"))
    data_dir = tmp_path_factory.mktemp("console")
    clips = data_dir / "media" / "clips"
    clips.mkdir(parents=True)
    shutil.copy(HAMILTON, clips / "hamilton.mp4")
    running = start_server(data_dir, "--workers", "2", env=env)
    yield running
    code = stop_server(running)
    log = running.stderr.read_text()
    assert code == 0, log[-4000:]
    assert '"traceback"' not in log and '"status": 500' not in log, log[-4000:]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("screenshots")
    yield folder
    if os.environ.get("CANDOR_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        for shot in folder.glob("*.jpg"):
            shutil.copy(shot, DOCS / shot.name)


def new_page(browser: Any, width: int = 1280, height: int = 800) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


def sign_in(page: Any, server: Server, key_id: str | None = None, secret: str | None = None,
            path: str = "/console/analyze") -> None:
    page.goto(server.url + path)
    page.fill("#access_key_id", key_id or server.key_id)
    page.fill("#secret", secret or server.secret)
    page.click("form:has(#secret) button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture(scope="module")
def admin(browser: Any, console: Server) -> Iterator[Any]:
    page = new_page(browser)
    sign_in(page, console)
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def people(console: Server) -> dict[str, list[str]]:
    """Ten LFW people with three images each, indexed into collection 'people' through boto3."""
    rek = console.client()
    rek.create_collection(CollectionId="people")
    chosen: dict[str, list[str]] = {}
    for folder in sorted((LFW / "images").iterdir()):
        images = sorted(folder.glob("*.jpg"))[:3]
        if len(images) < 3:
            continue
        ids = []
        for image in images:
            faces = rek.index_faces(CollectionId="people", Image={"Bytes": image.read_bytes()},
                                    ExternalImageId=folder.name, MaxFaces=1)["FaceRecords"]
            ids.extend(f["Face"]["FaceId"] for f in faces)
        chosen[folder.name] = ids
        if len(chosen) == 10:
            break
    rek.close()
    return chosen


def axe_check(page: Any) -> None:
    """No serious or critical axe-core violation (WCAG 2 A/AA rules and best practices)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in bad]


def snap(page: Any, folder: Path, name: str, full: bool = True) -> None:
    page.screenshot(path=folder / f"{name}.jpg", full_page=full, type="jpeg", quality=80)


def post_raw(server: Server, path: str, fields: dict[str, str], headers: dict[str, str]
             ) -> tuple[int, str]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.request("POST", path, urllib.parse.urlencode(fields),
                     {"Content-Type": "application/x-www-form-urlencoded", **headers})
        resp = conn.getresponse()
        return resp.status, resp.read().decode()
    finally:
        conn.close()


# --- sign-in, sign-out, CSRF, revocation, tokens ---------------------------------------------


def test_pages_need_a_sign_in_and_a_wrong_secret_is_refused(browser: Any, console: Server,
                                                            shots: Path) -> None:
    page = new_page(browser)
    page.goto(console.url + "/console/collections")
    assert page.url.startswith(console.url + "/console/sign-in?next=")
    axe_check(page)
    snap(page, shots, "sign-in")
    sign_in(page, console, secret="not-the-secret", path="/console/collections")
    assert "do not match an active key" in page.inner_text("main")
    page.fill("#access_key_id", console.key_id)
    page.fill("#secret", console.secret)
    page.click("form:has(#secret) button[type=submit]")
    page.wait_for_url(console.url + "/console/collections")  # back where it was going
    cookie = next(c for c in page.context.cookies() if c["name"] == "candor_console")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/console"
    page.context.close()


def test_sign_out_ends_the_session_for_every_copy_of_the_cookie(browser: Any,
                                                               console: Server) -> None:
    page = new_page(browser)
    sign_in(page, console)
    cookies = page.context.cookies()
    page.click("text=Sign out")
    page.wait_for_url(re.compile(r".*/console/sign-in$"))
    other = browser.new_context()
    other.add_cookies(cookies)  # a copy taken before signing out
    again = other.new_page()
    again.goto(console.url + "/console/audit")
    assert "/console/sign-in" in again.url
    other.close()
    page.context.close()


def test_a_post_without_the_sessions_csrf_token_is_refused(browser: Any, console: Server) -> None:
    page = new_page(browser)
    sign_in(page, console, path="/console/collections")
    page.eval_on_selector("form:has(#collection_id) input[name=csrf]", "e => e.value = 'forged'")
    page.fill("#collection_id", "forged-one")
    page.click("form:has(#collection_id) button")
    assert "CSRF token is missing or wrong" in page.inner_text("main")
    axe_check(page)  # the refusal page too
    # A cross-site form post carrying the real cookie (as a browser without SameSite would send
    # it) and even the real token is refused for its Origin.
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "candor_console")
    page.goto(console.url + "/console/collections")
    csrf = page.get_attribute("form:has(#collection_id) input[name=csrf]", "value")
    status, body = post_raw(console, "/console/collections",
                            {"csrf": csrf, "collection_id": "cross-site"},
                            {"Cookie": f"candor_console={token}",
                             "Origin": "http://evil.example"})
    assert status == 403 and "posted from another site" in body
    listed = console.client().list_collections()["CollectionIds"]
    assert "forged-one" not in listed and "cross-site" not in listed
    page.context.close()


def test_a_revoked_key_is_refused_at_once_and_accounts_stay_apart(browser: Any,
                                                                  console: Server) -> None:
    made = candor("keys", "create", "--account", "visitor", data_dir=console.data_dir)
    key_id = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", made.stdout).group(1)  # type: ignore[union-attr]
    secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", made.stdout).group(1)  # type: ignore[union-attr]
    console.client().create_collection(CollectionId="admins-only")
    page = new_page(browser)
    sign_in(page, console, key_id, secret, path="/console/collections")
    assert "visitor" in page.inner_text("header")
    assert "admins-only" not in page.inner_text("main")  # another account's collection
    page.goto(console.url + "/console/collections/admins-only")
    assert "does not exist" in page.inner_text("main")
    assert candor("keys", "revoke", key_id, data_dir=console.data_dir).returncode == 0
    page.goto(console.url + "/console/collections")
    assert "/console/sign-in" in page.url
    page.context.close()


def test_a_console_token_signs_in_once(browser: Any, console: Server) -> None:
    minted = candor("keys", "console-token", console.key_id, "--minutes", "5",
                    data_dir=console.data_dir)
    assert minted.returncode == 0, minted.stderr
    ticket = minted.stdout.strip()
    page = new_page(browser)
    page.goto(console.url + "/console/sign-in")
    page.fill("#ticket", ticket)
    page.click("form:has(#ticket) button")
    page.wait_for_url(console.url + "/console/analyze")
    page.context.close()
    page = new_page(browser)
    page.goto(console.url + "/console/sign-in")
    page.fill("#ticket", ticket)
    page.click("form:has(#ticket) button")
    assert "used or has expired" in page.inner_text("main")
    page.context.close()
    unknown = candor("keys", "console-token", "CNDRNOSUCHKEY0000000", data_dir=console.data_dir)
    assert unknown.returncode == 1 and "no active key" in unknown.stderr


# --- the pages ------------------------------------------------------------------------------


def test_analyze_draws_faces_labels_and_text_over_the_image(admin: Any, console: Server,
                                                            shots: Path) -> None:
    admin.goto(console.url + "/console/analyze")
    axe_check(admin)
    admin.set_input_files("#image", str(OBAMA))
    admin.click("main form button")
    admin.wait_for_selector("#h-faces")
    assert admin.inner_text("#h-faces") == "Faces (1)"
    assert admin.locator("svg rect.face").count() == 1
    assert admin.locator("svg circle.landmark").count() >= 5
    assert "Person" in admin.inner_text("section[aria-labelledby=h-labels]")
    admin.click("details.json >> nth=0 >> summary")
    assert '"BoundingBox"' in admin.inner_text("details.json >> nth=0 >> pre")
    axe_check(admin)
    snap(admin, shots, "analyze")
    admin.set_input_files("#image", str(DATA / "text" / "icdar2015-dev" / "imgs" / "img_1.jpg"))
    admin.click("main form button")
    admin.wait_for_selector("#h-text")
    assert admin.locator("svg polygon.text").count() >= 1
    admin.set_input_files("#image", {"name": "notes.jpg", "mimeType": "image/jpeg",
                                     "buffer": b"not an image"})
    admin.click("main form button")
    assert "InvalidImageFormatException" in admin.inner_text("main")


def test_compare_states_what_the_similarity_means_and_the_slider_decides(admin: Any,
                                                                          console: Server,
                                                                          shots: Path) -> None:
    admin.goto(console.url + "/console/compare")
    admin.set_input_files("#source", str(OBAMA))
    admin.set_input_files("#target", str(OBAMA2))
    admin.click("main form button")
    similarity = float(admin.get_attribute("#similarity", "data-similarity"))
    assert similarity >= 80
    assert "false match rate" in admin.inner_text(".verdict")
    assert "a match" in admin.inner_text("#decision")
    admin.focus("#compare-threshold")  # the slider works from the keyboard
    admin.keyboard.press("End")
    assert admin.inner_text("#compare-threshold-value") == "100"
    assert "not a match" in admin.inner_text("#decision")
    assert "1 in 1,000,000" in admin.inner_text(".meaning")
    admin.fill("#compare-threshold", "80")
    assert "1 in 10,000" in admin.inner_text(".meaning")
    axe_check(admin)
    snap(admin, shots, "compare")
    admin.set_input_files("#source", str(OBAMA))
    admin.set_input_files("#target", str(BIDEN))
    admin.click("main form button")
    other = admin.get_attribute("#similarity", "data-similarity")
    assert other is None or float(other) < 80


def test_collections_create_browse_search_tag_and_delete(admin: Any, console: Server,
                                                         people: dict[str, list[str]],
                                                         shots: Path) -> None:
    admin.goto(console.url + "/console/collections")
    admin.fill("#collection_id", "made-in-console")
    admin.click("form:has(#collection_id) button")
    assert "Created collection made-in-console" in admin.inner_text("main")
    assert "made-in-console" in console.client().list_collections()["CollectionIds"]
    axe_check(admin)
    snap(admin, shots, "collections")

    admin.click("a:text-is('people')")
    admin.wait_for_url(console.url + "/console/collections/people")
    total = sum(len(ids) for ids in people.values())
    assert total > 25
    first_page = admin.locator("table:has(caption:text('Faces in people')) tbody tr").count()
    assert first_page == 25
    assert "keeps a thumbnail" in admin.inner_text("main")
    assert admin.locator("img.thumb").count() == 25
    admin.click("text=Next page of faces")
    rows = admin.locator("table:has(caption:text('Faces in people')) tbody tr").count()
    assert rows == total - 25

    name, ids = next(iter(people.items()))
    probe = sorted((LFW / "images" / name).glob("*.jpg"))[0]
    admin.set_input_files("#image", str(probe))
    admin.fill("#search-threshold", "90")  # FMR 1e-5 at 90: 1e-5 × the collection's faces
    expected = f"{1e-5 * total:.3g}"
    assert f"expect {expected}" in admin.inner_text(".meaning"), admin.inner_text(".meaning")
    admin.click("form:has(#search-threshold) button")
    matches = admin.inner_text("table:has(caption:text('match(es) at or above'))")
    assert ids[0] in matches and name in matches
    axe_check(admin)
    snap(admin, shots, "collection")

    admin.fill("#tag-key", "candor:min-match-threshold")
    admin.fill("#tag-value", "95")
    admin.click("form:has(#tag-key) button")
    assert "Set candor:min-match-threshold = 95" in admin.inner_text("main")
    admin.set_input_files("#image", str(probe))
    admin.fill("#search-threshold", "80")
    admin.click("form:has(#search-threshold) button")
    assert "min-match-threshold" in admin.inner_text(".error")  # the policy refuses it
    admin.click("button[aria-label='Remove tag candor:min-match-threshold']")
    assert "Removed tag" in admin.inner_text("main")

    admin.goto(console.url + "/console/collections/made-in-console")
    admin.fill("#confirm", "not-it")
    admin.click("form:has(#confirm) button")
    assert "Type the collection's id" in admin.inner_text("main")
    admin.fill("#confirm", "made-in-console")
    admin.click("form:has(#confirm) button")
    admin.wait_for_url(console.url + "/console/collections")
    assert "made-in-console" not in console.client().list_collections()["CollectionIds"]


def test_video_jobs_start_progress_and_show_a_timeline(admin: Any, console: Server,
                                                       people: dict[str, list[str]],
                                                       shots: Path) -> None:
    from PIL import Image

    from candor.video import sample

    # The singer, from a frame of the third shot (2.7–7.0 s), enrolled through boto3.
    frame = next(f for f in sample(HAMILTON, rate=2.0) if f.timestamp_millis >= 3000)
    png = io.BytesIO()
    Image.fromarray(frame.pixels).save(png, "PNG")
    rek = console.client()
    rek.create_collection(CollectionId="cast")
    rek.index_faces(CollectionId="cast", Image={"Bytes": png.getvalue()}, MaxFaces=1,
                    ExternalImageId="singer")
    admin.goto(console.url + "/console/video")
    axe_check(admin)
    job_ids = []
    for operation in ("StartSegmentDetection", "StartFaceSearch"):
        admin.goto(console.url + "/console/video")
        admin.select_option("#operation", operation)
        admin.fill("#bucket", "clips")
        admin.fill("#name", "hamilton.mp4")
        admin.select_option("#collection_id", "cast")
        admin.click("form:has(#operation) button")
        admin.wait_for_url(re.compile(r".*/console/video/[0-9a-f]+$"))
        job_ids.append(admin.url.rsplit("/", 1)[1])
    for job_id in job_ids:
        deadline = time.monotonic() + 240
        admin.goto(f"{console.url}/console/video/{job_id}")
        while "SUCCEEDED" not in admin.inner_text("main"):  # the page reloads itself
            assert "FAILED" not in admin.inner_text("main"), admin.inner_text("main")
            assert time.monotonic() < deadline
            admin.wait_for_timeout(1000)
    admin.goto(f"{console.url}/console/video/{job_ids[0]}")
    assert admin.locator("svg.timeline rect.span").count() == 4  # the clip's four shots
    assert "shot 0" in admin.inner_text("main") or "shot 1" in admin.inner_text("main")
    axe_check(admin)
    snap(admin, shots, "video-shots")
    admin.goto(f"{console.url}/console/video/{job_ids[1]}")
    lanes = admin.locator("svg.timeline text.lane").all_text_contents()
    assert lanes[0] == "Shots"  # from the segment job on the same video
    tracks = [x for x in lanes[1:] if x.startswith("Track ")]
    assert len(tracks) == len(lanes) - 1 >= 2
    assert [x for x in tracks if x.endswith("· singer")], tracks  # found in the video
    assert "(singer) at" in admin.inner_text("table")
    axe_check(admin)
    snap(admin, shots, "video-faces")
    admin.goto(console.url + "/console/video")
    listed = admin.inner_text("table")
    assert all(j[:12] in listed for j in job_ids) and "SUCCEEDED" in listed
    snap(admin, shots, "video")
    admin.select_option("#operation", "StartFaceDetection")
    admin.fill("#bucket", "clips")
    admin.fill("#name", "missing.mp4")
    admin.click("form:has(#operation) button")
    assert "InvalidS3ObjectException" in admin.inner_text(".error")


def test_audit_filters_verifies_and_signs_a_checkpoint(admin: Any, console: Server,
                                                       people: dict[str, list[str]],
                                                       shots: Path) -> None:
    admin.goto(console.url + "/console/audit")
    assert "Chain verified" in admin.inner_text("#chain-status")
    admin.click("text=Sign a checkpoint of the head now")
    assert "Signed a checkpoint" in admin.inner_text("main")
    assert "The chain still holds it" in admin.inner_text("section[aria-labelledby=h-checkpoint]")
    admin.select_option("#f-operation", "IndexFaces")
    admin.click("form.filters button")
    rows = admin.locator("table.audit tbody tr").all_inner_texts()
    assert len(rows) >= 30 and all("IndexFaces" in r for r in rows)
    axe_check(admin)
    snap(admin, shots, "audit")
    verified = candor("audit", "verify", data_dir=console.data_dir)
    assert verified.returncode == 0 and verified.stdout.startswith("ok:"), verified.stdout


def test_evaluation_of_a_collection_draws_the_det_curve(admin: Any, console: Server,
                                                        people: dict[str, list[str]],
                                                        shots: Path) -> None:
    admin.goto(console.url + "/console/evaluation")
    admin.select_option("#collection_id", "people")
    admin.click("main form button")
    heading = admin.inner_text("#h-report")
    sizes = [len(ids) for ids in people.values()]
    genuine = sum(n * (n - 1) // 2 for n in sizes)
    impostor = sum(sizes) * (sum(sizes) - 1) // 2 - genuine
    assert f"{genuine} genuine and {impostor} impostor pairs" in heading, heading
    rows = admin.locator("section table tbody tr").all_inner_texts()
    assert [r.split()[0] for r in rows] == ["80", "90", "95", "99"]
    points = admin.get_attribute("svg.det polyline.curve", "points") or ""
    assert len(points.split()) > 10
    axe_check(admin)
    snap(admin, shots, "evaluation")
    assert "ConsoleEvaluateCollection" in candor("audit", "export", data_dir=console.data_dir).stdout


def test_evaluation_of_an_uploaded_zip_of_people(admin: Any, console: Server,
                                                 tmp_path: Path) -> None:
    import zipfile

    from PIL import Image

    folders = [f for f in sorted((LFW / "images").iterdir()) if len(list(f.glob("*.jpg"))) >= 2]
    archive = tmp_path / "team.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for folder in folders[:4]:
            for image in sorted(folder.glob("*.jpg"))[:2]:
                z.write(image, f"team/{folder.name}/{image.name}")
        blank = io.BytesIO()
        Image.new("RGB", (120, 120), (128, 128, 128)).save(blank, "JPEG")
        z.writestr("team/Nobody/blank.jpg", blank.getvalue())  # no face in it
        z.writestr("../../outside/escape.jpg", b"not an image")  # skipped, never written
    admin.goto(console.url + "/console/evaluation")
    admin.set_input_files("#pairs", str(archive))
    admin.click("form:has(#pairs) button")
    heading = admin.inner_text("#h-report")
    # 9 images: 4 folders of 2 and a blank one; C(9,2) = 36 pairs, 4 of them genuine.
    assert "team.zip: 4 genuine and 32 impostor pairs" in heading, heading
    assert "found in 8 of 9 image(s)" in admin.inner_text("main")
    assert not (tmp_path.parent / "outside").exists()
    chosen = [sorted(f.glob("*.jpg"))[:2] for f in folders[:2]]
    with zipfile.ZipFile(tmp_path / "listed.zip", "w") as z:
        for images in chosen:
            for image in images:
                z.write(image, image.name)
        z.writestr("pairs.csv", "image_a,image_b,same\n"
                   f"{chosen[0][0].name},{chosen[0][1].name},1\n"
                   f"{chosen[0][0].name},{chosen[1][0].name},0\n")
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for images in chosen:
            for image in images:
                z.write(image, image.name)
        z.writestr("pairs.csv", "a,b,0\n" * 1_000_000)  # 6 MB unpacked, a few KiB packed
    admin.set_input_files("#pairs", str(tmp_path / "bomb.zip"))
    admin.click("form:has(#pairs) button")
    assert "pairs.csv in bomb.zip is over 4 MiB" in admin.inner_text(".error")
    admin.set_input_files("#pairs", str(tmp_path / "listed.zip"))
    admin.click("form:has(#pairs) button")
    assert "listed.zip: 1 genuine and 1 impostor pairs" in admin.inner_text("#h-report")
    (tmp_path / "notes.zip").write_bytes(b"not a zip")
    admin.set_input_files("#pairs", str(tmp_path / "notes.zip"))
    admin.click("form:has(#pairs) button")
    assert "InvalidParameterException: notes.zip is not a ZIP file" in admin.inner_text(".error")


def test_a_phone_sized_window_has_no_sideways_scrolling(browser: Any, console: Server,
                                                        people: dict[str, list[str]],
                                                        shots: Path) -> None:
    page = new_page(browser, 390, 844)
    sign_in(page, console, path="/console/collections/people")
    for path in ("/console/collections/people", "/console/analyze", "/console/audit",
                 "/console/video", "/console/evaluation", "/console/compare"):
        page.goto(console.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    page.goto(console.url + "/console/collections/people")
    snap(page, shots, "phone-collection", full=False)
    page.context.close()


def test_the_sign_in_page_warns_where_the_cookie_cannot_work(console: Server) -> None:
    conn = http.client.HTTPConnection(console.host, console.port, timeout=30)
    try:
        conn.request("GET", "/console/sign-in", headers={"Host": "candor.example:8085"})
        warned = conn.getresponse().read().decode()
        conn.request("GET", "/console/sign-in", headers={"Host": "candor.example",
                                                         "X-Forwarded-Proto": "https"})
        proxied = conn.getresponse().read().decode()
    finally:
        conn.close()
    assert "browsers will not keep the console" in warned
    assert "browsers will not keep the console" not in proxied


def test_an_oversized_upload_and_an_unsigned_post_are_refused_plainly(console: Server) -> None:
    status, body = post_raw(console, "/console/analyze", {"csrf": "x"}, {})
    assert status == 403 and "session has ended" in body  # no cookie: not signed in
    logged = [e for e in console.access_log() if e.get("path") == "/console/analyze"]
    assert logged and logged[-1]["status"] == 403 and logged[-1]["method"] == "POST"
    conn = http.client.HTTPConnection(console.host, console.port, timeout=30)
    try:  # a multipart part without a name
        conn.request("POST", "/console/sign-in",
                     b"--x\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--x--\r\n",
                     {"Content-Type": "multipart/form-data; boundary=x"})
        resp = conn.getresponse()
        assert resp.status == 400 and "Bad sign-in form" in resp.read().decode()
    finally:
        conn.close()
    conn = http.client.HTTPConnection(console.host, console.port, timeout=30)
    try:
        conn.putrequest("POST", "/console/sign-in")
        conn.putheader("Content-Type", "multipart/form-data; boundary=x")
        conn.putheader("Content-Length", str(64 * 1024 * 1024))
        conn.endheaders()
        resp = conn.getresponse()  # answered from the headers, before any body is sent
        assert resp.status == 400 and "Bad sign-in form" in resp.read().decode()
    finally:
        conn.close()
