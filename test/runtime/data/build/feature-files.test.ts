// Per-sample feature files of `mmsa data build`: .npy (numpy's own files where python3 has numpy, and our writer)
// and per-frame CSVs as OpenFace and openSMILE write them, with column selection; bad files are refused by name.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { thrown } from './thrown.js';
import { readFrameCsv } from '../../../../src/runtime/data/build/read-frame-csv.js';
import { readNpy } from '../../../../src/runtime/data/build/read-npy.js';
import { encodeNpy } from '../../../../src/runtime/data/build/write-npy.js';
import { hasPythonNumpy, runPython } from '../pickle/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsa-featfiles-'));


describe('.npy reader', () => {
  it('reads what our writer writes (2-D as frames x dims, 1-D as one frame)', () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => i * 0.5 - 2);
    const p = join(dir, 'own.npy');
    writeFileSync(p, encodeNpy(data, [3, 4]));
    const m = readNpy(p);
    expect([m.frames, m.dims]).toEqual([3, 4]);
    expect(Array.from(m.data)).toEqual(Array.from(data));
    writeFileSync(p, encodeNpy(Float32Array.of(1, 2, 3), [3]));
    expect([readNpy(p).frames, readNpy(p).dims]).toEqual([1, 3]);
  });

  it.runIf(hasPythonNumpy())('reads numpy.save files of every numeric dtype, byte order and memory order', () => {
    const code = `
import numpy as np, sys
d = sys.argv[1]
a = (np.arange(15, dtype=np.float64).reshape(5, 3) - 7) / 4
np.save(d + '/f4.npy', a.astype('<f4'))
np.save(d + '/f8be.npy', a.astype('>f8'))
np.save(d + '/f2.npy', a.astype('<f2'))
np.save(d + '/i8.npy', (a * 4).astype('<i8'))
np.save(d + '/u1.npy', (a * 4 + 7).astype('u1'))
np.save(d + '/b1.npy', a > 0)
np.save(d + '/fortran.npy', np.asfortranarray(a.astype('<f4')))
np.save(d + '/obj.npy', np.array([{'a': 1}], dtype=object), allow_pickle=True)
np.save(d + '/rec.npy', np.zeros(2, dtype=[('x', 'f4'), ('y', 'i4')]))
np.save(d + '/3d.npy', np.zeros((2, 2, 2), dtype='f4'))
np.lib.format.write_array(open(d + '/v2.npy', 'wb'), a.astype('<f4'), version=(2, 0))
`;
    runPython(code, [dir]);
    const want = Array.from({ length: 15 }, (_, i) => (i - 7) / 4);
    for (const f of ['f4', 'f8be', 'f2', 'fortran', 'v2']) {
      const m = readNpy(join(dir, `${f}.npy`));
      expect([f, m.frames, m.dims]).toEqual([f, 5, 3]);
      expect(Array.from(m.data)).toEqual(want);
    }
    expect(Array.from(readNpy(join(dir, 'i8.npy')).data)).toEqual(want.map((v) => v * 4));
    expect(Array.from(readNpy(join(dir, 'u1.npy')).data)).toEqual(want.map((v) => v * 4 + 7));
    expect(Array.from(readNpy(join(dir, 'b1.npy')).data)).toEqual(want.map((v) => (v > 0 ? 1 : 0)));
    const obj = thrown(() => readNpy(join(dir, 'obj.npy')));
    expect(obj.code).toBe('MSA6042');
    expect(obj.message).toContain('obj.npy');
    expect(obj.message).toContain('never loaded');
    expect(thrown(() => readNpy(join(dir, 'rec.npy'))).message).toContain('structured');
    expect(thrown(() => readNpy(join(dir, '3d.npy'))).message).toContain('not frames x dims');
  });

  it('refuses damaged files with the file and the reason', () => {
    const p = join(dir, 'bad.npy');
    writeFileSync(p, 'hello');
    expect(thrown(() => readNpy(p)).message).toContain('magic');
    const good = encodeNpy(Float32Array.of(1, 2, 3, 4), [2, 2]);
    writeFileSync(p, good.subarray(0, good.length - 3));
    const e = thrown(() => readNpy(p));
    expect(e.code).toBe('MSA6042');
    expect(e.message).toMatch(/bad\.npy.*truncated/);
    writeFileSync(p, Buffer.concat([good, Buffer.from([1, 2, 3, 4])]));
    expect(thrown(() => readNpy(p)).message).toContain('4 bytes follow the array data');
  });
});

describe('per-frame CSV reader', () => {
  const openface = [
    'frame, face_id, timestamp, confidence, success, AU01_r, AU02_r, AU01_c, gaze_angle_x',
    '1, 0, 0.000, 0.98, 1, 0.5, 1.5, 1, 0.1',
    '2, 0, 0.033, 0.97, 1, 0.25, 2.0, 0, -0.2',
    '3, 0, 0.067, 0.10, 0, 0, 0, 0, 0',
  ].join('\n');

  it("keeps every column but OpenFace's bookkeeping ones by default, in file order", () => {
    const m = readFrameCsv('of.csv', {}, openface);
    expect(m.columns).toEqual(['AU01_r', 'AU02_r', 'AU01_c', 'gaze_angle_x']);
    expect([m.frames, m.dims]).toEqual([3, 4]);
    expect(Array.from(m.data.subarray(0, 4))).toEqual([0.5, 1.5, 1, Math.fround(0.1)]);
  });

  it('selects columns by glob and drops excluded ones', () => {
    const m = readFrameCsv('of.csv', { columns: ['AU*_r', 'gaze_*'], exclude: ['AU02*'] }, openface);
    expect(m.columns).toEqual(['AU01_r', 'gaze_angle_x']);
    expect(Array.from(m.data)).toEqual([0.5, Math.fround(0.1), 0.25, Math.fround(-0.2), 0, 0]);
    const e = thrown(() => readFrameCsv('of.csv', { columns: ['pose_R*'] }, openface));
    expect(e.code).toBe('MSA6042');
    expect(e.message).toContain("no column matches 'pose_R*'");
    expect(e.hint).toContain('AU01_r');
  });

  it("reads openSMILE's ';' tables (name and frameTime left out) and names a non-numeric cell", () => {
    const smile = "name;frameTime;F0semitoneFrom27.5Hz_sma3nz;Loudness_sma3\n'unknown';0.00;20.5;0.75\n'unknown';0.01;nan;-inf\n";
    const m = readFrameCsv('s.csv', {}, smile);
    expect(m.columns).toEqual(['F0semitoneFrom27.5Hz_sma3nz', 'Loudness_sma3']);
    expect(Array.from(m.data)).toEqual([20.5, 0.75, NaN, -Infinity]);
    const e = thrown(() => readFrameCsv('s.csv', { columns: ['*'] }, smile));
    expect(e.message).toContain("s.csv: line 2, column 'name': ''unknown'' is not a number");
    expect(e.hint).toContain('--exclude MODALITY=name');
  });

  it('a row with the wrong number of fields is an error with the file', () => {
    const e = thrown(() => readFrameCsv('r.csv', {}, 'a,b\n1,2\n3\n'));
    expect(e.code).toBe('MSA6042');
    expect(e.message).toContain('r.csv: not a readable CSV table');
  });
});
