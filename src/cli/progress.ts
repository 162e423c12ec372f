/** A one-line progress bar on stderr (redrawn in place on a terminal, a line per 10% otherwise). */
export function progressBar(label: string, total: number, stream: NodeJS.WriteStream = process.stderr) {
  const width = 30;
  let lastDecile = -1;
  const render = (done: number, note = '') => {
    const ratio = total ? Math.min(1, done / total) : 1;
    const filled = Math.round(ratio * width);
    const line = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${note}`.trimEnd();
    if (stream.isTTY) {
      stream.write(`\r${line}\x1b[K`);
    } else if (Math.floor(ratio * 10) > lastDecile) {
      lastDecile = Math.floor(ratio * 10);
      stream.write(`${line}\n`);
    }
  };
  render(0);
  return {
    update: render,
    done(note = '') {
      render(total, note);
      if (stream.isTTY) stream.write('\n');
    },
  };
}
