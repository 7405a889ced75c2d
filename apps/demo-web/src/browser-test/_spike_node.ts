import { StableDiffusionPipeline } from '@sdxs/pipeline';
import { createNodeRuntime, LocalFolderSource } from '@sdxs/runtime-node';
import { materializeGoldenModels } from '../server/golden-models.js';
const golden = materializeGoldenModels();
for (const target of ['cpu', 'wasm'] as const) {
  const pipe = await StableDiffusionPipeline.load(new LocalFolderSource(golden.folders.sdxs!), createNodeRuntime({ intraOpThreads: 2 }), { target });
  for (let i = 0; i < 3; i++) console.log(target, (await pipe.generate({ prompt: 'a photo of a cat', seed: 42 })).timings);
  await pipe.dispose();
}
golden.cleanup();
