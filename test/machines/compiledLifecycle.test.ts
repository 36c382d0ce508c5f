/**
 * The lifecycles run as compiled tables (src/machines/lifecycle.ts) must do exactly what xstate
 * does with the same machine: same state, same refusals, same persisted snapshot (checkpoints),
 * after any sequence of commands, and a lifecycle restored from a snapshot goes on the same.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createActor, setup, type AnyStateMachine } from 'xstate';
import { Lifecycle } from '../../src/machines/lifecycle.js';
import { vmMachine } from '../../src/machines/vmMachine.js';
import { vcpuMachine } from '../../src/machines/vcpuMachine.js';
import { deviceMachine } from '../../src/machines/deviceMachine.js';

/** Every command type any state of the machine accepts, plus one no state accepts. */
function commandsOf(machine: AnyStateMachine): string[] {
  const types = new Set<string>();
  for (const node of Object.values(machine.root.states)) for (const type of Object.keys(node.on)) types.add(type);
  return [...[...types].sort(), 'NO-SUCH-COMMAND'];
}

function agreesWithXstate(machine: AnyStateMachine, commands: readonly string[]): void {
  const lifecycle = new Lifecycle<string, { type: string }>(machine);
  const actor = createActor(machine);
  actor.start();
  expect(lifecycle.state).toBe(actor.getSnapshot().value);
  commands.forEach((type, step) => {
    const allowed = actor.getSnapshot().can({ type });
    expect(lifecycle.can({ type }), `step ${step}: can ${type} in ${lifecycle.state}`).toBe(allowed);
    const result = lifecycle.send({ type });
    if (allowed) actor.send({ type });
    expect(result, `step ${step}: ${type}`).toBe(allowed ? actor.getSnapshot().value : undefined);
    expect(lifecycle.state).toBe(actor.getSnapshot().value);
    expect(JSON.stringify(lifecycle.persisted())).toBe(JSON.stringify(actor.getPersistedSnapshot()));
  });
  // Restored from its snapshot, it goes on as the actor does.
  const restored = new Lifecycle<string, { type: string }>(machine, lifecycle.persisted());
  expect(restored.state).toBe(actor.getSnapshot().value);
  for (const type of commandsOf(machine)) expect(restored.can({ type })).toBe(actor.getSnapshot().can({ type }));
  actor.stop();
}

describe('compiled lifecycles against xstate (property)', () => {
  for (const [name, machine] of [['vm', vmMachine], ['vcpu', vcpuMachine], ['device', deviceMachine]] as const) {
    it(`${name}: any command sequence gives the same states, refusals and snapshots`, () => {
      const commands = commandsOf(machine as AnyStateMachine);
      expect(commands.length).toBeGreaterThan(2);
      fc.assert(
        fc.property(fc.array(fc.constantFrom(...commands), { maxLength: 30 }), (sequence) => agreesWithXstate(machine as AnyStateMachine, sequence)),
        { numRuns: 300, verbose: 1 },
      );
    });
  }

  it('a machine that is not flat (a guard) runs as a real actor, guard included', () => {
    const guarded = setup({ types: { context: {} as { n: number }, events: {} as { type: 'GO' } } }).createMachine({
      context: { n: 0 },
      initial: 'a',
      states: { a: { on: { GO: { target: 'b', guard: ({ context }) => context.n > 0 } } }, b: {} },
    });
    const lifecycle = new Lifecycle<string, { type: 'GO' }>(guarded);
    expect(lifecycle.can({ type: 'GO' })).toBe(false);
    expect(lifecycle.send({ type: 'GO' })).toBeUndefined();
    expect(lifecycle.state).toBe('a');
    expect((lifecycle.persisted() as { context: { n: number } }).context).toEqual({ n: 0 });
  });
});
