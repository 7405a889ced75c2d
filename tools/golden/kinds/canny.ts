import { Tensor } from '@sdxs/tensor';
import { openSafetensorsFile } from '@sdxs/tensor/node';
import { canny } from '@sdxs/control';
import { readCaseInputs } from '../component.js';
import { caseFile } from '../links.js';
import type { GoldenCase, KindResult } from '../types.js';

/**
 * `canny`: cv2.Canny(input, LO, HI) on every input (HWC uint8, colour or grey), compared exactly. The threshold
 * pairs are the call's arguments, spelled in the output names (`<input>_<LO>_<HI>`); only the reference file's
 * header is read for them.
 */
export async function runCanny(c: GoldenCase): Promise<KindResult> {
  const inputs = await readCaseInputs(c);
  const ref = await openSafetensorsFile(caseFile(c.dir, 'outputs.safetensors'));
  const calls = ref.names().map((name) => {
    const m = /^(.+)_(\d+)_(\d+)$/.exec(name);
    if (!m) throw new Error(`${c.name}/outputs.safetensors: ${name} is not <input>_<low>_<high>`);
    return { name, input: m[1]!, low: Number(m[2]), high: Number(m[3]) };
  });
  await ref.close();
  const outputs = new Map<string, Tensor>();
  for (const call of calls) {
    const image = inputs.get(call.input);
    if (!image || image.dtype !== 'uint8' || !(image.data instanceof Uint8Array)) throw new Error(`${c.name}/inputs.safetensors: no uint8 input ${call.input}`);
    const [height, width, channels = 1] = image.shape;
    if (height === undefined || width === undefined || (channels !== 1 && channels !== 3 && channels !== 4)) {
      throw new Error(`${c.name}/inputs.safetensors: ${call.input} is [${image.shape.join(', ')}], not [H, W] or [H, W, 1|3|4]`);
    }
    const edges = canny({ width, height, data: image.data, channels }, call.low, call.high);
    outputs.set(call.name, new Tensor('uint8', [height, width], edges.data));
  }
  return { outputs, tolerance: { exact: true } };
}
