/**
 * Each VM as a card: its lifecycle state machine (libvirt's states) drawn with the current
 * state lit, its vCPUs with their states, where they run and in which mode they last exited, its
 * console, and its counters. Everything shown comes from the fold's state at the cursor, except
 * the console history, which the run's index gives up to the cursor.
 */
import { EXIT_REASONS, type VmState } from '../../../src/core/events.js';
import type { InspectState, VmView } from '../../../src/replay/fold/state.js';
import type { RunData } from '../store/runData.js';
import { formatNs } from '../store/format.js';
import { language, modeName, stateName, t } from '../i18n.js';
import { translateReason } from '../learn/reasons.js';
import { vmColor } from './colors.js';

const SVG = 'http://www.w3.org/2000/svg';
const CONSOLE_LINES = 40;

/** Where each VM state sits in the diagram. */
const NODES: Readonly<Record<VmState, readonly [number, number]>> = {
  defined: [34, 46],
  running: [118, 46],
  paused: [118, 13],
  blocked: [206, 13],
  shutdown: [206, 46],
  shutoff: [290, 46],
  crashed: [206, 79],
};

/** The transitions of src/machines/vmMachine.ts (docs/architecture.md). */
const EDGES: readonly (readonly [VmState, VmState])[] = [
  ['defined', 'running'],
  ['running', 'paused'],
  ['running', 'blocked'],
  ['running', 'shutdown'],
  ['blocked', 'shutdown'],
  ['shutdown', 'shutoff'],
  ['running', 'crashed'],
  ['blocked', 'crashed'],
];

interface Card {
  readonly root: HTMLElement;
  readonly stateBadge: HTMLElement;
  readonly nodes: Map<VmState, SVGGElement>;
  readonly vcpus: HTMLElement;
  readonly console: HTMLElement;
  readonly counters: HTMLElement;
  readonly meta: HTMLElement;
  consoleKey: string;
}

export class VmCards {
  private cards = new Map<string, Card>();
  private runKey: RunData | undefined;

  constructor(private readonly container: HTMLElement) {}

  reset(): void {
    this.cards.clear();
    this.container.replaceChildren();
    this.runKey = undefined;
  }

  render(run: RunData, state: InspectState): void {
    if (this.runKey !== run) {
      this.reset();
      this.runKey = run;
    }
    for (const name of run.vms) {
      if (!this.cards.has(name)) this.cards.set(name, this.create(name, run.vms.indexOf(name)));
    }
    for (const [name, card] of this.cards) this.update(card, run, run.vms.indexOf(name), state.vms[name], state);
  }

  private create(name: string, index: number): Card {
    const root = element('article', 'vm-card');
    root.dataset.vm = name;
    root.style.borderTopColor = vmColor(index);
    const header = element('header');
    const title = element('h3');
    // The VM's colour marks the card (its top border and a dot); the name stays dark, for contrast.
    const dot = element('span', 'vm-dot');
    dot.style.background = vmColor(index);
    dot.setAttribute('aria-hidden', 'true');
    title.append(dot, name);
    const stateBadge = element('span', 'badge');
    stateBadge.dataset.role = 'vm-state';
    const meta = element('span', 'meta');
    header.append(title, stateBadge, meta);
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 330 94');
    svg.classList.add('lifecycle');
    const nodes = new Map<VmState, SVGGElement>();
    for (const [from, to] of EDGES) {
      const line = document.createElementNS(SVG, 'line');
      const [x1, y1] = NODES[from];
      const [x2, y2] = NODES[to];
      line.setAttribute('x1', String(x1));
      line.setAttribute('y1', String(y1));
      line.setAttribute('x2', String(x2));
      line.setAttribute('y2', String(y2));
      svg.append(line);
    }
    for (const [state, [x, y]] of Object.entries(NODES) as [VmState, readonly [number, number]][]) {
      const group = document.createElementNS(SVG, 'g');
      group.dataset.state = state;
      const rect = document.createElementNS(SVG, 'rect');
      rect.setAttribute('x', String(x - 38));
      rect.setAttribute('y', String(y - 10));
      rect.setAttribute('width', '76');
      rect.setAttribute('height', '20');
      rect.setAttribute('rx', '10');
      const text = document.createElementNS(SVG, 'text');
      text.setAttribute('x', String(x));
      text.setAttribute('y', String(y + 4));
      group.append(rect, text);
      svg.append(group);
      nodes.set(state, group);
    }
    const label = (key: Parameters<typeof t>[0]) => {
      const h = element('h4');
      h.textContent = t(key);
      return h;
    };
    const vcpus = element('div', 'vcpus');
    const consoleBox = element('pre', 'console');
    consoleBox.dataset.role = 'console';
    const counters = element('dl', 'counters');
    root.append(header, svg, label('vcpus'), vcpus, label('console'), consoleBox, label('counters'), counters);
    this.container.append(root);
    return { root, stateBadge, nodes, vcpus, console: consoleBox, counters, meta, consoleKey: '' };
  }

  private update(card: Card, run: RunData, index: number, vm: VmView | undefined, state: InspectState): void {
    const vmState: VmState = vm?.state ?? 'defined';
    card.root.dataset.state = vm === undefined ? '' : vmState;
    card.stateBadge.textContent = vm === undefined ? '—' : stateName(vmState, 'vm') + (vm.endReason !== null ? `: ${translateReason(vm.endReason, language())}` : '');
    card.stateBadge.className = `badge state-${vm === undefined ? 'none' : vmState}`;
    card.meta.textContent = vm === undefined ? '' : [`${t('guest')} ${vm.guest} · ${t('memory')} ${vm.memoryBytes / 1024} KiB`, ...placement(run, vm)].join(' · ');
    for (const [nodeState, group] of card.nodes) {
      group.classList.toggle('lit', vm !== undefined && nodeState === vmState);
      (group.querySelector('text') as SVGTextElement).textContent = stateName(nodeState, 'vm');
    }
    // vCPUs
    const rows: HTMLElement[] = [];
    for (const vcpu of vm?.vcpus ?? []) {
      const row = element('div', 'vcpu');
      row.dataset.vcpu = String(vcpu.index);
      row.dataset.state = vcpu.state;
      const badge = element('span', `badge state-${vcpu.state}`);
      badge.textContent = stateName(vcpu.state, 'vcpu');
      const text = element('span');
      const parts = [`vCPU ${vcpu.index}`];
      if (vcpu.pcpu !== null) parts.push(`${t('on')} pCPU ${vcpu.pcpu}`);
      if (vcpu.lastExit !== null) {
        parts.push(`${t('lastExit')}: ${vcpu.lastExit.reason} @0x${vcpu.lastExit.pc.toString(16)}` + (vcpu.lastExit.mode !== null ? ` (${modeName(vcpu.lastExit.mode)})` : ''));
      }
      const queued = state.runQueue.indexOf(vcpu.id);
      if (queued >= 0) parts.push(`${t('runQueue')} #${queued + 1}`);
      text.textContent = parts.join(' · ');
      row.append(text, badge);
      rows.push(row);
    }
    card.vcpus.replaceChildren(...rows);
    // Console: the lines written up to the cursor.
    const seq = state.seq;
    const seqs = run.consoleSeqs[index];
    const written = seq < 0 ? 0 : run.consoleLinesUpTo(index, seq);
    const key = `${written}`;
    if (card.consoleKey !== key) {
      card.consoleKey = key;
      const lines: string[] = [];
      for (let line = Math.max(0, written - CONSOLE_LINES); line < written; line++) lines.push(run.consoleText(seqs[line]));
      card.console.textContent = lines.join('\n');
      card.console.scrollTop = card.console.scrollHeight;
    }
    // Counters
    const entries: [string, string][] = [];
    if (vm !== undefined) {
      entries.push([t('exits'), String(vm.counters.exitsTotal)]);
      const byReason = EXIT_REASONS.filter((reason) => vm.counters.exits[reason] > 0).map((reason) => `${reason}=${vm.counters.exits[reason]}`);
      if (byReason.length > 0) entries.push(['', byReason.join(' ')]);
      entries.push([t('interrupts'), String(vm.counters.interrupts)]);
      entries.push([t('exceptions'), String(vm.counters.exceptions)]);
      entries.push([t('dispatches'), String(vm.vcpus.reduce((sum, vcpu) => sum + vcpu.counters.dispatches, 0))]);
      entries.push([t('consoleLines'), String(vm.console.lines)]);
      entries.push([t('timerFired'), `${vm.devices.timer.fired}` + (vm.devices.timer.mode !== 'off' ? ` (${vm.devices.timer.mode} ${formatNs(vm.devices.timer.ns)})` : '')]);
    }
    card.counters.replaceChildren(
      ...entries.flatMap(([name, value]) => {
        const dt = element('dt');
        dt.textContent = name;
        const dd = element('dd');
        dd.textContent = value;
        return [dt, dd];
      }),
    );
  }
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className !== undefined) node.className = className;
  return node;
}

/**
 * Where a VM is, with several hosts: its host, and its live migration as the fold tells it (the
 * rounds while it copies, then the host it arrived on with the migration's figures).
 */
function placement(run: RunData, vm: VmView): string[] {
  const migration = vm.migration;
  if (migration === undefined) {
    const host = run.startHostOf(vm.name);
    return host === undefined ? [] : [t('onHost', { host })];
  }
  switch (migration.state) {
    case 'copying':
      return [t('onHost', { host: migration.from }), t('migrating', { from: migration.from, to: migration.to, round: migration.rounds.length })];
    case 'stopped-copy':
      return [t('stopAndCopy', { from: migration.from, to: migration.to })];
    case 'completed':
      return [
        t('onHost', { host: migration.to }),
        t('migrated', {
          from: migration.from,
          total: formatNs(migration.totalNs ?? 0),
          downtime: formatNs(migration.downtimeNs ?? 0),
          pages: migration.pagesSent ?? 0,
          resent: migration.pagesResent ?? 0,
        }),
      ];
    default:
      return [t('onHost', { host: migration.from }), t('migrationRefused', { to: migration.to, state: migration.state, reason: translateReason(migration.reason ?? '', language()) })];
  }
}
