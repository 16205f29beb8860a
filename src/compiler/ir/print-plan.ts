// Prints the IR as stable, diff-able text for `mmsa plan`: nodes with tensor types and parameter counts,
// tasks with their hooks, parameter groups, the training schedule and totals. Phase 5-6 output.

import { relative } from 'node:path';
import { mapMmsaNames } from './mmsa-names.js';
import { formatType, paramSize, type Ir, type IrNode, type IrScheduler } from './types.js';

function fmtInt(n: number): string {
  return n.toLocaleString('en-US');
}

function fmtNum(n: number): string {
  if (n === 0) return '0';
  const a = Math.abs(n);
  if (a < 1e-3 || a >= 1e6) return n.toExponential().replace(/e\+?/, 'e').replace(/\.0+e/, 'e');
  return String(n);
}

function nodeParams(n: IrNode): { params: number; buffers: number } {
  let params = 0;
  let buffers = 0;
  for (const p of n.params) {
    if (p.buffer) buffers += paramSize(p);
    else params += paramSize(p);
  }
  return { params, buffers };
}

function pad(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}

export interface PlanOptions {
  /** Print file paths relative to this directory. */
  cwd?: string;
  /** List every parameter tensor under its node. */
  verbose?: boolean;
  /** The spec's `mmsa_modules`: with `verbose`, each parameter shows MMSA's state_dict name (what `mmsa import` maps). */
  mmsaModules?: Readonly<Record<string, string>>;
  /** Chunks per training batch as the memory plan resolves train.micro_batches (for the wasm heap); absent: the spec's. */
  microBatches?: number;
  /** With chunks: the heap a whole batch's evaluation would need and the heap's size, when it would not fit. */
  wholeEvaluation?: { needBytes: number; heapBytes: number };
  /** Chunks per evaluation batch of the commands that only evaluate (predict, evaluate, import); absent: microBatches. */
  evalMicroBatches?: number;
}

/** `plateau(valid loss min, factor 0.5, patience 2, threshold 1e-4 rel, cooldown 0, min_lr 0)`. */
export function formatScheduler(x: IrScheduler): string {
  switch (x.type) {
    case 'plateau':
      return `plateau(${x.split} ${x.metric} ${x.mode}, factor ${fmtNum(x.factor)}, patience ${x.patience}, threshold ${fmtNum(x.threshold)} ${x.thresholdMode}, cooldown ${x.cooldown}, min_lr ${fmtNum(x.minLr)}, eps ${fmtNum(x.eps)}), after each validation`;
    case 'step':
      return `step(every ${x.stepSize} epochs x ${fmtNum(x.gamma)})`;
    case 'cosine':
      return `${x.warmup > 0 ? `linear warm-up from 0 over ${x.warmup} epochs, then ` : ''}cosine(t_max ${x.tMax} epochs, eta_min ${fmtNum(x.etaMin)})`;
  }
}

export function printPlan(ir: Ir, opts: PlanOptions = {}): string {
  const rel = (p: string) => (opts.cwd ? relative(opts.cwd, p) || p : p);
  const L: string[] = [];
  const d = ir.dataset;
  L.push(`pipeline ${ir.pipeline}  (${rel(ir.file)})`);
  const where =
    d.source === 'synthetic'
      ? `synthetic, like ${String(d.synthetic?.['like'])}, seed ${String(d.synthetic?.['seed'])}`
      : d.source === 'manifest'
        ? `${d.name}/${d.file}  ${d.path}`
        : `custom  ${d.path ?? ''}`;
  L.push(`dataset  ${d.name}  (${where})`);
  const sizes = d.splits.train > 0 ? `train ${d.splits.train}, valid ${d.splits.valid}, test ${d.splits.test}` : 'split sizes from the file';
  L.push(`         ${sizes}; ${d.aligned ? 'aligned' : 'unaligned'}; ${d.task}${d.labelRange ? ` in [${d.labelRange.join(', ')}]` : ''}; labels ${Object.keys(d.labels).join(', ')}${d.language ? `; language ${d.language}` : ''}`);
  L.push('');
  L.push('nodes');
  const idW = Math.max(...ir.nodes.map((n) => n.id.length), 4);
  const mmsaName = new Map<string, string>();
  if (opts.verbose && opts.mmsaModules) for (const m of mapMmsaNames(ir, opts.mmsaModules).names) if (m.mmsa !== undefined) mmsaName.set(m.key, m.mmsa);
  for (const n of ir.nodes) {
    const { params, buffers } = nodeParams(n);
    const from = n.inputs.length ? ` <- ${n.inputs.join(', ')}` : '';
    L.push(`  ${pad(n.kind, 7)} ${pad(n.id, idW)}  ${n.summary}${from}`);
    const counts = n.kind === 'input' ? '' : `  params ${fmtInt(params)}${buffers ? ` (+${fmtInt(buffers)} buffer)` : ''}`;
    L.push(`  ${pad('', 7)} ${pad('', idW)}  -> ${formatType(n.output)}${counts}`);
    if (n.features) for (const [k, t] of Object.entries(n.features)) L.push(`  ${pad('', 7)} ${pad('', idW)}     feature ${k}: ${formatType(t)}`);
    if (opts.verbose) {
      for (const p of n.params) {
        const mmsa = mmsaName.get(`${n.id}.${p.name}`);
        L.push(`  ${pad('', 7)} ${pad('', idW)}     ${p.buffer ? 'buffer' : 'param '} ${p.name} [${p.shape.join(', ')}]${p.trainable ? '' : ' frozen'}${mmsa ? `  (MMSA ${mmsa})` : ''}`);
      }
    }
  }
  L.push('');
  L.push('tasks');
  for (const t of ir.tasks) {
    const reads = t.inputs ? `inputs ${t.inputs.join(', ')}` : `heads ${t.heads.join(', ')}`;
    const labels = t.targets.length > 0 ? `; labels ${t.targets.join(', ')}` : '';
    L.push(`  ${t.name}: ${t.summary}  ${reads}${labels}; weight ${fmtNum(t.weight)}${t.validLoss ? '; in validation loss' : ''}`);
    for (const h of t.hooks) L.push(`    hook ${h.when}${h.when === 'step' || h.fromEpoch > 1 ? ` from epoch ${h.fromEpoch}` : ''}: ${h.description}`);
  }
  L.push('');
  L.push('parameter groups');
  const sizeOf = new Map<string, number>();
  for (const n of ir.nodes) for (const p of n.params) sizeOf.set(`${n.id}.${p.name}`, paramSize(p));
  const count = (names: string[]) => names.reduce((a, n) => a + (sizeOf.get(n) ?? 0), 0);
  for (const g of ir.groups) {
    const state = g.trainable ? `lr ${fmtNum(g.lr)}, weight_decay ${fmtNum(g.weightDecay)}` : 'frozen (never updated)';
    L.push(`  ${g.name}: ${state}; ${fmtInt(count(g.params))} params in ${g.params.length} tensors`);
    if (g.noDecayParams.length) L.push(`    no decay: ${fmtInt(count(g.noDecayParams))} params in ${g.noDecayParams.length} tensors (weight_decay 0)`);
    const nodes = [...new Set([...g.params, ...g.noDecayParams].map((p) => ir.nodes.find((n) => p.startsWith(`${n.id}.`))?.id ?? '?'))];
    if (nodes.length) L.push(`    from ${nodes.join(', ')}`);
  }
  L.push('');
  const s = ir.schedule;
  L.push('schedule');
  L.push(`  batch ${s.batchSize} (eval ${s.evalBatchSize}); ${s.optimizer.type} betas [${s.optimizer.betas.join(', ')}] eps ${fmtNum(s.optimizer.eps)}`);
  if (s.gradAccumMode === 'step_every_batch') {
    L.push(`  gradient accumulation: gradients summed over windows of ${s.gradAccumSteps} batches; step after every batch on the window's sum, twice on its last (step_every_batch, as MMSA's TFR-Net trainer)`);
  } else if (s.gradAccumSteps > 1) {
    const how = s.gradAccumMode === 'reference'
      ? 'gradients summed, not averaged; the last (batches mod k) of each epoch are discarded, as in MMSA'
      : 'gradients averaged; the leftover batches of an epoch take a step';
    L.push(`  gradient accumulation: step every ${s.gradAccumSteps} batches (${s.gradAccumMode}: ${how})`);
  } else {
    L.push('  optimizer step every batch');
  }
  const chunks = opts.microBatches ?? (s.microBatches === 'auto' ? 1 : s.microBatches);
  if (chunks > 1) {
    const why = s.microBatches === 'auto' ? 'micro_batches auto: the fewest that fit the wasm heap' : 'train.micro_batches';
    L.push(`  micro-batches: each batch in ${chunks} chunks of at most ${Math.ceil(s.batchSize / chunks)} samples, forward and backward per chunk, losses weighted by their share of the batch, gradients summed: the same step as one batch of ${s.batchSize} (${why})`);
    const w = opts.wholeEvaluation;
    const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;
    const need = w ? `: a whole batch's would need ${gb(w.needBytes)} of the ${gb(w.heapBytes)} wasm heap` : '';
    const e = opts.evalMicroBatches ?? chunks;
    if (e === chunks) L.push(`  evaluation in the same chunks (validation, test, mmsa predict, evaluate and import)${need}`);
    else L.push(`  validation and test in the same chunks; mmsa predict, evaluate and import ${e === 1 ? 'score whole batches (their evaluation fits the wasm heap)' : `in ${e} chunks, the fewest whose evaluation fits the wasm heap`}${need}`);
  }
  if (s.clip) L.push(`  gradient clipping: ${s.clip.type} ${fmtNum(s.clip.max)}${s.clip.when === 'backward' ? ' after every backward' : ' before each step'}`);
  if (s.stagesDeclared) {
    L.push('  stages (in order, every epoch):');
    for (const st of s.stages) {
      const when = st.every === 'epoch' ? 'a pass of its own over the training data' : 'a step per batch';
      const extra = [
        ...(st.fraction !== undefined ? [`first ${fmtNum(st.fraction)} of the batches`] : []),
        ...(st.grads === 'all' ? ['gradients of every parameter (all clipped together)'] : []),
      ];
      L.push(`    ${st.name}: ${when}; groups ${st.groups.join(', ') || 'none'}; tasks ${st.tasks.join(', ') || 'none'}${extra.map((e) => `; ${e}`).join('')}`);
      if (st.scheduler) L.push(`      lr scheduler: ${formatScheduler(st.scheduler)}`);
    }
  } else if (s.stages[0]?.scheduler) {
    L.push(`  lr scheduler: ${formatScheduler(s.stages[0].scheduler)}`);
  }
  if (s.reinit) L.push(`  re-initialised: ${s.reinit.init} for the weight matrices of groups ${s.reinit.groups.join(', ')}`);
  if (s.initRng === 'torch') L.push('  initial weights: one torch.manual_seed(seed) stream in parameter-creation order (init_rng: torch)');
  if (s.shuffleRng === 'torch') L.push("  sample orders: torch DataLoader(shuffle=True) draws continuing that stream, train then valid each epoch, test last (shuffle_rng: torch)");
  L.push(`  epochs: until early stop${s.maxEpochs ? `, at most ${s.maxEpochs}` : ' (no maximum)'}`);
  L.push(`  early stop: ${s.earlyStop.split} ${s.earlyStop.metric} (${s.earlyStop.mode}), patience ${s.earlyStop.patience}, improvement >= ${fmtNum(s.earlyStop.minDelta)}`);
  L.push(`  model selection: best ${s.select.split} ${s.select.metric} (${s.select.mode}); best weights restored, then the test split is evaluated once`);
  L.push(`  evaluation: head ${s.evalHead}, metrics ${Array.isArray(s.metrics) ? s.metrics.join(', ') : s.metrics}, splits ${s.evalSplits.join(', ')}${s.shuffleEval ? '; eval loaders shuffled (validation loss = mean of batch means, as MMSA)' : ''}`);
  L.push(`  seeds: ${s.seeds.join(', ')}`);
  L.push('');
  L.push(`total parameters ${fmtInt(ir.totalParams)} (trainable ${fmtInt(ir.trainableParams)})`);
  return L.join('\n') + '\n';
}
