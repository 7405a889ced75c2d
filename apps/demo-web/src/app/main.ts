/**
 * The demo page: prompt and seed → image, and a sketch pad whose strokes steer the image through the sketch
 * ControlNet as you draw (shown only when a ControlNet is loaded). Steps and guidance start at what the server's
 * manifest lists for the model (a multi-step teacher's 25 and 5), else one step without guidance. Everything heavy
 * runs in the generation worker; this thread draws.
 */
import type { GenerateTimings, RealtimeStream } from '@sdxs/pipeline';
import { SdxsClient, SdxsWorkerError, toImageData, type LoadedInfo, type RgbaPixels } from '@sdxs/runtime-web';
import { fetchManifest } from './manifest.js';
import { EXPLANATIONS, MessageBoard } from './messages.js';
import { describeProgress } from './progress.js';
import { ONE_STEP, readSettings } from './settings.js';
import { SketchPad } from './sketch-pad.js';

function $<T extends HTMLElement>(selector: string, type: new () => T): T {
  const el = document.querySelector(selector);
  if (!(el instanceof type)) throw new Error(`the page has no ${selector}`);
  return el;
}

const ui = {
  backend: $('#backend', HTMLElement),
  messages: $('#messages', HTMLElement),
  progress: $('#progress', HTMLElement),
  form: $('#prompt-form', HTMLFormElement),
  prompt: $('#prompt', HTMLTextAreaElement),
  seed: $('#seed', HTMLInputElement),
  randomSeed: $('#random-seed', HTMLButtonElement),
  generate: $('#generate', HTMLButtonElement),
  steps: $('#steps', HTMLInputElement),
  guidance: $('#guidance', HTMLInputElement),
  sketch: $('#sketch', HTMLElement),
  pad: $('#pad', HTMLCanvasElement),
  pen: $('#tool-pen', HTMLInputElement),
  eraser: $('#tool-eraser', HTMLInputElement),
  undo: $('#undo', HTMLButtonElement),
  clear: $('#clear', HTMLButtonElement),
  strength: $('#strength', HTMLInputElement),
  strengthValue: $('#strength-value', HTMLOutputElement),
  live: $('#live', HTMLInputElement),
  output: $('#output', HTMLCanvasElement),
  timing: $('#timing', HTMLElement),
  download: $('#download', HTMLButtonElement),
};

// The server's /models.json: its default model and each model's steps and guidance (none on a static host).
const settings = readSettings(location.search, await fetchManifest(new URL('models.json', document.baseURI).href));
const board = new MessageBoard(ui.messages);
const client = new SdxsClient(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'sdxs-generator' }));
let info: LoadedInfo | undefined;
let size = settings.size ?? 512;
let frames = 0;
let stream: RealtimeStream | undefined;

const pad = new SketchPad(ui.pad, () => onSketchChange());

function setState(state: 'loading' | 'ready' | 'busy' | 'failed'): void {
  document.body.dataset.state = state;
  ui.generate.disabled = state !== 'ready';
}

function showError(key: string, e: unknown): void {
  if (e instanceof SdxsWorkerError) board.show(key, 'error', `${EXPLANATIONS[e.kind]} (${e.message})`, e.kind);
  else board.show(key, 'error', e instanceof Error ? e.message : String(e), 'page');
}

function showProgress(text: string | undefined): void {
  if (text !== undefined) ui.progress.textContent = text;
}

function currentSeed(): number {
  const n = Number(ui.seed.value);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

function controlScale(): number {
  return Number(ui.strength.value);
}

/** Steps and guidance from their inputs (a value that is not one falls back to one step, no guidance). */
function runSettings(): { steps: number; guidanceScale: number } {
  const steps = Number(ui.steps.value);
  const guidanceScale = Number(ui.guidance.value);
  return {
    steps: Number.isInteger(steps) && steps >= 1 ? steps : ONE_STEP.steps,
    guidanceScale: Number.isFinite(guidanceScale) && guidanceScale >= 0 ? guidanceScale : ONE_STEP.guidanceScale,
  };
}

/** Put an image on the output canvas and say how long it took on which backend. */
function show(image: RgbaPixels, ms: number, timings?: GenerateTimings): void {
  ui.output.width = image.width;
  ui.output.height = image.height;
  ui.output.getContext('2d')?.putImageData(toImageData(image), 0, 0);
  frames++;
  ui.output.dataset.frame = String(frames);
  ui.timing.dataset.ms = ms.toFixed(1);
  // The split (text encoder, denoise, decode), for whoever inspects the page.
  if (timings) ui.timing.dataset.timings = JSON.stringify(timings);
  else delete ui.timing.dataset.timings;
  ui.timing.textContent = `${ms.toFixed(0)} ms per image · ${info?.runtime ?? ''}`;
  ui.download.disabled = false;
  ui.progress.textContent = '';
}

async function load(): Promise<void> {
  setState('loading');
  try {
    info = await client.load(
      {
        model: settings.model,
        ...(settings.controlnet !== undefined ? { controlnet: settings.controlnet } : {}),
        backend: settings.backend,
        float16: settings.float16,
        cache: settings.cache,
        ...(settings.threads !== undefined ? { numThreads: settings.threads } : {}),
        // onnxruntime-web's files, copied next to the page at build time (never a CDN).
        wasmPaths: new URL('ort/', document.baseURI).href,
      },
      { onProgress: (e) => showProgress(describeProgress(e)) },
    );
  } catch (e) {
    showError('load', e);
    ui.backend.textContent = 'not loaded';
    ui.progress.textContent = '';
    setState('failed');
    return;
  }
  for (const note of info.notes) {
    const webgpu = note.startsWith('WebGPU is not available');
    board.show(webgpu ? 'webgpu' : note, webgpu ? 'warning' : 'info', note, webgpu ? 'webgpu-missing' : 'note');
  }
  const where = info.backend === 'webgpu' ? (info.report.webgpu.adapter ?? 'GPU') : `${info.threads} thread${info.threads === 1 ? '' : 's'}`;
  ui.backend.textContent = `${info.runtime} · ${info.dtype} · ${where}`;
  ui.backend.dataset.backend = info.backend;
  size = settings.size ?? info.defaultSize?.width ?? 512;
  pad.resize(size, size);
  ui.sketch.hidden = !info.controlnet;
  ui.progress.textContent = `Ready (${(info.loadMs / 1000).toFixed(1)} s)`;
  setState('ready');
}

async function generate(): Promise<void> {
  if (!info) return;
  setState('busy');
  board.clear('generate');
  try {
    const useSketch = info.controlnet && !pad.isBlank;
    const request = { prompt: ui.prompt.value, seed: currentSeed(), width: size, height: size, ...runSettings() };
    const result = await client.generate(useSketch ? { ...request, control: { image: pad.pixels(), mode: 'sketch', scale: controlScale() } } : request, {
      onProgress: (e) => showProgress(describeProgress(e)),
    });
    show({ width: result.imageData.width, height: result.imageData.height, data: result.imageData.data }, result.timings.totalMs, result.timings);
  } catch (e) {
    showError('generate', e);
  } finally {
    setState('ready');
  }
}

/** The live stream: frames rendered as the pad changes, the newest only. */
function liveStream(): RealtimeStream {
  if (stream) return stream;
  const s = client.realtime({ prompt: ui.prompt.value, seed: currentSeed(), width: size, height: size, ...runSettings(), controlMode: 'sketch', controlScale: controlScale() });
  stream = s;
  void (async () => {
    try {
      for await (const frame of s.images) {
        show(frame.image, frame.renderMs);
        // Which push this image answers: the page is up to date when it equals the pad's last push.
        ui.output.dataset.streamFrame = String(frame.frameId);
      }
    } catch (e) {
      showError('generate', e);
    } finally {
      if (stream === s) stream = undefined;
    }
  })();
  return s;
}

function onSketchChange(): void {
  ui.undo.disabled = !pad.canUndo;
  if (!info?.controlnet || !ui.live.checked || document.body.dataset.state === 'loading') return;
  // A cleared pad goes back to the text-only image.
  if (pad.isBlank) void generate();
  else ui.pad.dataset.pushed = String(liveStream().push(pad.pixels()));
}

function onSettingsChange(): void {
  ui.strengthValue.value = controlScale().toFixed(2);
  stream?.update({ prompt: ui.prompt.value, seed: currentSeed(), ...runSettings(), controlScale: controlScale(), controlMode: 'sketch' });
  if (stream && !pad.isBlank) ui.pad.dataset.pushed = String(stream.push(pad.pixels()));
}

ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  void generate();
});
ui.randomSeed.addEventListener('click', () => {
  ui.seed.value = String(Math.floor(Math.random() * 2 ** 32));
  onSettingsChange();
});
ui.pen.addEventListener('change', () => (pad.tool = 'pen'));
ui.eraser.addEventListener('change', () => (pad.tool = 'eraser'));
ui.undo.addEventListener('click', () => pad.undo());
ui.clear.addEventListener('click', () => pad.clear());
ui.strength.addEventListener('input', onSettingsChange);
ui.seed.addEventListener('change', onSettingsChange);
ui.prompt.addEventListener('change', onSettingsChange);
ui.steps.addEventListener('change', onSettingsChange);
ui.guidance.addEventListener('change', onSettingsChange);
ui.download.addEventListener('click', () => {
  ui.output.toBlob((blob) => {
    if (!blob) return;
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `sdxs-${currentSeed()}.png`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }, 'image/png');
});

ui.strengthValue.value = controlScale().toFixed(2);
if (settings.prompt !== undefined) ui.prompt.value = settings.prompt;
ui.steps.value = String(settings.steps ?? ONE_STEP.steps);
ui.guidance.value = String(settings.guidanceScale ?? ONE_STEP.guidanceScale);
document.body.dataset.model = settings.model;
void load();
