// Benchmark: overhead of the Ink TUI reporter on training. Runs the Self-MM demo (synthetic data) through `mmsa run`'s
// runCommand with the TUI drawing into a fake TTY stream, and with the plain reporter, alternating; prints wall
// times, the ratio, and the time spent inside TUI renders (the direct cost, free of run-to-run noise).
// Run: npx tsc -p tsconfig.build.json && node bench/tui.mjs     Env: BENCH_EPOCHS (default 6), BENCH_ROUNDS (5).
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from '../dist/cli/run-commands.js';
import { packageRoot } from '../dist/paths.js';
import { createTuiReporter } from '../dist/report/tui/tui-reporter.js';

const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 6);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

class FakeTty extends EventEmitter {
  isTTY = true;
  columns = 120;
  rows = 40;
  bytes = 0;
  write(s) {
    this.bytes += s.length;
    return true;
  }
}

async function once(kind) {
  const out = mkdtempSync(join(tmpdir(), 'mmsa-bench-tui-'));
  const tty = new FakeTty();
  const tui = kind === 'tui' ? createTuiReporter({ stdout: tty, color: true }) : undefined;
  let plainBytes = 0;
  const io = { out: (s) => (plainBytes += s.length), err: () => undefined, cwd: packageRoot(), env: {}, isTTY: false };
  const opts = { maxEpochs: EPOCHS, out, force: true, reporter: 'plain', ...(tui ? { onEvent: (e) => tui.onEvent(e) } : {}) };
  const quiet = tui ? { ...io, out: () => undefined } : io;
  const t0 = performance.now();
  const code = await runCommand('pipelines/demo_self_mm.yaml', opts, quiet);
  tui?.close();
  const ms = performance.now() - t0;
  rmSync(out, { recursive: true, force: true });
  if (code !== 0) throw new Error(`run failed with ${code}`);
  return { ms, renders: tui?.renders ?? 0, renderMs: tui?.renderMs ?? 0, bytes: tui ? tty.bytes : plainBytes };
}

await once('plain'); // warm-up: backend init, JIT
await once('tui'); // warm-up: React/Ink modules and JIT
const res = { tui: [], plain: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const k of r % 2 ? ['tui', 'plain'] : ['plain', 'tui']) res[k].push(await once(k));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const t = median(res.tui.map((x) => x.ms));
const p = median(res.plain.map((x) => x.ms));
const rm = median(res.tui.map((x) => x.renderMs));
const rn = median(res.tui.map((x) => x.renders));
console.log(`Self-MM demo, ${EPOCHS} epochs x 16 steps, ${ROUNDS} rounds, median wall time of the run`);
console.log(`  plain reporter: ${p.toFixed(0)} ms`);
console.log(`  TUI reporter:   ${t.toFixed(0)} ms   ratio TUI/plain ${(t / p).toFixed(3)}`);
console.log(`  TUI renders: ${rn} taking ${rm.toFixed(0)} ms in all (${(rm / rn).toFixed(2)} ms each, ${((100 * rm) / t).toFixed(1)}% of the run)`);
