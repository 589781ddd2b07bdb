"""The web app's speed: upload to timeline, live-stream update latency, and concurrent uploads.

    python benchmarks/bench_app.py [--model default] [--quick] [--json PATH] [--out app.json]

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
markdown table and writes the harness's JSON (``--json``); ``--out`` also writes the raw figures.
``--quick``: an untrained tiny CNN-LSTM (1 s windows), a 0.5 min recording, a 4 s stream, up to
4 clients; not a test.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import json
import shutil
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
from benchmarks.harness import Bench, Stats, add_common_args  # noqa: E402


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
    return {"hop_s": ready["hop"], "updates": len(latencies), "latencies_s": latencies,
            "latency_median_s": statistics.median(latencies),
            "latency_p95_s": float(np.percentile(latencies, 95)),
            "model_compute_median_s": statistics.median(computes)}


def concurrent_uploads(server, data: bytes, clients: int) -> list:
    """Latencies of ``clients`` simultaneous uploads, in seconds."""
    import httpx

    barrier = threading.Barrier(clients)

    def one(_):
        with httpx.Client(base_url=server.url, timeout=600) as client:
            barrier.wait()
            return upload_seconds(client, "clip.wav", data)

    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(one, range(clients)))


def record(bench: Bench, results: dict) -> None:
    """The figures of ``results`` against their baselines of the same run."""
    for key, label in results["uploads"]:
        row = results[key]
        bench.compare(f"upload to timeline, {label}", Stats(row["upload_s"]), Stats(row["direct_s"]),
                      baseline_name="predict_long on the same file, in process", ratio="relative")
    stream = results["stream"]
    bench.compare(f"live update latency ({stream['updates']} updates)", Stats(stream["latencies_s"]),
                  Stats([stream["hop_s"]]), baseline_name="the hop (the next update is due)",
                  ratio="relative", target="< 1",
                  details={"p95_s": stream["latency_p95_s"], "model_compute_median_s": stream["model_compute_median_s"]})
    load = results["concurrent"]
    one = Stats(load[1])
    for n, latencies in load.items():
        if n > 1:
            bench.compare(f"{n} concurrent uploads of the 3 s clip", Stats(latencies), one,
                          baseline_name="one client alone", ratio="relative",
                          details={"holds_before_doubling": results["holds_before_doubling"]})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_common_args(parser)  # --data: accepted, unused (synthetic audio)
    parser.add_argument("--model", default=None,
                        help="'default', a run folder or a model file (default: 'default'; --quick: an untrained tiny CNN-LSTM)")
    parser.add_argument("--repeats", type=int, default=5, help="uploads of the 3 s clip timed")
    parser.add_argument("--long-minutes", type=float, default=10.0, help="length of the long recording")
    parser.add_argument("--stream-seconds", type=float, default=30.0, help="seconds streamed at real time")
    parser.add_argument("--max-clients", type=int, default=16, help="most concurrent uploads tried")
    parser.add_argument("--concurrency", type=int, default=2, help="the server's --concurrency")
    parser.add_argument("--out", help="also write the raw figures as JSON here")
    args = parser.parse_args(argv)
    if args.quick:
        args.long_minutes, args.stream_seconds, args.max_clients, args.repeats = 0.5, 4.0, 4, 2
    for flag in ("repeats", "max_clients", "concurrency"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be >= 1, got {getattr(args, flag)}")

    import httpx

    from ser_tf.app.__main__ import build_service
    from ser_tf.app.background import BackgroundServer
    from ser_tf.app.settings import AppSettings
    from ser_tf.utils.quiet import quiet_tensorflow

    quiet_tensorflow(False)
    bench = Bench.from_args("app", "the web page: upload, live-stream latency, concurrency", args)
    work = Path(tempfile.mkdtemp(prefix="ser_tf_bench_app_"))
    model_spec = args.model
    if model_spec is None:
        if args.quick:
            from benchmarks.fixtures import tiny_model_run

            model_spec = str(tiny_model_run(work))
        else:
            model_spec = "default"
    settings = AppSettings(model=model_spec, db_url=f"sqlite:///{work}/app.sqlite3", concurrency=args.concurrency,
                           max_duration_s=max(7200.0, args.long_minutes * 60 + 1))
    service = build_service(settings)
    model = service.analyzer.model
    clip, long = work / "clip.wav", work / "long.wav"
    clip.write_bytes(wav(speechlike(3.0)))
    long.write_bytes(wav(speechlike(args.long_minutes * 60, seed=1)))
    long_key = f"recording_{args.long_minutes:g}min"
    results = {"model": str(model.path), "arch": model.arch, "cores": __import__("os").cpu_count(),
               "uploads": [("clip_3s", "3 s clip"), (long_key, f"{args.long_minutes:g} min recording")]}

    with BackgroundServer(service) as server, httpx.Client(base_url=server.url, timeout=3600) as client:
        upload_seconds(client, "warm.wav", clip.read_bytes())  # first request: model id hashed, pools warm
        direct = [direct_seconds(model, clip) for _ in range(args.repeats)]
        served = [upload_seconds(client, "clip.wav", clip.read_bytes()) for _ in range(args.repeats)]
        results["clip_3s"] = {"upload_s": served, "direct_s": direct}
        results[long_key] = {"direct_s": [direct_seconds(model, long)],
                             "upload_s": [upload_seconds(client, "long.wav", long.read_bytes())]}
        stream = stream_latency(server, args.stream_seconds)
        stream["latency_over_hop"] = stream["latency_median_s"] / stream["hop_s"]
        results["stream"] = stream
        load = {}
        clients = 1
        while clients <= args.max_clients:  # one client alone: --repeats rounds, the baseline
            rounds = args.repeats if clients == 1 else 1
            load[clients] = [s for _ in range(rounds) for s in concurrent_uploads(server, clip.read_bytes(), clients)]
            clients *= 2
        results["concurrent"] = load
        one = statistics.median(load[1])
        results["holds_before_doubling"] = max(n for n, lat in load.items() if statistics.median(lat) < 2.0 * one)

    print(f"\nser_tf app on {results['cores']} cores, model {results['model']} ({results['arch']})\n")
    print("| measurement | app | baseline | ratio |\n|---|---|---|---|")
    for key, label in results["uploads"]:
        served, direct = (statistics.median(results[key][k]) for k in ("upload_s", "direct_s"))
        print(f"| upload to timeline, {label} | {served:.3f} s | {direct:.3f} s (predict_long in process) | "
              f"{served / direct:.2f} |")
    print(f"| live update latency, median (p95), {stream['updates']} updates | {stream['latency_median_s']:.3f} s "
          f"({stream['latency_p95_s']:.3f} s) | {stream['hop_s']} s (the hop) | {stream['latency_over_hop']:.2f} |")
    for n, latencies in load.items():
        print(f"| {n} concurrent uploads of the 3 s clip, median | {statistics.median(latencies):.3f} s | "
              f"{one:.3f} s (one client) | {statistics.median(latencies) / one:.2f} |")
    print(f"\nholds {results['holds_before_doubling']} concurrent uploads before the median latency doubles")

    record(bench, results)
    bench.note(f"Model {'an untrained tiny CNN-LSTM (quick run)' if args.quick and args.model is None else model_spec} "
               f"({results['arch']}); the server's --concurrency {args.concurrency}; speech-like audio, every "
               "window voiced (the worst case). Uploads of the 3 s clip: median of "
               f"{args.repeats} after one warm-up; the {args.long_minutes:g} min recording is timed once "
               "(tens of seconds each with the default model).")
    bench.note(f"Live stream: {args.stream_seconds:g} s sent at real time in 0.1 s chunks; the figure is every "
               "update's latency from the chunk that completed its window; target: below the hop.")
    bench.note(f"Concurrency: n clients upload the 3 s clip at once (a barrier); median latency against one "
               f"client ({args.repeats} rounds; each client opens its own connection). Holds "
               f"{results['holds_before_doubling']} clients before the median doubles.")
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2), encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    bench.write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
