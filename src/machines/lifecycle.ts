/**
 * A running lifecycle machine: answers whether a command is allowed in the current state, moves to
 * the next state, and keeps the current state name at hand for the hot path.
 *
 * The lifecycle machines (vmMachine, vcpuMachine, deviceMachine) are flat: no context, no actions,
 * no guards. For such a machine the xstate definition is compiled once into a shared table (state,
 * command) -> next state, and every lifecycle holds only its state name: one xstate actor per VM,
 * vCPU and device cost a few KiB each and most of a VM's memory beyond its guest RAM (issue 13).
 * The persisted snapshot of each state is taken once from a real actor driven into that state, so
 * checkpoints are the same bytes as when every lifecycle was an actor. A machine that is not flat
 * keeps a real actor.
 */
import { createActor, type AnyStateMachine, type Actor, type SnapshotFrom } from 'xstate';

/** A flat machine compiled: its transitions and the persisted snapshot of each reachable state. */
interface CompiledMachine {
  readonly initial: string;
  /** state -> command type -> next state. */
  readonly next: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** state -> xstate's persisted snapshot in that state, as JSON. */
  readonly persisted: ReadonlyMap<string, string>;
}

const compiled = new WeakMap<AnyStateMachine, CompiledMachine | null>();

interface TransitionDefinition {
  readonly target?: readonly { readonly key: string; readonly type: string }[];
  readonly actions: readonly unknown[];
  readonly guard: unknown;
  readonly reenter: boolean;
}

/** Compiles a flat machine (null when the machine has context, actions, guards or nested states). */
function compile(machine: AnyStateMachine): CompiledMachine | null {
  const root = machine.root;
  if (root.entry.length > 0 || root.exit.length > 0 || Object.keys(root.on).length > 0 || typeof root.config.initial !== 'string') return null;
  if (machine.config.context !== undefined) return null;
  const next = new Map<string, Map<string, string>>();
  for (const [key, node] of Object.entries(root.states)) {
    if (Object.keys(node.states).length > 0 || node.entry.length > 0 || node.exit.length > 0 || node.after.length > 0 || node.always !== undefined || node.invoke.length > 0) return null;
    const moves = new Map<string, string>();
    for (const [type, transitions] of Object.entries(node.on as Record<string, readonly TransitionDefinition[]>)) {
      if (transitions.length !== 1) return null;
      const transition = transitions[0];
      if (transition.guard !== undefined || transition.actions.length > 0 || transition.target?.length !== 1) return null;
      moves.set(type, transition.target[0].key);
    }
    next.set(key, moves);
  }
  const initial = root.config.initial;
  // Drive one real actor to every reachable state (breadth first) and keep its persisted snapshot.
  const persisted = new Map<string, string>();
  const paths = new Map<string, readonly string[]>([[initial, []]]);
  const queue = [initial];
  while (queue.length > 0) {
    const state = queue.shift() as string;
    const path = paths.get(state) as readonly string[];
    const actor = createActor(machine);
    actor.start();
    for (const type of path) actor.send({ type });
    if (actor.getSnapshot().value !== state) return null;
    persisted.set(state, JSON.stringify(actor.getPersistedSnapshot()));
    actor.stop();
    for (const [type, target] of next.get(state) ?? []) {
      if (paths.has(target)) continue;
      paths.set(target, [...path, type]);
      queue.push(target);
    }
  }
  return { initial, next, persisted };
}

function compiledOf(machine: AnyStateMachine): CompiledMachine | null {
  let table = compiled.get(machine);
  if (table === undefined) {
    table = compile(machine);
    compiled.set(machine, table);
  }
  return table;
}

export class Lifecycle<TState extends string, TCommand extends { type: string }> {
  /** The shared table of a flat machine, or null: then `actor` runs the machine. */
  private readonly table: CompiledMachine | null;
  private readonly actor: Actor<AnyStateMachine> | null = null;
  private current: TState;

  constructor(machine: AnyStateMachine, snapshot?: unknown) {
    const table = compiledOf(machine);
    const restoredValue = (snapshot as { value?: unknown } | undefined)?.value;
    if (table !== null && (snapshot === undefined || (typeof restoredValue === 'string' && table.persisted.has(restoredValue)))) {
      this.table = table;
      this.current = (snapshot === undefined ? table.initial : restoredValue) as TState;
      return;
    }
    this.table = null;
    this.actor = createActor(machine, snapshot === undefined ? {} : { snapshot: snapshot as SnapshotFrom<AnyStateMachine> });
    this.actor.start();
    this.current = this.actor.getSnapshot().value as TState;
  }

  get state(): TState {
    return this.current;
  }

  /** Whether the machine accepts the command in its current state. */
  can(command: TCommand): boolean {
    if (this.table !== null) return this.table.next.get(this.current)?.has(command.type) === true;
    return (this.actor as Actor<AnyStateMachine>).getSnapshot().can(command);
  }

  /**
   * Sends a command. Returns the new state, or undefined when the command is not allowed in the
   * current state (the caller publishes the `not-allowed` fact).
   */
  send(command: TCommand): TState | undefined {
    if (this.table !== null) {
      const target = this.table.next.get(this.current)?.get(command.type);
      if (target === undefined) return undefined;
      this.current = target as TState;
      return this.current;
    }
    const actor = this.actor as Actor<AnyStateMachine>;
    const snapshot = actor.getSnapshot();
    if (!snapshot.can(command)) return undefined;
    actor.send(command);
    this.current = actor.getSnapshot().value as TState;
    return this.current;
  }

  /** xstate's persisted snapshot, for checkpoints (a fresh object each call). */
  persisted(): unknown {
    if (this.table !== null) return JSON.parse(this.table.persisted.get(this.current) as string) as unknown;
    return (this.actor as Actor<AnyStateMachine>).getPersistedSnapshot();
  }

  stop(): void {
    this.actor?.stop();
  }
}
