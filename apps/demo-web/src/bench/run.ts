/**
 * The browser benchmark (not a test): the full-size SDXS-512 architecture (synthetic weights) at 256×256 on
 * onnxruntime-web's WASM backend in headless Chromium, against onnxruntime-node's CPU EP in this process,
 * on the same graphs built by the same code (@sdxs/runtime-web's bench entry); plus the demo's bundle sizes.
 * Results go to artifacts/bench-web/result.json.
 *
 *   pnpm --filter @sdxs/demo-web bench [--size 256] [--runs 3] [--threads N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AddressInfo } from 'node:net';
import { build, preview } from 'vite';
import { createNodeRuntime } from '@sdxs/runtime-node';
import { EulerDiscreteScheduler } from '@sdxs/schedulers';
// The full-size configs are the Node benchmark's, so both benchmarks measure the same networks.
import { CLIP_VIT_L14_TEXT, EXPECTED_PARAMETERS, SDXS512_UNET, SDXS_SCHEDULER_CONFIG, SDXS_TINY_VAE } from '../../../bench-node/src/models/full-size-configs.js';
import { benchOneStep, type BenchNetworks, type BenchResult } from '../../../../packages/runtime-web/src/bench.js';
import { checkBundle } from '../browser-test/bundle-check.js';
import { launchChromium } from '../browser-test/chromium.js';
import { demoViteConfig } from '../server/vite-config.js';

const OUT = fileURLToPath(new URL('../../../../artifacts/bench-web/', import.meta.url));

const { values } = parseArgs({ options: { size: { type: 'string', default: '256' }, runs: { type: 'string', default: '3' }, threads: { type: 'string' } } });
const size = Number(values.size);
const runs = Number(values.runs);
const threads = values.threads === undefined ? undefined : Number(values.threads);

function networks(): BenchNetworks {
  const scheduler = EulerDiscreteScheduler.fromConfig(SDXS_SCHEDULER_CONFIG, 'scheduler_config.json');
  scheduler.setTimesteps(1);
  const c = scheduler.stepCoefficients(scheduler.timesteps[0]!);
  return {
    unet: SDXS512_UNET,
    text: CLIP_VIT_L14_TEXT,
    vae: SDXS_TINY_VAE,
    step: { timestep: c.timestep, inputDivisor: c.inputDivisor, x0Coef: c.x0Coef, prevCoef: c.prevCoef },
    sigma: scheduler.initNoiseSigma,
  };
}

function summary(label: string, r: BenchResult, extra = ''): string {
  const f = (x: number) => x.toFixed(0).padStart(7);
  return `${label.padEnd(34)} text encoder ${f(r.text_encoder.median_ms)} ms  one-step ${f(r.one_step.median_ms)} ms  step ${f(r.step_ms)} ms  (session ${f(r.one_step.session_ms)} ms, first run ${f(r.one_step.first_run_ms)} ms)${extra}`;
}

async function browserSide(input: { networks: BenchNetworks; options: { target: 'wasm'; width: number; height: number; runs: number }; threads?: number }) {
  const dist = join(OUT, 'dist');
  const config = { outDir: dist, pages: ['bench.html'], port: 0 };
  await build(demoViteConfig(config));
  const server = await preview(demoViteConfig(config));
  const browser = await launchChromium({ webgpu: false });
  try {
    const port = (server.httpServer.address() as AddressInfo).port;
    const page = await browser.context.newPage();
    page.on('console', (m) => console.log(`  [browser] ${m.text()}`));
    await page.goto(`http://127.0.0.1:${port}/bench.html`);
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
    const version = browser.context.browser()?.version() ?? 'chromium';
    const out = await page.evaluate(async (i) => {
      const run = window.sdxsBench;
      if (!run) throw new Error('the bench page did not start');
      return run(i);
    }, input);
    return { ...out, chromium: version };
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const net = networks();
  const options = { width: size, height: size, runs };
  console.log(`full-size SDXS-512 (U-Net ${EXPECTED_PARAMETERS.unet.toLocaleString()} + text encoder ${EXPECTED_PARAMETERS.text_encoder.toLocaleString()} parameters, synthetic), ${size}×${size}, ${runs} timed runs each`);

  // The machine may be shared: the 1-minute load average before and after each side says how quiet it was.
  const load: Record<string, number[]> = { before_web: loadavg() };
  console.log('browser: onnxruntime-web WASM in headless Chromium…');
  const web = await browserSide({ networks: net, options: { ...options, target: 'wasm' }, ...(threads ? { threads } : {}) });
  load.after_web = loadavg();
  console.log('node: onnxruntime-node CPU EP…');
  const node = await benchOneStep(createNodeRuntime(threads ? { intraOpThreads: threads } : {}), net, { ...options, target: 'cpu' }, (l) => console.log(`  [node] ${l}`));
  load.after_node = loadavg();

  // The demo's own build, for its sizes.
  const demoDist = join(OUT, 'demo-dist');
  await build(demoViteConfig({ outDir: demoDist }));
  const bundle = checkBundle(demoDist);

  for (const r of [web.result, node]) {
    if (r.one_step.parameters < EXPECTED_PARAMETERS.unet || r.text_encoder.parameters !== EXPECTED_PARAMETERS.text_encoder) {
      throw new Error(`${r.runtime}: parameter counts ${r.one_step.parameters}/${r.text_encoder.parameters} are not the full-size networks'`);
    }
  }
  const result = { size, runs, load, chromium: web.chromium, web_threads: web.threads, web: web.result, node, ratio_step: web.result.step_ms / node.step_ms, bundle: { totals: bundle.totals, files: bundle.files } };
  writeFileSync(join(OUT, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log('');
  console.log(summary(`onnxruntime-web/wasm (${web.threads} threads)`, web.result));
  console.log(summary('onnxruntime-node/cpu', node));
  console.log(`browser / node: ${result.ratio_step.toFixed(2)}× (prompt to pixels); load average ${Object.entries(load).map(([k, v]) => `${k} ${v[0]!.toFixed(1)}`).join(', ')}`);
  console.log(`demo bundle: JS ${bundle.totals.js} B (our chunks + onnxruntime-web entries), onnxruntime glue ${bundle.totals['ort-glue']} B, WASM ${bundle.totals.wasm} B`);
  for (const f of bundle.files) console.log(`  ${f.path.padEnd(48)} ${String(f.bytes).padStart(10)}`);
}

await main();
