"""The web app's speed: upload to timeline, live-stream update latency, and concurrent uploads.

    python benchmarks/bench_app.py [--model default] [--quick] [--out app.json]

Serves ``ser_tf.app`` in this process (``ser_tf.app.background``: real uvicorn, real HTTP and
WebSocket on loopback, a SQLite store in a temporary folder) and measures, each against a baseline
taken in the same run:

- upload to timeline, for a 3 s clip and a 10 min recording: ``POST /api/recordings`` until the
  stored timeline comes back, against the model's own ``predict_long`` on the same file in the same
  process (the ratio is the app's overhead: upload, checks, envelope, database);
- live-stream update latency: audio sent over the WebSocket at real time in 0.1 s chunks; for each
  update, the time from sending the chunk that completed its window to receiving the update,
  against the hop (0.5 s: an update must arrive before the next is due);
- concurrent uploads: n clients each upload the 3 s clip at the same moment; the median latency
  against one client alone. "Holds" is the largest n whose median stays under twice that.

The audio is speech-like (every window voiced: the model runs on each, the worst case). Prints a
markdown table; not a test.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.common import SR, speechlike  # noqa: E402


def wav(audio: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, audio, SR, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def upload_seconds(client, name: str, data: bytes) -> float:
    t0 = time.perf_counter()
    response = client.post("/api/recordings", files=[("files", (name, data, "audio/wav"))])
    elapsed = time.perf_counter() - t0
    if response.status_code != 201:
        raise SystemExit(f"upload failed ({response.status_code}): {response.text[:500]}")
    return elapsed


def direct_seconds(model, path: Path) -> float:
    t0 = time.perf_counter()
    model.predict_long(str(path), hop=1.0)
    return time.perf_counter() - t0


def stream_latency(server, seconds: float) -> dict:
    """Send ``seconds`` of audio at real time; latency of each update after its window's last chunk."""
    from websockets.sync.client import connect

    audio = speechlike(seconds, seed=3)
    chunk = SR // 10
    sent_at = {}  # samples sent so far -> when that chunk went out
    latencies, computes = [], []
    with connect(f"{server.ws_url}/api/stream", max_size=None) as ws:
        ws.send(json.dumps({"type": "start", "sample_rate": SR, "name": "benchmark stream"}))
        ready = json.loads(ws.recv(timeout=60))

        def receive():
            while True:
                message = json.loads(ws.recv(timeout=600))
                if message["type"] == "update":
                    now = time.perf_counter()
                    end = int(round(message["end"] * SR))
                    due = min(s for s in sent_at if s >= end)
                    latencies.append(now - sent_at[due])
                    computes.append(message["compute_s"])
                elif message["type"] in ("saved", "error"):
                    return

        reader = threading.Thread(target=receive, daemon=True)
        reader.start()
        start = time.perf_counter()
        for i in range(0, len(audio), chunk):
            time.sleep(max(0.0, start + i / SR - time.perf_counter()))  # real time
            ws.send(audio[i:i + chunk].astype("<f4").tobytes())
            sent_at[min(i + chunk, len(audio))] = time.perf_counter()
        ws.send(json.dumps({"type": "stop"}))
        reader.join(timeout=600)
    return {"hop_s": ready["hop"], "updates": len(latencies),
            "latency_median_s": statistics.median(latencies),
            "latency_p95_s": float(np.percentile(latencies, 95)),
            "model_compute_median_s": statistics.median(computes)}


def concurrent_uploads(server, data: bytes, clients: int) -> float:
    """Median latency of ``clients`` simultaneous uploads."""
    import httpx

    barrier = threading.Barrier(clients)

    def one(_):
        with httpx.Client(base_url=server.url, timeout=600) as client:
            barrier.wait()
            return upload_seconds(client, "clip.wav", data)

    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        return statistics.median(pool.map(one, range(clients)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", default="default", help="'default', a run folder or a model file")
    parser.add_argument("--repeats", type=int, default=5, help="uploads of the 3 s clip timed")
    parser.add_argument("--long-minutes", type=float, default=10.0, help="length of the long recording")
    parser.add_argument("--stream-seconds", type=float, default=30.0, help="seconds streamed at real time")
    parser.add_argument("--max-clients", type=int, default=16, help="most concurrent uploads tried")
    parser.add_argument("--concurrency", type=int, default=2, help="the server's --concurrency")
    parser.add_argument("--quick", action="store_true", help="1 min recording, 8 s stream, up to 4 clients")
    parser.add_argument("--out", help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.long_minutes, args.stream_seconds, args.max_clients, args.repeats = 1.0, 8.0, 4, 3

    import httpx

    from ser_tf.app.__main__ import build_service
    from ser_tf.app.background import BackgroundServer
    from ser_tf.app.settings import AppSettings
    from ser_tf.utils.quiet import quiet_tensorflow

    quiet_tensorflow(False)
    work = Path(tempfile.mkdtemp(prefix="ser_tf_bench_app_"))
    settings = AppSettings(model=args.model, db_url=f"sqlite:///{work}/app.sqlite3", concurrency=args.concurrency,
                           max_duration_s=max(7200.0, args.long_minutes * 60 + 1))
    service = build_service(settings)
    model = service.analyzer.model
    clip, long = work / "clip.wav", work / "long.wav"
    clip.write_bytes(wav(speechlike(3.0)))
    long.write_bytes(wav(speechlike(args.long_minutes * 60, seed=1)))
    results = {"model": str(model.path), "arch": model.arch, "cores": __import__("os").cpu_count()}

    with BackgroundServer(service) as server, httpx.Client(base_url=server.url, timeout=3600) as client:
        upload_seconds(client, "warm.wav", clip.read_bytes())  # first request: model id hashed, pools warm
        direct = statistics.median(direct_seconds(model, clip) for _ in range(args.repeats))
        served = statistics.median(upload_seconds(client, "clip.wav", clip.read_bytes()) for _ in range(args.repeats))
        results["clip_3s"] = {"upload_to_timeline_s": served, "direct_predict_long_s": direct, "ratio": served / direct}
        direct = direct_seconds(model, long)
        served = upload_seconds(client, "long.wav", long.read_bytes())
        results[f"recording_{args.long_minutes:g}min"] = {"upload_to_timeline_s": served,
                                                           "direct_predict_long_s": direct, "ratio": served / direct}
        stream = stream_latency(server, args.stream_seconds)
        stream["latency_over_hop"] = stream["latency_median_s"] / stream["hop_s"]
        results["stream"] = stream
        load, one = {}, None
        clients = 1
        while clients <= args.max_clients:
            latency = concurrent_uploads(server, clip.read_bytes(), clients)
            one = one or latency
            load[clients] = {"median_latency_s": latency, "ratio": latency / one}
            clients *= 2
        results["concurrent"] = load
        results["holds_before_doubling"] = max(n for n, row in load.items() if row["ratio"] < 2.0)

    print(f"\nser_tf app on {results['cores']} cores, model {results['model']} ({results['arch']})\n")
    print("| measurement | app | baseline | ratio |\n|---|---|---|---|")
    for key in ("clip_3s", f"recording_{args.long_minutes:g}min"):
        row = results[key]
        print(f"| upload to timeline, {key} | {row['upload_to_timeline_s']:.3f} s | "
              f"{row['direct_predict_long_s']:.3f} s (predict_long in process) | {row['ratio']:.2f} |")
    print(f"| live update latency, median (p95), {stream['updates']} updates | {stream['latency_median_s']:.3f} s "
          f"({stream['latency_p95_s']:.3f} s) | {stream['hop_s']} s (the hop) | {stream['latency_over_hop']:.2f} |")
    for n, row in load.items():
        print(f"| {n} concurrent uploads of the 3 s clip, median | {row['median_latency_s']:.3f} s | "
              f"{load[1]['median_latency_s']:.3f} s (one client) | {row['ratio']:.2f} |")
    print(f"\nholds {results['holds_before_doubling']} concurrent uploads before the median latency doubles")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
