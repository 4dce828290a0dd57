import { MARK_TEXT, type PriorMark } from '../../core/location-prior.ts';

/** "expected here" / "unusual here" beside a suggestion, from the location prior. */
export function LocationMark({ mark }: { mark: PriorMark | null | undefined }) {
  if (!mark) return null;
  return (
    <span className={`location-mark ${mark}`} data-testid="location-mark" data-mark={mark}>
      {' '}
      · {MARK_TEXT[mark]}
    </span>
  );
}
