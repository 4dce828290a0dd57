import { roundToCell } from '../../core/telemetry.ts';

export type Cell = { lat: number; lon: number };

/**
 * The device's coarse location: the fix is rounded to its 0.2-degree cell
 * here, at once, and only the cell is kept. It is used on the device for the
 * prior; nothing is sent (a correction sends its cell only when the user
 * ticks "share approximate location" there).
 */
export function currentCell(): Promise<Cell> {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) return reject(new Error('location is not available in this browser'));
    navigator.geolocation.getCurrentPosition(
      (p) => resolve(roundToCell(p.coords.latitude, p.coords.longitude)),
      (e) => reject(new Error(e.message || 'location permission denied')),
      { enableHighAccuracy: false, maximumAge: 10 * 60_000, timeout: 15_000 },
    );
  });
}
