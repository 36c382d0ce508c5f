/**
 * `vmmsim compare [SCENARIO] --arch type1,type2 --virt full,para,hw,bt`: runs the same guests under
 * each hypervisor architecture and virtualization technique, and on the simulated bare machine
 * (no monitor), and prints a side-by-side table per VM: exits per thousand guest instructions,
 * exits by reason, virtual time per console character (I/O), throughput, completion time, and the
 * overhead against the bare machine. Under `para`, a VM running the bundled `kernel` runs its
 * paravirtualized variant `kernel-pv` (a paravirtual guest is built for it).
 *
 * `--io emulated,paravirtual,passthrough` attaches every VM's block device and NIC in each mode in
 * turn (default scenario examples/io.yaml) and prints the I/O table instead: I/O operations (block
 * requests, packets sent and received), exits on the devices' ports per operation, every other
 * exit but the console's per operation, busy virtual time per operation. A guest is given the
 * driver its mode needs: the register-file guests (blk-emulated, net-ping, net-pong) under
 * emulated and passthrough, their paravirtual variants (blk-virtio, net-ping-pv, net-pong-pv)
 * under paravirtual.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACH_MODES, HYPERVISOR_TYPES, PAGING_MODES, VIRT_TECHNIQUES } from '../core/scenario/schema.js';
import { PROFILE_NAMES } from '../core/scenario/profiles.js';
import { archConfigs, archRows, type ArchRow } from './archRuns.js';
import { InputError } from './errors.js';
import { alignColumns, formatNs } from './format.js';
import { PACKAGE_ROOT, loadScenarioFile, withGuestErrors } from './scenarioFile.js';

export interface ArchCompareOptions {
  readonly profile?: string;
  readonly arch?: string;
  readonly virt?: string;
  readonly paging?: string;
  /** Device attach modes to compare (emulated, paravirtual, passthrough). */
  readonly io?: string;
  /** With hw: how interrupts reach a running vCPU (exit, posted). */
  readonly interrupts?: string;
  readonly out?: string;
  readonly json?: boolean;
}

export type { ArchRow, ArchVmResult } from './archRuns.js';

/** A comma-separated option value: each item one of `allowed` (`what` names them in the error, e.g. `mode `). */
export function parseList<T extends string>(value: string | undefined, allowed: readonly T[], flag: string, fallback: readonly T[], what = ''): T[] {
  if (value === undefined) return [...fallback];
  const items = value.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new InputError(`${flag}: unknown ${what}'${item}' (expected a comma-separated list of: ${allowed.join(', ')})`);
  }
  if (items.length === 0) throw new InputError(`${flag}: expected a comma-separated list of: ${allowed.join(', ')}`);
  return items as T[];
}

export function compareArchitectures(path: string | undefined, options: ArchCompareOptions): ArchRow[] {
  const archs = parseList(options.arch, HYPERVISOR_TYPES, '--arch', ['type1']);
  const profiles = options.profile === undefined ? [] : parseList(options.profile, PROFILE_NAMES, '--profile', []);
  const virts = parseList(options.virt, VIRT_TECHNIQUES, '--virt', ['full']);
  const pagings = options.paging === undefined ? undefined : parseList(options.paging, PAGING_MODES, '--paging', ['nested']);
  const ios = options.io === undefined ? undefined : parseList(options.io, ATTACH_MODES, '--io', ['emulated']);
  const interrupts = options.interrupts === undefined ? undefined : parseList(options.interrupts, ['exit', 'posted'] as const, '--interrupts', ['exit']);
  const loaded = loadScenarioFile(path ?? join(PACKAGE_ROOT, 'examples', ios === undefined ? 'overhead.yaml' : 'io.yaml'));
  const configs = archConfigs({ archs, archGiven: options.arch !== undefined, virts, pagings, ios, interrupts, profiles });
  return archRows(loaded.scenario, configs, loaded.readProgram, loaded.file, withGuestErrors);
}

export function archTable(rows: readonly ArchRow[]): string {
  const header = ['config', 'VM', 'exits', 'exits/1k instr', 'exits by reason', 'per console char', 'instr/us', 'completed', 'vs bare'];
  const body = rows.flatMap((row) =>
    row.vms.map((vm, index) => [
      index === 0 ? row.config : '',
      `${vm.vm} (${vm.guest})`,
      String(vm.exits),
      vm.exitsPerKiloInstruction.toFixed(1),
      Object.entries(vm.exitsByReason)
        .map(([reason, count]) => `${reason}=${count}`)
        .join(' ') || '-',
      vm.nsPerConsoleChar === null ? '-' : formatNs(Math.round(vm.nsPerConsoleChar)),
      vm.instructionsPerUs.toFixed(1),
      vm.completionNs === null ? 'running' : formatNs(vm.completionNs),
      vm.slowdown === null ? '1.00x' : `${vm.slowdown.toFixed(2)}x`,
    ]),
  );
  const table = alignColumns(header, body, new Set([2, 3, 5, 6, 7, 8]));
  return [table.header, table.rule, ...table.rows].join('\n');
}

/** The I/O table (`--io`): per VM, I/O operations and exits and busy time per operation. */
export function ioTable(rows: readonly ArchRow[]): string {
  const header = ['config', 'VM', 'I/O ops', 'device exits/op', 'exits/op', 'busy/op', 'completed', 'vs bare'];
  const fixed = (value: number | null, digits: number) => (value === null ? '-' : value.toFixed(digits));
  const body = rows.flatMap((row) =>
    row.vms.map((vm, index) => [
      index === 0 ? row.config : '',
      `${vm.vm} (${vm.guest})`,
      String(vm.ioOperations),
      fixed(vm.deviceExitsPerIo, 2),
      fixed(vm.exitsPerIo, 2),
      vm.busyNsPerIo === null ? '-' : formatNs(Math.round(vm.busyNsPerIo)),
      vm.completionNs === null ? 'running' : formatNs(vm.completionNs),
      vm.slowdown === null ? '1.00x' : `${vm.slowdown.toFixed(2)}x`,
    ]),
  );
  const table = alignColumns(header, body, new Set([2, 3, 4, 5, 6, 7]));
  return [table.header, table.rule, ...table.rows].join('\n');
}

export function archCompareCommand(path: string | undefined, options: ArchCompareOptions, out: { write(text: string): void }): ArchRow[] {
  const rows = compareArchitectures(path, options);
  const table = options.io === undefined ? archTable : ioTable;
  if (options.json) out.write(JSON.stringify(rows, null, 2) + '\n');
  else out.write(table(rows) + '\n');
  if (options.out !== undefined) {
    mkdirSync(options.out, { recursive: true });
    writeFileSync(join(options.out, 'architectures.json'), JSON.stringify(rows, null, 2) + '\n');
    writeFileSync(join(options.out, 'architectures.md'), '```\n' + table(rows) + '\n```\n');
    if (!options.json) out.write(`wrote ${join(options.out, 'architectures.json')} and architectures.md\n`);
  }
  return rows;
}
