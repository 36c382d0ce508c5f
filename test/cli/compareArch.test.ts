import { describe, expect, it } from 'vitest';
import { compareArchitectures, type ArchRow } from '../../src/cli/compareArch.js';
import { main } from '../../src/cli/main.js';

const rows = compareArchitectures(undefined, { arch: 'type1,type2', virt: 'full,para,hw,bt' });
const row = (config: string): ArchRow => rows.find((candidate) => candidate.config === config) as ArchRow;
const io = (config: string) => row(config).vms.find((vm) => vm.vm === 'io') as ArchRow['vms'][number];
const cpu = (config: string) => row(config).vms.find((vm) => vm.vm === 'cpu') as ArchRow['vms'][number];

describe('compare --arch --virt: the directions the literature reports', () => {
  it('measures every configuration against the bare machine', () => {
    expect(rows.map((candidate) => candidate.config)).toEqual([
      'bare machine',
      'type1/full',
      'type1/para',
      'type1/hw',
      'type1/bt',
      'type2/full',
      'type2/para',
      'type2/hw',
      'type2/bt',
    ]);
    expect(io('bare machine').exits).toBe(0);
    for (const config of rows.slice(1)) expect(io(config.config).slowdown).toBeGreaterThanOrEqual(1);
  });

  it('Type 2 is slower than Type 1 on I/O, for every technique', () => {
    for (const virt of ['full', 'para', 'hw', 'bt']) {
      expect(io(`type2/${virt}`).completionNs as number).toBeGreaterThan(io(`type1/${virt}`).completionNs as number);
      expect(io(`type2/${virt}`).nsPerConsoleChar as number).toBeGreaterThan(io(`type1/${virt}`).nsPerConsoleChar as number);
    }
  });

  it('paravirtual I/O needs far fewer exits than emulated I/O', () => {
    expect(io('type1/para').exits * 5).toBeLessThan(io('type1/full').exits);
    expect(io('type1/para').exitsByReason.io ?? 0).toBeLessThan((io('type1/full').exitsByReason.io ?? 0) / 10);
    expect(io('type1/para').guest).toBe('kernel-pv');
  });

  it('hardware assistance removes the privileged-instruction and exception exits; binary translation the privileged ones', () => {
    expect(io('type1/hw').exitsByReason.privileged).toBeUndefined();
    expect(io('type1/hw').exitsByReason.exception).toBeUndefined();
    expect(io('type1/bt').exitsByReason.privileged).toBeUndefined();
    expect(io('type1/bt').exitsByReason.exception).toBeGreaterThan(0);
    expect(io('type1/hw').exits).toBeLessThan(io('type1/full').exits);
    expect(io('type1/hw').completionNs as number).toBeLessThan(io('type1/full').completionNs as number);
  });

  it('CPU-bound code runs at native speed under every architecture', () => {
    for (const config of rows) expect(cpu(config.config).slowdown ?? 1).toBeLessThan(1.01);
  });

  it('refuses unknown architectures and techniques with exit 2', () => {
    let stderr = '';
    const code = main(['compare', '--virt', 'full,magic'], { stdout: { write: () => {} }, stderr: { write: (text) => (stderr += text) }, color: false });
    expect(code).toBe(2);
    expect(stderr).toContain("--virt: unknown 'magic' (expected a comma-separated list of: full, para, hw, bt)");
  });
});

describe('compare --paging: nested paging against shadow paging', () => {
  const paging = compareArchitectures(undefined, { arch: 'type1', virt: 'hw', paging: 'shadow,nested' });
  const vm = (config: string, name: string) => paging.find((row) => row.config === config)?.vms.find((candidate) => candidate.vm === name) as ArchRow['vms'][number];

  it('wins on the page-table-heavy guest and loses on the TLB-miss-heavy one', () => {
    expect(paging.map((row) => row.config)).toEqual(['bare machine', 'type1/hw/shadow', 'type1/hw/nested']);
    expect(vm('type1/hw/nested', 'pt').slowdown as number).toBeLessThan(vm('type1/hw/shadow', 'pt').slowdown as number);
    expect(vm('type1/hw/nested', 'tlb').slowdown as number).toBeGreaterThan(vm('type1/hw/shadow', 'tlb').slowdown as number);
    expect(vm('type1/hw/nested', 'pt').exitsByReason['page-fault']).toBeUndefined();
    expect(vm('type1/hw/shadow', 'pt').exitsByReason['page-fault']).toBeGreaterThan(100);
  });
});

describe('compare --io: device attach modes', () => {
  const ioRows = compareArchitectures(undefined, { arch: 'type1,type2', virt: 'hw', io: 'emulated,paravirtual,passthrough' });
  const vm = (config: string, name: string) => ioRows.find((row) => row.config === config)?.vms.find((candidate) => candidate.vm === name) as ArchRow['vms'][number];
  const names = ['disk', 'ping', 'pong'];

  it('runs every mode under every architecture, each guest with the driver its mode needs', () => {
    expect(ioRows.map((row) => row.config)).toEqual([
      'bare machine',
      'type1/hw/emulated',
      'type1/hw/paravirtual',
      'type1/hw/passthrough',
      'type2/hw/emulated',
      'type2/hw/paravirtual',
      'type2/hw/passthrough',
    ]);
    expect(ioRows[2].vms.map((result) => result.guest)).toEqual(['blk-virtio', 'net-ping-pv', 'net-pong-pv']);
    expect(ioRows[3].vms.map((result) => result.guest)).toEqual(['blk-emulated', 'net-ping', 'net-pong']);
    // Every run did all of its I/O: 16 sector reads, 8 packets each way.
    for (const row of ioRows) expect(row.vms.map((result) => result.ioOperations)).toEqual([16, 16, 16]);
  });

  it('exits per I/O operation on the devices: passthrough < paravirtual < emulated; paravirtual far fewer in all', () => {
    for (const arch of ['type1', 'type2']) {
      for (const name of names) {
        const emulated = vm(`${arch}/hw/emulated`, name);
        const paravirtual = vm(`${arch}/hw/paravirtual`, name);
        const passthrough = vm(`${arch}/hw/passthrough`, name);
        expect(passthrough.deviceExitsPerIo).toBe(0);
        expect(paravirtual.deviceExitsPerIo as number).toBeGreaterThan(0);
        expect(paravirtual.deviceExitsPerIo as number).toBeLessThan(emulated.deviceExitsPerIo as number);
        expect((paravirtual.exitsPerIo as number) * 5).toBeLessThan(emulated.exitsPerIo as number);
        // Passthrough still exits for its interrupts (the emulated interrupt controller, hlt).
        expect(passthrough.exitsPerIo as number).toBeLessThan(emulated.exitsPerIo as number);
        expect(passthrough.busyNsPerIo as number).toBeLessThan(emulated.busyNsPerIo as number);
        expect(paravirtual.busyNsPerIo as number).toBeLessThan(emulated.busyNsPerIo as number);
      }
    }
  });

  it('Type 2 is slower than Type 1 on I/O in every mode', () => {
    for (const mode of ['emulated', 'paravirtual', 'passthrough']) {
      for (const name of names) {
        expect(vm(`type2/hw/${mode}`, name).busyNsPerIo as number).toBeGreaterThan(vm(`type1/hw/${mode}`, name).busyNsPerIo as number);
        expect(vm(`type2/hw/${mode}`, name).completionNs as number).toBeGreaterThan(vm(`type1/hw/${mode}`, name).completionNs as number);
      }
    }
  });

  it('refuses an unknown attach mode with exit 2', () => {
    let stderr = '';
    const code = main(['compare', '--io', 'emulated,virtio'], { stdout: { write: () => {} }, stderr: { write: (text) => (stderr += text) }, color: false });
    expect(code).toBe(2);
    expect(stderr).toContain("--io: unknown 'virtio' (expected a comma-separated list of: emulated, paravirtual, passthrough)");
  });
});
