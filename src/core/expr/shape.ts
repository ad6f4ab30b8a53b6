import type { ASTNode } from '@marcbachmann/cel-js';
import { EXPRESSION_LIMITS } from './cel';

/**
 * What an expression's syntax tree says about the cost of evaluating it, before it runs.
 *
 * Without comprehensions, regular expressions or functions whose output outgrows their
 * input, CEL evaluates each part of the tree once, so the cost is bounded by the size of the
 * tree (at most EXPRESSION_LIMITS.maxAstNodes) times the size of the data it reads: such an
 * expression is evaluated at once, on the engine's thread. Anything else may take as long
 * as its data makes it — it is `costly`, and goes to a worker thread with a deadline.
 */
export interface ExpressionShape {
  /** How deep comprehensions nest inside one another (0 without any). */
  readonly comprehensionNesting: number;
  /** Offset of the first comprehension nested deeper than the limit, if one is. */
  readonly tooNestedAt?: number;
  /** Whether evaluation could take longer than linear in the tree and the data. */
  readonly costly: boolean;
  /** The top-level names it reads (`nodes`, `inputs`, …; loop variables too). */
  readonly variables: ReadonlySet<string>;
  /** The node ids it reads when each is written out (`nodes.a`, `nodes['a']`); undefined when it reads `nodes` any other way. */
  readonly nodeIds?: ReadonlySet<string>;
}

/** Macros that loop over a list or map. */
const COMPREHENSIONS = new Set(['map', 'filter', 'all', 'exists', 'exists_one']);
/**
 * Functions whose output can be a multiple of their input: nested, they grow exponentially
 * (`toJson(toJson(…))` doubles the backslashes at every level).
 */
const GROWING = new Set(['toJson', 'hex', 'base64', 'join']);

type Node = { op: string; args: unknown; start?: number; pos?: number };

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && typeof (v as Node).op === 'string';

export function expressionShape(ast: ASTNode): ExpressionShape {
  const variables = new Set<string>();
  const nodeIds = new Set<string>();
  let nodesOtherwise = false;
  let costly = false;
  let deepest = 0;
  let tooNestedAt: number | undefined;

  const walk = (node: Node, comprehensions: number, growing: number): void => {
    const args = node.args as unknown[];
    switch (node.op) {
      case 'value':
        return;
      case 'id':
        variables.add(String(node.args));
        if (node.args === 'nodes') nodesOtherwise = true;
        return;
      case '.':
      case '.?':
      case '[]':
      case '[?]': {
        const [target, key] = args as [Node, unknown];
        const literal = node.op.startsWith('.') ? key : isNode(key) && key.op === 'value' && typeof key.args === 'string' ? key.args : undefined;
        if (isNode(target) && target.op === 'id' && target.args === 'nodes' && typeof literal === 'string') {
          variables.add('nodes');
          nodeIds.add(literal);
          if (isNode(key) && node.op.startsWith('[')) walk(key, comprehensions, growing);
          return;
        }
        break;
      }
      case 'call':
      case 'rcall': {
        const name = args[0] as string;
        const receiver = node.op === 'rcall' ? (args[1] as Node) : undefined;
        const callArgs = (node.op === 'rcall' ? args[2] : args[1]) as Node[];
        if (name === 'matches' || (name === 'bind' && isNode(receiver) && receiver.op === 'id' && receiver.args === 'cel')) costly = true;
        const grows = GROWING.has(name);
        if (grows && growing > 0) costly = true;
        // A separator that is not a literal can be as long as the list: `s.split('').join(s)` is quadratic.
        if (name === 'join' && callArgs.some((a) => !(isNode(a) && a.op === 'value'))) costly = true;
        const inner = growing + (grows ? 1 : 0);
        if (receiver && COMPREHENSIONS.has(name)) {
          costly = true;
          const level = comprehensions + 1;
          deepest = Math.max(deepest, level);
          if (level > EXPRESSION_LIMITS.maxComprehensionNesting && tooNestedAt === undefined) tooNestedAt = node.start ?? node.pos ?? 0;
          // The list is read once, outside the loop; the body runs once per item.
          walk(receiver, comprehensions, inner);
          for (const a of callArgs) walk(a, level, inner);
          return;
        }
        if (receiver) walk(receiver, comprehensions, inner);
        for (const a of callArgs) walk(a, comprehensions, inner);
        return;
      }
    }
    for (const child of children(node.args)) walk(child, comprehensions, growing);
  };
  walk(ast as unknown as Node, 0, 0);
  return { comprehensionNesting: deepest, tooNestedAt, costly, variables, nodeIds: nodesOtherwise ? undefined : nodeIds };
}

/** The syntax nodes among a node's arguments (lists, map entries, operands). */
function children(args: unknown): Node[] {
  if (isNode(args)) return [args];
  if (!Array.isArray(args)) return [];
  return args.flatMap((a) => (isNode(a) ? [a] : Array.isArray(a) ? children(a) : []));
}
