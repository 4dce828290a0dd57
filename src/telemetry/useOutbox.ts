import { useEffect, useState } from 'react';
import { onOutboxChange, outboxLength } from './outbox.ts';

/** Number of events waiting to be sent. */
export function useOutboxLength(): number | null {
  const [n, setN] = useState<number | null>(null);
  useEffect(() => {
    let live = true;
    const read = () =>
      void outboxLength().then((x) => {
        if (live) setN(x);
      });
    read();
    const off = onOutboxChange(read);
    return () => {
      live = false;
      off();
    };
  }, []);
  return n;
}
