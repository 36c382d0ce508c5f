/**
 * Misbehaving guests: each does something a guest must never get away with. The monitor stops
 * each as `crashed` while the other VMs carry on.
 */
import { PUTS } from './lib.js';

/** Reads guest-physical memory it does not have (trying to see another VM's): an EPT violation. */
export const ROGUE_MEMORY_SOURCE = String.raw`
; rogue: computes a while, then reads far beyond its own memory
; params: WORK_NS (time before the probe), PROBE (guest-physical word address to read)
_start:
        movi r1, msg
        call puts
        work WORK_NS
        movi r1, msg_probe
        call puts
        movi r2, PROBE
        ld r3, [r2]             ; outside this VM's map: the monitor must stop us here
        movi r1, msg_read
        call puts
        out PORT_POWER, r0
${PUTS}msg:        .string "rogue: hello, I am a well-behaved guest, honest\n"
msg_probe:  .string "rogue: now reading another VM's memory...\n"
msg_read:   .string "rogue: I read it! (isolation is broken)\n"
`;
/** PROBE lies above the largest guest RAM a scenario allows (1 GiB = 2^28 words) and below MMIO. */
export const ROGUE_MEMORY_DEFAULTS = { WORK_NS: 2_000_000, PROBE: 0x3fff_0000 } as const;

/** Runs a privileged instruction in user mode with no #GP handler installed. */
export const ROGUE_PRIVILEGED_SOURCE = String.raw`
; rogue-cli: drops to user mode, then tries to disable interrupts (cli) there
; params: WORK_NS (time before the attempt)
_start:
        movi r1, msg
        call puts
        movi r1, user_code
        csrw epc, r1
        movi r1, 1              ; previous mode user, interrupts off
        csrw estatus, r1
        iret
user_code:
        work WORK_NS
        cli                     ; privileged in user mode: #GP, and no handler is installed
        jmp user_code
${PUTS}msg:        .string "rogue-cli: entering user mode, then trying cli\n"
`;
export const ROGUE_PRIVILEGED_DEFAULTS = { WORK_NS: 1_000_000 } as const;
