import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeInstance {
  name: string;
  runtimeStatus: string;
  input: unknown;
  output: unknown;
  /** ISO time; now when not given. */
  createdTime?: string;
}

/**
 * A fake of the Durable Functions extension's HTTP API, the one durable-functions' client calls at the binding's
 * rpcBaseUrl: GET instances/{id} answers 404 or the instance's status; POST orchestrators/{name}/{id} creates the
 * instance, or answers the extension's "already exists" error when it exists. `startError` makes every start fail.
 * DELETE instances/?createdTimeFrom&createdTimeTo&runtimeStatus purges the matching instances, answering their
 * number, or 404 when none matched (as the extension does); `purges` records each query.
 */
export async function startFakeDurableExtension() {
  const instances = new Map<string, FakeInstance>();
  const posts: string[] = [];
  const purges: Array<Record<string, string>> = [];
  const state: { startError?: { status: number; message: string } } = {};
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://fake');
    const reply = (status: number, body?: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? '' : JSON.stringify(body));
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const [, kind, first, second] = url.pathname.split('/');
      if (req.method === 'GET' && kind === 'instances') {
        const instance = instances.get(decodeURIComponent(first));
        if (!instance) return reply(404);
        const now = new Date().toISOString();
        return reply(200, { createdTime: now, ...instance, instanceId: decodeURIComponent(first), lastUpdatedTime: now, customStatus: null });
      }
      if (req.method === 'DELETE' && kind === 'instances' && !first) {
        const query = Object.fromEntries(url.searchParams);
        purges.push(query);
        const statuses = query.runtimeStatus?.split(',');
        const matching = [...instances].filter(([, instance]) => {
          const created = instance.createdTime ?? new Date().toISOString();
          return (!query.createdTimeFrom || created >= query.createdTimeFrom) && (!query.createdTimeTo || created <= query.createdTimeTo) && (!statuses || statuses.includes(instance.runtimeStatus));
        });
        for (const [id] of matching) instances.delete(id);
        return matching.length ? reply(200, { instancesDeleted: matching.length }) : reply(404);
      }
      if (req.method === 'POST' && kind === 'orchestrators') {
        const id = decodeURIComponent(second);
        posts.push(id);
        if (state.startError) return reply(state.startError.status, { Message: state.startError.message });
        if (instances.has(id)) return reply(400, { Message: 'An Orchestration instance with the status Running already exists.' });
        instances.set(id, { name: first, runtimeStatus: 'Pending', input: JSON.parse(text), output: null, createdTime: new Date().toISOString() });
        return reply(202, { id });
      }
      reply(404);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const rpcBaseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const urls = { id: 'x', statusQueryGetUri: 'http://unused', sendEventPostUri: '', terminatePostUri: '', rewindPostUri: '', purgeHistoryDeleteUri: '', restartPostUri: '' };
  return {
    instances,
    posts,
    purges,
    state,
    /** What the Functions host hands a function as its durable client input. */
    clientData: { taskHubName: 'ImagePipeline', creationUrls: { createNewInstancePostUri: '', createAndWaitOnNewInstancePostUri: '' }, managementUrls: urls, baseUrl: rpcBaseUrl, requiredQueryStringParameters: '', rpcBaseUrl },
    reset() {
      instances.clear();
      posts.length = 0;
      purges.length = 0;
      state.startError = undefined;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
