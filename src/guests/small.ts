/**
 * Small guests: a paravirtual hello (prints through hypercalls, no I/O exits), a compute-bound
 * loop (no exits at all: for the interpreter's speed) and an I/O loop (one exit per iteration:
 * for the exit path's speed).
 */

export const HELLO_PV_SOURCE = String.raw`
; hello-pv: a paravirtualized guest; it calls the monitor with hypercalls instead of port I/O
; params: LINES (lines to print), WORK_NS (time between lines)
_start:
        movi r5, LINES
again:
        movi r3, msg
loop:
        ld r1, [r3]
        jz r1, line_done
        hypercall HC_CONSOLE_PUTC
        addi r3, r3, 1
        jmp loop
line_done:
        work WORK_NS
        addi r5, r5, -1
        jnz r5, again
        hypercall HC_POWER_OFF
msg:    .string "hello-pv: hello from a paravirtualized guest (hypercalls, no traps)\n"
`;
export const HELLO_PV_DEFAULTS = { LINES: 3, WORK_NS: 2_000_000 } as const;

export const COMPUTE_SOURCE = String.raw`
; compute: ordinary arithmetic forever, with no exit at all
_start:
        movi r1, 0
        movi r2, 1
        movi r4, 0x9e3779b9
loop:
        add r1, r1, r2
        xor r3, r1, r4
        shl r5, r3, r2
        addi r2, r2, 1
        sub r6, r5, r1
        jmp loop
`;

export const IO_LOOP_SOURCE = String.raw`
; io-loop: one port write per iteration, each one an exit to the monitor
_start:
        movi r1, 0
loop:
        out 0x80, r1
        addi r1, r1, 1
        jmp loop
`;
