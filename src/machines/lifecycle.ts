/**
 * A running lifecycle machine: wraps an xstate actor, answers whether a command is allowed in the
 * current state, and keeps the current state name at hand for the hot path.
 */
import { createActor, type AnyStateMachine, type Actor, type SnapshotFrom } from 'xstate';

export class Lifecycle<TState extends string, TCommand extends { type: string }> {
  private readonly actor: Actor<AnyStateMachine>;
  private current: TState;

  constructor(machine: AnyStateMachine, snapshot?: unknown) {
    this.actor = createActor(machine, snapshot === undefined ? {} : { snapshot: snapshot as SnapshotFrom<AnyStateMachine> });
    this.actor.start();
    this.current = this.actor.getSnapshot().value as TState;
  }

  get state(): TState {
    return this.current;
  }

  /** Whether the machine accepts the command in its current state. */
  can(command: TCommand): boolean {
    return this.actor.getSnapshot().can(command);
  }

  /**
   * Sends a command. Returns the new state, or undefined when the command is not allowed in the
   * current state (the caller publishes the `not-allowed` fact).
   */
  send(command: TCommand): TState | undefined {
    const snapshot = this.actor.getSnapshot();
    if (!snapshot.can(command)) return undefined;
    this.actor.send(command);
    this.current = this.actor.getSnapshot().value as TState;
    return this.current;
  }

  /** xstate's persisted snapshot, for checkpoints. */
  persisted(): unknown {
    return this.actor.getPersistedSnapshot();
  }

  stop(): void {
    this.actor.stop();
  }
}
