// Makes a benchmark that does not finish fail loudly. A promise that never
// settles holds no handle, so Node simply runs out of work and exits 0 with
// no figure printed; 'beforeExit' is the one place that still sees it.
'use strict';

/**
 * `start()` loads the benchmark and returns its main promise (`finished`).
 * Until it settles, the last line written to stdout is kept to say where
 * the run stopped.
 */
function guardBenchmark(name, start, output = process.stdout) {
  let settled = false;
  let lastLine = '(nothing printed yet)';
  const write = output.write;
  output.write = function rememberLastLine(chunk, ...rest) {
    const lines = String(chunk).split('\n').filter((line) => line.trim() !== '');
    if (lines.length > 0) lastLine = lines[lines.length - 1];
    return write.call(this, chunk, ...rest);
  };

  const finished = start();
  if (!finished || typeof finished.then !== 'function') {
    process.stderr.write(`bench:${name}: bench/${name}.bench.ts must export \`finished\`, the promise of its run\n`);
    process.exitCode = 2;
    return;
  }
  finished.then(
    () => {
      settled = true;
    },
    (error) => {
      settled = true;
      process.stderr.write(`bench:${name} failed: ${error && error.stack ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    },
  );
  process.on('beforeExit', () => {
    if (settled) return;
    settled = true; // say it once
    process.stderr.write(
      `bench:${name} DID NOT FINISH: the process ran out of work while the benchmark still awaited a promise that never settles.\n` +
        `  Last output: ${lastLine}\n`,
    );
    process.exitCode = 1;
  });
}

module.exports = { guardBenchmark };
