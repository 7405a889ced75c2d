// sdxs from npm, offline: the micro model that ships inside @sdxs/model-micro (a dependency of @sdxs/runtime-node)
// makes one 64×64 image. The README quotes this file; tools/test/npm-pack.test.ts installs the packed tarballs in
// an empty folder and runs it there with plain `node`, checking the JSON line it prints.
import { createNodeRuntime, embeddedModels, resolveModel } from '@sdxs/runtime-node';
import { StableDiffusionPipeline } from '@sdxs/pipeline';

const model = embeddedModels().default; // sdxs-micro: 25 steps, guidance 5 (its settings in models.json)
const pipe = await StableDiffusionPipeline.load(await resolveModel(model.path), createNodeRuntime());
try {
  const { images } = await pipe.generate({
    prompt: 'a red circle on a blue background',
    seed: 42,
    steps: model.steps,
    guidanceScale: model.guidanceScale,
  });
  const { width, height, data } = images[0]; // RGBA bytes, row-major
  const colours = new Set(new Uint32Array(data.slice().buffer)).size; // distinct pixels
  console.log(JSON.stringify({ model: model.name, width, height, bytes: data.length, colours }));
} finally {
  await pipe.dispose();
}
