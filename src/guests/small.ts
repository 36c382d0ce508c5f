/**
 * Small guests: a paravirtual hello (prints through hypercalls, no I/O exits), a compute-bound
 * loop (no exits at all: for the interpreter's speed) and an I/O loop (one exit per iteration:
 * for the exit path's speed).
 */
import { PUTD, PUTS } from './lib.js';

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
msg:    .string "hello-pv: hello from a paravirtualized guest (hypercalls, not trapped I/O)\n"
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

export const TICKER_SOURCE = String.raw`
; ticker: idles in hlt and wakes on its timer interrupt; prints every EVERY ticks, stops after TICKS
; params: PERIOD_NS, EVERY, TICKS, BURST_NS (work done at each tick)
_start:
        movi sp, stack_top
        movi r1, ivt
        csrw ivt, r1
        movi r1, msg_start
        call puts
        movi r1, PERIOD_NS
        out PORT_TIMER_PERIOD, r1
        sti
idle:
        hlt                     ; block until the next interrupt
        ld r1, [ticks]
        movi r2, TICKS
        blt r1, r2, idle
        movi r1, msg_done
        call puts
        out PORT_POWER, r0
tick:
        push r1
        push r2
        ld r1, [ticks]
        addi r1, r1, 1
        st r1, [ticks]
        work BURST_NS
        movi r2, EVERY
        mod r2, r1, r2
        jnz r2, tick_done
        movi r1, msg_tick
        call puts
        ld r1, [ticks]
        call putd
        movi r1, 10
        out PORT_CONSOLE_DATA, r1
tick_done:
        movi r1, IRQ_TIMER
        out PORT_PIC_EOI, r1
        pop r2
        pop r1
        iret
puts:
        push r3
        mov r3, r1
puts_loop:
        ld r1, [r3]
        jz r1, puts_done
        out PORT_CONSOLE_DATA, r1
        addi r3, r3, 1
        jmp puts_loop
puts_done:
        pop r3
        ret
${PUTD}msg_start:  .string "ticker: idle in hlt, woken by the timer\n"
msg_tick:   .string "ticker: tick "
msg_done:   .string "ticker: done, powering off\n"
ticks:      .word 0
            .align 4
ivt:        .space VEC_IRQ_BASE
            .word tick
            .space 64
stack_top:
`;
export const TICKER_DEFAULTS = { PERIOD_NS: 500_000, EVERY: 5, TICKS: 20, BURST_NS: 20_000 } as const;

export const ECHO_SOURCE = String.raw`
; echo: waits in hlt; on each console interrupt reads the typed characters and echoes them in
; upper case; a line "off" powers the VM off
_start:
        movi sp, stack_top
        movi r1, ivt
        csrw ivt, r1
        movi r1, msg_ready
        call puts
        sti
idle:
        hlt
        jmp idle
console_irq:
        push r1
        push r2
        push r3
read:
        in r1, PORT_CONSOLE_DATA
        movi r2, -1
        beq r1, r2, done
        movi r2, 'a'
        blt r1, r2, echo
        movi r2, 'z' + 1
        bge r1, r2, echo
        addi r1, r1, -32
echo:
        out PORT_CONSOLE_DATA, r1
        call track
        jmp read
done:
        movi r1, IRQ_CONSOLE
        out PORT_PIC_EOI, r1
        pop r3
        pop r2
        pop r1
        iret
track:                          ; r1 = the character echoed: remember the line, act on "OFF"
        movi r2, 10
        beq r1, r2, line_end
        ld r2, [length]
        movi r3, 8
        bge r2, r3, track_done
        st r1, [r2 + line]
        addi r2, r2, 1
        st r2, [length]
track_done:
        ret
line_end:
        ld r2, [length]
        movi r3, 3
        bne r2, r3, reset_line
        ld r2, [line]
        movi r3, 'O'
        bne r2, r3, reset_line
        ld r2, [line + 1]
        movi r3, 'F'
        bne r2, r3, reset_line
        ld r2, [line + 2]
        bne r2, r3, reset_line
        movi r1, msg_bye
        call puts
        out PORT_POWER, r0
reset_line:
        movi r2, 0
        st r2, [length]
        ret
${PUTS}msg_ready:  .string "echo: ready, type something\n"
msg_bye:    .string "echo: bye\n"
length:     .word 0
line:       .space 8
            .align 4
ivt:        .space VEC_IRQ_BASE + IRQ_CONSOLE
            .word console_irq
            .space 64
stack_top:
`;
