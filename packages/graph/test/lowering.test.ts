import { describe, expect, it } from 'vitest';
import { DEFAULT_LOWERING, Graph, GraphError, IMPLS, TARGETS, attention, loweringFor, type LoweringOverrides } from '@sdxs/graph';

describe('lowering table', () => {
  it('names a known implementation for every composite and target', () => {
    for (const [name, entry] of Object.entries(DEFAULT_LOWERING)) {
      const known: readonly string[] = IMPLS[name as keyof typeof IMPLS];
      expect(known).toContain(entry.default);
      for (const t of TARGETS) if (t in entry) expect(known).toContain(entry[t as keyof typeof entry]);
    }
  });

  it('resolves graph override, then the target entry, then the default', () => {
    expect(loweringFor(new Graph({ target: 'cuda' }), 'groupNorm')).toBe('contrib-nhwc');
    expect(loweringFor(new Graph({ target: 'wasm' }), 'groupNorm')).toBe('instance-norm');
    expect(loweringFor(new Graph({ target: 'cuda', lowering: { groupNorm: 'decomposed' } }), 'groupNorm')).toBe('decomposed');
    const perTarget: LoweringOverrides = { attention: { cpu: 'contrib-mha' } };
    expect(loweringFor(new Graph({ target: 'cpu', lowering: perTarget }), 'attention')).toBe('contrib-mha');
    // The override names only cpu: cuda keeps its table entry, wasm the default.
    expect(loweringFor(new Graph({ target: 'cuda', lowering: perTarget }), 'attention')).toBe('contrib-mha');
    expect(loweringFor(new Graph({ target: 'wasm', lowering: perTarget }), 'attention')).toBe('decomposed');
  });

  it('the override changes what a composite emits', () => {
    const nodes = (lowering: LoweringOverrides) => {
      const g = new Graph({ lowering });
      const x = g.input('x', 'float32', [1, 4, 8]);
      attention(x, x, x, { heads: 2 });
      return g.nodes.map((n) => n.opType);
    };
    expect(nodes({ attention: 'contrib-mha' })).toEqual(['MultiHeadAttention']);
    expect(nodes({ attention: 'decomposed' })).toContain('Softmax');
  });

  it('refuses unknown composites, targets and implementations when the graph is made', () => {
    const bad = (lowering: unknown) => () => new Graph({ lowering: lowering as LoweringOverrides });
    expect(bad({ groupnorm: 'decomposed' })).toThrow(GraphError);
    expect(bad({ groupnorm: 'decomposed' })).toThrow(/unknown composite groupnorm/);
    expect(bad({ gelu: 'fast' })).toThrow(/gelu: unknown implementation fast; choose one of formula, contrib, onnx20/);
    expect(bad({ gelu: { metal: 'contrib' } })).toThrow(/names unknown target metal/);
  });
});
