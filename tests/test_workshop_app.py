"""The persona workshop app in a real browser: ``salesmkt workshop`` (Voila) driven by headless
Chromium (Debian's package) through Playwright, with the mouse and keyboard as a room would.

Starts the app on a free local port with a persona file in a temporary folder, moves the persona
count, ticks a feature, types names and notes, saves, refits, reloads the page and restarts the
app, and checks that every name and note survived and that the cards followed. Every update's
time is printed (target: under 1.5 s on the sample company) and screenshots are kept under
``test-artifacts/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.test_browser import SHOTS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5  # seconds per update on the sample company (printed; asserted with slack)
SLACK = 8.0  # a busy shared CI machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """``salesmkt workshop`` as a subprocess (its own process group, stopped by its id)."""

    def __init__(self, file: Path):
        self.file, self.port = file, _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"

    def start(self) -> App:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        cmd = [sys.executable, "-m", "salesmkt", "workshop", "--no-browser",
               f"--port={self.port}", f"--file={self.file}"]  # fmt: skip
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 90:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("the workshop app did not start within 90 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def app_browser(browser):
    """The shared Chromium of conftest.py (one Playwright per worker: a second sync Playwright
    in the same process refuses to start inside the first one's event loop)."""
    pytest.importorskip("voila")
    return browser


TABS = ".lm-TabBar-tab"
DONE = ".sm-done, .sm-error"


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    t0 = time.perf_counter()
    page.goto(url, wait_until="load", timeout=120_000)
    page.wait_for_selector(".sm-feature", timeout=120_000)
    page.wait_for_selector(".sm-card", timeout=60_000)
    return page, errors, time.perf_counter() - t0


def _titles(page) -> list[str]:
    return page.locator(TABS).all_inner_texts()


def _step(page) -> int:
    """The number of the last finished step the status line reports (0: none yet)."""
    done = page.locator(DONE)
    return int(done.first.get_attribute("data-step")) if done.count() else 0


def _timed(timings, what, page, action):
    """Do ``action`` and wait until the app reports the step finished (tabs, chart and cards
    redrawn: the status line is written last)."""
    before = _step(page)
    t0 = time.perf_counter()
    action()
    page.wait_for_function(
        "(n) => { const d = document.querySelector('.sm-done, .sm-error');"
        " return d && Number(d.dataset.step) > n; }", arg=before, timeout=60_000)  # fmt: skip
    timings[what] = time.perf_counter() - t0
    return page.locator(DONE).first.inner_text()


def _cards(page) -> str:
    return " | ".join(page.locator(".sm-card h3").all_inner_texts())


def _shot(page, name):
    """A screenshot of the whole app (Voila scrolls inside the page: grow the window first)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    tall = page.evaluate(
        "() => Math.max(...Array.from(document.querySelectorAll('*')).map((e) => e.scrollHeight))"
    )
    page.set_viewport_size({"width": 1300, "height": min(int(tall) + 40, 9000)})
    page.screenshot(path=str(SHOTS / f"workshop_{name}.png"), full_page=True)
    page.set_viewport_size({"width": 1300, "height": 1000})


def test_names_and_notes_survive_refits_reloads_and_restarts(app_browser, tmp_path):
    browser = app_browser
    file = tmp_path / "personas.yml"
    app = App(file).start()
    timings: dict[str, float] = {}
    try:
        page, errors, timings["open the page"] = _open(browser, app.url)
        assert _titles(page) == ["P1", "P2", "P3", "P4", "P5"]
        _shot(page, "1_opened")

        # move the persona count with the slider (the handle, then the arrow key)
        handle = page.locator(".noUi-handle").first
        _timed(timings, "persona count 5 -> 4", page,
               lambda: (handle.click(), page.keyboard.press("ArrowLeft")))  # fmt: skip
        assert _titles(page) == ["P1", "P2", "P3", "P4"]
        # untick a feature: the personas refit, the text says which features are used
        box = page.locator(".sm-feature", has_text="Trial user").locator("input")
        _timed(timings, "untick a feature", page, lambda: box.click())
        assert not box.is_checked()
        assert "Not used: Trial user" in page.inner_text("body")

        names = ["Careful Carla", "Busy Bob", "Technical Tara", "Growing Gus"]
        for i, name in enumerate(names):
            page.locator(TABS).nth(i).click()
            t0 = time.perf_counter()
            page.locator(".sm-field-name input:visible").fill(name)
            page.locator(".sm-field-notes textarea:visible").fill(f"notes about {name}")
            page.wait_for_function(
                "(n) => Array.from(document.querySelectorAll('.sm-card h3'))"
                ".some((h) => h.textContent.includes(n))", arg=name, timeout=30_000)  # fmt: skip
            timings[f"type name {i + 1}"] = time.perf_counter() - t0
        assert _titles(page) == [f"P{i + 1} {n}" for i, n in enumerate(names)]
        assert (tmp_path / "personas.draft.yml").exists()  # autosaved while typing
        _shot(page, "2_named")

        _timed(timings, "save", page, lambda: page.locator(".sm-save").click())
        assert "Saved at" in page.inner_text(".sm-saved-line")
        saved = yaml.safe_load(file.read_text())
        assert {p["name"] for p in saved["personas"]} >= set(names)
        assert (tmp_path / "personas_cards.html").exists()
        assert (tmp_path / "personas_summary.html").exists()

        # refit: tick the feature again; every name stays on a persona, cards follow the tabs
        _timed(timings, "tick a feature (refit)", page, lambda: box.click())
        after_refit = _titles(page)
        assert {t.split(" ", 1)[1] for t in after_refit} == set(names)
        assert _cards(page) == " | ".join(after_refit)
        _shot(page, "3_refit")

        # a browser refresh: the autosaved draft brings back the fit and the text
        page.close()
        page, errors2, timings["reload the page"] = _open(browser, app.url)
        assert _titles(page) == after_refit
        page.locator(TABS).nth(1).click()
        note = page.locator(".sm-field-notes textarea:visible").input_value()
        assert note == f"notes about {after_refit[1].split(' ', 1)[1]}"
        page.close()
    finally:
        app.stop()

    app = App(file).start()  # a restart of the app
    try:
        page, errors3, timings["open after a restart"] = _open(browser, app.url)
        assert _titles(page) == after_refit
        assert _cards(page) == " | ".join(after_refit)
        for i, title in enumerate(after_refit):
            page.locator(TABS).nth(i).click()
            name = title.split(" ", 1)[1]
            assert page.locator(".sm-field-name input:visible").input_value() == name
            assert page.locator(".sm-field-notes textarea:visible").input_value() == (
                f"notes about {name}"
            )
        _shot(page, "4_restarted")
        page.close()
    finally:
        app.stop()

    print("\nworkshop app timings (target: updates under 1.5 s):")
    for what, secs in timings.items():
        print(f"  {what:<28} {secs:5.2f} s")
    assert not errors + errors2 + errors3
    updates = {k: v for k, v in timings.items() if not k.startswith("open") and "reload" not in k}
    assert max(updates.values()) < SLACK, updates
