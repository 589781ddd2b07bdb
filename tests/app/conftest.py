"""Fixtures for the app tests: live servers on loopback over SQLite (and PostgreSQL when it starts).

One server per configuration per test session: the model is the suite's one tiny trained run.
"""

import httpx
import pytest

from tests.app import support
from tests.real_components import unavailable
from tests.storage import postgres

postgres_server = postgres.postgres_server  # assigned: pytest finds fixtures by name

TOKEN = "test-token-0123456789"


def _serve(tmp_path_factory, db_url, **settings):
    service = support.make_service(tmp_path_factory.mktemp("models"), db_url, **settings)
    server = support.LiveServer(service)
    return server


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The app on SQLite, no token, a 2 MB upload limit and a 60 s duration limit."""
    folder = tmp_path_factory.mktemp("db")
    live = _serve(tmp_path_factory, f"sqlite:///{folder}/app.sqlite3", max_upload_bytes=2 * 1024 * 1024,
                  max_duration_s=60.0)
    yield live
    live.stop()


@pytest.fixture(scope="session")
def token_server(tmp_path_factory):
    """The app on SQLite with an API token."""
    folder = tmp_path_factory.mktemp("db")
    live = _serve(tmp_path_factory, f"sqlite:///{folder}/app.sqlite3", token=TOKEN)
    yield live
    live.stop()


@pytest.fixture(scope="session")
def postgres_app(tmp_path_factory, postgres_server):
    """The app on a real PostgreSQL database."""
    live = _serve(tmp_path_factory, postgres_server.create_database("ser_tf_app"))
    yield live
    live.stop()


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


# ---- a real browser (tests/app/test_page.py) ------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
BROWSER_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1400,1000")


def _chromium(tmp_path_factory, *extra_flags):
    """Headless Chromium driven by the system chromedriver (Selenium Manager never downloads)."""
    import os
    import shutil

    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        unavailable("needs Chromium and its driver: apt-get install chromium chromium-driver "
                    "(.ci/run installs them)")
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    for flag in (*BROWSER_FLAGS, *extra_flags, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """One headless Chromium for the page tests."""
    driver = _chromium(tmp_path_factory)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def microphone_browser(tmp_path_factory):
    """Chromium whose microphone plays a few seconds of the happy voice (allowed without asking)."""
    clip = tmp_path_factory.mktemp("microphone") / "happy.wav"
    clip.write_bytes(support.wav_bytes(support.voices_clip(("happy",), seconds_each=8.0)))
    driver = _chromium(tmp_path_factory, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                       f"--use-file-for-fake-audio-capture={clip}")
    yield driver
    driver.quit()
