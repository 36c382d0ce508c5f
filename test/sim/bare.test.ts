/**
 * `host.type: bare` (issue 15): a scenario can ask for the bare machine, the reference of
 * equivalence and overhead experiments, from a file. It is the same run as compare --arch's bare
 * machine row, counts no exit, and replays from its log.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareArchitectures } from '../../src/cli/compareArch.js';
import { main } from '../../src/cli/main.js';

function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = main(args, { stdout: { write: (text) => (stdout += text) }, stderr: { write: (text) => (stderr += text) }, color: false });
  return { code, stdout, stderr };
}

interface RunJson {
  readonly vms: readonly { name: string; state: string; vcpus: readonly { instructions: number; exits: Record<string, number>; exitsTotal: number; cpuNs: number; overheadNs: number }[] }[];
  readonly console: Record<string, string>;
}

describe('host.type: bare', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmmsim-bare-'));
  const demo = readFileSync('examples/demo.yaml', 'utf8');
  const bareFile = join(dir, 'demo-bare.yaml');
  writeFileSync(bareFile, demo.replace(/^host:\s*\n/m, 'host:\n  type: bare\n'));

  it('runs the scenario as compare --arch runs its bare machine: the same instructions retired, no exit counted, the same console', () => {
    expect(readFileSync(bareFile, 'utf8')).toContain('type: bare');
    const run = cli(['run', bareFile, '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout) as RunJson;
    const [reference] = compareArchitectures('examples/demo.yaml', { arch: 'type1', virt: 'full' });
    expect(reference.config).toBe('bare machine');
    for (const vm of json.vms) {
      const expected = reference.vms.find((candidate) => candidate.vm === vm.name);
      expect(expected, vm.name).toBeDefined();
      expect(vm.vcpus.reduce((sum, vcpu) => sum + vcpu.instructions, 0), vm.name).toBe(expected?.instructions);
      for (const vcpu of vm.vcpus) {
        expect(vcpu.exitsTotal).toBe(0);
        expect(Object.values(vcpu.exits).every((count) => count === 0)).toBe(true);
      }
    }
    // The same guests under type1/full do exit, and take the monitor's time.
    const type1 = JSON.parse(cli(['run', 'examples/demo.yaml', '--json']).stdout) as RunJson;
    expect(type1.vms.some((vm) => vm.vcpus.some((vcpu) => vcpu.exitsTotal > 0))).toBe(true);
    expect(json.console).toEqual(expect.objectContaining({ pv: type1.console.pv }));
    // Independent of compare (which takes the same path): no monitor means no monitor time. The
    // bare run's vCPUs spend less overhead than under type1, and no privileged instruction traps.
    const overhead = (run: RunJson) => run.vms.reduce((sum, vm) => sum + vm.vcpus.reduce((total, vcpu) => total + vcpu.overheadNs, 0), 0);
    expect(overhead(json)).toBeLessThan(overhead(type1) / 2);
    const log = join(dir, 'bare-events.jsonl');
    expect(cli(['run', bareFile, '--log', log]).code).toBe(0);
    expect(readFileSync(log, 'utf8')).not.toContain('"type":"exit.privileged"');
  });

  it('replays identically from its log, whose header keeps type: bare', () => {
    const log = join(dir, 'bare.jsonl');
    expect(cli(['run', bareFile, '--log', log]).code).toBe(0);
    expect(readFileSync(log, 'utf8').split('\n')[0]).toContain('"type":"bare"');
    const replayed = cli(['replay', log]);
    expect(replayed.stderr).toBe('');
    expect(replayed.code).toBe(0);
  });

  it('is one of the host types a scenario can name, and a wrong one says which', () => {
    writeFileSync(join(dir, 'metal.yaml'), demo.replace(/^host:\s*\n/m, 'host:\n  type: metal\n'));
    const refused = cli(['validate', join(dir, 'metal.yaml')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/metal\.yaml:\d+:\d+: host\.type: expected a hypervisor type, one of: type1, type2, bare, got 'metal'/);
  });
});
