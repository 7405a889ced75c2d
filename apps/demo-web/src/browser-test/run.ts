/**
 * `pnpm test:browser`: build the demo, serve it with the golden model folders, and drive headless Chromium
 * on both backends — WASM (no GPU: the page must say WebGPU is missing and fall back) and WebGPU (Chromium's
 * SwiftShader adapter). Typed prompt → image equal to the Node pipeline's for the same seed within 2/255; a
 * stroke on the sketch pad → a new image, equal to Node's ControlNet pipeline on the same pad pixels; under
 * the production CSP (no 'unsafe-eval'), cross-origin isolated (WebAssembly threads); clear messages for a
 * missing WebGPU and a model that fails to load. Served as `pnpm demo` serves it with no model named, the page
 * loads the embedded sdxs-micro and runs it with its steps and guidance, text only: one 64×64 image, equal to
 * Node's; its controls (steps, guidance, negative prompt, size, the model menu) each render Node's image for their
 * settings, the address follows them, and the download is the PNG with the request's `parameters` text
 * (controls.ts). Screenshots and a JSON report go to artifacts/browser-test/.
 * Exit code 0 when every check passes.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { build, createServer, preview } from 'vite';
import { defaultDemoModel, demoModels } from '../server/demo-models.js';
import { materializeGoldenModels } from '../server/golden-models.js';
import { demoViteConfig } from '../server/vite-config.js';
import { checkBundle } from './bundle-check.js';
import { launchChromium } from './chromium.js';
import { controlsRun } from './controls.js';
import { canvasPixels, drawStroke, frameCount, pageMessages, waitFrame, waitLiveCaughtUp, waitLoaded } from './page.js';
import { changedFraction, maxChannelDiff, nodeReference, nodeTextReference, type NodeReference, type NodeTextReference } from './reference.js';

const ARTIFACTS = fileURLToPath(new URL('../../../../artifacts/browser-test/', import.meta.url));
const PROMPT = 'a photo of a cat';
const SEED = 42;
const SCALE = 0.8;
/**
 * Image side per backend: the golden model's default (sample_size 16 × the tiny VAE's 8) on WASM; half that on
 * SwiftShader's WebGPU, which emulates the GPU on the CPU and takes over a minute per 128² image (the run checks
 * correctness; speed is measured on real GPUs).
 */
const SIZES = { wasm: 128, webgpu: 64 } as const;
const LOAD_MS = 180_000;
const RUN_MS = 300_000;

interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

const checks: Check[] = [];
const measurements: Record<string, unknown> = {};

function check(name: string, ok: boolean, detail = ''): boolean {
  checks.push({ name, ok, detail });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);
  return ok;
}

async function attempt(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    check(name, false, e instanceof Error ? (e.stack ?? e.message) : String(e));
  }
}

/** Console errors of the page and its workers (CSP violations are reported there). */
function collectConsole(page: Page): string[] {
  const lines: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') lines.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
  page.on('worker', (w) => w.on('console', (m) => m.type() === 'error' && lines.push(`worker error: ${m.text()}`)));
  return lines;
}

async function backendRun(base: string, backend: 'wasm' | 'webgpu', ref: NodeReference): Promise<void> {
  const browser = await launchChromium({ webgpu: backend === 'webgpu' });
  try {
    const page = await browser.context.newPage();
    const consoleLines = collectConsole(page);
    // Whole-file downloads of weights (Range reads of headers aside), from the page and its workers.
    const weightGets: string[] = [];
    browser.context.on('request', (r) => {
      if (r.method() === 'GET' && r.url().endsWith('.safetensors') && !r.headers().range) weightGets.push(r.url());
    });
    // WASM: 'auto' on a browser without an adapter must fall back and say so. WebGPU: asked for explicitly.
    const size = SIZES[backend];
    const query = backend === 'wasm' ? '?backend=auto' : `?backend=webgpu&size=${size}`;
    const t0 = performance.now();
    await page.goto(`${base}/${query}`);
    const state = await waitLoaded(page, LOAD_MS);
    const loadMs = performance.now() - t0;
    const label = (await page.textContent('#backend')) ?? '';
    const messages = await pageMessages(page);
    if (!check(`${backend}: page loads the model`, state === 'ready', `${label}; ${(loadMs / 1000).toFixed(1)} s; messages ${JSON.stringify(messages)}`)) return;
    check(`${backend}: runs on onnxruntime-web/${backend}`, label.startsWith(`onnxruntime-web/${backend}`), label);
    const env = await page.evaluate(() => ({ isolated: crossOriginIsolated, cores: navigator.hardwareConcurrency }));
    check(`${backend}: cross-origin isolated (WebAssembly threads possible)`, env.isolated, JSON.stringify(env));
    if (backend === 'wasm') {
      check('wasm: the page says WebGPU is missing', messages.some((m) => m.kind === 'webgpu-missing' && m.level === 'warning'), JSON.stringify(messages));
      check('wasm: WebAssembly runs with threads', /\b([2-9]|\d\d+) threads\b/.test(label) || env.cores < 2, label);
    }

    // Prompt → image, compared with the Node pipeline.
    await page.fill('#prompt', PROMPT);
    await page.fill('#seed', String(SEED));
    const before = await frameCount(page);
    const tGen = performance.now();
    await page.click('#generate');
    await waitFrame(page, before, RUN_MS);
    const firstMs = performance.now() - tGen;
    const text = await canvasPixels(page, '#output');
    const expected = await ref.text({ prompt: PROMPT, seed: SEED, size });
    const diff = maxChannelDiff(text, expected);
    check(`${backend}: prompt image (${size}²) equals Node's (seed ${SEED}) within 2/255`, diff <= 2, `max |browser − node| = ${diff}/255`);
    const timing = (await page.textContent('#timing')) ?? '';
    check(`${backend}: time and backend shown`, /\d+ ms per image · onnxruntime-web\//.test(timing), timing);
    const times: Record<string, unknown> = { size, first_click_to_image_ms: Math.round(firstMs), first: JSON.parse((await page.getAttribute('#timing', 'data-timings')) ?? 'null') };
    if (backend === 'wasm') {
      // A second generation: the sessions exist, so this is the steady per-image time.
      const before2 = await frameCount(page);
      await page.click('#generate');
      await waitFrame(page, before2, RUN_MS);
      times.second = JSON.parse((await page.getAttribute('#timing', 'data-timings')) ?? 'null');
    }
    measurements[`${backend}_prompt`] = times;
    await page.screenshot({ path: join(ARTIFACTS, `${backend}-prompt.png`), fullPage: true });

    // A stroke on the sketch pad → the live stream renders the sketch ControlNet's image.
    if (!check(`${backend}: sketch pad shown (ControlNet loaded)`, await page.isVisible('#pad'))) return;
    await drawStroke(page, [0.2, 0.25], [0.8, 0.7]);
    await waitLiveCaughtUp(page, RUN_MS);
    const sketched = await canvasPixels(page, '#output');
    const pad = await canvasPixels(page, '#pad');
    const changed = changedFraction(sketched.data, text.data);
    check(`${backend}: drawing a stroke gives a new image`, changed > 0.01, `${(changed * 100).toFixed(1)}% of pixels changed`);
    const expectedSketch = await ref.sketch({ prompt: PROMPT, seed: SEED, size, pad, scale: SCALE });
    const sketchDiff = maxChannelDiff(sketched, expectedSketch);
    check(`${backend}: sketch image equals Node's ControlNet pipeline within 2/255`, sketchDiff <= 2, `max |browser − node| = ${sketchDiff}/255`);
    measurements[`${backend}_sketch_render_ms`] = Number(await page.getAttribute('#timing', 'data-ms'));
    await page.screenshot({ path: join(ARTIFACTS, `${backend}-sketch.png`), fullPage: true });

    // Under the CSP eval is refused — and nothing the page ran needed it.
    const csp = consoleLines.filter((l) => /Content Security Policy/i.test(l));
    check(`${backend}: no CSP violations`, csp.length === 0, csp.join(' | ') || 'none');
    // Code evaluated by the test itself is exempt (DevTools protocol), so the probe makes the page evaluate a string.
    const probe = await page.evaluate(
      () =>
        new Promise<string[]>((resolve) => {
          const seen: string[] = [];
          document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`));
          const w: { setTimeout(code: string, ms: number): number } = window;
          w.setTimeout('document.body.dataset.evaluated = "yes"', 0);
          setTimeout(() => resolve(document.body.dataset.evaluated === 'yes' ? ['evaluated'] : seen), 300);
        }),
    );
    check(`${backend}: the CSP is enforced (string evaluation refused)`, probe.some((v) => v.startsWith('script-src') && v.endsWith('eval')), probe.join(', '));
    const errors = consoleLines.filter((l) => !/Content Security Policy/i.test(l) && l.startsWith('pageerror'));
    check(`${backend}: no uncaught page errors`, errors.length === 0, errors.join(' | ') || 'none');

    if (backend === 'wasm') {
      // The next visit: weights come from Cache Storage (no download), and the same seed gives the same image.
      check('wasm: the first visit downloads each weight file', weightGets.length >= 3, weightGets.map((u) => new URL(u).pathname).join(', '));
      weightGets.length = 0;
      await page.reload();
      if (check('wasm: reloads', (await waitLoaded(page, LOAD_MS)) === 'ready')) {
        await page.fill('#prompt', PROMPT);
        await page.fill('#seed', String(SEED));
        await page.click('#generate');
        await waitFrame(page, 0, RUN_MS);
        const again = await canvasPixels(page, '#output');
        check('wasm: after a reload, weights come from Cache Storage', weightGets.length === 0, weightGets.join(', ') || 'no weight downloads');
        check('wasm: after a reload, the same seed gives the same image', maxChannelDiff(again, expected) <= 2);
      }
    }
  } finally {
    await browser.close();
  }
}

/** Failures the page must explain: WebGPU asked for where there is none, and a model folder that is not there. */
async function messageRuns(base: string): Promise<void> {
  const browser = await launchChromium({ webgpu: false });
  try {
    const page = await browser.context.newPage();
    await page.goto(`${base}/?backend=webgpu`);
    await waitLoaded(page, LOAD_MS);
    const noGpu = await pageMessages(page);
    check('message: WebGPU requested but missing', noGpu.some((m) => m.kind === 'webgpu-unavailable' && m.level === 'error' && /WebGPU is not available/.test(m.text)), JSON.stringify(noGpu));
    await page.screenshot({ path: join(ARTIFACTS, 'message-webgpu-missing.png') });
    await page.goto(`${base}/?backend=wasm&model=/models/missing/&controlnet=`);
    await waitLoaded(page, LOAD_MS);
    const missing = await pageMessages(page);
    check('message: model folder fails to load', missing.some((m) => m.kind === 'model-load' && /could not be loaded/.test(m.text) && /models\/missing/.test(m.text)), JSON.stringify(missing));
    await page.screenshot({ path: join(ARTIFACTS, 'message-model-load.png') });
  } finally {
    await browser.close();
  }
}

/**
 * The build served as `pnpm demo` serves it with no model named: the page, opened without `?model=`, loads the
 * embedded model with its steps and guidance (from /models.json) and renders one image equal to Node's pipeline run
 * with the same settings; with the model's own controlnet/ its sketch pad redraws from a stroke as Node's
 * ControlNet pipeline does (without one the pad is hidden).
 */
async function embeddedRun(dist: string): Promise<void> {
  const embedded = defaultDemoModel();
  const prompt = 'a red circle on a blue background';
  const size = 64;
  const server = await preview(demoViteConfig({ models: demoModels({}).models, outDir: dist, port: 0 }));
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let ref: NodeTextReference | undefined;
  try {
    browser = await launchChromium({ webgpu: false });
    const port = (server.httpServer.address() as AddressInfo | null)?.port;
    const page = await browser.context.newPage();
    const consoleLines = collectConsole(page);
    const folders = new Set<string>();
    browser.context.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/models/')) folders.add(path.split('/')[2] ?? '');
    });
    await page.goto(`http://127.0.0.1:${port}/?backend=wasm`);
    const state = await waitLoaded(page, LOAD_MS);
    const label = (await page.textContent('#backend')) ?? '';
    if (!check('embedded: the page loads without ?model=', state === 'ready', `${label}; messages ${JSON.stringify(await pageMessages(page))}`)) return;
    const model = await page.evaluate(() => document.body.dataset.model);
    check('embedded: the default model is the embedded one, served by the app', model === '/models/micro/' && [...folders].join() === 'micro', `${model}; folders requested: ${[...folders].join(', ')}`);
    const run = { steps: Number(await page.inputValue('#steps')), guidanceScale: Number(await page.inputValue('#guidance')) };
    check(`embedded: steps and guidance are the model's (${embedded.steps}, ${embedded.guidanceScale})`, run.steps === embedded.steps && run.guidanceScale === embedded.guidanceScale, JSON.stringify(run));
    const hasPad = await page.isVisible('#pad');
    check(`embedded: the sketch pad is ${embedded.controlnet ? 'shown (its controlnet/ loaded)' : 'hidden (no ControlNet)'}`, hasPad === (embedded.controlnet !== undefined));
    await page.fill('#prompt', prompt);
    await page.fill('#seed', String(SEED));
    const t0 = performance.now();
    await page.click('#generate');
    await waitFrame(page, 0, RUN_MS);
    measurements.embedded_prompt = { size, click_to_image_ms: Math.round(performance.now() - t0), timings: JSON.parse((await page.getAttribute('#timing', 'data-timings')) ?? 'null') };
    await page.screenshot({ path: join(ARTIFACTS, 'embedded-prompt.png'), fullPage: true });
    const image = await canvasPixels(page, '#output');
    ref = await nodeTextReference(embedded.path);
    const expected = await ref.text({ prompt, seed: SEED, size, steps: embedded.steps, guidanceScale: embedded.guidanceScale });
    const diff = image.width === size && image.height === size ? maxChannelDiff(image, expected) : Infinity;
    check(`embedded: "${prompt}" gives a ${size}² image equal to Node's (${embedded.steps} steps, guidance ${embedded.guidanceScale}) within 2/255`, diff <= 2, `${image.width}×${image.height}; max |browser − node| = ${diff}/255`);
    if (embedded.controlnet && hasPad) {
      // A stroke on the pad → the one-step sketch ControlNet's image, equal to Node's on the same pad pixels.
      await drawStroke(page, [0.2, 0.25], [0.8, 0.7]);
      await waitLiveCaughtUp(page, RUN_MS);
      const sketched = await canvasPixels(page, '#output');
      const pad = await canvasPixels(page, '#pad');
      check('embedded: drawing a stroke gives a new image', changedFraction(sketched.data, image.data) > 0.01);
      const sketchRef = await nodeReference(embedded.path, embedded.controlnet);
      try {
        const expectedSketch = await sketchRef.sketch({ prompt, seed: SEED, size, pad, scale: SCALE });
        const sketchDiff = maxChannelDiff(sketched, expectedSketch);
        check("embedded: sketch image equals Node's ControlNet pipeline within 2/255", sketchDiff <= 2, `max |browser − node| = ${sketchDiff}/255`);
      } finally {
        await sketchRef.dispose();
      }
      measurements.embedded_sketch_render_ms = Number(await page.getAttribute('#timing', 'data-ms'));
      // Sustained rate while the pen keeps moving (a measurement, not a check): strokes for 3 s, frames counted.
      const frameOf = () => page.evaluate(() => Number(document.querySelector<HTMLCanvasElement>('#output')?.dataset.frame ?? 0));
      const f0 = await frameOf();
      const tDraw = performance.now();
      for (let k = 0; performance.now() - tDraw < 3000; k++) await drawStroke(page, [0.1 + (k % 7) * 0.1, 0.2], [0.3 + (k % 5) * 0.1, 0.8], 6);
      const frames = (await frameOf()) - f0;
      const drawMs = performance.now() - tDraw;
      await waitLiveCaughtUp(page, RUN_MS);
      measurements.embedded_sketch_sustained = { frames, seconds: +(drawMs / 1000).toFixed(2), frames_per_s: +(frames / (drawMs / 1000)).toFixed(1) };
      await page.screenshot({ path: join(ARTIFACTS, 'embedded-sketch.png'), fullPage: true });
    }
    // Console errors too: a request for a ControlNet the server does not have would show here as a 404.
    const errors = consoleLines.filter((l) => !l.startsWith('warning'));
    check('embedded: no page or console errors', errors.length === 0, errors.join(' | ') || 'none');
    const tControls = performance.now();
    const context = browser.context;
    await attempt('controls run', () => controlsRun(context, `http://127.0.0.1:${port}`, ARTIFACTS, check));
    measurements.controls_run_ms = Math.round(performance.now() - tControls);
  } finally {
    await ref?.dispose();
    await browser?.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
}

function rawStatus(base: string, path: string): Promise<number> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** `pnpm demo`'s dev server: the page loads with threads and generates (sources served by Vite, /ort/ by our middleware). */
async function devServerRun(models: Record<string, string>, linkRoots: readonly string[], ref: NodeReference): Promise<void> {
  const server = await createServer(demoViteConfig({ models, linkRoots, dev: true, port: 0 }));
  await server.listen();
  const browser = await launchChromium({ webgpu: false });
  try {
    const port = (server.httpServer?.address() as AddressInfo | null)?.port;
    const page = await browser.context.newPage();
    await page.goto(`http://127.0.0.1:${port}/?backend=wasm`);
    const state = await waitLoaded(page, LOAD_MS);
    const label = (await page.textContent('#backend')) ?? '';
    if (!check('dev server: the page loads', state === 'ready', label)) return;
    check('dev server: WebAssembly threads (COEP on every response)', /\b([2-9]|\d\d+) threads\b/.test(label) || !(await page.evaluate(() => navigator.hardwareConcurrency > 1)), label);
    await page.fill('#seed', String(SEED));
    await page.click('#generate');
    await waitFrame(page, 0, RUN_MS);
    const diff = maxChannelDiff(await canvasPixels(page, '#output'), await ref.text({ prompt: PROMPT, seed: SEED, size: SIZES.wasm }));
    check('dev server: generates the Node image', diff <= 2, `max diff ${diff}/255`);
  } finally {
    await browser.close();
    await server.close();
  }
}

async function serverChecks(base: string): Promise<void> {
  const page = await fetch(`${base}/`);
  const csp = page.headers.get('content-security-policy') ?? '';
  check('server: CSP without unsafe-eval', /script-src 'self' 'wasm-unsafe-eval'/.test(csp) && /worker-src 'self'/.test(csp) && !/'unsafe-eval'/.test(csp), csp);
  check('server: COOP/COEP', page.headers.get('cross-origin-opener-policy') === 'same-origin' && page.headers.get('cross-origin-embedder-policy') === 'require-corp');
  const range = await fetch(`${base}/models/sdxs/unet/diffusion_pytorch_model.safetensors`, { headers: { Range: 'bytes=0-7' } });
  check('server: model files answer ranges', range.status === 206 && (await range.arrayBuffer()).byteLength === 8, `HTTP ${range.status} ${range.headers.get('content-range')}`);
  // Raw requests: fetch() would normalise dot segments before sending them. Plain and %2e dot segments resolve
  // above /models/ as URL paths (404 there); encoded slashes and backslashes are refused inside it (403).
  for (const bad of ['../../../../etc/passwd', '%2e%2e/%2e%2e/%2e%2e/etc/passwd', '..%2F..%2F..%2Fetc%2Fpasswd', 'unet/..%5C..%5Cx', '%00x']) {
    const status = await rawStatus(base, `/models/sdxs/${bad}`);
    check(`server: refuses /models/sdxs/${bad}`, status === 403 || status === 404, `HTTP ${status}`);
  }
  const unknown = await fetch(`${base}/models/missing/model_index.json`);
  check('server: an unknown model folder is a 404', unknown.status === 404, `HTTP ${unknown.status}`);
  const cross = await fetch(`${base}/models/sdxs/model_index.json`, { headers: { 'Sec-Fetch-Site': 'cross-site' } });
  check('server: refuses cross-site model requests', cross.status === 403, `HTTP ${cross.status}`);
}

async function main(): Promise<number> {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  const golden = materializeGoldenModels();
  const dist = join(ARTIFACTS, 'dist');
  let server: Awaited<ReturnType<typeof preview>> | undefined;
  let ref: NodeReference | undefined;
  try {
    const config = { models: golden.folders, linkRoots: golden.linkRoots, outDir: dist, port: 0 };
    const tBuild = performance.now();
    await build(demoViteConfig(config));
    measurements.build_ms = Math.round(performance.now() - tBuild);
    const bundle = checkBundle(dist);
    measurements.bundle = { totals: bundle.totals, files: bundle.files };
    // onnxruntime-web's Emscripten glue (ort/*.mjs) imports 'module' and 'worker_threads' on its Node path only.
    const nodeImports = bundle.nodeImports.filter((d) => !d.startsWith('ort/'));
    check('bundle: no Node built-in imports in the app and runtime chunks', nodeImports.length === 0, nodeImports.join(', ') || `JS ${bundle.totals.js} B, glue ${bundle.totals['ort-glue']} B, WASM ${bundle.totals.wasm} B`);
    // onnxruntime-web's asyncify glue carries Emscripten's emval method caller (new Function); the CSP run below
    // shows it is never called. Our own chunks must have none.
    const ours = bundle.dynamicCode.filter((d) => !d.startsWith('ort/'));
    check('bundle: no eval/new Function in the app and runtime chunks', ours.length === 0, ours.join(' | ') || `${bundle.dynamicCode.length} in onnxruntime-web's glue files only`);

    server = await preview(demoViteConfig(config));
    const port = (server.httpServer.address() as AddressInfo | null)?.port;
    if (!port) throw new Error('the preview server has no port');
    const base = `http://127.0.0.1:${port}`;
    console.log(`serving ${dist} at ${base} (models: ${JSON.stringify(golden.folders)})`);
    await attempt('server checks', () => serverChecks(base));
    const reference = await nodeReference(golden.folders.sdxs, golden.folders.sketch);
    ref = reference;
    for (const backend of ['wasm', 'webgpu'] as const) await attempt(`${backend} run`, () => backendRun(base, backend, reference));
    await attempt('message runs', () => messageRuns(base));
    await attempt('embedded model run', () => embeddedRun(dist));
    await attempt('dev server run', () => devServerRun(golden.folders, golden.linkRoots, reference));
  } catch (e) {
    check('test harness', false, e instanceof Error ? (e.stack ?? e.message) : String(e));
  } finally {
    await ref?.dispose();
    await new Promise<void>((resolve) => (server ? server.httpServer.close(() => resolve()) : resolve()));
    golden.cleanup();
  }
  const failed = checks.filter((c) => !c.ok);
  writeFileSync(join(ARTIFACTS, 'report.json'), `${JSON.stringify({ checks, measurements }, null, 2)}\n`);
  console.log(`\n${checks.length - failed.length}/${checks.length} checks passed; report and screenshots in ${ARTIFACTS}`);
  console.log(JSON.stringify({ measurements: { ...measurements, bundle: (measurements.bundle as { totals: unknown } | undefined)?.totals } }));
  return failed.length ? 1 : 0;
}

process.exitCode = await main();
