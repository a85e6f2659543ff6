/**
 * Prints the figures the reliability tests recorded (test/reliability/figures.ts) as one table
 * after the run, whichever files ran and in whatever order. Plain JS: Jest loads reporters
 * without a transform.
 */
const { existsSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');

const FIGURES_FILE = join(__dirname, '..', '..', '.reliability', 'figures.jsonl');

class FiguresReporter {
  onRunStart() {
    rmSync(FIGURES_FILE, { force: true }); // figures of this run only
  }

  onRunComplete() {
    if (!existsSync(FIGURES_FILE)) return;
    const rows = readFileSync(FIGURES_FILE, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line));
    const profile = process.env.RELIABILITY_PROFILE || 'ci';
    const header = ['area', 'figure', 'value'];
    const cells = rows.map((r) => [r.area, r.figure, String(r.value)]);
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const line = (c) =>
      `| ${c.map((v, i) => (i === 2 ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join(' | ')} |`;
    const out = [
      '',
      `Reliability figures (profile ${profile})`,
      line(header),
      `|${widths.map((w, i) => (i === 2 ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|')}|`,
      ...cells.map(line),
      '',
    ];
    process.stdout.write(out.join('\n') + '\n');
  }
}

module.exports = FiguresReporter;
