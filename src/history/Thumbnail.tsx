import { useEffect, useState } from 'react';

export function Thumbnail({ blob, alt, className }: { blob: Blob | null; alt: string; className?: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (!blob) return;
    const u = URL.createObjectURL(blob);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [blob]);
  return url ? <img src={url} alt={alt} className={className} /> : <div className={`${className ?? ''} no-thumb`} aria-hidden="true" />;
}
