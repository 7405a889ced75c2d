/** In-page messages: what went wrong in words a user can act on, kept until dismissed or replaced. */
import type { WorkerErrorKind } from '@sdxs/runtime-web';

export type MessageLevel = 'info' | 'warning' | 'error';

/** The explanation shown for each kind of failure (the error's own text follows it). */
export const EXPLANATIONS: Readonly<Record<WorkerErrorKind, string>> = {
  'webgpu-unavailable': 'WebGPU is not available in this browser. Use a browser with WebGPU enabled, or open the page with ?backend=wasm to run on the CPU (slower).',
  'backend-unavailable': 'This browser cannot run the model: it lacks WebAssembly SIMD.',
  'model-load': 'The model could not be loaded. Check the ?model= (and ?controlnet=) URL: it must be a diffusers folder on this site or a Hugging Face repo (hf:owner/name).',
  'out-of-memory': 'Out of memory. Close other tabs, try a smaller size (?size=256), or use WebGPU.',
  'bad-request': 'The request was refused.',
  'not-loaded': 'The model is not ready yet.',
  generate: 'Generation failed.',
};

/** Shows messages in a container; one per key, so a retry replaces its own message. */
export class MessageBoard {
  readonly #root: HTMLElement;
  readonly #byKey = new Map<string, HTMLElement>();

  constructor(root: HTMLElement) {
    this.#root = root;
  }

  show(key: string, level: MessageLevel, text: string, kind?: string): void {
    this.clear(key);
    const el = document.createElement('div');
    el.className = `message ${level}`;
    el.dataset.key = key;
    if (kind) el.dataset.kind = kind;
    el.setAttribute('role', level === 'error' ? 'alert' : 'status');
    const body = document.createElement('span');
    body.textContent = text;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'dismiss';
    close.textContent = '×';
    close.title = 'Dismiss';
    close.addEventListener('click', () => this.clear(key));
    el.append(body, close);
    this.#root.append(el);
    this.#byKey.set(key, el);
  }

  clear(key: string): void {
    this.#byKey.get(key)?.remove();
    this.#byKey.delete(key);
  }
}
