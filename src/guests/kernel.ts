/**
 * The tiny guest kernel: boots in virtual kernel mode, installs its vector table (timer, syscall,
 * #GP), programs the timer, and runs two user tasks that print through a syscall. The timer
 * interrupt switches between the tasks; when both have finished it powers the VM off. It keeps
 * each task's output line until its newline, so the two tasks' lines never cut into each other.
 *
 * Every privileged instruction it runs (csrw, csrr, iret, out) traps to the monitor under
 * trap-and-emulate, and every syscall of a user task is an exception reflected by the monitor:
 * it is written to make the mechanisms visible, not to be fast.
 */
/**
 * The timer interrupt handler that switches the two user tasks, and `restore`, which enters a task
 * in user mode from its save area (r1). Shared by kernel.ts and kernelPv.ts.
 */
export const TASK_SWITCHING = String.raw`timer_handler:
        csrw scratch, r1
        ld r1, [current]
        st r0, [r1 + 0]
        st r2, [r1 + 2]
        st r3, [r1 + 3]
        st r4, [r1 + 4]
        st r5, [r1 + 5]
        st r6, [r1 + 6]
        st r7, [r1 + 7]
        csrr r2, scratch
        st r2, [r1 + 1]
        csrr r2, epc
        st r2, [r1 + SAVE_PC]
        csrr r2, ework                ; what is left of the task's interrupted work (if any)
        st r2, [r1 + SAVE_WORK]
        ld r2, [ticks]
        addi r2, r2, 1
        st r2, [ticks]
        movi r2, IRQ_TIMER
        out PORT_PIC_EOI, r2
        ; switch to the other task if it is still alive
        ld r3, [other]
        ld r4, [r3 + SAVE_ALIVE]
        jz r4, restore
        st r1, [other]
        st r3, [current]
        mov r1, r3
        ; fall through
restore:                          ; r1 = save area of the task to run
        st r1, [current]
        ld r2, [r1 + SAVE_PC]
        csrw epc, r2
        ld r2, [r1 + SAVE_WORK]
        csrw ework, r2
        movi r2, ESTATUS_USER_IE
        csrw estatus, r2
        ld r0, [r1 + 0]
        ld r2, [r1 + 2]
        ld r3, [r1 + 3]
        ld r4, [r1 + 4]
        ld r5, [r1 + 5]
        ld r6, [r1 + 6]
        ld r7, [r1 + 7]
        ld r1, [r1 + 1]
        iret
`;

/**
 * SYS_EXIT: the current task is dead; run the other one if it is alive, else fall through to
 * `all_done` (each kernel's own end). Shared by kernel.ts and kernelPv.ts.
 */
export const TASK_EXIT = String.raw`sys_exit:
        ld r1, [current]
        movi r2, 0
        st r2, [r1 + SAVE_ALIVE]
        ld r1, [other]
        ld r2, [r1 + SAVE_ALIVE]
        jz r2, all_done
        ld r2, [current]
        st r2, [other]
        jmp restore
`;

export const KERNEL_SOURCE = String.raw`
; ---------------------------------------------------------------------------------------------
; tiny kernel: two user tasks, switched on the timer interrupt
; params: ROUNDS (lines each task prints), WORK_A_NS / WORK_B_NS (computation between lines),
;         TICK_NS (timer period)
; ---------------------------------------------------------------------------------------------
.equ SYS_PUTC, 1
.equ SYS_EXIT, 2
.equ ESTATUS_USER_IE, 3          ; previous mode user, previous interrupts enabled
.equ SAVE_PC, 8
.equ SAVE_ALIVE, 9
.equ SAVE_WORK, 10
.equ SAVE_LEN, 11                ; characters in the task's line buffer
.equ SAVE_LINE, 12               ; the line buffer (LINE_MAX words)
.equ LINE_MAX, 64

_start:
        movi sp, kstack_top
        movi r1, ivt
        csrw ivt, r1
        movi r1, msg_boot
        call kputs
        movi r1, TICK_NS
        out PORT_TIMER_PERIOD, r1
        ; enter task A in user mode with interrupts on; task B waits in its save area
        movi r1, task_a_save
        jmp restore

; ---- interrupt and exception handlers ------------------------------------------------------

${TASK_SWITCHING}
syscall_handler:                  ; number in EVAL, argument in r1; preserves r2..r7
        csrw scratch, r2
        csrr r2, eval
        addi r2, r2, -SYS_PUTC
        jz r2, sys_putc
        csrr r2, eval
        addi r2, r2, -SYS_EXIT
        jz r2, sys_exit
        csrr r2, scratch
        iret
sys_putc:                         ; a line discipline: the character joins the task's line, and
        st r3, [kreg3]                ; the line goes to the console whole at its newline (the
        ld r2, [current]              ; handler runs with interrupts off), so the two tasks' lines
        ld r3, [r2 + SAVE_LEN]        ; never cut into each other
        add r2, r2, r3
        st r1, [r2 + SAVE_LINE]
        ld r2, [current]
        addi r3, r3, 1
        st r3, [r2 + SAVE_LEN]
        movi r2, 10
        beq r1, r2, putc_flush
        movi r2, LINE_MAX
        blt r3, r2, putc_done          ; a full buffer is written out too
putc_flush:                           ; r3 = the line's length
        ld r2, [current]
        movi r1, 0
        st r1, [r2 + SAVE_LEN]
putc_out:
        ld r1, [r2 + SAVE_LINE]
        out PORT_CONSOLE_DATA, r1
        addi r2, r2, 1
        addi r3, r3, -1
        jnz r3, putc_out
putc_done:
        ld r3, [kreg3]
        csrr r2, scratch
        iret
${TASK_EXIT}all_done:
        movi sp, kstack_top
        movi r1, msg_done
        call kputs
        ld r1, [ticks]
        call kputd
        movi r1, msg_ticks
        call kputs
        out PORT_POWER, r0
        hlt

gp_handler:                       ; a user task ran a privileged instruction: kill it
        movi sp, kstack_top
        movi r1, msg_gp
        call kputs
        jmp sys_exit

; ---- kernel console output --------------------------------------------------------------------

kputs:                            ; print the string at r1 (clobbers r1, r3)
        mov r3, r1
kputs_loop:
        ld r1, [r3]
        jz r1, kputs_done
        out PORT_CONSOLE_DATA, r1
        addi r3, r3, 1
        jmp kputs_loop
kputs_done:
        ret

kputd:                            ; print r1 (>= 0) in decimal (clobbers r1..r4)
        movi r2, 10
        movi r3, 0
kputd_digits:
        mod r4, r1, r2
        addi r4, r4, '0'
        push r4
        addi r3, r3, 1
        div r1, r1, r2
        jnz r1, kputd_digits
kputd_out:
        pop r1
        out PORT_CONSOLE_DATA, r1
        addi r3, r3, -1
        jnz r3, kputd_out
        ret

; ---- user tasks (virtual user mode: they may only compute and make syscalls) ------------------

task:                             ; r4 = task letter, r6 = work per round in ns
        movi r5, 1
task_loop:
        movi r1, msg_task
        call uputs
        mov r1, r4
        syscall SYS_PUTC
        movi r1, msg_round
        call uputs
        mov r1, r5
        call uputd
        movi r1, 10
        syscall SYS_PUTC
        workr r6
        addi r5, r5, 1
        movi r1, ROUNDS + 1
        blt r5, r1, task_loop
        syscall SYS_EXIT

uputs:                            ; print the string at r1 through syscalls (clobbers r1, r3)
        mov r3, r1
uputs_loop:
        ld r1, [r3]
        jz r1, uputs_done
        syscall SYS_PUTC
        addi r3, r3, 1
        jmp uputs_loop
uputs_done:
        ret

uputd:                            ; print r1 (>= 0) in decimal (clobbers r1..r3, r7 stack)
        push r4
        movi r2, 10
        movi r3, 0
uputd_digits:
        mod r4, r1, r2
        addi r4, r4, '0'
        push r4
        addi r3, r3, 1
        div r1, r1, r2
        jnz r1, uputd_digits
uputd_out:
        pop r1
        syscall SYS_PUTC
        addi r3, r3, -1
        jnz r3, uputd_out
        pop r4
        ret

; ---- data ------------------------------------------------------------------------------------

msg_boot:   .string "tiny kernel: booting, starting tasks A and B in user mode\n"
msg_done:   .string "tiny kernel: both tasks finished after "
msg_ticks:  .string " timer ticks, powering off\n"
msg_gp:     .string "tiny kernel: task killed by #GP\n"
msg_task:   .string "task "
msg_round:  .string ": round "

current:    .word task_a_save
other:      .word task_b_save
ticks:      .word 0
kreg3:      .word 0                ; r3 of a task, while sys_putc runs

            ; save areas: r0..r7, pc, alive, work left, then the task's line (length, characters)
task_a_save: .word 0, 0, 0, 0, 'A', 0, WORK_A_NS, ustack_a_top, task, 1, 0, 0
            .space LINE_MAX
task_b_save: .word 0, 0, 0, 0, 'B', 0, WORK_B_NS, ustack_b_top, task, 1, 0, 0
            .space LINE_MAX

            .align 4
ivt:        .word 0, gp_handler, 0, syscall_handler
            .space VEC_IRQ_BASE - 4
            .word timer_handler
            .space VECTOR_COUNT - VEC_IRQ_BASE - 1

            .space 256
ustack_a_top:
            .space 256
ustack_b_top:
            .space 256
kstack_top:
`;

export const KERNEL_DEFAULTS = { ROUNDS: 4, WORK_A_NS: 300_000, WORK_B_NS: 450_000, TICK_NS: 250_000 } as const;
