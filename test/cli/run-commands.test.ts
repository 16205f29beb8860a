import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { main, type Io } from '../../src/cli/main.js';
import { evaluateCommand, parseSeeds, predictCommand, runCommand } from '../../src/cli/run-commands.js';
import { compileFile } from '../../src/compiler/compile.js';
import { loadDataset } from '../../src/runtime/data/load-dataset.js';
import { isRunEvent, type RunEvent, type RunEndSeedEvent } from '../../src/runtime/events.js';
import { computeMetrics, type DatasetName } from '../../src/runtime/metrics/index.js';
import { packageRoot } from '../../src/paths.js';

const root = packageRoot();
const tmp = () => mkdtempSync(join(tmpdir(), 'mmsa-cli-'));

function memIo(cwd = root): Io & { stdout: () => string; stderr: () => string } {
  let o = '';
  let e = '';
  return {
    out: (s) => void (o += s),
    err: (s) => void (e += s),
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    isTTY: false,
    stdout: () => o,
    stderr: () => e,
  };
}

describe('mmsa run: arguments and compile errors', () => {
  it('parses --seeds and rejects bad values with exit code 2', async () => {
    expect(parseSeeds('1111, 1112,1113')).toEqual([1111, 1112, 1113]);
    expect(parseSeeds('1,x')).toBeInstanceOf(Error);
    const io = memIo();
    expect(await runCommand('pipelines/demo_lmf.yaml', { seeds: '1,,-2' }, io)).toBe(2);
    expect(io.stderr()).toMatch(/--seeds expects non-negative integers/);
    expect(await runCommand('pipelines/demo_lmf.yaml', { maxEpochs: '0' }, io)).toBe(2);
    expect(await runCommand('pipelines/demo_lmf.yaml', { reporter: 'tui' as 'plain' }, io)).toBe(2);
  });

  it('checks --native and --threads (exit code 2)', async () => {
    const io = memIo();
    expect(await runCommand('pipelines/demo_lmf.yaml', { native: 'maybe' }, io)).toBe(2);
    expect(io.stderr()).toMatch(/--native must be auto, on or off, got 'maybe'/);
    expect(await runCommand('pipelines/demo_lmf.yaml', { threads: '0' }, io)).toBe(2);
    expect(io.stderr()).toMatch(/--threads expects an integer from 1 to 64, got '0'/);
    expect(await predictCommand('runs/none', { threads: 'two' }, io)).toBe(2);
  });

  it('--native on without the native library fails with MSA6503 and how to build it; off records why in the manifest', () => {
    const out = tmp();
    const run = (native: string) =>
      spawnSync(process.execPath, ['bin/mmsa.js', 'run', 'pipelines/demo_lmf.yaml', '--native', native, '--max-epochs', '1', '--out', out, '--reporter', 'plain', '--force'], {
        cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, MMSA_NATIVE_PATH: join(out, 'missing.node') },
      });
    const on = run('on');
    expect(on.status).toBe(1);
    expect(on.stderr).toMatch(/MSA6503.*native kernels requested but unavailable/);
    expect(on.stderr).toMatch(/build-native\.mjs/);
    const off = run('off');
    expect(off.status).toBe(0);
    const manifestPath = readdirSync(join(out, 'demo_lmf')).map((d) => join(out, 'demo_lmf', d, 'manifest.json'))[0]!;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    expect(manifest.backendDetails.native).toMatchObject({ active: false, reason: expect.stringMatching(/disabled/) });
    expect(manifest.command).toContain('--native');
  });

  it('prints diagnostics like `mmsa check` and exits 1 without training', async () => {
    const io = memIo();
    const out = tmp();
    expect(await runCommand('pipelines/does_not_exist.yaml', { out }, io)).toBe(1);
    expect(io.stderr()).toMatch(/MSA1004/);
    expect(readdirSync(out)).toEqual([]);
  });

  it('several files run one after another; a file that does not compile stops the list before the next', async () => {
    const out = tmp();
    const a = resolve(root, 'test/fixtures/tune/tiny_tune.yaml');
    const b = resolve(root, 'test/fixtures/tune/tiny_run_b.yaml');
    const io = memIo();
    expect(await main(['run', a, b, '--max-epochs', '1', '--seeds', '1111', '--reporter', 'plain', '--out', out], io)).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['tiny_run_b', 'tiny_tune']);
    const io2 = memIo();
    const out2 = tmp();
    expect(await main(['run', 'pipelines/does_not_exist.yaml', a, '--out', out2, '--reporter', 'plain'], io2)).toBe(1);
    expect(readdirSync(out2)).toEqual([]);
  });

  it('the command module does not load tfjs statically (mmsa check stays tfjs-free)', () => {
    const seen = new Set<string>();
    const tf: string[] = [];
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      // static imports only: `import ... from '...'` / `export ... from '...'`, not `import type` or `await import()`
      for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm)) {
        const spec = m[1]!;
        if (spec.startsWith('@tensorflow/')) tf.push(`${file} -> ${spec}`);
        if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
    };
    walk(join(root, 'src/cli/run-commands.ts'));
    expect(seen.size).toBeGreaterThan(5);
    expect(tf).toEqual([]);
  });
});

const DEMOS = ['demo_lmf', 'demo_lf_dnn', 'demo_tfn', 'demo_ef_lstm', 'demo_self_mm'];

describe('mmsa run + predict on every shipped demo pipeline (wasm, 6 epochs)', () => {
  const out = tmp();
  const finished: Record<string, { code: number; events: RunEvent[]; stdout: string; tensors: number[] }> = {};

  beforeAll(async () => {
    for (const name of DEMOS) {
      const io = memIo();
      const events: RunEvent[] = [];
      const tensors: number[] = [];
      const onEvent = (e: RunEvent) => {
        events.push(e);
        if (e.kind === 'epoch.end') tensors.push(tf.memory().numTensors);
      };
      const code = await runCommand(`pipelines/${name}.yaml`, { out, maxEpochs: 6, backend: 'wasm', reporter: name === 'demo_tfn' ? 'ndjson' : 'plain', onEvent }, io);
      finished[name] = { code, events, stdout: io.stdout(), tensors };
    }
  }, 240_000);

  it.each(DEMOS)('%s trains and beats the constant predictor on test', async (name) => {
    const r = finished[name]!;
    expect(r.code).toBe(0);
    const end = r.events.find((e): e is RunEndSeedEvent => e.kind === 'run.end' && e.scope === 'seed')!;
    const test = end.result!.test;
    const c = compileFile(join(root, 'pipelines', `${name}.yaml`));
    const data = await loadDataset(c.ir!);
    const sims = c.ir!.schedule.metrics === 'sims' || c.ir!.schedule.metrics === 'simsv2';
    const clip = (x: number) => (sims ? Math.max(-1, Math.min(1, x)) : x);
    const train = data.train.labels['M']!;
    const mean = train.reduce((a, b) => a + b, 0) / train.length;
    const y = data.test.labels['M']!;
    const constMae = y.reduce((a, v) => a + Math.abs(clip(mean) - clip(v)), 0) / y.length;
    expect(test['MAE']!).toBeLessThan(0.9 * constMae);
    expect(test['Corr']!).toBeGreaterThan(0.3);
    expect(end.epochs).toBeLessThanOrEqual(6);
    // no tensor leaks: the count is flat once the optimizer state exists (after epoch 1)
    expect(r.tensors.length).toBeGreaterThanOrEqual(3);
    expect(new Set(r.tensors.slice(1)).size).toBe(1);
  });

  it('reports the loss of every head: M, T, A, V for Self-MM (ULGM parts included), M alone for LMF', () => {
    const heads = (name: string) => {
      const steps = finished[name]!.events.filter((e): e is Extract<RunEvent, { kind: 'step.end' }> => e.kind === 'step.end');
      const last = steps[steps.length - 1]!;
      expect(Object.values(last.headLosses!).reduce((a, b) => a + b, 0)).toBeCloseTo(last.loss, 4);
      return Object.keys(last.headLosses!).sort();
    };
    expect(heads('demo_self_mm')).toEqual(['A', 'M', 'T', 'V']);
    expect(heads('demo_lmf')).toEqual(['M']);
  });

  it('reports: plain prints one line per epoch and the mean +- std table; ndjson prints raw events', () => {
    const plain = finished['demo_lmf']!;
    const epochLines = plain.stdout.split('\n').filter((l) => l.startsWith('epoch '));
    expect(epochLines).toHaveLength(plain.events.filter((e) => e.kind === 'epoch.end').length);
    expect(plain.stdout).toMatch(/test results over 1 seed \(1111\), x100, mean \+- std/);
    expect(plain.stdout).toMatch(/MAE\s+\d+\.\d\d \+- 0\.00/);
    const lines = finished['demo_tfn']!.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.every(isRunEvent)).toBe(true);
    expect(lines.length).toBe(finished['demo_tfn']!.events.length);
  });

  it.each(DEMOS)('%s: predict rebuilds the model from the run dir and reproduces the test metrics', async (name) => {
    const end = finished[name]!.events.find((e): e is RunEndSeedEvent => e.kind === 'run.end' && e.scope === 'seed')!;
    const io = memIo();
    const file = join(tmp(), 'pred.json');
    expect(await predictCommand(end.runDir!, { out: file }, io)).toBe(0);
    const rows = JSON.parse(readFileSync(file, 'utf8')) as { id: string; prediction: number; label: number }[];
    const c = compileFile(join(root, 'pipelines', `${name}.yaml`));
    expect(rows).toHaveLength(c.ir!.dataset.splits.test);
    const m = computeMetrics(c.ir!.schedule.metrics as DatasetName, rows.map((r) => r.prediction), rows.map((r) => r.label));
    const { Loss: _loss, ...expected } = end.result!.test;
    expect(m).toEqual(expected);
  });

  it.each(['demo_lmf', 'demo_self_mm'])('%s: evaluate scores the run on labelled data with its metric set (its own test split: its test results)', async (name) => {
    const end = finished[name]!.events.find((e): e is RunEndSeedEvent => e.kind === 'run.end' && e.scope === 'seed')!;
    const io = memIo();
    expect(await evaluateCommand(end.runDir!, { format: 'json' }, io)).toBe(0);
    const r = JSON.parse(io.stdout()) as { split: string; n: number; metrics: Record<string, number> };
    expect(r.split).toBe('test');
    expect(r.n).toBe(64);
    // The loss is a mean of batch means: the run shuffled its test batches, evaluate does not.
    const { Loss: _l1, ...got } = r.metrics;
    const { Loss: _l2, ...want } = end.result!.test;
    expect(got).toEqual(want);
    expect(Number.isFinite(r.metrics['Loss'])).toBe(true);
    const text = memIo();
    expect(await evaluateCommand(end.runDir!, { split: 'valid' }, text)).toBe(0);
    expect(text.stdout()).toMatch(new RegExp(`^${name} \\(.*\\) on synthetic-\\w+ \\[valid, 64 samples\\]\\n  \\S+ +-?\\d\\.\\d{4}\\n`));
  });

  it('reuses the completed run on a second `mmsa run` (no training), and predict writes CSV to stdout', async () => {
    const io = memIo();
    const events: RunEvent[] = [];
    expect(await runCommand('pipelines/demo_self_mm.yaml', { out, maxEpochs: 6, backend: 'wasm', onEvent: (e) => events.push(e) }, io)).toBe(0);
    expect(events.some((e) => e.kind === 'epoch.end')).toBe(false);
    expect(io.stdout()).toMatch(/reused completed run/);
    const end = events.find((e): e is RunEndSeedEvent => e.kind === 'run.end' && e.scope === 'seed')!;
    const pio = memIo();
    expect(await predictCommand(end.runDir!, { split: 'valid' }, pio)).toBe(0);
    const lines = pio.stdout().trim().split('\n');
    expect(lines[0]).toBe('id,prediction,label');
    expect(lines).toHaveLength(1 + 64);
  });

  it('an aborted run exits 130 with status interrupted', async () => {
    const io = memIo();
    const ac = new AbortController();
    const events: RunEvent[] = [];
    const code = await runCommand('pipelines/demo_lf_dnn.yaml', {
      out: tmp(), maxEpochs: 6, backend: 'wasm', signal: ac.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.kind === 'step.end' && e.epoch === 2 && e.step === 2) ac.abort();
      },
    }, io);
    expect(code).toBe(130);
    const end = events.at(-1) as RunEndSeedEvent;
    expect(end).toMatchObject({ kind: 'run.end', status: 'interrupted', epochs: 1 });
    expect(JSON.parse(readFileSync(join(end.runDir!, 'manifest.json'), 'utf8')).status).toBe('interrupted');
  });

  it('Ctrl-C: the first SIGINT stops after the current step (exit 130), the second exits at once', async () => {
    const io = memIo();
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const before = process.listenerCount('SIGINT');
    let sent = 0;
    try {
      const code = await runCommand('pipelines/demo_tfn.yaml', {
        out: tmp(), maxEpochs: 6, backend: 'wasm',
        onEvent: (e) => {
          if (e.kind === 'step.end' && e.epoch === 2 && sent === 0) {
            sent = 1;
            process.emit('SIGINT');
            expect(exit).not.toHaveBeenCalled();
            process.emit('SIGINT');
          }
        },
      }, io);
      expect(code).toBe(130);
      expect(exit).toHaveBeenCalledWith(130);
      expect(io.stderr()).toMatch(/stopping after the current step/);
      expect(process.listenerCount('SIGINT')).toBe(before);
    } finally {
      exit.mockRestore();
    }
  });
});
