/** `n` transform nodes in a chain, each reading its predecessor's output (≈105 bytes a node). */
export function chainMelody(n: number): string {
  const lines = ['name: big', 'nodes:'];
  for (let i = 0; i < n; i++) {
    lines.push(`  n${i}:`, '    uses: transform');
    if (i) lines.push(`    needs: [n${i - 1}]`, `    with: { value: "\${{ nodes.n${i - 1}.output }}" }`);
    else lines.push('    with: { value: 0 }');
  }
  return lines.join('\n') + '\n';
}
