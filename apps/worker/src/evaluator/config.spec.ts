import { describe, expect, it } from 'vitest';
import { applyArgs, loadEvaluatorConfig } from './config';

describe('evaluator configuration', () => {
  it("defaults to DCP's evaluator address and reads DCP_EMU_EVALUATOR_* variables", () => {
    const d = loadEvaluatorConfig({});
    expect([d.host, d.port]).toEqual(['127.0.0.1', 9000]);
    const c = loadEvaluatorConfig({
      DCP_EMU_EVALUATOR_PORT: '19000',
      DCP_EMU_EVALUATOR_HOST: '0.0.0.0',
      DCP_EMU_EVALUATOR_MEMORY_LIMIT_MB: '64',
      DCP_EMU_EVALUATOR_MAX_SANDBOXES: '3',
    });
    expect(c).toMatchObject({ host: '0.0.0.0', port: 19000, memoryLimitMb: 64, maxSandboxes: 3 });
    expect(() => loadEvaluatorConfig({ DCP_EMU_EVALUATOR_PORT: '70000' })).toThrow(/DCP_EMU_EVALUATOR_PORT/);
    expect(() => loadEvaluatorConfig({ DCP_EMU_EVALUATOR_MEMORY_LIMIT_MB: '1' })).toThrow(/MEMORY_LIMIT/);
  });

  it('lets -p/--port and -H/--host (dcp-evaluator-start style) override the environment', () => {
    const base = loadEvaluatorConfig({ DCP_EMU_EVALUATOR_PORT: '1234' });
    expect(applyArgs(base, ['-p', '9001', '-H', '::1'])).toMatchObject({ port: 9001, host: '::1' });
    expect(applyArgs(base, ['--port=0', '--max-sandboxes', '2'])).toMatchObject({ port: 0, maxSandboxes: 2 });
    expect(applyArgs(base, ['--help'])).toBe('help');
    expect(() => applyArgs(base, ['-p'])).toThrow(/needs a value/);
    expect(() => applyArgs(base, ['-p', 'x'])).toThrow(/invalid number/);
    expect(() => applyArgs(base, ['--max-sandboxes', '0'])).toThrow(/invalid number/);
    expect(() => applyArgs(base, ['--frobnicate'])).toThrow(/unknown option/);
  });
});
