/**
 * The page's controls, driven as a user would on the build `pnpm demo` serves with no model named (the embedded
 * one-step sketch model, and the 25-step teacher in the model menu): steps, guidance, negative prompt, size and
 * model each render a new image equal to Node's pipeline with the same settings, the address follows them (and a
 * reload restores them), and the download button saves the image on screen as a PNG whose `parameters` text is
 * the request's (the file Chromium saved, decoded here).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { decodePng } from '@sdxs/image';
import { embeddedModels } from '@sdxs/runtime-node';
import { defaultDemoModel } from '../server/demo-models.js';
import { canvasPixels, waitFrame, waitLoaded } from './page.js';
import { maxChannelDiff, nodeTextReference } from './reference.js';

type Check = (name: string, ok: boolean, detail?: string) => boolean;

const PROMPT = 'a red circle on a blue background';
const NEGATIVE = 'a green background';
const SEED = 42;
const LOAD_MS = 180_000;
const RUN_MS = 300_000;

/** Wait until the image on screen was made with every `parts` of its infotext and the page is idle again. */
async function waitShown(page: Page, parts: readonly string[]): Promise<string> {
  await page.waitForFunction(
    (want) => {
      const text = document.querySelector<HTMLCanvasElement>('#output')?.dataset.infotext ?? '';
      return document.body.dataset.state === 'ready' && want.every((p) => text.includes(p));
    },
    parts,
    { timeout: RUN_MS },
  );
  return (await page.getAttribute('#output', 'data-infotext')) ?? '';
}

/** Click Download and read the file Chromium saved: its name, its `parameters` text, its pixels. */
async function downloadPng(page: Page): Promise<{ name: string; parameters: string | undefined; pixels: { width: number; height: number; data: Uint8Array | Uint8ClampedArray } }> {
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.click('#download')]);
  const path = await download.path();
  const png = decodePng(new Uint8Array(readFileSync(path)));
  return { name: download.suggestedFilename(), parameters: png.text.parameters, pixels: png };
}

/** CFG scale as the infotext prints it (Python's str of a float: `3.0`). */
function cfg(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

async function query(page: Page): Promise<URLSearchParams> {
  return new URLSearchParams(await page.evaluate(() => location.search));
}

export async function controlsRun(context: BrowserContext, base: string, artifacts: string, check: Check): Promise<void> {
  const student = defaultDemoModel();
  const teacher = embeddedModels().default;
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const studentRef = await nodeTextReference(student.path);
  const teacherRef = await nodeTextReference(teacher.path);
  try {
    await page.goto(`${base}/?backend=wasm`);
    if (!check('controls: the page loads', (await waitLoaded(page, LOAD_MS)) === 'ready')) return;
    const ui = await page.evaluate(() => ({
      models: Array.from(document.querySelectorAll<HTMLOptionElement>('#model option'), (o) => o.value),
      model: document.querySelector<HTMLSelectElement>('#model')?.value,
      sizes: Array.from(document.querySelectorAll<HTMLOptionElement>('#size option'), (o) => o.value),
      size: document.querySelector<HTMLSelectElement>('#size')?.value,
      negative: document.querySelector('#negative') instanceof HTMLTextAreaElement,
      negativeInactive: document.querySelector('#negative')?.hasAttribute('data-inactive'),
      note: document.querySelector('#negative-note')?.textContent ?? '',
      steps: document.querySelector('#steps') instanceof HTMLInputElement,
      guidance: document.querySelector('#guidance') instanceof HTMLInputElement,
    }));
    check(
      'controls: model menu (the served models), steps, guidance, negative prompt and size (64, 128) on the page',
      ui.models.join() === `/models/micro/,/models/${teacher.name}/` && ui.model === '/models/micro/' && ui.sizes.join() === '64,128' && ui.size === '64' && ui.negative && ui.steps && ui.guidance,
      JSON.stringify(ui),
    );
    check('controls: the page says the negative prompt needs guidance above 1 (and dims it at guidance 0)', /guidance is above 1/.test(ui.note) && ui.negativeInactive === true, ui.note);

    // A first image, and its download: the PNG is the image on screen with its parameters.
    await page.fill('#prompt', PROMPT);
    await page.fill('#seed', String(SEED));
    await page.click('#generate');
    await waitFrame(page, 0, RUN_MS);
    const first = await downloadPng(page);
    const shown = await canvasPixels(page, '#output');
    const pixelDiff = first.pixels.width === shown.width ? maxChannelDiff(shown, { ...first.pixels, data: Uint8ClampedArray.from(first.pixels.data) }) : Infinity;
    check(
      'download: a PNG of the image on screen (sdxs-<seed>.png) with a parameters text naming prompt, steps, seed and size',
      first.name === `sdxs-${SEED}.png` && pixelDiff === 0 && first.parameters?.startsWith(`${PROMPT}\nSteps: 1, `) === true && /Seed: 42\b/.test(first.parameters) && /Size: 64x64/.test(first.parameters),
      `${first.name}; pixels differ by ${pixelDiff}; ${JSON.stringify(first.parameters)}`,
    );

    // Steps, guidance and a negative prompt: typed in, each change renders again; the last image has all three.
    await page.fill('#steps', '2');
    await page.fill('#guidance', '3');
    await page.fill('#negative', NEGATIVE);
    await page.press('#negative', 'Tab');
    const guided = await waitShown(page, ['Steps: 2,', `CFG scale: ${cfg(3)},`, `Negative prompt: ${NEGATIVE}`]);
    const guidedImage = await canvasPixels(page, '#output');
    const want = await studentRef.text({ prompt: PROMPT, seed: SEED, size: 64, steps: 2, guidanceScale: 3, negativePrompt: NEGATIVE });
    const diff = maxChannelDiff(guidedImage, want);
    check("controls: steps 2, guidance 3 and a negative prompt render the image Node's pipeline makes with them, within 2/255", diff <= 2, `max |browser − node| = ${diff}/255; ${JSON.stringify(guided)}`);
    const q = await query(page);
    check('controls: the address follows them', q.get('steps') === '2' && q.get('guidance') === '3' && q.get('negative') === NEGATIVE && q.get('backend') === 'wasm', q.toString());
    const second = await downloadPng(page);
    check('download: the PNG\'s parameters text is the new request\'s (steps, guidance, negative prompt)', second.parameters === guided && second.parameters.startsWith(`${PROMPT}\nNegative prompt: ${NEGATIVE}\nSteps: 2, `), JSON.stringify(second.parameters));

    // Size: 128 from the menu.
    await page.selectOption('#size', '128');
    await waitShown(page, ['Size: 128x128']);
    const big = await canvasPixels(page, '#output');
    const bigWant = await studentRef.text({ prompt: PROMPT, seed: SEED, size: 128, steps: 2, guidanceScale: 3, negativePrompt: NEGATIVE });
    const bigDiff = big.width === 128 ? maxChannelDiff(big, bigWant) : Infinity;
    check("controls: size 128 renders a 128² image equal to Node's, within 2/255", bigDiff <= 2 && (await query(page)).get('size') === '128', `${big.width}×${big.height}; max diff ${bigDiff}/255`);
    await page.screenshot({ path: join(artifacts, 'controls.png'), fullPage: true });

    // Model: the teacher from the menu loads with its own steps and guidance (and size, and no sketch pad) and renders.
    await page.selectOption('#model', `/models/${teacher.name}/`);
    await page.waitForFunction((m) => document.body.dataset.model === m, `/models/${teacher.name}/`, { timeout: LOAD_MS });
    const taught = await waitShown(page, [`Steps: ${teacher.steps},`, `CFG scale: ${cfg(teacher.guidanceScale)},`, 'Size: 64x64']);
    const fields = { steps: await page.inputValue('#steps'), guidance: await page.inputValue('#guidance'), size: await page.inputValue('#size'), pad: await page.isVisible('#pad') };
    const teacherWant = await teacherRef.text({ prompt: PROMPT, seed: SEED, size: 64, steps: teacher.steps, guidanceScale: teacher.guidanceScale, negativePrompt: NEGATIVE });
    const teacherDiff = maxChannelDiff(await canvasPixels(page, '#output'), teacherWant);
    check(
      `controls: choosing ${teacher.name} loads it with its ${teacher.steps} steps and guidance ${teacher.guidanceScale} and renders Node's image, within 2/255`,
      teacherDiff <= 2 && fields.steps === String(teacher.steps) && fields.guidance === String(teacher.guidanceScale) && fields.size === '64' && !fields.pad,
      `max diff ${teacherDiff}/255; ${JSON.stringify(fields)}; ${JSON.stringify(taught)}`,
    );
    const tq = await query(page);
    check('controls: the address names the model, without the settings that are its defaults', tq.get('model') === `/models/${teacher.name}/` && !tq.has('steps') && !tq.has('guidance') && !tq.has('size') && tq.get('negative') === NEGATIVE, tq.toString());

    // The address is a link: opened again, the page comes back with the same controls.
    await page.goto(page.url());
    await waitLoaded(page, LOAD_MS);
    const restored = await page.evaluate(() => ({
      model: document.body.dataset.model,
      menu: document.querySelector<HTMLSelectElement>('#model')?.value,
      prompt: document.querySelector<HTMLTextAreaElement>('#prompt')?.value,
      negative: document.querySelector<HTMLTextAreaElement>('#negative')?.value,
      seed: document.querySelector<HTMLInputElement>('#seed')?.value,
      steps: document.querySelector<HTMLInputElement>('#steps')?.value,
    }));
    check(
      'controls: the link restores model, prompt, negative prompt, seed and steps',
      restored.model === `/models/${teacher.name}/` && restored.menu === restored.model && restored.prompt === PROMPT && restored.negative === NEGATIVE && restored.seed === String(SEED) && restored.steps === String(teacher.steps),
      JSON.stringify(restored),
    );
    check('controls: no uncaught page errors', errors.length === 0, errors.join(' | ') || 'none');
  } finally {
    await studentRef.dispose();
    await teacherRef.dispose();
    await page.close();
  }
}
