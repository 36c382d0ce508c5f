/**
 * The event log's line format (JSON Lines). docs/event-log.md is the reference.
 *
 *   line 1     {"format":"vmmsim-log","version":2,"engine":"0.6.0","seed":7,"scenario":{...}}  (+ fork, mutation, policy)
 *   events     {"seq":0,"t":0,"src":"vm/alpha","type":"vm.defined","data":{...}}
 *   checkpoint {"checkpoint":{"seq":10000,"t":123456,"hash":"...","state":{...}}}
 *   last line  {"end":{"events":12345,"t":20000000,"hash":"..."}}
 *
 * Every line ends with `"h":"xxxxxxxx"`, its checksum: the running checksum after that line, which
 * covers each line without its `h` key (and with its newline); `hash` in a checkpoint or the
 * closing line is the running checksum of every line before it. chain.ts says how each format
 * version computes it (version 1: FNV-1a; version 2: XXH32 per line).
 */
/** Length of the `,"h":"xxxxxxxx"` suffix before a line's closing brace. */
export const CHECK_SUFFIX_LENGTH = 15;
export const LOG_FORMAT = 'vmmsim-log';
export const LOG_VERSION = 2;

export interface LogHeader {
  readonly format: typeof LOG_FORMAT;
  readonly version: number;
  readonly engine: string;
  readonly seed: number;
  readonly scenario: unknown;
  /** Present when the run is a fork: after event `at` it went on with `scenario`. */
  readonly fork?: LogFork;
  /** Present when the run was made by a deliberately broken monitor (a mutant: docs/testing.md). */
  readonly mutation?: string;
  /**
   * Present when the run's scheduling policy came from a JavaScript module (`--policy ./file.js`)
   * rather than the scenario: whatever rebuilds the run loads that module again and checks it.
   */
  readonly policy?: LogPolicyModule;
}

/** A scheduling policy loaded from a JavaScript module, as the log's header records it. */
export interface LogPolicyModule {
  /** The module's path as it was given (`--policy ./my-policy.js`), relative to the directory the run was started in. */
  readonly module: string;
  /** The sha256 of the module file's bytes (64 hex digits): a rebuilt run loads only this exact module. */
  readonly sha256: string;
  /** The name the policy reports (`policy.name`: what summaries and metrics show). */
  readonly label: string;
}

export interface LogFork {
  /** The log it was forked from (as given), and the seq after which it changed. */
  readonly from: string;
  readonly at: number;
  /** The scenario (source form) it continued with. */
  readonly scenario: unknown;
}

export interface LogCheckpoint {
  /** Number of events before this checkpoint (the seq of the next event). */
  readonly seq: number;
  readonly t: number;
  /** This checkpoint's line number in the file (so reading can resume here with line numbers). */
  readonly line: number;
  readonly hash: string;
  readonly state: unknown;
}

export interface LogEnd {
  readonly events: number;
  readonly t: number;
  readonly hash: string;
}
