/** Driving the demo page: wait for states, read canvases, draw on the pad. */
import type { Page } from 'playwright-core';

export interface Pixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/** The page finished loading: 'ready' or 'failed'. */
export async function waitLoaded(page: Page, timeoutMs: number): Promise<string> {
  await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'failed', undefined, { timeout: timeoutMs });
  return page.evaluate(() => document.body.dataset.state ?? '');
}

/** RGBA pixels of a canvas of the page. */
export async function canvasPixels(page: Page, selector: string): Promise<Pixels> {
  const r = await page.evaluate((sel) => {
    const c = document.querySelector(sel);
    if (!(c instanceof HTMLCanvasElement)) throw new Error(`no canvas ${sel}`);
    const ctx = c.getContext('2d');
    if (!ctx) throw new Error('no 2d context');
    return { width: c.width, height: c.height, data: Array.from(ctx.getImageData(0, 0, c.width, c.height).data) };
  }, selector);
  return { width: r.width, height: r.height, data: Uint8ClampedArray.from(r.data) };
}

/** The output canvas's frame counter (increments with every image shown). */
export async function frameCount(page: Page): Promise<number> {
  return page.evaluate(() => Number(document.querySelector<HTMLCanvasElement>('#output')?.dataset.frame ?? 0));
}

/** Wait until more than `after` images have been shown. */
export async function waitFrame(page: Page, after: number, timeoutMs: number): Promise<void> {
  await page.waitForFunction((n) => Number(document.querySelector<HTMLCanvasElement>('#output')?.dataset.frame ?? 0) > n, after, { timeout: timeoutMs });
}

/** Wait until the image on screen answers the pad's newest push (the live stream has caught up). */
export async function waitLiveCaughtUp(page: Page, timeoutMs: number): Promise<void> {
  await page.waitForFunction(
    () => {
      const pushed = document.querySelector<HTMLCanvasElement>('#pad')?.dataset.pushed;
      return pushed !== undefined && document.querySelector<HTMLCanvasElement>('#output')?.dataset.streamFrame === pushed;
    },
    undefined,
    { timeout: timeoutMs },
  );
}

/** Draw a stroke with the mouse across the pad, from and to fractions of its box. */
export async function drawStroke(page: Page, from: readonly [number, number], to: readonly [number, number], steps = 12): Promise<void> {
  const box = await page.locator('#pad').boundingBox();
  if (!box) throw new Error('the sketch pad is not visible');
  const at = (f: readonly [number, number]) => [box.x + f[0] * box.width, box.y + f[1] * box.height] as const;
  const [x0, y0] = at(from);
  const [x1, y1] = at(to);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  await page.mouse.move(x1, y1, { steps });
  await page.mouse.up();
}

/** Messages shown on the page, with their kind and level. */
export async function pageMessages(page: Page): Promise<{ kind: string; level: string; text: string }[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('#messages .message'), (el) => ({
      kind: el.dataset.kind ?? '',
      level: Array.from(el.classList).find((c) => c !== 'message') ?? '',
      text: el.textContent ?? '',
    })),
  );
}
