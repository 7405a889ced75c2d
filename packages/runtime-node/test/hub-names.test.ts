import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRepoFilename, checkRepoId, checkRevision, componentsOf, hubEnv, HubError, isPipelineFile, repoFolderName, selectFiles } from '../src/hub/index.js';

describe('repo ids', () => {
  it('accepts owner/name ids and names their cache folder as huggingface_hub does', () => {
    expect(checkRepoId('IDKiro/sdxs-512-dreamshaper')).toBe('IDKiro/sdxs-512-dreamshaper');
    expect(repoFolderName('IDKiro/sdxs-512-0.9')).toBe('models--IDKiro--sdxs-512-0.9');
    expect(repoFolderName('a/b_c.d')).toBe('models--a--b_c.d');
  });

  it.each(['sdxs', 'a/b/c', '../x', 'a/..', 'a--b/c', 'a/b--c', 'a/b..c', '-a/b', 'a/b-', 'a/.b', 'a/b.git', '', 'a/', '/a', 'a\\b/c', `a/${'x'.repeat(97)}`])(
    'rejects %j',
    (id) => {
      expect(() => checkRepoId(id)).toThrow(HubError);
      try {
        checkRepoId(id);
      } catch (e) {
        expect(e instanceof HubError && e.code).toBe('invalid-repo-id');
      }
    },
  );
});

describe('repo file names (RELIABILITY item 8)', () => {
  it.each(['model_index.json', 'unet/config.json', 'a/b/c.safetensors', '.gitattributes', 'x..y/z'])('accepts %j', (name) => {
    expect(checkRepoFilename(name)).toBe(name);
  });

  it.each([
    '../etc/passwd',
    'unet/../../x',
    '..',
    '/etc/passwd',
    '//server/share/x',
    'C:/Windows/x',
    'C:x',
    'unet/D:/x',
    '\\\\server\\share\\x',
    'unet\\..\\..\\x',
    '',
    'a//b',
    './a',
    'a/./b',
    'a/',
    'a\0b',
  ])('rejects %j', (name) => {
    expect(() => checkRepoFilename(name)).toThrow(/refusing repo file name/);
  });

  it('rejects revisions that would leave refs/', () => {
    expect(checkRevision('main')).toBe('main');
    expect(checkRevision('refs/pr/1')).toBe('refs/pr/1');
    for (const r of ['../main', '/abs', 'a/../../b', 'a\\b', '']) expect(() => checkRevision(r)).toThrow(HubError);
  });
});

describe('hubEnv', () => {
  const home = '/home/u';

  it('resolves the cache folder with huggingface_hub precedence', () => {
    expect(hubEnv({}, home).cacheDir).toBe(join(home, '.cache/huggingface/hub'));
    expect(hubEnv({ XDG_CACHE_HOME: '/xdg' }, home).cacheDir).toBe('/xdg/huggingface/hub');
    expect(hubEnv({ XDG_CACHE_HOME: '/xdg', HF_HOME: '/hf' }, home).cacheDir).toBe('/hf/hub');
    expect(hubEnv({ HF_HOME: '/hf', HUGGINGFACE_HUB_CACHE: '/legacy' }, home).cacheDir).toBe('/legacy');
    expect(hubEnv({ HF_HOME: '/hf', HUGGINGFACE_HUB_CACHE: '/legacy', HF_HUB_CACHE: '/new' }, home).cacheDir).toBe('/new');
    expect(hubEnv({ HF_HOME: '~/hf' }, home).cacheDir).toBe('/home/u/hf/hub');
    expect(hubEnv({ HF_HUB_CACHE: '$DATA/hub', DATA: '/data' }, home).cacheDir).toBe('/data/hub');
  });

  it('reads endpoint, token, offline and timeout', () => {
    const e = hubEnv({ HF_ENDPOINT: 'https://mirror.example//', HF_TOKEN: 'hf_x', HF_HUB_OFFLINE: 'yes', HF_HUB_DOWNLOAD_TIMEOUT: '2.5', HF_HOME: '/nonexistent' }, home);
    expect(e).toEqual({ cacheDir: '/nonexistent/hub', endpoint: 'https://mirror.example', token: 'hf_x', offline: true, timeoutMs: 2500 });
    const d = hubEnv({ HF_HOME: '/nonexistent' }, home);
    expect(d.endpoint).toBe('https://huggingface.co');
    expect(d.token).toBeUndefined();
    expect(d.offline).toBe(false);
    expect(d.timeoutMs).toBe(30_000);
    expect(hubEnv({ TRANSFORMERS_OFFLINE: '1', HF_HOME: '/nonexistent' }, home).offline).toBe(true);
    expect(hubEnv({ HF_HUB_OFFLINE: '0', HF_HOME: '/nonexistent' }, home).offline).toBe(false);
  });
});

describe('file selection', () => {
  const listing = [
    'model_index.json',
    'README.md',
    'sd.safetensors',
    'sd.ckpt',
    'unet/config.json',
    'unet/diffusion_pytorch_model.safetensors',
    'unet/diffusion_pytorch_model.fp16.safetensors',
    'unet/diffusion_pytorch_model.bin',
    'unet/diffusion_pytorch_model.fp16.bin',
    'unet/model.onnx',
    'text_encoder/config.json',
    'text_encoder/model.safetensors.index.json',
    'text_encoder/model-00001-of-00002.safetensors',
    'text_encoder/model-00002-of-00002.safetensors',
    'text_encoder/model.safetensors.index.fp16.json',
    'text_encoder/model.fp16-00001-of-00002.safetensors',
    'text_encoder/model.fp16-00002-of-00002.safetensors',
    'vae/config.json',
    'vae/diffusion_pytorch_model.safetensors',
    'tokenizer/vocab.json',
    'tokenizer/merges.txt',
    'tokenizer/model.bin',
    'scheduler/scheduler_config.json',
    'safety_checker/config.json',
    'safety_checker/model.safetensors',
    'extra/deep/config.json',
  ];

  it('takes configs, tokenizer files and plain safetensors, never pickles or ONNX', () => {
    expect(selectFiles(listing)).toEqual([
      'model_index.json',
      'unet/config.json',
      'unet/diffusion_pytorch_model.safetensors',
      'text_encoder/config.json',
      'text_encoder/model.safetensors.index.json',
      'text_encoder/model-00001-of-00002.safetensors',
      'text_encoder/model-00002-of-00002.safetensors',
      'vae/config.json',
      'vae/diffusion_pytorch_model.safetensors',
      'tokenizer/vocab.json',
      'tokenizer/merges.txt',
      'scheduler/scheduler_config.json',
    ]);
  });

  it('prefers the variant per folder, falling back to plain weights where it is missing', () => {
    const picked = selectFiles(listing, { variant: 'fp16' });
    expect(picked.filter((p) => p.includes('safetensors'))).toEqual([
      'unet/diffusion_pytorch_model.fp16.safetensors',
      'text_encoder/model.safetensors.index.fp16.json',
      'text_encoder/model.fp16-00001-of-00002.safetensors',
      'text_encoder/model.fp16-00002-of-00002.safetensors',
      'vae/diffusion_pytorch_model.safetensors',
    ]);
    expect(selectFiles(['unet/model-00001-of-00002.fp16.safetensors', 'unet/model-00001-of-00002.safetensors'], { variant: 'fp16' })).toEqual([
      'unet/model-00001-of-00002.fp16.safetensors',
    ]);
  });

  it('limits folders to the components model_index.json names', () => {
    const index = JSON.stringify({ _class_name: 'X', unet: ['diffusers', 'U'], scheduler: ['diffusers', 'S'], safety_checker: [null, null] });
    const components = componentsOf(index);
    expect(components).toEqual(new Set(['unet', 'scheduler']));
    expect(selectFiles(listing, { components })).toEqual(['model_index.json', 'unet/config.json', 'unet/diffusion_pytorch_model.safetensors', 'scheduler/scheduler_config.json']);
    expect(componentsOf('not json')).toBeUndefined();
  });

  it('keeps root weights of a single-model repo and lets a predicate ask for anything', () => {
    expect(selectFiles(['config.json', 'diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.bin'])).toEqual(['config.json', 'diffusion_pytorch_model.safetensors']);
    expect(selectFiles(listing, { files: (p) => p.endsWith('.onnx') })).toEqual(['unet/model.onnx']);
    expect(isPipelineFile('unet/model.onnx')).toBe(false);
    expect(isPipelineFile('tokenizer/merges.txt')).toBe(true);
  });

  it('refuses a selected name that would leave the snapshot folder, whatever the predicate', () => {
    const evil = ['../config.json', 'model_index.json'];
    expect(() => selectFiles(evil)).toThrow(/refusing repo file names.*"\.\.\/config\.json"/);
    expect(() => selectFiles(['/etc/config.json', 'C:/x/config.json'], { files: () => true })).toThrow(HubError);
    expect(selectFiles(['../x.bin', 'unet/config.json'])).toEqual(['unet/config.json']);
  });
});
