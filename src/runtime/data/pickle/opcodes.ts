// The pickle opcodes of protocols 0-5, each named once with its byte, the protocol that introduced it and the
// fixed-size argument read before its handler runs (as CPython's Lib/pickle.py and pickletools name them). Phase 7.

/**
 * `fixed`: bytes of the opcode's fixed-size argument (or of the length prefix of a variable one), which the VM makes
 * available in its window before dispatching; `line`: the argument is newline-terminated text (protocol 0 style).
 */
interface OpcodeSpec {
  byte: number;
  proto: number;
  fixed: number;
  line?: true;
}

function op(char: string | number, proto: number, fixed = 0, line = false): OpcodeSpec {
  const byte = typeof char === 'string' ? char.charCodeAt(0) : char;
  return line ? { byte, proto, fixed, line: true } : { byte, proto, fixed };
}

export const OPCODES = {
  // protocol 0 (text)
  MARK: op('(', 0),
  STOP: op('.', 0),
  POP: op('0', 0),
  DUP: op('2', 0),
  FLOAT: op('F', 0, 0, true),
  INT: op('I', 0, 0, true),
  LONG: op('L', 0, 0, true),
  NONE: op('N', 0),
  PERSID: op('P', 0, 0, true),
  REDUCE: op('R', 0),
  STRING: op('S', 0, 0, true),
  UNICODE: op('V', 0, 0, true),
  APPEND: op('a', 0),
  BUILD: op('b', 0),
  GLOBAL: op('c', 0, 0, true),
  DICT: op('d', 0),
  GET: op('g', 0, 0, true),
  INST: op('i', 0, 0, true),
  LIST: op('l', 0),
  PUT: op('p', 0, 0, true),
  SETITEM: op('s', 0),
  TUPLE: op('t', 0),
  // protocol 1 (binary)
  POP_MARK: op('1', 1),
  BINFLOAT: op('G', 1, 8),
  BININT: op('J', 1, 4),
  BININT1: op('K', 1, 1),
  BININT2: op('M', 1, 2),
  BINPERSID: op('Q', 1),
  BINSTRING: op('T', 1, 4),
  SHORT_BINSTRING: op('U', 1, 1),
  BINUNICODE: op('X', 1, 4),
  EMPTY_LIST: op(']', 1),
  APPENDS: op('e', 1),
  BINGET: op('h', 1, 1),
  LONG_BINGET: op('j', 1, 4),
  OBJ: op('o', 1),
  BINPUT: op('q', 1, 1),
  LONG_BINPUT: op('r', 1, 4),
  SETITEMS: op('u', 1),
  EMPTY_TUPLE: op(')', 1),
  EMPTY_DICT: op('}', 1),
  // protocol 2
  PROTO: op(0x80, 2, 1),
  NEWOBJ: op(0x81, 2),
  EXT1: op(0x82, 2, 1),
  EXT2: op(0x83, 2, 2),
  EXT4: op(0x84, 2, 4),
  TUPLE1: op(0x85, 2),
  TUPLE2: op(0x86, 2),
  TUPLE3: op(0x87, 2),
  NEWTRUE: op(0x88, 2),
  NEWFALSE: op(0x89, 2),
  LONG1: op(0x8a, 2, 1),
  LONG4: op(0x8b, 2, 4),
  // protocol 3
  BINBYTES: op('B', 3, 4),
  SHORT_BINBYTES: op('C', 3, 1),
  // protocol 4
  SHORT_BINUNICODE: op(0x8c, 4, 1),
  BINUNICODE8: op(0x8d, 4, 8),
  BINBYTES8: op(0x8e, 4, 8),
  EMPTY_SET: op(0x8f, 4),
  ADDITEMS: op(0x90, 4),
  FROZENSET: op(0x91, 4),
  NEWOBJ_EX: op(0x92, 4),
  STACK_GLOBAL: op(0x93, 4),
  MEMOIZE: op(0x94, 4),
  FRAME: op(0x95, 4, 8),
  // protocol 5
  BYTEARRAY8: op(0x96, 5, 8),
  NEXT_BUFFER: op(0x97, 5),
  READONLY_BUFFER: op(0x98, 5),
} as const satisfies Record<string, OpcodeSpec>;

export type OpName = keyof typeof OPCODES;

/** Highest protocol this reader knows. */
export const HIGHEST_PROTOCOL = 5;

/** byte -> name, undefined for bytes that are no opcode. */
export const OPNAME_BY_BYTE: readonly (OpName | undefined)[] = (() => {
  const t = new Array<OpName | undefined>(256).fill(undefined);
  for (const [name, spec] of Object.entries(OPCODES) as [OpName, OpcodeSpec][]) t[spec.byte] = name;
  return t;
})();

/** byte -> fixed argument size (0 for bytes that are no opcode). */
export const FIXED_BY_BYTE: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (const spec of Object.values(OPCODES) as OpcodeSpec[]) t[spec.byte] = spec.fixed;
  return t;
})();

/** Name of an opcode byte for messages (`unknown` for bytes that are no opcode). */
export function opcodeName(byte: number): string {
  return OPNAME_BY_BYTE[byte] ?? 'unknown';
}
