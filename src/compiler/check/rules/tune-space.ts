// Rule tune-space: every parameter of tune.space has one distribution, names spec paths that exist and may be tuned,
// and every value it can take (each choice, both bounds of a range) passes the schema where it lands. Phase 4.

import type { Span } from '../../source/source-file.js';
import { validateSchema } from '../../schema/validate-schema.js';
import { formatSpecPath, setSpecPath } from '../../spec/spec-path.js';
import { fromValue, type SpecPath } from '../../spec/spec-tree.js';
import { assignmentsOf, gridValues, probeValues, resolveSpace, untunable } from '../../../tune/space.js';
import { defineRule, type RuleContext } from '../rule.js';

function paramSpan(ctx: RuleContext, name: string, at?: { key: string; index?: number }): Span {
  const base: SpecPath = ['tune', 'space', name];
  if (!at) return ctx.spanOf(base, { key: true });
  return ctx.spanOf(at.index !== undefined ? [...base, at.key, at.index] : [...base, at.key]);
}

export default defineRule({
  id: 'tune-space',
  description: 'tune.space parameters are well-formed, name tunable spec paths, and their values pass the schema',
  check(ctx) {
    const tune = ctx.spec.tune;
    if (!tune) return;
    const { params, problems } = resolveSpace(tune.space);
    for (const p of problems) ctx.report('MSA3032', paramSpan(ctx, p.name, p.at), { name: p.name, detail: p.detail });
    if (params.length === 0 && problems.length === 0) {
      ctx.report('MSA3032', ctx.spanOf(['tune'], { key: true }), { name: '', detail: 'the search space is empty' }, { hint: 'add spec paths to tune.space, e.g. `encoders.audio.hidden: {choice: [8, 16, 32]}`, or use `preset: mmsa`' });
    }
    for (const p of params) {
      if (tune.strategy === 'grid' && !gridValues(p.dist)) ctx.report('MSA3035', paramSpan(ctx, p.name, { key: p.dist.kind }), { name: p.name, kind: p.dist.kind });
      let pathsOk = true;
      p.paths.forEach((path, i) => {
        const span = p.joint ? paramSpan(ctx, p.name, { key: 'paths', index: i }) : paramSpan(ctx, p.name);
        const no = untunable(path.segments);
        if (no) {
          ctx.report('MSA3033', span, { path: path.text, detail: no.why, fix: no.fix });
          pathsOk = false;
          return;
        }
        // Where the path leads is checked by setting the first candidate there.
        const probe = setSpecPath(ctx.tree, path.segments, fromValue(null, span), span);
        if (!probe.ok) {
          ctx.report('MSA3033', span, { path: path.text, detail: probe.message, fix: probe.hint ?? 'name an existing element' });
          pathsOk = false;
        }
      });
      if (!pathsOk) continue;
      for (const probe of probeValues(p.dist)) {
        const span = ctx.spanOf(['tune', 'space', p.name, probe.key, probe.index]);
        let tree = ctx.tree;
        for (const a of assignmentsOf(p, probe.value)) {
          const r = setSpecPath(tree, a.path.segments, fromValue(a.value, span), span);
          if (r.ok) tree = r.tree;
        }
        const mine = validateSchema(tree, 'pipeline').filter((d) => d.span.file === span.file && d.span.start >= span.start && d.span.end <= span.end && d.severity === 'error');
        for (const d of mine.slice(0, 1)) {
          const paths = p.paths.map((x) => formatSpecPath(x.segments)).join(', ');
          ctx.report('MSA3034', span, { name: p.name, value: JSON.stringify(probe.value), path: paths, detail: d.message }, d.hint ? { hint: d.hint } : {});
        }
      }
    }
  },
});
