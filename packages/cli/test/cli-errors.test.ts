import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '@sdxs/tensor';
import { loadSafetensorsFile, writeSafetensorsFile } from '@sdxs/tensor/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaterializedFolder } from '../../../tools/golden/materialize.js';
import { goldenModel, runCli, tempDir } from './cli-helpers.js';

/** stderr is exactly one line. */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n');
  expect(lines.length, stderr).toBe(2);
  expect(lines[1]).toBe('');
  return lines[0]!;
}

describe('sdxs errors: one line with a hint, exit 2 for usage, 1 otherwise', () => {
  let model: MaterializedFolder;
  let work: { path: string; cleanup(): void };
  beforeAll(() => {
    model = goldenModel();
    work = tempDir();
  });
  afterAll(() => {
    model?.cleanup();
    work?.cleanup();
  });

  /** A copy of the model folder (links kept) whose `file` is replaced by `mutate(bytes)`. */
  function damagedCopy(name: string, file: string, mutate: (bytes: Buffer) => Buffer): string {
    const dir = join(work.path, name);
    cpSync(model.path, dir, { recursive: true, verbatimSymlinks: true });
    const bytes = readFileSync(join(model.path, file));
    unlinkSync(join(dir, file));
    writeFileSync(join(dir, file), mutate(bytes));
    return dir;
  }

  it('a missing model folder', async () => {
    const out = join(work.path, 'out-missing');
    mkdirSync(out);
    const r = await runCli(['generate', 'a cat', '--model', join(work.path, 'no-such-model'), '--out', join(out, 'x.png')], { cwd: work.path });
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toBe(`sdxs generate: ${join(work.path, 'no-such-model')}: no such model folder (give a diffusers model folder or a Hugging Face repo id such as IDKiro/sdxs-512-dreamshaper)`);
    expect(readdirSync(out)).toEqual([]);
  });

  const damages: [string, (b: Buffer) => Buffer, RegExp][] = [
    ['truncated', (b) => b.subarray(0, b.length - 1000), /unet\/diffusion_pytorch_model\.safetensors.*(truncated|ends)/i],
    ['a mutated header', (b) => Buffer.from(b.toString('latin1').replace('"F32"', '"F3Z"'), 'latin1'), /unet\/diffusion_pytorch_model\.safetensors.*F3Z/],
  ];
  for (const [what, mutate, message] of damages) {
    it(`corrupt safetensors (${what}): exit 1, one line, nothing written to --out`, async () => {
      const dir = damagedCopy(`damaged-${what.replace(/\W/g, '-')}`, 'unet/diffusion_pytorch_model.safetensors', mutate);
      const out = join(work.path, `out-${what.replace(/\W/g, '-')}`);
      mkdirSync(out);
      const r = await runCli(['generate', 'a cat', '--model', dir, '--seed', '1', '--out', join(out, 'cat.png'), '-q'], { cwd: work.path });
      expect(r.code).toBe(1);
      const line = oneLine(r.stderr);
      expect(line).toMatch(/^sdxs generate: /);
      expect(line).toMatch(message);
      expect(line).toMatch(/\(the model files look damaged or incomplete: download or convert them again\)$/);
      expect(readdirSync(out)).toEqual([]);

      // convert fails the same way and leaves neither --out nor its staging folder.
      const target = join(work.path, `onnx-${what.replace(/\W/g, '-')}`);
      const before = readdirSync(work.path);
      const c = await runCli(['convert', dir, '--out', target, '-q'], { cwd: work.path });
      expect(c.code).toBe(1);
      expect(oneLine(c.stderr)).toMatch(message);
      expect(existsSync(target)).toBe(false);
      expect(readdirSync(work.path).sort()).toEqual(before.sort());
    });
  }

  it('unknown flags, missing values and unknown commands are usage errors (exit 2)', async () => {
    const cases: [string[], string][] = [
      [['generate', 'a cat', '--model', model.path, '--bogus'], "sdxs generate: Unknown option '--bogus'. (see `sdxs generate --help`)"],
      [['generate', '--model', model.path], 'sdxs generate: missing the prompt (see `sdxs generate --help`)'],
      [['generate', 'a', 'cat', '--model', model.path], 'sdxs generate: one prompt per run; quote it ("a cat") (see `sdxs generate --help`)'],
      [['generate', 'a cat', '--model', model.path, '--ep', 'tpu'], 'sdxs generate: --ep: expected one of cpu, webgpu, cuda, got "tpu" (see `sdxs generate --help`)'],
      [['generate', 'a cat', '--model', model.path, '--steps', 'many'], 'sdxs generate: --steps: expected a number, got "many" (see `sdxs generate --help`)'],
      [['info'], 'sdxs info: missing the model (a diffusers folder or a Hugging Face repo id) (see `sdxs info --help`)'],
      [['info', model.path, '--json=yes'], "sdxs info: Option '--json' does not take an argument (see `sdxs info --help`)"],
      [['convert', model.path], 'sdxs convert: --out is required (the folder to write) (see `sdxs convert --help`)'],
      [['paint'], 'sdxs: unknown command "paint"; commands: generate, sketch, serve, worker, info, convert, train, distill, eval (see `sdxs --help`)'],
    ];
    for (const [argv, line] of cases) {
      const r = await runCli(argv, { cwd: work.path });
      expect(r.code, argv.join(' ')).toBe(2);
      expect(oneLine(r.stderr)).toBe(line);
    }
  });

  it('absurd requests are refused before the model is even looked at (RELIABILITY item 21)', async () => {
    const missing = join(work.path, 'not-loaded');
    const cases: [string[], string][] = [
      [['--width', '100000'], '--width must be between 1 and 4096, got 100000'],
      [['--height', '0'], '--height must be between 1 and 4096, got 0'],
      [['--batch', '10000'], '--batch must be between 1 and 64, got 10000'],
      [['--steps', '1e9'], '--steps must be between 1 and 1000, got 1000000000'],
      [['--steps', '2.5'], '--steps must be an integer, got 2.5'],
      [['--guidance=-1'], '--guidance must be a finite number ≥ 0, got -1'],
      [['--batch', '64', '--width', '4096', '--height', '4096'], '--batch × --width × --height is 64 × 4096 × 4096, over 67108864 pixels per call'],
      [['--seed', '18446744073709551616'], '--seed: expected an integer from -9223372036854775808 to 18446744073709551615, got "18446744073709551616"'],
      [['--seed', '-9223372036854775809'], '--seed: expected an integer from -9223372036854775808 to 18446744073709551615, got "-9223372036854775809"'],
    ];
    for (const [flags, message] of cases) {
      const r = await runCli(['generate', 'a cat', '--model', missing, ...flags], { cwd: work.path });
      expect(r.code, flags.join(' ')).toBe(2);
      expect(oneLine(r.stderr)).toBe(`sdxs generate: ${message} (see \`sdxs generate --help\`)`);
    }
  });

  it('`sdxs info` checks every tensor the graphs read: a checkpoint missing one, or with one of another shape, fails naming it', async () => {
    const file = 'unet/diffusion_pytorch_model.safetensors';
    const { tensors, metadata } = await loadSafetensorsFile(join(model.path, file));
    const victim = [...tensors.keys()].find((k) => k.includes('conv_in.weight'))!;
    for (const [what, edit, message] of [
      ['missing', (t: Map<string, Tensor>) => t.delete(victim), new RegExp(`missing: ${victim.replace(/\./g, '\\.')}`)],
      ['reshaped', (t: Map<string, Tensor>) => t.set(victim, new Tensor('float32', [t.get(victim)!.size], new Float32Array(t.get(victim)!.size))), new RegExp(`${victim.replace(/\./g, '\\.')} \\(float32\\[\\d+\\] in the file`)],
    ] as const) {
      const dir = join(work.path, `info-${what}`);
      cpSync(model.path, dir, { recursive: true, verbatimSymlinks: true });
      const edited = new Map(tensors);
      edit(edited);
      unlinkSync(join(dir, file));
      await writeSafetensorsFile(join(dir, file), Object.fromEntries(edited), metadata);
      const r = await runCli(['info', dir], { cwd: work.path });
      expect(r.code, what).toBe(1);
      expect(r.stdout).toBe('');
      const line = oneLine(r.stderr);
      expect(line).toMatch(/^sdxs info: /);
      expect(line).toMatch(message);
    }
    const ok = await runCli(['info', model.path], { cwd: work.path });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/weights: all \d+ tensors the graphs read are present, with their shapes and dtypes/);
  });

  it('weights holding NaN: exit 1, one line naming the component, no PNG (not a black image)', async () => {
    const file = 'unet/diffusion_pytorch_model.safetensors';
    const { tensors, metadata } = await loadSafetensorsFile(join(model.path, file));
    const t = tensors.get('conv_in.weight')!;
    tensors.set('conv_in.weight', new Tensor('float32', t.shape, new Float32Array(t.size).fill(Number.NaN)));
    const dir = join(work.path, 'nan-weights');
    cpSync(model.path, dir, { recursive: true, verbatimSymlinks: true });
    unlinkSync(join(dir, file));
    await writeSafetensorsFile(join(dir, file), Object.fromEntries(tensors), metadata);
    const out = join(work.path, 'out-nan');
    mkdirSync(out);
    const r = await runCli(['generate', 'a cat', '--model', dir, '--seed', '1', '--out', join(out, 'cat.png'), '-q'], { cwd: work.path });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`sdxs generate: the unet produced NaN or infinite values (${dir}/unet): its weights hold non-finite numbers; no image was made`]);
    expect(readdirSync(out)).toEqual([]);
  });

  it('a folder that is not a model: one line, said once (no errno text repeating the path)', async () => {
    const folder = join(work.path, 'just-a-folder');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'notes.txt'), 'not a model');
    for (const command of ['generate', 'info']) {
      const r = await runCli(command === 'info' ? ['info', folder] : ['generate', 'a cat', '--model', folder, '--out', join(work.path, 'never.png')], { cwd: work.path });
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([`sdxs ${command}: ${folder}: not a diffusers model folder (it has no model_index.json)`]);
    }
  });

  it('an --out that cannot be written is refused before the model is loaded, naming the path as given', async () => {
    const file = join(work.path, 'a-file.txt');
    writeFileSync(file, 'x');
    // A model that does not exist: were --out checked after loading, the model error would come first.
    const r = await runCli(['generate', 'a cat', '--model', join(work.path, 'no-model-here'), '--out', 'a-file.txt/cat.png'], { cwd: work.path });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([`sdxs generate: --out a-file.txt/cat.png: ${file} is a file, not a folder (give a path in a folder)`]);
    expect(readdirSync(work.path).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--verbose adds the stack trace (and causes) after the line', async () => {
    const r = await runCli(['info', join(work.path, 'nope'), '--verbose'], { cwd: work.path });
    expect(r.code).toBe(1);
    const [first, ...rest] = r.stderr.trim().split('\n');
    expect(first).toMatch(/^sdxs info: .*no such model folder/);
    expect(rest[0]).toMatch(/^HubError: /);
    expect(rest.some((l) => /^\s+at /.test(l))).toBe(true);
    const quiet = await runCli(['info', join(work.path, 'nope')], { cwd: work.path });
    expect(quiet.stderr).not.toMatch(/\bat /);
  });

  it('--help for each command prints its usage on stdout (exit 0); no command prints the overview on stderr (exit 2)', async () => {
    for (const command of ['generate', 'info', 'convert', 'distill', 'eval']) {
      const r = await runCli([command, '--help'], { cwd: work.path });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: sdxs ${command} `));
      expect(r.stderr).toBe('');
      expect((await runCli(['help', command], { cwd: work.path })).stdout).toBe(r.stdout);
    }
    const top = await runCli(['--help'], { cwd: work.path });
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: sdxs <command>/);
    const none = await runCli([], { cwd: work.path });
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(top.stdout);
    expect((await runCli(['--version'], { cwd: work.path })).stdout).toMatch(/^sdxs \d+\.\d+\.\d+\n$/);
  });
});

describe('a Hugging Face repo id goes through resolveModel and the hub cache', () => {
  let model: MaterializedFolder;
  let work: { path: string; cleanup(): void };
  const commit = 'c0ffee'.padEnd(40, '0');
  beforeAll(() => {
    model = goldenModel();
    work = tempDir();
    // The hub cache layout huggingface_hub writes: refs/main names the commit; the snapshot holds links.
    const repo = join(work.path, 'hub', 'models--test-org--tiny-sdxs');
    mkdirSync(join(repo, 'refs'), { recursive: true });
    writeFileSync(join(repo, 'refs', 'main'), commit);
    const snapshot = join(repo, 'snapshots', commit);
    const mirror = (from: string, to: string): void => {
      mkdirSync(to, { recursive: true });
      for (const e of readdirSync(from, { withFileTypes: true })) {
        if (e.isDirectory()) mirror(join(from, e.name), join(to, e.name));
        else symlinkSync(join(from, e.name), join(to, e.name));
      }
    };
    mirror(model.path, snapshot);
  });
  afterAll(() => {
    model?.cleanup();
    work?.cleanup();
  });

  it('offline, a cached repo id is found and named in info and in the PNG metadata', async () => {
    const env = { HF_HUB_CACHE: join(work.path, 'hub'), HF_HUB_OFFLINE: '1' };
    const info = await runCli(['info', 'test-org/tiny-sdxs'], { cwd: work.path, env });
    expect(info.code).toBe(0);
    expect(info.stdout.split('\n')[0]).toBe(`model         test-org/tiny-sdxs (${join(work.path, 'hub', 'models--test-org--tiny-sdxs', 'snapshots', commit)})`);
    const gen = await runCli(['generate', 'a cat', '--model', 'test-org/tiny-sdxs', '--seed', '5', '--out', 'hub.png', '-q'], { cwd: work.path, env });
    expect(gen.code).toBe(0);
    const text = readFileSync(join(work.path, 'hub.png')).toString('latin1');
    expect(text).toContain('Model: test-org/tiny-sdxs');
  });

  it('offline, a repo id missing from the cache is one line with the way out', async () => {
    const env = { HF_HUB_CACHE: join(work.path, 'hub'), HF_HUB_OFFLINE: '1' };
    const r = await runCli(['generate', 'a cat', '--model', 'IDKiro/sdxs-512-dreamshaper', '--out', 'x.png'], { cwd: work.path, env });
    expect(r.code).toBe(1);
    const line = oneLine(r.stderr);
    expect(line).toMatch(/^sdxs generate: IDKiro\/sdxs-512-dreamshaper@main is not in the Hugging Face cache at /);
    expect(line).toMatch(/\(unset HF_HUB_OFFLINE and run once with network access, or give a local model folder\)$/);
    expect(existsSync(join(work.path, 'x.png'))).toBe(false);
  });
});
