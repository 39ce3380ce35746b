/**
 * Symbolic equivalence of two LaTeX answers with @cortex-js/compute-engine, as search-and-learn and OpenR
 * grade (parse, compare symbolically, else numerically with a tolerance, under a time limit).
 *
 * The engine is synchronous and a few inputs make it run for seconds (`100000!`), so the work is bounded
 * three ways: the input length, the parsed expression's size and shape (no factorial of a large number,
 * no power towers), and a wall-clock budget checked around each comparison. An answer that exceeds the
 * budget once is remembered as unusable. Whatever is refused here the caller grades by its string rules.
 */
import { ComputeEngine } from '@cortex-js/compute-engine';

/** Limits of one symbolic comparison; every field has the default that `answersEqual` uses. */
export interface SymbolicLimits {
  /**
   * Longest answer (in characters) handed to the engine.
   * @default 200
   */
  readonly maxLength: number;
  /**
   * Most nodes in a parsed expression.
   * @default 120
   */
  readonly maxNodes: number;
  /**
   * Wall-clock budget of one comparison in milliseconds (engine start-up excluded). A comparison that runs
   * past it counts as "gave up", and both answers are not handed to the engine again. Typical comparisons
   * take 1–20 ms; the budget is generous so that a busy machine does not change a grade.
   * @default 200
   */
  readonly timeLimitMs: number;
  /**
   * Relative tolerance of the numeric comparison: |a − b| ≤ relTol · max(|a|, |b|).
   * @default 1e-9
   */
  readonly relTol: number;
}

export const DEFAULT_SYMBOLIC_LIMITS: SymbolicLimits = { maxLength: 200, maxNodes: 120, timeLimitMs: 200, relTol: 1e-9 };

type Expr = ReturnType<ComputeEngine['parse']>;

interface Parsed {
  readonly expr: Expr;
  /** The real value when the expression is a finite real number, else null (computed on first use). */
  value?: number | null;
}

let engine: ComputeEngine | null = null;
function ce(): ComputeEngine {
  if (engine === null) {
    engine = new ComputeEngine();
    // The engine loads its libraries lazily: warm them up here so that the first comparison is not charged.
    engine.parse('\\frac{\\sqrt{2}}{2}+x^{2}').isEqual(engine.parse('0.5'));
    engine.parse('(1,2)').N();
  }
  return engine;
}

/** Parsed answers by their LaTeX; null marks an answer the engine must not see (invalid, too big, slow). */
const cache = new Map<string, Parsed | null>();
const CACHE_SIZE = 2048;

function remember(latex: string, p: Parsed | null): Parsed | null {
  if (cache.size >= CACHE_SIZE) cache.clear();
  cache.set(latex, p);
  return p;
}

/** Functions whose cost grows with the value of their argument. */
const EXPLOSIVE = new Set(['Factorial', 'Factorial2', 'Gamma', 'Binomial', 'Choose']);

function numberOf(node: unknown): number | null {
  if (typeof node === 'number') return node;
  if (typeof node === 'string' && /^-?\d+(\.\d+)?$/.test(node)) return Number(node);
  if (typeof node === 'object' && node !== null && 'num' in node) return Number((node as { num: string }).num);
  return null;
}

function containsPower(node: unknown): boolean {
  return Array.isArray(node) && (node[0] === 'Power' || node[0] === 'Root' || node.slice(1).some(containsPower));
}

/** Whether a MathJSON tree is small and tame enough to evaluate; counts nodes into `budget.left`. */
function tame(node: unknown, budget: { left: number }): boolean {
  if (--budget.left < 0) return false;
  if (!Array.isArray(node)) return true;
  const [head, ...args] = node as [unknown, ...unknown[]];
  if (head === 'Error') return false;
  if (typeof head === 'string' && EXPLOSIVE.has(head)) {
    if (args.some((a) => Math.abs(numberOf(a) ?? 0) > 170 || containsPower(a))) return false;
  }
  if (head === 'Power' && (containsPower(args[1]) || Math.abs(numberOf(args[1]) ?? 0) > 100_000)) return false;
  return args.every((a) => tame(a, budget));
}

function parse(latex: string, limits: SymbolicLimits): Parsed | null {
  if (cache.has(latex)) return cache.get(latex)!;
  if (latex.length === 0 || latex.length > limits.maxLength) return null;
  try {
    const raw = ce().parse(latex, { canonical: false });
    if (!tame(raw.json, { left: limits.maxNodes })) return remember(latex, null);
    const expr = ce().box(raw.json);
    return remember(latex, expr.isValid ? { expr } : null);
  } catch {
    return remember(latex, null);
  }
}

/** A finite real value, or null. */
function realValue(p: Parsed): number | null {
  if (p.value === undefined) {
    const v = p.expr.N();
    p.value = Number.isFinite(v.re) && (v.im === 0 || Number.isNaN(v.im)) && v.isNumberLiteral ? v.re : null;
  }
  return p.value ?? null;
}

function close(a: number, b: number, relTol: number): boolean {
  return a === b || Math.abs(a - b) <= relTol * Math.max(Math.abs(a), Math.abs(b));
}

/** Points at which expressions in free variables are compared (x ↦ 0.3719, y ↦ 1.2831, ...). */
const SAMPLE_POINTS = [
  [0.3719, 1.2831, 2.1597],
  [1.7307, 0.5413, 3.0119],
  [2.6183, 1.9037, 0.7771],
] as const;

/** Whether two expressions in the same free variables (three at most) agree at a few fixed points. */
function agreeAtPoints(a: Expr, b: Expr, relTol: number): boolean | undefined {
  const vars = [...a.unknowns].sort();
  const other = [...b.unknowns].sort();
  if (vars.length === 0 || vars.length > 3 || vars.join() !== other.join()) return undefined;
  for (const point of SAMPLE_POINTS) {
    const sub = Object.fromEntries(vars.map((v, i) => [v, ce().number(point[i]!)]));
    const va = a.subs(sub).N();
    const vb = b.subs(sub).N();
    if (!Number.isFinite(va.re) || !Number.isFinite(vb.re)) return undefined;
    if (!close(va.re, vb.re, relTol) || !close(va.im || 0, vb.im || 0, relTol)) return false;
  }
  return true;
}

/**
 * Whether the engine finds the two LaTeX answers equal: true or false, or undefined where it gave up
 * (unparsable, too long or too large, over the time budget, or undecided).
 */
export function symbolicEqual(
  a: string,
  b: string,
  limits: SymbolicLimits = DEFAULT_SYMBOLIC_LIMITS,
): boolean | undefined {
  ce(); // start-up (≈ 100 ms, once) is not charged to the comparison
  const start = performance.now();
  let verdict: boolean | undefined;
  try {
    const pa = parse(a, limits);
    const pb = parse(b, limits);
    if (pa === null || pb === null) return undefined;
    verdict = pa.expr.isEqual(pb.expr);
    if (verdict !== true) {
      // A "not equal" is trusted only where it can be checked: two numbers, or two expressions in the same
      // variables. Tuples and lists of unevaluated items (`(2^{2}, -1)` vs `(4,-1)`) are left to the caller.
      const va = realValue(pa);
      const vb = realValue(pb);
      verdict = va !== null && vb !== null ? close(va, vb, limits.relTol) : agreeAtPoints(pa.expr, pb.expr, limits.relTol);
    }
  } catch {
    verdict = undefined;
  }
  if (performance.now() - start > limits.timeLimitMs) {
    remember(a, null);
    remember(b, null);
    return undefined;
  }
  return verdict;
}
