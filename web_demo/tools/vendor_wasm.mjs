// Copies the LiteRT.js runtime (ES modules + wasm files) from node_modules into web_demo/vendor/
// so the page is served as static files with nothing fetched from a CDN. Run by `npm ci`
// (postinstall); vendor/ is git-ignored.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nm = join(root, 'node_modules', '@litertjs');
const out = join(root, 'vendor', 'litertjs');
const files = [
  [join(nm, 'core', 'dist', 'index.js'), join(out, 'core', 'index.js')],
  [join(nm, 'wasm-utils', 'dist', 'index.js'), join(out, 'wasm-utils', 'index.js')],
  [join(nm, 'core', 'wasm'), join(out, 'wasm')],
];
for (const [src] of files) {
  if (!existsSync(src)) {
    console.error(`vendor_wasm: ${src} is missing; run \`npm ci\` in web_demo/`);
    process.exit(1);
  }
}
rmSync(out, { recursive: true, force: true });
for (const [src, dst] of files) {
  mkdirSync(dirname(dst), { recursive: true });
  cpSync(src, dst, { recursive: true });
}
const version = JSON.parse(
  (await import('node:fs')).readFileSync(join(nm, 'core', 'package.json'), 'utf8'),
).version;
writeFileSync(join(out, 'VERSION'), `@litertjs/core ${version}\n`);
console.log(`vendor_wasm: @litertjs/core ${version} -> ${out}`);
