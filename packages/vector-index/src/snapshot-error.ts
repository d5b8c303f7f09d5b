import { AffinityError, type AffinityErrorOptions } from '@affinity/contracts';

/** A snapshot file that cannot be used: corrupt, truncated, another format or another shard shape. Not retriable. */
export class SnapshotError extends AffinityError {
  constructor(message: string, options: AffinityErrorOptions = {}) {
    super('SNAPSHOT_INVALID', message, { ...options, retriable: false });
  }
}
