import { z } from 'zod';
import type { Logger } from '../logger';
import { sweepBatches } from '../orchestration/batch-sweep';
import type { OrchestrationStarter } from '../orchestration/starter';
import type { Services } from '../services';
import { json, type ApiRequest, type ApiResponse } from './http';

/** POST /api/batch-sweep's answer: the batches the sweep moved on. */
export const SweepOutcome = z
  .strictObject({
    closed: z.array(z.string()).meta({ description: 'Receiving batches whose receive window closed: processed with what arrived.' }),
    resumed: z.array(z.string()).meta({ description: 'Processing batches whose orchestration had not started.' }),
    failed: z.array(z.string()).meta({ description: 'Processing batches whose orchestration failed without recording it.' }),
  })
  .meta({ id: 'SweepOutcome' });

/**
 * POST /api/batch-sweep: runs the batch sweep now, as the maintenance timer does every minute (closes batches whose
 * receive window ran out, starts or fails batches stuck in processing), and answers what it did. Operators only.
 */
export async function runBatchSweep(_request: ApiRequest, services: Services, orchestrations: () => OrchestrationStarter, _caller: unknown, log: Logger): Promise<ApiResponse> {
  const result = await sweepBatches({ services, starter: orchestrations(), log, timeoutSeconds: services.config.batchReceiveTimeoutSeconds });
  return json(200, result satisfies z.infer<typeof SweepOutcome>);
}
