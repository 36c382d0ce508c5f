/**
 * The page: wires the controls, the simulation worker, log loading, playback and time travel
 * to the views. State lives here (the run, the cursor, the fold's state at the cursor); the
 * views only draw what they are given.
 */
import './styles.css';
import { POLICY_NAMES } from '../../src/core/scenario/schema.js';
import type { RunMetrics } from '../../src/actors/metrics/collector.js';
import { EVENT_TYPES } from '../../src/core/events.js';
import { LogError, RunData } from './store/runData.js';
import { TimeTravel, type InspectState } from './store/timeTravel.js';
import { ALL_VMS, FilteredEvents, NO_VM, type EventFilter } from './store/eventFilter.js';
import { formatNs, parsePoint } from './store/format.js';
import { detectLanguage, language, onLanguage, setLanguage, t, type Lang, type MessageKey } from './i18n.js';
import { Timeline } from './views/timeline.js';
import { VmCards } from './views/vmCards.js';
import { EventList } from './views/eventList.js';
import { Charts } from './views/charts.js';
import type { WorkerReply, WorkerRequest } from './worker/protocol.js';
import { EMPTY_STATE } from '../../src/replay/fold/state.js';
import { explain } from './learn/explain.js';
import { CONCEPTS, sectionText, type ConceptId } from './learn/concepts.js';
import { TOURS, type Tour } from './learn/tours.js';
import { ScenarioEditor } from './views/editor.js';
import { translateLoaderMessage, translateLoaderText } from './learn/loaderMessages.js';
import { CompareView } from './views/compare.js';
import type { ScenarioDiagnostic } from '../../src/core/scenario/load.js';
import CONCEPTS_MD from '../../docs/concepts.md?raw';

const EXAMPLES = import.meta.glob('../../examples/*.yaml', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;
/** The guided tours' own scenarios (web/tours/NAME.yaml, listed as tour-NAME). */
const TOUR_SCENARIOS = import.meta.glob('../tours/*.yaml', { query: '?raw', import: 'default', eager: true }) as Record<string, string>;

/** Playback speeds: virtual ns per wall-clock second. */
const SPEEDS: readonly { readonly ns: number; readonly label: string }[] = [
  { ns: 10_000, label: '10 µs/s' },
  { ns: 100_000, label: '100 µs/s' },
  { ns: 500_000, label: '0.5 ms/s' },
  { ns: 2_000_000, label: '2 ms/s' },
  { ns: 10_000_000, label: '10 ms/s' },
  { ns: 100_000_000, label: '100 ms/s' },
  { ns: 1_000_000_000, label: '1 s/s' },
  { ns: Number.POSITIVE_INFINITY, label: 'max' },
];
const DEFAULT_SPEED_NS = 2_000_000;
/** Keep the text of a run made here for "download" up to this many characters. */
const DOWNLOAD_LIMIT_CHARS = 256 * 1024 * 1024;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

class App {
  private run: RunData | undefined;
  private travel: TimeTravel | undefined;
  private filtered: FilteredEvents | undefined;
  private state: InspectState = EMPTY_STATE;
  private cursorSeq = -1;
  /** Continuous playback time (ns); the cursor is the last event at or before it. */
  private cursorTime = 0;
  private playing = false;
  private speedNs = DEFAULT_SPEED_NS;
  private worker: Worker | undefined;
  private running = false;
  private metrics: RunMetrics | null = null;
  private logText: string[] | null = null;
  private logChars = 0;
  private renderScheduled = false;
  private lastFrame = 0;
  private status: { key: MessageKey; detail: string | (() => string) } = { key: 'statusIdle', detail: '' };
  private readonly scenarios = new Map<string, string>();
  /** The first run of the page: pause at the first trapped instruction and say what to watch. */
  private intro: { pending: boolean; scannedTo: number; vm: string } | null = null;
  /** What the explanation panel shows now (seq and language), to redraw it only when it changes. */
  private explained = '';
  private concept: ConceptId = 'hypervisor';
  /** The scenario the run shown was made from (a tour re-runs its scenario only when another is shown). */
  private runScenario: string | undefined;
  /** Resolved when the run in the worker completes (tours wait for it). */
  private finished: { run: RunData; resolve: (run: RunData) => void }[] = [];
  private tour: { tour: Tour; step: number; seq: number; runs: Map<string, RunData> } | null = null;

  private readonly timeline = new Timeline($('timeline'), (timeNs) => this.goToTime(timeNs));
  private readonly cards = new VmCards($('vms'));
  private readonly list = new EventList($('events'), (seq) => this.pause(() => this.goTo(seq)));
  private readonly charts = new Charts($('charts'), $('metrics'));
  private readonly compare = new CompareView($<HTMLTableElement>('compare-table'), $('compare-chart'));
  private compareWorker: Worker | undefined;
  /** The loader's errors for the editor's text, as last linted (shown again when the language changes). */
  private diagnostics: readonly ScenarioDiagnostic[] = [];
  private readonly editor = new ScenarioEditor($('editor'), 'Scenario YAML', (diagnostics) => this.showDiagnostics(diagnostics));

  start(): void {
    const lang = detectLanguage(location.search, localStorage.getItem('vmmsim.lang'), navigator.languages ?? [navigator.language]);
    setLanguage(lang);
    onLanguage(() => this.translate());
    this.fillSelects();
    this.fillScenarios();
    this.bind();
    this.translate();
    const params = new URLSearchParams(location.search);
    const log = params.get('log');
    const scenario = params.get('scenario');
    if (log !== null) void this.loadUrl(log);
    else if (scenario !== null) void this.addScenarioUrl(scenario);
    else {
      // No file named: a VM running at once (the demo, paused at its first trap).
      this.intro = { pending: true, scannedTo: 0, vm: '' };
      this.startRun({ autoplay: false });
    }
    requestAnimationFrame((now) => this.frame(now));
  }

  // ---- setup ---------------------------------------------------------------------------------

  private fillScenarios(): void {
    const entries = [...Object.entries(EXAMPLES), ...Object.entries(TOUR_SCENARIOS).map(([path, text]) => [path.replace(/([^/]*)$/, 'tour-$1'), text] as const)]
      .map(([path, text]) => [path.replace(/^.*\//, '').replace(/\.yaml$/, ''), text] as const)
      .sort(([a], [b]) => (a === 'demo' ? -1 : b === 'demo' ? 1 : a.localeCompare(b)));
    for (const [name, text] of entries) this.scenarios.set(name, text);
    const select = $<HTMLSelectElement>('scenario');
    select.replaceChildren(...[...this.scenarios.keys()].map((name) => new Option(name, name)));
    select.value = 'demo';
    this.scenarioChanged();
    const compare = $<HTMLSelectElement>('compare-scenario');
    compare.replaceChildren(...[...this.scenarios.keys()].map((name) => new Option(name, name)));
    // vmmsim compare --arch's own default (seven runs of it take about 7 s in headless Chromium here, as in the CLI).
    compare.value = 'overhead';
  }

  private fillSelects(): void {
    const policy = $<HTMLSelectElement>('policy');
    policy.replaceChildren(new Option('', ''), ...POLICY_NAMES.map((name) => new Option(name, name)));
    const speed = $<HTMLSelectElement>('speed');
    speed.replaceChildren(...SPEEDS.map((option) => new Option(option.label, String(option.ns))));
    speed.value = String(DEFAULT_SPEED_NS);
    const types = $<HTMLSelectElement>('filter-type');
    const groups = ['exit.*', 'irq.*', 'vm.*', 'vcpu.*', 'device.*', 'console.*', 'input.*'];
    types.replaceChildren(new Option('', ''), ...groups.map((group) => new Option(group, group)), ...EVENT_TYPES.map((type) => new Option(type, type)));
  }

  private scenarioChanged(): void {
    const name = $<HTMLSelectElement>('scenario').value;
    const text = this.scenarios.get(name) ?? '';
    if (this.editor.text !== text) this.editor.set(text, `${name}.yaml`);
    const seed = /^seed:\s*(\d+)/m.exec(text);
    const policy = /^\s+policy:\s*([a-z0-9-]+)/m.exec(text);
    $<HTMLInputElement>('seed').placeholder = seed?.[1] ?? '0';
    $<HTMLInputElement>('seed').value = '';
    ($<HTMLSelectElement>('policy').options[0] as HTMLOptionElement).text = `(${policy?.[1] ?? 'round-robin'})`;
    $<HTMLSelectElement>('policy').value = '';
  }

  private bind(): void {
    $('scenario').addEventListener('change', () => this.scenarioChanged());
    $('run').addEventListener('click', () => (this.running ? this.stopWorker() : this.startRun()));
    $('run-edited').addEventListener('click', () => this.startRun());
    $('compare-run').addEventListener('click', () => this.runCompare());
    $('editor').addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.startRun();
      }
    });
    $('editor-details').addEventListener('toggle', () => this.editor.view.requestMeasure());
    $('tour-next').addEventListener('click', () => void this.tourStep(+1));
    $('tour-prev').addEventListener('click', () => void this.tourStep(-1));
    $('tour-close').addEventListener('click', () => this.endTour());
    $('open-log').addEventListener('click', () => $<HTMLInputElement>('log-file').click());
    $<HTMLInputElement>('log-file').addEventListener('change', () => {
      const file = $<HTMLInputElement>('log-file').files?.[0];
      if (file !== undefined) void this.loadFile(file);
      $<HTMLInputElement>('log-file').value = '';
    });
    $('download-log').addEventListener('click', () => this.download());
    $<HTMLSelectElement>('lang').addEventListener('change', () => {
      const lang = $<HTMLSelectElement>('lang').value as Lang;
      localStorage.setItem('vmmsim.lang', lang);
      setLanguage(lang);
    });
    $('play').addEventListener('click', () => (this.playing ? this.pause() : this.play()));
    $('step-back').addEventListener('click', () => this.pause(() => this.goTo(this.cursorSeq - 1)));
    $('step-forward').addEventListener('click', () => this.pause(() => this.goTo(this.cursorSeq + 1)));
    $('to-start').addEventListener('click', () => this.pause(() => this.goTo(0)));
    $('to-end').addEventListener('click', () => this.pause(() => this.goTo((this.run?.count ?? 0) - 1)));
    $('next-exit').addEventListener('click', () => this.pause(() => this.nextExit()));
    $('explain-concept').addEventListener('click', (event) => {
      event.preventDefault();
      this.openConcept();
    });
    $<HTMLSelectElement>('speed').addEventListener('change', () => {
      this.speedNs = Number($<HTMLSelectElement>('speed').value);
    });
    $<HTMLInputElement>('slider').addEventListener('input', () => this.pause(() => this.goTo(Number($<HTMLInputElement>('slider').value))));
    $('goto-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const point = parsePoint($<HTMLInputElement>('goto').value);
      if (point === null) {
        this.setStatus('statusError', () => t('badPoint'));
        return;
      }
      this.pause(() => ('seq' in point ? this.goTo(point.seq) : this.goToTime(point.timeNs)));
    });
    $('zoom-in').addEventListener('click', () => this.timeline.zoom(0.5));
    $('zoom-out').addEventListener('click', () => this.timeline.zoom(2));
    $('zoom-fit').addEventListener('click', () => this.timeline.fit());
    for (const id of ['filter-vm', 'filter-type', 'filter-from', 'filter-to']) $(id).addEventListener('change', () => this.refilter());
    $<HTMLInputElement>('follow').addEventListener('change', () => {
      this.list.follow = $<HTMLInputElement>('follow').checked;
    });
    $('state-details').addEventListener('toggle', () => this.invalidate());
    document.addEventListener('keydown', (event) => this.key(event));
    this.bindDrop();
  }

  private bindDrop(): void {
    const overlay = $('drop');
    let depth = 0;
    document.addEventListener('dragenter', (event) => {
      if (!event.dataTransfer?.types.includes('Files')) return;
      depth++;
      overlay.hidden = false;
    });
    document.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) overlay.hidden = true;
    });
    document.addEventListener('dragover', (event) => event.preventDefault());
    document.addEventListener('drop', (event) => {
      event.preventDefault();
      depth = 0;
      overlay.hidden = true;
      const file = event.dataTransfer?.files[0];
      if (file !== undefined) void this.loadFile(file);
    });
  }

  private key(event: KeyboardEvent): void {
    const target = event.target as HTMLElement;
    // Keys typed into a field or the editor (a contenteditable) are the field's.
    if (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA' || target.isContentEditable || target.closest('.cm-editor, dialog') !== null) return;
    if (event.key === ' ') {
      event.preventDefault();
      if (this.playing) this.pause();
      else this.play();
    } else if (event.key === 'ArrowLeft') this.pause(() => this.goTo(this.cursorSeq - 1));
    else if (event.key === 'ArrowRight') this.pause(() => this.goTo(this.cursorSeq + 1));
    else if (event.key === 'n' && !event.ctrlKey && !event.metaKey && !event.altKey) this.pause(() => this.nextExit());
  }

  /** Moves the cursor to the next VM exit after it (the end when there is none yet). */
  private nextExit(): void {
    const run = this.run;
    if (run === undefined) return;
    for (let seq = this.cursorSeq + 1; seq < run.count; seq++) {
      if (run.typeOf(seq).startsWith('exit.')) return this.goTo(seq);
    }
    this.goTo(run.count - 1);
  }

  private openConcept(): void {
    const concept = CONCEPTS[this.concept];
    $('concept-title').textContent = concept.title[language()];
    $('concept-anchor').textContent = `docs/concepts.md#${concept.slug}`;
    $('concept-body').textContent = sectionText(CONCEPTS_MD, concept.slug);
    const dialog = $<HTMLDialogElement>('concept-dialog');
    if (!dialog.open) dialog.showModal();
  }

  /** The first run: once the first trapped instruction (a privileged instruction or port I/O) is read, stop there. */
  private watchForIntro(run: RunData): void {
    const intro = this.intro;
    if (intro === null || !intro.pending) return;
    for (let seq = intro.scannedTo; seq < run.count; seq++) {
      const type = run.typeOf(seq);
      if (type === 'exit.privileged' || type === 'exit.io') {
        intro.pending = false;
        intro.vm = run.vms[run.vmOf(seq)] ?? '';
        this.goTo(seq);
        this.showIntro();
        return;
      }
    }
    intro.scannedTo = run.count;
  }

  private showIntro(): void {
    const node = $('intro');
    const intro = this.intro;
    node.hidden = intro === null || intro.pending;
    if (intro !== null && !intro.pending) node.textContent = t('introTrap', { vm: intro.vm });
    document.body.dataset.intro = intro !== null && !intro.pending ? 'trap' : '';
  }

  private renderExplanation(): void {
    const run = this.run;
    const key = `${run?.name ?? ''}:${this.cursorSeq}:${language()}`;
    if (key === this.explained) return;
    this.explained = key;
    const node = $('explain-text');
    const link = $<HTMLAnchorElement>('explain-concept');
    if (run === undefined || this.cursorSeq < 0 || this.cursorSeq >= run.count) {
      node.textContent = t('noEvent');
      this.concept = 'hypervisor';
    } else {
      const event = run.event(this.cursorSeq);
      const explained = explain(event, language());
      node.textContent = explained.text;
      node.dataset.seq = String(this.cursorSeq);
      node.dataset.type = event.type;
      this.concept = explained.concept;
    }
    const concept = CONCEPTS[this.concept];
    link.textContent = concept.title[language()];
    link.href = `docs/concepts.md#${concept.slug}`;
    link.dataset.concept = this.concept;
  }

  private translate(): void {
    document.documentElement.lang = language();
    $<HTMLSelectElement>('lang').value = language();
    for (const node of document.querySelectorAll<HTMLElement>('[data-i18n]')) node.textContent = t(node.dataset.i18n as MessageKey);
    for (const node of document.querySelectorAll<HTMLElement>('[data-i18n-title]')) node.title = t(node.dataset.i18nTitle as MessageKey);
    for (const node of document.querySelectorAll<HTMLInputElement>('[data-i18n-placeholder]')) node.placeholder = t(node.dataset.i18nPlaceholder as MessageKey);
    for (const node of document.querySelectorAll<HTMLElement>('[data-i18n-aria]')) node.setAttribute('aria-label', t(node.dataset.i18nAria as MessageKey));
    document.title = t('title');
    this.editor.setLabel(t('editorLabel'));
    // The loader's errors in the new language: the list under the editor now, its marks when relinted.
    this.showDiagnostics(this.diagnostics);
    this.editor.relint();
    this.compare.render();
    $('run').textContent = this.running ? t('stop') : t('run');
    $('play').textContent = this.playing ? '❚❚' : '▶';
    $('play').title = this.playing ? t('pause') : t('play');
    (($<HTMLSelectElement>('filter-type').options[0]) as HTMLOptionElement).text = `(${t('all')})`;
    this.fillVmFilter();
    this.cards.reset();
    this.charts.invalidate(true);
    this.timeline.redraw();
    this.showStatus();
    this.showIntro();
    this.fillTours();
    this.renderTour();
    this.explained = '';
    this.invalidate();
  }

  private fillVmFilter(): void {
    const select = $<HTMLSelectElement>('filter-vm');
    const value = select.value;
    const vms = this.run?.vms ?? [];
    select.replaceChildren(new Option(`(${t('all')})`, String(ALL_VMS)), new Option(t('hostAndMonitor'), String(NO_VM)), ...vms.map((name, index) => new Option(name, String(index))));
    select.value = [...select.options].some((option) => option.value === value) ? value : String(ALL_VMS);
  }

  // ---- loading a run -------------------------------------------------------------------------

  private reset(name: string, keepText: boolean): RunData {
    this.stopWorker();
    this.playing = false;
    const run = new RunData(name);
    this.run = run;
    this.travel = new TimeTravel(run);
    this.state = EMPTY_STATE;
    this.cursorSeq = -1;
    this.cursorTime = 0;
    document.body.dataset.seq = '-1';
    this.metrics = null;
    this.logText = keepText ? [] : null;
    this.logChars = 0;
    $<HTMLButtonElement>('download-log').disabled = true;
    this.cards.reset();
    this.timeline.setRun(run);
    this.refilter();
    this.charts.set(run, null);
    document.body.dataset.finished = 'false';
    return run;
  }

  private ingest(run: RunData, text: string): boolean {
    if (run !== this.run) return false;
    try {
      run.ingest(text);
    } catch (error) {
      this.fail(error);
      return false;
    }
    if (this.logText !== null) {
      this.logChars += text.length;
      if (this.logChars <= DOWNLOAD_LIMIT_CHARS) this.logText.push(text);
      else this.logText = null;
    }
    this.travel?.update();
    this.filtered?.update();
    this.watchForIntro(run);
    if (run.vms.length !== $<HTMLSelectElement>('filter-vm').options.length - 2) this.fillVmFilter();
    this.list.invalidate();
    this.timeline.invalidate();
    this.charts.invalidate();
    this.invalidate();
    return true;
  }

  private finishLoading(run: RunData, key: MessageKey): void {
    if (run !== this.run) return;
    run.close();
    document.body.dataset.count = String(run.count);
    document.body.dataset.finished = 'true';
    // A function, so a change of language re-words it.
    this.setStatus(key, () => `${run.header === undefined ? '' : (run.header.scenario as { name?: string }).name ?? ''} · ${run.count} ${t('eventsWord')} · ${formatNs(run.endTime)}${run.warnings.length > 0 ? ' · ' + run.warnings.map((warning) => translateLoaderText(warning, language())).join('; ') : ''}`);
    this.charts.set(run, this.metrics);
    this.timeline.invalidate();
    this.invalidate();
    const waiting = this.finished.filter((entry) => entry.run === run);
    this.finished = this.finished.filter((entry) => entry.run !== run);
    for (const entry of waiting) entry.resolve(run);
  }

  private startRun(options: { autoplay?: boolean; name?: string; edited?: boolean } = {}): RunData | undefined {
    const autoplay = options.autoplay ?? true;
    if (options.name !== undefined) {
      $<HTMLSelectElement>('scenario').value = options.name;
      this.scenarioChanged();
    }
    const name = $<HTMLSelectElement>('scenario').value;
    // A tour runs its bundled scenario; Run runs what the editor holds (the selected scenario, edited or not).
    const text = options.name !== undefined ? this.scenarios.get(name) : this.editor.text;
    if (text === undefined) return undefined;
    if (options.name === undefined && text !== this.scenarios.get(name)) options = { ...options, edited: true };
    const seedText = $<HTMLInputElement>('seed').value.trim();
    const policy = $<HTMLSelectElement>('policy').value;
    if (autoplay) this.intro = null;
    const run = this.reset(`${name}.yaml`, true);
    this.runScenario = seedText === '' && policy === '' && options.edited !== true ? name : undefined;
    this.showIntro();
    const worker = new Worker(new URL('./worker/simWorker.ts', import.meta.url), { type: 'module' });
    this.worker = worker;
    this.running = true;
    $('run').textContent = t('stop');
    this.setStatus('statusRunning', name);
    worker.onmessage = (message: MessageEvent<WorkerReply>) => {
      const reply = message.data;
      if (reply.kind === 'log') this.ingest(run, reply.text);
      else if (reply.kind === 'done') {
        this.metrics = reply.metrics;
        this.workerDone();
        $<HTMLButtonElement>('download-log').disabled = this.logText === null;
        this.finishLoading(run, 'statusDone');
      } else if (reply.kind === 'error') {
        this.workerDone();
        this.setStatus('statusError', () => translateLoaderText(reply.message, language()));
      }
    };
    worker.onerror = (event) => {
      this.workerDone();
      this.setStatus('statusError', () => translateLoaderText(event.message, language()));
    };
    const request: WorkerRequest = {
      kind: 'start',
      scenarioText: text,
      file: `${name}.yaml`,
      ...(seedText === '' ? {} : { seed: Number(seedText) }),
      ...(policy === '' ? {} : { policy }),
    };
    worker.postMessage(request);
    if (autoplay) this.play();
    return run;
  }

  /** Runs the comparison in a worker of its own (the run shown is left as it is). */
  private runCompare(): void {
    const name = $<HTMLSelectElement>('compare-scenario').value;
    const text = this.scenarios.get(name);
    if (text === undefined) return;
    this.compareWorker?.terminate();
    const worker = new Worker(new URL('./worker/simWorker.ts', import.meta.url), { type: 'module' });
    this.compareWorker = worker;
    const status = $('compare-status');
    status.textContent = t('compareRunning');
    document.body.dataset.compared = 'false';
    worker.onmessage = (message: MessageEvent<WorkerReply>) => {
      const reply = message.data;
      if (reply.kind === 'compared') {
        this.compare.set(reply.rows);
        status.textContent = `${t('compareDone')}: ${name}`;
        document.body.dataset.compared = 'true';
      } else if (reply.kind === 'error') status.textContent = `${t('statusError')}: ${translateLoaderText(reply.message, language())}`;
      worker.terminate();
      this.compareWorker = undefined;
    };
    const request: WorkerRequest = { kind: 'compare', scenarioText: text, file: `${name}.yaml`, archs: ['type1', 'type2'], virts: ['full', 'para', 'hw'] };
    worker.postMessage(request);
  }

  /** The loader's errors for the editor's text, listed under it with their line. */
  private showDiagnostics(diagnostics: readonly ScenarioDiagnostic[]): void {
    this.diagnostics = diagnostics;
    const list = $('editor-errors');
    list.replaceChildren(
      ...diagnostics.map((diagnostic) => {
        const item = document.createElement('li');
        item.dataset.line = String(diagnostic.line);
        item.textContent = `${t('line')} ${diagnostic.line}:${diagnostic.column} · ${diagnostic.path === '' ? '' : diagnostic.path + ': '}${translateLoaderMessage(diagnostic.message, language())}`;
        return item;
      }),
    );
  }

  /** Resolves once `run` is complete (at once if it is). */
  private whenFinished(run: RunData): Promise<RunData> {
    if (run.finished) return Promise.resolve(run);
    return new Promise((resolve) => this.finished.push({ run, resolve }));
  }

  // ---- guided tours --------------------------------------------------------------------------

  private fillTours(): void {
    const list = $('tour-list');
    list.replaceChildren(
      ...TOURS.map((tour) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'tour-start';
        button.dataset.tour = tour.id;
        button.textContent = tour.title[language()];
        button.addEventListener('click', () => void this.startTour(tour));
        return button;
      }),
    );
  }

  private async startTour(tour: Tour): Promise<void> {
    this.intro = null;
    this.showIntro();
    this.tour = { tour, step: -1, seq: -1, runs: new Map() };
    await this.tourStep(+1);
  }

  /** Moves the tour a step (+1 or -1): runs the step's scenario if another run is shown, then moves the cursor. */
  private async tourStep(delta: number): Promise<void> {
    const current = this.tour;
    if (current === null) return;
    const index = Math.max(0, Math.min(current.tour.steps.length - 1, current.step + delta));
    const step = current.tour.steps[index];
    current.step = index;
    document.body.dataset.tourReady = 'false';
    this.renderTour();
    let run = this.run;
    if (run === undefined || this.runScenario !== step.scenario) run = this.startRun({ autoplay: false, name: step.scenario });
    if (run === undefined) return;
    run = await this.whenFinished(run);
    if (this.tour !== current || current.step !== index) return;
    current.runs.set(step.scenario, run);
    current.seq = step.at({ run, runs: current.runs });
    this.pause(() => this.goTo(current.seq < 0 ? run.count - 1 : current.seq));
    document.body.dataset.tourReady = 'true';
    this.renderTour();
  }

  private endTour(): void {
    this.tour = null;
    this.renderTour();
  }

  private renderTour(): void {
    const current = this.tour;
    const panel = $('tour');
    panel.hidden = current === null;
    document.body.dataset.tour = current?.tour.id ?? '';
    document.body.dataset.tourStep = String(current?.step ?? -1);
    if (current === null) return;
    const step = current.tour.steps[current.step];
    const run = current.runs.get(step.scenario);
    $('tour-title').textContent = current.tour.title[language()];
    $('tour-progress').textContent = `${t('tourStep')} ${current.step + 1} ${t('of')} ${current.tour.steps.length}`;
    const ready = document.body.dataset.tourReady === 'true';
    $('tour-text').textContent = run === undefined || !ready ? '…' : step.text[language()]({ run, runs: current.runs }, current.seq);
    $<HTMLButtonElement>('tour-prev').disabled = current.step === 0;
    $<HTMLButtonElement>('tour-next').disabled = current.step === current.tour.steps.length - 1;
  }

  private workerDone(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.running = false;
    $('run').textContent = t('run');
  }

  private stopWorker(): void {
    if (this.worker === undefined) return;
    this.worker.postMessage({ kind: 'stop' } satisfies WorkerRequest);
  }

  private async loadFile(file: File): Promise<void> {
    await this.loadStream(file.name, file.stream());
  }

  private async loadUrl(url: string): Promise<void> {
    const name = decodeURIComponent(url.replace(/^.*\//, ''));
    try {
      const response = await fetch(url);
      if (!response.ok || response.body === null) throw new Error(`${url}: ${response.status} ${response.statusText}`);
      await this.loadStream(name, response.body);
    } catch (error) {
      this.fail(error);
    }
  }

  private async loadStream(name: string, stream: ReadableStream<Uint8Array>): Promise<void> {
    this.intro = null;
    this.runScenario = undefined;
    const run = this.reset(name, false);
    this.showIntro();
    this.setStatus('statusLoading', name);
    const decoder = new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>;
    const reader = stream.pipeThrough(decoder).getReader();
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!this.ingest(run, value)) {
        await reader.cancel();
        return;
      }
    }
    this.finishLoading(run, 'statusLoaded');
    this.goTo(run.count - 1);
  }

  private async addScenarioUrl(url: string): Promise<void> {
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
      const name = decodeURIComponent(url.replace(/^.*\//, '').replace(/\.ya?ml$/, ''));
      this.scenarios.set(name, await response.text());
      const select = $<HTMLSelectElement>('scenario');
      select.prepend(new Option(name, name));
      select.value = name;
      this.scenarioChanged();
    } catch (error) {
      this.fail(error);
    }
  }

  private download(): void {
    if (this.logText === null || this.run === undefined) return;
    const blob = new Blob(this.logText, { type: 'application/x-ndjson' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = this.run.name.replace(/\.yaml$/, '') + '.jsonl';
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  private fail(error: unknown): void {
    const message = error instanceof LogError || error instanceof Error ? error.message : String(error);
    this.stopWorker();
    this.playing = false;
    this.setStatus('statusError', () => translateLoaderText(message, language()));
  }

  private setStatus(key: MessageKey, detail: string | (() => string)): void {
    this.status = { key, detail };
    this.showStatus();
  }

  private showStatus(): void {
    const node = $('status');
    const detail = typeof this.status.detail === 'function' ? this.status.detail() : this.status.detail;
    node.textContent = `${t(this.status.key)}${detail === '' ? '' : ': ' + detail}`;
    node.dataset.kind = this.status.key;
  }

  // ---- the cursor ----------------------------------------------------------------------------

  private goTo(seq: number, timeNs?: number): void {
    const run = this.run;
    const travel = this.travel;
    if (run === undefined || travel === undefined || run.count === 0) return;
    const target = Math.max(-1, Math.min(seq, run.count - 1));
    this.state = target >= this.state.seq ? travel.advance(this.state, target) : travel.stateAt(target);
    this.cursorSeq = target;
    this.cursorTime = timeNs ?? (target < 0 ? 0 : run.time.get(target));
    this.list.setCursor(target);
    // Set at once (not at the next frame), so a test reading it after a click sees the new seq.
    document.body.dataset.seq = String(target);
    this.invalidate();
  }

  private goToTime(timeNs: number): void {
    const run = this.run;
    if (run === undefined) return;
    this.pause(() => this.goTo(run.lastSeqAtOrBefore(timeNs), timeNs));
  }

  private play(): void {
    if (this.run === undefined) return;
    if (this.run.finished && this.cursorSeq >= this.run.count - 1) this.goTo(-1);
    this.playing = true;
    this.translatePlay();
  }

  /** Pauses playback, then runs `then` (a step or a jump). */
  private pause(then?: () => void): void {
    this.playing = false;
    this.translatePlay();
    then?.();
  }

  private translatePlay(): void {
    $('play').textContent = this.playing ? '❚❚' : '▶';
    $('play').title = this.playing ? t('pause') : t('play');
    document.body.dataset.playing = String(this.playing);
  }

  private frame(now: number): void {
    const elapsedMs = this.lastFrame === 0 ? 0 : Math.min(250, now - this.lastFrame);
    this.lastFrame = now;
    const run = this.run;
    if (this.playing && run !== undefined && run.count > 0) {
      const end = run.finished ? run.endTime : run.lastTime;
      const target = this.speedNs === Number.POSITIVE_INFINITY ? end : Math.min(end, this.cursorTime + (elapsedMs / 1000) * this.speedNs);
      const seq = run.lastSeqAtOrBefore(target);
      if (seq !== this.cursorSeq) this.goTo(seq, target);
      else this.cursorTime = target;
      if (run.finished && target >= end && seq >= run.count - 1) this.pause();
      this.invalidate();
    }
    requestAnimationFrame((next) => this.frame(next));
  }

  private refilter(): void {
    const run = this.run;
    const filter: EventFilter = {
      vm: Number($<HTMLSelectElement>('filter-vm').value || ALL_VMS),
      type: $<HTMLSelectElement>('filter-type').value,
      fromNs: timeOrDefault($<HTMLInputElement>('filter-from').value, 0),
      toNs: timeOrDefault($<HTMLInputElement>('filter-to').value, Number.POSITIVE_INFINITY),
    };
    this.filtered = run === undefined ? undefined : new FilteredEvents(run, filter);
    this.filtered?.update();
    this.list.set(run, this.filtered);
    if (this.cursorSeq >= 0) this.list.reveal(this.cursorSeq);
    this.invalidate();
  }

  // ---- drawing -------------------------------------------------------------------------------

  private invalidate(): void {
    if (this.renderScheduled) return;
    this.renderScheduled = true;
    requestAnimationFrame(() => {
      this.renderScheduled = false;
      this.render();
    });
  }

  private render(): void {
    const run = this.run;
    const count = run?.count ?? 0;
    const slider = $<HTMLInputElement>('slider');
    slider.max = String(count - 1);
    slider.value = String(this.cursorSeq);
    const seqText = this.cursorSeq < 0 ? '—' : String(this.cursorSeq);
    $('position').textContent = `${t('position')} ${seqText} ${t('of')} ${count} · ${t('time')} ${formatNs(Math.round(this.cursorTime))}${this.state.ended !== null ? ` · ${t('ended')} (${this.state.ended})` : ''}`;
    document.body.dataset.count = String(count);
    this.renderExplanation();
    $('event-count').textContent = `${this.filtered?.length ?? 0} ${t('shown')}`;
    if (run === undefined) return;
    this.timeline.setCursor(this.cursorSeq, this.cursorTime);
    // The charts show the run up to the cursor (or up to the last event read, when it is there).
    this.charts.setCursor(this.cursorSeq >= 0 && this.cursorSeq < count - 1 ? this.cursorSeq : undefined);
    this.cards.render(run, this.state);
    const details = $<HTMLDetailsElement>('state-details');
    if (details.open) {
      const pre = $('state-json');
      pre.dataset.seq = String(this.state.seq);
      pre.textContent = JSON.stringify(this.state, null, 2);
    }
  }
}

function timeOrDefault(text: string, fallback: number): number {
  if (text.trim() === '') return fallback;
  const point = parsePoint(/^\d+(\.\d+)?$/.test(text.trim()) ? `${text.trim()}ms` : text);
  return point !== null && 'timeNs' in point ? point.timeNs : fallback;
}

new App().start();
