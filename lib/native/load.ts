import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { NativeAddon } from './addon-types.js';

const require = createRequire(import.meta.url);
// dist/native/load.js and lib/native/load.ts both sit two levels below the package root.
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let cached: NativeAddon | undefined;

/**
 * Where the addon is looked for: the package, or THINKTREE_ADDON_DIR (a folder whose build/Release
 * holds another build of it, e.g. the sanitizer build of `npm run test:asan`).
 */
const addonDir = process.env.THINKTREE_ADDON_DIR || packageRoot;

/** The CPU addon: a local build first, then prebuilds/<platform>-<arch>/ (node-gyp-build's order). */
export function nativeAddon(): NativeAddon {
  if (cached === undefined) {
    const load = require('node-gyp-build') as (dir: string) => unknown;
    try {
      cached = load(addonDir) as NativeAddon;
    } catch (err) {
      throw new Error(
        `thinktree: could not load the native addon from ${addonDir} (no local build in build/Release ` +
          `and no prebuilt binary for ${process.platform}-${process.arch}). Run \`npm rebuild thinktree\` ` +
          `with a C++ compiler available. Cause: ${(err as Error).message}`,
      );
    }
  }
  return cached;
}
