// The microphone: a recording made in the browser (sent as a WAV file), and a live stream
// (float32 samples over a WebSocket to /api/stream, answered by two updates a second).

import { withToken } from "./api.js";

// The server reads WAV/FLAC/OGG/MP3, not the webm/ogg-opus MediaRecorder makes: decode, then
// write 16-bit PCM WAV here.
export function encodeWav(samples, sampleRate) {
  const buffer = new ArrayBuffer(44 + samples.length * 2);
  const view = new DataView(buffer);
  const text = (offset, s) => [...s].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);          // fmt chunk size
  view.setUint16(20, 1, true);           // PCM
  view.setUint16(22, 1, true);           // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);  // bytes per second
  view.setUint16(32, 2, true);           // bytes per frame
  view.setUint16(34, 16, true);          // bits per sample
  text(36, "data");
  view.setUint32(40, samples.length * 2, true);
  samples.forEach((v, i) => {
    const clipped = Math.max(-1, Math.min(1, v));
    view.setInt16(44 + i * 2, clipped < 0 ? clipped * 0x8000 : clipped * 0x7fff, true);
  });
  return new Blob([buffer], { type: "audio/wav" });
}

export function downmix(audioBuffer) {
  const mono = new Float32Array(audioBuffer.length);
  for (let c = 0; c < audioBuffer.numberOfChannels; c++) {
    const channel = audioBuffer.getChannelData(c);
    for (let i = 0; i < mono.length; i++) mono[i] += channel[i] / audioBuffer.numberOfChannels;
  }
  return mono;
}

function microphone() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error("this browser cannot use the microphone here (it needs https:// or localhost)");
  }
  return navigator.mediaDevices.getUserMedia({ audio: true });
}

// Records until stop() is called; stop() resolves to the recording as a mono WAV Blob.
export async function startRecording() {
  const media = await microphone();
  const recorder = new MediaRecorder(media);
  const parts = [];
  recorder.ondataavailable = (event) => event.data.size && parts.push(event.data);
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(250);
  return {
    async stop() {
      recorder.stop();
      await stopped;
      media.getTracks().forEach((track) => track.stop());
      const encoded = await new Blob(parts, { type: recorder.mimeType }).arrayBuffer();
      const context = new AudioContext();
      try {
        const decoded = await context.decodeAudioData(encoded);
        return encodeWav(downmix(decoded), decoded.sampleRate);
      } finally {
        context.close();
      }
    },
  };
}

// Streams the microphone; handlers: onReady(msg), onUpdate(msg), onSaved(recording), onError(text).
// stop() asks the server to analyse and keep what it heard; it then answers "saved".
export async function startStream({ name, storeAudio, onReady, onUpdate, onSaved, onError }) {
  const media = await microphone();
  const context = new AudioContext();
  await context.audioWorklet.addModule("/static/capture-worklet.js");
  const input = context.createMediaStreamSource(media);
  const capture = new AudioWorkletNode(context, "capture", { numberOfInputs: 1, numberOfOutputs: 1 });
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(withToken(`${scheme}//${location.host}/api/stream`));
  socket.binaryType = "arraybuffer";
  let finished = false;
  let released = false;

  const release = () => {
    if (released) return;
    released = true;
    input.disconnect();
    capture.port.onmessage = null;
    media.getTracks().forEach((track) => track.stop());
    if (context.state !== "closed") context.close();
  };
  socket.onopen = () => socket.send(JSON.stringify({
    type: "start", sample_rate: context.sampleRate, name, store_audio: storeAudio,
  }));
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "ready") {
      if (released) {  // stopped before the server was ready: nothing was heard
        socket.send(JSON.stringify({ type: "stop" }));
        return;
      }
      capture.port.onmessage = (chunk) => socket.readyState === WebSocket.OPEN && socket.send(chunk.data);
      input.connect(capture);
      // Chrome renders only what leads to the speakers; the node outputs silence.
      capture.connect(context.destination);
      onReady(message);
    } else if (message.type === "update") {
      onUpdate(message);
    } else if (message.type === "saved") {
      finished = true;
      onSaved(message.recording);
    } else if (message.type === "error") {
      finished = true;
      onError(message.detail);
    }
  };
  socket.onclose = (event) => {
    release();
    if (!finished) onError(`the stream closed (${event.code}${event.reason ? ": " + event.reason : ""})`);
  };
  return {
    stop() {
      release();
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "stop" }));
      else if (socket.readyState === WebSocket.CONNECTING) socket.onopen = () => socket.close();
    },
  };
}
