// Charts drawn on <canvas>: a recording's waveform over its emotion timeline, the live
// probability chart, and the history's trend. No library: a few rectangles and lines.

const GRID = "#e4e7ec";
const INK = "#5b6472";
const FONT = "12px system-ui, sans-serif";

// Sizes the canvas's backing store to its CSS box (sharp on high-DPI screens).
export function prepare(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || canvas.width;
  const height = canvas.clientHeight || canvas.height;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  ctx.font = FONT;
  return { ctx, width, height };
}

// The time each window owns: the part nearest its centre (as the server's alert rules count it).
export function ownedBounds(timeline) {
  const centres = timeline.map((w) => (w.start + w.end) / 2);
  const last = timeline.length - 1;
  return timeline.map((w, i) => [
    i === 0 ? w.start : (centres[i - 1] + centres[i]) / 2,
    i === last ? w.end : (centres[i] + centres[i + 1]) / 2,
  ]);
}

// Probability lines, one per class, over [top, top + height]; points are {x, probabilities}.
function probabilityLines(ctx, points, classes, colours, top, height) {
  ctx.strokeStyle = GRID;
  ctx.lineWidth = 1;
  for (const level of [0, 0.5, 1]) {
    const y = top + height * (1 - level);
    ctx.beginPath();
    ctx.moveTo(points.length ? points[0].x : 0, y);
    ctx.lineTo(points.length ? points[points.length - 1].x : 0, y);
    ctx.stroke();
  }
  ctx.lineWidth = 2;
  for (const name of classes) {
    ctx.strokeStyle = colours[name];
    ctx.beginPath();
    let drawing = false;
    for (const point of points) {
      if (!point.probabilities) { drawing = false; continue; }  // silence breaks the line
      const y = top + height * (1 - point.probabilities[name]);
      if (drawing) ctx.lineTo(point.x, y);
      else ctx.moveTo(point.x, y);
      drawing = true;
    }
    ctx.stroke();
  }
}

function timeAxis(ctx, duration, x, y, width) {
  const step = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600].find((s) => duration / s <= width / 70) || 1200;
  ctx.fillStyle = INK;
  for (let t = 0; t <= duration + 1e-9; t += step) {
    // The first and last labels lean inwards so the canvas edge does not cut them.
    ctx.textAlign = x(t) < 20 ? "left" : x(t) > width - 20 ? "right" : "center";
    ctx.fillText(`${+t.toFixed(1)} s`, x(t), y);
  }
}

// Layout of the recording chart (CSS pixels): waveform, emotion bands, probability lines, axis.
export const TIMELINE_ROWS = { wave: [8, 90], bands: [106, 28], lines: [146, 96], axis: 262 };

export function drawTimeline(canvas, recording, colours) {
  const { ctx, width } = prepare(canvas);
  const duration = recording.duration || recording.envelope.duration || 1;
  const x = (t) => (t / duration) * width;
  const [waveTop, waveHeight] = TIMELINE_ROWS.wave;

  // Waveform: one vertical bar per envelope bin, min to max. Square-root scaled, so quiet
  // speech next to one loud moment still shows its shape.
  const { mins, maxs } = recording.envelope;
  const mid = waveTop + waveHeight / 2;
  const peak = Math.max(1e-6, ...maxs.map(Math.abs), ...mins.map(Math.abs));
  const scaled = (v) => Math.sign(v) * Math.sqrt(Math.abs(v) / peak) * (waveHeight / 2);
  const binWidth = width / Math.max(1, mins.length);
  ctx.fillStyle = "#7a8494";
  mins.forEach((low, i) => {
    const top = mid - scaled(maxs[i]);
    const bottom = mid - scaled(low);
    ctx.fillRect(i * binWidth, top, Math.max(1, binWidth), Math.max(1, bottom - top));
  });

  // Emotion bands: each window's label over the time it owns.
  const [bandTop, bandHeight] = TIMELINE_ROWS.bands;
  const bounds = ownedBounds(recording.timeline);
  recording.timeline.forEach((w, i) => {
    ctx.fillStyle = colours[w.label] || "#cccccc";
    ctx.fillRect(x(bounds[i][0]), bandTop, Math.max(1, x(bounds[i][1]) - x(bounds[i][0])), bandHeight);
  });

  const [lineTop, lineHeight] = TIMELINE_ROWS.lines;
  const points = recording.timeline.map((w) => ({ x: x((w.start + w.end) / 2), probabilities: w.probabilities }));
  probabilityLines(ctx, points, recording.model.classes, colours, lineTop, lineHeight);
  timeAxis(ctx, duration, x, TIMELINE_ROWS.axis, width);
  return { duration, bounds, width };
}

// The live chart: the last updates' smoothed probabilities, newest on the right.
export function drawLive(canvas, updates, classes, colours, capacity) {
  const { ctx, width, height } = prepare(canvas);
  const step = width / Math.max(1, capacity - 1);
  const offset = capacity - updates.length;
  const points = updates.map((u, i) => ({ x: (offset + i) * step, probabilities: u.probabilities }));
  probabilityLines(ctx, points, classes, colours, 6, height - 12);
}

// Each period's shares of voiced time as a stacked bar, labelled with its first day.
export function drawTrend(canvas, rows, classes, colours) {
  const { ctx, width, height } = prepare(canvas);
  const bottom = height - 22;
  if (!rows.length) {
    ctx.fillStyle = INK;
    ctx.textAlign = "center";
    ctx.fillText("no recordings in this range yet", width / 2, height / 2);
    return;
  }
  ctx.strokeStyle = GRID;
  ctx.fillStyle = INK;
  ctx.textAlign = "left";
  for (const level of [0.5, 1]) {
    const y = bottom - level * (bottom - 8);
    ctx.beginPath();
    ctx.moveTo(0, y);
    ctx.lineTo(width, y);
    ctx.stroke();
    ctx.fillText(`${level * 100} %`, 2, y - 3);
  }
  const slot = width / rows.length;
  const barWidth = Math.min(56, slot * 0.7);
  rows.forEach((row, i) => {
    const left = i * slot + (slot - barWidth) / 2;
    let y = bottom;
    for (const name of classes) {
      const share = row.shares[name] || 0;
      const h = share * (bottom - 8);
      ctx.fillStyle = colours[name];
      ctx.fillRect(left, y - h, barWidth, h);
      y -= h;
    }
    ctx.fillStyle = INK;
    ctx.textAlign = "center";
    ctx.fillText(row.start.slice(5), left + barWidth / 2, height - 6);
  });
}
