/** Port to the orchestration engine: Durable Functions in Azure, the in-process runner locally. */
export interface OrchestrationStarter {
  /**
   * Starts `name` with instance id `instanceId` unless an instance with that id exists in any state.
   * Resolves to false when it already existed (another trigger instance or an earlier delivery started it).
   */
  startOnce(name: string, instanceId: string, input: unknown): Promise<boolean>;
}
