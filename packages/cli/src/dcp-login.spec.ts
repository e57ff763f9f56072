import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DCP_LOGIN_PRELOAD, evaluatorEnv, nodeOptionsWithLogin } from './dcp-login';

describe('the dcp-client login preload', () => {
  it('is added to NODE_OPTIONS once, after what was there, and node loads it', () => {
    const once = nodeOptionsWithLogin('--max-old-space-size=512');
    expect(once.startsWith('--max-old-space-size=512 --require ')).toBe(true);
    expect(nodeOptionsWithLogin(once)).toBe(once);
    const loaded = execFileSync(
      process.execPath,
      ['-e', 'process.stdout.write(require("node:module")._load.name)'],
      { env: { PATH: process.env.PATH, NODE_OPTIONS: nodeOptionsWithLogin(undefined) }, encoding: 'utf8' },
    );
    expect(loaded).toBe('dcpEmu$load');
    expect(DCP_LOGIN_PRELOAD.endsWith('preload/dcp-login.cjs')).toBe(true);
  });

  it("points dcp-client at the stack's evaluator, as dcp-client reads DCP_CONFIG_* objects", () => {
    expect(evaluatorEnv({})).toEqual({});
    const { DCP_CONFIG_EVALUATOR: value } = evaluatorEnv({ evaluator: 'http://127.0.0.1:7434/' });
    expect(value?.startsWith('{')).toBe(true);
    // dcp-client's addConfigEnv: eval(`"use strict"; (${value})`)
    const config = new Function(`"use strict"; return (${value});`)() as { location: URL };
    expect(config.location.href).toBe('http://127.0.0.1:7434/');
  });
});
