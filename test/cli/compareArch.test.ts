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
