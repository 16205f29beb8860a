import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nativeDisabled } from '../helpers/native.js';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { COMMANDS, didYouMean, editDistance } from '../../src/cli/options.js';
import { labelHistograms } from '../../src/components/tasks/ulgm/view.js';
import { loadRun } from '../../src/report/run-data.js';
import { currentOwner } from '../../src/runtime/run-liveness.js';
import { copyRun, root, stripAnsi, tmp } from '../report/helpers.js';
import { captureIo } from './io.js';

const run = async (argv: string[], cwd = root, env: NodeJS.ProcessEnv = {}) => {
  const io = captureIo(cwd, env);
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
};

describe('options table and help', () => {
  it('every command of the table is in `mmsa --help`, and its options in its own help', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    for (const c of COMMANDS) expect(top.out).toContain(c.name);
    for (const c of COMMANDS.filter((x) => !x.subcommands)) {
      const h = await run([c.name, '--help']);
      expect(h.code).toBe(0);
      for (const o of c.options) expect(h.out).toContain(o.flags.split(' ')[0]!.replace(',', ''));
    }
    const r = await run(['run', '--help']);
    expect(r.out).toMatch(/--reporter <name>[\s\S]*choices: "auto", "tui", "plain",\s+"ndjson"/);
    expect(r.out).toContain('Examples:');
  });

  it('"did you mean" for option values, options and commands; usage errors exit 2', async () => {
    const a = await run(['run', 'pipelines/demo_lmf.yaml', '--reporter', 'plian']);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/Allowed choices are auto, tui, plain, ndjson\. Did you mean 'plain'\?/);
    const b = await run(['compare', 'x', '--fromat', 'csv']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/unknown option '--fromat'[\s\S]*Did you mean --format\?/);
    const c = await run(['reprot', 'x']);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/Did you mean report\?/);
    expect(didYouMean('ndjosn', ['plain', 'ndjson'])).toBe('ndjson');
    expect(didYouMean('zzzzzz', ['plain', 'ndjson'])).toBeUndefined();
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('mmsa init', () => {
  it('writes a starter pipeline that checks clean, and refuses to overwrite without --force', async () => {
    const dir = tmp();
    const a = await run(['init', '--model', 'tfn', '--dataset', 'synthetic'], dir);
    expect(a.code).toBe(0);
    const file = join(dir, 'tfn_demo.yaml');
    expect(readFileSync(file, 'utf8')).toMatch(/^# Starter pipeline from `mmsa init --model tfn --dataset synthetic`/);
    expect((await run(['check', file], dir)).code).toBe(0);
    const b = await run(['init', '--model', 'tfn', '--dataset', 'synthetic'], dir);
    expect(b.code).toBe(1);
    expect(b.err).toMatch(/exists[\s\S]*--force/);
    expect((await run(['init', '--model', 'tfn', '--dataset', 'synthetic', '--force'], dir)).code).toBe(0);
    expect((await run(['init', '--model', 'self_mm', '--dataset', 'mosi', '-o', 'sm.yaml'], dir)).code).toBe(0);
    expect(readFileSync(join(dir, 'sm.yaml'), 'utf8')).toContain('extends: self_mm');
    expect((await run(['init', '--model', 'selfmm'], dir)).err).toMatch(/Did you mean 'self_mm'/);
  });

  it('knows BERT-MAG: its paper configs, and the datasets MMSA has no config for', async () => {
    const dir = tmp();
    expect((await run(['init', '--model', 'bert_mag', '--dataset', 'mosi'], dir)).code).toBe(0);
    const text = readFileSync(join(dir, 'bert_mag_mosi.yaml'), 'utf8');
    expect(text).toContain('extends: bert_mag');
    expect(text).toContain('dropout_prob: 0.3');
    expect((await run(['check', join(dir, 'bert_mag_mosi.yaml')], dir)).code).toBe(0);
    const r = await run(['init', '--model', 'bert_mag', '--dataset', 'simsv2'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain('MSA6723');
    expect(r.err).toContain('MMSA configures bert_mag for mosei, mosi, sims');
  });

  it('knows CENET: a paper config for each of its four datasets, and its demo', async () => {
    const dir = tmp();
    expect((await run(['init', '--model', 'cenet', '--dataset', 'simsv2'], dir)).code).toBe(0);
    const text = readFileSync(join(dir, 'cenet_simsv2.yaml'), 'utf8');
    expect(text).toContain('extends: cenet');
    expect(text).toContain('lr: 3e-5');
    expect((await run(['check', join(dir, 'cenet_simsv2.yaml')], dir)).code).toBe(0);
    expect((await run(['init', '--model', 'cenet', '--dataset', 'synthetic'], dir)).code).toBe(0);
    expect(readFileSync(join(dir, 'cenet_demo.yaml'), 'utf8')).toContain('before_layer: {type: ce');
  });

  it('knows MFM: its three paper configs, no SIMSv2 (MMSA has no config for it)', async () => {
    const dir = tmp();
    expect((await run(['init', '--model', 'mfm', '--dataset', 'mosi'], dir)).code).toBe(0);
    const text = readFileSync(join(dir, 'mfm_mosi.yaml'), 'utf8');
    expect(text).toContain('extends: mfm');
    expect(text).toContain('mmd: {weight: 100}');
    expect((await run(['check', join(dir, 'mfm_mosi.yaml')], dir)).code).toBe(0);
    const r = await run(['init', '--model', 'mfm', '--dataset', 'simsv2'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toContain('MMSA configures mfm for mosei, mosi, sims');
  });
});

describe('mmsa report / compare / watch on a recorded run', () => {
  it('report writes the HTML page into the run dir; png writes a PNG of one plot', async () => {
    const rootDir = tmp();
    const d = copyRun(rootDir);
    expect((await run(['report', d])).code).toBe(0);
    const html = readFileSync(join(d, 'report.html'), 'utf8');
    expect(html).toContain('class="plot-labels"');
    const r = await run(['report', join(rootDir, 'demo_self_mm'), '--format', 'png', '--plot', 'labels', '--epoch', '2', '-o', join(rootDir, 'l.png')]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(rootDir, 'l.png')).subarray(1, 4).toString()).toBe('PNG');
    const missing = await run(['report', d, '--format', 'png', '--plot', 'labels', '--epoch', '9']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no ULGM label histogram for epoch 9/);
    expect((await run(['report', d, '--epoch', 'x'])).code).toBe(2);
    const bad = await run(['report', rootDir + '/nothing']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/MSA6710/);
  });

  it('report on runs/<pipeline> with several seeds writes runs/<pipeline>/report.html with the aggregate first', async () => {
    const rootDir = tmp();
    copyRun(rootDir);
    // A second seed of the same spec hash, with other test results.
    const d2 = copyRun(rootDir, 'demo_self_mm', 'f252c80cade1-1112', (m) => {
      m['seed'] = 1112;
    });
    const res = JSON.parse(readFileSync(join(d2, 'results.json'), 'utf8')) as { seed: number; test: Record<string, number> };
    res.seed = 1112;
    res.test['Has0_acc_2'] = 0.8706;
    writeFileSync(join(d2, 'results.json'), JSON.stringify(res));
    const r = await run(['report', join(rootDir, 'demo_self_mm')]);
    expect(r.code).toBe(0);
    expect(r.err).toContain(join(rootDir, 'demo_self_mm', 'report.html'));
    const html = readFileSync(join(rootDir, 'demo_self_mm', 'report.html'), 'utf8');
    expect(html).toContain('<title>mmsa report: demo_self_mm (f252c80cade1), 2 seeds</title>');
    const agg = html.indexOf('class="aggregate"');
    expect(agg).toBeGreaterThan(0);
    expect(agg).toBeLessThan(html.indexOf('id="run-0"'));
    // mean +- std x100 (MMSA's metric set), then one row per seed, then every seed's curves overlaid.
    expect(html).toContain('Test results over 2 seeds (1111, 1112): mean +- std, x100 as MMSA&#39;s tables'.replace('&#39;', "'"));
    expect(html).toContain('<th>Has0_acc_2 (x100)</th>');
    expect(html).toContain('<td>88.06 +- 1.00</td>');
    expect(html).toMatch(/<table class="per-seed">.*<td>1111<\/td>.*<td>0\.8906<\/td>.*<td>1112<\/td>.*<td>0\.8706<\/td>/s);
    expect(html).toContain('class="plot-seed-loss"');
    expect(html).toContain('class="plot-seed-metrics"');
    const legend = html.slice(html.indexOf('class="plot-seed-loss"'), html.indexOf('</figure>', html.indexOf('class="plot-seed-loss"')));
    expect(legend).toContain('>1111<');
    expect(legend).toContain('>1112<');
  });

  it('compare prints markdown, csv or json', async () => {
    const rootDir = tmp();
    copyRun(rootDir);
    const md = await run(['compare', rootDir]);
    expect(md.code).toBe(0);
    expect(md.out).toMatch(/^\| Model \| Dataset \| Seeds \| Has0_acc_2/);
    expect(md.out).toContain('| demo_self_mm | synthetic-mosi | 1 | **89.06 +- 0.00**');
    const csv = await run(['compare', `${rootDir}/*/*`, '--format', 'csv', '--sort', 'MAE']);
    // A MOSI-like run reports MMSA's metric set: every column x100, as MMSA's tables, and the header says so.
    expect(csv.out.split('\n')[0]).toBe('Model,Dataset,Seeds,Has0_acc_2 (x100),Has0_F1_score (x100),Non0_acc_2 (x100),Non0_F1_score (x100),Mult_acc_5 (x100),Mult_acc_7 (x100),MAE (x100),Corr (x100),Loss (x100)');
    const json = JSON.parse((await run(['compare', rootDir, '--format', 'json'])).out) as { rows: unknown[] };
    expect(json.rows).toHaveLength(1);
    expect((await run(['compare', tmp()])).code).toBe(1);
  });

  it('watch replays events.ndjson through the plain and ndjson reporters', async () => {
    const d = copyRun(tmp());
    const plain = await run(['watch', d]);
    expect(plain.code).toBe(0);
    expect(plain.out.split('\n').filter((l) => /^epoch +\d\/3/.test(l))).toHaveLength(3);
    expect(plain.out).not.toMatch(/\x1b/);
    // No summary beside the seed's directory: the replay ends on the seed's own result.
    expect(plain.out).not.toMatch(/mean \+- std/);
    const nd = await run(['watch', d, '--reporter', 'ndjson']);
    expect(nd.out).toBe(readFileSync(join(d, 'events.ndjson'), 'utf8'));
  });

  it('watch ends on the mean +- std table when the run wrote its summary', async () => {
    const rootDir = tmp();
    const d = copyRun(rootDir);
    const results = JSON.parse(readFileSync(join(d, 'results.json'), 'utf8')) as { test: Record<string, number> };
    const aggregate = Object.fromEntries(Object.entries(results.test).map(([k, v]) => [k, { mean: v, std: 0, cell: [Math.round(v * 10000) / 100, 0] }]));
    writeFileSync(join(rootDir, 'demo_self_mm', 'f252c80cade1-summary.json'), JSON.stringify({ pipeline: 'demo_self_mm', specHash: 'f252c80cade1', seeds: [1111], results: [], aggregate }));
    const plain = await run(['watch', d]);
    expect(plain.code).toBe(0);
    expect(plain.out).toMatch(/demo_self_mm: test results over 1 seed \(1111\), x100, mean \+- std/);
    expect(plain.out).toMatch(/MAE\s+\d+\.\d\d \+- 0\.00/);
  });

  it('watch --follow reads a live run until it ends', async () => {
    // Owned by this (live) process, as a run in progress is.
    const d = copyRun(tmp(), 'demo_self_mm', 'f252c80cade1-1111', (m) => Object.assign(m, { status: 'running', owner: currentOwner(), heartbeatAt: new Date().toISOString() }));
    const all = readFileSync(join(d, 'events.ndjson'), 'utf8');
    const lines = all.split('\n');
    const cut = Math.floor(lines.length / 2);
    writeFileSync(join(d, 'events.ndjson'), `${lines.slice(0, cut).join('\n')}\n`);
    const io = captureIo(root);
    const p = main(['watch', d, '--interval', '20'], io);
    await new Promise((r) => setTimeout(r, 100));
    expect(io.stdout()).not.toMatch(/best epoch/);
    writeFileSync(join(d, 'events.ndjson'), all);
    expect(await p).toBe(0);
    expect(io.stdout()).toMatch(/seed 1111: best epoch 3 of 3/);
  });
});

describe('end to end under a pseudo-terminal', () => {
  it('`mmsa run` shows the TUI and ends on the results table', (ctx) => {
    const hasScript = spawnSync('sh', ['-c', 'command -v script'], { encoding: 'utf8' }).status === 0;
    if (!hasScript || !existsSync(join(root, 'dist/cli/main.js'))) {
      ctx.skip('needs util-linux `script` and a build (dist/); skipped');
      return;
    }
    const out = tmp();
    mkdirSync(out, { recursive: true });
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', NO_COLOR: '1' };
    delete env['CI'];
    delete env['CONTINUOUS_INTEGRATION'];
    const cmd = `stty cols 110 rows 40; node bin/mmsa.js run pipelines/demo_self_mm.yaml --max-epochs 2 --out ${out}`;
    const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    const screen = stripAnsi(r.stdout);
    // the TUI (not plain lines): progress bar frames, then the final results table
    expect(screen).toMatch(/epoch 1\/2 \[[#-]+\] \d+\/16 batches/);
    expect(screen).toMatch(nativeDisabled ? /demo_self_mm\s+synthetic-mosi\s+backend wasm\s+seed 1111 \(1 of 1\)/ : /demo_self_mm\s+synthetic-mosi\s+backend wasm \+ native (avx512|avx2|generic) x\d+\s+seed 1111 \(1 of 1\)/);
    expect(screen).toMatch(/demo_self_mm: test over 1 seed \(1111\), x100, mean \+- std/);
    expect(screen).toMatch(/Corr\s+\d+\.\d\d \+- 0\.00/);
    expect(screen).not.toMatch(/\x1b\[3\dm/);
    // what the run now records for `mmsa report`: test predictions and ULGM label histograms
    const runDir = readdirSync(join(out, 'demo_self_mm')).find((d) => d.endsWith('-1111'))!;
    const data = loadRun(join(out, 'demo_self_mm', runDir));
    expect(data.predictions).toHaveLength(64);
    expect(data.predictions!.every((p) => Number.isFinite(p.prediction) && p.label !== null)).toBe(true);
    expect(data.events.find((e) => e.kind === 'eval.end' && e.split === 'test')).toMatchObject({ predictionsFile: join(out, 'demo_self_mm', runDir, 'predictions.csv') });
    expect(labelHistograms(data).map((h) => h.epoch)).toEqual([1, 2]);
    // task.update names the task's type, so reporters find its view without the lock file
    expect(data.events.filter((e) => e.kind === 'task.update').map((e) => e.kind === 'task.update' && e.type)).toEqual(['ulgm', 'ulgm']);
    for (const h of labelHistograms(data)) for (const c of Object.values(h.counts)) expect(c.reduce((a, b) => a + b, 0)).toBe(256);
  });
});
