"""Make ``docs/app.png``: the page's main view on the default model, after a real recording.

The recording is six RAVDESS sentences by one actor (neutral, happy, sad, angry, fearful,
surprised), joined with short pauses into one ~26 s WAV in a temporary folder; the audio is
never kept. Two alert rules are set first, so the picture shows alerts marked on the timeline.

    python docs/make_app_screenshot.py [--corpus DIR] [--out docs/app.png]

Needs the 16 kHz RAVDESS copy (``/work/shared/data/ravdess-speech-16k``) and Chromium with its
driver (``apt-get install chromium chromium-driver``); without them it says so and does nothing.
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
from pathlib import Path

CORPUS = Path("/work/shared/data/ravdess-speech-16k")
# RAVDESS file names: modality-channel-emotion-intensity-statement-repetition-actor.
SENTENCES = ("03-01-01-01-01-01-01.wav",  # neutral (RAVDESS has no strong neutral)
             "03-01-03-02-01-01-01.wav",  # happy, strong
             "03-01-04-02-01-01-01.wav",  # sad
             "03-01-05-02-01-01-01.wav",  # angry
             "03-01-06-02-01-01-01.wav",  # fearful
             "03-01-08-02-01-01-01.wav")  # surprised
PAUSE_S = 0.4
RULES = ({"kind": "sustained", "emotion": "sad", "threshold": 0.5, "min_seconds": 2.0},
         {"kind": "sustained", "emotion": "fearful", "threshold": 0.8, "min_seconds": 3.0})
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def join_sentences(folder: Path, out: Path) -> None:
    import numpy as np
    import soundfile as sf

    parts = []
    for name in SENTENCES:
        audio, sr = sf.read(folder / name, dtype="float32")
        parts += [audio, np.zeros(int(PAUSE_S * sr), dtype=np.float32)]
    sf.write(out, np.concatenate(parts), sr, subtype="PCM_16")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(models: Path, port: int) -> subprocess.Popen:
    """``python -m ser_tf.app`` on the default model, its database under ``models``."""
    import httpx

    env = {**os.environ, "SER_TF_MODELS": str(models)}
    server = subprocess.Popen([sys.executable, "-m", "ser_tf.app", "--port", str(port), "--quiet"], env=env)
    deadline = time.monotonic() + 300  # the first start assembles the default model
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/info", timeout=2).raise_for_status()
            return server
        except httpx.HTTPError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit("the server did not start within 300 s")


def screenshot(url: str, clip: Path, out: Path, profile: Path) -> None:
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not download a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking", "--window-size=1280,1020",
                 "--hide-scrollbars", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        driver.get(url)
        wait = WebDriverWait(driver, 120)
        wait.until(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))
        driver.find_element(By.ID, "upload-files").send_keys(str(clip))
        driver.find_element(By.ID, "upload-button").click()
        wait.until(lambda d: d.find_element(By.ID, "recording").is_displayed())
        canvas = driver.find_element(By.CSS_SELECTOR, "#timeline canvas")
        # The whole page in one picture (a viewport as tall as the page), the pointer on the happy
        # sentence (~4 s in) so the hover read-out shows without hiding the alerts.
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False})
        ActionChains(driver).move_to_element_with_offset(canvas, -int(canvas.size["width"] * 0.34), 20).perform()
        driver.save_screenshot(str(out))
    finally:
        driver.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the 16 kHz RAVDESS folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("app.png"), help="default: %(default)s")
    args = parser.parse_args()
    actor = args.corpus / "Actor_01"
    if not all((actor / name).is_file() for name in SENTENCES):
        print(f"skipped: the RAVDESS sentences are not under {actor}")
        return 0
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        print("skipped: needs Chromium and its driver (apt-get install chromium chromium-driver)")
        return 0
    import httpx

    with tempfile.TemporaryDirectory(prefix="ser_tf_screenshot_") as tmp:
        tmp = Path(tmp)
        clip = tmp / "Actor 01, six sentences.wav"
        join_sentences(actor, clip)
        port = free_port()
        server = start_server(tmp, port)
        try:
            url = f"http://127.0.0.1:{port}"
            for rule in RULES:
                httpx.post(f"{url}/api/rules", json=rule, timeout=10).raise_for_status()
            screenshot(url, clip, args.out, tmp / "chromium")
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
