// Finds the Temporal CLI, or builds it from Go modules. Its own downloader (and the SDK's) needs
// temporal.download, which offline machines cannot reach; `go install` only needs the Go module
// proxy. v1.5.1 (server 1.29.1, UI 2.42.1) is the newest tag whose go.mod has no `replace`
// directive, which `go install pkg@version` refuses.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { TOOLS_DIR } from './paths.ts';

const run = promisify(execFile);
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
const LOCAL_CLI = path.join(TOOLS_DIR, 'bin', 'temporal');

async function executable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(() => true, () => false);
}

async function onPath(name: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && (await executable(path.join(dir, name)))) return path.join(dir, name);
  }
  return null;
}

async function findGo(): Promise<string | null> {
  return (await onPath('go')) ?? ((await executable('/usr/local/go/bin/go')) ? '/usr/local/go/bin/go' : null);
}

/** The CLI's path, building it if needed; null when there is neither a CLI nor Go. */
export async function ensureTemporalCli(log: (line: string) => void = console.log): Promise<string | null> {
  if (process.env.TEMPORAL_CLI) {
    if (!(await executable(process.env.TEMPORAL_CLI))) throw new Error(`TEMPORAL_CLI=${process.env.TEMPORAL_CLI} is not an executable`);
    return process.env.TEMPORAL_CLI;
  }
  if (await executable(LOCAL_CLI)) return LOCAL_CLI;
  const installed = await onPath('temporal');
  if (installed) return installed;
  const go = await findGo();
  if (!go) return null;
  log(`Building the Temporal CLI from Go modules (${TEMPORAL_CLI_MODULE}); the first build takes a few minutes…`);
  try {
    await run(go, ['install', TEMPORAL_CLI_MODULE], {
      env: { ...process.env, GOBIN: path.dirname(LOCAL_CLI), GOFLAGS: '-mod=mod' },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`go install ${TEMPORAL_CLI_MODULE} failed:\n${err.stderr ?? err.message}`);
  }
  return LOCAL_CLI;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cli = await ensureTemporalCli();
  if (!cli) {
    console.error('No Temporal CLI and no Go toolchain: install Go, or set TEMPORAL_CLI to a temporal binary.');
    process.exit(1);
  }
  console.log(cli);
}
