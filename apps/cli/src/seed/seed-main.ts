import { ConfigError, loadConfig } from '@aftersales/config';
import { UsageError } from '../token-command';
import { StoreNotEmptyError, formatSummary, seed } from './seed';
import { SEED_USAGE, parseSeedArguments } from './seed-arguments';

/** `npm run cli -- seed [--cases N] [--days D] [--seed S] [--append]`: progress on stderr, the summary on stdout. */
export async function runSeedCommand(argv: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseSeedArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`seed: ${error.message}\n\n${SEED_USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${SEED_USAGE}\n`);
    return 0;
  }
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`seed: ${error.message}\n`);
    return 1;
  }
  try {
    const summary = await seed(config, options, { write: (text) => process.stderr.write(text), isTTY: process.stderr.isTTY });
    process.stdout.write(`${formatSummary(summary)}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof StoreNotEmptyError)) throw error;
    process.stderr.write(`seed: ${error.message}\n`);
    return 1;
  }
}
