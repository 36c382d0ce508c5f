/**
 * `vmmsim debug`: the Debug Adapter Protocol over a run, with @vscode/debugadapter. A thread per
 * vCPU (`vm/vcpu`), one stack frame (its pc, with the source line of its guest program), scopes
 * for registers, CSRs, the VM and the simulation (virtual time and event seq always shown),
 * guest-physical memory, disassembly, breakpoints on source lines, instruction addresses, guest
 * words (data) and event types, and execution forwards and backwards (TimeTravelMachine).
 *
 * Addresses: guest memory is word-addressed; a memory reference is `VM:ADDRESS` (a guest-physical
 * word address, decimal or 0x hex), and DAP's byte offsets count 4 bytes per word (little-endian).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Breakpoint, DebugSession, InitializedEvent, OutputEvent, Scope, Source, StackFrame, StoppedEvent, TerminatedEvent, Thread } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Simulation } from '../actors/simulation.js';
import { CSR_NAMES, Mode } from '../core/isa/opcodes.js';
import { disassembleInstruction } from '../core/isa/disassembler.js';
import { LogWriter } from '../core/log/writer.js';
import { loadScenario } from '../core/scenario/load.js';
import { BUNDLED_GUEST_NAMES } from '../guests/index.js';
import { fileSource, LogFile } from '../replay/index.js';
import { projectSimulation } from '../replay/fold/project.js';
import { queryEvents, type EventFilter } from '../replay/query.js';
import { stateAtSeq } from '../replay/seek.js';
import { TimeTravelMachine, type DataWatch, type Hit, type StopRules } from './machine.js';
import { guestPrograms, type GuestProgram } from './programs.js';

export interface LaunchArguments extends DebugProtocol.LaunchRequestArguments {
  /** A scenario file to run (it is run once into a log, which is then debugged). */
  readonly scenario?: string;
  /** A log written by `vmmsim run --log`. */
  readonly log?: string;
  readonly seed?: number;
  /** Stop at the start (default true); false runs to the first breakpoint. */
  readonly stopOnEntry?: boolean;
}

/** Event types offered as exception filters (any type or glob works as a function breakpoint). */
export const EVENT_FILTERS = ['exit.io', 'exit.mmio', 'exit.hlt', 'exit.hypercall', 'exit.privileged', 'exit.page-fault', 'exit.exception', 'exit.preempt', 'exit.interrupt', 'irq.raise', 'irq.inject', 'vm.crashed', 'vcpu.crashed', 'console.output'];

/** Steps run between looks at the request queue while continuing (so pause gets in). */
const CHUNK_STEPS = 20_000;

const SCOPE_REGISTERS = 1;
const SCOPE_CSRS = 2;
const SCOPE_VM = 3;
const SCOPE_SIMULATION = 4;

function parseNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^-?0x[0-9a-f]+$/i.test(trimmed)) return Number.parseInt(trimmed, 16);
  if (/^-?\d+$/.test(trimmed)) return Number.parseInt(trimmed, 10);
  return undefined;
}

const hex = (value: number): string => `0x${(value >>> 0).toString(16)}`;

export class VmmsimDebugSession extends DebugSession {
  private machine: TimeTravelMachine | undefined;
  private programs: GuestProgram[] = [];
  private configured!: Promise<void>;
  private markConfigured!: () => void;
  private pauseRequested = false;
  private running = false;
  private lastHit: Hit | undefined;
  private currentThread = 1;
  private lineBreakpoints = new Map<number, Set<number>>();
  private instructionBreakpoints = new Map<number, Set<number>>();
  private dataWatches: DataWatch[] = [];
  private exceptionFilters: string[] = [];
  private functionBreakpoints: string[] = [];

  constructor() {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.configured = new Promise((done) => (this.markConfigured = done));
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsStepBack: true,
      supportsDataBreakpoints: true,
      supportsFunctionBreakpoints: true,
      supportsInstructionBreakpoints: true,
      supportsReadMemoryRequest: true,
      supportsDisassembleRequest: true,
      supportsLoadedSourcesRequest: true,
      supportsEvaluateForHovers: false,
      supportsSteppingGranularity: false,
      supportsTerminateRequest: true,
      exceptionBreakpointFilters: EVENT_FILTERS.map((filter) => ({ filter, label: filter, default: false, description: `stop when the run publishes ${filter}` })),
    };
    this.sendResponse(response);
  }

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
    this.markConfigured();
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: LaunchArguments): Promise<void> {
    try {
      const { file, folder } = args.log !== undefined ? { file: new LogFile(fileSource(args.log)), folder: dirname(resolve(args.log)) } : this.runScenario(args);
      const readProgram = (path: string): string => readFileSync(resolve(folder, path), 'utf8');
      this.machine = new TimeTravelMachine(file, readProgram);
      this.programs = guestPrograms(this.machine.sim.scenario, readProgram, folder);
      if (this.programs.some((_, index) => this.machine!.sim.vms[index].vcpus.length > 1)) {
        this.output('console', 'note: the vCPUs of a VM with several step a batch at a time (as the run cut them: cutting them would change when they see each other\'s stores); a breakpoint inside such a batch is seen at its end only if the pc is there\n');
      }
    } catch (error) {
      this.sendErrorResponse(response, 1, `cannot launch: ${(error as Error).message}`);
      return;
    }
    this.sendEvent(new InitializedEvent());
    await this.configured;
    this.sendResponse(response);
    if (args.stopOnEntry === false) this.continueForward();
    else this.stopAt({ reason: 'entry', vcpu: 0, text: 'the start of the run' });
  }

  /** Runs a scenario into a log in a temporary folder; the debugger then works on that log. */
  private runScenario(args: LaunchArguments): { file: LogFile; folder: string } {
    const path = args.scenario ?? 'examples/demo.yaml';
    const folder = dirname(resolve(path));
    const scenario = loadScenario(readFileSync(path, 'utf8'), { file: path, guests: BUNDLED_GUEST_NAMES });
    const logPath = join(mkdtempSync(join(tmpdir(), 'vmmsim-debug-')), 'run.jsonl');
    const fd = openSync(logPath, 'w');
    try {
      const log = new LogWriter((chunk) => void writeSync(fd, chunk));
      new Simulation({ scenario, seed: args.seed, scenarioFile: path, readProgram: (program) => readFileSync(resolve(folder, program), 'utf8'), log }).run();
    } finally {
      closeSync(fd);
    }
    this.output('console', `ran ${path} into ${logPath}\n`);
    return { file: new LogFile(fileSource(logPath)), folder };
  }

  private output(category: string, text: string): void {
    this.sendEvent(new OutputEvent(text, category));
  }

  private get m(): TimeTravelMachine {
    if (this.machine === undefined) throw new Error('no run is loaded: launch first');
    return this.machine;
  }

  // ---- stops -------------------------------------------------------------------------------

  private where(): string {
    return `t = ${this.m.t.toLocaleString('en-US')} ns, seq ${this.m.seq}, step ${this.m.position}`;
  }

  private stopAt(hit: Hit): void {
    this.running = false;
    this.lastHit = hit;
    if (hit.vcpu !== undefined) this.currentThread = hit.vcpu + 1;
    const reason = hit.reason === 'end' ? 'pause' : hit.reason;
    const event = new StoppedEvent(reason, this.currentThread) as DebugProtocol.StoppedEvent;
    event.body.description = `${hit.text} (${this.where()})`;
    event.body.text = event.body.description;
    event.body.allThreadsStopped = true;
    this.output('console', `${event.body.description}\n`);
    this.sendEvent(event);
  }

  private rules(): StopRules {
    const addresses = new Map<number, Set<number>>(this.lineBreakpoints);
    const eventTypes = [
      ...this.exceptionFilters.map((pattern) => ({ pattern, kind: 'exception' as const })),
      ...this.functionBreakpoints.map((pattern) => ({ pattern, kind: 'function breakpoint' as const })),
    ];
    return { addresses, instructionAddresses: this.instructionBreakpoints, data: this.dataWatches, eventTypes };
  }

  private applyRules(): void {
    if (this.machine === undefined) return;
    this.machine.rules = this.rules();
    this.machine.refreshWatches();
  }

  /** Continues forward in chunks, so that a pause request can get in between. */
  private continueForward(): void {
    this.running = true;
    this.pauseRequested = false;
    const chunk = (): void => {
      let hit: Hit | undefined;
      try {
        hit = this.m.forward(CHUNK_STEPS);
      } catch (error) {
        this.running = false;
        this.output('stderr', `internal error: ${(error as Error).stack}\n`);
        return;
      }
      if (hit !== undefined) this.stopAt(hit);
      else if (this.pauseRequested) this.stopAt({ reason: 'pause', vcpu: this.currentThread - 1, text: 'paused' });
      else setImmediate(chunk);
    };
    setImmediate(chunk);
  }

  // ---- breakpoints -------------------------------------------------------------------------

  private programsFor(source: DebugProtocol.Source): GuestProgram[] {
    if (source.sourceReference !== undefined && source.sourceReference > 0) return this.programs.filter((program) => program.vmIndex === source.sourceReference! - 1);
    if (source.path === undefined) return [];
    const path = resolve(source.path);
    return this.programs.filter((program) => program.path === path || (program.path === undefined && source.name === program.name));
  }

  private sourceOf(program: GuestProgram): Source {
    return program.path !== undefined ? new Source(program.name, program.path) : new Source(program.name, undefined, program.vmIndex + 1);
  }

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    const programs = this.programsFor(args.source);
    for (const program of programs) this.lineBreakpoints.delete(program.vmIndex);
    const breakpoints: DebugProtocol.Breakpoint[] = [];
    for (const requested of args.breakpoints ?? []) {
      let verified = false;
      let line = requested.line;
      for (const program of programs) {
        // The first line at or after the one asked for that has an instruction.
        let address: number | undefined;
        for (let candidate = requested.line; candidate < requested.line + 50 && address === undefined; candidate++) {
          address = program.addressOfLine.get(candidate);
          if (address !== undefined) line = candidate;
        }
        if (address === undefined) continue;
        const set = this.lineBreakpoints.get(program.vmIndex) ?? new Set<number>();
        set.add(address);
        this.lineBreakpoints.set(program.vmIndex, set);
        verified = true;
      }
      const breakpoint = new Breakpoint(verified, line) as DebugProtocol.Breakpoint;
      if (!verified) breakpoint.message = programs.length === 0 ? 'no guest program of this run has this source' : 'no instruction on or after this line';
      breakpoints.push(breakpoint);
    }
    this.applyRules();
    response.body = { breakpoints };
    this.sendResponse(response);
  }

  /** `VM:ADDRESS` -> VM index and address. */
  private parseReference(reference: string): { vm: number; address: number } | undefined {
    const colon = reference.lastIndexOf(':');
    if (colon < 0) return undefined;
    const vm = this.programs.findIndex((program) => program.vm === reference.slice(0, colon));
    if (vm < 0) return undefined;
    const spec = reference.slice(colon + 1);
    const address = parseNumber(spec) ?? this.programs[vm].image.symbols[spec.trim()];
    return address === undefined ? undefined : { vm, address };
  }

  protected override setInstructionBreakpointsRequest(response: DebugProtocol.SetInstructionBreakpointsResponse, args: DebugProtocol.SetInstructionBreakpointsArguments): void {
    this.instructionBreakpoints = new Map();
    const breakpoints = args.breakpoints.map((requested) => {
      const at = this.parseReference(requested.instructionReference);
      if (at === undefined) return { verified: false, message: `not an instruction reference (VM:ADDRESS): ${requested.instructionReference}` };
      const address = at.address + Math.trunc((requested.offset ?? 0) / 4);
      const set = this.instructionBreakpoints.get(at.vm) ?? new Set<number>();
      set.add(address);
      this.instructionBreakpoints.set(at.vm, set);
      return { verified: true, instructionReference: `${this.programs[at.vm].vm}:${hex(address)}` };
    });
    this.applyRules();
    response.body = { breakpoints };
    this.sendResponse(response);
  }

  protected override dataBreakpointInfoRequest(response: DebugProtocol.DataBreakpointInfoResponse, args: DebugProtocol.DataBreakpointInfoArguments): void {
    const at = this.parseReference(args.name);
    response.body =
      at === undefined
        ? { dataId: null, description: `a data breakpoint needs VM:ADDRESS or VM:LABEL (a guest-physical word), not ${args.name}` }
        : { dataId: `${this.programs[at.vm].vm}:${hex(at.address)}`, description: `word ${hex(at.address)} of ${this.programs[at.vm].vm}`, accessTypes: ['write', 'readWrite'], canPersist: true };
    this.sendResponse(response);
  }

  protected override setDataBreakpointsRequest(response: DebugProtocol.SetDataBreakpointsResponse, args: DebugProtocol.SetDataBreakpointsArguments): void {
    this.dataWatches = [];
    const breakpoints = args.breakpoints.map((requested) => {
      const at = this.parseReference(requested.dataId);
      if (at === undefined) return { verified: false, message: `unknown data id ${requested.dataId}` };
      const access = requested.accessType === 'read' || requested.accessType === 'readWrite' ? 'readWrite' : 'write';
      this.dataWatches.push({ vm: at.vm, address: at.address, access });
      return { verified: true };
    });
    this.applyRules();
    response.body = { breakpoints };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    this.exceptionFilters = [...args.filters];
    this.applyRules();
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    this.functionBreakpoints = args.breakpoints.map((breakpoint) => breakpoint.name.trim());
    this.applyRules();
    response.body = { breakpoints: this.functionBreakpoints.map((name) => ({ verified: /^[a-z*][a-z.*-]*$/.test(name) })) };
    this.sendResponse(response);
  }

  // ---- execution ---------------------------------------------------------------------------

  private control(response: DebugProtocol.Response, action: () => Hit | undefined): void {
    if (this.running) {
      this.sendErrorResponse(response, 2, 'the run is going: pause first');
      return;
    }
    this.sendResponse(response);
    const hit = action();
    if (hit !== undefined) this.stopAt(hit);
  }

  private threadIndex(threadId: number): number {
    const index = threadId - 1;
    if (index < 0 || index >= this.m.vcpus.length) throw new RangeError(`no thread ${threadId}`);
    return index;
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    response.body = { allThreadsContinued: true };
    this.control(response, () => {
      this.continueForward();
      return undefined;
    });
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.control(response, () => this.m.stepThread(this.threadIndex(args.threadId)));
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    this.control(response, () => this.m.stepThread(this.threadIndex(args.threadId)));
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    this.control(response, () => this.m.stepThread(this.threadIndex(args.threadId)));
  }

  protected override stepBackRequest(response: DebugProtocol.StepBackResponse, args: DebugProtocol.StepBackArguments): void {
    this.control(response, () => this.m.stepBackThread(this.threadIndex(args.threadId)));
  }

  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.control(response, () => this.m.reverseContinue());
  }

  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.sendResponse(response);
    if (this.running) this.pauseRequested = true;
    else this.stopAt({ reason: 'pause', vcpu: this.currentThread - 1, text: 'paused' });
  }

  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }

  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    this.machine?.file.close();
    this.sendResponse(response);
  }

  // ---- state -------------------------------------------------------------------------------

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: this.machine === undefined ? [] : this.m.vcpus.map((vcpu, index) => new Thread(index + 1, vcpu.id.replace(/^vm\//, '').replace('/vcpu/', '/'))) };
    this.sendResponse(response);
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    const index = this.threadIndex(args.threadId);
    const vcpu = this.m.vcpus[index];
    const vmIndex = this.m.vmIndexOf(index);
    const program = this.programs[vmIndex];
    const pc = vcpu.cpu.pc;
    const line = program.image.lineOf.get(pc);
    const text = this.disassembleAt(vmIndex, pc);
    const name = `${text}  [${vcpu.state}, ${this.where()}]`;
    const frame = new StackFrame(index + 1, name, line === undefined ? undefined : this.sourceOf(program), line ?? 0, 1) as DebugProtocol.StackFrame;
    frame.instructionPointerReference = `${program.vm}:${hex(pc)}`;
    response.body = { stackFrames: [frame], totalFrames: 1 };
    this.sendResponse(response);
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const base = args.frameId * 8;
    response.body = {
      scopes: [new Scope('Registers', base + SCOPE_REGISTERS, false), new Scope('CSRs', base + SCOPE_CSRS, false), new Scope('VM', base + SCOPE_VM, false), new Scope('Simulation', base + SCOPE_SIMULATION, false)],
    };
    this.sendResponse(response);
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    const index = Math.floor(args.variablesReference / 8) - 1;
    const scope = args.variablesReference % 8;
    const vcpu = this.m.vcpus[index];
    const cpu = vcpu.cpu;
    const variable = (name: string, value: string | number, memoryReference?: string): DebugProtocol.Variable => ({
      name,
      value: typeof value === 'number' ? `${value} (${hex(value)})` : value,
      variablesReference: 0,
      ...(memoryReference === undefined ? {} : { memoryReference }),
    });
    const vm = this.m.vmOf(index);
    let variables: DebugProtocol.Variable[] = [];
    if (scope === SCOPE_REGISTERS) {
      variables = [
        variable('pc', cpu.pc, `${vm.name}:${hex(cpu.pc)}`),
        ...Array.from(cpu.regs, (value, register) => variable(register === 7 ? 'r7 (sp)' : `r${register}`, value)),
        variable('mode', cpu.mode === Mode.USER ? 'user' : 'kernel'),
        variable('ie', cpu.ie),
        variable('retired', cpu.retired),
        variable('workLeftNs', cpu.workLeftNs),
      ];
    } else if (scope === SCOPE_CSRS) {
      variables = CSR_NAMES.map((name, csr) => variable(name, cpu.csr[csr]));
    } else if (scope === SCOPE_VM) {
      const view = projectSimulation(this.m.sim).vms[vm.name];
      const vcpuView = view.vcpus[vm.vcpus.indexOf(vcpu)];
      variables = [
        variable('lifecycle', view.state),
        variable('end reason', view.endReason ?? '-'),
        variable('vcpu lifecycle', vcpu.state),
        variable('run state', vcpuView.state),
        variable('pcpu', vcpuView.pcpu ?? -1),
        variable('console lines', view.console.lines),
        variable('last console line', JSON.stringify(view.console.last[view.console.last.length - 1] ?? '')),
      ];
    } else if (scope === SCOPE_SIMULATION) {
      variables = [
        variable('t (ns)', this.m.t.toLocaleString('en-US')),
        variable('seq', this.m.seq),
        variable('step', this.m.position),
        variable('stopped because', this.lastHit?.text ?? '-'),
        variable('ended', this.m.ended ? 'yes' : 'no'),
      ];
      const store = this.m.lastStore;
      if (store !== undefined && this.lastHit?.reason === 'data breakpoint') {
        variables.push(variable(store.access === 'write' ? 'written by pc' : 'read by pc', store.pc), variable('watched word', store.value));
      }
    }
    response.body = { variables };
    this.sendResponse(response);
  }

  protected override loadedSourcesRequest(response: DebugProtocol.LoadedSourcesResponse): void {
    response.body = { sources: this.programs.map((program) => this.sourceOf(program)) };
    this.sendResponse(response);
  }

  protected override sourceRequest(response: DebugProtocol.SourceResponse, args: DebugProtocol.SourceArguments): void {
    const reference = args.source?.sourceReference ?? args.sourceReference;
    const program = this.programs[reference - 1] ?? this.programs.find((candidate) => candidate.path !== undefined && candidate.path === args.source?.path);
    if (program === undefined) {
      this.sendErrorResponse(response, 3, `no source ${reference}`);
      return;
    }
    response.body = { content: program.text, mimeType: 'text/x-asm' };
    this.sendResponse(response);
  }

  protected override readMemoryRequest(response: DebugProtocol.ReadMemoryResponse, args: DebugProtocol.ReadMemoryArguments): void {
    const at = this.parseReference(args.memoryReference);
    if (at === undefined) {
      this.sendErrorResponse(response, 4, `not a memory reference (VM:ADDRESS): ${args.memoryReference}`);
      return;
    }
    const startByte = at.address * 4 + (args.offset ?? 0);
    const count = Math.max(0, Math.min(args.count, 1 << 20));
    const bytes = Buffer.alloc(count);
    let readable = 0;
    for (let byte = 0; byte < count; byte++) {
      const address = Math.floor((startByte + byte) / 4);
      const word = this.m.readWord(at.vm, address);
      if (word === undefined) break;
      bytes[byte] = (word >>> (((startByte + byte) % 4) * 8)) & 0xff;
      readable++;
    }
    response.body = { address: hex(startByte / 4), data: bytes.subarray(0, readable).toString('base64'), unreadableBytes: count - readable };
    this.sendResponse(response);
  }

  private disassembleAt(vmIndex: number, address: number): string {
    const words = [0, 1, 2, 3].map((offset) => this.m.readWord(vmIndex, address + offset) ?? 0);
    return disassembleInstruction(words, 0);
  }

  protected override disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): void {
    const at = this.parseReference(args.memoryReference);
    if (at === undefined) {
      this.sendErrorResponse(response, 4, `not a memory reference (VM:ADDRESS): ${args.memoryReference}`);
      return;
    }
    const program = this.programs[at.vm];
    const first = at.address + Math.trunc((args.offset ?? 0) / 4) + (args.instructionOffset ?? 0) * 4;
    const instructions: DebugProtocol.DisassembledInstruction[] = [];
    for (let index = 0; index < Math.min(args.instructionCount, 4096); index++) {
      const address = first + index * 4;
      const valid = address >= 0 && this.m.readWord(at.vm, address) !== undefined;
      const line = program.image.lineOf.get(address);
      instructions.push({
        address: `${program.vm}:${hex(address)}`,
        instruction: valid ? this.disassembleAt(at.vm, address) : '??',
        ...(valid ? { instructionBytes: [0, 1, 2, 3].map((offset) => hex(this.m.readWord(at.vm, address + offset) ?? 0)).join(' ') } : {}),
        ...(line === undefined ? {} : { line, location: this.sourceOf(program) }),
      });
    }
    response.body = { instructions };
    this.sendResponse(response);
  }

  // ---- evaluate ----------------------------------------------------------------------------

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    try {
      response.body = { result: this.evaluate(args.expression.trim(), args.frameId), variablesReference: 0 };
      this.sendResponse(response);
    } catch (error) {
      this.sendErrorResponse(response, 5, (error as Error).message);
    }
  }

  /**
   * `events [--type GLOB] [--vm NAME] [--from P] [--to P] [--limit N]` (inspect's filters, up to
   * now unless --to says otherwise), `state [at SEQ]`, `where`, `digest`, a register of the
   * frame's vCPU (`r3`, `pc`), or a guest word (`VM:ADDRESS`, `VM:LABEL`).
   */
  private evaluate(expression: string, frameId: number | undefined): string {
    const words = expression.split(/\s+/);
    if (words[0] === 'events') return this.evaluateEvents(words.slice(1));
    if (words[0] === 'state') {
      const seq = words[1] === 'at' ? parseNumber(words[2] ?? '') : this.m.seq;
      if (seq === undefined) throw new Error('state at SEQ: SEQ must be an integer');
      return JSON.stringify(stateAtSeq(this.m.file, seq).state, null, 2);
    }
    if (expression === 'where') return this.where();
    if (expression === 'digest') return this.m.digest();
    const index = (frameId ?? this.currentThread) - 1;
    const cpu = this.m.vcpus[index]?.cpu;
    if (cpu !== undefined) {
      if (expression === 'pc') return `${cpu.pc} (${hex(cpu.pc)})`;
      const register = /^r([0-7])$/.exec(expression);
      if (register !== null) return `${cpu.regs[Number(register[1])]} (${hex(cpu.regs[Number(register[1])])})`;
    }
    const at = this.parseReference(expression);
    if (at !== undefined) {
      const word = this.m.readWord(at.vm, at.address);
      return word === undefined ? 'not mapped' : `${word} (${hex(word)})`;
    }
    throw new Error(`cannot evaluate '${expression}': try events --type exit.* --vm NAME, state at SEQ, where, digest, r0..r7, pc, VM:ADDRESS or VM:LABEL`);
  }

  private evaluateEvents(args: string[]): string {
    const options: Record<string, string> = {};
    for (let index = 0; index < args.length; index += 2) {
      if (!args[index].startsWith('--') || args[index + 1] === undefined) throw new Error(`events: expected --option value, got '${args[index]}'`);
      options[args[index].slice(2)] = args[index + 1];
    }
    const point = (text: string | undefined): { seq: number } | undefined => {
      if (text === undefined) return undefined;
      const seq = parseNumber(text);
      if (seq === undefined) throw new Error(`events: a point is an event seq, got '${text}'`);
      return { seq };
    };
    const filter: EventFilter = {
      ...(options.type === undefined ? {} : { type: options.type }),
      ...(options.vm === undefined ? {} : { vm: options.vm }),
      ...(options.from === undefined ? {} : { from: point(options.from) }),
      to: point(options.to) ?? { seq: this.m.seq },
    };
    const limit = parseNumber(options.limit ?? '20') ?? 20;
    const lines: string[] = [];
    let total = 0;
    for (const event of queryEvents(this.m.file, filter)) {
      total++;
      if (lines.length < limit) lines.push(`${event.seq}  t=${event.t}  ${event.src}  ${event.type}  ${JSON.stringify(event.data)}`);
    }
    return `${total} events${total > limit ? ` (first ${limit})` : ''}\n${lines.join('\n')}`;
  }
}
