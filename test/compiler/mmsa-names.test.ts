// MMSA names of pipeline parameters (`mmsa_modules` in the model presets + each component's own names): every
// parameter of every shipped paper config has exactly one MMSA name and every tensor of MMSA's state_dict for that
// config (made by MMSA's own models, test/fixtures/mmsa-checkpoints/state-dict-keys.json) exactly one parameter, with
// the same shape.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../src/components/catalog.js';
import { compileFile } from '../../src/compiler/compile.js';
import { isIgnoredMmsaName, mapMmsaNames, renameLocal } from '../../src/compiler/ir/mmsa-names.js';
import { packageRoot } from '../../src/paths.js';

const root = packageRoot();
const KEYS = JSON.parse(readFileSync(join(root, 'test/fixtures/mmsa-checkpoints/state-dict-keys.json'), 'utf8')) as Record<string, Record<string, number[]>>;
const ALL = ['mosi', 'mosei', 'sims', 'simsv2'];
/** Each model with the dataset configs MMSA ships for it (config/config_regression.json). */
const MODELS: Record<string, string[]> = {
  self_mm: ALL, tfn: ALL, lmf: ALL, lf_dnn: ALL, ef_lstm: ALL, mfn: ALL, graph_mfn: ALL, mlf_dnn: ['sims', 'simsv2'], mtfn: ['sims', 'simsv2'], mlmf: ['sims', 'simsv2'], mctn: ['mosi'], mult: ALL, misa: ALL,
  mfm: ['mosi', 'mosei', 'sims'], almt: ['mosi', 'mosei', 'sims'], mmim: ['mosi', 'mosei', 'sims'], tetfn: ALL,
  // MMSA's own TFR-Net cannot be built for SIMS (num_temporal_head 25 divides neither 39 tokens nor 55 frames).
  tfr_net: ['mosi', 'mosei'],
};

function compiled(path: string) {
  const r = compileFile(path, { env: {} });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { ir: r.ir!, modules: r.spec!.mmsa_modules, ignore: r.spec!.mmsa_ignore };
}

/** MMSA's BertTextEncoder keeps a transformers BertModel as `model`; its names are BertModel's own. */
const BERTS: Record<string, string> = { self_mm: 'Model.text_model.model.', misa: 'Model.bertmodel.model.', almt: 'Model.bertmodel.model.', mmim: 'Model.bertmodel.model.', tetfn: 'Model.text_model.model.', tfr_net: 'Model.text_model.model.' };
const BERT = BERTS['self_mm']!;

describe('paper configs: one MMSA name per parameter and one parameter per MMSA tensor', () => {
  for (const [m, datasets] of Object.entries(MODELS)) {
    for (const d of datasets) {
      it(`${m}_${d}`, () => {
        const { ir, modules, ignore } = compiled(join(root, 'pipelines', `${m}_${d}.yaml`));
        const naming = mapMmsaNames(ir, modules, ignore);
        const bert = BERTS[m] ?? BERT;
        expect(naming.clashes).toEqual([]);
        expect(naming.unused).toEqual([]);
        expect(naming.names.filter((n) => n.mmsa === undefined).map((n) => n.key)).toEqual([]);
        const ours = new Map<string, number[]>();
        // Graph-MFN's node networks are in no MMSA state_dict (declared by the component): 16 tensors for 3 inputs.
        expect(naming.names.filter((n) => n.unsaved).length).toBe(m === 'graph_mfn' ? 16 : 0);
        for (const n of naming.names) {
          if (n.unsaved) continue;
          if (n.mmsa!.startsWith(bert)) expect(n.mmsa).toBe(`${bert}${n.key.slice('encoders.text.'.length)}`);
          else ours.set(n.mmsa!, n.shape);
        }
        const theirs = KEYS[`${m}_${d}`]!;
        // MMSA's aliases of shared modules (MCTN's seq2seq1 is encoder1 + decoder1) are skipped, not matched; tensors the
        // components declare as no parameters here (MulT's encoders' `version` buffers, MCTN's aliases) must exist there.
        // MISA's unused modules (mmsa_ignore) must exist there too.
        const aliases = Object.keys(theirs).filter((k) => isIgnoredMmsaName(naming, k));
        for (const k of naming.ignored) if (!k.startsWith(bert)) expect(theirs, k).toHaveProperty([k]);
        for (const mod of naming.ignoredModules) expect(Object.keys(theirs).some((k) => k.startsWith(`${mod}.`)), mod).toBe(true);
        if (m === 'misa') expect(aliases.sort()).toEqual(['Model.sp_discriminator.sp_discriminator_layer_1.bias', 'Model.sp_discriminator.sp_discriminator_layer_1.weight', 'Model.tlayer_norm.bias', 'Model.tlayer_norm.weight']);
        expect([...ours.keys()].sort()).toEqual(Object.keys(theirs).filter((k) => !isIgnoredMmsaName(naming, k)).sort());
        if (m === 'mctn') expect(aliases.length).toBe(46);
        // MFM's embedded MFN keeps the output Linears MFN builds; MFM never calls them.
        if (m === 'mfm') expect(aliases.sort()).toEqual(['bias', 'weight'].flatMap((w) => [`Model.mfn_encoder.out_fc1.${w}`, `Model.mfn_encoder.out_fc2.${w}`]).sort());
        for (const [k, shape] of ours) expect(shape, k).toEqual(theirs[k]);
        if (['self_mm', 'misa', 'almt', 'mmim', 'tetfn', 'tfr_net'].includes(m)) expect(naming.names.filter((n) => n.mmsa!.startsWith(bert)).length).toBe(199);
      });
    }
  }

  it('Self-MM with a frozen BERT on the precomputed features maps onto MMSA Self-MM without text_model tensors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsa-names-'));
    const f = join(dir, 'frozen.yaml');
    writeFileSync(f, `version: 1\nextends: ${join(root, 'pipelines/self_mm_mosi.yaml')}\nencoders:\n  text: {type: bert, pretrained: bert-base-uncased, finetune: false}\n`);
    const { ir, modules } = compiled(f);
    const naming = mapMmsaNames(ir, modules);
    expect(naming.unused).toEqual(['encoders.text']);
    const ours = Object.fromEntries(naming.names.map((n) => [n.mmsa!, n.shape]));
    expect(ours).toEqual(KEYS['self_mm_mosi']);
  });
});

describe('how names are composed', () => {
  it('a sub-module entry names it whole; a node entry adds the component renames below it', () => {
    const { ir } = compiled(join(root, 'pipelines/self_mm_mosi.yaml'));
    const naming = mapMmsaNames(ir, { 'encoders.audio': 'Net.a', 'encoders.audio.linear': 'Net.proj', 'heads.M': 'Net.head' });
    const by = Object.fromEntries(naming.names.filter((n) => n.mmsa).map((n) => [n.key, n.mmsa]));
    expect(by['encoders.audio.lstm.weight_ih_l0']).toBe('Net.a.rnn.weight_ih_l0');
    expect(by['encoders.audio.linear.bias']).toBe('Net.proj.bias');
    expect(by['heads.M.layers.1.weight']).toBe('Net.head.layers.1.weight');
    expect(naming.names.find((n) => n.key === 'encoders.vision.linear.weight')!.mmsa).toBeUndefined();
    expect(naming.ignored).toEqual(new Set());
  });

  it('ignored names follow the node, and two parameters given one name are reported', () => {
    const { ir } = compiled(join(root, 'pipelines/self_mm_mosi.yaml'));
    const naming = mapMmsaNames(ir, { 'encoders.text': 'T', 'heads.A.out': 'X', 'heads.V.out': 'X', 'heads.Q': 'Y' });
    expect(naming.ignored).toEqual(new Set(['T.model.embeddings.position_ids']));
    expect(naming.clashes).toEqual([
      { mmsa: 'X.weight', keys: ['heads.A.out.weight', 'heads.V.out.weight'] },
      { mmsa: 'X.bias', keys: ['heads.A.out.bias', 'heads.V.out.bias'] },
    ]);
    expect(naming.unused).toEqual(['heads.Q']);
  });

  it('renames match whole segments, the longest first', () => {
    const names = { rename: { a: 'x', 'a.b': 'y' } };
    expect(renameLocal('a.b.weight', names)).toBe('y.weight');
    expect(renameLocal('a.c', names)).toBe('x.c');
    expect(renameLocal('ab.c', names)).toBe('ab.c');
    expect(renameLocal('a', names)).toBe('x');
  });

  it("every component rename names one of the component's sub-modules", () => {
    for (const def of CATALOG.filter((c) => c.mmsaNames?.rename)) {
      const locals = (def.examples ?? []).flatMap((k) => def.paramNames!(k.params));
      for (const from of Object.keys(def.mmsaNames!.rename!)) {
        expect(locals.some((l) => l === from || l.startsWith(`${from}.`)), `${def.type}: ${from}`).toBe(true);
      }
    }
  });
});
