import { describe, expect, it } from 'vitest';
import { inline, runScenario, scenario, typesOf, vmSpec } from '../helpers.js';
import { loadScenario, ScenarioError } from '../../src/core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../../src/guests/index.js';
import type { InputSpec } from '../../src/core/scenario/inputs.js';

const TICKER = { kind: 'bundled', name: 'ticker' } as const;

function withInputs(inputs: InputSpec[], vms = [vmSpec('t', TICKER, { params: { PERIOD_NS: 100_000, EVERY: 1000, TICKS: 1000 } })]) {
  return runScenario(scenario(vms, { inputs, run: { timeNs: 5_000_000, instructions: undefined, checkpointEvery: 10_000 } }));
}

describe('injected faults', () => {
  it('a device error on the timer stops its interrupts; a reset brings the device back unprogrammed', () => {
    const run = withInputs([
      { kind: 'device-error', atNs: 2_000_000, vm: 't', device: 'timer' },
      { kind: 'device-reset', atNs: 3_000_000, vm: 't', device: 'timer' },
    ]);
    const raises = run.events.filter((event) => event.type === 'irq.raise').map((event) => event.t);
    expect(raises.length).toBeGreaterThan(15);
    expect(raises.every((t) => t < 2_000_000 + 1_000)).toBe(true);
    expect(typesOf(run)).toEqual(expect.arrayContaining(['input.fault', 'device.failed', 'device.reset']));
    expect(run.simulation.vms[0].timer.lifecycle.state).toBe('ready');
  });

  it('a failed console loses what the guest writes, as an unclaimed port does', () => {
    const run = runScenario(
      scenario([vmSpec('c', inline('loop:\n movi r1, 65\n out PORT_CONSOLE_DATA, r1\n movi r1, 10\n out PORT_CONSOLE_DATA, r1\n work 100000\n jmp loop'))], {
        inputs: [{ kind: 'device-error', atNs: 1_000_000, vm: 'c', device: 'console' }],
        run: { timeNs: 3_000_000, instructions: undefined, checkpointEvery: 10_000 },
      }),
    );
    const outputs = run.events.filter((event) => event.type === 'console.output');
    expect(outputs.length).toBeGreaterThan(5);
    expect(outputs.every((event) => event.t < 1_000_000)).toBe(true);
  });

  it('a vCPU stall takes it off the CPU for the duration, then it carries on', () => {
    const compute = vmSpec('w', inline('loop:\n work 10000\n jmp loop'));
    const run = withInputs([{ kind: 'vcpu-stall', atNs: 1_000_000, vm: 'w', vcpu: 0, durationNs: 2_000_000 }], [compute]);
    const vcpu = run.summary.vms[0].vcpus[0];
    expect(vcpu.cpuNs).toBeGreaterThan(2_800_000);
    expect(vcpu.cpuNs).toBeLessThan(3_100_000);
    const paused = run.events.find((event) => event.type === 'vcpu.paused');
    const resumed = run.events.find((event) => event.type === 'vcpu.runnable' && (event.data as { reason: string }).reason === 'resume');
    expect(paused?.t).toBe(1_000_000);
    expect(resumed?.t).toBe(3_000_000);
  });

  it('console input reaches the guest and raises its interrupt', () => {
    const run = withInputs([{ kind: 'console', atNs: 500_000, vm: 'e', text: 'abc\noff\n' }], [vmSpec('e', { kind: 'bundled', name: 'echo' })]);
    expect(run.simulation.vms[0].console.transcript).toBe('echo: ready, type something\nABC\nOFF\necho: bye\n');
    expect(run.summary.vms[0].state).toBe('shutoff');
  });
});

describe('inputs in scenario files', () => {
  const load = (text: string) => loadScenario(text, { file: 's.yaml', guests: BUNDLED_GUEST_NAMES });
  const base = ['name: s', 'vms:', '  - name: a', '    guest: echo', 'inputs:'];

  it('resolves console input and faults, in time order', () => {
    const s = load([...base, '  - { at: 2ms, vm: a, fault: vcpu-stall, duration: 1ms }', '  - { at: 1ms, vm: a, console: "hi" }', '  - { at: 3ms, vm: a, fault: device-error, device: console }'].join('\n'));
    expect(s.inputs).toEqual([
      { kind: 'console', atNs: 1_000_000, vm: 'a', text: 'hi' },
      { kind: 'vcpu-stall', atNs: 2_000_000, vm: 'a', vcpu: 0, durationNs: 1_000_000 },
      { kind: 'device-error', atNs: 3_000_000, vm: 'a', device: 'console' },
    ]);
  });

  it('says where a bad input is and what was expected', () => {
    const errors = (lines: string[]) => {
      try {
        load([...base, ...lines].join('\n'));
        return '';
      } catch (error) {
        expect(error).toBeInstanceOf(ScenarioError);
        return (error as Error).message;
      }
    };
    expect(errors(['  - { at: 1ms, vm: b, console: "x" }'])).toMatch(/^s\.yaml:6:\d+: inputs\[0\]\.vm: unknown VM 'b'/);
    expect(errors(['  - { at: 1ms, vm: a }'])).toContain("an input needs exactly one of 'console' (text to type) or 'fault'");
    expect(errors(['  - { at: 1ms, vm: a, fault: vcpu-stall }'])).toContain("a vcpu-stall needs 'duration'");
    expect(errors(['  - { at: 1ms, vm: a, fault: device-error }'])).toContain("a device-error needs 'device'");
    expect(errors(['  - { at: 1ms, vm: a, fault: meltdown }'])).toContain('expected a fault: one of device-error, device-reset, vcpu-stall');
    expect(errors(['  - { at: 1ms, vm: a, fault: vcpu-stall, vcpu: 3, duration: 1ms }'])).toContain("VM 'a' has 1 vCPU(s); expected 0 to 0, got 3");
  });
});
