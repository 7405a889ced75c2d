/**
 * The demo page: model, prompt, negative prompt, seed, steps, guidance and size → image, and a sketch pad whose
 * strokes steer the image through the sketch ControlNet as you draw (shown only when a ControlNet is loaded). Steps
 * and guidance start at what the server's manifest lists for the model (a multi-step teacher's 25 and 5), else one
 * step without guidance. Once an image is shown, changing a control renders again; the address follows the
 * controls, so a link reproduces the image. The download is the image's own PNG, with its generation parameters.
 * Everything heavy runs in the generation worker; this thread draws.
 */
import type { GenerateTimings } from '@sdxs/pipeline';
import { SdxsClient, SdxsWorkerError, type LoadedInfo, type WorkerImage, type WorkerRealtimeStream } from '@sdxs/runtime-web';
import { fetchManifest, sameFolder, settingsFor } from './manifest.js';
import { EXPLANATIONS, MessageBoard } from './messages.js';
import { describeProgress } from './progress.js';
import { defaultControlnet, ONE_STEP, readSettings, sizeOptions, writeSettings, type DemoControls } from './settings.js';
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
  model: $('#model', HTMLSelectElement),
  prompt: $('#prompt', HTMLTextAreaElement),
  negative: $('#negative', HTMLTextAreaElement),
  seed: $('#seed', HTMLInputElement),
  randomSeed: $('#random-seed', HTMLButtonElement),
  generate: $('#generate', HTMLButtonElement),
  steps: $('#steps', HTMLInputElement),
  guidance: $('#guidance', HTMLInputElement),
  size: $('#size', HTMLSelectElement),
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

// The server's /models.json: its models, the default one and each model's steps and guidance (none on a static host).
const manifest = await fetchManifest(new URL('models.json', document.baseURI).href);
const settings = readSettings(location.search, manifest);
const board = new MessageBoard(ui.messages);
const client = new SdxsClient(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'sdxs-generator' }));
let info: LoadedInfo | undefined;
/** The model and ControlNet loaded (or loading). */
let loaded = { model: settings.model, controlnet: settings.controlnet };
let size = settings.size ?? 512;
/** The loaded model's own size (a `size` equal to it stays out of the address). */
let modelSize: number | undefined;
let frames = 0;
let stream: WorkerRealtimeStream | undefined;
/** The image on the output canvas: what the download button saves. */
let shown: WorkerImage | undefined;
/** A generation is running; `again`: a control changed meanwhile, so render once more when it ends. */
let generating = false;
let again = false;

const pad = new SketchPad(ui.pad, () => onSketchChange());

function setState(state: 'loading' | 'ready' | 'busy' | 'failed'): void {
  document.body.dataset.state = state;
  ui.generate.disabled = state !== 'ready';
  ui.model.disabled = state === 'loading' || ui.model.options.length < 2;
  ui.size.disabled = state === 'loading' || state === 'failed';
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
function show(image: WorkerImage, ms: number, timings?: GenerateTimings): void {
  ui.output.width = image.width;
  ui.output.height = image.height;
  ui.output.getContext('2d')?.putImageData(image.imageData, 0, 0);
  shown = image;
  frames++;
  ui.output.dataset.frame = String(frames);
  // How the image on screen was made (A1111's infotext, as its PNG carries it), for whoever inspects the page.
  ui.output.dataset.infotext = image.infotext;
  ui.timing.dataset.ms = ms.toFixed(1);
  // The split (text encoder, denoise, decode), for whoever inspects the page.
  if (timings) ui.timing.dataset.timings = JSON.stringify(timings);
  else delete ui.timing.dataset.timings;
  ui.timing.textContent = `${ms.toFixed(0)} ms per image · ${info?.runtime ?? ''}`;
  ui.download.disabled = false;
  ui.progress.textContent = '';
}

/** Load the model (and its ControlNet) in the worker; `sizeWanted`: a size asked for (the address's), else the model's. */
async function load(sizeWanted: number | undefined): Promise<void> {
  setState('loading');
  board.clear('load');
  info = undefined;
  document.body.dataset.model = loaded.model;
  try {
    info = await client.load(
      {
        model: loaded.model,
        ...(loaded.controlnet !== undefined ? { controlnet: loaded.controlnet } : {}),
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
  const defaultSize = info.defaultSize?.width ?? 512;
  modelSize = defaultSize;
  size = sizeWanted ?? defaultSize;
  ui.size.replaceChildren(...sizeOptions(defaultSize, info.vaeScaleFactor, size).map((n) => new Option(`${n}×${n}`, String(n), n === defaultSize, n === size)));
  pad.resize(size, size);
  ui.sketch.hidden = !info.controlnet;
  ui.progress.textContent = `Ready (${(info.loadMs / 1000).toFixed(1)} s)`;
  setState('ready');
}

async function generate(): Promise<void> {
  if (!info) return;
  if (generating) {
    again = true;
    return;
  }
  generating = true;
  setState('busy');
  board.clear('generate');
  try {
    do {
      again = false;
      const useSketch = info.controlnet && !pad.isBlank;
      const request = { prompt: ui.prompt.value, negativePrompt: ui.negative.value, seed: currentSeed(), width: size, height: size, ...runSettings() };
      const image = await client.generate(useSketch ? { ...request, control: { image: pad.pixels(), mode: 'sketch', scale: controlScale() } } : request, {
        onProgress: (e) => showProgress(describeProgress(e)),
      });
      show(image, image.timings.totalMs, image.timings);
    } while (again);
  } catch (e) {
    showError('generate', e);
  } finally {
    generating = false;
    // A model chosen meanwhile may be loading: that load says when the page is ready.
    if (document.body.dataset.state === 'busy') setState('ready');
  }
}

/** The live stream: frames rendered as the pad changes, the newest only. */
function liveStream(): WorkerRealtimeStream {
  if (stream) return stream;
  const s = client.realtime({ prompt: ui.prompt.value, negativePrompt: ui.negative.value, seed: currentSeed(), width: size, height: size, ...runSettings(), controlMode: 'sketch', controlScale: controlScale() });
  stream = s;
  void (async () => {
    try {
      for await (const frame of s.images) {
        // A stream replaced (another size or model) still delivers the frame it had in flight: not shown.
        if (stream !== s) break;
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

/** The controls as the address records them. */
function controls(): DemoControls {
  return {
    model: loaded.model,
    controlnet: loaded.controlnet,
    prompt: ui.prompt.value,
    negativePrompt: ui.negative.value,
    seed: currentSeed(),
    ...runSettings(),
    size,
    defaultSize: modelSize,
  };
}

/** Keep the address in step with the controls (replacing the history entry: a control change is not a page). */
function syncAddress(): void {
  const search = writeSettings(location.search, controls(), manifest);
  if (search !== location.search) history.replaceState(history.state, '', `${location.pathname}${search}${location.hash}`);
}

/** The negative prompt only counts with guidance (above 1): dim it otherwise. */
function markNegative(): void {
  ui.negative.toggleAttribute('data-inactive', runSettings().guidanceScale <= 1);
}

/** A control changed: follow it in the address and render again — the live stream when a sketch is on the pad, else one image once one is shown. */
function onSettingsChange(): void {
  ui.strengthValue.value = controlScale().toFixed(2);
  markNegative();
  syncAddress();
  if (stream) {
    stream.update({ prompt: ui.prompt.value, negativePrompt: ui.negative.value, seed: currentSeed(), ...runSettings(), controlScale: controlScale(), controlMode: 'sketch' });
    if (!pad.isBlank) {
      ui.pad.dataset.pushed = String(stream.push(pad.pixels()));
      return;
    }
  }
  if (frames > 0 && info && document.body.dataset.state !== 'loading') void generate();
}

/** A new size: the stream (fixed to a size) is replaced; the pad keeps its drawing, scaled to the size as it renders. */
function onSizeChange(): void {
  const n = Number(ui.size.value);
  if (!Number.isInteger(n) || n <= 0 || n === size) return;
  size = n;
  closeStream();
  syncAddress();
  if (info?.controlnet && ui.live.checked && !pad.isBlank) ui.pad.dataset.pushed = String(liveStream().push(pad.pixels()));
  else if (frames > 0) void generate();
}

/** Another model: loaded with its ControlNet, steps, guidance and size; the prompt, negative prompt and seed stay. */
async function onModelChange(): Promise<void> {
  const model = ui.model.value;
  if (sameFolder(model, loaded.model)) return;
  closeStream();
  loaded = { model, controlnet: defaultControlnet(manifest, model) };
  const listed = settingsFor(manifest, model);
  ui.steps.value = String(listed?.steps ?? ONE_STEP.steps);
  ui.guidance.value = String(listed?.guidanceScale ?? ONE_STEP.guidanceScale);
  markNegative();
  await load(undefined);
  syncAddress();
  if (info && frames > 0) await generate();
}

function closeStream(): void {
  const s = stream;
  stream = undefined;
  void s?.close();
}

/** The model menu: the server's models, and the one loaded when the server does not list it (`?model=hf:…`). */
function fillModelMenu(): void {
  const listed = manifest?.models ?? [];
  const options = listed.map((m) => new Option(m.label, m.url));
  if (!listed.some((m) => sameFolder(m.url, loaded.model))) options.unshift(new Option(loaded.model, loaded.model));
  ui.model.replaceChildren(...options);
  ui.model.value = options.find((o) => sameFolder(o.value, loaded.model))?.value ?? loaded.model;
}

/** Save the image on screen as its own PNG: A1111's `parameters` and the sdxs record inside (a canvas export would drop them). */
async function download(): Promise<void> {
  const image = shown;
  if (!image) return;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(await image.toBlob());
  a.download = `sdxs-${image.parameters.seed ?? currentSeed()}.png`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
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
for (const el of [ui.seed, ui.prompt, ui.negative, ui.steps, ui.guidance]) el.addEventListener('change', onSettingsChange);
ui.size.addEventListener('change', onSizeChange);
ui.model.addEventListener('change', () => void onModelChange());
ui.download.addEventListener('click', () => void download().catch((e: unknown) => showError('download', e)));

ui.strengthValue.value = controlScale().toFixed(2);
if (settings.prompt !== undefined) ui.prompt.value = settings.prompt;
if (settings.negativePrompt !== undefined) ui.negative.value = settings.negativePrompt;
if (settings.seed !== undefined) ui.seed.value = String(settings.seed);
ui.steps.value = String(settings.steps ?? ONE_STEP.steps);
ui.guidance.value = String(settings.guidanceScale ?? ONE_STEP.guidanceScale);
markNegative();
fillModelMenu();
void load(settings.size);
