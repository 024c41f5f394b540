import { ConfigError, loadConfig } from '@aftersales/config';
import { TOKEN_USAGE, UsageError, issueDevelopmentToken, parseTokenArguments } from './token-command';

/** `npm run token -- --role buyer --sub u1`: prints a development token on stdout, nothing else. */
async function main(argv: readonly string[]): Promise<number> {
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
    process.stderr.write(`token: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  },
);
