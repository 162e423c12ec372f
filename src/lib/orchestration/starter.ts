/** What the engine knows about an instance: Durable's runtime status, and the output or the failure it ended with. */
export interface OrchestrationStatus {
  runtimeStatus: 'Pending' | 'Running' | 'Completed' | 'ContinuedAsNew' | 'Failed' | 'Canceled' | 'Terminated' | 'Suspended';
  output?: unknown;
  failure?: string;
  customStatus?: unknown;
}

/** Port to the orchestration engine: Durable Functions in Azure, the local Durable backend locally. */
export interface OrchestrationStarter {
  /**
   * Starts `name` with instance id `instanceId` unless an instance with that id exists in any state.
   * Resolves to false when it already existed (another trigger instance or an earlier delivery started it).
   */
  startOnce(name: string, instanceId: string, input: unknown): Promise<boolean>;
  /** The instance's status, or undefined when there is no instance with that id. */
  getStatus(instanceId: string): Promise<OrchestrationStatus | undefined>;
}
