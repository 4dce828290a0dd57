/**
 * The location prior's two device-only settings, in localStorage (small,
 * synchronous, never sent): whether the user allowed location for
 * suggestions, and the default of the per-photo "Ignore location" switch.
 *
 * The switch's default starts off (the prior is used) because allowing
 * location is itself the opt-in; a user who mostly photographs pets, zoos or
 * screens turns "ignore location by default" on, and each photo can still
 * flip it.
 */
const ALLOWED = 'wildsight.location.allowed';
const IGNORE_DEFAULT = 'wildsight.location.ignoreByDefault';

const read = (key: string) => {
  try {
    return localStorage.getItem(key) === 'true';
  } catch {
    return false;
  }
};
const write = (key: string, on: boolean) => {
  try {
    localStorage.setItem(key, String(on));
  } catch {
    /* storage off: the choice lasts this page only */
  }
};

export const locationAllowed = () => read(ALLOWED);
export const setLocationAllowed = (on: boolean) => write(ALLOWED, on);
export const ignoreByDefault = () => read(IGNORE_DEFAULT);
export const setIgnoreByDefault = (on: boolean) => write(IGNORE_DEFAULT, on);
