import { useEffect, useRef, useState } from 'react';
import { LiveIdentify } from './LiveIdentify.tsx';

/**
 * Live camera preview with a shutter button (getUserMedia). Where the
 * camera cannot be opened (no permission, no camera, insecure origin) it
 * says why and the "Take a photo" file picker remains. "Live" identifies
 * the preview continuously (LiveIdentify); it stops when the page is hidden
 * (and stays off until asked again) and when the camera is closed.
 */
export function CameraCapture({ onPhoto, disabled, onClose }: { onPhoto: (file: File) => void; disabled: boolean; onClose: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(false);

  useEffect(() => {
    const hidden = () => {
      if (document.visibilityState === 'hidden') setLive(false);
    };
    document.addEventListener('visibilitychange', hidden);
    return () => document.removeEventListener('visibilitychange', hidden);
  }, []);

  useEffect(() => {
    let live: MediaStream | null = null;
    let cancelled = false;
    // Not awaited: an effect cannot be async; the body catches its own errors and the cleanup below stops a late stream.
    void (async () => {
      if (!navigator.mediaDevices?.getUserMedia) {
        setError('The camera cannot be used here; use "Take a photo" instead.');
        return;
      }
      try {
        live = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment', width: { ideal: 1920 } }, audio: false });
        if (cancelled) {
          live.getTracks().forEach((t) => t.stop());
          return;
        }
        setStream(live);
        if (video.current) video.current.srcObject = live;
      } catch (err) {
        setError(`The camera could not be opened (${(err as Error).name === 'NotAllowedError' ? 'permission denied' : (err as Error).message}); use "Take a photo" instead.`);
      }
    })();
    return () => {
      cancelled = true;
      live?.getTracks().forEach((t) => t.stop());
    };
  }, []);

  const shoot = async () => {
    const v = video.current;
    if (!v || !v.videoWidth) return;
    const canvas = document.createElement('canvas');
    canvas.width = v.videoWidth;
    canvas.height = v.videoHeight;
    canvas.getContext('2d')!.drawImage(v, 0, 0);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.92));
    if (blob) onPhoto(new File([blob], `camera-${new Date().toISOString().replace(/[:.]/g, '-')}.jpg`, { type: 'image/jpeg' }));
  };

  return (
    <div className="camera">
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : (
        <video ref={video} autoPlay playsInline muted aria-label="Camera preview" />
      )}
      <div className="camera-buttons">
        {stream && (
          <button type="button" onClick={() => void shoot()} disabled={disabled}>
            Shutter
          </button>
        )}
        {stream && (
          <button type="button" className="secondary" onClick={() => setLive((l) => !l)} aria-pressed={live}>
            Live
          </button>
        )}
        <button type="button" className="secondary" onClick={onClose}>
          Close camera
        </button>
      </div>
      {stream && live && <LiveIdentify video={video} onPhoto={onPhoto} disabled={disabled} />}
    </div>
  );
}
