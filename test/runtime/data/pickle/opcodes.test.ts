// The opcode table against CPython's own (pickletools.opcodes): every name, byte and protocol agrees, and every
// byte the table names reaches a handler that either reads it or refuses it with a located MSA6003.

import { describe, expect, it } from 'vitest';
import { MmsaError } from '../../../../src/errors.js';
import { OPCODES, OPNAME_BY_BYTE, type OpName } from '../../../../src/runtime/data/pickle/opcodes.js';
import { parsePickleBytes } from '../../../../src/runtime/data/pickle/read-pickle.js';
import { hasPythonNumpy, runPython } from './helpers.js';

describe('opcode table', () => {
  it.skipIf(!hasPythonNumpy())('names every opcode of CPython pickletools with its byte and protocol', () => {
    const py = JSON.parse(runPython('import json, pickletools; print(json.dumps([[o.name, ord(o.code), o.proto] for o in pickletools.opcodes]))')) as [string, number, number][];
    const ours = Object.entries(OPCODES).map(([name, s]) => [name, s.byte, s.proto]);
    expect(ours.sort()).toEqual(py.sort());
  });

  it('maps bytes back to names one to one', () => {
    for (const [name, s] of Object.entries(OPCODES)) expect(OPNAME_BY_BYTE[s.byte]).toBe(name);
    expect(OPNAME_BY_BYTE.filter((n) => n !== undefined).length).toBe(Object.keys(OPCODES).length);
  });

  const refused: OpName[] = ['INT', 'LONG', 'FLOAT', 'STRING', 'UNICODE', 'DICT', 'LIST', 'GET', 'PUT', 'INST', 'OBJ', 'EXT1', 'EXT2', 'EXT4', 'PERSID', 'BINPERSID'];
  for (const name of refused) {
    it(`refuses ${name} with its name and offset`, () => {
      const buf = Uint8Array.from([0x80, 0x02, OPCODES[name].byte, 0x31, 0x0a, 0x0a, 0, 0, 0, 0, 0x2e]);
      let err: unknown;
      try {
        parsePickleBytes(buf, { fileName: 'old.pkl' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MmsaError);
      expect((err as MmsaError).code).toBe('MSA6003');
      expect((err as MmsaError).message).toContain(name);
      expect((err as MmsaError).details.offset).toBe(2);
    });
  }
});
