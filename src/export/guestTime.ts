/**
 * Guest time on each physical CPU, which the log does not carry: an exit's event says when the
 * guest stopped, not when the monitor entered it again (that depends on the handling cost). So the
 * run is re-executed from the log's header (deterministic, as `restore` does) and every kernel
 * step's growth of a pCPU's busy time (what the run summary prints) becomes a `guest` slice,
 * nested in the vCPU's residency slice. Adjacent batches of one vCPU merge into one slice. Memory
 * stays bounded: one open slice per pCPU.
 */
import type { LogFile } from '../replay/logFile.js';
import { restore } from '../replay/index.js';
import { HOST_PID, type TraceEvent } from './chrome.js';

interface OpenGuest {
  vcpu: string;
  start: number;
  end: number;
}

export interface GuestTimeResult {
  /** Per pCPU, the busy ns the guest slices cover (equal to the run summary's busyNs). */
  readonly busyNs: readonly number[];
}

export function guestTimeSlices(file: LogFile, emit: (events: readonly TraceEvent[]) => void, readProgram?: (path: string) => string): GuestTimeResult {
  const simulation = restore(file, 0, readProgram === undefined ? {} : { readProgram });
  const pcpus = simulation.monitor.pcpus;
  const last = pcpus.map((pcpu) => pcpu.busyNs);
  const open: (OpenGuest | undefined)[] = pcpus.map(() => undefined);
  const covered = pcpus.map(() => 0);
  const flush = (index: number): void => {
    const slice = open[index];
    if (slice === undefined) return;
    open[index] = undefined;
    emit([{ name: 'guest', cat: 'guest', ph: 'X', pid: HOST_PID, tid: index + 1, ts: slice.start / 1000, dur: (slice.end - slice.start) / 1000, args: { vcpu: slice.vcpu } }]);
  };
  simulation.onStep(() => {
    for (let index = 0; index < pcpus.length; index++) {
      const pcpu = pcpus[index];
      const ran = pcpu.busyNs - last[index];
      if (ran === 0) continue;
      last[index] = pcpu.busyNs;
      covered[index] += ran;
      const now = simulation.kernel.now;
      const vcpu = (pcpu.current ?? pcpu.last)?.id ?? '?';
      const slice = open[index];
      if (slice !== undefined && slice.vcpu === vcpu && slice.end === now - ran) {
        slice.end = now;
        continue;
      }
      flush(index);
      open[index] = { vcpu, start: now - ran, end: now };
    }
  });
  simulation.run();
  for (let index = 0; index < pcpus.length; index++) flush(index);
  return { busyNs: covered };
}
