import * as df from 'durable-functions';
import type { InstanceState, OrchestrationStarter } from '../lib/orchestration/starter';

const ENDED_FAILED = new Set<string>([df.OrchestrationRuntimeStatus.Failed, df.OrchestrationRuntimeStatus.Terminated, df.OrchestrationRuntimeStatus.Canceled]);
const ENDED = [df.OrchestrationRuntimeStatus.Completed, ...ENDED_FAILED] as df.OrchestrationRuntimeStatus[];

/** Durable's client as the orchestration port: instance ids are chosen by the caller, and each is started at most once. */
function durableStarter(client: df.DurableClient): OrchestrationStarter {
  async function state(instanceId: string): Promise<InstanceState | undefined> {
    let status: df.DurableOrchestrationStatus;
    try {
      status = await client.getStatus(instanceId, { showInput: false });
    } catch (error) {
      // getStatus throws on 404: no instance with this id.
      if (/\b404\b/.test((error as Error).message)) return undefined;
      throw error;
    }
    if (!status.runtimeStatus) return undefined;
    if (status.runtimeStatus === df.OrchestrationRuntimeStatus.Completed) return { status: 'completed' };
    if (ENDED_FAILED.has(status.runtimeStatus)) {
      const output = status.output;
      return { status: 'failed', error: `${status.runtimeStatus}: ${typeof output === 'string' ? output : JSON.stringify(output)}` };
    }
    return { status: 'running' };
  }

  return {
    state,
    async purgeEnded(createdBefore) {
      // Durable filters by creation time; an instance that ended was created before it ended, so this takes at
      // least every instance that ended before createdBefore.
      const result = await client.purgeInstanceHistoryBy({ createdTimeFrom: new Date(0), createdTimeTo: createdBefore, runtimeStatus: ENDED });
      return result.instancesDeleted;
    },
    async startOnce(name, instanceId, input) {
      // startNew would restart an instance that has ended: any existing instance means "already started".
      if (await state(instanceId)) return false;
      try {
        await client.startNew(name, { instanceId, input });
        return true;
      } catch (error) {
        // Another trigger instance won the race between our getStatus and startNew.
        if (/already exists|409|Conflict/i.test((error as Error).message)) return false;
        throw error;
      }
    },
  };
}

/** The starter for an invocation registered with `extraInputs: [df.input.durableClient()]`. */
export const invocationStarter = (context: Parameters<typeof df.getClient>[0]) => durableStarter(df.getClient(context));
