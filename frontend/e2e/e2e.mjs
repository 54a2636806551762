// End-to-end check of the built SPA against a running server, in a real
// headless Chromium driven by playwright-core (no browser download).
//
//   SPA_URL             the web app's origin (default BASE_URL, then http://127.0.0.1:8000)
//   API_URL             the API's origin (default SPA_URL: the same-origin local shape;
//                       make dev-aws: another origin, as API Gateway is)
//   LAMBDA_INVOKE_URL   Lambda Invoke API of the sync function: when set, one sync
//                       runs by EventBridge's scheduled event as well (make dev-aws)
//   SYNC_TRIGGER_TOKEN  operator token for POST /api/sync/run
//   CHROMIUM_PATH       browser binary (default /usr/bin/chromium)
//   SCREENSHOT_DIR      where screenshots go (default <repo>/docs/screenshots)
//   SCREENSHOT_PREFIX   prefix of the screenshots' names (e.g. aws-)
//   E2E_KEEP_GOING=1    run the remaining steps after a failed one
//   SET_QUOTA_BIN       the local binary (with DATABASE_URL in the environment): its
//                       -set-quota gives the user a quota for the quota refusal step
//
// Prints one line per step and finally "e2e: N passed, M failed"; exits
// non-zero on any failure, console error, React warning or
// Content-Security-Policy violation in the page.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE_URL = (process.env.SPA_URL || process.env.BASE_URL || 'http://127.0.0.1:8000').replace(/\/+$/, '');
const API_URL = (process.env.API_URL || BASE_URL).replace(/\/+$/, '');
const INVOKE_URL = process.env.LAMBDA_INVOKE_URL || '';
const SHOT = (name) => path.join(SCREENSHOT_DIR, `${process.env.SCREENSHOT_PREFIX || ''}${name}`);
const KEEP_GOING = process.env.E2E_KEEP_GOING === '1';
const SYNC_TRIGGER_TOKEN = process.env.SYNC_TRIGGER_TOKEN || '';
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || path.resolve(here, '../../docs/screenshots');
const TIMEOUT = 20_000;
// The file list polls every 15 s; a sync shows up within one or two polls.
const SYNC_SHOW_TIMEOUT = 45_000;

const results = [];
const pageProblems = [];
let passed = 0;
let failed = 0;

// What the file list says of a file whose SHA-256 is not known yet.
const PENDING_SHA = 'SHA-256 computed on the move to cold storage';

async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    const problems = pageProblems.splice(0);
    if (problems.length > 0) throw new Error(`page console errors/warnings:\n    ${problems.join('\n    ')}`);
    passed += 1;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    failed += 1;
    const problems = pageProblems.splice(0);
    console.log(`FAIL ${name}: ${err instanceof Error ? err.message : String(err)}`);
    if (problems.length > 0) console.log(`     page console: ${problems.join('\n     ')}`);
    if (!KEEP_GOING) throw err;
    return;
  }
  results.push(name);
}

function expect(cond, message) {
  if (!cond) throw new Error(message);
}

const email = `e2e-${Date.now()}-${randomBytes(3).toString('hex')}@example.com`;
const password = `E2e-pass-${randomBytes(4).toString('hex')}`;
// Binary content for the dropped file, text for the picked one.
const dropped = { name: `dropped-${randomBytes(3).toString('hex')}.bin`, mimeType: 'application/octet-stream', buffer: randomBytes(200 * 1024 + 17) };
const picked = {
  name: `picked-${randomBytes(3).toString('hex')}.txt`,
  mimeType: 'text/plain',
  buffer: Buffer.from(`hello from the e2e test\n${'line of text\n'.repeat(500)}`),
};

const profileDir = mkdtempSync(path.join(tmpdir(), 'e2e-chromium-'));
mkdirSync(SCREENSHOT_DIR, { recursive: true });

const context = await chromium.launchPersistentContext(profileDir, {
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  acceptDownloads: true,
  viewport: { width: 1280, height: 860 },
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
context.setDefaultTimeout(TIMEOUT);
// A CSP violation is a failure even where Chromium logs nothing.
await context.addInitScript(() => {
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'}`);
  });
});
const page = context.pages()[0] ?? (await context.newPage());

let syncStatusMissing = false;
// A step that makes requests fail on purpose says which (by URL), so that
// Chromium's "Failed to load resource" lines for them are not problems.
let expectFailedLoads = null;
page.on('response', (res) => {
  if (new URL(res.url()).pathname === '/api/sync/status' && res.status() === 404) syncStatusMissing = true;
});
page.on('console', (msg) => {
  const text = msg.text();
  if (msg.type() === 'error' || (msg.type() === 'warning' && /Warning:|React/.test(text))) {
    // The sync status endpoint may not exist yet; the app hides its card on
    // 404 by design, but Chromium still logs the failed request.
    if (syncStatusMissing && /Failed to load resource: the server responded with a status of 404/.test(text) && msg.location().url.includes('/api/sync/status')) {
      return;
    }
    if (expectFailedLoads && /^Failed to load resource/.test(text) && expectFailedLoads(msg.location().url)) return;
    pageProblems.push(`[${msg.type()}] ${text} (${msg.location().url})`);
  }
});
page.on('pageerror', (err) => pageProblems.push(`[pageerror] ${err.message}`));

async function downloadAndCompare(f, tier) {
  await fileRow(f.name).getByText(tier, { exact: true }).waitFor();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: `Download ${f.name}` }).click(),
  ]);
  expect(download.suggestedFilename() === f.name, `saved as ${download.suggestedFilename()}`);
  const saved = readFileSync(await download.path());
  expect(saved.equals(f.buffer), `downloaded ${saved.length} bytes differ from the ${f.buffer.length} uploaded`);
}

function fileRow(name) {
  return page.getByRole('row', { name: new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) });
}

async function runSync() {
  for (let attempt = 0; attempt < 20; attempt++) {
    const res = await fetch(`${API_URL}/api/sync/run`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${SYNC_TRIGGER_TOKEN}` },
    });
    const body = await res.text();
    if (res.status === 404) return { skipped: true, status: 404 };
    if (res.status === 409) {
      await new Promise((r) => setTimeout(r, 1000)); // SYNC_RUNNING: another run holds the lock
      continue;
    }
    expect(res.status === 200, `POST /api/sync/run answered ${res.status}: ${body}`);
    return { skipped: false, status: 200, body };
  }
  throw new Error('POST /api/sync/run kept answering 409 SYNC_RUNNING');
}

let exitCode = 0;
let big = null;
let resumed = null;
try {
  await step('login page renders', async () => {
    const doc = await page.goto(`${BASE_URL}/login`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    const h = doc.headers();
    const csp = h['content-security-policy'] || '';
    for (const want of ["default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'"]) {
      expect(csp.includes(want), `the SPA's Content-Security-Policy ${JSON.stringify(csp)} has no ${want}`);
    }
    if (API_URL !== BASE_URL) expect(csp.includes(API_URL), `connect-src does not name the API ${API_URL}: ${csp}`);
    expect(h['x-frame-options'] === 'DENY', `X-Frame-Options ${h['x-frame-options']}`);
    expect(!!h['referrer-policy'], 'no Referrer-Policy');
    await page.screenshot({ path: SHOT('login.png') });
  });

  await step('the API describes itself (GET /api/openapi.json from the web app\'s page)', async () => {
    // Fetched by the page, so on the AWS shape the API's CORS applies too.
    const doc = await page.evaluate(async (url) => {
      const r = await fetch(`${url}/api/openapi.json`);
      return { status: r.status, body: await r.json() };
    }, API_URL);
    expect(doc.status === 200, `status ${doc.status}`);
    expect(doc.body.openapi === '3.1.0', `openapi ${doc.body.openapi}`);
    for (const p of ['/api/files', '/api/files/uploads', '/api/auth/login']) {
      expect(!!(doc.body.paths || {})[p], `the document has no ${p}`);
    }
  });

  await step(`sign up as ${email}`, async () => {
    await page.getByRole('link', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('meter', { name: 'Password strength' }).waitFor();
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('Account created. Log in to continue.').waitFor();
  });

  await step('log in', async () => {
    expect((await page.getByLabel('Email', { exact: true }).inputValue()) === email, 'email not carried over from signup');
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${BASE_URL}/dashboard`);
    await page.getByRole('heading', { name: 'Your files' }).waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByText(email).waitFor();
    await page.getByText('No files yet. Upload your first file above.').waitFor();
  });

  await step('upload a file by drag and drop', async () => {
    const dataTransfer = await page.evaluateHandle(
      ({ name, mimeType, base64 }) => {
        const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], name, { type: mimeType }));
        return dt;
      },
      { name: dropped.name, mimeType: dropped.mimeType, base64: dropped.buffer.toString('base64') },
    );
    const zone = page.getByTestId('dropzone');
    await zone.dispatchEvent('dragenter', { dataTransfer });
    await zone.dispatchEvent('dragover', { dataTransfer });
    await zone.dispatchEvent('drop', { dataTransfer });
    await page.getByRole('listitem', { name: dropped.name }).getByText('Uploaded').waitFor();
    await page.getByText(`Uploaded ${dropped.name}`).waitFor();
  });

  await step('upload a file with the file picker', async () => {
    await page.getByLabel('Choose files to upload').setInputFiles(picked);
    await page.getByRole('listitem', { name: picked.name }).getByText('Uploaded').waitFor();
  });

  // Files above the server's multipart threshold go through the presigned
  // multipart flow (create → PUT parts straight to storage → complete).
  const config = await (await fetch(`${API_URL}/api/config`)).json();
  const threshold = Number(config.multipart_threshold_bytes) || 0;
  if (threshold <= 0) {
    console.log('e2e: SKIP multipart step (GET /api/config: multipart_threshold_bytes is 0)');
  } else if (2 * threshold + (1 << 20) > Math.min(Number(config.max_file_size_bytes) || Infinity, 64 << 20)) {
    console.log(`e2e: SKIP multipart step (threshold ${threshold} bytes is too large for a quick test)`);
  } else {
    big = {
      name: `multipart-${randomBytes(3).toString('hex')}.bin`,
      mimeType: 'application/octet-stream',
      buffer: randomBytes(2 * threshold + (1 << 20) + 123),
    };
    let storageOrigin = null;
    await step(`upload ${big.name} (${big.buffer.length} bytes) through the multipart flow`, async () => {
      const parts = [];
      const api = [];
      const onRequest = (req) => {
        const u = new URL(req.url());
        if (req.method() === 'PUT' && !u.pathname.startsWith('/api/')) parts.push(req.url());
        else if (req.method() === 'POST' && u.pathname.startsWith('/api/files/upload')) api.push(u.pathname);
      };
      page.on('request', onRequest);
      await page.getByLabel('Choose files to upload').setInputFiles(big);
      const row = page.getByRole('listitem', { name: big.name });
      await row.getByText('Uploaded').waitFor({ timeout: 60_000 });
      page.off('request', onRequest);
      console.log(`     ${parts.length} part(s) PUT straight to storage`);
      expect(parts.length >= 1, 'no part was PUT to storage');
      expect(
        api.length === 2 && api[0] === '/api/files/uploads' && api[1].endsWith('/complete'),
        `expected create + complete, saw ${api.join(', ')}`,
      );
      await fileRow(big.name).getByText('MinIO', { exact: true }).waitFor();
      // Completion does not read the file again: its SHA-256 comes with the sync.
      await fileRow(big.name).getByText(PENDING_SHA).waitFor();
      storageOrigin = new URL(parts[0]).origin;
    });

    // An interrupted multipart upload resumes: storage refuses part 2 (the
    // connection fails), the server keeps part 1, and Resume sends only
    // part 2 with a fresh URL before completing.
    resumed = {
      name: `resumed-${randomBytes(3).toString('hex')}.bin`,
      mimeType: 'application/octet-stream',
      buffer: randomBytes(big.buffer.length),
    };
    await step(`resume ${resumed.name} after its part 2 fails, without sending part 1 again`, async () => {
      expect(storageOrigin, 'the multipart step did not see the storage origin');
      const isPart2 = (url) => {
        const u = new URL(url);
        return u.origin === storageOrigin && u.searchParams.get('partNumber') === '2';
      };
      const matchPart2 = (url) => isPart2(url.href);
      const puts = new Map(); // part number → PUTs to storage
      const api = [];
      const onRequest = (req) => {
        const u = new URL(req.url());
        if (req.method() === 'PUT' && u.origin === storageOrigin) {
          const n = u.searchParams.get('partNumber');
          puts.set(n, (puts.get(n) ?? 0) + 1);
        } else if (u.pathname.startsWith('/api/files/uploads')) {
          api.push(`${req.method()} ${u.pathname}`);
        }
      };
      const failPart2 = (route) => route.abort('connectionfailed');
      page.on('request', onRequest);
      expectFailedLoads = isPart2;
      await page.route(matchPart2, failPart2);
      try {
        await page.getByLabel('Choose files to upload').setInputFiles(resumed);
        const row = page.getByRole('listitem', { name: resumed.name });
        const resume = row.getByRole('button', { name: `Resume upload of ${resumed.name}` });
        await resume.waitFor({ timeout: 60_000 });
        await row.getByRole('button', { name: `Discard upload of ${resumed.name}` }).waitFor();
        await row.getByText(/^Interrupted at \d+%$/).waitFor();
        expect((puts.get('1') ?? 0) === 1, `part 1 was PUT ${puts.get('1') ?? 0} times before the resume`);
        expect((puts.get('2') ?? 0) >= 1, 'part 2 was never tried');
        expect(!api.some((a) => a.startsWith('DELETE')), `the failed upload was aborted: ${api.join(', ')}`);

        await page.unroute(matchPart2, failPart2);
        const triesBefore = puts.get('2');
        await resume.click();
        await row.getByText('Uploaded').waitFor({ timeout: 60_000 });
        console.log(`     part 1 PUT ${puts.get('1')} time(s); part 2 ${triesBefore} failed attempt(s), then ${puts.get('2') - triesBefore} after Resume`);
        expect(puts.get('1') === 1, `part 1 was PUT ${puts.get('1')} times in total, not once`);
        expect(puts.get('2') === triesBefore + 1, `part 2 was PUT ${puts.get('2') - triesBefore} times after Resume`);
        const creates = api.filter((a) => a === 'POST /api/files/uploads');
        const id = api.find((a) => a.startsWith('POST /api/files/uploads/'))?.split('/')[4];
        expect(creates.length === 1, `expected one create, saw ${api.join(', ')}`);
        expect(api.includes(`GET /api/files/uploads/${id}`), `no GET of the upload to resume: ${api.join(', ')}`);
        expect(api.at(-1) === `POST /api/files/uploads/${id}/complete`, `the last call was not complete: ${api.join(', ')}`);
        const pending = await page.evaluate(() =>
          Object.keys(localStorage)
            .filter((k) => k.startsWith('hybrid-storage.pending-uploads.'))
            .map((k) => localStorage.getItem(k))
            .join(''),
        );
        expect(!pending.includes(resumed.name), `the finished upload is still remembered: ${pending}`);
      } finally {
        await page.unroute(matchPart2).catch(() => undefined);
        page.off('request', onRequest);
        expectFailedLoads = null;
      }
      await fileRow(resumed.name).getByText('MinIO', { exact: true }).waitFor();
    });
  }

  await step('both files are listed in MinIO', async () => {
    for (const f of [dropped, picked]) {
      await fileRow(f.name).getByText('MinIO', { exact: true }).waitFor();
    }
    await page.screenshot({ path: SHOT('dashboard-minio.png'), fullPage: true });
  });

  // From the hot tier: a small file, and the large one.
  for (const f of [picked, big].filter(Boolean)) {
    await step(`download ${f.name} from MinIO and compare bytes and name`, () => downloadAndCompare(f, 'MinIO'));
  }

  const sync = await runSync().catch((err) => ({ error: err }));
  if ('error' in sync) {
    await step('run the sync job (POST /api/sync/run)', async () => {
      throw sync.error;
    });
  } else if (sync.skipped) {
    console.log('e2e: SKIP sync step (POST /api/sync/run answered 404)');
  } else {
    await step('run the sync job (POST /api/sync/run)', async () => {
      expect(sync.status === 200, `sync answered ${sync.status}`);
    });
    await step('both files show S3 without a reload (auto-refresh)', async () => {
      const navigations = [];
      page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));
      for (const f of [dropped, picked]) {
        await fileRow(f.name).getByText('S3', { exact: true }).waitFor({ timeout: SYNC_SHOW_TIMEOUT });
        await fileRow(f.name).getByText(/^synced /).waitFor();
      }
      if (big) {
        // The sync computed the presigned file's SHA-256: the note is gone.
        await fileRow(big.name).getByText('S3', { exact: true }).waitFor({ timeout: SYNC_SHOW_TIMEOUT });
        expect((await fileRow(big.name).getByText(PENDING_SHA).count()) === 0, `${big.name} still says "${PENDING_SHA}" after the sync`);
      }
      expect(navigations.length === 0, `the page navigated: ${navigations.join(', ')}`);
      await page.screenshot({ path: SHOT('dashboard-s3.png'), fullPage: true });
    });
  }

  // From the cold tier: every file, small and large.
  for (const f of [dropped, picked, big, resumed].filter(Boolean)) {
    await step(`download ${f.name} from S3 and compare bytes and name`, () => downloadAndCompare(f, 'S3'));
  }

  // A file uploaded after the run stays in MinIO: search and the tier filter.
  const late = { name: `late-${randomBytes(3).toString('hex')}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`late file\n${'z'.repeat(3000)}`) };
  await step(`upload ${late.name} after the sync`, async () => {
    await page.getByLabel('Choose files to upload').setInputFiles(late);
    await fileRow(late.name).getByText('MinIO', { exact: true }).waitFor();
  });

  await step('search by name and filter by tier', async () => {
    const search = page.getByLabel('Search files');
    await search.fill(picked.name.slice(0, 12));
    await fileRow(picked.name).waitFor();
    await fileRow(dropped.name).waitFor({ state: 'detached' });
    await fileRow(late.name).waitFor({ state: 'detached' });
    await search.fill('');
    await fileRow(dropped.name).waitFor();
    const tier = page.getByLabel('Storage tier');
    await tier.selectOption('minio');
    await fileRow(late.name).waitFor();
    await fileRow(picked.name).waitFor({ state: 'detached' });
    await tier.selectOption('s3');
    await fileRow(picked.name).waitFor();
    await fileRow(late.name).waitFor({ state: 'detached' });
    await tier.selectOption('');
    await fileRow(late.name).waitFor();
    await fileRow(picked.name).waitFor();
  });

  if (INVOKE_URL) {
    // EventBridge's nightly event, posted to the sync function as Lambda's
    // Invoke API does: the late file moves to S3 and the page shows it.
    await step('scheduled sync (EventBridge event) moves the late file; the badge follows without a reload', async () => {
      const event = readFileSync(path.resolve(here, '../../shared/lambdafn/testdata/eventbridge-scheduled-event.json'));
      let body = '';
      for (let attempt = 0; attempt < 20; attempt++) {
        const res = await fetch(INVOKE_URL, { method: 'POST', body: event });
        body = await res.text();
        expect(res.status === 200 && !res.headers.get('x-amz-function-error'), `invoke answered ${res.status}: ${body}`);
        if (!JSON.parse(body).skipped) break;
        await new Promise((r) => setTimeout(r, 1000)); // a run was going
      }
      const answer = JSON.parse(body);
      expect(answer.report && answer.report.trigger === 'schedule' && answer.report.synced >= 1, `scheduled run: ${body}`);
      await fileRow(late.name).getByText('S3', { exact: true }).waitFor({ timeout: SYNC_SHOW_TIMEOUT });
    });
    await step(`download ${late.name} from S3 after the scheduled run`, () => downloadAndCompare(late, 'S3'));
  }

  // A quota just above what the account stores: the web app refuses a file
  // that does not fit before sending it, and both upload paths answer 413
  // QUOTA_EXCEEDED to a client that sends anyway.
  if (!process.env.SET_QUOTA_BIN) {
    console.log('e2e: SKIP quota step (SET_QUOTA_BIN unset)');
  } else {
    await step('a file past the storage quota is refused (web app check, then 413 QUOTA_EXCEEDED on both upload paths)', async () => {
      const setQuota = (mb) => execFileSync(process.env.SET_QUOTA_BIN, ['-set-quota', email, String(mb)], { stdio: 'pipe' });
      const token = await page.evaluate(() => localStorage.getItem('hybrid-storage.token'));
      const auth = { Authorization: `Bearer ${token}` };
      const used = (await (await fetch(`${API_URL}/api/usage`, { headers: auth })).json()).used_bytes;
      const mb = Math.ceil(used / (1 << 20)) + 1;
      setQuota(mb);
      try {
        await page.reload();
        await page.getByRole('meter', { name: 'Storage used' }).waitFor();
        await page.getByText(new RegExp(`of ${mb}(\\.0)? MB used$`)).waitFor();
        const tooBig = { name: `too-big-${randomBytes(3).toString('hex')}.bin`, mimeType: 'application/octet-stream', buffer: randomBytes(2 << 20) };
        await page.getByLabel('Choose files to upload').setInputFiles(tooBig);
        await page.getByRole('listitem', { name: tooBig.name }).getByText(/your storage quota has .* left/).waitFor();
        const created = await fetch(`${API_URL}/api/files/uploads`, {
          method: 'POST',
          headers: { ...auth, 'Content-Type': 'application/json' },
          body: JSON.stringify({ filename: tooBig.name, size: tooBig.buffer.length }),
        });
        const createdBody = await created.json();
        expect(created.status === 413 && createdBody.error_code === 'QUOTA_EXCEEDED', `POST /api/files/uploads answered ${created.status} ${JSON.stringify(createdBody)}`);
        const form = new FormData();
        form.append('file', new Blob([tooBig.buffer]), tooBig.name);
        const streamed = await fetch(`${API_URL}/api/files/upload`, { method: 'POST', headers: auth, body: form });
        const streamedBody = await streamed.json();
        expect(streamed.status === 413 && streamedBody.error_code === 'QUOTA_EXCEEDED', `POST /api/files/upload answered ${streamed.status} ${JSON.stringify(streamedBody)}`);
        const after = (await (await fetch(`${API_URL}/api/usage`, { headers: auth })).json()).used_bytes;
        expect(after === used, `usage went from ${used} to ${after} bytes`);
      } finally {
        setQuota('default');
      }
    });
  }

  await step('phone-sized screen shows cards', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('list', { name: 'Files' }).waitFor();
    expect((await page.getByRole('table').count()) === 0, 'the table is still shown on a phone');
    await page.screenshot({ path: SHOT('phone.png') });
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.getByRole('table').waitFor();
  });

  // Share links: made in the web app with a password, opened in a fresh,
  // logged-out browser (a phone-sized one), wrong password refused, the right
  // one downloads the same bytes, then revoked: the page says gone.
  const sharePassword = `share-${randomBytes(4).toString('hex')}`;
  let shareUrl = '';
  let guest = null;
  let guestPage = null;
  await step(`share ${picked.name} with a password from the web app`, async () => {
    await page.getByRole('button', { name: `Share ${picked.name}` }).click();
    const dialog = page.getByRole('dialog', { name: `Share ${picked.name}` });
    await dialog.getByText('No live links.').waitFor();
    await dialog.getByLabel('Link expires after').selectOption('24');
    await dialog.getByLabel('Password (optional)').fill(sharePassword);
    await dialog.getByLabel('Download limit (optional)').fill('5');
    await dialog.getByRole('button', { name: 'Create link' }).click();
    const link = dialog.getByLabel('New link (shown once)');
    await link.waitFor();
    shareUrl = await link.inputValue();
    expect(shareUrl.startsWith(`${BASE_URL}/s/`), `share link ${shareUrl} is not on the web app's origin ${BASE_URL}`);
    expect(!shareUrl.includes(sharePassword), 'the password is in the link');
    await dialog.getByTestId('share-row').getByText(/0 of 5 downloads · password/).waitFor();
    await page.screenshot({ path: SHOT('share-dialog.png') });
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
  });

  await step('the share link works logged out: no URL without the password, wrong one refused, right one downloads the same bytes', async () => {
    guest = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
    });
    const ctx = await guest.newContext({ acceptDownloads: true, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    ctx.setDefaultTimeout(TIMEOUT);
    guestPage = await ctx.newPage();
    guestPage.on('console', (msg) => {
      const text = msg.text();
      // The refused attempts are 401s and the revoked link a 410 on purpose.
      if (/^Failed to load resource/.test(text) && msg.location().url.includes('/api/public/shares/')) return;
      if (msg.type() === 'error') pageProblems.push(`[guest ${msg.type()}] ${text} (${msg.location().url})`);
    });
    guestPage.on('pageerror', (err) => pageProblems.push(`[guest pageerror] ${err.message}`));
    const publicAnswers = [];
    guestPage.on('response', async (res) => {
      if (res.url().includes('/api/public/shares/')) publicAnswers.push({ url: res.url(), status: res.status(), body: await res.text().catch(() => '') });
    });
    await guestPage.goto(shareUrl);
    await guestPage.getByTestId('shared-filename').getByText(picked.name, { exact: true }).waitFor();
    expect(new URL(guestPage.url()).pathname.startsWith('/s/'), `the logged-out page went to ${guestPage.url()}`);
    const pw = guestPage.getByLabel('Password');
    await pw.waitFor();
    await guestPage.screenshot({ path: SHOT('share-public.png') });
    // Keyboard only: focus the field, type a wrong password, Enter.
    await pw.focus();
    await guestPage.keyboard.type(`${sharePassword}-wrong`);
    await guestPage.keyboard.press('Enter');
    await guestPage.getByText('Wrong password.').waitFor();
    await pw.fill(sharePassword);
    const [download] = await Promise.all([guestPage.waitForEvent('download'), guestPage.getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename() === picked.name, `saved as ${download.suggestedFilename()}`);
    const saved = readFileSync(await download.path());
    expect(saved.equals(picked.buffer), `downloaded ${saved.length} bytes differ from the ${picked.buffer.length} uploaded`);
    const get = publicAnswers.find((a) => a.url.endsWith(new URL(shareUrl).pathname.slice(3)) && a.status === 200);
    expect(get && !/https?:/.test(get.body), `GET of the public share carries a URL: ${get?.body}`);
    const refused = publicAnswers.find((a) => a.status === 401);
    expect(refused && !/https?:/.test(refused.body), `the refused download answered ${refused?.status}: ${refused?.body}`);
    // The API without any password gives no URL either.
    const tok = new URL(shareUrl).pathname.split('/').pop();
    const bare = await fetch(`${API_URL}/api/public/shares/${tok}/download`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    const bareBody = await bare.text();
    expect(bare.status === 401 && !/https?:/.test(bareBody), `POST without the password answered ${bare.status}: ${bareBody}`);
  });

  await step('revoke the link in the web app; the public page then says it is gone', async () => {
    await page.getByRole('button', { name: `Share ${picked.name}` }).click();
    const dialog = page.getByRole('dialog', { name: `Share ${picked.name}` });
    const row = dialog.getByTestId('share-row');
    await row.getByText(/1 of 5 downloads · password/).waitFor();
    await row.getByRole('button', { name: /Revoke/ }).click();
    await dialog.getByText('No live links.').waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await guestPage.reload();
    await guestPage.getByText(/This link is no longer available/).waitFor();
    await guest.close();
    guest = null;
  });
  if (guest) await guest.close().catch(() => {});

  // Delete moves to the trash: Undo in the toast, Restore in the Trash view,
  // Delete forever there (the API then answers 404 for it everywhere).
  const apiAs = async (method, path) => {
    const token = await page.evaluate(() => localStorage.getItem('hybrid-storage.token'));
    return fetch(`${API_URL}${path}`, { method, headers: { Authorization: `Bearer ${token}` } });
  };
  // Toasts live 5 s: wait for earlier ones to go, so a message is this step's.
  const noToasts = async () => {
    const toasts = page.getByRole('region', { name: 'Notifications' }).locator('[role=status], [role=alert]');
    for (let i = 0; i < 100 && (await toasts.count()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
  };
  const moveToTrash = async (f) => {
    await noToasts();
    await page.getByRole('button', { name: `Delete ${f.name}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Move to trash?' });
    await dialog.waitFor();
    await dialog.getByText(/you can restore it there for \d+ days/).waitFor();
    await dialog.getByRole('button', { name: 'Move to trash' }).click();
    await page.getByText(`Moved ${f.name} to the trash`).waitFor();
    await fileRow(f.name).waitFor({ state: 'detached' });
  };
  const trashRow = (name) => page.getByRole('listitem', { name });
  await step(`delete ${dropped.name}, then Undo in the toast`, async () => {
    await moveToTrash(dropped);
    await fileRow(picked.name).waitFor();
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByText(`Restored ${dropped.name}`).waitFor();
    await fileRow(dropped.name).waitFor();
  });

  await step(`delete ${dropped.name}, restore it from the Trash`, async () => {
    await moveToTrash(dropped);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trash' }).click();
    await page.waitForURL(`${BASE_URL}/trash`);
    await trashRow(dropped.name).getByText(/^(30|29) days left$/).waitFor();
    await page.screenshot({ path: SHOT('trash.png'), fullPage: true });
    await noToasts();
    await page.getByRole('button', { name: `Restore ${dropped.name}` }).click();
    await page.getByText(`Restored ${dropped.name}`).waitFor();
    await page.getByText('The trash is empty.').waitFor();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Files' }).click();
    await page.waitForURL(`${BASE_URL}/dashboard`);
    await downloadAndCompare(dropped, sync.skipped || 'error' in sync ? 'MinIO' : 'S3');
  });

  await step(`delete ${dropped.name} forever from the Trash`, async () => {
    const listed = await (await apiAs('GET', '/api/files?limit=200')).json();
    const id = listed.files.find((f) => f.original_filename === dropped.name)?.id;
    expect(id, `${dropped.name} is not in GET /api/files`);
    await moveToTrash(dropped);
    const gone = await apiAs('GET', `/api/files/${id}/download`);
    expect(gone.status === 404, `download of a trashed file answered ${gone.status}`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trash' }).click();
    await noToasts();
    await page.getByRole('button', { name: `Delete ${dropped.name} forever` }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete forever?' });
    await dialog.getByRole('button', { name: 'Delete forever' }).click();
    await page.getByText(`Deleted ${dropped.name} forever`).waitFor();
    await page.getByText('The trash is empty.').waitFor();
    const restore = await apiAs('POST', `/api/trash/${id}/restore`);
    expect(restore.status === 404, `restore after the purge answered ${restore.status}`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Files' }).click();
    await fileRow(picked.name).waitFor();
    await fileRow(dropped.name).waitFor({ state: 'detached' });
  });

  const emptied = { name: `emptied-${randomBytes(3).toString('hex')}.txt`, mimeType: 'text/plain', buffer: Buffer.from('to the trash, then emptied\n') };
  await step(`empty the trash in the web app (DELETE /api/trash) with ${emptied.name} in it`, async () => {
    await page.getByLabel('Choose files to upload').setInputFiles(emptied);
    await page.getByRole('listitem', { name: emptied.name }).getByText('Uploaded').waitFor();
    const listed = await (await apiAs('GET', '/api/files?limit=200')).json();
    const id = listed.files.find((f) => f.original_filename === emptied.name)?.id;
    expect(id, `${emptied.name} is not in GET /api/files`);
    await moveToTrash(emptied);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trash' }).click();
    await trashRow(emptied.name).waitFor();
    await noToasts();
    await page.getByRole('button', { name: 'Empty trash' }).click();
    const dialog = page.getByRole('dialog', { name: 'Empty the trash?' });
    await dialog.getByRole('button', { name: 'Empty trash' }).click();
    await page.getByText('The trash is empty.').waitFor();
    const trash = await (await apiAs('GET', '/api/trash')).json();
    expect(trash.files.length === 0, `GET /api/trash still lists ${trash.files.length} file(s)`);
    const restore = await apiAs('POST', `/api/trash/${id}/restore`);
    expect(restore.status === 404, `restore after emptying the trash answered ${restore.status}`);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Files' }).click();
    await fileRow(picked.name).waitFor();
  });

  await step('the session survives a reload', async () => {
    await page.reload();
    await fileRow(picked.name).waitFor();
  });

  await step('log out', async () => {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${BASE_URL}/login`);
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
  });

  await step('/dashboard redirects to /login when logged out', async () => {
    await page.goto(`${BASE_URL}/dashboard`);
    await page.waitForURL(`${BASE_URL}/login?redirectTo=%2Fdashboard`);
    await page.getByRole('button', { name: 'Log in' }).waitFor();
  });

  // A second account deletes itself: a wrong password is refused without
  // ending the session, the right one deletes it and the app goes to the
  // login page; the credentials no longer log in.
  const leaver = { email: `leaver-${Date.now()}-${randomBytes(3).toString('hex')}@example.com`, password: `E2e-pass-${randomBytes(4).toString('hex')}` };
  await step(`delete the account ${leaver.email} after confirming its password`, async () => {
    const signup = await fetch(`${API_URL}/api/auth/signup`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(leaver),
    });
    expect(signup.status === 201, `signup answered ${signup.status}`);
    await page.goto(`${BASE_URL}/login`);
    await page.getByLabel('Email', { exact: true }).fill(leaver.email);
    await page.getByLabel('Password', { exact: true }).fill(leaver.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`${BASE_URL}/dashboard`);
    // The dashboard settled (its usage loaded) before a file is picked: once
    // in CI a file picked the moment the dashboard appeared after this login
    // never showed up (not reproduced since; see the closing note of
    // 2026-12-02).
    await page.getByRole('meter', { name: 'Storage used' }).waitFor();
    await page.getByLabel('Choose files to upload').setInputFiles(late);
    await page.getByRole('listitem', { name: late.name }).getByText('Uploaded').waitFor();
    await fileRow(late.name).getByText('MinIO', { exact: true }).waitFor();

    await page.getByRole('button', { name: 'Delete account' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete account?' });
    await dialog.getByLabel('Password').fill('not-the-password');
    expectFailedLoads = (url) => new URL(url).pathname === '/api/auth/me';
    try {
      await dialog.getByRole('button', { name: 'Delete account' }).click();
      await dialog.getByText('The password is not correct.').waitFor();
    } finally {
      expectFailedLoads = null;
    }
    expect(page.url() === `${BASE_URL}/dashboard`, `a wrong password left the dashboard: ${page.url()}`);
    await dialog.getByLabel('Password').fill(leaver.password);
    await dialog.getByRole('button', { name: 'Delete account' }).click();
    await page.waitForURL(`${BASE_URL}/login`);
    await page.getByText('Your account and all its files were deleted.').waitFor();

    await page.getByLabel('Email', { exact: true }).fill(leaver.email);
    await page.getByLabel('Password', { exact: true }).fill(leaver.password);
    expectFailedLoads = (url) => new URL(url).pathname === '/api/auth/login';
    try {
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByText('Invalid email or password.').waitFor();
    } finally {
      expectFailedLoads = null;
    }
  });
} catch {
  exitCode = 1;
} finally {
  await context.close().catch(() => undefined);
  rmSync(profileDir, { recursive: true, force: true });
}

console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(exitCode || (failed > 0 ? 1 : 0));
