// The RePose-TF web demo: camera (or an image file) -> square window -> LiteRT.js -> heatmaps ->
// keypoints -> skeleton. Everything model-specific comes from the sidecar JSON beside the model.
// URL parameters (for links and tests): model=float16|int8, tracking=on|off, backend=auto|wasm|webgpu,
// camera=on|off, score=<threshold>, threads=auto|off|<n>.
//
// Threads: LiteRT.js's threaded wasm build needs SharedArrayBuffer, which a browser only grants a
// cross-origin isolated page (COOP same-origin + COEP require-corp, as `python -m repose_tf.serve`
// sends). threads=auto (the default) loads that build with min(cores, MAX_AUTO_THREADS) threads
// when the page is isolated, else the single-threaded build; threads=off always the latter;
// threads=<n> asks for n (at most the core count: the wasm runtime pre-spawns one worker a core).
import { isWebGPUSupported, loadAndCompile, loadLiteRt, supportsFeature, Tensor } from '@litertjs/core';
import {
  TrackingCrop, cropWindow, decodeHeatmaps, defaultWindow, fromOutputTensor, inputToSource, letterbox,
  parseSidecar, toInputTensor,
} from './pose.js';
import { fixBatchToOne } from './tflite.js';

const MODEL_STEMS = { float16: 'repose_lsp14_float16', int8: 'repose_lsp14_int8' };
const RECORDS_KEPT = 200;
const MAX_AUTO_THREADS = 4; // a cap: a many-core machine keeps cores for the browser (rendering, camera)
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const ui = {
  stage: $('stage'), video: $('video'), picture: $('picture'), overlay: $('overlay'),
  backend: $('hud-backend'), model: $('hud-model'), ms: $('hud-ms'), frameMs: $('hud-frame-ms'), fps: $('hud-fps'),
  crop: $('hud-crop'), threads: $('hud-threads'),
  modelSelect: $('model-select'), tracking: $('tracking-toggle'), score: $('score-threshold'),
  switchCamera: $('switch-camera'), file: $('file-input'), message: $('message'),
};

// State the tests read through window.repose (plain data only).
const state = {
  ready: false, // model loaded and compiled
  backend: null, // 'webgpu' | 'wasm'
  runtime: null, // {build, threaded, threads, isolated, why}: the wasm runtime loaded (see startRuntime)
  variant: null, // 'float16' | 'int8'
  sidecar: null, // the parsed sidecar
  mode: 'none', // 'camera' | 'image' | 'none' (records also say 'benchmark': repose.benchmark())
  message: '', // the text shown in #message
  messageKind: '', // 'camera-denied' | 'no-camera' | 'model-missing' | 'error' | ''
  frames: 0, // frames run through the model
  records: [], // the last RECORDS_KEPT results (see record())
  errors: [], // uncaught errors / rejections seen by the page
};
let last = null; // {image, input, record} of the latest frame, for capture()
let compiled = null;
let liteRtReady = null;
let stream = null;
let facing = 'user';
let loopToken = 0;
let loadToken = 0;
const tracker = new TrackingCrop();
const grab = document.createElement('canvas');
const grabCtx = grab.getContext('2d', { willReadFrequently: true });

function showMessage(text, kind = '') {
  state.message = text;
  state.messageKind = kind;
  ui.message.textContent = text;
  ui.message.className = kind && kind !== 'info' ? 'error' : '';
}

window.addEventListener('error', (e) => {
  state.errors.push(String(e.message || e));
});
window.addEventListener('unhandledrejection', (e) => {
  state.errors.push(String(e.reason && e.reason.message ? e.reason.message : e.reason));
});

// -------------------------------------------------------------------------------- model

class ModelMissingError extends Error {}

async function fetchOrExplain(url, what) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ModelMissingError(`Cannot fetch ${what} ${url}: ${e.message}`);
  }
  if (!res.ok) {
    throw new ModelMissingError(
      `Model missing: ${url} (HTTP ${res.status}). Put the model and its sidecar in models/ ` +
      '(python tools/ship_model.py), or pick the other model.',
    );
  }
  return res;
}

function pickOutput(details, spec) {
  let i = details.findIndex((d) => d.name === spec.name);
  if (i < 0) i = details.findIndex((d) => d.index === spec.index);
  if (i < 0) i = details.findIndex((d) => d.shape.length === 4 && d.shape[3] === spec.shape[3]);
  if (i < 0) throw new Error(`the model has no output like the sidecar's '${spec.name}'`);
  return i;
}

function threadRequest() {
  const t = (params.get('threads') || 'auto').toLowerCase();
  const cores = navigator.hardwareConcurrency || 1;
  if (t === 'auto') return Math.max(1, Math.min(cores, MAX_AUTO_THREADS));
  if (t === 'off') return 1;
  const n = Number(t);
  if (!Number.isInteger(n) || n < 1) throw new Error(`threads=${t}: expected auto, off or a thread count`);
  return Math.min(n, cores);
}

/**
 * Loads the LiteRT.js wasm runtime once: threaded where asked for and possible (see the top).
 * Returns {build, threaded, threads, isolated, why}: why says, when set, why the page runs one
 * thread although more were asked for.
 */
async function startRuntime() {
  const dir = new URL('vendor/litertjs/wasm/', location.href).href;
  const wanted = threadRequest();
  const isolated = Boolean(globalThis.crossOriginIsolated);
  const relaxedSimd = await supportsFeature('relaxedSimd');
  const simd = relaxedSimd ? 'relaxed SIMD' : 'SIMD';
  let why = '';
  if (wanted > 1 && !isolated) {
    why = 'page not cross-origin isolated';
  } else if (wanted > 1 && !relaxedSimd) {
    why = 'no wasm relaxed SIMD'; // LiteRT.js ships its threaded build with relaxed SIMD only
  } else if (wanted > 1) {
    try {
      await loadLiteRt(dir, { threads: true });
      return { build: `${simd}, threaded`, threaded: true, threads: wanted, isolated, why };
    } catch (e) {
      why = `threaded build failed: ${e.message}`;
    }
  }
  if (why) {
    const hint = isolated ? '' : ' (serve the page with python -m repose_tf.serve: it sends COOP + COEP)';
    console.warn(`RePose: ${wanted} threads asked for, running 1: ${why}${hint}`);
  }
  await loadLiteRt(dir);
  return { build: simd, threaded: false, threads: 1, isolated, why };
}

async function loadModel(variant) {
  const token = ++loadToken;
  state.ready = false;
  const stem = MODEL_STEMS[variant];
  if (!stem) throw new Error(`unknown model '${variant}' (float16 or int8)`);
  ui.model.textContent = `${variant} (loading…)`;
  liteRtReady ||= startRuntime();
  state.runtime = await liteRtReady;
  const scJson = await (await fetchOrExplain(`models/${stem}.json`, 'sidecar')).json();
  const sc = parseSidecar(scJson);
  const bytes = new Uint8Array(await (await fetchOrExplain(`models/${sc.modelFile}`, 'model')).arrayBuffer());
  fixBatchToOne(bytes); // LiteRT.js wants static shapes; the export's batch is dynamic (-1)
  const wanted = params.get('backend') || 'auto';
  const order = wanted === 'wasm' ? ['wasm'] : wanted === 'webgpu' ? ['webgpu', 'wasm']
    : isWebGPUSupported() ? ['webgpu', 'wasm'] : ['wasm'];
  let model = null;
  let backend = null;
  let firstError = null;
  for (const accelerator of order) {
    try {
      model = await loadAndCompile(bytes, { accelerator, cpuOptions: { numThreads: state.runtime.threads } });
      backend = accelerator;
      break;
    } catch (e) {
      firstError ||= e;
      console.warn(`LiteRT.js: ${accelerator} failed (${e.message}); trying the next backend`);
    }
  }
  if (!model) throw firstError;
  if (token !== loadToken) {
    model.delete();
    return;
  }
  if (compiled) compiled.model.delete();
  compiled = { model, sc, outIndex: pickOutput(model.getOutputDetails(), sc.output) };
  Object.assign(state, { ready: true, backend, variant, sidecar: scJson });
  ui.backend.textContent = backend === 'webgpu' ? 'WebGPU' : `wasm (XNNPACK, ${state.runtime.build})`;
  const { threads, why } = state.runtime;
  ui.threads.textContent = backend === 'webgpu' ? '–' : why ? `${threads} (${why})` : String(threads);
  ui.model.textContent = `${variant} · ${sc.keypointSet} · ${sc.inputSize}×${sc.inputSize}`;
  ui.modelSelect.value = variant;
  tracker.reset();
}

/**
 * Runs the model on RGB floats (n x n x 3); returns {heatmaps, ms}: ms is the input tensor's
 * copy into the runtime, the run and the output's copy out (what native LiteRT's set_tensor +
 * invoke + get_tensor do).
 */
async function infer(pixels) {
  const { model, sc, outIndex } = compiled;
  const t0 = performance.now();
  let input = new Tensor(toInputTensor(pixels, sc.input), sc.input.shape);
  if (state.backend === 'webgpu') input = await input.moveTo('webgpu');
  const outs = await model.run(input);
  input.delete();
  // On wasm the output is already in host memory: read it there (a copy out of the wasm heap).
  const out = state.backend === 'webgpu' ? await outs[outIndex].moveTo('wasm') : outs[outIndex];
  const raw = out.toTypedArray().slice();
  out.delete();
  outs.forEach((t, i) => { if (i !== outIndex && !t.deleted) t.delete(); });
  const heatmaps = fromOutputTensor(raw, sc.output);
  return { heatmaps, ms: performance.now() - t0 };
}

// ------------------------------------------------------------------------------ one frame

/**
 * One frame through the model: crop, inference, decode. grabMs: what getting the frame's pixels
 * cost the caller (camera: drawImage + getImageData), counted in the record's frameMs.
 */
async function runFrame(image, win, mode, grabMs = 0) {
  const sc = compiled.sc;
  const n = sc.inputSize;
  const t0 = performance.now();
  const pixels = cropWindow(image, win, n);
  const t1 = performance.now();
  const { heatmaps, ms } = await infer(pixels);
  const t2 = performance.now();
  const [, h, w, k] = sc.output.shape;
  const kp = decodeHeatmaps(heatmaps, h, w, k, sc.stride);
  const t3 = performance.now();
  const src = Array.from({ length: k }, (_, i) => inputToSource(win, n, kp.x[i], kp.y[i]));
  const rec = {
    frame: state.frames++, mode, variant: state.variant, backend: state.backend, tracking: ui.tracking.checked,
    width: image.width, height: image.height, window: { ...win }, inputSize: n, ms,
    cropMs: t1 - t0, decodeMs: t3 - t2, frameMs: grabMs + (t3 - t0), threads: state.runtime.threads,
    input: Array.from(kp.x, (x, i) => [x, kp.y[i]]), score: Array.from(kp.score),
    source: src, time: performance.now(),
  };
  state.records.push(rec);
  if (state.records.length > RECORDS_KEPT) state.records.shift();
  last = { image, pixels, record: rec };
  return rec;
}

function drawPose(rec, ctx, scaleX, scaleY) {
  const sc = compiled.sc;
  const thr = Number(ui.score.value) || 0;
  const names = sc.keypointNames;
  const color = (i) => (names[i].startsWith('r_') ? '#ff8c00' : names[i].startsWith('l_') ? '#00a0ff' : '#3cc83c');
  ctx.lineWidth = 3;
  for (const [a, b] of sc.skeleton) {
    if (rec.score[a] < thr || rec.score[b] < thr) continue;
    ctx.strokeStyle = color(a) === color(b) ? color(a) : '#3cc83c';
    ctx.beginPath();
    ctx.moveTo((rec.source[a][0] + 0.5) * scaleX, (rec.source[a][1] + 0.5) * scaleY);
    ctx.lineTo((rec.source[b][0] + 0.5) * scaleX, (rec.source[b][1] + 0.5) * scaleY);
    ctx.stroke();
  }
  names.forEach((_, i) => {
    if (rec.score[i] < thr) return;
    ctx.fillStyle = color(i);
    ctx.beginPath();
    ctx.arc((rec.source[i][0] + 0.5) * scaleX, (rec.source[i][1] + 0.5) * scaleY, 4, 0, 2 * Math.PI);
    ctx.fill();
  });
  const wnd = rec.window;
  ctx.strokeStyle = rec.tracking && tracker.locked ? '#ffe066' : 'rgba(255,255,255,0.5)';
  ctx.lineWidth = 1.5;
  ctx.setLineDash([6, 4]);
  ctx.strokeRect((wnd.x0) * scaleX, (wnd.y0) * scaleY, wnd.side * scaleX, wnd.side * scaleY);
  ctx.setLineDash([]);
}

function overlayFor(width, height) {
  const o = ui.overlay;
  if (o.width !== width || o.height !== height) {
    o.width = width;
    o.height = height;
  }
  const ctx = o.getContext('2d');
  ctx.clearRect(0, 0, width, height);
  return ctx;
}

// -------------------------------------------------------------------------------- camera

function stopCamera() {
  loopToken++;
  if (stream) stream.getTracks().forEach((t) => t.stop());
  stream = null;
}

async function startCamera() {
  stopCamera();
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    showMessage('No camera API here (the page needs https or localhost). Choose an image file instead.', 'no-camera');
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: facing } }, audio: false });
  } catch (e) {
    stream = null;
    if (e.name === 'NotAllowedError' || e.name === 'SecurityError') {
      showMessage('Camera permission denied. Allow the camera and reload, or choose an image file below.', 'camera-denied');
    } else if (e.name === 'NotFoundError' || e.name === 'OverconstrainedError') {
      showMessage('No camera found. Choose an image file below instead.', 'no-camera');
    } else {
      showMessage(`Camera unavailable (${e.name}: ${e.message}). Choose an image file below instead.`, 'no-camera');
    }
    return;
  }
  const settings = stream.getVideoTracks()[0].getSettings();
  ui.stage.classList.toggle('mirrored', settings.facingMode === 'user');
  ui.video.hidden = false;
  ui.picture.hidden = true;
  ui.video.srcObject = stream;
  await ui.video.play();
  state.mode = 'camera';
  tracker.reset();
  showMessage('');
  cameraLoop(++loopToken);
}

/** The pixels of a video or canvas, through the grab canvas; returns {image, ms}. */
function grabFrame(source, w, h) {
  const t0 = performance.now();
  if (grab.width !== w || grab.height !== h) {
    grab.width = w;
    grab.height = h;
  }
  grabCtx.drawImage(source, 0, 0, w, h);
  const image = grabCtx.getImageData(0, 0, w, h);
  return { image, ms: performance.now() - t0 };
}

/** Lets the browser paint what the last frame drew before the next (blocking) inference starts. */
const nextPaint = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));

/** The live loop's frame rate: frames completed per second, smoothed (1 s half-life, roughly). */
class FrameRate {
  constructor() {
    this.fps = 0;
    this.prev = 0;
  }

  tick(now = performance.now()) {
    if (this.prev) {
      const f = 1000 / (now - this.prev);
      this.fps = this.fps ? 0.8 * this.fps + 0.2 * f : f;
    }
    this.prev = now;
    return this.fps;
  }
}

/**
 * One live frame: grab the source (video or canvas) -> window (tracking crop or the sidecar's
 * default) -> model -> tracker -> HUD and overlay. The camera loop and repose.benchmark() share it.
 */
async function liveFrame(source, w, h, mode, rate, token) {
  const grabbed = grabFrame(source, w, h);
  const crop = compiled.sc.crop;
  const win = ui.tracking.checked ? tracker.window(w, h, crop) : defaultWindow(crop, w, h);
  const rec = await runFrame(grabbed.image, win, mode, grabbed.ms);
  if (token !== loopToken) return null; // stopped meanwhile (an image was chosen, the camera switched)
  if (ui.tracking.checked) {
    tracker.update(rec.source.map((p) => p[0]), rec.source.map((p) => p[1]), rec.score, w, h);
  }
  const fps = rate.tick();
  showTimes(rec, fps);
  ui.crop.textContent = ui.tracking.checked ? (tracker.locked ? 'tracking' : 'centre (searching)') : 'centre square';
  drawPose(rec, overlayFor(w, h), 1, 1);
  return rec;
}

function showTimes(rec, fps) {
  ui.ms.textContent = `${rec.ms.toFixed(1)} ms`;
  ui.frameMs.textContent = `${rec.frameMs.toFixed(1)} ms`;
  ui.fps.textContent = fps ? fps.toFixed(1) : '–';
}

async function cameraLoop(token) {
  const rate = new FrameRate();
  while (token === loopToken) {
    const v = ui.video;
    if (!state.ready || v.readyState < 2 || !v.videoWidth) {
      await new Promise((r) => setTimeout(r, 30));
      continue;
    }
    try {
      await liveFrame(v, v.videoWidth, v.videoHeight, 'camera', rate, token);
    } catch (e) {
      fail(e);
      break;
    }
    if (token !== loopToken) break;
    await nextPaint();
  }
}

/**
 * The live loop on the picture on the page (an uploaded image, standing in for a camera frame),
 * for a measurement: `warmup` frames, then `frames` timed ones. Stops the camera. Returns the
 * per-frame times in ms (inference: tensor in + run + tensor out; frame: grab + crop + inference
 * + decode) and the loop's frames per second (frame plus the paint between frames), with the
 * runtime it ran on. tools/benchmark_web.py drives it.
 */
async function benchmark({ frames = 20, warmup = 3, tracking = false } = {}) {
  stopCamera();
  if (!state.ready) throw new Error('benchmark: the model is not loaded');
  const pic = ui.picture;
  if (state.mode !== 'image' || !pic.width) throw new Error('benchmark: load an image first (the file input)');
  ui.tracking.checked = tracking;
  tracker.reset();
  const token = ++loopToken;
  const rate = new FrameRate();
  const times = { inference: [], frame: [], crop: [], decode: [], grab: [] };
  let start = 0;
  for (let i = 0; i < warmup + frames; i++) {
    if (i === warmup) start = performance.now();
    const rec = await liveFrame(pic, pic.width, pic.height, 'benchmark', rate, token);
    if (!rec) throw new Error('benchmark: interrupted');
    if (i >= warmup) {
      times.inference.push(rec.ms);
      times.frame.push(rec.frameMs);
      times.crop.push(rec.cropMs);
      times.decode.push(rec.decodeMs);
      times.grab.push(rec.frameMs - rec.cropMs - rec.ms - rec.decodeMs);
    }
    await nextPaint();
  }
  const wallMs = performance.now() - start;
  return {
    variant: state.variant, backend: state.backend, runtime: { ...state.runtime },
    crossOriginIsolated: Boolean(globalThis.crossOriginIsolated), cores: navigator.hardwareConcurrency,
    width: pic.width, height: pic.height, frames, warmup, times, wallMs, fps: (1000 * frames) / wallMs,
  };
}

// ---------------------------------------------------------------------------- image file

async function runImageFile(file) {
  stopCamera();
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch (e) {
    showMessage(`Cannot read ${file.name} as an image (${e.message}).`, 'error');
    return;
  }
  const pic = ui.picture;
  pic.width = bitmap.width;
  pic.height = bitmap.height;
  const ctx = pic.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  const image = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  ui.video.hidden = true;
  pic.hidden = false;
  ui.stage.classList.remove('mirrored');
  state.mode = 'image';
  if (!state.ready) {
    showMessage('The model is not loaded, so the image cannot be analysed.', state.messageKind || 'error');
    return;
  }
  // The whole image padded to a square, as `python -m repose_tf.predict` without --box.
  let rec;
  try {
    rec = await runFrame(image, letterbox(image.width, image.height), 'image');
  } catch (e) {
    fail(e);
    return;
  }
  showTimes(rec, 0);
  ui.crop.textContent = 'whole image';
  drawPose(rec, overlayFor(image.width, image.height), 1, 1);
  showMessage(`${file.name}: ${image.width}×${image.height}`, 'info');
}

// ---------------------------------------------------------------------------------- wiring

function toBase64(bytes) {
  let s = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) s += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  return btoa(s);
}

window.repose = {
  state,
  /** The latest record with the exact RGBA frame and float input the model saw (base64). */
  capture() {
    if (!last) return null;
    const px = last.pixels;
    return {
      ...last.record,
      rgba: toBase64(new Uint8Array(last.image.data.buffer, last.image.data.byteOffset, last.image.data.byteLength)),
      pixels: toBase64(new Uint8Array(px.buffer, px.byteOffset, px.byteLength)),
    };
  },
  tracker,
  benchmark,
};

ui.tracking.checked = params.get('tracking') !== 'off';
if (params.get('score')) ui.score.value = params.get('score');
ui.tracking.addEventListener('change', () => tracker.reset());
ui.switchCamera.addEventListener('click', () => {
  facing = facing === 'user' ? 'environment' : 'user';
  startCamera();
});
ui.file.addEventListener('change', () => {
  if (ui.file.files && ui.file.files[0]) runImageFile(ui.file.files[0]).catch(fail);
});
ui.modelSelect.addEventListener('change', () => switchModel(ui.modelSelect.value));

function fail(e) {
  if (e instanceof ModelMissingError) {
    showMessage(e.message, 'model-missing');
  } else {
    console.error(e);
    showMessage(`Error: ${e.message}`, 'error');
  }
}

async function switchModel(variant) {
  try {
    await loadModel(variant);
    if (state.messageKind === 'model-missing') showMessage('');
  } catch (e) {
    state.ready = false;
    ui.model.textContent = `${variant} (not loaded)`;
    fail(e);
  }
}

await switchModel(params.get('model') || 'float16');
if (params.get('camera') !== 'off') {
  const missing = state.messageKind === 'model-missing' ? state.message : '';
  await startCamera();
  if (missing && !state.message) showMessage(missing, 'model-missing');
}
