/**
 * `--set key=value` (fork, `vmmsim run --from`): values are read as YAML (`2ms`, `512`, `true`),
 * but a word that YAML reads as null, a boolean or a number stays a string where the scenario has
 * a string: `scheduler.policy=null` is Xen's null scheduler.
 */
import { describe, expect, it } from 'vitest';
import { applySettings } from '../../src/replay/fork.js';

describe('--set', () => {
  const source = { scheduler: { policy: 'credit', quantum: '1ms' }, costs: {}, vms: [{ name: 'web', sched: { weight: 256 } }] };

  it('keeps a word as the string the scenario had there', () => {
    expect(applySettings(source, ['scheduler.policy=null'])).toMatchObject({ scheduler: { policy: 'null' } });
    expect(applySettings(source, ['scheduler.policy=rtds'])).toMatchObject({ scheduler: { policy: 'rtds' } });
    expect(applySettings(source, ['scheduler.quantum=2ms'])).toMatchObject({ scheduler: { quantum: '2ms' } });
  });

  it('reads numbers and YAML values where the scenario has no string', () => {
    expect(applySettings(source, ['vms.web.sched.weight=512'])).toMatchObject({ vms: [{ name: 'web', sched: { weight: 512 } }] });
    expect(applySettings(source, ['costs.exit=1us'])).toMatchObject({ costs: { exit: '1us' } });
    expect(applySettings(source, ['seed=9'])).toMatchObject({ seed: 9 });
    expect(applySettings(source, ['scheduler.boost=false'])).toMatchObject({ scheduler: { boost: false } });
  });
});
