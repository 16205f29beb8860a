// Plain-text reporter: one readable line per epoch, one per finished seed, and the final mean +- std table.
// Phase 8 (report): reads RunEvents only.

import type { AggregateCell, RunEvent } from '../runtime/events.js';
import { aggregateScale, formatCell } from './table-scale.js';

export interface Reporter {
  onEvent(e: RunEvent): void;
  close?(): void;
}

export interface PlainReporterOptions {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Valid metrics shown per epoch (default: every key, Loss first). */
  metrics?: string[];
}

const fmt = (x: number | undefined, d = 4): string => (x === undefined || x === null || !Number.isFinite(x) ? 'nan' : x.toFixed(d));

export function createPlainReporter(o: PlainReporterOptions): Reporter {
  let epochsMax: number | null = null;
  return {
    onEvent(e) {
      switch (e.kind) {
        case 'run.start': {
          epochsMax = e.epochsMax;
          const n = e.dataset.n;
          if (e.recovered) o.err(`note: ${e.recovered}\n`);
          o.out(
            `${e.pipeline} seed ${e.seed} (${e.seedIndex + 1}/${e.seedCount}): ${e.dataset.name} [${e.dataset.source}] ` +
              `${n.train}/${n.valid}/${n.test} samples, ${e.stepsPerEpoch} steps/epoch, ${e.params.trainable} trainable params, backend ${e.backend}` +
              `${e.runDir ? `\n  run dir ${e.runDir}` : ''}\n`,
          );
          break;
        }
        case 'data.load':
          // One line when the data is ready (CI logs need no progress bar).
          if (e.done) o.out(`data: ${e.file}${e.totalBytes ? ` (${(e.totalBytes / 2 ** 20).toFixed(1)} MiB)` : ''} ready in ${e.seconds.toFixed(1)}s\n`);
          break;
        case 'epoch.end': {
          const m = e.valid.metrics;
          const keys = o.metrics ?? Object.keys(m).filter((k) => k !== 'Loss');
          const cells = keys.map((k) => `${k} ${fmt(m[k])}`).join('  ');
          const ep = epochsMax ? `${e.epoch}/${epochsMax}` : `${e.epoch}`;
          o.out(
            `epoch ${ep.padStart(5)}  train ${fmt(e.trainLoss)}  valid Loss ${fmt(e.valid.loss)}  ${cells}` +
              `  ${e.improved ? '* best' : `best ${e.select.bestEpoch}, patience ${e.patienceLeft}`}  (${e.seconds.toFixed(1)}s)\n`,
          );
          break;
        }
        case 'run.end': {
          if (e.scope === 'seed') {
            if (e.status === 'interrupted') {
              o.err(`seed ${e.seed}: interrupted after ${e.epochs} epoch${e.epochs === 1 ? '' : 's'} (best epoch ${e.bestEpoch})${e.runDir ? `; ${e.runDir}` : ''}\n`);
              break;
            }
            const r = e.result;
            if (!r) break;
            const cells = Object.entries(r.test).map(([k, v]) => `${k} ${fmt(v)}`).join('  ');
            o.out(`seed ${e.seed}${e.reused ? ' (reused completed run, use --force to retrain)' : ''}: best epoch ${r.bestEpoch} of ${r.epochs}; test ${cells}${e.runDir ? `\n  ${e.runDir}` : ''}\n`);
          } else {
            o.out(formatSummaryTable(e.pipeline, e.seeds, e.aggregate));
            if (e.summaryPath) o.out(`summary: ${e.summaryPath}\n`);
          }
          break;
        }
        case 'run.error':
          o.err(`error ${e.code}: ${e.message}${e.hint ? `\n  help: ${e.hint}` : ''}\n`);
          break;
        default:
          break;
      }
    },
  };
}

/** Mean +- population std per metric over the seeds; x100 like MMSA's tables for MMSA's metric sets only. */
export function formatSummaryTable(pipeline: string, seeds: number[], aggregate: Record<string, AggregateCell>): string {
  const keys = Object.keys(aggregate);
  const scale = aggregateScale(aggregate);
  const w = Math.max(6, ...keys.map((k) => k.length));
  const lines = [`${pipeline}: test results over ${seeds.length} seed${seeds.length === 1 ? '' : 's'} (${seeds.join(', ')}), ${scale === 100 ? 'x100, ' : ''}mean +- std`];
  for (const k of keys) {
    const [m, s] = formatCell(aggregate[k]!.cell, scale).split(' +- ');
    lines.push(`  ${k.padEnd(w)}  ${m!.padStart(8)} +- ${s}`);
  }
  return `${lines.join('\n')}\n`;
}
