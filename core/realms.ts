/**
 * Biogeographic realms (WWF/Udvardy) and a deliberately crude lookup from a
 * location cell to its realm. The boxes are latitude/longitude rectangles
 * checked in order, first match wins: they follow the realms' rough outlines
 * only (Wallace's line is a straight meridian, the Himalaya a parallel, the
 * Sahara's southern edge 18°N), so cells near a boundary can land in the
 * neighbouring realm, and open ocean falls in no realm at all (the prior is
 * then not applied). Good enough for a prior that only nudges; not a map.
 */
export const REALMS = ['Nearctic', 'Palearctic', 'Afrotropic', 'Indomalaya', 'Australasia', 'Neotropic', 'Oceania', 'Antarctic'] as const;
export type Realm = (typeof REALMS)[number];

export interface RealmBox {
  realm: Realm;
  lat: [number, number];
  lon: [number, number];
}

/** Order matters: more specific boxes come before the broad ones they cut into. */
export const REALM_BOXES: readonly RealmBox[] = [
  { realm: 'Antarctic', lat: [-90, -60], lon: [-180, 180] },
  // Australia, New Zealand, New Guinea and Wallacea (east of Wallace's line, taken as 120°E).
  { realm: 'Australasia', lat: [-50, -11], lon: [110, 180] },
  { realm: 'Australasia', lat: [-11, 0], lon: [120, 155] },
  // Madagascar and sub-Saharan Africa, with southern Arabia.
  { realm: 'Afrotropic', lat: [-35, 18], lon: [-20, 52] },
  { realm: 'Afrotropic', lat: [12, 18], lon: [40, 60] },
  // The Indian subcontinent, southern China and Southeast Asia west of Wallace's line.
  { realm: 'Indomalaya', lat: [-11, 28], lon: [68, 120] },
  { realm: 'Indomalaya', lat: [0, 28], lon: [120, 128] },
  // Europe, North Africa, the Middle East and northern Asia (with Japan).
  { realm: 'Palearctic', lat: [18, 84], lon: [-30, 180] },
  // North America north of the Mexican tropics, with Alaska and Greenland.
  { realm: 'Nearctic', lat: [23, 84], lon: [-180, -50] },
  { realm: 'Nearctic', lat: [59, 84], lon: [-50, -10] },
  // Mexico's tropics, Central and South America and the Caribbean.
  { realm: 'Neotropic', lat: [-56, 23], lon: [-120, -30] },
  // Pacific islands (Micronesia, Melanesia east of New Guinea, Polynesia with Hawaii).
  { realm: 'Oceania', lat: [-30, 30], lon: [155, 180] },
  { realm: 'Oceania', lat: [-30, 30], lon: [-180, -120] },
];

const inside = (x: number, [lo, hi]: [number, number]) => x >= lo && x <= hi;

/** The realm a point (a cell centre) falls in, or null for open ocean and other unmatched places. */
export function realmOf(lat: number, lon: number): Realm | null {
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) throw new RangeError(`not a location: (${lat}, ${lon})`);
  for (const b of REALM_BOXES) if (inside(lat, b.lat) && inside(lon, b.lon)) return b.realm;
  return null;
}
