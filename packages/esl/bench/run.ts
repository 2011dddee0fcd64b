/**
 * Benchmark entry point (`npm run bench` at the repository root).
 *
 *   node dist/bench/run.js [suite…] [--quick] [--no-socket]
 *
 * With no suite names every suite runs. To add a benchmark, write a module exporting
 * `run(options): Promise<boolean>` (false when a contender produced wrong results) and list it in
 * SUITES; bench/harness.ts has the timing loop and the results table.
 */
export interface SuiteOptions {
  /** Smaller inputs and shorter timing, for a smoke run. */
  quick: boolean;
  /** Skip the loopback TCP runs. */
  noSocket: boolean;
}

type Suite = { run(options: SuiteOptions): Promise<boolean> };

const SUITES: Record<string, { describe: string; load: () => Promise<Suite> }> = {
  parser: {
    describe: 'event stream parsing vs esl and modesl, and the bare framing floor',
    load: () => import('./parser.js'),
  },
  client: { describe: 'inbound client: pipelined api calls/s and end-to-end events/s vs esl and modesl', load: () => import('./client.js') },
  server: { describe: 'outbound server: CPU per full call flow via the simulator and memory per idle session vs esl and modesl, in rounds', load: () => import('./server.js') },
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    console.log('usage: run.js [suite…] [--quick] [--no-socket]\n\nsuites:');
    for (const [name, s] of Object.entries(SUITES)) console.log(`  ${name.padEnd(10)} ${s.describe}`);
    return;
  }
  const options: SuiteOptions = { quick: args.includes('--quick'), noSocket: args.includes('--no-socket') };
  const names = args.filter((a) => !a.startsWith('--'));
  for (const n of names) if (!(n in SUITES)) throw new Error(`unknown suite ${n}; try --help`);
  const selected = names.length > 0 ? names : Object.keys(SUITES);

  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  const started = Date.now();
  let ok = true;
  for (const name of selected) {
    console.log(`\n== ${name}: ${SUITES[name]!.describe}`);
    const suite = await SUITES[name]!.load();
    ok = (await suite.run(options)) && ok;
  }
  console.log(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (!ok) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
