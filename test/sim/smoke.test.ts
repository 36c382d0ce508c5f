import { describe, expect, it } from 'vitest';
import { consoleOf, runProgram } from '../helpers.js';

describe('smoke', () => {
  it('runs hello', () => {
    const run = runProgram(`
_start:
  movi r3, msg
loop:
  ld r1, [r3]
  jz r1, done
  out PORT_CONSOLE_DATA, r1
  addi r3, r3, 1
  jmp loop
done:
  out PORT_POWER, r0
msg: .string "hi\\n"
`);
    expect(consoleOf(run, 'guest')).toEqual(['hi']);
    expect(run.summary.vms[0].state).toBe('shutoff');
  });
});
