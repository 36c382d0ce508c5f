; overrun: fills a table of four words, then follows the pointer stored after it.
; The fill loop has an off-by-one bug: it leaves when 4 < i, after a fifth store, which lands on
; `target`; the load through `target` then leaves the VM's memory and the VM crashes.
_start:
        movi r1, 0              ; i
        movi r2, 4              ; the table's length
        movi r5, 0x3fff0000     ; the value the loop stores (a marker far above this VM's memory)
fill:
        st r5, [r1 + table]     ; table[i] = marker
        work 1000
        addi r1, r1, 1
        blt r2, r1, filled      ; bug: should be `bge r1, r2, filled`
        jmp fill
filled:
        work 5000
        ld r3, [target]         ; the pointer after the table...
        ld r4, [r3]             ; ...now points outside memory: EPT violation, the VM crashes
        out PORT_POWER, r0

table:  .word 0, 0, 0, 0
target: .word table
