// Tuning presets (`tune: {preset: mmsa}` or `mmsa tune SPEC --preset mmsa`): the search section of a model, found by
// the model preset the pipeline extends, merged under the spec's own `tune:` (the spec's values win). Phase 3.

import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { DiagnosticBag } from '../compiler/diagnostics/diagnostic.js';
import { mergeTrees } from '../compiler/spec/extends.js';
import { getEntry, type SpecMap, type SpecNode } from '../compiler/spec/spec-tree.js';
import type { ParseResult } from '../compiler/syntax/yaml/parse-yaml.js';

export interface TunePresetContext {
  /** Files of the extends chain, entry first. */
  files: readonly string[];
  presetsDir: string;
  parseFile(path: string): ParseResult;
  /** A preset named on the command line (wins over `tune.preset`). */
  preset?: string;
}

/** Models that have a preset named `preset` (file names under presets/tune/<preset>/). */
export function tunePresetModels(presetsDir: string, preset: string): string[] {
  try {
    return readdirSync(join(presetsDir, 'tune', preset))
      .filter((f) => extname(f) === '.yaml')
      .map((f) => basename(f, '.yaml'))
      .sort();
  } catch {
    return [];
  }
}

/** Merges the named tuning preset's `tune:` under the spec's; reports MSA2112 when the pipeline has none. */
export function mergeTunePreset(tree: SpecNode, ctx: TunePresetContext, bag: DiagnosticBag): SpecNode {
  if (tree.kind !== 'map') return tree;
  const own = getEntry(tree, 'tune');
  const named = own?.value.kind === 'map' ? getEntry(own.value, 'preset') : undefined;
  const preset = ctx.preset ?? (named?.value.kind === 'scalar' && typeof named.value.value === 'string' ? named.value.value : undefined);
  if (!preset || !/^[a-z][a-z0-9_]*$/.test(preset)) return tree; // a malformed name is the schema's to report
  const span = named?.value.span ?? { ...tree.span, end: tree.span.start };
  const models = tunePresetModels(ctx.presetsDir, preset);
  if (models.length === 0) {
    bag.add('MSA2112', span, { preset, detail: `there is no preset of that name`, models: 'none' });
    return tree;
  }
  // The nearest model in the extends chain (the entry first): a pipeline extending lmf uses presets/tune/<preset>/lmf.yaml.
  const model = ctx.files.map((f) => basename(f, extname(f))).find((m) => models.includes(m));
  if (!model) {
    bag.add('MSA2112', span, { preset, detail: `it extends none of the models that have one`, models: models.join(', ') });
    return tree;
  }
  const file = join(ctx.presetsDir, 'tune', preset, `${model}.yaml`);
  if (!existsSync(file)) return tree;
  const parsed = ctx.parseFile(file);
  bag.push(...parsed.diagnostics);
  const section = parsed.tree?.kind === 'map' ? getEntry(parsed.tree, 'tune')?.value : undefined;
  if (!section) return tree;
  const merged = own ? mergeTrees(section, own.value, bag, 'tune') : section;
  // The preset is applied: drop its name so a trial or best.yaml does not apply it again.
  const out = merged.kind === 'map' ? { ...merged, entries: merged.entries.filter((e) => e.key !== 'preset') } : merged;
  const entries = own ? tree.entries.map((e) => (e === own ? { ...e, value: out } : e)) : [...tree.entries, { key: 'tune', keySpan: span, value: out }];
  return { ...tree, entries } satisfies SpecMap;
}
