import { runCli } from '../../src/cli/cli';

/** Runs an image-pipeline command in this process, as the shell would, with what it printed and its exit code. */
export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}
