import { TASK_EXIT, TASK_SWITCHING } from './kernel.js';

/**
 * The tiny kernel, paravirtualized: the same two user tasks and timer-driven switching as
 * kernel.ts, but built to call the monitor instead of trapping where it can. A task formats a
 * whole line in its own buffer and writes it with one syscall; the kernel passes it to the monitor
 * with one CONSOLE_WRITE hypercall (the emulated kernel makes one syscall and one port write per
 * character); the timer is programmed by hypercall. Its privileged instructions still trap, as a
 * Xen PV kernel's would without its hypercall replacements for them.
 */
export const KERNEL_PV_SOURCE = String.raw`
; ---------------------------------------------------------------------------------------------
; tiny kernel, paravirtualized: line-at-a-time console through a hypercall
; params: ROUNDS, WORK_A_NS, WORK_B_NS, TICK_NS (as the kernel guest)
; ---------------------------------------------------------------------------------------------
.equ SYS_WRITE, 3
.equ SYS_EXIT, 2
.equ ESTATUS_USER_IE, 3
.equ SAVE_PC, 8
.equ SAVE_ALIVE, 9
.equ SAVE_WORK, 10

_start:
        movi sp, kstack_top
        movi r1, ivt
        csrw ivt, r1
        movi r1, msg_boot
        call kputs
        movi r1, TICK_NS
        hypercall HC_SET_TIMER
        movi r1, task_a_save
        jmp restore

${TASK_SWITCHING}
syscall_handler:                  ; number in EVAL; SYS_WRITE: r1 = address, r2 = length
        push r3
        csrr r3, eval
        addi r3, r3, -SYS_WRITE
        jz r3, sys_write
        csrr r3, eval
        addi r3, r3, -SYS_EXIT
        jz r3, sys_exit
        pop r3
        iret
sys_write:
        pop r3
        hypercall HC_CONSOLE_WRITE
        iret
${TASK_EXIT}all_done:
        movi sp, kstack_top
        movi r6, kbuffer
        movi r1, msg_done
        call append
        ld r1, [ticks]
        call append_dec
        movi r1, msg_ticks
        call append
        movi r1, kbuffer
        sub r2, r6, r1
        hypercall HC_CONSOLE_WRITE
        hypercall HC_POWER_OFF

gp_handler:
        movi sp, kstack_top
        movi r1, msg_gp
        call kputs
        jmp sys_exit

kputs:                            ; the string at r1 with one hypercall (clobbers r0, r2, r3)
        movi r2, 0
        mov r3, r1
kputs_length:
        ld r0, [r3]
        jz r0, kputs_write
        addi r2, r2, 1
        addi r3, r3, 1
        jmp kputs_length
kputs_write:
        hypercall HC_CONSOLE_WRITE
        ret

; ---- shared by kernel and tasks: formatting into a buffer at r6 (no exits) -------------------

append:                           ; copy the string at r1 to [r6...], r6 advances (clobbers r1, r3)
        ld r3, [r1]
        jz r3, append_done
        st r3, [r6]
        addi r1, r1, 1
        addi r6, r6, 1
        jmp append
append_done:
        ret

append_dec:                       ; r1 >= 0 in decimal at [r6...], r6 advances (clobbers r0..r3)
        movi r2, 10
        movi r3, 0
append_digits:
        mod r0, r1, r2
        addi r0, r0, '0'
        push r0
        addi r3, r3, 1
        div r1, r1, r2
        jnz r1, append_digits
append_out:
        pop r0
        st r0, [r6]
        addi r6, r6, 1
        addi r3, r3, -1
        jnz r3, append_out
        ret

; ---- user tasks -----------------------------------------------------------------------------

task:                             ; r4 = the task's block: [0] letter, [1] work ns, [2...] its line buffer
        movi r5, 1
task_loop:
        addi r6, r4, 2
        movi r1, msg_task
        call append
        ld r1, [r4 + 0]
        st r1, [r6]
        addi r6, r6, 1
        movi r1, msg_round
        call append
        mov r1, r5
        call append_dec
        movi r1, 10
        st r1, [r6]
        addi r6, r6, 1
        addi r1, r4, 2
        sub r2, r6, r1
        syscall SYS_WRITE
        ld r1, [r4 + 1]
        workr r1
        addi r5, r5, 1
        movi r1, ROUNDS + 1
        blt r5, r1, task_loop
        syscall SYS_EXIT

; ---- data -----------------------------------------------------------------------------------

msg_boot:   .string "tiny kernel (pv): booting, starting tasks A and B in user mode\n"
msg_done:   .string "tiny kernel (pv): both tasks finished after "
msg_ticks:  .string " timer ticks, powering off\n"
msg_gp:     .string "tiny kernel (pv): task killed by #GP\n"
msg_task:   .string "task "
msg_round:  .string ": round "

current:    .word task_a_save
other:      .word task_b_save
ticks:      .word 0
task_a_block: .word 'A', WORK_A_NS
            .space 48
task_b_block: .word 'B', WORK_B_NS
            .space 48
kbuffer:    .space 96

task_a_save: .word 0, 0, 0, 0, task_a_block, 0, 0, ustack_a_top, task, 1, 0
task_b_save: .word 0, 0, 0, 0, task_b_block, 0, 0, ustack_b_top, task, 1, 0

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
