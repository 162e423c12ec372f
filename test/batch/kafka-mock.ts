import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export const hasKcat = () => spawnSync('kcat', ['-V'], { stdio: 'ignore' }).status === 0;

export interface MockCluster {
  brokers: string;
  stop(): void;
}

/**
 * librdkafka's mock Kafka cluster, hosted by kcat (Debian package): a real Kafka protocol peer in-process-free.
 * `settings` are further librdkafka `test.mock.*` properties, such as `test.mock.broker.rtt` (response delay, ms).
 */
export async function startMockCluster(settings: Record<string, string | number> = {}): Promise<MockCluster> {
  const extra = Object.entries(settings).flatMap(([name, value]) => ['-X', `${name}=${value}`]);
  const child: ChildProcess = spawn('kcat', ['-b', 'x:1', '-X', 'test.mock.num.brokers=1', ...extra, '-C', '-t', 'keepalive', '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const brokers = await new Promise<string>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`kcat printed no mock broker address: ${stderr}`)), 10_000);
    child.stderr!.on('data', (chunk) => {
      stderr += String(chunk);
      const match = /(127\.0\.0\.1:\d+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`kcat exited (${code}): ${stderr}`)));
  });
  return { brokers, stop: () => void child.kill() };
}
