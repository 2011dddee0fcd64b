/**
 * The live dashboard in a real browser: Debian's Chromium, headless, driven by playwright-core,
 * against `prepaid serve` on the simulator. Outside CI a machine without Chromium skips this test;
 * in CI (CI=true) it must run.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { Simulator } from 'freeswitch-esl/testing';
import { DEFAULT_CHARGE_SPREAD_MS, DEFAULT_RESCHEDULE_LEAD_MS, MAX_CHARGE_AHEAD_MS } from '../src/charging.js';
import { EXIT } from '../src/cli.js';
import { cli, startServe, tempDir, type RunningServe } from './serve-support.js';

/** Where Debian's `chromium` package installs the browser. */
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'dashboard-test-token';
const SLOW = 20_000;

/** The DOM that the functions run inside the page see (this suite compiles without the DOM types). */
declare const document: { querySelector(selector: string): { textContent: string | null } | null };

const missing = !existsSync(CHROMIUM);
if (missing && process.env['CI'] === 'true') {
  throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package (.ci/run does)`);
}
const skip = missing ? `${CHROMIUM} not found: install Debian's chromium package (apt-get install chromium) to run the dashboard test` : false;

describe('live dashboard in headless Chromium', { skip }, () => {
  let sim: Simulator;
  let serve: RunningServe;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  let removeData: () => Promise<void>;

  before(async () => {
    sim = await Simulator.start({ password: 'ClueCon' });
    const data = await tempDir('prepaid-dashboard-');
    removeData = data.remove;
    for (const [account, interval, credit] of [['web', '0.5', '100'], ['other', '10', '5']] as const) {
      const r = await cli(['account', 'create', account, '--interval-duration', interval, '--credit', credit, '--data', data.dir]);
      assert.equal(r.code, EXIT.ok, r.err);
    }
    serve = await startServe(data.dir, ['--admin', '127.0.0.1:0'], { PREPAID_ADMIN_TOKEN: TOKEN });
    profile = await mkdtemp(path.join(os.tmpdir(), 'prepaid-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      // The login a browser shows for the dashboard: any user name, the admin token as password.
      httpCredentials: { username: 'operator', password: TOKEN },
    });
    page = context.pages()[0] ?? (await context.newPage());
  });

  after(async () => {
    await context?.close();
    await serve?.stop();
    await sim?.stop();
    await removeData?.();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  const text = (selector: string) => page.locator(selector).first().textContent({ timeout: SLOW });
  const waitForText = (selector: string, expected: string) =>
    page.waitForFunction(
      ([sel, want]) => document.querySelector(sel!)?.textContent === want,
      [selector, expected] as const,
      { timeout: SLOW },
    );

  it('shows a call, counts its paid time down, drops it when it ends, and shows credits at once', async () => {
    await page.goto(`${serve.admin}/`);
    await waitForText('#status', 'live');
    await waitForText('#accounts tr[data-account="web"] .remaining', '100');

    const uuid = await sim.originate({
      direction: 'inbound',
      variables: { ccnq_account: 'web', target: 'sim/2000/answer-after-50/hangup-after-4000' },
      socket: `127.0.0.1:${serve.port} async full`,
    });
    const row = `#live tr[data-call="${uuid}"]`;
    await page.waitForSelector(row, { timeout: SLOW });
    await page.waitForFunction((sel) => /^\d+\.\d s$/.test(document.querySelector(sel)?.textContent ?? ''), `${row} .countdown`, {
      timeout: SLOW,
    });
    // Paid time left moves between events: sample it until it has shown several values.
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 3; i++) {
      const value = (await text(`${row} .countdown`))!;
      const seconds = Number(value.replace(' s', ''));
      // One 0.5 s interval, plus the intervals charged up to the reschedule lead early, which
      // serve spreads over its calls by up to DEFAULT_CHARGE_SPREAD_MS more, never more than
      // MAX_CHARGE_AHEAD_MS (docs/prepaid-charging.md, "Intervals shorter than a second, and the lead").
      const aheadS = 0.5 + Math.min(DEFAULT_RESCHEDULE_LEAD_MS + DEFAULT_CHARGE_SPREAD_MS, MAX_CHARGE_AHEAD_MS) / 1000 + 0.05;
      assert.ok(seconds >= 0 && seconds <= aheadS, `at most one interval and the lead are paid ahead: ${value}`);
      seen.add(value);
      await page.waitForTimeout(150);
    }
    assert.ok(seen.size >= 3, `the countdown moved: ${[...seen].join(', ')}`);
    assert.equal(await text(`${row} .phase`), 'talking');

    // A credit through the page.
    await page.fill('form[data-credit="other"] input[name="intervals"]', '7');
    await page.click('form[data-credit="other"] button');
    await waitForText('#accounts tr[data-account="other"] .remaining', '12');
    // The balance can arrive by the event stream before the POST's own answer fills the result line.
    await page.waitForFunction(() => (document.querySelector('#credit-result')?.textContent ?? '') !== '', undefined, { timeout: SLOW });
    assert.match((await text('#credit-result'))!, /credited 7 intervals to other; 12 remaining/);

    // A credit through the API shows without a reload.
    const res = await fetch(`${serve.admin}/api/accounts/other/credits`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ intervals: 3, id: 'api-credit' }),
    });
    assert.equal(res.status, 201);
    await waitForText('#accounts tr[data-account="other"] .remaining', '15');

    // A new account appears too.
    const created = await fetch(`${serve.admin}/api/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ account: 'fresh', interval_duration: 60, credit: 2 }),
    });
    assert.equal(created.status, 201);
    await waitForText('#accounts tr[data-account="fresh"] .remaining', '2');

    // The call ends: gone from the live calls, listed with its outcome.
    await page.waitForSelector(row, { state: 'detached', timeout: SLOW });
    await waitForText(`#ended tr[data-call="${uuid}"] .outcome`, 'completed');
    const remaining = Number(await text('#accounts tr[data-account="web"] .remaining'));
    assert.ok(remaining < 100, `the call's intervals came off the balance: ${remaining}`);
  });
});
