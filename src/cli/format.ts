/**
 * Terminal formatting for the CLI: colours (off when not a TTY or NO_COLOR is set), durations
 * and the summary table.
 */
import type { RunSummary } from '../actors/summary.js';
import { EXIT_REASONS, type ExitReason } from '../core/events.js';

export interface Style {
  readonly color: boolean;
}

const PALETTE = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];

export function paint(style: Style, code: number, text: string): string {
  return style.color ? `\u001b[${code}m${text}\u001b[0m` : text;
}

export function vmColor(index: number): number {
  return PALETTE[index % PALETTE.length];
}

export function stateColor(state: string): number {
  if (state === 'crashed') return 31;
  if (state === 'shutoff' || state === 'halted') return 90;
  if (state === 'running') return 32;
  return 33;
}

/** ns as a short human figure: 950 ns, 12.5 us, 3.20 ms, 1.500 s. */
export function formatNs(ns: number): string {
  if (ns < 1_000) return `${ns} ns`;
  if (ns < 1_000_000) return `${(ns / 1_000).toFixed(1)} us`;
  if (ns < 1_000_000_000) return `${(ns / 1_000_000).toFixed(2)} ms`;
  return `${(ns / 1_000_000_000).toFixed(3)} s`;
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

const EXIT_ABBREVIATIONS: Readonly<Record<ExitReason, string>> = {
  io: 'io',
  mmio: 'mmio',
  hlt: 'hlt',
  hypercall: 'hcall',
  privileged: 'priv',
  'page-fault': 'pf',
  exception: 'exc',
  shutdown: 'shut',
  preempt: 'pre',
  interrupt: 'intr',
};

/**
 * Columns of text two spaces apart, as wide as their widest cell (header included): left-aligned,
 * or right-aligned for the `numeric` columns; trailing spaces trimmed. Returns the header line, the
 * rule under it and the rows' lines.
 */
export function alignColumns(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: ReadonlySet<number> = new Set(),
): { readonly header: string; readonly rule: string; readonly rows: string[] } {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ').trimEnd();
  return { header: line(header), rule: widths.map((width) => '-'.repeat(width)).join('  '), rows: rows.map(line) };
}

/** The end-of-run table: one row per vCPU, grouped by VM. */
export function summaryTable(summary: RunSummary, style: Style): string {
  const header = ['VM', 'vCPU', 'state', 'instructions', 'exits', 'exits by reason', 'CPU time', 'wait time', 'overhead'];
  const rows: string[][] = [];
  for (const vm of summary.vms) {
    for (const vcpu of vm.vcpus) {
      const reasons = EXIT_REASONS.filter((reason) => vcpu.exits[reason] > 0)
        .map((reason) => `${EXIT_ABBREVIATIONS[reason]}=${vcpu.exits[reason]}`)
        .join(' ');
      rows.push([
        vcpu.index === 0 ? vm.name : '',
        String(vcpu.index),
        vcpu.index === 0 ? `${vm.state}/${vcpu.state}` : vcpu.state,
        formatCount(vcpu.instructions),
        formatCount(vcpu.exitsTotal),
        reasons || '-',
        formatNs(vcpu.cpuNs),
        formatNs(vcpu.waitNs),
        formatNs(vcpu.overheadNs),
      ]);
    }
  }
  const table = alignColumns(header, rows, new Set([1, 3, 4, 6, 7, 8]));
  const out = [paint(style, 1, table.header), table.rule];
  rows.forEach((row, index) => {
    const text = table.rows[index];
    const vm = summary.vms.find((candidate) => candidate.name === row[0]);
    out.push(vm !== undefined && index >= 0 ? text.replace(vm.state, paint(style, stateColor(vm.state), vm.state)) : text);
  });
  const crashed = summary.vms.filter((vm) => vm.state === 'crashed');
  for (const vm of crashed) out.push(paint(style, 31, `${vm.name} crashed: ${vm.reason}`));
  const memory = summary.memory;
  if (memory !== undefined) {
    // The host shares pages or overcommits: what its memory manager did.
    out.push(
      `host memory: ${formatCount(memory.framesUsed)} of ${formatCount(memory.frames)} frames in use; ` +
        `${formatCount(memory.sharedPages)} guest pages on ${formatCount(memory.sharedFrames)} shared frames (${formatCount(memory.savedFrames)} saved), ` +
        `${formatCount(memory.merges)} merges, ${formatCount(memory.cowBreaks)} copy-on-write breaks; ` +
        `${formatCount(memory.demandPages)} pages backed on first touch, ${formatCount(memory.swapOuts)} swapped out, ${formatCount(memory.swapIns)} in, ${formatCount(memory.swappedPages)} out now` +
        (memory.balloonChecks > 0 || memory.balloonedFrames > 0
          ? `; ${formatCount(memory.balloonedFrames)} frames back from balloons, ${formatCount(memory.balloonRequested)} pages asked by the host in ${formatCount(memory.balloonPressured)} of ${formatCount(memory.balloonChecks)} checks`
          : ''),
    );
  }
  const pcpus = summary.pcpus.map((pcpu) => `pCPU${pcpu.index} ${(pcpu.utilisation * 100).toFixed(1)}%`).join(', ');
  out.push(
    `${formatNs(summary.timeNs)} of virtual time (ended: ${summary.endReason}), ${formatCount(summary.events)} events, ` +
      `${formatCount(summary.instructions)} guest instructions; ${pcpus} busy; seed ${summary.seed}`,
  );
  return out.join('\n');
}
