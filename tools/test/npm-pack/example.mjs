// sdxs from npm, offline: the micro model that ships inside @sdxs/model-micro (a dependency of @sdxs/runtime-node)
// makes one 64×64 image and writes it as a PNG with its generation parameters. The README quotes this file;
// tools/test/npm-pack.test.ts installs the packed tarballs in an empty folder and runs it there with plain `node`,
// checking the JSON line it prints and the PNG.
import { writeFile } from 'node:fs/promises';
import { StableDiffusionPipeline } from '@sdxs/runtime-node';

// No model: the embedded sdxs-micro at its own 25 steps and guidance 2.5. Or a repo id or folder:
// StableDiffusionPipeline.fromPretrained('IDKiro/sdxs-512-dreamshaper', { device: 'auto' }).
const pipe = await StableDiffusionPipeline.fromPretrained(undefined, { device: 'cpu' });
try {
  const { images } = await pipe.generate({ prompt: 'a red circle on a blue background', seed: 42 });
  const image = images[0];
  await writeFile('circle.png', image.toPng()); // A1111's "parameters" text and the exact JSON record inside
  const { width, height, data } = image; // RGBA bytes, row-major
  const colours = new Set(new Uint32Array(data.slice().buffer)).size; // distinct pixels
  console.log(JSON.stringify({ model: pipe.name, width, height, bytes: data.length, colours, parameters: image.infotext }));
} finally {
  await pipe.dispose();
}
