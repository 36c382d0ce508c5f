/**
 * The vmmsim command line. Every command maps bad input to exit code 2 with a message that
 * names the file, line and column where it can, and never prints a stack trace for it.
 */
import { writeFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { BUNDLED_GUESTS } from '../guests/index.js';
import { ENGINE_VERSION } from '../core/version.js';
import { assemble, AssemblyError } from '../core/isa/assembler.js';
import { disassemble } from '../core/isa/disassembler.js';
import { scenarioJsonSchema } from '../core/scenario/jsonSchema.js';
import { BUNDLED_GUEST_NAMES } from '../guests/index.js';
import { EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_OK, InputError, badInputOf, cutValue, oneLine } from './errors.js';
import { compareCommand, MAX_SEEDS, parseCount, type CompareOptions } from './compare.js';
import { archCompareCommand, type ArchCompareOptions } from './compareArch.js';
import { memoryCompareCommand } from './compareMemory.js';
import { migrationCompareCommand } from './compareMigration.js';
import { sweepCommand, type SweepOptions, type SweepOutcome } from './sweep.js';
import { workerCommand, type WorkerOptions } from './worker.js';
import { runCommand, type RunOptions } from './run.js';
import { replayCommand, type ReplayCommandOptions } from './replay.js';
import { inspectCommand, type InspectOptions } from './inspect.js';
import { loadScenarioFile, readText } from './scenarioFile.js';
import { uiCommand, type UiOptions } from './ui.js';
import { fuzzCommand, type FuzzOptions } from './fuzz.js';
import { exportCommand, type ExportOptions } from './export.js';
import { debugCommand, type DebugOptions } from './debug.js';
import type { Style } from './format.js';

export interface Io {
  readonly stdout: { write(text: string): void };
  readonly stderr: { write(text: string): void };
  readonly color: boolean;
  /** Standard input, for `run --interactive` (only through mainAsync). */
  readonly stdin?: NodeJS.ReadableStream;
}

/** Exit code set by a command that decides its own (replay: 1 when the runs differ). */
let exitCode = EXIT_OK;

export function buildProgram(io: Io): Command {
  const style: Style = { color: io.color };
  const program = new Command();
  program
    .name('vmmsim')
    .description('A deterministic, event-sourced simulation of a hypervisor: VMs, vCPUs, traps, interrupts, devices.')
    .version(ENGINE_VERSION)
    .showHelpAfterError()
    .option('--debug', 'print the stack trace of an internal error')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });

  program
    .command('run')
    .description('run a scenario (the bundled demo when none is given) and print consoles and a summary')
    .argument('[scenario]', 'scenario file (YAML)')
    .option('--seed <n>', "seed for the run's randomness (overrides the scenario's)")
    .option('--log <file>', 'write the event log (JSON Lines) to this file')
    .option('--json', 'print the summary as one JSON document (and nothing else)')
    .option('--quiet', 'do not print the consoles, only the summary')
    .option('--from <log>', 'fork: rebuild the run this log records (checked against it) ...')
    .option('--at <seq>', '... up to this event, then go on')
    .option('--set <key=value...>', '... with changed settings, e.g. scheduler.quantum=2ms costs.exit=1us seed=9')
    .option('--interactive', 'run at a human pace and read console input and faults typed on standard input')
    .option('--pace <duration>', 'with --interactive: virtual time per wall-clock second (default 10ms)')
    .option('--policy <name|file>', "scheduling policy instead of the scenario's: a name (credit, cfs, ...) or a .js module (docs/scheduling.md); with --from, a moved copy of the module the log's run used")
    .option('--save <vm@time:file>', 'save VM to an image file at virtual time TIME (e.g. web@20ms:web.img), as virsh save: the VM pauses, its disk work drains, the image is written, the VM shuts off; a scenario restores it with image: (docs/migration.md). Repeatable', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .action((path: string | undefined, options: RunOptions) => {
      const result = runCommand(path, options, io.stdout, style, io.stdin === undefined ? undefined : { input: io.stdin, err: io.stderr });
      return result instanceof Promise ? result.then(() => undefined) : undefined;
    });

  program
    .command('replay')
    .description('re-execute the run a log records and compare it event by event (exit 1 at the first difference)')
    .argument('<log>', 'event log (JSON Lines) written by run --log')
    .option('--policy <file>', "a moved copy of the policy module the log's run used (checked against the sha256 its header records)")
    .action((path: string, options: ReplayCommandOptions) => {
      exitCode = replayCommand(path, io.stdout, io.stderr, style, options);
    });

  program
    .command('inspect')
    .description('the state of every actor at a point of a logged run, or its events filtered, or counts')
    .argument('<log>', 'event log (JSON Lines) written by run --log')
    .option('--at <seq>', 'the state after event SEQ (default: the last event)')
    .option('--time <t>', 'the state at virtual time T (ns, or 5ms, 250us...)')
    .option('--no-registers', 'do not re-execute the run to show the registers')
    .option('--vm <name>', "only this VM (the state's report, or its events)")
    .option('--type <glob>', 'list events whose type matches (exit.*, irq.inject, several with commas)')
    .option('--from <point>', 'list events from this seq (an integer) or time (a value with a unit: 5ms)')
    .option('--to <point>', 'list events up to this seq or time (inclusive)')
    .option('--limit <n>', 'list at most N events')
    .option('--stats', 'counts by type, by VM and by exit reason (of the events the filters keep)')
    .option('--json', 'JSON: the state as one document; events as JSON lines')
    .option('--policy <file>', "a moved copy of the policy module the log's run used (for the re-execution that shows registers)")
    .action((path: string, options: InspectOptions) => {
      exitCode = inspectCommand(path, options, io.stdout, io.stderr, style);
    });

  program
    .command('debug')
    .description('serve the Debug Adapter Protocol (VS Code and other editors): breakpoints, stepping forwards and backwards in a run')
    .option('--port <n>', 'listen on this TCP port of 127.0.0.1 instead of standard input and output')
    .action((options: DebugOptions) => {
      debugCommand(options, io.stderr);
    });

  program
    .command('export')
    .description('write a logged run as a trace that Perfetto and chrome://tracing open (Trace Event Format JSON)')
    .argument('<log>', 'event log (JSON Lines) written by run --log')
    .option('--format <format>', 'chrome (Trace Event Format JSON)', 'chrome')
    .option('--out <file>', 'write to this file (default: standard output)')
    .option('--no-guest-time', 'read the log only: no re-execution for the guest-time slices')
    .action((path: string, options: ExportOptions) => {
      exitCode = exportCommand(path, options, io.stdout, io.stderr);
    });

  program
    .command('validate')
    .description('check a scenario file and print what it resolves to')
    .argument('<scenario>', 'scenario file (YAML)')
    .action((path: string) => {
      const loaded = loadScenarioFile(path);
      io.stdout.write(`${path}: ok\n${JSON.stringify(loaded.scenario, null, 2)}\n`);
    });

  program
    .command('asm')
    .description('assemble a guest program and print its listing')
    .argument('<file>', 'assembly source')
    .option('-D, --define <name=value...>', 'define a symbol (as a scenario param would)')
    .action((file: string, options: { define?: string[] }) => {
      const symbols: Record<string, number> = {};
      for (const definition of options.define ?? []) {
        const match = /^([A-Za-z_][A-Za-z0-9_]*)=(-?(?:0x[0-9a-fA-F]+|\d+))$/.exec(definition);
        if (match === null) throw new InputError(`--define: expected NAME=integer, got '${cutValue(definition)}'`);
        if (Object.hasOwn(symbols, match[1])) throw new InputError(`--define: ${match[1]} is defined twice (${match[1]}=${symbols[match[1]]} and ${cutValue(definition)})`);
        symbols[match[1]] = Number(match[2]);
      }
      try {
        const image = assemble(readText(file, 'the program'), { file, symbols });
        io.stdout.write(disassemble(image.words, { symbols: image.symbols }) + '\n');
        io.stdout.write(`${image.words.length} words, entry 0x${image.entry.toString(16)}\n`);
      } catch (error) {
        if (error instanceof AssemblyError) throw new InputError(error.message);
        throw error;
      }
    });

  program
    .command('guests')
    .description('list the bundled guest programs')
    .option('--source <name>', 'print the source of one guest')
    .action((options: { source?: string }) => {
      if (options.source !== undefined) {
        const guest = BUNDLED_GUESTS.get(options.source);
        if (guest === undefined) throw new InputError(`unknown guest '${options.source}' (known: ${BUNDLED_GUEST_NAMES.join(', ')})`);
        io.stdout.write(guest.source.trimStart());
        return;
      }
      for (const guest of BUNDLED_GUESTS.values()) {
        const params = Object.entries(guest.defaults).map(([name, value]) => `${name}=${value}`).join(' ');
        io.stdout.write(`${guest.name.padEnd(14)} ${guest.description}${params ? `  [${params}]` : ''}\n`);
      }
    });

  program
    .command('compare')
    .description('run a scenario under several policies and seeds (mean ± 95% CI, CSV, JSON, SVG), or under several architectures and techniques (--arch, --virt)')
    .argument('[scenario]', 'scenario file (YAML); with --arch/--virt, the bundled examples/overhead.yaml when none (examples/io.yaml with --io)')
    .option('--policies <list>', 'comma-separated policies: registry names or paths to .js policy modules (default: the scenario\'s)')
    .option('--seeds <n>', 'number of seeds per policy (default 10); with --migration, per rate and mode (mean ± 95% CI; default one seed, with the rounds)')
    .option('--out <dir>', 'folder for runs.csv, summary.csv, summary.json, summary.md and the SVG plots')
    .option('--time <duration>', "virtual time of each run (default: the scenario's run.time)")
    .option('--timeline <duration>', 'length of the timeline plots (default: the first 100ms)')
    .option('--arch <list>', 'compare hypervisor architectures: type1,type2 (with the bare machine as reference)')
    .option('--virt <list>', 'compare virtualization techniques: full,para,hw,bt (with the bare machine as reference)')
    .option('--paging <list>', 'with hw: compare shadow,nested paging')
    .option('--interrupts <list>', 'with hw: how an interrupt reaches a running vCPU: exit,posted (an external-interrupt exit, or posted interrupts)')
    .option('--io <list>', 'compare device attach modes: emulated,paravirtual,passthrough (every VM\'s block device and NIC; default scenario examples/io.yaml)')
    .option('--profile <list>', 'compare hypervisor profiles: xen-pv,xen-hvm,kvm-qemu,vmware-esxi,hyper-v,virtualbox')
    .option('--memory <list>', 'compare how an overcommitted host reclaims memory: swap,sharing,ballooning,all (against a host with memory enough; default scenario examples/memory.yaml)')
    .option('--migration <list>', 'compare live migration modes: precopy,postcopy, at three page-dirtying rates (default scenario examples/hosts.yaml; the VM of its first migrate input)')
    .option('--dirty <list>', 'with --migration: the dirtying rates, idle,moderate,heavy (default all; the VM must run the dirty-pages guest)')
    .option('--json', 'with --arch/--virt/--memory/--migration: print the comparison as JSON')
    .action((path: string | undefined, options: CompareOptions & ArchCompareOptions & { readonly memory?: string; readonly migration?: string; readonly dirty?: string }) => {
      if (options.migration !== undefined) {
        const seeds = options.seeds === undefined ? undefined : parseCount(options.seeds, '--seeds', 1, MAX_SEEDS);
        migrationCompareCommand(path, options.migration, options.dirty, options.json === true, io.stdout, seeds);
        return;
      }
      if (options.memory !== undefined) {
        memoryCompareCommand(path, options.memory, options.json === true, io.stdout);
        return;
      }
      if (options.arch !== undefined || options.virt !== undefined || options.paging !== undefined || options.profile !== undefined || options.io !== undefined || options.interrupts !== undefined) {
        archCompareCommand(path, options, io.stdout);
        return;
      }
      if (path === undefined) throw new InputError('compare: give a scenario file (or --arch/--virt to compare architectures)');
      compareCommand(path, options, io.stdout);
    });

  program
    .command('sweep')
    .description('run a grid of scenarios on all cores (resumable); --shard I/N for one slice, --merge to join the slices')
    .argument('<sweep>', 'sweep file (YAML)')
    .option('--workers <n>', 'worker threads (default: one per core)')
    .option('--shard <I/N>', 'run only slice I of N (1-based)')
    .option('--merge', 'join the results of every slice in the output folder')
    .option('--out <dir>', "output folder (default: the sweep file's out, or <sweep>.out next to it)")
    .option('--queue <url>', 'run on a work queue, redis://HOST:PORT[/DB], taken by `vmmsim worker`s (docs/sweeps.md)')
    .option('--status', 'with --queue: count the runs waiting, active, done and failed')
    .option('--collect', 'with --queue: write the results now from the runs done')
    .action((path: string, options: SweepOptions) => {
      const report = (outcome: SweepOutcome): void => void (outcome.failed > 0 || outcome.missing > 0 ? (exitCode = EXIT_FAILURE) : undefined);
      const outcome = sweepCommand(path, options, { stdout: io.stdout, stderr: io.stderr, tty: process.stderr.isTTY === true });
      return outcome instanceof Promise ? outcome.then(report) : report(outcome);
    });

  program
    .command('worker')
    .description('take sweep runs from a work queue and run them, one per core (docs/sweeps.md)')
    .requiredOption('--queue <url>', 'the queue: redis://HOST:PORT[/DB]')
    .option('--concurrency <n>', 'runs at a time (default: one per core)')
    .action((options: WorkerOptions) => workerCommand(options, io).then((code) => void (exitCode = code)));

  program
    .command('ui')
    .description('serve the web view on localhost (it runs the simulation in the browser) and print its address')
    .argument('[file]', 'a scenario (YAML) or an event log (JSON Lines) to open in the page')
    .option('--port <n>', 'port to listen on (default: any free port)')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--no-build', 'serve the web build as it is, even if its sources are newer')
    .action((path: string | undefined, options: UiOptions) => uiCommand(path, options, io.stdout).then(() => undefined));

  program
    .command('fuzz')
    .description('run the isolation properties on random guests, scenarios and inputs; write a shrunk counterexample on failure')
    .option('--runs <n>', 'runs in all, shared among the properties (default 1000)')
    .option('--seed <n>', 'seed for the generated cases (default: from the clock; printed)')
    .option('--property <names>', 'only these properties, comma-separated (memory-isolation, confidentiality, non-interference, equivalence, trap-completeness, resource-control, cap-window, determinism)')
    .option('--time-budget <seconds>', 'share this many seconds among the properties (for CI); each stops drawing cases when its share is spent')
    .option('--out <dir>', 'where a counterexample goes (default fuzz-out)')
    .option('--mutation <name>', 'run against a deliberately broken monitor (docs/testing.md)')
    .action((options: FuzzOptions) => {
      exitCode = fuzzCommand(options, io.stdout);
    });

  program
    .command('schema')
    .description('print the JSON Schema of scenario files (for editors)')
    .option('--out <file>', 'write it to a file instead')
    .action((options: { out?: string }) => {
      const text = JSON.stringify(scenarioJsonSchema(BUNDLED_GUEST_NAMES), null, 2) + '\n';
      if (options.out !== undefined) writeFileSync(options.out, text);
      else io.stdout.write(text);
    });

  return program;
}

/** Runs the CLI, commands that wait for input included (the vmmsim binary uses this). */
export async function mainAsync(argv: readonly string[], io: Io): Promise<number> {
  const program = buildProgram(io);
  exitCode = EXIT_OK;
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return exitCode;
  } catch (error) {
    return failure(error, io, argv);
  }
}

/** Runs the CLI synchronously (every command but `run --interactive`); returns the exit code. */
export function main(argv: readonly string[], io: Io): number {
  const program = buildProgram({ ...io, stdin: undefined });
  exitCode = EXIT_OK;
  try {
    program.parse(argv as string[], { from: 'user' });
    return exitCode;
  } catch (error) {
    return failure(error, io, argv);
  }
}

/**
 * The exit contract (docs/cli.md): bad input of any kind (an InputError, or a library error that
 * carries a location: ScenarioError, AssemblyError, LogError) is exit 2 with its message, cut to a
 * few lines; anything else is a bug: exit 1, one line, the stack only with --debug.
 */
function failure(error: unknown, io: Io, argv: readonly string[]): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return EXIT_OK;
    return EXIT_BAD_INPUT;
  }
  const bad = badInputOf(error);
  if (bad !== undefined) {
    io.stderr.write(`vmmsim: ${bad}\n`);
    return EXIT_BAD_INPUT;
  }
  if (argv.includes('--debug')) {
    io.stderr.write(`vmmsim: internal error: ${(error as Error).stack ?? String(error)}\n`);
  } else {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    io.stderr.write(`vmmsim: internal error (a bug; run again with --debug for the stack): ${oneLine(text)}\n`);
  }
  return EXIT_FAILURE;
}
