"""The page in a real browser (headless Chromium): upload, the timeline, alerts, history, recording
and streaming with a fake microphone, the token form. The server is the suite's live tiny run."""

import datetime as dt
import re
import time

import httpx
import pytest

from tests.app import support
from tests.app.conftest import TOKEN

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

WAIT_S = 30
# How many pixels of a canvas are painted (alpha > 0): a blank canvas has none.
PAINTED = """
const canvas = document.querySelector(arguments[0]);
const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
let painted = 0;
for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
return painted;
"""


def wait(driver, condition, timeout=WAIT_S, message=""):
    """``condition(driver)`` once truthy; lists the page re-renders may go stale mid-check: try again."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1,
                         ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
                         ).until(condition, message)


def css(driver, selector):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def open_page(driver, server):
    driver.get(server.url)
    wait(driver, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"),
         message="the page did not load /api/info")


def shown_recording_id(driver):
    return driver.execute_script("const s = document.querySelector('#recording');"
                                 "return s.hidden ? null : Number(s.dataset.recordingId);")


def wait_for_new_recording(driver, previous=None):
    """The id of the recording the main view shows once it is not ``previous``; fails on an error message."""
    def shown(d):
        message = d.execute_script("const m = document.querySelector('#message');"
                                   "return m.classList.contains('error') && !m.hidden ? m.textContent : null")
        assert message is None, f"the page reported: {message}"
        current = shown_recording_id(d)
        return current if current not in (None, previous) else False
    return wait(driver, shown, message="no recording was shown")


def upload_through_page(driver, path):
    previous = shown_recording_id(driver)
    css(driver, "#upload-files").send_keys(str(path))
    css(driver, "#upload-button").click()
    return wait_for_new_recording(driver, previous)


@pytest.fixture
def happy_clip(tmp_path):
    path = tmp_path / "happy voice.wav"
    path.write_bytes(support.wav_bytes(support.voices_clip(("happy",), seconds_each=4.0, seed=7)))
    return path


@pytest.fixture
def api(server):
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


def test_upload_shows_the_label_and_draws_the_timeline(browser, server, api, happy_clip, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains

    open_page(browser, server)
    recording_id = upload_through_page(browser, happy_clip)
    stored = api.get(f"/api/recordings/{recording_id}").json()
    assert stored["name"] == "happy voice.wav" and stored["source"] == "upload"
    assert css(browser, "#overall-label").text.lower() == stored["label"] == "happy"
    assert css(browser, "#overall-confidence").text.startswith(f"{round(100 * stored['confidence'])} %")
    assert browser.execute_script(PAINTED, "#timeline canvas") > 1000
    shares = {e.get_attribute("data-emotion"): e.text for e in browser.find_elements("css selector", "#shares .share")}
    assert set(shares) == set(support.CLASSES) and shares["happy"].endswith("100 %")
    assert "silence" in css(browser, "#silence-share").text
    assert css(browser, "#model-arch").text == "cnn_lstm_small" and css(browser, "#database").text == "database: sqlite"
    assert not css(browser, "#demo-warning").is_displayed()
    assert css(browser, "#report-link").get_attribute("href").endswith(f"/api/recordings/{recording_id}/report/index.html")

    # The hover names the time, the label and each probability at the pointer.
    canvas = css(browser, "#timeline canvas")
    ActionChains(browser).move_to_element_with_offset(canvas, -int(canvas.size["width"] * 0.2), 0).perform()  # 30 %
    hover = wait(browser, lambda d: css(d, "#timeline-hover").is_displayed() and css(d, "#timeline-hover"))
    at, label = re.match(r"([\d.]+) s · (\w+)", hover.text).groups()
    [window] = [w for w in stored["timeline"] if w["start"] <= float(at) < w["end"]]  # 1 s windows, 1 s hop
    assert label == window["label"] and 1.0 < float(at) < 1.4
    if window["voiced"]:
        assert all(f"{name} {round(100 * p)} %" in hover.text for name, p in window["probabilities"].items())

    # The main view as a picture (a person looks at it in the test's folder when something is off).
    screenshot = tmp_path / "main-view.png"
    assert css(browser, "#recording").screenshot(str(screenshot))
    png = screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_a_demo_model_is_flagged_in_the_header(browser, server, monkeypatch):
    real_info = server.service.info

    def demo_info():  # the server runs in this process: its answer can be changed for one test
        info = real_info()
        return {**info, "model": {**info["model"], "demo": True, "warning": "demo model: trained on synthetic voices"}}

    monkeypatch.setattr(server.service, "info", demo_info)
    open_page(browser, server)
    warning = css(browser, "#demo-warning")
    assert warning.is_displayed() and warning.text == "demo model: trained on synthetic voices"


def test_a_batch_lists_refused_files_and_keeps_audio_when_asked(browser, server, api, happy_clip, tmp_path):
    sad_clip = tmp_path / "sad voice.wav"
    sad_clip.write_bytes(support.wav_bytes(support.voices_clip(("sad",), seconds_each=3.0)))
    text = tmp_path / "notes.txt"
    text.write_text("not audio at all")
    open_page(browser, server)
    css(browser, "#store-audio").click()
    previous = shown_recording_id(browser)
    css(browser, "#upload-files").send_keys("\n".join(str(p) for p in (happy_clip, text, sad_clip)))
    css(browser, "#upload-button").click()
    first = wait_for_new_recording(browser, previous)
    refused = css(browser, "#refused")
    assert refused.is_displayed() and "notes.txt" in refused.text and "not audio" in refused.text
    buttons = browser.find_elements("css selector", "#uploaded button")
    assert [b.text for b in buttons] == ["happy voice.wav · happy", "sad voice.wav · sad"]
    assert int(buttons[0].get_attribute("data-recording-id")) == first
    sad_id = int(buttons[1].get_attribute("data-recording-id"))
    buttons[1].click()
    wait(browser, lambda d: css(d, "#overall-label").text.lower() == "sad")
    audio = api.get(css(browser, "#audio-link").get_attribute("href"))
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content == sad_clip.read_bytes()

    # Delete asks first, then the recording is gone from the server too.
    css(browser, "#delete-button").click()
    browser.switch_to.alert.accept()
    wait(browser, lambda d: not css(d, "#recording").is_displayed())
    assert api.get(f"/api/recordings/{sad_id}").status_code == 404
    assert [b.text for b in browser.find_elements("css selector", "#uploaded button")] == ["happy voice.wav · happy"]


def test_a_rule_set_in_the_form_fires_and_is_marked_on_the_timeline(browser, server, api, happy_clip):
    from selenium.webdriver.support.ui import Select

    open_page(browser, server)
    css(browser, "nav [data-view=alerts]").click()
    form = css(browser, "#rule-form")
    Select(form.find_element("name", "kind")).select_by_value("sustained")
    Select(form.find_element("name", "emotion")).select_by_value("happy")
    for name, value in (("threshold", "50"), ("min_seconds", "1")):
        field = form.find_element("name", name)
        field.clear()
        field.send_keys(value)
    css(browser, "#rule-submit").click()
    rule_text = "happy ≥ 0.50 for ≥ 1 s"
    wait(browser, lambda d: rule_text in css(d, "#rules-list").text, message="the rule was not listed")
    [rule] = [r for r in api.get("/api/rules").json()["rules"] if r["name"] == rule_text]
    try:
        assert rule["threshold"] == 0.5 and rule["min_seconds"] == 1.0  # 50 % sent as 0.5
        css(browser, "nav [data-view=analyse]").click()
        recording_id = upload_through_page(browser, happy_clip)
        stored = api.get(f"/api/recordings/{recording_id}").json()
        fired = [a for a in stored["alerts"] if a["rule_id"] == rule["id"]]
        assert fired and fired[0]["end"] - fired[0]["start"] >= 1.0
        markers = browser.find_elements("css selector", "#timeline .alert-marker")
        assert {int(m.get_attribute("data-alert-id")) for m in markers} == {a["id"] for a in fired}
        assert all(m.is_displayed() and m.size["width"] > 10 for m in markers)
        assert rule_text in css(browser, "#recording-alerts").text

        # The alerts view lists it, linked to its recording.
        css(browser, "nav [data-view=alerts]").click()
        row = wait(browser, lambda d: d.find_elements("css selector", f"#alerts-table tr[data-alert-id='{fired[0]['id']}']"))
        assert rule_text in row[0].text and "happy voice.wav" in row[0].text
    finally:
        api.delete(f"/api/rules/{rule['id']}")  # the server is shared: later uploads must not fire it


def test_history_lists_the_recording_and_draws_the_trend(browser, server, api):
    from selenium.webdriver.support.ui import Select

    sad = ("sad.wav", support.wav_bytes(support.voices_clip(("sad",), seconds_each=2.0)), "audio/wav")
    [recording] = api.post("/api/recordings", files=[("files", sad)], data={"source": "upload"}).json()["recordings"]
    open_page(browser, server)
    css(browser, "nav [data-view=history]").click()
    row = wait(browser, lambda d: d.find_elements("css selector", f"#history-table tr[data-recording-id='{recording['id']}']"))
    assert "sad.wav" in row[0].text and "sad" in row[0].text
    wait(browser, lambda d: d.execute_script(PAINTED, "#trend-chart") > 500, message="the trend chart is blank")
    today = recording["uploaded_at"][:10]
    assert css(browser, "#period-report-link").get_attribute("href").endswith(f"/api/reports/day/{today}/index.html")
    Select(css(browser, "#trend-period")).select_by_value("week")
    monday = dt.date.fromisoformat(today) - dt.timedelta(days=dt.date.fromisoformat(today).weekday())
    wait(browser, lambda d: css(d, "#period-report-link").get_attribute("href")
         .endswith(f"/api/reports/week/{monday}/index.html"))
    row[0].click()
    assert wait_for_new_recording(browser) == recording["id"]
    assert css(browser, "#overall-label").text.lower() == "sad"


def test_history_filters_by_source(browser, server, api):
    from selenium.webdriver.support.ui import Select

    neutral = ("neutral.wav", support.wav_bytes(support.voices_clip(("neutral",), seconds_each=2.0)), "audio/wav")
    [recording] = api.post("/api/recordings", files=[("files", neutral)], data={"source": "record"}).json()["recordings"]
    open_page(browser, server)
    css(browser, "nav [data-view=history]").click()
    Select(css(browser, "#history-filters select[name=source]")).select_by_value("record")
    css(browser, "#history-filters button").click()
    expected = {r["id"] for r in api.get("/api/recordings", params={"source": "record"}).json()["recordings"]}
    assert recording["id"] in expected
    wait(browser, lambda d: {int(r.get_attribute("data-recording-id"))
                             for r in d.find_elements("css selector", "#history-table tbody tr")} == expected)
    sources = [row.find_elements("css selector", "td")[2].text
               for row in browser.find_elements("css selector", "#history-table tbody tr")]
    assert sources and set(sources) == {"record"}


def test_recording_in_the_browser_uploads_a_wav(microphone_browser, server, api):
    driver = microphone_browser
    open_page(driver, server)
    css(driver, "#record-button").click()
    wait(driver, lambda d: css(d, "#record-status").text == "Recording…")
    time.sleep(3)  # the fake microphone plays in real time
    css(driver, "#record-button").click()
    recording_id = wait_for_new_recording(driver)
    stored = api.get(f"/api/recordings/{recording_id}").json()
    assert stored["source"] == "record" and stored["name"].endswith(".wav")
    assert 2.0 < stored["duration"] < 6.0
    assert stored["label"] == "happy"
    assert css(driver, "#overall-label").text.lower() == "happy"


def test_streaming_shows_live_updates_then_the_saved_recording(microphone_browser, server, api):
    driver = microphone_browser
    open_page(driver, server)
    css(driver, "#stream-button").click()
    wait(driver, lambda d: int(css(d, "#live-count").get_attribute("data-count") or 0) >= 3,
         message="fewer than 3 live updates arrived")
    assert css(driver, "#live-label").text in (*support.CLASSES, "silence")
    assert driver.execute_script(PAINTED, "#live-chart") > 100
    css(driver, "#stream-button").click()
    recording_id = wait_for_new_recording(driver)
    stored = api.get(f"/api/recordings/{recording_id}").json()
    assert stored["source"] == "stream" and stored["duration"] >= 1.0
    assert css(driver, "#overall-label").text.lower() == stored["label"]


def enter_token(driver, server, token):
    driver.get(server.url)
    wait(driver, lambda d: css(d, "#token-form").is_displayed())
    css(driver, "#token-input").clear()
    css(driver, "#token-input").send_keys(token)
    css(driver, "#token-submit").click()


def test_the_page_asks_for_the_token_once_and_keeps_it(browser, token_server):
    enter_token(browser, token_server, "wrong")
    wait(browser, lambda d: "wrong API token" in css(d, "#token-problem").text)
    css(browser, "#token-input").clear()
    css(browser, "#token-input").send_keys(TOKEN)
    css(browser, "#token-submit").click()
    wait(browser, lambda d: css(d, "#model-arch").text == "cnn_lstm_small")
    assert not css(browser, "#token-form").is_displayed()
    # Kept for the session: a reload does not ask again, and links carry it.
    browser.refresh()
    wait(browser, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))
    assert not css(browser, "#token-form").is_displayed()
    css(browser, "nav [data-view=history]").click()
    wait(browser, lambda d: f"token={TOKEN}" in (css(d, "#period-report-link").get_attribute("href") or ""))


def test_the_live_stream_carries_the_token(microphone_browser, token_server):
    driver = microphone_browser
    enter_token(driver, token_server, TOKEN)
    wait(driver, lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))
    css(driver, "#stream-button").click()
    wait(driver, lambda d: int(css(d, "#live-count").get_attribute("data-count") or 0) >= 2,
         message="no live updates through the token-guarded WebSocket")
    css(driver, "#stream-button").click()
    recording_id = wait_for_new_recording(driver)
    with httpx.Client(base_url=token_server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        assert api.get(f"/api/recordings/{recording_id}").json()["source"] == "stream"
