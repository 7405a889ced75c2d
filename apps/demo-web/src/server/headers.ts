/**
 * Response headers of every server that serves the demo (dev, preview, the browser test's). The CSP allows no
 * `'unsafe-eval'` — WebAssembly compiles under `'wasm-unsafe-eval'`, onnxruntime-web's files come from our own
 * origin (`script-src 'self'`, `worker-src 'self'` for its thread workers) — and COOP + COEP make the page
 * cross-origin isolated, which WebAssembly threads need (SharedArrayBuffer).
 */

/** Hosts model files may come from besides our own origin: Hugging Face and the CDNs its `resolve` URLs redirect to. */
export const MODEL_HOSTS = ['https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co'];

/**
 * The Content-Security-Policy. `dev` adds what Vite's dev server needs: inline `<style>` for CSS modules it injects
 * and its HMR websocket; the script policy is the same in both.
 *
 * @example
 * contentSecurityPolicy(); // "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; …"
 */
export function contentSecurityPolicy(options: { dev?: boolean } = {}): string {
  const dev = options.dev === true;
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self'",
    `connect-src 'self' ${MODEL_HOSTS.join(' ')}${dev ? ' ws://127.0.0.1:* ws://localhost:*' : ''}`,
    "img-src 'self' data: blob:",
    `style-src 'self'${dev ? " 'unsafe-inline'" : ''}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers for every response: CSP, cross-origin isolation, and no sniffing. */
export function securityHeaders(options: { dev?: boolean } = {}): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(options),
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
}
