/**
 * credit's SMT-aware CPU pick, after Xen's `_csched_cpu_pick` (xen/common/sched/credit.c).
 *
 * Not all idle CPUs are equal: a vCPU placed on an idle thread whose sibling is busy shares a
 * core while whole cores (or sockets) idle. Xen walks the idle CPUs the vCPU may use and moves
 * its choice to another idle CPU when that one's group has more idle CPUs: within a socket the
 * group is the core (the SMT siblings, `cpu_sibling_mask`), and it moves if the other core has
 * more idle threads at all; across sockets the group is the socket (`cpu_core_mask`), and it
 * moves only if the other socket has more than twice as many idle CPUs (`migrate_factor`).
 * The affinity balance steps come first: the soft mask (only for a vCPU that has one), then the
 * hard mask, stopping at the first step whose choice is idle.
 *
 * Pure: the caller gives the topology, the masks and which CPUs are idle, and keeps `idleBias`
 * (Xen's per-CPU `idle_bias`, where the search among a group's idle CPUs starts; it is written
 * only when the pick is committed). Deterministic: CPU masks are walked in index order.
 */
import type { TopologySpec } from '../../core/scenario/schema.js';

export interface SmtPickInput {
  readonly topology: TopologySpec;
  /** The vCPU's current CPU (Xen's `sched_unit_master`): preferred when it qualifies. */
  readonly master: number;
  /** The affinity balance steps to try, in order: each a sorted list of the CPUs it allows (non-empty). */
  readonly steps: readonly (readonly number[])[];
  /** Whether a CPU counts as idle (Xen's `prv->idlers`, plus the vCPU's own CPU when it runs there alone). */
  readonly idle: (pcpu: number) => boolean;
  /** Xen's per-CPU `idle_bias`, read here; written by the caller when it commits. */
  readonly idleBias: readonly number[];
}

export interface SmtPickResult {
  readonly pcpu: number;
  /** The CPU whose `idle_bias` the pick used last (Xen's `spc`), or -1; commit sets its bias to `pcpu`. */
  readonly biasOwner: number;
}

/** The CPUs of `pcpu`'s core (its SMT siblings, itself included): Xen's `cpu_sibling_mask`. */
export function siblingsOf(topology: TopologySpec, pcpu: number): number[] {
  const first = pcpu - (pcpu % topology.threadsPerCore);
  return Array.from({ length: topology.threadsPerCore }, (_, thread) => first + thread);
}

/** The CPUs of `pcpu`'s socket: Xen's `cpu_core_mask`. */
export function socketOf(topology: TopologySpec, pcpu: number): number[] {
  const perSocket = topology.coresPerSocket * topology.threadsPerCore;
  const first = pcpu - (pcpu % perSocket);
  return Array.from({ length: perSocket }, (_, index) => first + index);
}

/** Xen's `cpumask_cycle`: the first CPU of `mask` after `from`, wrapping round (`from` itself last). */
function cycle(from: number, mask: ReadonlySet<number>, pcpus: number): number {
  for (let step = 1; step <= pcpus; step++) {
    const candidate = (from + step) % pcpus;
    if (mask.has(candidate)) return candidate;
  }
  return -1;
}

function countIn(set: ReadonlySet<number>, cpus: readonly number[]): number {
  let count = 0;
  for (const cpu of cpus) if (set.has(cpu)) count++;
  return count;
}

/** `_csched_cpu_pick`: the CPU a vCPU should run on, preferring idle CPUs of idle cores and sockets. */
export function smtPick(input: SmtPickInput): SmtPickResult {
  const { topology, master, steps, idle, idleBias } = input;
  const pcpus = topology.sockets * topology.coresPerSocket * topology.threadsPerCore;
  if (!(master >= 0 && master < pcpus)) throw new RangeError(`smtPick: master ${master} is not a CPU of ${pcpus}`);
  if (steps.length === 0) throw new RangeError('smtPick: no affinity balance step');
  const idlers = new Set<number>();
  for (let pcpu = 0; pcpu < pcpus; pcpu++) if (idle(pcpu)) idlers.add(pcpu);
  let cpu = master;
  let biasOwner = -1;
  for (const step of steps) {
    if (step.length === 0) throw new RangeError('smtPick: an empty balance step');
    const allowed = new Set(step);
    // If present, prefer the vCPU's current CPU.
    cpu = allowed.has(master) ? master : cycle(master, allowed, pcpus);
    const candidates = new Set([...allowed].filter((pcpu) => idlers.has(pcpu)));
    // Make cpu an idle CPU if one qualifies: a busy thread with an idle sibling would otherwise
    // look as idle as that sibling, and the vCPU would never move to the thread that is idle.
    if (!candidates.has(cpu) && candidates.size > 0) cpu = cycle(cpu, candidates, pcpus);
    candidates.delete(cpu);
    // Every round removes at least one candidate (Xen relies on it too); the bound asserts it.
    for (let round = 0; candidates.size > 0; round++) {
      if (round > pcpus) throw new Error('smtPick: the idle-CPU walk did not converge');
      const next = cycle(cpu, candidates, pcpus);
      const sameSocket = socketOf(topology, cpu).includes(next);
      // Same socket: compare the idle threads of the two cores, and move if the other has more.
      // Different sockets: compare the idle CPUs of the two sockets, and move only at twice as many.
      const group = sameSocket ? siblingsOf : socketOf;
      const migrateFactor = sameSocket ? 1 : 2;
      const cpuIdlers = countIn(idlers, group(topology, cpu));
      const nextGroupIdlers = group(topology, next).filter((pcpu) => idlers.has(pcpu));
      if (cpuIdlers * migrateFactor < nextGroupIdlers.length) {
        const choices = new Set(nextGroupIdlers.filter((pcpu) => candidates.has(pcpu)));
        biasOwner = next;
        cpu = cycle(idleBias[next], choices, pcpus);
        for (const sibling of siblingsOf(topology, cpu)) candidates.delete(sibling);
      } else {
        for (const pcpu of nextGroupIdlers) candidates.delete(pcpu);
      }
    }
    // Stop at the first balance step whose choice is idle.
    if (idlers.has(cpu)) break;
  }
  return { pcpu: cpu, biasOwner };
}
