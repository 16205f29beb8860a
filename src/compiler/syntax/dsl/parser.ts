// The .mmsa grammar as a chevrotain CstParser: syntax only, no meaning (build-tree.ts gives the CST its meaning).
// Phase 1 (parse), DSL front end: tokens -> CST, with error recovery on.

import { CstParser, type IParserErrorMessageProvider, type IRecognitionException, type IToken, type TokenType } from 'chevrotain';
import {
  ALL_TOKENS,
  BadNumber,
  Colon,
  Comma,
  Encoder,
  False,
  Fusion,
  Head,
  LBrace,
  LBracket,
  LParen,
  Modality,
  Null,
  NumberLit,
  On,
  Pipeline,
  RBrace,
  RBracket,
  RParen,
  SpecialFloat,
  StringLit,
  Task,
  True,
  SingleQuotedString,
  UnterminatedString,
  Word,
} from './lexer.js';

/**
 * Error messages are data: the provider encodes what was expected and found as JSON, and parse-dsl.ts turns that
 * into a catalog diagnostic (so the text of every syntax error lives in messages.ts).
 */
export interface SyntaxErrorData {
  expected: string[];
  found: string;
  rule: string;
}

function tokenLabel(t: TokenType): string {
  return t.LABEL ?? t.name;
}

function describeToken(tok: IToken): string {
  if (tok.tokenType.name === 'EOF') return 'end of file';
  return `'${tok.image}'`;
}

/** What else could have stood where a closing token was required (a MANY loop ends right before it). */
function widenExpected(expected: TokenType, rule: string): string[] {
  if (expected === RBrace && (rule === 'block' || rule === 'pipelineDecl')) return ['a key', "'}'"];
  if (expected === RBracket && rule === 'list') return ['a value', "']'"];
  if (expected === RParen && rule === 'fusionDecl') return ["','", "')'"];
  return [tokenLabel(expected)];
}

function firstTokens(paths: TokenType[][]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const t = p[0];
    if (!t) continue;
    const l = WORD_LIKE.includes(t) ? 'a name' : tokenLabel(t);
    if (!out.includes(l)) out.push(l);
  }
  return out;
}

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, ruleName }) {
    const d: SyntaxErrorData = { expected: widenExpected(expected, ruleName), found: describeToken(actual), rule: ruleName };
    return JSON.stringify(d);
  },
  buildNotAllInputParsedMessage({ firstRedundant, ruleName }) {
    const d: SyntaxErrorData = { expected: ['end of file'], found: describeToken(firstRedundant), rule: ruleName };
    return JSON.stringify(d);
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual, ruleName }) {
    const first = actual[0];
    const d: SyntaxErrorData = {
      expected: firstTokens(expectedPathsPerAlt.flat()),
      found: first ? describeToken(first) : 'end of file',
      rule: ruleName,
    };
    return JSON.stringify(d);
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual, ruleName }) {
    const first = actual[0];
    const d: SyntaxErrorData = { expected: firstTokens(expectedIterationPaths), found: first ? describeToken(first) : 'end of file', rule: ruleName };
    return JSON.stringify(d);
  },
};

/** Every token a plain word (key, name, bare string) may be spelled with: keywords are words outside their sugar. */
const WORD_LIKE: TokenType[] = [Word, Pipeline, Modality, Encoder, Fusion, Head, Task, On];

/**
 * Syntax errors after which the parser stops: chevrotain re-enters a repetition once per error it recovers from (its
 * recursion grows with the errors of one block), and no one reads past the first hundred problems anyway.
 */
export const MAX_PARSE_ERRORS = 200;

/** Thrown out of the parser when it has collected MAX_PARSE_ERRORS errors. */
export class TooManySyntaxErrors extends Error {}

type SaveError = (this: CstParser, e: IRecognitionException) => IRecognitionException;
const saveError = (CstParser.prototype as unknown as { SAVE_ERROR: SaveError }).SAVE_ERROR;

export class DslParser extends CstParser {
  constructor() {
    super(ALL_TOKENS, { recoveryEnabled: true, maxLookahead: 3, nodeLocationTracking: 'full', errorMessageProvider: messages });
    this.performSelfAnalysis();
  }

  /** chevrotain's hook for every syntax error: records it, and gives up once there are too many. */
  SAVE_ERROR(e: IRecognitionException): IRecognitionException {
    const saved = saveError.call(this, e);
    if (this.errors.length >= MAX_PARSE_ERRORS) throw new TooManySyntaxErrors();
    return saved;
  }

  /** Whether the next tokens can only be a top-level declaration (`modality x {`, `encoder x:`, `fusion t(`). */
  private startsDeclaration(): boolean {
    const t1 = this.LA(1).tokenType;
    const t2 = this.LA(2).tokenType;
    const t3 = this.LA(3).tokenType;
    if (!WORD_LIKE.includes(t2) && t2 !== StringLit) return false;
    if (t1 === Fusion) return t3 === LParen;
    return (t1 === Modality || t1 === Encoder || t1 === Head || t1 === Task) && (t3 === Colon || t3 === LBrace);
  }

  /** Whether the next token is a declaration keyword (never a bare value of a top-level entry). */
  private atDeclarationKeyword(): boolean {
    const t1 = this.LA(1).tokenType;
    return t1 === Modality || t1 === Encoder || t1 === Head || t1 === Task || (t1 === Fusion && this.LA(3).tokenType === LParen);
  }

  /** file := pipelineDecl | value */
  public file = this.RULE('file', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.pipelineDecl) },
      { ALT: () => this.SUBRULE(this.value) },
    ]);
  });

  /** pipelineDecl := 'pipeline' name? '{' (bodyEntry ','?)* '}' */
  public pipelineDecl = this.RULE('pipelineDecl', () => {
    this.CONSUME(Pipeline);
    this.OPTION(() => this.SUBRULE(this.name));
    this.CONSUME(LBrace);
    this.MANY(() => {
      this.SUBRULE(this.bodyEntry);
      this.OPTION2(() => this.CONSUME(Comma));
    });
    this.CONSUME(RBrace);
  });

  public bodyEntry = this.RULE('bodyEntry', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.modalityDecl) },
      { ALT: () => this.SUBRULE(this.encoderDecl) },
      { ALT: () => this.SUBRULE(this.headDecl) },
      { ALT: () => this.SUBRULE(this.taskDecl) },
      { ALT: () => this.SUBRULE(this.fusionDecl) },
      { ALT: () => this.SUBRULE(this.topEntry) },
    ]);
  });

  /** modalityDecl := 'modality' name block */
  public modalityDecl = this.RULE('modalityDecl', () => {
    this.CONSUME(Modality);
    this.SUBRULE(this.name);
    this.SUBRULE(this.block);
  });

  /** encoderDecl := 'encoder' name (':' name)? block? */
  public encoderDecl = this.RULE('encoderDecl', () => {
    this.CONSUME(Encoder);
    this.SUBRULE(this.name);
    this.OPTION(() => {
      this.CONSUME(Colon);
      this.SUBRULE2(this.name, { LABEL: 'type' });
    });
    this.OPTION2(() => this.SUBRULE(this.block));
  });

  /** headDecl := 'head' name (':' name)? ('on' name)? block? */
  public headDecl = this.RULE('headDecl', () => {
    this.CONSUME(Head);
    this.SUBRULE(this.name);
    this.OPTION(() => {
      this.CONSUME(Colon);
      this.SUBRULE2(this.name, { LABEL: 'type' });
    });
    this.OPTION2(() => {
      this.CONSUME(On);
      this.SUBRULE3(this.name, { LABEL: 'input' });
    });
    this.OPTION3(() => this.SUBRULE(this.block));
  });

  /** taskDecl := 'task' name (':' name)? block? */
  public taskDecl = this.RULE('taskDecl', () => {
    this.CONSUME(Task);
    this.SUBRULE(this.name);
    this.OPTION(() => {
      this.CONSUME(Colon);
      this.SUBRULE2(this.name, { LABEL: 'type' });
    });
    this.OPTION2(() => this.SUBRULE(this.block));
  });

  /** fusionDecl := 'fusion' name '(' (name (',' name)* ','?)? ')' block? */
  public fusionDecl = this.RULE('fusionDecl', () => {
    this.CONSUME(Fusion);
    this.SUBRULE(this.name, { LABEL: 'type' });
    this.CONSUME(LParen);
    this.MANY(() => {
      this.SUBRULE2(this.name, { LABEL: 'input' });
      this.OPTION(() => this.CONSUME(Comma));
    });
    this.CONSUME(RParen);
    this.OPTION2(() => this.SUBRULE(this.block));
  });

  /** A generic entry at the top level; the sugar keywords (and `on`) must be quoted to be keys here. */
  public topEntry = this.RULE('topEntry', () => {
    this.OR([
      { ALT: () => this.CONSUME(Word, { LABEL: 'key' }) },
      { ALT: () => this.CONSUME(StringLit, { LABEL: 'key' }) },
      { ALT: () => this.CONSUME(Pipeline, { LABEL: 'key' }) },
      { ALT: () => this.CONSUME(Fusion, { LABEL: 'key' }) },
    ]);
    // YAML habit `key: value`: accepted by the grammar so the parse stays on track; the tree builder reports it.
    this.OPTION(() => this.CONSUME(Colon));
    // A declaration keyword is never a bare top-level value (the printer quotes such strings), so `dataset` with
    // its value forgotten stops here instead of swallowing the next declaration's keyword.
    this.OR2([{ GATE: () => !this.atDeclarationKeyword(), ALT: () => this.SUBRULE(this.value) }]);
  });

  /** entry := key value   (a stray ':' after the key is parsed, then reported) */
  public entry = this.RULE('entry', () => {
    this.SUBRULE(this.name, { LABEL: 'key' });
    this.OPTION(() => this.CONSUME(Colon));
    this.SUBRULE(this.value);
  });

  /** name := word | string (keys, component names, types, references) */
  public name = this.RULE('name', () => {
    this.OR([
      { ALT: () => this.CONSUME(Word) },
      { ALT: () => this.CONSUME(StringLit) },
      { ALT: () => this.CONSUME(Pipeline) },
      { ALT: () => this.CONSUME(Modality) },
      { ALT: () => this.CONSUME(Encoder) },
      { ALT: () => this.CONSUME(Fusion) },
      { ALT: () => this.CONSUME(Head) },
      { ALT: () => this.CONSUME(Task) },
      { ALT: () => this.CONSUME(On) },
    ]);
  });

  /** value := scalar | block | list */
  public value = this.RULE('value', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.block) },
      { ALT: () => this.SUBRULE(this.list) },
      { ALT: () => this.SUBRULE(this.scalar) },
    ]);
  });

  public scalar = this.RULE('scalar', () => {
    this.OR([
      { ALT: () => this.CONSUME(NumberLit) },
      { ALT: () => this.CONSUME(SpecialFloat) },
      { ALT: () => this.CONSUME(BadNumber) },
      { ALT: () => this.CONSUME(True) },
      { ALT: () => this.CONSUME(False) },
      { ALT: () => this.CONSUME(Null) },
      { ALT: () => this.CONSUME(UnterminatedString) },
      { ALT: () => this.CONSUME(SingleQuotedString) },
      { ALT: () => this.SUBRULE(this.name) },
    ]);
  });

  /** block := '{' (entry ','?)* '}' */
  public block = this.RULE('block', () => {
    this.CONSUME(LBrace);
    // `encoder x: t`, `head x {`, `fusion t(` can never be entries of a block: a '}' is missing before them.
    // Ending the loop there lets recovery insert the '}' and parse the declaration where it belongs.
    this.MANY({
      GATE: () => !this.startsDeclaration(),
      DEF: () => {
        this.SUBRULE(this.entry);
        this.OPTION(() => this.CONSUME(Comma));
      },
    });
    this.CONSUME(RBrace);
  });

  /** list := '[' (value (',' value)* ','?)? ']' */
  public list = this.RULE('list', () => {
    this.CONSUME(LBracket);
    this.MANY(() => {
      this.SUBRULE(this.value);
      this.OPTION(() => this.CONSUME(Comma));
    });
    this.CONSUME(RBracket);
  });
}

/** One parser instance is reused (chevrotain parsers are stateful but resettable through `input`). */
export const dslParser = new DslParser();
