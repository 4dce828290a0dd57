/**
 * Keeps at most one live frame in flight: a frame offered while the last one
 * is still being grabbed or classified is dropped, not queued, so the answer
 * always describes a recent frame and a slow device classifies fewer frames
 * instead of falling behind. Counts what it did, for the cost per second.
 */

export interface PumpStats {
  /** Frames offered by the camera. */
  offered: number;
  /** Frames dropped because one was in flight. */
  dropped: number;
  /** Frames classified. */
  done: number;
  /** Frames that failed (grab or classify threw); the pump goes on. */
  failed: number;
  /** The most frames ever in flight at once (1 by construction; tests and the e2e check it). */
  maxInFlight: number;
}

export class FramePump<F, R> {
  private inFlight = 0;
  private stopped = false;
  readonly stats: PumpStats = { offered: 0, dropped: 0, done: 0, failed: 0, maxInFlight: 0 };

  /**
   * grab takes the current frame (null when there is none yet); classify
   * runs it; onResult and onError see each outcome unless the pump was
   * stopped meanwhile.
   */
  constructor(
    private readonly work: {
      grab: () => Promise<F | null> | F | null;
      classify: (frame: F) => Promise<R>;
      onResult: (result: R) => void;
      onError?: (err: unknown) => void;
      /** Frees a grabbed frame that will not be classified (the pump stopped meanwhile). */
      discard?: (frame: F) => void;
    },
  ) {}

  get busy(): boolean {
    return this.inFlight > 0;
  }

  /** Offers the camera's newest frame; returns whether it was taken. */
  offer(): boolean {
    if (this.stopped) return false;
    this.stats.offered++;
    if (this.inFlight > 0) {
      this.stats.dropped++;
      return false;
    }
    this.inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
    void this.run();
    return true;
  }

  /** No more frames are taken and no outcome is delivered after this. */
  stop(): void {
    this.stopped = true;
  }

  private async run() {
    try {
      const frame = await this.work.grab();
      if (frame === null) return;
      if (this.stopped) {
        this.work.discard?.(frame);
        return;
      }
      const result = await this.work.classify(frame);
      this.stats.done++;
      if (!this.stopped) this.work.onResult(result);
    } catch (err) {
      this.stats.failed++;
      if (!this.stopped) this.work.onError?.(err);
    } finally {
      this.inFlight--;
    }
  }
}
