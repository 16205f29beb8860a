// ULGM's own semantic check: the task maps every fused modality to a declared unimodal head, and its fusion head is a
// regression head on `fusion` that publishes its first hidden activation (ULGM's fusion feature). Phase 4 (check).

import { suggestionHint } from '../../../core/did-you-mean.js';
import type { UlgmTask } from '../../../compiler/spec/types.generated.js';
import type { RuleContext } from '../../../compiler/check/rule.js';
import { FUSION, declaredHere, entriesOf, getHead, getModality, has, modalities, modalitiesReadByFusion, writtenSpan } from '../../../compiler/check/spec-graph.js';
import type { ComponentCheckContext } from '../../component.js';

/** The named output of a head that ULGM stores and measures against class centres (Self-MM's Feature_m). */
export const ULGM_FEATURE = 'hidden0';

function checkModalities(ctx: RuleContext, key: string, task: UlgmTask): void {
  const declared = modalities(ctx.spec).map(([m]) => m);
  const map = entriesOf(task.heads);
  for (const [modality] of map) {
    if (getModality(ctx.spec, modality)) continue;
    const hint = suggestionHint(modality, declared, 'modalities declared');
    ctx.report('MSA3001', ctx.spanOf(['tasks', key, 'heads', modality], { key: true }), { what: 'modality', name: modality }, {
      ...(hint ? { hint } : {}),
      related: declared.length > 0 ? [declaredHere(ctx, ['modalities'], 'modalities are declared here')] : [],
    });
  }
  const mapped = new Set(map.map(([m]) => m));
  for (const modality of modalitiesReadByFusion(ctx.spec)) {
    if (mapped.has(modality) || !getModality(ctx.spec, modality)) continue;
    const where = has(task, 'heads') ? ctx.spanOf(['tasks', key, 'heads']) : ctx.spanOf(['tasks', key], { key: true });
    ctx.report('MSA3007', where, { modality }, {
      hint: `the fusion reads modality '${modality}'; add \`${modality}: <head>\` under \`tasks.${key}.heads\` with a regression head on its encoder`,
      related: [declaredHere(ctx, ['modalities', modality], `modality '${modality}' is declared here`)],
    });
  }
}

function checkFusionHead(ctx: ComponentCheckContext<UlgmTask>, key: string, task: UlgmTask): void {
  const name = task.fusion_head;
  // An undeclared fusion head is refs-resolve's MSA3001.
  if (typeof name !== 'string') return;
  const head = getHead(ctx.spec, name);
  if (!head) return;
  const related = [{ span: ctx.spanOf(['tasks', key, 'fusion_head']), message: `named as the fusion head of ulgm task '${key}' here` }];
  const def = ctx.componentOf('head', head);
  if (def && def.predicts !== 'regression') {
    ctx.report('MSA3008', ctx.spanOf(['heads', name, 'type']), { head: name, problem: `is a ${head.type} head; ulgm needs a regression head` }, { related });
  }
  if (head.input !== FUSION) {
    ctx.report('MSA3008', ctx.spanOf(['heads', name, 'input']), { head: name, problem: `reads '${String(head.input)}'; it must read 'fusion'` }, {
      hint: 'set `input: fusion`: ULGM takes its fusion features from this head',
      related,
    });
  }
  if (!def?.namedOutputs || def.namedOutputs(head).includes(ULGM_FEATURE)) return;
  if ('passthrough' in head && head.passthrough === true) {
    ctx.report('MSA3008', ctx.spanOf(['heads', name, 'passthrough']), { head: name, problem: 'is a passthrough head, so it has no hidden layer to give the fusion feature' }, {
      hint: 'remove `passthrough: true` and give the head a hidden layer (e.g. `hidden: [128]`)',
      related,
    });
  } else {
    const span = writtenSpan(ctx, ['heads', name, 'hidden']);
    ctx.report('MSA3008', span, { head: name, problem: 'has no hidden layer; its first hidden activation is the fusion feature ULGM needs' }, {
      hint: 'give the head a hidden layer (e.g. `hidden: [128]`)',
      related,
    });
  }
}

/**
 * ULGM generates regression labels (the human label moved by feature-centre distances), so it needs labels on a
 * scale: classes (binary or multiclass datasets) have none. Its range must be a real interval.
 */
function checkLabels(ctx: ComponentCheckContext<UlgmTask>, key: string, task: UlgmTask): void {
  const ds = ctx.dataset;
  const at = ctx.spanOf(['tasks', key, 'type']);
  if (ds && (ds.task === 'classification' || ds.numClasses !== undefined)) {
    const what = ds.numClasses === 2 ? 'binary labels' : ds.numClasses ? `${ds.numClasses} classes` : 'class labels';
    ctx.report('MSA3050', at, { task: key, why: `dataset '${ds.name}' has ${what} (task: classification), and ULGM generates regression labels` }, {
      related: [{ span: ctx.spanOf(['dataset']), message: `dataset '${ds.name}' is chosen here` }],
    });
    return;
  }
  if (task.H !== undefined && task.label_range !== undefined) {
    ctx.report('MSA3051', writtenSpan(ctx, ['tasks', key, 'label_range']), { task: key, problem: 'is given twice, by H and by label_range' }, { hint: 'keep H for MMSA\'s symmetric [-H, H], or label_range for another scale (e.g. [0, 24] for PHQ-8)' });
    return;
  }
  const r = task.label_range;
  if (r && !(r[0]! < r[1]!)) {
    ctx.report('MSA3051', writtenSpan(ctx, ['tasks', key, 'label_range']), { task: key, problem: `[${r.join(', ')}] is empty: the lower end must be below the upper` }, { hint: `write [low, high], e.g. [0, 24] for PHQ-8` });
  }
}

/** Phase 4 check of one ulgm task. */
export function checkUlgm(ctx: ComponentCheckContext<UlgmTask>): void {
  checkModalities(ctx, ctx.key, ctx.params);
  checkFusionHead(ctx, ctx.key, ctx.params);
  checkLabels(ctx, ctx.key, ctx.params);
}
