import { useEffect, useState } from 'react';

/** Hash routes (#/history/ID): they work offline from the precached shell with no server routing. */
export type Route = { page: 'identify' } | { page: 'batch' } | { page: 'history' } | { page: 'record'; id: string } | { page: 'model' } | { page: 'privacy' } | { page: 'admin' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'batch') return { page: 'batch' };
  if (parts[0] === 'history' && parts[1]) return { page: 'record', id: decodeURIComponent(parts[1]) };
  if (parts[0] === 'history') return { page: 'history' };
  if (parts[0] === 'model') return { page: 'model' };
  if (parts[0] === 'privacy') return { page: 'privacy' };
  if (parts[0] === 'admin') return { page: 'admin' };
  return { page: 'identify' };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
