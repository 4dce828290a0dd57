import { useRef, useState, type ChangeEvent, type DragEvent } from 'react';
import { CameraCapture } from '../camera/CameraCapture.tsx';

/** Choose a photo from the device, take one with the camera (live or the system camera), or drop one. */
export function PhotoPicker({ onPhoto, disabled }: { onPhoto: (file: File) => void; disabled: boolean }) {
  const [dragging, setDragging] = useState(false);
  const [camera, setCamera] = useState(false);
  const choose = useRef<HTMLInputElement>(null);
  const capture = useRef<HTMLInputElement>(null);

  const picked = (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    e.target.value = ''; // picking the same file again should identify it again
    if (file) onPhoto(file);
  };
  const dropped = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const file = e.dataTransfer.files[0];
    if (file && !disabled) onPhoto(file);
  };

  return (
    <>
      <div
        className={`picker${dragging ? ' dragging' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={dropped}
      >
        <button type="button" onClick={() => choose.current?.click()} disabled={disabled}>
          Choose a photo
        </button>
        <button type="button" onClick={() => capture.current?.click()} disabled={disabled}>
          Take a photo
        </button>
        <button type="button" className="secondary" onClick={() => setCamera((c) => !c)} aria-pressed={camera}>
          Live camera
        </button>
        <input ref={choose} type="file" accept="image/*" onChange={picked} hidden data-testid="photo-input" aria-label="Choose a photo" />
        <input ref={capture} type="file" accept="image/*" capture="environment" onChange={picked} hidden aria-label="Take a photo" />
        <p className="hint">or drop a photo here</p>
      </div>
      {camera && <CameraCapture onPhoto={onPhoto} disabled={disabled} onClose={() => setCamera(false)} />}
    </>
  );
}
