#!/usr/bin/env node

/**
 * The app as a program: `node src/cli.js '[1,2,3]' [sliceMs]` prints the squares as JSON; a failure
 * prints `error <code>: <message>` and exits with 1.
 */
const { squares } = require('./squares');

squares(JSON.parse(process.argv[2] ?? '[]'), { sliceMs: Number(process.argv[3] ?? 0) }).then(
  (results) => {
    process.stdout.write(`${JSON.stringify(results)}\n`);
    process.exit(0);
  },
  (error) => {
    process.stderr.write(`error ${error?.code ?? ''}: ${error?.message ?? error}\n`);
    process.exit(1);
  },
);
