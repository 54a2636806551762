// Prints the gzipped size of the JavaScript a first visit downloads: the
// entry script of dist/index.html and every chunk it preloads, plus each
// lazily loaded route chunk for reference. Run after `npm run build`.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist');
const html = readFileSync(path.join(dist, 'index.html'), 'utf8');
const initial = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
const gz = (f) => gzipSync(readFileSync(path.join(dist, f)), { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

let total = 0;
for (const f of initial) {
  const n = gz(f);
  total += n;
  console.log(`initial  ${kb(n).padStart(9)}  ${f}`);
}
for (const f of readdirSync(path.join(dist, 'assets')).filter((f) => f.endsWith('.js'))) {
  if (!initial.includes(`assets/${f}`)) console.log(`lazy     ${kb(gz(`assets/${f}`)).padStart(9)}  assets/${f}`);
}
console.log(`initial JS: ${kb(total)} gzipped (budget 200 KB)`);
if (total > 200 * 1024) process.exit(1);
