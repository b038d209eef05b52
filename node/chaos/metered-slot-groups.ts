// The chaos coordinator's view of what a batch cost, measured at the slot-move API rather than inside driveMove: a
// batch that is retried after a member died starts a new driveMove (whose own pause figure then begins late), but
// the writes were refused from the first freeze sent, whichever attempt sent it, until the target first served.
import type { ExportPage, SlotGroups, SlotRecord, StepOutcome } from '../shared/sharding/move-driver.js';

export interface BatchMeter {
  /** From the first freeze sent to the first activate the target acknowledged (or to the batch's end). */
  readonly pauseMs: number;
  /** Keys the target acknowledged, pages redone by a retried attempt included. */
  readonly keysIngested: number;
  /** Calls that failed (threw), each of which cost a retry somewhere. */
  readonly failedCalls: number;
}

export class MeteredSlotGroups implements SlotGroups {
  private freezeAt: number | undefined;
  private servedAt: number | undefined;
  private keysIngested = 0;
  private failedCalls = 0;

  constructor(
    private readonly inner: SlotGroups,
    private readonly now: () => number,
  ) {}

  /** Batches run one at a time: this starts the next one's figures. */
  startBatch(): void {
    this.freezeAt = undefined;
    this.servedAt = undefined;
    this.keysIngested = 0;
    this.failedCalls = 0;
  }

  finishBatch(): BatchMeter {
    const end = this.servedAt ?? this.now();
    return {
      pauseMs: this.freezeAt === undefined ? 0 : Math.max(0, end - this.freezeAt),
      keysIngested: this.keysIngested,
      failedCalls: this.failedCalls,
    };
  }

  private async counted<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (err) {
      this.failedCalls += 1;
      throw err;
    }
  }

  status(...call: Parameters<SlotGroups['status']>): Promise<{ epoch: number; records: SlotRecord[] }> {
    return this.counted(this.inner.status(...call));
  }

  async step(...call: Parameters<SlotGroups['step']>): Promise<StepOutcome> {
    const step = call[1];
    if (step === 'freeze') this.freezeAt ??= this.now();
    const outcome = await this.counted(this.inner.step(...call));
    if (step === 'activate' && outcome.ok) this.servedAt ??= this.now();
    return outcome;
  }

  exportPage(...call: Parameters<SlotGroups['exportPage']>): Promise<ExportPage> {
    return this.counted(this.inner.exportPage(...call));
  }

  async ingest(...call: Parameters<SlotGroups['ingest']>): Promise<StepOutcome> {
    const outcome = await this.counted(this.inner.ingest(...call));
    if (outcome.ok) this.keysIngested += call[3].length;
    return outcome;
  }
}
