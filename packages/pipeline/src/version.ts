/** The sdxs version written into image metadata (kept equal to package.json's by test/version.test.ts). */
export const SDXS_VERSION = '0.1.0';
