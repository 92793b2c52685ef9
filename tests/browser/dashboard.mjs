// Drives Debian's Chromium (headless, through playwright-core) against a dmacycled that runs a
// job: the dashboard must show the job running, its strain chart must grow, a wrong token must
// show the refusal, and the page may ask nothing of any other origin. Run by
// tests/browser/test_dashboard.cpp; prints one line per check and exits 1 at the first failure.
//
// node dashboard.mjs --url http://127.0.0.1:PORT --token READ_TOKEN --screenshot FILE.png
//                    --results-run ID --work-done-kj-mol X --kww-beta X --spectrum-modes N
//                    [--chromium /usr/bin/chromium] [--timeout-s 90]
// The --results-* values are the stored results of the newest run that has them (the API's).
import { chromium } from 'playwright-core';

function options(argv) {
  const parsed = { chromium: '/usr/bin/chromium', timeoutS: 90 };
  for (let i = 2; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
    parsed[name] = argv[i + 1];
  }
  for (const required of ['url', 'token', 'screenshot', 'resultsRun', 'workDoneKjMol', 'kwwBeta', 'spectrumModes']) {
    if (!parsed[required]) {
      throw new Error(`--${required} is required`);
    }
  }
  parsed.timeoutS = Number(parsed.timeoutS);
  return parsed;
}

const args = options(process.argv);
const origin = new URL(args.url).origin;
const timeoutMs = args.timeoutS * 1000;

function check(condition, what) {
  if (!condition) {
    throw new Error('check failed: ' + what);
  }
  console.log('ok: ' + what);
}

const browser = await chromium.launch({
  executablePath: args.chromium,
  // Chromium's sandbox cannot start as root (CI runs as root).
  args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
});
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 820 }, deviceScaleFactor: 1 });
  const requests = [];
  const problems = []; // console errors (a CSP violation is one) and uncaught exceptions
  context.on('request', (request) => requests.push({ url: request.url(), method: request.method() }));
  context.on('console', (message) => {
    // The 401 of the wrong-token page is logged by Chromium as a failed resource load.
    if (message.type() === 'error' && !/status of 401/.test(message.text())) {
      problems.push('console: ' + message.text());
    }
  });
  context.on('weberror', (error) => problems.push('page error: ' + error.error().message));

  // A wrong token: the refusal is shown and the page stops asking.
  const wrong = await context.newPage();
  await wrong.goto(origin + '/#token=not-a-valid-token-0123456789abcdef');
  await wrong.waitForSelector('#connection[data-state="unauthorized"]', { timeout: timeoutMs });
  check(/refused the token/.test(await wrong.textContent('#notice')), 'a wrong token shows the 401 state');
  // The right one typed into the field replaces it.
  await wrong.fill('#token', args.token);
  await wrong.click('#token-form button[type="submit"]');
  await wrong.waitForSelector('#connection[data-state="ok"]', { timeout: timeoutMs });
  check(true, 'a token typed into the field connects');
  await wrong.close();

  // The read token, given as the URL fragment as docs/dashboard.md says.
  const page = await context.newPage();
  await page.goto(origin + '/#token=' + encodeURIComponent(args.token));
  await page.waitForSelector('#connection[data-state="ok"]', { timeout: timeoutMs });
  check((await page.evaluate(() => location.hash)) === '', 'the token is taken out of the address bar');
  check(
    await page.evaluate((token) => sessionStorage.getItem('dmacycle.token') === token && localStorage.length === 0, args.token),
    'the token is kept in sessionStorage only',
  );
  await page.waitForFunction(() => document.getElementById('job-status').textContent === 'running', null, { timeout: timeoutMs });
  check(true, 'the job shows as running: ' + (await page.textContent('#job-title')));

  const strainPoints = () => page.evaluate(() => Number(document.getElementById('chart-strain').dataset.points));
  await page.waitForFunction(() => Number(document.getElementById('chart-strain').dataset.points) > 0, null, { timeout: timeoutMs });
  const first = await strainPoints();
  await page.waitForFunction(
    (before) => Number(document.getElementById('chart-strain').dataset.points) > before,
    first,
    { timeout: timeoutMs },
  );
  const second = await strainPoints();
  check(second > first, `the strain chart grows (${first} → ${second} points)`);
  for (const id of ['chart-temperature', 'chart-stress']) {
    const points = await page.evaluate((chart) => Number(document.getElementById(chart).dataset.points), id);
    check(points > 0, `${id} has ${points} points`);
  }
  const stress = await page.textContent('#stress');
  check(/^-?\d+\.\d MPa$/.test(stress) && Math.abs(parseFloat(stress)) < 1000, 'the stress (served in Pa) shows in MPa: ' + stress);
  const segment = await page.textContent('#segment');
  check(segment && segment !== '–', 'the segment shows: ' + segment);
  check((await page.textContent('#cycle')).includes('/'), 'the cycle shows as k / N: ' + (await page.textContent('#cycle')));
  check((await page.locator('#queue-rows tr').count()) >= 2, 'the queue lists both jobs');

  // The latest results: those of the finished run, as stored (to the digits shown).
  await page.waitForFunction((run) => document.getElementById('results-run').textContent === 'run #' + run, args.resultsRun, {
    timeout: timeoutMs,
  });
  const shown = await page.evaluate(() =>
    Object.fromEntries([...document.querySelectorAll('#results-list dt')].map((dt) => [dt.textContent, dt.nextElementSibling.textContent])),
  );
  const close = (text, expected) => Math.abs(parseFloat(text) - Number(expected)) <= 0.005 * Math.abs(Number(expected));
  check(close(shown['Work done WD'], args.workDoneKjMol) && /kJ\/mol/.test(shown['Work done WD']), `work done ${shown['Work done WD']} (stored ${args.workDoneKjMol})`);
  check(close(shown['KWW β'], args.kwwBeta), `KWW β ${shown['KWW β']} (stored ${args.kwwBeta})`);
  const modes = await page.evaluate(() => Number(document.getElementById('chart-spectrum').dataset.points));
  check(modes === Number(args.spectrumModes), `the spectrum chart draws its ${modes} modes`);
  const band = await page.evaluate(() => Number(document.getElementById('chart-spectrum').dataset.band));
  check(band > 1 && band < Number(args.spectrumModes), `the spectrum chart shades the evidence's band over the ${band} modes within the recovery window`);

  await page.screenshot({ path: args.screenshot, fullPage: true });
  console.log('screenshot: ' + args.screenshot);

  const foreign = requests.filter((request) => new URL(request.url).origin !== origin).map((request) => request.url);
  check(foreign.length === 0, `every request went to ${origin} (${requests.length} requests; others: ${foreign.join(' ')})`);
  const writes = requests.filter((request) => request.method !== 'GET').map((request) => request.method + ' ' + request.url);
  check(writes.length === 0, 'the page only reads (GET)' + (writes.length ? ': ' + writes.join(' ') : ''));
  check(
    requests.every((request) => !request.url.includes(args.token)),
    'no request carries the token in its URL',
  );
  check(problems.length === 0, 'no console error, CSP violation or page error' + (problems.length ? ': ' + problems.join(' | ') : ''));
} catch (error) {
  failed = true;
  console.error(error.message);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
