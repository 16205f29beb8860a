// Raw text -> text_bert rows with the WordPiece tokenizer of a model directory / HF cache / hub model. Free of tfjs,
// so CLI paths that only tokenize stay light. Phases 7-8 (predict on raw text).
import { resolveModelDir, resolveModelDirSync, TOKENIZER_FILES, type HubOptions } from '../hub/hf-hub.js';
import { loadTokenizer } from '../tokenizer/load.js';
import type { TextBertRows, WordPieceTokenizer } from '../tokenizer/wordpiece.js';

const tokenizers = new Map<string, WordPieceTokenizer>();

/** The WordPiece tokenizer of a model directory / cached or downloadable hub model (memoised per directory). */
export async function loadBertTokenizer(dirOrModelId: string, opts: HubOptions = {}): Promise<WordPieceTokenizer> {
  const r = await resolveModelDir(dirOrModelId, TOKENIZER_FILES, opts);
  let t = tokenizers.get(r.dir);
  if (!t) {
    t = loadTokenizer(r.dir);
    tokenizers.set(r.dir, t);
  }
  return t;
}

/** Sync variant for callers that resolved the directory already (no network). */
export function loadBertTokenizerSync(dirOrModelId: string, opts: HubOptions = {}): WordPieceTokenizer {
  const r = resolveModelDirSync(dirOrModelId, TOKENIZER_FILES, opts);
  let t = tokenizers.get(r.dir);
  if (!t) {
    t = loadTokenizer(r.dir);
    tokenizers.set(r.dir, t);
  }
  return t;
}

/** Raw texts -> the reference's text_bert rows (ids, attention mask, segment ids), each padded to maxLength. */
export async function tokenize(dirOrModelId: string, texts: readonly string[], maxLength: number, opts: HubOptions = {}): Promise<TextBertRows> {
  return (await loadBertTokenizer(dirOrModelId, opts)).encodeBatch(texts, maxLength);
}
