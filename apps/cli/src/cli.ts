import { ConfigError, loadConfig } from '@aftersales/config';
import { main as runProjectionsCommand } from './projections';
import { runSeedCommand } from './seed/seed-main';
import { SEED_USAGE } from './seed/seed-arguments';
import { PROJECTIONS_USAGE } from './projections-command';
import { TOKEN_USAGE, UsageError, issueDevelopmentToken, parseTokenArguments } from './token-command';

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  token         print a development token (npm run cli -- token --help)
  projections   read models: status, rebuild [name]
  seed          write a realistic after-sales history into the event store
  help          this text, or the usage of one command: help <command>`;

const COMMAND_USAGE: Readonly<Record<string, string>> = { token: TOKEN_USAGE, projections: PROJECTIONS_USAGE, seed: SEED_USAGE };

/** `npm run cli -- <command> ...`: one entry for the operator commands; the exit code is what the command returns. */
async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'token':
      return token(rest);
    case 'projections':
      return runProjectionsCommand(rest);
    case 'seed':
      return runSeedCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h': {
      const usage = rest[0] !== undefined ? COMMAND_USAGE[rest[0]] : undefined;
      if (rest[0] !== undefined && usage === undefined) {
        process.stderr.write(`cli: unknown command ${rest[0]}\n\n${USAGE}\n`);
        return 2;
      }
      process.stdout.write(`${usage ?? USAGE}\n`);
      return 0;
    }
    default:
      process.stderr.write(`cli: unknown command ${command}\n\n${USAGE}\n`);
      return 2;
  }
}

/** As `npm run token`: the token alone on stdout. */
async function token(argv: readonly string[]): Promise<number> {
  let request;
  try {
    request = parseTokenArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`token: ${error.message}\n\n${TOKEN_USAGE}\n`);
    return 2;
  }
  if (request === 'help') {
    process.stdout.write(`${TOKEN_USAGE}\n`);
    return 0;
  }
  try {
    process.stdout.write(`${await issueDevelopmentToken(request, loadConfig().auth)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`token: ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cli: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
