// A member refuses a key whose slot its group does not serve with this trailer: the redirect as JSON
// ({"slot","epoch","owner","moving"}), FAILED_PRECONDITION when another group serves the slot, UNAVAILABLE while it
// moves. Nothing was applied either way: a router retries at the owner (or, while the slot moves, shortly). One
// home for the name and the parsing, used by members relaying a forwarded answer and by clients.
import type { ServiceError } from '@grpc/grpc-js';

export const SLOT_REDIRECT_HEADER = 'x-raftstore-slot-redirect';

/** The trailer's content, as the member that refused wrote it. */
export interface SlotRedirectTrailer {
  readonly slot: number;
  /** The highest map epoch the refusing group has seen. */
  readonly epoch: number;
  /** The group it believes serves the slot; undefined when it has no idea. */
  readonly owner: number | undefined;
  readonly moving: boolean;
}

/** The redirect trailer of `err`, if it carries a well-formed one (a malformed trailer is no redirect). */
export function slotRedirectOf(err: unknown): SlotRedirectTrailer | undefined {
  const raw = (err as Partial<ServiceError> | undefined)?.metadata?.get(SLOT_REDIRECT_HEADER)[0];
  if (raw === undefined) return undefined;
  try {
    const r = JSON.parse(String(raw)) as Partial<Record<keyof SlotRedirectTrailer, unknown>>;
    if (typeof r.slot !== 'number' || typeof r.epoch !== 'number' || typeof r.moving !== 'boolean') {
      return undefined;
    }
    return {
      slot: r.slot,
      epoch: r.epoch,
      owner: typeof r.owner === 'number' ? r.owner : undefined,
      moving: r.moving,
    };
  } catch {
    return undefined;
  }
}
