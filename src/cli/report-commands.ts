// `mmsa watch`, `mmsa report`, `mmsa compare`, `mmsa init`, and the reporter choice of `mmsa run` (TUI on a terminal).
// Exit codes: 0 ok, 1 failed (also: the watched run died), 2 usage, 74 output not writable. Phase 8; never loads tfjs.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { MmsaError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { makeEvent, type AggregateCell, type RunEndSummaryEvent, type RunEvent, type SeedResult } from '../runtime/events.js';
import { readJson, readManifest, writeFileAtomic } from '../runtime/run-dir.js';
import { describeRunState, judgeRun } from '../runtime/run-liveness.js';
import { chooseReporter, createReporter, type ReporterChoice, type TerminalFacts } from '../report/choose-reporter.js';
import { collectSeedRuns, compareRuns, formatCsv, formatJson, formatMarkdown } from '../report/compare.js';
import { isRunDirectory, loadRun, parseEvents } from '../report/run-data.js';
import { componentsOfRun, runPlotsOf, viewPlot } from '../report/views.js';
import type { Reporter } from '../report/plain-reporter.js';
import { failed, usage } from './exit.js';
import type { Io } from './main.js';
import { DATASET_CHOICES, MODEL_CHOICES, PLOT_CHOICES, TUNE_PLOTS } from './options.js';

type Opts = Record<string, unknown>;


const facts = (io: Io): TerminalFacts => ({ isTTY: io.isTTY && io.terminal !== undefined, env: io.env });

async function makeReporter(requested: unknown, io: Io): Promise<Reporter> {
  const name = chooseReporter(requested as ReporterChoice | undefined, facts(io));
  return createReporter(name, { out: io.out, err: io.err, ...(io.terminal ? { stdout: io.terminal.stdout, ...(io.terminal.stderr ? { stderr: io.terminal.stderr } : {}) } : {}) }, facts(io));
}

/**
 * `mmsa run [FILE...] [-m MODEL -d DATASET]` with the reporter chosen here (the TUI on a terminal, plain lines
 * otherwise, or NDJSON): on a queue all seeds of all specs go out together; locally the specs run one after another.
 */
export async function runWithReporter(files: string[], o: Opts, io: Io): Promise<number> {
  const { runCommand } = await import('./run-commands.js');
  const name = chooseReporter(o['reporter'] as ReporterChoice | undefined, facts(io));
  const { reporter: _r, ...rest } = o;
  if (o['queue']) {
    const { runQueueCommand } = await import('./queue-commands.js');
    return runQueueCommand(files, rest, io, await makeReporter(name, io));
  }
  // No file: the spec comes from -m/-d (or the command says what it needs).
  for (const file of files.length > 0 ? files : [undefined]) {
    const code = name !== 'tui' ? await runCommand(file, { ...rest, reporter: name }, io) : await runCommand(file, { ...rest, reporter: await makeReporter('tui', io) }, io);
    // A failure or Ctrl-C stops the list: the later files would meet the same cause (or the user wants out).
    if (code !== 0) return code;
  }
  return 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function watchCommand(runDir: string, o: Opts, io: Io): Promise<number> {
  const dir = resolve(io.cwd, runDir);
  const interval = Number(o['interval'] ?? 250);
  if (!Number.isFinite(interval) || interval <= 0) return usage(io, `--interval expects a positive number of milliseconds, got '${String(o['interval'])}'`);
  const path = join(dir, 'events.ndjson');
  if (!existsSync(path)) {
    return failed(io, new MmsaError('MSA6710', `${dir} has no events.ndjson`, { hint: 'pass a run directory made by `mmsa run`, e.g. runs/<pipeline>/<hash>-<seed>' }));
  }
  const reporter = await makeReporter(o['reporter'], io);
  const follow = Boolean(o['follow']) || readManifest(dir)?.status === 'running';
  /** A run marked running whose owner is gone never ends by itself: say so instead of waiting forever. */
  const died = (): MmsaError | undefined => {
    const m = readManifest(dir);
    const j = m ? judgeRun(m) : undefined;
    if (!m || j?.state !== 'dead') return undefined;
    return new MmsaError('MSA6742', `run ${dir} died without finishing: ${j.why}`, {
      hint: `train it again with \`${m.command.length > 0 ? m.command.join(' ') : 'mmsa run <spec>'}\` (the same spec and seed replace the dead run)`,
      details: { path: dir },
    });
  };
  let ended = false;
  let errored = false;
  const feed = (events: RunEvent[]) => {
    for (const e of events) {
      reporter.onEvent(e);
      if (e.kind === 'run.end' || e.kind === 'run.error') ended = true;
      if (e.kind === 'run.error') errored = true;
    }
  };
  // A seed's events end at its own result; the mean +- std table over the seeds is in the summary beside it.
  const summary = (): void => {
    const m = readManifest(dir);
    const file = m ? join(dirname(dir), `${m.specHash}-summary.json`) : undefined;
    if (!file || !existsSync(file) || errored) return;
    const sum = readJson<{ pipeline: string; specHash: string; seeds: number[]; results: SeedResult[]; aggregate: Record<string, AggregateCell> }>(file);
    reporter.onEvent(makeEvent<RunEndSummaryEvent>({ kind: 'run.end', runId: `${sum.specHash}-summary`, scope: 'summary', status: 'completed', pipeline: sum.pipeline, seeds: sum.seeds, results: sum.results, aggregate: sum.aggregate, summaryPath: file }));
  };
  try {
    if (!follow) {
      feed(parseEvents(readFileSync(path, 'utf8')).events);
      summary();
      const dead = ended ? undefined : died();
      if (dead) return failed(io, dead);
      return errored ? 1 : 0;
    }
    // Follow: read whole lines past the last offset; a partial last line waits for the next poll.
    let offset = 0;
    let pending = '';
    for (;;) {
      const buf = readFileSync(path);
      if (buf.length > offset) {
        pending += buf.subarray(offset).toString('utf8');
        offset = buf.length;
        const cut = pending.lastIndexOf('\n');
        if (cut >= 0) {
          feed(parseEvents(pending.slice(0, cut + 1)).events);
          pending = pending.slice(cut + 1);
        }
      }
      if (ended) break;
      const status = readManifest(dir)?.status;
      if (status !== undefined && status !== 'running' && statSync(path).size === offset) break;
      if (status === 'running' && statSync(path).size === offset) {
        const dead = died();
        if (dead) return failed(io, dead);
      }
      await sleep(interval);
    }
    summary();
    return errored ? 1 : 0;
  } finally {
    reporter.close?.();
  }
}

/** Run directories named by the arguments: a run directory itself, or a directory holding them (runs/<pipeline>). */
export function expandRunDirs(args: string[], cwd: string): string[] {
  const out: string[] = [];
  for (const a of args) {
    const d = resolve(cwd, a);
    if (isRunDirectory(d)) {
      out.push(d);
      continue;
    }
    const kids = existsSync(d) && statSync(d).isDirectory() ? readdirSync(d).sort().map((c) => join(d, c)).filter(isRunDirectory) : [];
    if (kids.length === 0) {
      throw new MmsaError('MSA6710', `${a} is not a run directory and holds none`, { hint: 'pass runs/<pipeline>/<hash>-<seed> (made by `mmsa run`) or runs/<pipeline>' });
    }
    out.push(...kids);
  }
  return [...new Set(out)];
}

export async function reportCommand(args: string[], o: Opts, io: Io): Promise<number> {
  const format = (o['format'] as string | undefined) ?? 'html';
  const plot = (o['plot'] as string | undefined) ?? 'loss';
  if (!PLOT_CHOICES.includes(plot)) return usage(io, `--plot must be one of ${PLOT_CHOICES.join(', ')}, got '${plot}'`);
  let epoch: number | undefined;
  if (o['epoch'] !== undefined) {
    epoch = Number(o['epoch']);
    if (!Number.isInteger(epoch) || epoch < 1) return usage(io, `--epoch expects a positive integer, got '${String(o['epoch'])}'`);
  }
  try {
    // Search directories of `mmsa tune` are reported as searches; everything else as runs.
    const { isTuneDirectory, loadTune } = await import('../report/tune-data.js');
    const tuneArgs = args.filter((a) => isTuneDirectory(resolve(io.cwd, a)));
    const tunes = tuneArgs.map((a) => loadTune(resolve(io.cwd, a)));
    const dirs: string[] = [];
    for (const a of args.filter((x) => !tuneArgs.includes(x))) {
      const d = resolve(io.cwd, a);
      const held = isRunDirectory(d) || !existsSync(d) || !statSync(d).isDirectory() ? [] : readdirSync(d).sort().map((c) => join(d, c)).filter(isTuneDirectory);
      if (held.length === 0) {
        dirs.push(...expandRunDirs([a], io.cwd));
        continue;
      }
      // A directory of runs (runs/<pipeline>) holding searches: each search is reported as one, and the run
      // directories of its trials are left to it (a search of 50 trials is one section, not 50).
      const searches = held.map(loadTune);
      tunes.push(...searches);
      const trialDirs = new Set(searches.flatMap((t) => t.trials.flatMap((x) => (x.seeds ?? []).map((s) => resolve(dirname(dirname(t.dir)), s.runDir)))));
      dirs.push(...readdirSync(d).sort().map((c) => join(d, c)).filter((c) => isRunDirectory(c) && !trialDirs.has(c)));
    }
    const runs = [...new Set(dirs)].map(loadRun);
    for (const r of runs) {
      if (r.manifest && r.manifest.status === 'running') io.err(`note: ${r.dir} ${describeRunState(r.manifest)}\n`);
    }
    // Vega, Vega-Lite and resvg load only for `mmsa report` (not for run, watch or compare, which share this module).
    const { plotSpecs, renderHtmlReport } = await import('../report/html-report.js');
    if (format === 'png' && tunes.length > 0) {
      const t = tunes[0]!;
      if (tunes.length + runs.length > 1) io.err(`note: --format png draws one plot; using ${t.dir}\n`);
      // --plot defaults to a run's first plot (loss); a search's first plot is its trials.
      const which = plot === 'loss' ? 'trials' : plot;
      if (which !== 'trials' && which !== 'params') return usage(io, `--plot ${plot} is a plot of a run; a search has: ${TUNE_PLOTS.join(', ')}`);
      const { tuneParamsSpec, tuneTrialsSpec } = await import('../report/plot/vega-specs.js');
      const spec = which === 'trials' ? tuneTrialsSpec(t) : tuneParamsSpec(t);
      if (!spec) throw new MmsaError('MSA6722', `cannot draw plot '${which}' of ${t.dir}: no trial has finished yet`, { hint: 'run `mmsa tune` until a trial finishes' });
      const out = resolve(io.cwd, (o['out'] as string | undefined) ?? join(t.dir, `${which}.png`));
      const { renderPng } = await import('../report/plot/render.js');
      writeFileAtomic(out, await renderPng(spec), { what: 'the plot', elsewhere: 'pass another -o' });
      io.err(`wrote ${out}\n`);
      return 0;
    }
    if (format === 'png') {
      if ((TUNE_PLOTS as readonly string[]).includes(plot)) return usage(io, `--plot ${plot} is a plot of a search: pass its directory (runs/<pipeline>/tune-<hash>)`);
      const run = runs[0]!;
      if (runs.length > 1) io.err(`note: --format png draws one plot; using ${run.dir}\n`);
      const view = viewPlot(plot);
      const ep = view?.plot.epoch ? (epoch ?? view.plot.epoch.last(run)) : undefined;
      const spec = plotSpecs(run, plot, ep)[0];
      if (!spec) {
        const why: Record<string, string> = {
          loss: 'it has no finished epochs in events.ndjson',
          metrics: 'it has no finished epochs in events.ndjson',
          scatter: run.predictions?.some((p) => p.probabilities) ? 'it is a classification run (see --plot confusion)' : 'it has no predictions.csv (written after the test evaluation)',
          confusion: run.predictions ? 'it is not a classification run (predictions.csv has no class probabilities)' : 'it has no predictions.csv (written after the test evaluation)',
          robustness: 'it has no robustness.json (written by `mmsa evaluate RUN_DIR --missing ... / --noise ...`)',
        };
        const [kind, type] = view?.component.split('/') ?? [];
        const reason = !view ? why[plot] : componentsOfRun(run).has(view.component) ? view.plot.missing(run, epoch) : `it has no ${type} ${kind} (the ${plot} plot is drawn from its run data)`;
        throw new MmsaError('MSA6722', `cannot draw plot '${plot}' of ${run.dir}: ${reason}`, { hint: `plots of this run: ${runPlotsOf(run).join(', ')}` });
      }
      const out = resolve(io.cwd, (o['out'] as string | undefined) ?? join(run.dir, `${plot}.png`));
      const { renderPng } = await import('../report/plot/render.js');
      writeFileAtomic(out, await renderPng(spec), { what: 'the plot', elsewhere: 'pass another -o' });
      io.err(`wrote ${out}\n`);
      return 0;
    }
    // One directory argument (a run, or runs/<pipeline> holding its seeds): the report goes into it, as --help says.
    const out = resolve(io.cwd, (o['out'] as string | undefined) ?? (args.length === 1 ? join(resolve(io.cwd, args[0]!), 'report.html') : 'mmsa-report.html'));
    const title = o['title'] as string | undefined;
    writeFileAtomic(out, await renderHtmlReport(runs, { ...(title ? { title } : {}), generatedAt: new Date().toISOString(), tunes }), { what: 'the report', elsewhere: 'pass another -o' });
    const what = [tunes.length ? `${tunes.length} search${tunes.length === 1 ? '' : 'es'}` : '', runs.length || !tunes.length ? `${runs.length} run${runs.length === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ');
    io.err(`wrote ${out} (${what})\n`);
    return 0;
  } catch (e) {
    return failed(io, e);
  }
}

export async function compareCommand(args: string[], o: Opts, io: Io): Promise<number> {
  const format = (o['format'] as string | undefined) ?? 'markdown';
  try {
    const { runs, skipped, why } = collectSeedRuns(args, io.cwd);
    for (const s of skipped) io.err(`note: skipped ${s} (not a completed run: ${why[s] ?? 'unknown state'})\n`);
    if (runs.length === 0) throw new MmsaError('MSA6720', 'no completed runs to compare', { hint: 'finish a run with `mmsa run`, then pass its directory or runs/' });
    const c = compareRuns(runs, o['sort'] as string | undefined);
    const text = format === 'csv' ? formatCsv(c) : format === 'json' ? formatJson(c) : formatMarkdown(c);
    if (o['out']) {
      const out = resolve(io.cwd, o['out'] as string);
      writeFileAtomic(out, text, { what: 'the comparison', elsewhere: 'pass another -o' });
      io.err(`wrote ${out}\n`);
    } else io.out(text);
    return 0;
  } catch (e) {
    return failed(io, e);
  }
}

export async function initCommand(o: Opts, io: Io): Promise<number> {
  const dataset = (o['dataset'] as string | undefined) ?? 'synthetic';
  const model = (o['model'] as string | undefined) ?? 'self_mm';
  if (!MODEL_CHOICES.includes(model)) return usage(io, `--model must be one of ${MODEL_CHOICES.join(', ')}, got '${model}'`);
  // Anything that is not a dataset name is a feature file: the starter comes from its contents.
  if (!DATASET_CHOICES.includes(dataset)) {
    if (/^[a-z0-9_]+$/.test(dataset) && !existsSync(resolve(io.cwd, dataset))) return usage(io, `--dataset must be one of ${DATASET_CHOICES.join(', ')} or a feature file, got '${dataset}'`);
    return (await import('./data-build-commands.js')).initFromFileCommand(dataset, o, io);
  }
  const template = dataset === 'synthetic' ? `demo_${model}.yaml` : `${model}_${dataset}.yaml`;
  const src = join(packageRoot(), 'pipelines', template);
  const out = resolve(io.cwd, (o['out'] as string | undefined) ?? (dataset === 'synthetic' ? `${model}_demo.yaml` : `${model}_${dataset}.yaml`));
  try {
    if (!existsSync(src)) {
      // MMSA configures some models for some datasets only (BERT-MAG: no SIMS v2): name the ones that ship.
      const shipped = DATASET_CHOICES.filter((d) => d !== 'synthetic' && existsSync(join(packageRoot(), 'pipelines', `${model}_${d}.yaml`)));
      const hint = shipped.length > 0 && dataset !== 'synthetic' ? `MMSA configures ${model} for ${shipped.join(', ')}: pick one of those, or --dataset synthetic for its demo` : 'reinstall mmsa';
      throw new MmsaError('MSA6723', `no template for model '${model}' on '${dataset}' (${template} is not in the package)`, { hint });
    }
    if (existsSync(out) && !o['force']) throw new MmsaError('MSA6724', `${out} exists`, { hint: 'pass --force to overwrite it, or -o to write elsewhere' });
    const head =
      `# Starter pipeline from \`mmsa init --model ${model} --dataset ${dataset}\` (a copy of pipelines/${template}).\n` +
      `# Check it with \`mmsa check ${basename(out)}\`, see the model with \`mmsa plan ${basename(out)}\`, train with \`mmsa run ${basename(out)}\`.\n`;
    writeFileAtomic(out, head + readFileSync(src, 'utf8'));
    io.out(`wrote ${out}\n`);
    return 0;
  } catch (e) {
    return failed(io, e);
  }
}
