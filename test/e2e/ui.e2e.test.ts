/**
 * The web view end to end, in real headless Chromium (Debian's chromium, driven by
 * playwright-core): the page is built and served by `vmmsim ui`'s server, runs the demo in its
 * Web Worker, shows each VM's console, pauses, steps back ten events and shows the state
 * `vmmsim inspect --at` gives for that seq; loads logs (named on the command line, chosen with
 * the file picker, dropped on the page); speaks Portuguese. Screenshots go to test-output/e2e/.
 *
 * Skipped, saying so, where /usr/bin/chromium is absent (apt-get install -y chromium); CI
 * installs it (.ci/run).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { readLog } from '../../src/core/log/reader.js';
import { openLog } from '../../src/replay/index.js';
import type { InspectState } from '../../src/replay/fold/state.js';
import { startUi, type UiServer } from '../../src/cli/ui.js';
import { RunData } from '../../web/src/store/runData.js';
import { TOURS } from '../../web/src/learn/tours.js';
import { translateLoaderMessage, translateLoaderText } from '../../web/src/learn/loaderMessages.js';
import { loadScenario, ScenarioError } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import { formatNs } from '../../web/src/store/format.js';

const CHROMIUM = process.env.VMMSIM_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const OUT = resolve('test-output/e2e');
/** The tours' screenshots: docs/images/tours with VMMSIM_DOCS_SCREENSHOTS=1 (to refresh docs/ui.md's), else beside the others. */
const DOCS_SHOTS = process.env.VMMSIM_DOCS_SCREENSHOTS === '1';
const TOUR_SHOTS = DOCS_SHOTS ? resolve('docs/images/tours') : join(OUT, 'tours');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

if (!HAVE_CHROMIUM) {
  console.warn(`test/e2e/ui.e2e.test.ts: SKIPPED: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set VMMSIM_CHROMIUM)`);
}

function cli(args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = main(args, { stdout: { write: (text) => stdout.push(text) }, stderr: { write: (text) => stderr.push(text) }, color: false });
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

/** Logs a run with the CLI: `vmmsim run SCENARIO --log OUT/NAME.jsonl`. */
function logRun(scenario: string, name: string): string {
  const path = join(OUT, `${name}.jsonl`);
  const result = cli(['run', scenario, '--log', path, '--quiet']);
  expect(result.code, result.stderr).toBe(0);
  return path;
}

/** What `vmmsim inspect LOG --at SEQ --json` reports as the state (the library's fold if inspect is not there). */
function inspectAt(log: string, seq: number): InspectState {
  const result = cli(['inspect', log, '--at', String(seq), '--json', '--no-registers']);
  if (result.code === 0) return (JSON.parse(result.stdout) as { state: InspectState }).state;
  expect(result.stderr).toMatch(/unknown command/);
  return openLog(log).stateAt(seq);
}

/** A tour step in a small PNG: the tour and its explanation, and the physical CPUs under them. */
async function shootTop(page: Page, path: string): Promise<void> {
  // The list of tours and the closed editor between them are left out of the picture (smaller files).
  await page.evaluate("document.body.classList.add('shooting')");
  await page.evaluate('window.scrollTo(0, 0)');
  const box = (await page.evaluate(
    "(() => { const learn = document.querySelector('#learn').getBoundingClientRect(); const lanes = document.querySelector('#timeline').getBoundingClientRect(); return [Math.floor(learn.top) - 4, Math.ceil(lanes.bottom) + 6]; })()",
  )) as [number, number];
  await page.screenshot({ path, clip: { x: 0, y: box[0], width: 1100, height: box[1] - box[0] } });
  await page.evaluate("document.body.classList.remove('shooting')");
}

/** The editor's text (CodeMirror's document, through its view). */
async function editorText(page: Page): Promise<string> {
  return (await page.evaluate("document.querySelector('#editor').editorView.state.doc.toString()")) as string;
}

/** Replaces the editor's text as typing would (select all, insert). */
async function setEditorText(page: Page, text: string): Promise<void> {
  await page.click('#editor .cm-content');
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
}

async function seqShown(page: Page): Promise<number> {
  return Number(await page.getAttribute('body', 'data-seq'));
}

async function stateShown(page: Page): Promise<InspectState> {
  if ((await page.getAttribute('#state-details', 'open')) === null) await page.click('#state-details summary');
  const seq = await seqShown(page);
  await page.waitForSelector(`#state-json[data-seq="${seq}"]`, { state: 'attached' });
  return JSON.parse((await page.textContent('#state-json')) ?? 'null') as InspectState;
}

/** The VM cards show the state: lifecycle lit, vCPU states, the console's last line. */
async function expectCardsToShow(page: Page, state: InspectState): Promise<void> {
  for (const [name, vm] of Object.entries(state.vms)) {
    const card = page.locator(`.vm-card[data-vm="${name}"]`);
    expect(await card.getAttribute('data-state')).toBe(vm.state);
    expect(await card.locator('.lifecycle g.lit').getAttribute('data-state')).toBe(vm.state);
    for (const vcpu of vm.vcpus) expect(await card.locator(`.vcpu[data-vcpu="${vcpu.index}"]`).getAttribute('data-state')).toBe(vcpu.state);
    const consoleText = (await card.locator('.console').textContent()) ?? '';
    expect(consoleText.split('\n').at(-1) ?? '').toBe(vm.console.last.at(-1) ?? '');
  }
}

describe.skipIf(!HAVE_CHROMIUM)('vmmsim ui in headless Chromium', () => {
  let ui: UiServer;
  let browser: Browser;
  let page: Page;
  let demoLog: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    demoLog = logRun('examples/demo.yaml', 'demo');
    ui = await startUi({ port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, locale: 'en-US' });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await ui?.close();
  });

  it('opens on the demo paused at its first trapped instruction, explained in English and Portuguese', async () => {
    await page.goto(ui.url);
    await page.waitForSelector('body[data-intro="trap"]', { timeout: 20_000 });
    const events = readLog(readFileSync(demoLog, 'utf8')).events;
    const firstTrap = events.find((event) => event.type === 'exit.privileged' || event.type === 'exit.io');
    expect(firstTrap?.type).toBe('exit.privileged');
    expect(await seqShown(page)).toBe(firstTrap?.seq);
    expect(await page.getAttribute('body', 'data-playing')).not.toBe('true');
    expect(await page.textContent('#intro')).toMatch(/first trapped instruction.*Press space/);
    await page.waitForSelector(`#explain-text[data-seq="${firstTrap?.seq}"]`, { state: 'attached', timeout: 10_000 });
    expect(await page.getAttribute('#explain-text', 'data-type')).toBe('exit.privileged');
    expect(await page.textContent('#explain-text')).toMatch(/privileged instruction csrw in kernel mode.*trap and emulate/);
    expect(await page.getAttribute('#explain-concept', 'href')).toBe('docs/concepts.md#3-trap-and-emulate-full-virtualization');
    await page.click('#explain-concept');
    await page.waitForSelector('#concept-dialog[open]');
    expect(await page.textContent('#concept-body')).toMatch(/^## 3\. Trap-and-emulate/);
    await page.click('#concept-dialog button');
    await page.selectOption('#lang', 'pt-BR');
    expect(await page.textContent('#intro')).toMatch(/primeira instrução interceptada.*Tecle espaço/);
    expect(await page.textContent('#explain-text')).toMatch(/instrução privilegiada csrw em modo núcleo.*trap-and-emulate/);
    expect(await page.textContent('#explain-concept')).toBe('Trap-and-emulate (virtualização total)');
    await page.screenshot({ path: join(OUT, 'ui-intro-pt-BR.png') });
    await page.selectOption('#lang', 'en');
    // Play is one key; n jumps to the next exit.
    await page.keyboard.press('n');
    const nextExit = events.find((event) => event.seq > (firstTrap?.seq ?? 0) && event.type.startsWith('exit.'));
    expect(await seqShown(page)).toBe(nextExit?.seq);
    await page.keyboard.press(' ');
    expect(await page.getAttribute('body', 'data-playing')).toBe('true');
    await page.keyboard.press(' ');
    expect(await page.getAttribute('body', 'data-playing')).toBe('false');
    await page.screenshot({ path: join(OUT, 'ui-intro.png') });
  }, 60_000);

  it('takes every guided tour to its end, each step at the event the tour names, in English and Portuguese', async () => {
    mkdirSync(TOUR_SHOTS, { recursive: true });
    await page.setViewportSize({ width: 1100, height: 800 });
    await page.goto(ui.url);
    await page.addStyleTag({ content: 'body.shooting .learn .tours, body.shooting .learn .explain-concept .keys, body.shooting section:has(#editor-details), body.shooting .timeline + .help { display: none; }' });
    const logs = new Map<string, RunData>();
    const runOf = (scenario: string) => {
      const cached = logs.get(scenario);
      if (cached !== undefined) return cached;
      const path = scenario.startsWith('tour-') ? `web/tours/${scenario.slice(5)}.yaml` : `examples/${scenario}.yaml`;
      const run = new RunData(`${scenario}.jsonl`);
      run.ingest(readFileSync(logRun(path, scenario), 'utf8'));
      run.close();
      logs.set(scenario, run);
      return run;
    };
    for (const tour of TOURS) {
      await page.click(`.tour-start[data-tour="${tour.id}"]`);
      const seen = new Map<string, RunData>();
      for (const [index, step] of tour.steps.entries()) {
        if (index > 0) await page.click('#tour-next');
        await page.waitForSelector(`body[data-tour-step="${index}"][data-tour-ready="true"]`, { timeout: 20_000 });
        // The page moved the cursor to the event the tour names in the CLI's log of the same scenario.
        seen.set(step.scenario, runOf(step.scenario));
        const expected = step.at({ run: runOf(step.scenario), runs: seen });
        expect(await seqShown(page), `${tour.id} step ${index + 1}`).toBe(expected);
        // The panel is drawn at the next animation frame, which a loaded machine can delay.
        await page.waitForSelector(`#explain-text[data-seq="${expected}"]`, { state: 'attached', timeout: 10_000 });
        expect(await page.textContent('#tour-progress')).toBe(`step ${index + 1} of ${tour.steps.length}`);
        expect(await page.textContent('#tour-text')).toBe(step.text.en({ run: runOf(step.scenario), runs: seen }, expected));
        // Every step's picture for the docs; in an ordinary run the trap-and-emulate tour's only (they take time).
        const shoot = DOCS_SHOTS || tour.id === 'trap';
        if (shoot) await shootTop(page, join(TOUR_SHOTS, `${tour.id}-${index + 1}-en.png`));
        await page.selectOption('#lang', 'pt-BR');
        expect(await page.textContent('#tour-text')).toBe(step.text['pt-BR']({ run: runOf(step.scenario), runs: seen }, expected));
        expect(await page.textContent('#tour-progress')).toBe(`passo ${index + 1} de ${tour.steps.length}`);
        if (shoot) await shootTop(page, join(TOUR_SHOTS, `${tour.id}-${index + 1}-pt-BR.png`));
        await page.selectOption('#lang', 'en');
      }
      expect(await page.isDisabled('#tour-next')).toBe(true);
      await page.click('#tour-close');
      expect(await page.isHidden('#tour')).toBe(true);
    }
    await page.setViewportSize({ width: 1440, height: 1000 });
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it("edits a VM's guest in the editor and re-runs it in the worker; broken YAML shows its error at its line", async () => {
    await page.goto(ui.url);
    await page.waitForSelector('body[data-intro="trap"]', { timeout: 20_000 });
    await page.click('#editor-details summary');
    await page.waitForSelector('#editor .cm-content');
    const original = readFileSync('examples/demo.yaml', 'utf8');
    expect(await editorText(page)).toBe(original);
    // Keys typed in the editor are the editor's: a space and an n do not play or jump.
    const seqBefore = await seqShown(page);
    await page.click('#editor .cm-content');
    await page.keyboard.press('Control+End');
    await page.keyboard.type('# n ');
    expect(await editorText(page)).toBe(original + '# n ');
    expect(await seqShown(page)).toBe(seqBefore);
    expect(await page.getAttribute('body', 'data-playing')).not.toBe('true');
    // The pv VM runs the ticker guest instead of hello-pv.
    const edited = original.replace('guest: hello-pv', 'guest: ticker');
    await setEditorText(page, edited);
    expect(await editorText(page)).toBe(edited);
    await page.click('#run-edited');
    await page.waitForSelector('body[data-finished="true"]', { timeout: 20_000 });
    await page.click('#to-end');
    const pvConsole = (await page.locator('.vm-card[data-vm="pv"] .console').textContent()) ?? '';
    expect(pvConsole).toContain('ticker: idle in hlt, woken by the timer');
    expect(pvConsole).not.toContain('hello-pv');
    // The same run as the CLI's of the edited file.
    const path = join(OUT, 'demo-ticker.yaml');
    writeFileSync(path, edited);
    const cliEvents = readLog(readFileSync(logRun(path, 'demo-ticker'), 'utf8')).events;
    expect(Number(await page.getAttribute('body', 'data-count'))).toBe(cliEvents.length);
    await page.screenshot({ path: join(OUT, 'ui-editor-run.png') });

    // Broken YAML (an unclosed flow mapping on line 25) and a bad value (line 31): each at its line, as vmmsim run reports them.
    const lines = original.split('\n');
    const paramsLine = lines.findIndex((line) => line.includes('ROUNDS: 3')) + 1;
    const broken = original.replace('params: { ROUNDS: 3,', 'params: { ROUNDS: 3,,,').replace('memory: 16KiB\n    guest: rogue-memory', 'memory: lots\n    guest: rogue-memory');
    writeFileSync(path, broken);
    const cliError = cli(['run', path, '--quiet']);
    expect(cliError.code).toBe(2);
    await setEditorText(page, broken);
    await page.waitForSelector('#editor-errors li', { timeout: 5_000 });
    const errorLines = await page.locator('#editor-errors li').evaluateAll((items) => items.map((item) => Number((item as unknown as { dataset: { line: string } }).dataset.line)));
    const cliLines = [...cliError.stderr.matchAll(/demo-ticker\.yaml:(\d+):\d+:/g)].map((match) => Number(match[1]));
    expect(errorLines.length).toBeGreaterThan(0);
    expect(errorLines).toEqual(cliLines);
    expect(errorLines[0]).toBe(paramsLine);
    // CodeMirror marks the line in its gutter and underlines it.
    await page.waitForSelector('.cm-lint-marker-error');
    expect(await page.locator('.cm-lintRange-error').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(OUT, 'ui-editor-error.png') });
    await setEditorText(page, original);
    await page.waitForFunction("document.querySelectorAll('#editor-errors li').length === 0");
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('shows the loader\'s errors in Portuguese: broken YAML at its line in the list, the lint panel and the status line', async () => {
    await page.goto(ui.url);
    await page.waitForSelector('body[data-intro="trap"]', { timeout: 20_000 });
    await page.selectOption('#lang', 'pt-BR');
    await page.click('#editor-details summary');
    await page.waitForSelector('#editor .cm-content');
    // A flow mapping left open and a key without its value (YAML syntax), as a learner's typo would.
    const original = readFileSync('examples/demo.yaml', 'utf8');
    const broken = original.replace('params: { ROUNDS: 3,', 'params: { ROUNDS: 3,,,');
    let error: unknown;
    try {
      loadScenario(broken, { file: 'demo.yaml', guests: BUNDLED_GUEST_NAMES });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ScenarioError);
    const diagnostics = (error as ScenarioError).diagnostics;
    const first = diagnostics[0];
    const portuguese = translateLoaderMessage(first.message, 'pt-BR');
    expect(portuguese).not.toBe(first.message);
    expect(portuguese).toMatch(/^YAML inválido: /);
    await setEditorText(page, broken);
    await page.waitForSelector('#editor-errors li', { timeout: 5_000 });
    // The list under the editor: each error at its line, in Portuguese.
    const items = await page.locator('#editor-errors li').evaluateAll((nodes) =>
      nodes.map((node) => ({ line: Number((node as unknown as { dataset: { line: string } }).dataset.line), text: node.textContent ?? '' })),
    );
    expect(items.map((item) => item.line)).toEqual(diagnostics.map((diagnostic) => diagnostic.line));
    expect(items[0].text).toBe(`linha ${first.line}:${first.column} · ${first.path === '' ? '' : first.path + ': '}${portuguese}`);
    // The lint marks: CodeMirror's lint panel (Ctrl-Shift-M) lists the same message at that line.
    await page.waitForSelector('.cm-lint-marker-error');
    await page.click('#editor .cm-content');
    await page.keyboard.press('Control+Shift+M');
    await page.waitForSelector('.cm-panel-lint li');
    const panel = await page.locator('.cm-panel-lint li').allTextContents();
    expect(panel.some((text) => text.includes(portuguese))).toBe(true);
    expect(panel.some((text) => text.includes(first.message))).toBe(false);
    // Run it: the worker refuses it, and the status line says why in Portuguese.
    await page.click('#run-edited');
    await page.waitForSelector('#status[data-kind="statusError"]', { timeout: 10_000 });
    const status = (await page.textContent('#status')) ?? '';
    expect(status).toBe(`erro: ${translateLoaderText((error as ScenarioError).message, 'pt-BR')}`);
    expect(status).toContain(`demo.yaml:${first.line}:${first.column}: ${portuguese}`);
    await page.screenshot({ path: join(OUT, 'ui-editor-error-pt-BR.png') });
    // Back in English, the same errors in English.
    await page.selectOption('#lang', 'en');
    expect(await page.locator('#editor-errors li').first().textContent()).toContain(first.message);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('compares Type 1 / Type 2 x full / para / hw in the page: the rows of vmmsim compare --json, as a table and a chart', async () => {
    await page.goto(ui.url);
    await page.waitForSelector('body[data-intro="trap"]', { timeout: 20_000 });
    // The demo, with its seed (42).
    const cliRows = JSON.parse(cli(['compare', 'examples/demo.yaml', '--arch', 'type1,type2', '--virt', 'full,para,hw', '--json']).stdout) as { config: string; vms: { vm: string; exits: number; completionNs: number | null }[] }[];
    // The page offers the CLI's default (overhead.yaml); the demo is compared here, in a second rather than seven.
    expect(await page.inputValue('#compare-scenario')).toBe('overhead');
    await page.selectOption('#compare-scenario', 'demo');
    const started = Date.now();
    await page.click('#compare-run');
    await page.waitForSelector('body[data-compared="true"]', { timeout: 60_000 });
    console.log(`compare (demo, 7 runs) in the page: ${Date.now() - started} ms`);
    const pageRows = JSON.parse((await page.getAttribute('#compare-table', 'data-rows')) ?? '[]') as unknown;
    expect(pageRows).toEqual(cliRows);
    expect(cliRows.map((row) => row.config)).toEqual(['bare machine', 'type1/full', 'type1/para', 'type1/hw', 'type2/full', 'type2/para', 'type2/hw']);
    // The table shows those numbers: one line per configuration and VM.
    const cells = await page.locator('#compare-table tr').evaluateAll((rows) => rows.slice(1).map((row) => Array.from((row as unknown as { cells: ArrayLike<{ textContent: string }> }).cells, (cell) => cell.textContent)));
    const expected = cliRows.flatMap((row) => row.vms.map((vm) => [vm.vm, String(vm.exits)]));
    expect(cells.map((row) => [row[1].split(' ')[0], row[2]])).toEqual(expected);
    expect(await page.locator('.compare-bars').count()).toBe(6);
    await page.locator('#compare-table').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(OUT, 'ui-compare.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('has no serious or critical accessibility violation (axe-core), in either language, with the tour, editor and comparison open', async () => {
    await page.goto(ui.url);
    await page.waitForSelector('body[data-intro="trap"]', { timeout: 20_000 });
    await page.click('.tour-start[data-tour="trap"]');
    await page.waitForSelector('body[data-tour-ready="true"]');
    await page.click('#editor-details summary');
    await page.click('#state-details summary');
    await page.selectOption('#compare-scenario', 'demo');
    await page.click('#compare-run');
    await page.waitForSelector('body[data-compared="true"]', { timeout: 60_000 });
    await page.addScriptTag({ path: resolve('node_modules/axe-core/axe.min.js') });
    for (const lang of ['en', 'pt-BR']) {
      await page.selectOption('#lang', lang);
      const violations = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] }).then((result) => result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 12).map((n) => n.target.join(' ')) })))")) as { id: string; impact: string; help: string; nodes: string[] }[];
      const severe = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
      expect(severe, JSON.stringify(severe, null, 1)).toEqual([]);
    }
    await page.selectOption('#lang', 'en');
    await page.click('#tour-close');
  }, 90_000);

  it('runs the demo in the page, shows every console, pauses, steps back ten events to the state inspect gives', async () => {
    await page.goto(ui.url);
    // The page opened on the demo, paused at its first trap, simulating the rest; Run starts it again, playing.
    await page.waitForSelector('body[data-finished="true"]', { timeout: 20_000 });
    await page.selectOption('#scenario', 'demo');
    await page.selectOption('#speed', String(2_000_000));
    await page.click('#run');
    // Each VM's console shows output as the run plays.
    // (Page-side code is given as text: the test's own TypeScript has no DOM types.)
    await page.waitForFunction("[...document.querySelectorAll('.vm-card .console')].filter((node) => node.textContent.length > 0).length === 4", undefined, { timeout: 20_000 });
    await page.click('#play');
    expect(await page.getAttribute('body', 'data-playing')).toBe('false');
    const paused = await seqShown(page);
    expect(paused).toBeGreaterThan(10);
    for (const vm of ['alpha', 'beta', 'pv', 'rogue']) expect(await page.locator(`.vm-card[data-vm="${vm}"] .console`).textContent()).not.toBe('');
    await page.screenshot({ path: join(OUT, 'ui-demo-running.png'), fullPage: true });

    for (let step = 0; step < 10; step++) await page.click('#step-back');
    expect(await seqShown(page)).toBe(paused - 10);
    // The charts follow the cursor: they show the run up to the event shown.
    await page.waitForFunction(`document.querySelector('.chart-note')?.textContent.includes('event ${paused - 10} ')`, undefined, { timeout: 5_000 });
    const shown = await stateShown(page);
    expect(shown.seq).toBe(paused - 10);
    expect(shown).toEqual(inspectAt(demoLog, paused - 10));
    await expectCardsToShow(page, shown);

    await page.click('#step-forward');
    expect(await stateShown(page)).toEqual(inspectAt(demoLog, paused - 9));
    await page.screenshot({ path: join(OUT, 'ui-demo-paused.png'), fullPage: true });
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(OUT, 'ui-demo-top.png') });
    await page.locator('#timeline').screenshot({ path: join(OUT, 'ui-timeline.png') });
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('travels to a time typed in "go to", and to the end once the run is complete', async () => {
    await page.waitForSelector('body[data-finished="true"]');
    const events = readLog(readFileSync(demoLog, 'utf8')).events;
    expect(Number(await page.getAttribute('body', 'data-count'))).toBe(events.length);
    await page.fill('#goto', '5ms');
    await page.click('#goto-form button');
    const expected = events.filter((event) => event.t <= 5_000_000).at(-1)?.seq ?? -1;
    expect(await seqShown(page)).toBe(expected);
    expect(await stateShown(page)).toEqual(inspectAt(demoLog, expected));
    await page.click('#to-end');
    expect(await seqShown(page)).toBe(events.length - 1);
    const last = await stateShown(page);
    expect(last).toEqual(inspectAt(demoLog, events.length - 1));
    await expectCardsToShow(page, last);
    expect(await page.locator('.vm-card[data-vm="rogue"]').getAttribute('data-state')).toBe('crashed');
    // The event list filtered to one VM's exits lists exactly those.
    await page.selectOption('#filter-vm', { label: 'alpha' });
    await page.selectOption('#filter-type', 'exit.*');
    const alphaExits = events.filter((event) => event.src.startsWith('vm/alpha/') && event.type.startsWith('exit.')).length;
    await expect.poll(() => page.textContent('#event-count')).toMatch(new RegExp(`^${alphaExits} `));
    const sources = await page.locator('#events .row:visible .src').allTextContents();
    const types = await page.locator('#events .row:visible .type').allTextContents();
    expect(sources.length).toBeGreaterThan(5);
    expect(new Set(sources)).toEqual(new Set(['vm/alpha/vcpu/0']));
    for (const type of types) expect(type).toMatch(/^exit\./);
    await page.screenshot({ path: join(OUT, 'ui-demo-end.png'), fullPage: true });
    await page.selectOption('#filter-vm', '-1');
    await page.selectOption('#filter-type', '');
    // Following the cursor, the unfiltered list shows the current (last) event highlighted.
    await page.waitForSelector(`#events .row.current[data-seq="${events.length - 1}"]`, { state: 'visible' });
  }, 60_000);

  it('speaks Brazilian Portuguese from the switch', async () => {
    await page.selectOption('#lang', 'pt-BR');
    expect(await page.textContent('h1')).toContain('Hipervisor');
    expect(await page.textContent('[data-i18n="vms"]')).toBe('Máquinas virtuais');
    expect(await page.locator('.vm-card[data-vm="alpha"] [data-role="vm-state"]').textContent()).toMatch(/^desligada/);
    expect(await page.textContent('body')).toMatch(/modo núcleo/);
    await page.waitForSelector('.chart figcaption:text-is("Tempo de CPU e espera (steal) por MV")');
    await page.screenshot({ path: join(OUT, 'ui-demo-pt-BR.png'), fullPage: true });
    await page.selectOption('#lang', 'en');
    expect(await page.textContent('h1')).toContain('Hypervisor');
  }, 30_000);

  it('shows the hosts and a live migration: the VM on its first host, its rounds as they go, then on the other host', async () => {
    const hostsLog = logRun('examples/hosts.yaml', 'hosts');
    const served = await startUi({ file: hostsLog, port: 0, build: 'never' });
    try {
      await page.goto(served.url);
      await page.waitForSelector('body[data-finished="true"]');
      const events = readLog(readFileSync(hostsLog, 'utf8')).events;
      const web = page.locator('.vm-card[data-vm="web"] .meta');
      // The page moves to the last event at or before the time; wait until it shows that event.
      const goTo = async (timeNs: number) => {
        await page.fill('#goto', `${timeNs}ns`);
        await page.click('#goto-form button');
        const expected = events.filter((event) => event.t <= timeNs).at(-1)?.seq ?? -1;
        await page.waitForSelector(`body[data-seq="${expected}"]`, { state: 'attached' });
      };
      // Before the migrate input (30 ms): each VM on the host the scenario put it on.
      await goTo(20_000_000);
      await expect.poll(() => web.textContent()).toContain('on host src');
      expect(await web.textContent()).not.toContain('migrating');
      expect(await page.locator('.vm-card[data-vm="ticker"] .meta').textContent()).toContain('on host dst');
      // Between the log's second and third rounds: the round the card names is the log's count.
      const rounds = events.filter((event) => event.type === 'migration.round');
      expect(rounds.length).toBeGreaterThanOrEqual(3);
      await goTo(Math.floor((rounds[1].t + rounds[2].t) / 2));
      const seq = await seqShown(page);
      const done = rounds.filter((event) => event.seq <= seq).length;
      expect(done).toBe(2);
      await expect.poll(() => web.textContent()).toContain(`on host src · migrating src → dst, round ${done}`);
      expect(await stateShown(page)).toEqual(inspectAt(hostsLog, seq));
      await page.screenshot({ path: join(OUT, 'ui-hosts-migrating.png'), fullPage: true });
      // At the end: on the destination, with the figures of migration.completed.
      await page.click('#to-end');
      await page.waitForSelector(`body[data-seq="${events.length - 1}"]`, { state: 'attached' });
      const completed = events.find((event) => event.type === 'migration.completed');
      expect(completed).toBeDefined();
      const figures = completed?.data as { totalNs: number; downtimeNs: number; pagesSent: number; pagesResent: number };
      // The cards are drawn after the cursor moves: wait for them.
      await expect
        .poll(() => web.textContent())
        .toContain(`on host dst · migrated from src: ${formatNs(figures.totalNs)}, downtime ${formatNs(figures.downtimeNs)}, ${figures.pagesSent} pages (${figures.pagesResent} re-sent)`);
      expect(pageErrors).toEqual([]);
    } finally {
      await served.close();
    }
  }, 60_000);

  it('opens the log named on the command line, one chosen with the file picker, and one dropped on the page', async () => {
    const contention = logRun('examples/contention.yaml', 'contention');
    const served = await startUi({ file: contention, port: 0, build: 'never' });
    try {
      expect(served.url).toContain('?log=files/contention.jsonl');
      await page.goto(served.url);
      await page.waitForSelector('body[data-finished="true"]');
      const events = readLog(readFileSync(contention, 'utf8')).events;
      expect(Number(await page.getAttribute('body', 'data-count'))).toBe(events.length);
      expect(await page.textContent('#status')).toContain('contention');
      expect(await seqShown(page)).toBe(events.length - 1);
      expect(await stateShown(page)).toEqual(inspectAt(contention, events.length - 1));
      await page.screenshot({ path: join(OUT, 'ui-log-contention.png'), fullPage: true });
    } finally {
      await served.close();
    }

    const misbehaving = logRun('examples/misbehaving.yaml', 'misbehaving');
    await page.goto(ui.url);
    await page.setInputFiles('#log-file', misbehaving);
    await page.waitForSelector('#status:has-text("misbehaving")');
    await page.waitForSelector('body[data-finished="true"]');
    expect(await page.textContent('#status')).toMatch(/^log loaded: misbehaving/);
    const misbehavingEvents = readLog(readFileSync(misbehaving, 'utf8')).events.length;
    expect(Number(await page.getAttribute('body', 'data-count'))).toBe(misbehavingEvents);
    for (const vm of ['probe', 'priv']) expect(await page.locator(`.vm-card[data-vm="${vm}"]`).getAttribute('data-state')).toBe('crashed');

    // A log of format 1 (FNV-1a checksums, written by vmmsim 0.5.1) opens too, checked line by line.
    const formatOne = resolve('test/fixtures/log-v1-inputs.jsonl');
    await page.setInputFiles('#log-file', formatOne);
    await page.waitForSelector('#status:has-text("inputs")');
    await page.waitForSelector('body[data-finished="true"]');
    expect(Number(await page.getAttribute('body', 'data-count'))).toBe(810);
    expect(await seqShown(page)).toBe(809);
    expect(await stateShown(page)).toEqual(inspectAt(formatOne, 809));

    const smp = logRun('examples/smp.yaml', 'smp');
    const text = readFileSync(smp, 'utf8');
    const dropped = await page.evaluateHandle(`(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([${JSON.stringify(text)}], 'smp.jsonl', { type: 'application/x-ndjson' }));
      return transfer;
    })()`);
    await page.dispatchEvent('body', 'drop', { dataTransfer: dropped });
    await page.waitForSelector('#status:has-text("smp")');
    await page.waitForSelector('body[data-finished="true"]');
    expect(Number(await page.getAttribute('body', 'data-count'))).toBe(readLog(text).events.length);
    expect(await page.locator('.vm-card[data-vm="trio"] .vcpu').count()).toBe(3);
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
