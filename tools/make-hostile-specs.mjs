// Writes the generated broken specs of test/fixtures/broken (inputs too long, too deep or too binary to write by
// hand): node tools/make-hostile-specs.mjs. The files are deterministic; rerunning rewrites them byte for byte.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const broken = resolve(dirname(fileURLToPath(import.meta.url)), '../test/fixtures/broken');
const tail = 'encoders:\n  audio: {type: subnet, hidden: 16}\n  vision: {type: subnet, hidden: 32}\n  text: {type: text_lstm, hidden: 64, out: 32}\n';

function write(name, data) {
  const p = join(broken, name);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data);
}

// 120 nested lists in the .mmsa language: the parser recurses per level, so depth is checked before parsing.
write('deep-nesting.mmsa', `# A value nested 120 levels deep (the limit is 100).\npipeline deep_nesting {\n  extends lf_dnn\n  dataset mosi\n  tags ${'['.repeat(120)}${']'.repeat(120)}\n}\n`);

// More than 1 MiB: data pasted into a description.
write('oversized-spec.yaml', `# Data pasted into a spec: the file is over 1 MiB.\nversion: 1\nextends: lf_dnn\ndataset: mosi\ndescription: ${'0.125 '.repeat(190000)}\n${tail}`);

// Saved as latin-1: the e-acute of "café" is the single byte 0xe9, which is not UTF-8.
write('invalid-utf8.yaml', Buffer.concat([
  Buffer.from('# Saved as latin-1 instead of UTF-8.\nversion: 1\nextends: lf_dnn\ndataset: mosi\ndescription: "caf'),
  Buffer.from([0xe9]),
  Buffer.from(` au lait"\n${tail}`),
]));

// A chain of 17 extends (the limit is 16 files).
const n = 17;
for (let i = 1; i < n; i++) {
  const next = i + 1 < n ? `extends: ./chain-${String(i + 1).padStart(2, '0')}.yaml\n` : 'extends: lf_dnn\n';
  write(`support/chain/chain-${String(i).padStart(2, '0')}.yaml`, `# Link ${i} of a long extends chain.\n${next}`);
}
write('extends-too-deep.yaml', `# The first of 17 files that each extend the next.\nversion: 1\nextends: ./support/chain/chain-01.yaml\ndataset: mosi\n${tail}`);
