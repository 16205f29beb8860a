// Writes a randomly initialised BERT in Hugging Face's layout (config.json, model.safetensors, vocab.txt), so the real
// shapes (bert-base: 110M parameters) can be trained and measured offline without downloading weights. Benchmarks and
// tests use it; the values follow BERT's init, not any pretrained model. Phase 7 (execute) tooling.
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../random.js';
import { bertParamShapes, BERT_CONFIG_DEFAULTS, type BertModelConfig } from '../nn/bert/config.js';

/**
 * Writes `dir` with config.json (the given architecture on top of bert-base-uncased's), model.safetensors (float32,
 * names `bert.<local>` as BertForPreTraining saves them; weights normal(0, initializer_range), LayerNorm 1, biases 0)
 * and a vocab.txt of placeholder word pieces. Tensors are written one by one: memory stays at the largest tensor.
 */
export function writeRandomBertCheckpoint(dir: string, config: Partial<BertModelConfig> = {}, seed = 1): BertModelConfig {
  const c: BertModelConfig = { ...BERT_CONFIG_DEFAULTS, ...config };
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), `${JSON.stringify({ architectures: ['BertModel'], model_type: 'bert', ...c }, null, 2)}\n`);
  const shapes = [...bertParamShapes(c)];
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, shape] of shapes) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    header[`bert.${name}`] = { dtype: 'F32', shape, data_offsets: [off, off + bytes] };
    off += bytes;
  }
  let json = JSON.stringify(header);
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const fd = openSync(path.join(dir, 'model.safetensors'), 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    writeSync(fd, len);
    writeSync(fd, json);
    const rng = new Rng(seed);
    for (const [name, shape] of shapes) {
      const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
      if (name.endsWith('LayerNorm.weight')) v.fill(1);
      else if (!name.endsWith('.bias')) for (let i = 0; i < v.length; i++) v[i] = c.initializer_range * rng.normal();
      writeSync(fd, new Uint8Array(v.buffer));
    }
  } finally {
    closeSync(fd);
  }
  const special: Record<number, string> = { 0: '[PAD]', 100: '[UNK]', 101: '[CLS]', 102: '[SEP]', 103: '[MASK]' };
  const vocab = Array.from({ length: c.vocab_size }, (_, i) => special[i] ?? `[unused${i}]`);
  writeFileSync(path.join(dir, 'vocab.txt'), `${vocab.join('\n')}\n`);
  return c;
}
