// The storage backstop of the privacy policy as a check over lifecycle rules, shared by the source-level tests
// (tree-sitter, every allowed parameter value) and the compiled ones (bicep snapshot of each profile).

/**
 * How long lifecycle management may take to act on an eligible blob: runs about once a day, and up to 24 hours more
 * after the policy is added or changed (infra/README.md, "Retention in storage").
 */
export const LIFECYCLE_RUN_DELAY_DAYS = 2;

/** The blob trigger's receipts, named after the blobs they stand for (the host writes them; no container of ours). */
export const BLOB_RECEIPTS_PREFIX = 'azure-webjobs-hosts/blobreceipts/';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * What is wrong with `rules` as the backstop of a `retentionDays` policy with `softDeleteDays` of soft delete: every
 * prefix in `prefixes` must be under an enabled rule for block and append blobs that deletes base blobs, snapshots and
 * versions counted from creation, early enough that the rule's age, the run delay and soft delete end within the
 * policy. Empty when nothing is wrong.
 */
export function lifecycleViolations(rules: Json[], policy: { retentionDays: number; softDeleteDays: number; prefixes: string[] }): string[] {
  const problems: string[] = [];
  const enabled = rules.filter((r) => r.enabled === true && r.type === 'Lifecycle');
  for (const prefix of policy.prefixes) {
    const covering = enabled.filter((r) => (r.definition?.filters?.prefixMatch ?? ['']).some((p: unknown) => typeof p === 'string' && prefix.startsWith(p)));
    if (!covering.length) {
      problems.push(`${prefix} is under no enabled lifecycle rule`);
      continue;
    }
    for (const rule of covering) {
      const types: unknown = rule.definition?.filters?.blobTypes;
      for (const type of ['blockBlob', 'appendBlob']) if (!Array.isArray(types) || !types.includes(type)) problems.push(`${rule.name}: ${type}s under ${prefix} are not covered`);
      for (const target of ['baseBlob', 'snapshot', 'version']) {
        const condition: Json | undefined = rule.definition?.actions?.[target]?.delete;
        if (!condition) {
          problems.push(`${rule.name}: ${target}s under ${prefix} are never deleted`);
          continue;
        }
        const other = Object.keys(condition).filter((key) => key !== 'daysAfterCreationGreaterThan');
        if (other.length) problems.push(`${rule.name}: ${target} deletion counts from ${other.join(', ')}, not only from creation`);
        const days = condition.daysAfterCreationGreaterThan;
        if (typeof days !== 'number') {
          problems.push(`${rule.name}: ${target} deletion is not counted from creation`);
          continue;
        }
        const gone = days + LIFECYCLE_RUN_DELAY_DAYS + policy.softDeleteDays;
        if (days < 0 || gone > policy.retentionDays) {
          problems.push(`${rule.name}: ${target}s under ${prefix} can live ${days} + ${LIFECYCLE_RUN_DELAY_DAYS} + ${policy.softDeleteDays} = ${gone} days, over the ${policy.retentionDays}-day policy`);
        }
      }
    }
  }
  return problems;
}
