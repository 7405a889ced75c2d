/**
 * `pnpm demo`: the demo on a dev server (or `--preview`: the production build), at http://127.0.0.1:5173/.
 *
 *   pnpm demo                   # the embedded sdxs-micro (64×64 shapes, 25 steps, guidance 2.5), nothing to download
 *   pnpm demo --model ~/models/sdxs-512-dreamshaper --controlnet ~/models/sdxs-512-dreamshaper-sketch
 *   pnpm demo --golden          # the tiny random-weight test model (128×128), nothing to download
 *   pnpm demo --preview --port 8080
 *   pnpm demo --build           # only build, into apps/demo-web/dist
 *
 * Local folders are served at /models/sdxs/ and /models/sketch/, the page's default `?model=` and `?controlnet=`;
 * with no model named, the embedded model at /models/micro/ is the default (`/models.json` tells the page, with
 * its steps and guidance). Any other URL works too
 * (`?model=hf:IDKiro/sdxs-512-dreamshaper&controlnet=hf:IDKiro/sdxs-512-dreamshaper-sketch`), and
 * `?steps=&guidance=` set the run. SDXS_MODEL_DIR and SDXS_CONTROLNET_DIR do the same as the flags.
 */
import { parseArgs } from 'node:util';
import { build, createServer, preview } from 'vite';
import { demoModels } from './demo-models.js';
import { materializeGoldenModels } from './golden-models.js';
import { folderPaths } from './model-manifest.js';
import { demoViteConfig } from './vite-config.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    controlnet: { type: 'string' },
    golden: { type: 'boolean', default: false },
    preview: { type: 'boolean', default: false },
    build: { type: 'boolean', default: false },
    port: { type: 'string' },
  },
});

const golden = values.golden ? materializeGoldenModels() : undefined;
const { models, notes } = demoModels({
  model: values.model ?? process.env.SDXS_MODEL_DIR,
  controlnet: values.controlnet ?? process.env.SDXS_CONTROLNET_DIR,
  golden: golden?.folders,
});
const port = values.port === undefined ? undefined : Number(values.port);
const options = { models, ...(golden ? { linkRoots: golden.linkRoots } : {}), ...(port !== undefined ? { port } : {}) };

process.on('exit', () => golden?.cleanup());
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));

if (values.build) {
  await build(demoViteConfig(options));
  console.log('built apps/demo-web/dist');
} else if (values.preview) {
  await build(demoViteConfig(options));
  const server = await preview(demoViteConfig(options));
  server.printUrls();
} else {
  const server = await createServer(demoViteConfig({ ...options, dev: true }));
  await server.listen();
  server.printUrls();
}
if (!values.build) {
  for (const [name, dir] of Object.entries(folderPaths(models))) console.log(`  /models/${name}/ → ${dir}`);
  for (const note of notes) console.log(`  ${note}`);
  if (Object.keys(models).length === 0) console.log('  no local model folder: pass --model DIR (or --golden), or open the page with ?model=<url>');
}
