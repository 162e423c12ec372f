/** Where an orchestration instance stands: still going, or ended (`error` says why a failed one failed). */
export interface InstanceState {
  status: 'running' | 'completed' | 'failed';
  error?: string;
}

/** Port to the orchestration engine: Durable Functions in Azure, the in-process engine locally. */
export interface OrchestrationStarter {
  /**
   * Starts `name` with instance id `instanceId` unless an instance with that id exists in any state.
   * Resolves to false when it already existed (another trigger instance or an earlier delivery started it).
   */
  startOnce(name: string, instanceId: string, input: unknown): Promise<boolean>;
  /**
   * The instance's state, or undefined when no instance has this id. Durable's Pending, Running, ContinuedAsNew and
   * Suspended are running; Failed, Terminated and Canceled are failed.
   */
  state(instanceId: string): Promise<InstanceState | undefined>;
  /**
   * Purges the histories (with their inputs and outputs) of the instances created before `createdBefore` that have
   * ended (completed, failed, terminated, canceled); running instances are kept. Resolves to how many it purged.
   * The retention sweep calls it, so no history outlives RETENTION_DAYS.
   */
  purgeEnded(createdBefore: Date): Promise<number>;
}
