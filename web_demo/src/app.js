// The RePose-TF web demo: camera (or an image file) -> square window -> LiteRT.js -> heatmaps ->
// keypoints -> skeleton. Everything model-specific comes from the sidecar JSON beside the model.
// URL parameters (for links and tests): model=float16|int8, tracking=on|off, backend=auto|wasm|webgpu,
// camera=on|off, score=<threshold>.
import { isWebGPUSupported, loadAndCompile, loadLiteRt, Tensor } from '@litertjs/core';
import {
  TrackingCrop, cropWindow, decodeHeatmaps, defaultWindow, fromOutputTensor, inputToSource, letterbox,
  parseSidecar, toInputTensor,
} from './pose.js';
import { fixBatchToOne } from './tflite.js';

const MODEL_STEMS = { float16: 'repose_lsp14_float16', int8: 'repose_lsp14_int8' };
const RECORDS_KEPT = 200;
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
const ui = {
  stage: $('stage'), video: $('video'), picture: $('picture'), overlay: $('overlay'),
  backend: $('hud-backend'), model: $('hud-model'), ms: $('hud-ms'), fps: $('hud-fps'), crop: $('hud-crop'),
  modelSelect: $('model-select'), tracking: $('tracking-toggle'), score: $('score-threshold'),
  switchCamera: $('switch-camera'), file: $('file-input'), message: $('message'),
};

// State the tests read through window.repose (plain data only).
const state = {
  ready: false, // model loaded and compiled
  backend: null, // 'webgpu' | 'wasm'
  variant: null, // 'float16' | 'int8'
  sidecar: null, // the parsed sidecar
  mode: 'none', // 'camera' | 'image' | 'none'
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

async function loadModel(variant) {
  const token = ++loadToken;
  state.ready = false;
  const stem = MODEL_STEMS[variant];
  if (!stem) throw new Error(`unknown model '${variant}' (float16 or int8)`);
  ui.model.textContent = `${variant} (loading…)`;
  liteRtReady ||= loadLiteRt(new URL('vendor/litertjs/wasm/', location.href).href);
  await liteRtReady;
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
      model = await loadAndCompile(bytes, { accelerator });
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
  ui.backend.textContent = backend === 'webgpu' ? 'WebGPU' : 'wasm (XNNPACK)';
  ui.model.textContent = `${variant} · ${sc.keypointSet} · ${sc.inputSize}×${sc.inputSize}`;
  ui.modelSelect.value = variant;
  tracker.reset();
}

/** Runs the model on RGB floats (n x n x 3); returns {heatmaps, ms}. */
async function infer(pixels) {
  const { model, sc, outIndex } = compiled;
  const t0 = performance.now();
  let input = new Tensor(toInputTensor(pixels, sc.input), sc.input.shape);
  if (state.backend === 'webgpu') {
    const moved = await input.moveTo('webgpu');
    input = moved;
  }
  const outs = await model.run(input);
  input.delete();
  const cpu = await outs[outIndex].moveTo('wasm');
  const raw = cpu.toTypedArray().slice();
  cpu.delete();
  outs.forEach((t, i) => { if (i !== outIndex && !t.deleted) t.delete(); });
  const heatmaps = fromOutputTensor(raw, sc.output);
  return { heatmaps, ms: performance.now() - t0 };
}

// ------------------------------------------------------------------------------ one frame

async function runFrame(image, win, mode) {
  const sc = compiled.sc;
  const n = sc.inputSize;
  const pixels = cropWindow(image, win, n);
  const { heatmaps, ms } = await infer(pixels);
  const [, h, w, k] = sc.output.shape;
  const kp = decodeHeatmaps(heatmaps, h, w, k, sc.stride);
  const src = Array.from({ length: k }, (_, i) => inputToSource(win, n, kp.x[i], kp.y[i]));
  const rec = {
    frame: state.frames++, mode, variant: state.variant, backend: state.backend, tracking: ui.tracking.checked,
    width: image.width, height: image.height, window: { ...win }, inputSize: n, ms,
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

async function cameraLoop(token) {
  let fps = 0;
  let prev = performance.now();
  while (token === loopToken) {
    const v = ui.video;
    if (!state.ready || v.readyState < 2 || !v.videoWidth) {
      await new Promise((r) => setTimeout(r, 30));
      continue;
    }
    const w = v.videoWidth;
    const h = v.videoHeight;
    if (grab.width !== w || grab.height !== h) {
      grab.width = w;
      grab.height = h;
    }
    grabCtx.drawImage(v, 0, 0, w, h);
    const image = grabCtx.getImageData(0, 0, w, h);
    const crop = compiled.sc.crop;
    const win = ui.tracking.checked ? tracker.window(w, h, crop) : defaultWindow(crop, w, h);
    let rec;
    try {
      rec = await runFrame(image, win, 'camera');
    } catch (e) {
      fail(e);
      break;
    }
    if (token !== loopToken) break;
    if (ui.tracking.checked) {
      tracker.update(rec.source.map((p) => p[0]), rec.source.map((p) => p[1]), rec.score, w, h);
    }
    const now = performance.now();
    fps = fps ? 0.8 * fps + 0.2 * (1000 / (now - prev)) : 1000 / (now - prev);
    prev = now;
    ui.ms.textContent = `${rec.ms.toFixed(1)} ms`;
    ui.fps.textContent = fps.toFixed(1);
    ui.crop.textContent = ui.tracking.checked ? (tracker.locked ? 'tracking' : 'centre (searching)') : 'centre square';
    drawPose(rec, overlayFor(w, h), 1, 1);
    await new Promise((r) => requestAnimationFrame(r));
  }
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
  ui.ms.textContent = `${rec.ms.toFixed(1)} ms`;
  ui.fps.textContent = '–';
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
