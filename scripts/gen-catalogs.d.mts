// Types of scripts/gen-catalogs.mjs for the test that checks the generated files are fresh.
export interface ListedComponent {
  kind: 'encoder' | 'fusion' | 'head' | 'task';
  dir: string;
  type: string;
  ident: string;
  lower: boolean;
  view: boolean;
  schema: string;
  schemaExists: boolean;
}
export const KINDS: { kind: ListedComponent['kind']; dir: string }[];
export function listComponents(root: string): ListedComponent[];
export function renderAll(root: string, opts: { metricSets: readonly string[]; syntheticLikes: readonly string[] }): Map<string, string>;
export function staleFiles(root: string, rendered: Map<string, string>): string[];
