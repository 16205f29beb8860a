// `mmsa import` end to end on checkpoints MMSA's own code trained and saved (test/fixtures/mmsa-checkpoints): for every
// paper model and dataset config, import + predict reproduce MMSA's own predictions from the same checkpoint; the run
// directory is accepted by predict and report; mismatches are listed at once and nothing is written.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { packageRoot } from '../../src/paths.js';
import type { RunManifest } from '../../src/runtime/run-dir.js';
import { captureIo } from './io.js';

const root = packageRoot();
const fixtures = join(root, 'test/fixtures/mmsa-checkpoints');
const work = mkdtempSync(join(tmpdir(), 'mmsa-import-'));
// Training-step cases (`step_of`) hold no checkpoint of their own: they start from the case they name.
const CASES = (JSON.parse(readFileSync(join(fixtures, 'cases.json'), 'utf8')) as { cases: { name: string; legacy?: boolean; step_of?: string }[] }).cases.filter((c) => !c.step_of);

interface Expected {
  ids: string[];
  preds: number[];
  labels: number[];
  checkpoint_sha256: string;
  state_dict: Record<string, number[]>;
}

const expectedOf = (c: string) => JSON.parse(readFileSync(join(fixtures, c, 'expected.json'), 'utf8')) as Expected;
const env = { ...process.env, NO_COLOR: '1', MMSA_NATIVE: process.env['MMSA_NATIVE'] ?? 'auto' };

/** A pipeline extending a fixture case's, written in the scratch directory (the data paths made absolute). */
function child(c: string, data: string, body: string): string {
  const f = join(work, `${c}-${Math.random().toString(36).slice(2)}.yaml`);
  const d = join(fixtures, 'data');
  writeFileSync(f, `version: 1\nextends: ${join(fixtures, c, 'pipeline.yaml')}\ndataset: {path: ${join(d, `${data}.pkl`)}, manifest: ${join(d, `${data}.dataset.yaml`)}}\n${body}`);
  return f;
}

async function run(args: string[]) {
  const io = captureIo(root, env);
  const code = await main(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

async function importCase(c: string, file = 'checkpoint.pth', extra: string[] = [], name = `${c}-${file}`) {
  const out = join(work, name);
  const r = await run(['import', join(fixtures, c, file), '--pipeline', join(fixtures, c, 'pipeline.yaml'), '--out', out, ...extra]);
  return { ...r, dir: out };
}

async function predictions(dir: string): Promise<Map<string, number>> {
  const f = join(dir, 'predict.json');
  const r = await run(['predict', dir, '--out', f]);
  expect(r.code, r.err).toBe(0);
  const rows = JSON.parse(readFileSync(f, 'utf8')) as { id: string; prediction: number; label: number | null }[];
  return new Map(rows.map((x) => [x.id, x.prediction]));
}

function expectParity(got: ReadonlyMap<string, number>, e: Expected): void {
  expect([...got.keys()].sort()).toEqual([...e.ids].sort());
  let worst = 0;
  e.ids.forEach((id, i) => (worst = Math.max(worst, Math.abs(got.get(id)! - e.preds[i]!))));
  expect(worst).toBeLessThan(1e-4);
}

/** Graph-MFN's node networks are in no MMSA checkpoint: its cases export them beside it (tools/make-mmsa-checkpoints.py). */
const extraOf = (c: string): string | undefined => (existsSync(join(fixtures, c, 'node-networks.pth')) ? join(fixtures, c, 'node-networks.pth') : undefined);

describe('import + predict reproduce MMSA from the same checkpoint', () => {
  it.each(CASES.map((c) => c.name))('%s', async (c) => {
    const e = expectedOf(c);
    // A constant prediction would make the comparison weak: the checkpoints are trained, their outputs vary.
    const mean = e.preds.reduce((a, b) => a + b, 0) / e.preds.length;
    expect(Math.sqrt(e.preds.reduce((a, b) => a + (b - mean) ** 2, 0) / e.preds.length)).toBeGreaterThan(1e-4);
    const extra = extraOf(c);
    const r = await importCase(c, 'checkpoint.pth', extra ? ['--extra-tensors', extra] : []);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`(torch.save zip, ${Object.keys(e.state_dict).length} tensors`);
    expect(r.out).toMatch(/\ntest: {2}Has0_acc_2|\ntest: {2}/);
    const manifest = JSON.parse(readFileSync(join(r.dir, 'manifest.json'), 'utf8')) as RunManifest;
    expect(manifest.status).toBe('completed');
    expect(manifest.imported).toMatchObject({ from: 'mmsa', file: join(fixtures, c, 'checkpoint.pth'), sha256: e.checkpoint_sha256, format: 'zip', tensors: Object.keys(e.state_dict).length });
    expect(manifest.imported?.extraTensors !== undefined).toBe(extra !== undefined);
    expectParity(await predictions(r.dir), e);
    // The import evaluated the test split as a run does: its predictions.csv holds the same numbers.
    const csv = readFileSync(join(r.dir, 'predictions.csv'), 'utf8').trim().split('\n').slice(1);
    expectParity(new Map(csv.map((l) => [l.slice(0, l.indexOf(',')), Number(l.split(',')[1])])), e);
  });

  it.each(CASES.filter((c) => c.legacy).map((c) => c.name))('%s from the legacy (non-zip) file', async (c) => {
    const r = await importCase(c, 'checkpoint.legacy.pth');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('(torch.save legacy,');
    expectParity(await predictions(r.dir), expectedOf(c));
  });
});

describe('CENET: what the parity sees, what the import skips', () => {
  it.each(['cenet_mosi', 'cenet_sims'])('%s', async (c) => {
    // MMSA's own predictions from the same checkpoint with CE skipped are far from the real ones: matching within 1e-4
    // needs CE right, not only BERT and the head.
    const e = expectedOf(c) as Expected & { preds_without_ce: number[] };
    expect(Math.max(...e.preds.map((p, i) => Math.abs(p - e.preds_without_ce[i]!)))).toBeGreaterThan(0.1);
    const r = await importCase(c, 'checkpoint.pth', ['--no-eval'], `${c}-report`);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/Model\.bert\.encoder +-> encoders\.text\.encoder +54 tensors/);
    for (const t of ['senti_embeddings', 'pos_tag_embeddings', 'polarity_embeddings']) expect(r.out).toContain(`skipped Model.bert.embeddings.${t}.weight`);
  });
});

describe('Graph-MFN: node networks MMSA never saves', () => {
  it('imports what is saved, says what is not, and differs from MMSA until the node networks are given', async () => {
    const c = 'graph_mfn_mosi';
    const r = await importCase(c, 'checkpoint.pth', ['--format', 'json'], 'graph-plain');
    expect(r.code, r.err).toBe(0);
    const j = JSON.parse(r.out) as { tensors: unknown[]; initialValues: { mmsa: string; name: string }[] };
    expect(j.tensors).toHaveLength(Object.keys(expectedOf(c).state_dict).length);
    // Four node networks of two Linears (weight and bias) each.
    expect(j.initialValues).toHaveLength(16);
    expect(j.initialValues).toContainEqual({ mmsa: 'Model.graph_mfn.networks.0_1_2.1.0.weight', name: 'fusion.dfg.networks.0_1_2.1.0.weight', shape: [5, 100] });
    const text = await importCase(c, 'checkpoint.pth', ['--no-eval'], 'graph-plain-text');
    expect(text.out).toContain('note: 16 tensors of fusion are in no MMSA checkpoint');
    // MMSA's predictions used other (random, unsaved) node networks: without them the import cannot reproduce them.
    const got = await predictions(r.dir);
    const e = expectedOf(c);
    expect(Math.max(...e.ids.map((id, i) => Math.abs(got.get(id)! - e.preds[i]!)))).toBeGreaterThan(1e-5);
  });

  it('refuses an extra tensors file that repeats checkpoint tensors', async () => {
    const c = 'graph_mfn_mosi';
    const r = await importCase(c, 'checkpoint.pth', ['--extra-tensors', join(fixtures, c, 'checkpoint.pth')], 'graph-repeat');
    expect(r.code).toBe(1);
    expect(r.err).toContain('MSA6830');
    expect(r.err).toContain('repeats 44 tensors');
    expect(existsSync(r.dir)).toBe(false);
  });
});

describe('MCTN: the paper behaviour by default, MMSA\'s as an option, from the same checkpoint', () => {
  const mctn = JSON.parse(readFileSync(join(fixtures, 'mctn_mosi', 'expected.json'), 'utf8')) as Expected & { preds_time_major: number[] };

  it('over time (the default) it gives what MMSA\'s own modules give when fed time-major tensors', async () => {
    const f = child('mctn_mosi', 'mosi-aligned', [
      'fusion: {type: cyclic_translation, inputs: [text, vision, audio], batch_as_time: false}',
      'heads:\n  M: {type: lstm_attention, input: fusion, batch_as_time: false}',
      'train: {eval_batch_size: 5}',
    ].join('\n') + '\n');
    const out = join(work, 'mctn-time');
    const r = await run(['import', join(fixtures, 'mctn_mosi', 'checkpoint.pth'), '--pipeline', f, '--out', out]);
    expect(r.code, r.err).toBe(0);
    // Each sample on its own: any batch size gives the same predictions.
    expectParity(await predictions(out), { ...mctn, preds: mctn.preds_time_major });
    const gap = Math.max(...mctn.preds.map((p, i) => Math.abs(p - mctn.preds_time_major[i]!)));
    expect(gap).toBeGreaterThan(1e-3);
  });

  it('along the batch axis (MMSA) a prediction depends on the batch it is in', async () => {
    const f = child('mctn_mosi', 'mosi-aligned', 'train: {eval_batch_size: 5}\n');
    const out = join(work, 'mctn-batch5');
    const r = await run(['import', join(fixtures, 'mctn_mosi', 'checkpoint.pth'), '--pipeline', f, '--out', out, '--no-eval']);
    expect(r.code, r.err).toBe(0);
    const got = await predictions(out);
    const gap = Math.max(...mctn.ids.map((id, i) => Math.abs(got.get(id)! - mctn.preds[i]!)));
    expect(gap).toBeGreaterThan(1e-3);
  });
});

describe('the imported run directory', () => {
  it('is accepted by report; --no-eval leaves the evaluation to predict', async () => {
    const r = await importCase('lmf_sims', 'checkpoint.pth', ['--no-eval'], 'no-eval');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('not evaluated: not asked for (--no-eval)');
    expect(existsSync(join(r.dir, 'results.json'))).toBe(false);
    expectParity(await predictions(r.dir), expectedOf('lmf_sims'));
    const names = JSON.parse(readFileSync(join(r.dir, 'import.json'), 'utf8')) as { tensors: { mmsa: string; name: string }[] };
    expect(names.tensors).toContainEqual({ mmsa: 'Model.video_factor', name: 'fusion.vision_factor', shape: [4, 5, 1] });

    const full = await importCase('self_mm_sims', 'checkpoint.pth', [], 'for-report');
    expect(full.code, full.err).toBe(0);
    expect(full.out).toContain("note: mmsa_modules entry 'encoders.text' (Model.text_model) names no parameter of this pipeline");
    const html = join(work, 'report.html');
    const rep = await run(['report', full.dir, '-o', html]);
    expect(rep.code, rep.err).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('Imported from the MMSA checkpoint');
    expect(page).toContain(expectedOf('self_mm_sims').checkpoint_sha256);
  });

  it('refuses to overwrite a directory unless --force; --format json gives the name table', async () => {
    const first = await importCase('ef_lstm_mosei', 'checkpoint.pth', ['--no-eval'], 'twice');
    expect(first.code).toBe(0);
    const again = await importCase('ef_lstm_mosei', 'checkpoint.pth', ['--no-eval'], 'twice');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/error MSA6831: .*twice exists\n {2}help: pass --force/);
    const forced = await importCase('ef_lstm_mosei', 'checkpoint.pth', ['--no-eval', '--force', '--format', 'json'], 'twice');
    expect(forced.code, forced.err).toBe(0);
    const j = JSON.parse(forced.out) as { tensors: { mmsa: string; name: string; shape: number[] }[]; notEvaluated: string };
    expect(j.tensors).toContainEqual({ mmsa: 'Model.norm.running_mean', name: 'fusion.norm.running_mean', shape: [6] });
    expect(j.tensors).toContainEqual({ mmsa: 'Model.lstm.weight_ih_l1', name: 'fusion.lstm.weight_ih_l1', shape: [32, 8] });
    expect(j.tensors.length).toBe(Object.keys(expectedOf('ef_lstm_mosei').state_dict).length);
  });

  it('without the dataset file the weights are still imported, with the reason they were not evaluated', async () => {
    const spec = join(work, 'no-data.yaml');
    writeFileSync(spec, `version: 1\nextends: ${join(fixtures, 'tfn_mosi/pipeline.yaml')}\ndataset: {path: ${join(work, 'absent.pkl')}, manifest: ${join(fixtures, 'data/mosi.dataset.yaml')}}\n`);
    const out = join(work, 'no-data');
    const r = await run(['import', join(fixtures, 'tfn_mosi/checkpoint.pth'), '--pipeline', spec, '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/not evaluated: the dataset cannot be read \(MSA6020: .*absent\.pkl\)/);
    expect(existsSync(join(out, 'checkpoint', 'weights.bin'))).toBe(true);
    expect(existsSync(join(out, 'results.json'))).toBe(false);
  });

  it('needs --pipeline (usage error)', async () => {
    const r = await run(['import', join(fixtures, 'tfn_mosi/checkpoint.pth')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('mmsa import needs --pipeline <spec>');
  });
});

describe('a checkpoint that does not fit: every problem at once, nothing written', () => {
  it('another model: shapes and unexpected tensors', async () => {
    const out = join(work, 'wrong-model');
    const r = await run(['import', join(fixtures, 'tfn_mosi/checkpoint.pth'), '--pipeline', join(fixtures, 'lf_dnn_mosi/pipeline.yaml'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('error MSA6830: ');
    expect(r.err).toContain('does not fit');
    expect(r.err).toContain(': 3 tensors with another shape, 2 unexpected tensors; nothing was imported');
    expect(r.err).toContain('  shape       Model.text_subnet.linear_1.weight is [4, 8] in the checkpoint, encoders.text.linear_1.weight needs [8, 8]');
    expect(r.err).toContain('  shape       Model.post_fusion_layer_1.weight is [8, 125] in the checkpoint, heads.M.layers.0.weight needs [8, 16]');
    expect(r.err).toContain('  unexpected  Model.output_range [1]');
    expect(r.err).toContain('help: the checkpoint and the pipeline describe different models');
    expect(existsSync(out)).toBe(false);
  });

  it('a misnamed module: missing and unexpected, each with did-you-mean', async () => {
    const spec = child('lmf_mosi', 'mosi', 'mmsa_modules:\n  fusion.vision_factor: Model.vision_factor\n');
    const r = await run(['import', join(fixtures, 'lmf_mosi/checkpoint.pth'), '--pipeline', spec, '--out', join(work, 'misnamed')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("  missing     Model.vision_factor [3, 5, 1] (for fusion.vision_factor); did you mean 'Model.video_factor'?");
    expect(r.err).toContain("  unexpected  Model.video_factor [3, 5, 1]; did you mean 'Model.vision_factor'?");
  });

  it('a Self-MM checkpoint without text_model tensors and a fine-tuned BERT: the fix is finetune: false', async () => {
    const spec = child('self_mm_mosi', 'mosi', 'encoders:\n  text: {type: bert, finetune: true, config: {num_hidden_layers: 1, intermediate_size: 64, vocab_size: 100}}\n');
    const r = await run(['import', join(fixtures, 'self_mm_mosi/checkpoint.pth'), '--pipeline', spec, '--out', join(work, 'finetune')]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(': 23 missing tensors; nothing was imported');
    expect(r.err).toContain('  missing     Model.text_model.model.embeddings.word_embeddings.weight [100, 32] (for encoders.text.embeddings.word_embeddings.weight)');
    expect(r.err).toContain("help: the checkpoint has no tensors under Model.text_model, where encoders.text's 23 parameters belong: if the model was trained on precomputed text features, set `finetune: false` on encoders.text");
  });
});

describe("TETFN: the unimodal heads and MMSA's batch-dependent positions, from the same checkpoint", () => {
  type TetfnExpected = Expected & { preds_T: number[]; preds_A: number[]; preds_V: number[]; batch_size: number };
  /** The case's pipeline with `body` added, written beside the scratch files (data and BERT paths made absolute). */
  function tetfnChild(c: string, data: string, body: string): string {
    return child(c, data, `encoders:\n  bert: {type: bert, pretrained: ${join(root, 'test/fixtures/hf-bert/small-bert')}}\n${body}`);
  }

  it.each([['tetfn_mosi', 'mosi-aligned'], ['tetfn_sims', 'sims']])('%s: the T, A and V heads reproduce MMSA\'s', async (c, data) => {
    const e = expectedOf(c) as TetfnExpected;
    for (const h of ['T', 'A', 'V'] as const) {
      const out = join(work, `${c}-head-${h}`);
      const r = await run(['import', join(fixtures, c, 'checkpoint.pth'), '--pipeline', tetfnChild(c, data, `eval: {head: ${h}}\n`), '--out', out, '--no-eval']);
      expect(r.code, r.err).toBe(0);
      expectParity(await predictions(out), { ...e, preds: e[`preds_${h}`] });
    }
  });

  it("numbering the upper encoders' key positions by step instead of MMSA's time-major order misses MMSA's predictions", async () => {
    const c = 'tetfn_mosi';
    const e = expectedOf(c) as TetfnExpected;
    const f = tetfnChild(c, 'mosi-aligned', 'fusion:\n  type: crossmodal\n  text_enhanced: {via: text, upper_source_positions: steps}\n');
    const out = join(work, 'tetfn-steps');
    const r = await run(['import', join(fixtures, c, 'checkpoint.pth'), '--pipeline', f, '--out', out, '--no-eval']);
    expect(r.code, r.err).toBe(0);
    const got = await predictions(out);
    expect(Math.max(...e.ids.map((id, i) => Math.abs(got.get(id)! - e.preds[i]!)))).toBeGreaterThan(1e-3);
  });
});

describe("TFR-Net: MMSA's missing positions and the alignment's map, from the same checkpoint", () => {
  const c = 'tfr_net_mosi';
  /** The case's pipeline with `body` added (data and BERT paths made absolute). */
  const tfrChild = (body: string): string =>
    child(c, 'mosi-tokens', `encoders:\n  bert: {type: bert, pretrained: ${join(root, 'test/fixtures/hf-bert/small-bert')}}\n${body}`);
  async function worstMiss(f: string, name: string): Promise<number> {
    const out = join(work, name);
    const r = await run(['import', join(fixtures, c, 'checkpoint.pth'), '--pipeline', f, '--out', out, '--no-eval']);
    expect(r.code, r.err).toBe(0);
    const got = await predictions(out);
    const e = expectedOf(c);
    return Math.max(...e.ids.map((id, i) => Math.abs(got.get(id)! - e.preds[i]!)));
  }

  it('two same-shaped cross-modal transformers swapped in mmsa_modules: the import fits, the predictions miss', async () => {
    const f = tfrChild(
      'mmsa_modules:\n  encoders.align.text_with_audio: Model.align_subnet.Model.trans_l_with_v\n  encoders.align.text_with_vision: Model.align_subnet.Model.trans_l_with_a\n',
    );
    expect(await worstMiss(f, 'tfr-swapped')).toBeGreaterThan(1e-3);
  });

  it("positions dropped with another missing_seed than MMSA's loader used miss MMSA's predictions", async () => {
    const m = (x: string, feature: string, lengths: boolean) =>
      `  ${x}_m: {feature: ${feature}${lengths ? ', lengths: null' : ''}, missing: {rate: 0.2, seed: 1112}}\n`;
    const f = tfrChild(`modalities:\n${m('text', 'text_bert', false)}${m('audio', 'audio', true)}${m('vision', 'vision', true)}`);
    expect(await worstMiss(f, 'tfr-seed')).toBeGreaterThan(1e-3);
  });
});
