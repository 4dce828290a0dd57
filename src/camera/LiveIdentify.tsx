import { useEffect, useRef, useState, type RefObject } from 'react';
import { DEFAULT_HINTS, DEFAULT_SMOOTHING, initialSmoothing, liveHint, smoothFrame, type LiveHint } from '../../core/live-smoothing.ts';
import { FramePump, type PumpStats } from '../../core/frame-pump.ts';
import { OTHER_LABEL } from '../../core/taxonomy.ts';
import { inference } from '../inference/client.ts';
import type { LiveFrame } from '../../workers/inference/types.ts';

/** How long the sharpest frame stays the photo before a newer, maybe less sharp, one may replace it. */
const RECENT_MS = 3000;

const HINT_TEXT: Record<Exclude<LiveHint, null>, string> = { 'hold-steady': 'Hold steady', 'move-closer': 'Move closer' };

interface Best {
  sharpness: number;
  photo: Blob;
  at: number;
}

export interface LiveCost {
  frames: number;
  dropped: number;
  framesPerSecond: number;
  /** Median worker time per classified frame, and the model's part of it. */
  medianMs: number;
  medianInferenceMs: number;
}

/**
 * Live mode: classifies the preview continuously, one frame in flight at a
 * time (core/frame-pump.ts), smooths the answers (core/live-smoothing.ts)
 * and shows one only once it is stable, with a hint meanwhile. The sharpest
 * frame of the last few seconds is kept; "Use this photo" identifies it as
 * any photo is (saved to history). Unmounting stops it.
 */
export function LiveIdentify({ video, onPhoto, disabled }: { video: RefObject<HTMLVideoElement | null>; onPhoto: (file: File) => void; disabled: boolean }) {
  const [shown, setShown] = useState<{ id: string; name: string } | null>(null);
  const [hint, setHint] = useState<LiveHint>('hold-steady');
  const [cost, setCost] = useState<LiveCost | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [hasPhoto, setHasPhoto] = useState(false);
  const best = useRef<Best | null>(null);
  const blocked = useRef(disabled);
  // The latest value for the frame loop, which reads it between frames, never during render.
  // eslint-disable-next-line react-hooks/refs
  blocked.current = disabled;

  useEffect(() => {
    const smoothing = initialSmoothing();
    const names = new Map<string, string>();
    const ms: number[] = [];
    const inferMs: number[] = [];
    const started = performance.now();
    const controller = new AbortController();
    const pump: FramePump<ImageBitmap, LiveFrame> = new FramePump({
      grab: () => {
        const v = video.current;
        if (!v || v.readyState < 2 || !v.videoWidth) return null;
        return createImageBitmap(v);
      },
      classify: (frame) => {
        const b = best.current;
        const keepAbove = b && performance.now() - b.at < RECENT_MS ? b.sharpness : -1;
        return inference.classifyFrame(frame, keepAbove, controller.signal);
      },
      discard: (frame) => frame.close(),
      onResult: (frame) => {
        if (frame.photo) {
          best.current = { sharpness: frame.sharpness, photo: frame.photo, at: performance.now() };
          setHasPhoto(true);
        }
        const probs: Record<string, number> = { [OTHER_LABEL]: frame.otherProbability };
        for (const s of frame.top5) {
          probs[s.taxonId] = s.probability;
          names.set(s.taxonId, s.commonName);
        }
        const view = smoothFrame(smoothing, probs, DEFAULT_SMOOTHING);
        // A new answer: the photo kept must show it, so the next frame is kept whatever its sharpness.
        if (view.switched && !frame.photo) best.current = null;
        if (view.switched && view.shown) setShown({ id: view.shown, name: view.shown === OTHER_LABEL ? 'Not one of our species' : (names.get(view.shown) ?? view.shown) });
        setHint(liveHint(view, frame.sharpness, DEFAULT_HINTS));
        ms.push(frame.timings.totalMs);
        inferMs.push(frame.timings.inferenceMs);
        if (ms.length > 200) {
          ms.shift();
          inferMs.shift();
        }
        setCost(costOf(pump.stats, ms, inferMs, performance.now() - started));
        setError(null);
      },
      onError: (err) => setError(`Live identification failed on a frame: ${(err as Error).message}`),
    });

    // One offer per new video frame; a frame offered while one is in flight is dropped.
    const v = video.current;
    let handle = 0;
    const useVfc = !!v && 'requestVideoFrameCallback' in v;
    const next = () => {
      if (!v) return;
      if (useVfc) handle = v.requestVideoFrameCallback(tick);
      else handle = requestAnimationFrame(tick);
    };
    const tick = () => {
      if (!blocked.current) pump.offer();
      next();
    };
    next();
    return () => {
      pump.stop();
      controller.abort();
      if (v && useVfc) v.cancelVideoFrameCallback(handle);
      else cancelAnimationFrame(handle);
    };
  }, [video]);

  const take = () => {
    const b = best.current;
    if (b) onPhoto(new File([b.photo], `live-${new Date().toISOString().replace(/[:.]/g, '-')}.jpg`, { type: 'image/jpeg' }));
  };

  return (
    <div
      className="live"
      data-testid="live"
      data-frames={cost?.frames ?? 0}
      data-dropped={cost?.dropped ?? 0}
      data-fps={cost?.framesPerSecond.toFixed(2) ?? ''}
      data-median-ms={cost?.medianMs.toFixed(1) ?? ''}
      data-median-inference-ms={cost?.medianInferenceMs.toFixed(1) ?? ''}
    >
      <p className="live-answer" data-testid="live-answer" data-taxon={shown?.id ?? ''} aria-live="polite">
        {shown ? shown.name : 'Looking…'}
      </p>
      <p className="live-hint" data-testid="live-hint" role="status">
        {hint ? HINT_TEXT[hint] : ''}
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {cost && (
        <p className="hint">
          {cost.framesPerSecond.toFixed(1)} frames/s, {cost.medianMs.toFixed(0)} ms each
        </p>
      )}
      <button type="button" onClick={take} disabled={disabled || !hasPhoto}>
        Use this photo
      </button>
    </div>
  );
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
};

function costOf(stats: PumpStats, ms: number[], inferMs: number[], elapsedMs: number): LiveCost {
  return {
    frames: stats.done,
    dropped: stats.dropped,
    framesPerSecond: stats.done / (elapsedMs / 1000),
    medianMs: median(ms),
    medianInferenceMs: median(inferMs),
  };
}
