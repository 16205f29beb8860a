// Limits both spec front ends (YAML and .mmsa) enforce, so a hostile or broken file gets a located error instead of
// exhausting the parser's stack. Phase 1 (parse).

/** Deepest nesting of mappings, blocks and lists a spec may have (real specs nest a handful of levels). */
export const MAX_NESTING = 100;
