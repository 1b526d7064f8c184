/**
 * What an expression reads, from its AST alone: its free variables, its `steps.X.a.b` and `input.a.b` chains (for
 * the validator's reference and type checks), and the patterns of `matches` written as literals (compiled before
 * the run). Variables a macro binds (`x` in `list.map(x, ...)`) are not free.
 */
import type { ASTNode } from '@marcbachmann/cel-js';
import type { CompiledExpression, StepReference } from './expression.js';

const MACROS_WITH_VARIABLE = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

export type Analysis = Pick<CompiledExpression, 'references' | 'inputReferences' | 'variables' | 'regexLiterals'>;

/** Walks the AST once. */
export function analyze(root: ASTNode): Analysis {
  const walk = new Walk();
  walk.visit(root, new Set());
  const { references, inputReferences, variables, regexLiterals } = walk;
  return { references, inputReferences, variables, regexLiterals };
}

class Walk {
  readonly references: StepReference[] = [];
  readonly inputReferences: CompiledExpression['inputReferences'] = [];
  readonly variables = new Set<string>();
  readonly regexLiterals: string[] = [];

  visit(node: ASTNode, bound: ReadonlySet<string>, hasArgument = false): void {
    switch (node.op) {
      case 'id':
        if (!bound.has(node.args)) this.chain(node.args, [], node);
        return;
      case '.':
      case '.?':
      case '[]':
      case '[?]':
        return this.selection(node, bound, hasArgument);
      case 'call': {
        const [name, args] = node.args;
        if (args.length === 2) this.pattern(name, args[1]);
        for (const a of args) this.visit(a, bound, name === 'has');
        return;
      }
      case 'rcall': {
        const [name, receiver, args] = node.args;
        if (args.length === 1) this.pattern(name, args[0]);
        this.visit(receiver, bound);
        const first = args[0];
        if (MACROS_WITH_VARIABLE.has(name) && first?.op === 'id') {
          const inner = new Set(bound).add(first.args);
          for (const a of args.slice(1)) this.visit(a, inner);
        } else for (const a of args) this.visit(a, bound);
        return;
      }
      case 'value':
        return;
      case 'list':
        for (const a of node.args) this.visit(a, bound);
        return;
      case 'map':
        for (const [k, v] of node.args) {
          this.visit(k, bound);
          this.visit(v, bound);
        }
        return;
      case '!_':
      case '-_':
        this.visit(node.args, bound);
        return;
      default:
        for (const a of node.args as ASTNode[]) this.visit(a, bound);
    }
  }

  /** Follows a chain of literal selections down to its root: steps.order["total"].x */
  private selection(node: ASTNode, bound: ReadonlySet<string>, hasArgument: boolean): void {
    const fields: string[] = [];
    let cur: ASTNode = node;
    for (;;) {
      if (cur.op === '.' || cur.op === '.?') {
        // An optional selection may be absent: neither it nor what follows it is checked.
        if (cur.op === '.?') fields.length = 0;
        else fields.unshift(cur.args[1]);
        cur = cur.args[0];
      } else if (cur.op === '[]' || cur.op === '[?]') {
        const index = cur.args[1];
        if (cur.op === '[]' && index.op === 'value' && typeof index.args === 'string') fields.unshift(index.args);
        else {
          // A list index or a computed key: what follows it is not a static field path.
          fields.length = 0;
          if (index.op !== 'value') this.visit(index, bound);
        }
        cur = cur.args[0];
      } else break;
    }
    // has(steps.x.f) asks whether f exists: f itself is not required by the type check.
    if (cur.op === 'id' && !bound.has(cur.args)) this.chain(cur.args, hasArgument ? fields.slice(0, -1) : fields, node);
    else this.visit(cur, bound);
  }

  private chain(name: string, fields: string[], node: ASTNode): void {
    this.variables.add(name);
    const at = { start: node.range.start, end: node.range.end };
    if (name === 'steps' && fields.length > 0) this.references.push({ step: fields[0]!, fields: fields.slice(1), ...at });
    if (name === 'input') this.inputReferences.push({ fields, ...at });
  }

  private pattern(name: string, pattern: ASTNode | undefined): void {
    if (name === 'matches' && pattern?.op === 'value' && typeof pattern.args === 'string') this.regexLiterals.push(pattern.args);
  }
}
