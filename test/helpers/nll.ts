/**
 * Sum of −log softmax(row i)[tokens[i + 1]] for i in [from, tokens.length − 1), from row-major logits
 * [n × vocab] (row i predicts token i + 1), in f64 with the row's max subtracted. Perplexity tests
 * divide it by the number of scored tokens.
 */
export function sumNll(logits: Float32Array, tokens: readonly number[], vocab: number, from = 0): number {
  let sum = 0;
  for (let i = from; i + 1 < tokens.length; i++) {
    const row = logits.subarray(i * vocab, (i + 1) * vocab);
    let max = -Infinity;
    for (const v of row) max = Math.max(max, v);
    let z = 0;
    for (const v of row) z += Math.exp(v - max);
    sum -= row[tokens[i + 1]!]! - max - Math.log(z);
  }
  return sum;
}

/** Mean negative log-likelihood of tokens[1..] under row-major logits [n × vocab]. */
export function meanNll(logits: Float32Array, tokens: readonly number[], vocab: number): number {
  return sumNll(logits, tokens, vocab) / (tokens.length - 1);
}
