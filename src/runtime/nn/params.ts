// ParamStore: every tf.Variable of a model, keyed like a PyTorch state_dict ("encoders.audio.rnn.weight_ih_l0"),
// with trainable/buffer flags and selection by path prefix / name pattern for optimizer groups. Phase 6 (lower) and 7.
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, Rng, sizeOf, type Initializer } from './init.js';
import { MmsaError } from '../../errors.js';
import { TorchRng, TorchRngUnsupported } from '../torch-rng.js';

/**
 * Where initial weights come from. 'mmsa': each parameter from its own stream seeded by (run seed, key), so a layer's
 * weights do not depend on the other layers. 'torch': one torch-compatible stream (torch.manual_seed(seed)) drawn in
 * creation order, which gives the reference's weights when the creation order is its module order.
 */
export type InitRng = 'mmsa' | 'torch';

export interface ParamEntry {
  /** Full state_dict key: `${path}.${name}` (just `name` when path is empty). */
  key: string;
  /** Module path, e.g. `encoders.audio.rnn`. */
  path: string;
  /** Local name, e.g. `weight_ih_l0`, `bias`, `running_mean`. */
  name: string;
  variable: tf.Variable;
  /** Receives gradients / optimizer updates. Buffers are never trainable. */
  trainable: boolean;
  /** Non-parameter state (BatchNorm running stats, TFN's output range scalars). */
  buffer: boolean;
  shape: number[];
}

export interface ParamQuery {
  /** Module path prefixes (matched on whole segments: `a.b` matches `a.b.c` and `a.b`, not `a.bc`). */
  prefix?: string | readonly string[];
  /** Keep keys that contain at least one of these substrings (BERT's no_decay = ['bias', 'LayerNorm.weight']). */
  nameIncludes?: readonly string[];
  /** Drop keys that contain any of these substrings. */
  nameExcludes?: readonly string[];
  /** Drop entries matched by this sub-query. */
  exclude?: ParamQuery;
  /** Include buffers (default false). */
  buffers?: boolean;
  /** Only trainable entries (default false: frozen parameters are still parameters). */
  trainableOnly?: boolean;
}

let storeCounter = 0;

export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p.length > 0).join('.');
}

export function matchesPrefix(key: string, prefix: string): boolean {
  return prefix === '' || key === prefix || key.startsWith(prefix + '.');
}

export class ParamStore {
  readonly seed: number;
  /** Distinguishes tf variable names of different stores (tfjs names are engine-global). */
  readonly id: number;
  private readonly byKey = new Map<string, ParamEntry>();
  private readonly byVarName = new Map<string, ParamEntry>();

  private readonly torchRng: TorchRng | undefined;

  constructor(opts: { seed: number; initRng?: InitRng }) {
    this.seed = opts.seed;
    this.id = storeCounter++;
    this.torchRng = opts.initRng === 'torch' ? new TorchRng(opts.seed) : undefined;
  }

  /**
   * Register a parameter. Its initial values come from an Rng seeded with deriveSeed(run seed, key), so they do not
   * depend on the order in which layers are created (with initRng 'torch': the next draws of the one torch stream).
   */
  param(path: string, name: string, shape: readonly number[], init: Initializer, opts: { trainable?: boolean } = {}): tf.Variable {
    return this.register(path, name, shape, init, opts.trainable ?? true, false);
  }

  /** Register a non-trainable buffer (never selected for optimizers unless asked). */
  buffer(path: string, name: string, shape: readonly number[], init: Initializer): tf.Variable {
    return this.register(path, name, shape, init, false, true);
  }

  private register(path: string, name: string, shape: readonly number[], init: Initializer, trainable: boolean, buffer: boolean): tf.Variable {
    const key = joinPath(path, name);
    if (this.byKey.has(key)) throw new Error(`parameter '${key}' is registered twice (two layers share the path '${path}')`);
    const values = this.initValues(key, shape, init);
    if (values.length !== sizeOf(shape)) throw new Error(`initialiser for '${key}' produced ${values.length} values for shape [${shape.join(', ')}]`);
    const varName = `mmsa${this.id}/${key}`;
    const variable = tf.tidy(() => tf.variable(tf.tensor(values, [...shape], 'float32'), trainable, varName));
    const entry: ParamEntry = { key, path, name, variable, trainable, buffer, shape: [...shape] };
    this.byKey.set(key, entry);
    this.byVarName.set(varName, entry);
    return variable;
  }

  private initValues(key: string, shape: readonly number[], init: Initializer): Float32Array {
    if (!this.torchRng) return init(shape, new Rng(deriveSeed(this.seed, key)));
    try {
      return init(shape, this.torchRng);
    } catch (e) {
      if (!(e instanceof TorchRngUnsupported)) throw e;
      throw new MmsaError('MSA5003', `train.init_rng 'torch' cannot initialise '${key}': ${e.message}`, {
        hint: "remove train.init_rng (or set it to 'mmsa') for this pipeline",
        details: { param: key },
      });
    }
  }

  /**
   * The torch stream after the draws of every parameter created so far (init_rng 'torch'; else undefined): MMSA's
   * process goes on drawing its loader seeds from it (train.shuffle_rng 'torch').
   */
  torchStream(): TorchRng | undefined {
    return this.torchRng;
  }

  entries(): ParamEntry[] {
    return [...this.byKey.values()];
  }

  entry(key: string): ParamEntry | undefined {
    return this.byKey.get(key);
  }

  get(key: string): tf.Variable {
    const e = this.byKey.get(key);
    if (!e) throw new Error(`no parameter '${key}'`);
    return e.variable;
  }

  /** Entry for a tf variable name (the keys of tf.variableGrads' result). */
  byVariableName(name: string): ParamEntry | undefined {
    return this.byVarName.get(name);
  }

  select(q: ParamQuery = {}): ParamEntry[] {
    return this.entries().filter((e) => matchesQuery(e, q));
  }

  /** Trainable variables, in registration order (the varList for tf.variableGrads). */
  trainableVariables(): tf.Variable[] {
    return this.entries().filter((e) => e.trainable).map((e) => e.variable);
  }

  /** Freeze / unfreeze parameters (buffers stay frozen). Mutates tf.Variable.trainable too. */
  setTrainable(q: ParamQuery, trainable: boolean): void {
    for (const e of this.select({ ...q, buffers: false })) {
      e.trainable = trainable;
      e.variable.trainable = trainable;
    }
  }

  numParams(opts: { trainableOnly?: boolean } = {}): number {
    return this.entries()
      .filter((e) => !e.buffer && (!opts.trainableOnly || e.trainable))
      .reduce((n, e) => n + sizeOf(e.shape), 0);
  }

  /** Current values keyed by state_dict key (copies, safe to keep). */
  stateDict(): Map<string, { shape: number[]; values: Float32Array }> {
    const out = new Map<string, { shape: number[]; values: Float32Array }>();
    for (const e of this.byKey.values()) out.set(e.key, { shape: [...e.shape], values: e.variable.dataSync() as Float32Array });
    return out;
  }

  /** Assign values by key; strict (default) requires exactly the registered keys with matching shapes. */
  loadStateDict(state: Map<string, { shape: readonly number[]; values: ArrayLike<number> }>, opts: { strict?: boolean } = {}): void {
    const strict = opts.strict ?? true;
    const problems: string[] = [];
    for (const [key, v] of state) {
      const e = this.byKey.get(key);
      if (!e) {
        if (strict) problems.push(`unexpected key '${key}'`);
        continue;
      }
      if (v.shape.length !== e.shape.length || v.shape.some((d, i) => d !== e.shape[i])) {
        problems.push(`'${key}': shape [${v.shape.join(', ')}] does not match the model's [${e.shape.join(', ')}]`);
        continue;
      }
    }
    if (strict) for (const key of this.byKey.keys()) if (!state.has(key)) problems.push(`missing key '${key}'`);
    if (problems.length > 0) throw new Error(`cannot load state dict: ${problems.join('; ')}`);
    for (const [key, v] of state) {
      const e = this.byKey.get(key);
      if (!e) continue;
      tf.tidy(() => e.variable.assign(tf.tensor(Float32Array.from(v.values), e.shape, 'float32')));
    }
  }

  dispose(): void {
    for (const e of this.byKey.values()) e.variable.dispose();
    this.byKey.clear();
    this.byVarName.clear();
  }
}

function matchesQuery(e: ParamEntry, q: ParamQuery): boolean {
  if (e.buffer && !q.buffers) return false;
  if (q.trainableOnly && !e.trainable) return false;
  if (q.prefix !== undefined) {
    const prefixes = typeof q.prefix === 'string' ? [q.prefix] : q.prefix;
    if (!prefixes.some((p) => matchesPrefix(e.key, p))) return false;
  }
  if (q.nameIncludes && !q.nameIncludes.some((s) => e.key.includes(s))) return false;
  if (q.nameExcludes && q.nameExcludes.some((s) => e.key.includes(s))) return false;
  if (q.exclude && matchesQuery(e, { buffers: true, ...q.exclude })) return false;
  return true;
}

/** Per-forward context: train/eval mode and the RNG that seeds dropout masks. */
export interface ForwardCtx {
  training: boolean;
  rng: Rng;
}

export function evalCtx(): ForwardCtx {
  return { training: false, rng: new Rng(0) };
}

export function trainCtx(seed: number): ForwardCtx {
  return { training: true, rng: new Rng(seed) };
}
