// The draw-a-digit page: drawing, files and what is shown. Everything done to pixels (the
// MNIST-style preprocessing of `host predict --image`) and the network itself run in the
// WebAssembly module (web/src/lib.rs); this file only moves pixels and bytes to it.
import init, { Demo } from './pkg/lenet_web.js';

// The preprocessing's limits (lenet_preprocess::MAX_SIDE, MAX_PIXELS), checked here too so that
// no huge canvas is made for a picture the module would refuse.
const MAX_SIDE = 16384;
const MAX_PIXELS = 64 * 1024 * 1024;
// No LeNet blob comes near this; a larger dropped file is refused before it is read.
const MAX_MODEL_BYTES = 64 * 1024 * 1024;
const PICTURE_OPTIONS = { colorSpaceConversion: 'none', premultiplyAlpha: 'none' };

const $ = (id) => document.getElementById(id);
const pad = $('pad');
const ctx = pad.getContext('2d', { willReadFrequently: true });
const seen = $('seen').getContext('2d');

let demo = null; // the loaded model (a wasm `Demo`)
let modelName = '';
let inked = false; // something is on the pad
let picture = null; // the last loaded picture at its own size, until the pad is drawn on
let stroke = null; // the last point of the stroke being drawn
let queued = false; // a classification is waiting for the next frame
let last = { digit: null }; // what is shown, for window.lenetDemo

const useF32 = () => document.querySelector('input[name=precision]:checked').value === 'f32';

function showError(message) {
  $('error').textContent = message;
  $('error').hidden = !message;
}

function showAnswer(answer, ms, what) {
  if (!answer) {
    $('digit').innerHTML = '&nbsp;';
    $('top3').replaceChildren();
    seen.fillStyle = '#000';
    seen.fillRect(0, 0, 28, 28);
    $('timing').textContent = '';
    last = { digit: null };
    return;
  }
  const probs = answer.probabilities();
  const order = [...probs.keys()].sort((a, b) => probs[b] - probs[a]).slice(0, 3);
  $('digit').textContent = answer.digit;
  $('top3').replaceChildren(...order.map((d) => {
    const li = document.createElement('li');
    const label = document.createElement('span');
    label.className = 'label';
    label.textContent = d;
    const bar = document.createElement('span');
    bar.className = 'bar';
    bar.style.width = `${Math.max(probs[d] * 10, 0.1)}rem`;
    const pct = document.createElement('span');
    pct.textContent = `${(probs[d] * 100).toFixed(1)} %`;
    li.append(label, bar, pct);
    return li;
  }));
  const pixels = answer.pixels();
  const img = seen.createImageData(28, 28);
  pixels.forEach((v, i) => img.data.set([v, v, v, 255], i * 4));
  seen.putImageData(img, 0, 0);
  const net = useF32() ? 'f32' : 'int8';
  $('timing').textContent = `${what}: ${ms.toFixed(1)} ms for preprocessing and ${net} inference`;
  last = {
    digit: answer.digit,
    top3: order.map((d) => [d, probs[d]]),
    logitsI8: Array.from(answer.logitsI8()),
    pixels: Array.from(pixels),
    ms,
  };
  answer.free();
}

// Preprocesses and classifies RGBA pixels (a canvas's, or a decoded picture's) and shows the answer.
function classify(width, height, rgba, what) {
  if (!demo) return;
  const t0 = performance.now();
  let answer;
  try {
    answer = demo.classifyCanvas(width, height, rgba, useF32());
  } catch (e) {
    showAnswer(null);
    showError(`${what}: ${e.message}`);
    return;
  }
  const ms = performance.now() - t0;
  showError('');
  showAnswer(answer, ms, what);
}

function classifyPad() {
  queued = false;
  if (!inked) {
    showAnswer(null);
    return;
  }
  const img = ctx.getImageData(0, 0, pad.width, pad.height);
  classify(img.width, img.height, img.data, 'drawing');
}

// The current input again (after a model or precision change).
function rerun() {
  if (picture) classify(picture.width, picture.height, picture.data, picture.name);
  else classifyPad();
}

function clearPad() {
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, pad.width, pad.height);
  inked = false;
  picture = null;
  showError('');
  showAnswer(null);
}

// --- drawing with a mouse, a pen or a finger (pointer events) ---

ctx.lineCap = 'round';
ctx.lineJoin = 'round';

function at(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
}

function line(from, to) {
  ctx.strokeStyle = '#111';
  ctx.lineWidth = 18;
  ctx.beginPath();
  ctx.moveTo(...from);
  ctx.lineTo(...to);
  ctx.stroke();
}

function soon() {
  if (!queued) {
    queued = true;
    requestAnimationFrame(classifyPad);
  }
}

pad.addEventListener('pointerdown', (e) => {
  e.preventDefault();
  pad.setPointerCapture(e.pointerId);
  stroke = at(e);
  line(stroke, stroke);
  inked = true;
  picture = null;
  soon();
});
pad.addEventListener('pointermove', (e) => {
  if (!stroke) return;
  for (const ev of e.getCoalescedEvents ? e.getCoalescedEvents() : [e]) {
    const p = at(ev);
    line(stroke, p);
    stroke = p;
  }
  soon();
});
for (const type of ['pointerup', 'pointercancel']) {
  pad.addEventListener(type, () => {
    if (stroke) classifyPad();
    stroke = null;
  });
}
$('clear').addEventListener('click', clearPad);
for (const radio of document.querySelectorAll('input[name=precision]')) {
  radio.addEventListener('change', rerun);
}

// --- pictures and models from files ---

// Decodes a picture with the browser (no colour management, no premultiplied alpha: the pixels
// of the file) and classifies it at its own size; the pad shows it scaled to fit.
async function loadPicture(blob, name) {
  let bmp;
  try {
    bmp = await createImageBitmap(blob, PICTURE_OPTIONS);
  } catch {
    showError(`${name}: not a picture this browser can decode`);
    return;
  }
  const { width, height } = bmp;
  if (width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS) {
    showError(`${name}: ${width}x${height} pixels is too large (at most ${MAX_SIDE} per side, ${MAX_PIXELS} pixels)`);
    return;
  }
  const canvas = new OffscreenCanvas(width, height);
  const g = canvas.getContext('2d');
  g.drawImage(bmp, 0, 0);
  const img = g.getImageData(0, 0, width, height);
  clearPad();
  const scale = Math.min(pad.width / width, pad.height / height, 1);
  const [w, h] = [width * scale, height * scale];
  ctx.drawImage(bmp, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
  inked = true;
  picture = { width, height, data: img.data, name };
  rerun();
}

function updateModelInfo(bytes) {
  const nets = [demo.hasInt8() && 'int8', demo.hasF32() && 'f32'].filter(Boolean).join(' and ');
  $('model').textContent = `Model: ${modelName} (${bytes.toLocaleString('en')} bytes, ${nets}).`;
  const radios = document.querySelectorAll('input[name=precision]');
  for (const r of radios) r.disabled = r.value === 'f32' ? !demo.hasF32() : !demo.hasInt8();
  const checked = document.querySelector('input[name=precision]:checked');
  if (checked.disabled) [...radios].find((r) => !r.disabled).checked = true;
}

// Parses a blob with lenet-core's checks; a bad one is refused and the current model kept.
function loadModel(bytes, name) {
  let next;
  try {
    next = new Demo(bytes);
  } catch (e) {
    const keep = demo ? ` The page still uses ${modelName}.` : '';
    showError(`${name}: ${e.message}.${keep}`);
    return false;
  }
  if (demo) demo.free();
  demo = next;
  modelName = name;
  showError('');
  updateModelInfo(bytes.length);
  rerun();
  return true;
}

async function loadModelFile(file) {
  if (file.size > MAX_MODEL_BYTES) {
    showError(`${file.name}: ${file.size} bytes is too large to be a LeNet blob`);
    return;
  }
  loadModel(new Uint8Array(await file.arrayBuffer()), file.name);
}

function openFile(file) {
  if (file.type.startsWith('image/')) return loadPicture(file, file.name);
  return loadModelFile(file);
}

$('picture-file').addEventListener('change', (e) => {
  const f = e.target.files[0];
  if (f) loadPicture(f, f.name);
  e.target.value = '';
});
$('model-file').addEventListener('change', (e) => {
  const f = e.target.files[0];
  if (f) loadModelFile(f);
  e.target.value = '';
});
document.addEventListener('dragover', (e) => e.preventDefault());
document.addEventListener('drop', (e) => {
  e.preventDefault();
  const f = e.dataTransfer.files[0];
  if (f) openFile(f);
});

// --- start: the module, then the default model ---

clearPad();
const ready = (async () => {
  await init();
  // `host demo` serves the model here and names it in X-Model-Name.
  const response = await fetch('model.blob');
  if (!response.ok) throw new Error(`model.blob: HTTP ${response.status}`);
  const name = response.headers.get('X-Model-Name') || 'model.blob';
  loadModel(new Uint8Array(await response.arrayBuffer()), name);
})().catch((e) => showError(`The page could not start: ${e.message}`));

// Hooks for the browser test (host/tests/browser.rs) and for the curious, from the console.
window.lenetDemo = {
  ready,
  // What the page shows: digit, top 3, int8 logits, the 28x28 input, time, error, model.
  state: () => ({
    ...last,
    error: $('error').hidden ? null : $('error').textContent,
    model: $('model').textContent,
  }),
  // The int8 logits of a 28x28 input (784 values, 0 = background), without preprocessing.
  logitsI8(pixels) {
    const answer = demo.classifyPixels(Uint8Array.from(pixels), false);
    const logits = Array.from(answer.logitsI8());
    answer.free();
    return logits;
  },
  // Draws a picture (any URL, e.g. a data: URL) on the cleared pad at its own size, centred,
  // and classifies the pad as a drawing.
  async drawPicture(url) {
    const bmp = await createImageBitmap(await (await fetch(url)).blob(), PICTURE_OPTIONS);
    clearPad();
    const scale = Math.min(pad.width / bmp.width, pad.height / bmp.height, 1);
    const [w, h] = [bmp.width * scale, bmp.height * scale];
    ctx.drawImage(bmp, Math.round((pad.width - w) / 2), Math.round((pad.height - h) / 2), w, h);
    inked = true;
    classifyPad();
    return this.state();
  },
  // Median milliseconds of `n` inferences on the shown 28x28 input, and of `n` full
  // classifications of the pad (reading the canvas, preprocessing, inference).
  bench(n) {
    const input = Uint8Array.from(last.pixels);
    const f32 = useF32();
    const median = (run) => {
      const times = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        run();
        times.push(performance.now() - t0);
      }
      return times.sort((a, b) => a - b)[Math.floor(n / 2)];
    };
    return {
      inference: median(() => demo.classifyPixels(input, f32).free()),
      pad: median(() => {
        const img = ctx.getImageData(0, 0, pad.width, pad.height);
        demo.classifyCanvas(img.width, img.height, img.data, f32).free();
      }),
    };
  },
};
