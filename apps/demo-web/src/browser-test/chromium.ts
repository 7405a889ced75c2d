/**
 * Headless Chromium for the browser test and bench: Debian's /usr/bin/chromium (playwright-core downloads
 * nothing), a fresh profile per launch, and flags that keep it off the network. `webgpu` adds
 * `--enable-unsafe-webgpu`, which on these GPU-less machines exposes Chromium's software SwiftShader adapter
 * (Vulkan, float32 only — no shader-f16) to pages on secure origins (http://127.0.0.1 counts); without it the
 * page sees no adapter, and `--disable-gpu` is added so nothing else can touch a GPU.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.SDXS_CHROMIUM ?? '/usr/bin/chromium';

/** Flags that stop background requests to Google services and the component updater. */
export const OFFLINE_FLAGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-quic',
  '--metrics-recording-only',
];

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Start Chromium with a throw-away profile.
 *
 * @example
 * const b = await launchChromium({ webgpu: true }); try { const page = await b.context.newPage(); … } finally { await b.close(); }
 */
export async function launchChromium(options: { webgpu: boolean; extraArgs?: readonly string[] }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set SDXS_CHROMIUM)`);
  const profile = mkdtempSync(join(tmpdir(), 'sdxs-chromium-'));
  const args = [...OFFLINE_FLAGS, ...(options.webgpu ? ['--enable-unsafe-webgpu'] : ['--disable-gpu']), ...(options.extraArgs ?? [])];
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, viewport: { width: 1280, height: 900 } });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
