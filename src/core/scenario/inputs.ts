/**
 * Inputs from outside the simulation: console input typed to a guest and injected faults (a
 * device error and its reset, a vCPU stall). A scenario schedules them under `inputs:`; the run
 * publishes each as an `input.*` event when it applies it, and replay takes them from the log.
 */
import { z } from 'zod';
import { formatDuration } from './units.js';

export const FAULT_KINDS = ['device-error', 'device-reset', 'vcpu-stall'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export const FAULT_DEVICES = ['console', 'timer'] as const;
export type FaultDevice = (typeof FAULT_DEVICES)[number];

export type InputSpec =
  | { readonly kind: 'console'; readonly atNs: number; readonly vm: string; readonly text: string }
  | { readonly kind: 'device-error' | 'device-reset'; readonly atNs: number; readonly vm: string; readonly device: FaultDevice }
  | { readonly kind: 'vcpu-stall'; readonly atNs: number; readonly vm: string; readonly vcpu: number; readonly durationNs: number }
  | { readonly kind: 'balloon'; readonly atNs: number; readonly vm: string; readonly pages: number }
  /** Save the VM to an image file (relative to the scenario file; `--save` makes it so): docs/migration.md. */
  | { readonly kind: 'save'; readonly atNs: number; readonly vm: string; readonly file: string }
  /** Move the VM to another cpupool (`xl cpupool-migrate`): docs/scheduling.md, cpupools. */
  | { readonly kind: 'cpupool'; readonly atNs: number; readonly vm: string; readonly pool: string }
  /** Migrate the VM live to another host (several hosts; docs/migration.md). */
  | ({ readonly kind: 'migrate'; readonly atNs: number; readonly vm: string } & MigrateSpec);

/** A live migration's parameters, resolved (QEMU's names: downtime-limit, max-bandwidth, auto-converge). */
export interface MigrateSpec {
  readonly to: string;
  readonly mode: MigrationMode;
  readonly downtimeLimitNs: number;
  readonly maxRounds: number;
  /** A cap under the link's bandwidth, bytes per second; null: the link's. */
  readonly bandwidth: number | null;
  readonly autoConverge: boolean;
}

export const MIGRATION_MODES = ['precopy', 'postcopy'] as const;
export type MigrationMode = (typeof MIGRATION_MODES)[number];
/** QEMU's defaults: downtime-limit 300 ms; at most 30 rounds before stop-and-copy. */
export const MIGRATE_DEFAULTS = Object.freeze({ downtimeLimitNs: 300_000_000, maxRounds: 30 });

/** The operator ends the run (typed `!quit`); only from a live run, never in a scenario file. */
export interface StopInput {
  readonly kind: 'stop';
  readonly atNs: number;
}

/** An input before it is given a time (typed in during a run). */
export type UntimedInput = (InputSpec | StopInput) extends infer T ? (T extends InputSpec | StopInput ? Omit<T, 'atNs'> : never) : never;

export const INPUT_TEXT_LIMIT = 4096;
export const INPUTS_LIMIT = 100_000;
/** The largest balloon target, in pages (4 GiB of 4 KiB pages). */
export const BALLOON_PAGES_LIMIT = 1 << 20;

/** The parsed (units converted) form of one input; checked across fields by checkInputs. */
export interface ParsedInput {
  readonly at: number;
  readonly vm: string;
  readonly console?: string | undefined;
  readonly fault?: FaultKind | undefined;
  readonly device?: FaultDevice | undefined;
  readonly vcpu?: number | undefined;
  readonly duration?: number | undefined;
  /** A balloon target: pages the VM is asked to give back in all. */
  readonly balloon?: number | undefined;
  /** Save the VM to this image file. */
  readonly save?: string | undefined;
  /** Move the VM to this cpupool. */
  readonly pool?: string | undefined;
  /** Migrate the VM live. */
  readonly migrate?: { readonly to: string; readonly mode: MigrationMode; readonly downtimeLimit: number; readonly maxRounds: number; readonly bandwidth?: number | undefined; readonly autoConverge: boolean } | undefined;
}

export interface InputIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

/** Cross-field checks: exactly one of console / fault, the fields each fault needs, known VMs. */
export function checkInputs(inputs: readonly ParsedInput[], vmVcpus: ReadonlyMap<string, number>): InputIssue[] {
  const issues: InputIssue[] = [];
  inputs.forEach((input, index) => {
    const at = (key: string) => ['inputs', index, key];
    if (!vmVcpus.has(input.vm)) {
      issues.push({ path: at('vm'), message: `unknown VM '${input.vm}' (expected one of: ${[...vmVcpus.keys()].join(', ')})` });
    }
    if (input.migrate !== undefined) {
      if (input.console !== undefined || input.fault !== undefined || input.balloon !== undefined || input.save !== undefined || input.pool !== undefined) {
        issues.push({ path: ['inputs', index], message: "an input needs exactly one of 'console', 'fault', 'balloon', 'save', 'pool' or 'migrate'" });
      }
      for (const key of ['device', 'vcpu', 'duration'] as const) {
        if (input[key] !== undefined) issues.push({ path: at(key), message: `'${key}' belongs to faults, not to a migration` });
      }
      return;
    }
    if (input.pool !== undefined) {
      if (input.console !== undefined || input.fault !== undefined || input.balloon !== undefined || input.save !== undefined) {
        issues.push({ path: ['inputs', index], message: "an input needs exactly one of 'console', 'fault', 'balloon', 'save' or 'pool'" });
      }
      for (const key of ['device', 'vcpu', 'duration'] as const) {
        if (input[key] !== undefined) issues.push({ path: at(key), message: `'${key}' belongs to faults, not to a cpupool move` });
      }
      return;
    }
    if (input.save !== undefined) {
      if (input.console !== undefined || input.fault !== undefined || input.balloon !== undefined) {
        issues.push({ path: ['inputs', index], message: "an input needs exactly one of 'console', 'fault', 'balloon' or 'save'" });
      }
      for (const key of ['device', 'vcpu', 'duration'] as const) {
        if (input[key] !== undefined) issues.push({ path: at(key), message: `'${key}' belongs to faults, not to a save` });
      }
      return;
    }
    if (input.balloon !== undefined) {
      if (input.console !== undefined || input.fault !== undefined) {
        issues.push({ path: ['inputs', index], message: "an input needs exactly one of 'console', 'fault' or 'balloon'" });
      }
      for (const key of ['device', 'vcpu', 'duration'] as const) {
        if (input[key] !== undefined) issues.push({ path: at(key), message: `'${key}' belongs to faults, not to a balloon target` });
      }
      return;
    }
    if ((input.console === undefined) === (input.fault === undefined)) {
      issues.push({ path: ['inputs', index], message: "an input needs exactly one of 'console' (text to type) or 'fault'" });
      return;
    }
    if (input.console !== undefined) {
      for (const key of ['device', 'vcpu', 'duration'] as const) {
        if (input[key] !== undefined) issues.push({ path: at(key), message: `'${key}' belongs to faults, not to console input` });
      }
      return;
    }
    if (input.fault === 'vcpu-stall') {
      if (input.duration === undefined) issues.push({ path: ['inputs', index], message: "a vcpu-stall needs 'duration'" });
      const vcpus = vmVcpus.get(input.vm);
      const vcpu = input.vcpu ?? 0;
      if (vcpus !== undefined && vcpu >= vcpus) issues.push({ path: at('vcpu'), message: `VM '${input.vm}' has ${vcpus} vCPU(s); expected 0 to ${vcpus - 1}, got ${vcpu}` });
      if (input.device !== undefined) issues.push({ path: at('device'), message: "'device' belongs to device faults, not to vcpu-stall" });
    } else {
      if (input.device === undefined) issues.push({ path: ['inputs', index], message: `a ${input.fault} needs 'device' (one of: ${FAULT_DEVICES.join(', ')})` });
      for (const key of ['vcpu', 'duration'] as const) {
        if (input[key] !== undefined) issues.push({ path: at(key), message: `'${key}' belongs to vcpu-stall, not to ${input.fault}` });
      }
    }
  });
  return issues;
}

/** Resolved inputs, in time order (inputs at the same time keep their order in the file). */
export function resolveInputs(inputs: readonly ParsedInput[]): InputSpec[] {
  const resolved = inputs.map((input): InputSpec => {
    if (input.console !== undefined) return { kind: 'console', atNs: input.at, vm: input.vm, text: input.console };
    if (input.balloon !== undefined) return { kind: 'balloon', atNs: input.at, vm: input.vm, pages: input.balloon };
    if (input.save !== undefined) return { kind: 'save', atNs: input.at, vm: input.vm, file: input.save };
    if (input.pool !== undefined) return { kind: 'cpupool', atNs: input.at, vm: input.vm, pool: input.pool };
    if (input.migrate !== undefined) {
      const m = input.migrate;
      return { kind: 'migrate', atNs: input.at, vm: input.vm, to: m.to, mode: m.mode, downtimeLimitNs: m.downtimeLimit, maxRounds: m.maxRounds, bandwidth: m.bandwidth ?? null, autoConverge: m.autoConverge };
    }
    if (input.fault === 'vcpu-stall') return { kind: 'vcpu-stall', atNs: input.at, vm: input.vm, vcpu: input.vcpu ?? 0, durationNs: input.duration ?? 0 };
    return { kind: input.fault as 'device-error' | 'device-reset', atNs: input.at, vm: input.vm, device: input.device as FaultDevice };
  });
  return resolved.map((input, index) => ({ input, index })).sort((x, y) => x.input.atNs - y.input.atNs || x.index - y.index).map(({ input }) => input);
}

export function inputsToSource(inputs: readonly InputSpec[]): Record<string, unknown>[] {
  return inputs.map((input) => {
    if (input.kind === 'console') return { at: input.atNs, vm: input.vm, console: input.text };
    if (input.kind === 'balloon') return { at: input.atNs, vm: input.vm, balloon: input.pages };
    if (input.kind === 'save') return { at: input.atNs, vm: input.vm, save: input.file };
    if (input.kind === 'cpupool') return { at: input.atNs, vm: input.vm, pool: input.pool };
    if (input.kind === 'migrate') {
      const migrate = { to: input.to, mode: input.mode, downtimeLimit: input.downtimeLimitNs, maxRounds: input.maxRounds, ...(input.bandwidth === null ? {} : { bandwidth: input.bandwidth }), autoConverge: input.autoConverge };
      return { at: input.atNs, vm: input.vm, migrate };
    }
    if (input.kind === 'vcpu-stall') return { at: input.atNs, vm: input.vm, fault: input.kind, vcpu: input.vcpu, duration: input.durationNs };
    return { at: input.atNs, vm: input.vm, fault: input.kind, device: input.device };
  });
}

export function describeInput(input: InputSpec | StopInput): string {
  const when = formatDuration(input.atNs);
  if (input.kind === 'stop') return `${when} the run stops here`;
  if (input.kind === 'console') return `${when} ${input.vm}: console input ${JSON.stringify(input.text)}`;
  if (input.kind === 'balloon') return `${when} ${input.vm}: balloon target ${input.pages} pages`;
  if (input.kind === 'save') return `${when} ${input.vm}: save to ${input.file}`;
  if (input.kind === 'cpupool') return `${when} ${input.vm}: move to cpupool ${input.pool}`;
  if (input.kind === 'migrate') return `${when} ${input.vm}: migrate (${input.mode}) to host ${input.to}`;
  if (input.kind === 'vcpu-stall') return `${when} ${input.vm}: vCPU ${input.vcpu} stalls for ${formatDuration(input.durationNs)}`;
  return `${when} ${input.vm}: ${input.kind} on ${input.device}`;
}

/** The zod schema of `inputs:` built from the scenario module's helpers (passed in to avoid a cycle). */
export function inputsSchema(helpers: {
  readonly strictObject: (shape: z.core.$ZodLooseShape, what: string) => z.ZodType;
  readonly duration: (min: number, max: number) => z.ZodType<number>;
  readonly integer: (min: number, max: number) => z.ZodType<number>;
  readonly vmName: z.ZodType<string>;
  readonly maxTimeNs: number;
  readonly bandwidth: () => z.ZodType<number>;
}) {
  const migrate = helpers
    .strictObject(
      {
        to: z.string({ error: 'expected the name of a host' }).min(1, { error: 'expected the name of a host' }).meta({ title: 'To', description: 'The destination host (one named under hosts:).' }),
        mode: z
          .enum(MIGRATION_MODES, { error: `expected a migration mode: one of ${MIGRATION_MODES.join(', ')}` })
          .default('precopy')
          .meta({ title: 'Mode', description: 'precopy (Clark et al. 2005): iterative rounds, then stop-and-copy; postcopy (Hines and Gopalan 2009): the vCPUs move first, pages are pulled on fault and pre-paged. Default precopy.' }),
        downtimeLimit: helpers
          .duration(1, 10_000_000_000)
          .default(MIGRATE_DEFAULTS.downtimeLimitNs)
          .meta({ title: 'Downtime limit', description: "Stop-and-copy once the pages left can be sent within this (QEMU's downtime-limit; default 300ms)." }),
        maxRounds: helpers
          .integer(1, 1000)
          .default(MIGRATE_DEFAULTS.maxRounds)
          .meta({ title: 'Maximum rounds', description: 'Stop-and-copy after this many rounds whatever is left (default 30).' }),
        bandwidth: helpers.bandwidth().meta({ title: 'Bandwidth cap', description: "At most this bandwidth for the migration (QEMU's max-bandwidth); default the link's." }).optional(),
        autoConverge: z
          .boolean({ error: 'expected true or false' })
          .default(false)
          .meta({ title: 'Auto-converge', description: "Throttle the VM's vCPUs when rounds do not shrink (QEMU's auto-converge; default false)." }),
      },
      'migration settings',
    )
    .meta({ title: 'Migrate', description: 'Migrate the VM live to another host (docs/migration.md).' });
  const input = helpers.strictObject(
    {
      at: helpers.duration(0, helpers.maxTimeNs).meta({ title: 'At', description: 'Virtual time at which the input arrives.' }),
      vm: helpers.vmName.meta({ title: 'VM', description: 'The VM it is for.' }),
      console: z
        .string({ error: 'expected a string of text to type' })
        .max(INPUT_TEXT_LIMIT, { error: `expected at most ${INPUT_TEXT_LIMIT} characters` })
        .meta({ title: 'Console input', description: "Text typed on the VM's console (raises its console interrupt)." })
        .optional(),
      fault: z
        .enum(FAULT_KINDS, { error: `expected a fault: one of ${FAULT_KINDS.join(', ')}` })
        .meta({ title: 'Fault', description: 'A fault to inject: device-error, device-reset or vcpu-stall.' })
        .optional(),
      device: z
        .enum(FAULT_DEVICES, { error: `expected a device: one of ${FAULT_DEVICES.join(', ')}` })
        .meta({ title: 'Device', description: 'The device a device-error or device-reset is for.' })
        .optional(),
      vcpu: helpers.integer(0, 63).meta({ title: 'vCPU', description: 'The vCPU a vcpu-stall is for (default 0).' }).optional(),
      duration: helpers.duration(1, helpers.maxTimeNs).meta({ title: 'Duration', description: 'How long a vcpu-stall lasts.' }).optional(),
      balloon: helpers
        .integer(0, BALLOON_PAGES_LIMIT)
        .meta({ title: 'Balloon target', description: "Pages the VM's balloon driver is asked to give back in all (raises its balloon interrupt)." })
        .optional(),
      save: z
        .string({ error: 'expected the path of the image file to write' })
        .min(1, { error: 'expected the path of the image file to write' })
        .max(INPUT_TEXT_LIMIT, { error: `expected at most ${INPUT_TEXT_LIMIT} characters` })
        .meta({
          title: 'Save',
          description:
            'Save the VM to this image file (relative to the scenario file), as virsh save: the VM pauses, its in-flight disk work drains, the image is written and the VM is shut off. A scenario restores it with image: (docs/migration.md).',
        })
        .optional(),
      pool: z
        .string({ error: 'expected the name of a cpupool' })
        .min(1, { error: 'expected the name of a cpupool' })
        .meta({
          title: 'Move to cpupool',
          description: "Move the VM to this cpupool (one named under cpupools:), as xl cpupool-migrate: from then on its vCPUs run only on that pool's CPUs, under its scheduler (docs/scheduling.md).",
        })
        .optional(),
      migrate: migrate.optional(),
    },
    'input settings',
  ).meta({ title: 'Input', description: 'One input: console text for a VM, a fault injected into it, a balloon target, a save to an image file, or a move to another cpupool, at a virtual time.' });
  return z
    .array(input, { error: 'expected a list of inputs' })
    .max(INPUTS_LIMIT, { error: `expected at most ${INPUTS_LIMIT} inputs` })
    .default([])
    .meta({ title: 'Inputs', description: 'Inputs from outside the simulation: console text and injected faults, at given times.' });
}
