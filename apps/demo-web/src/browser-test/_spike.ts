import { preview } from 'vite';
import type { AddressInfo } from 'node:net';
import { materializeGoldenModels } from '../server/golden-models.js';
import { demoViteConfig } from '../server/vite-config.js';
import { build } from 'vite';
import { launchChromium } from './chromium.js';
import { waitFrame, waitLoaded, frameCount } from './page.js';
const golden = materializeGoldenModels();
const outDir = '/tmp/spike/dist2';
const config = { models: golden.folders, outDir, port: 0 };
if (process.argv[3] !== 'nobuild') await build(demoViteConfig(config));
const server = await preview(demoViteConfig(config));
const port = (server.httpServer.address() as AddressInfo).port;
const backend = process.argv[2] ?? 'wasm';
const b = await launchChromium({ webgpu: backend === 'webgpu' });
const page = await b.context.newPage();
page.on('console', (m) => console.log('console', m.type(), m.text().slice(0, 300)));
await page.goto(`http://127.0.0.1:${port}/?backend=${backend}&controlnet=${process.argv[4] ?? ''}`);
console.log(await waitLoaded(page, 120000), await page.textContent('#backend'));
for (let i = 0; i < 3; i++) {
  const n = await frameCount(page);
  const t = performance.now();
  await page.click('#generate');
  await waitFrame(page, n, 600000);
  console.log(i, (performance.now() - t).toFixed(0), await page.getAttribute('#timing', 'data-timings'));
}
await b.close();
server.httpServer.close();
golden.cleanup();
