import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getSettings } from '../telemetry/settings.ts';
import { answerReports } from './actions.ts';

export const settingsKey = ['settings'] as const;

/** The first-run question: nothing is reported until it is answered, and "no" is as easy as "yes". */
export function ConsentBanner() {
  const client = useQueryClient();
  const settings = useQuery({ queryKey: settingsKey, queryFn: getSettings, networkMode: 'always' });
  const answer = useMutation({
    networkMode: 'always',
    mutationFn: answerReports,
    onSuccess: () => client.invalidateQueries({ queryKey: settingsKey }),
  });
  if (settings.data?.reports !== 'unasked') return null;
  return (
    <section className="banner consent" role="region" aria-label="Anonymous reports" data-testid="consent">
      <p>
        <strong>Help improve Wildsight?</strong> With your OK, the app sends an anonymous report of each identification: the model version, the top 5 species with their probabilities, how long it took
        and the hour, and whether models load and run on this device. Never the photo or where you are. <a href="#/privacy">What is sent</a>
      </p>
      <div className="consent-actions">
        <button type="button" onClick={() => answer.mutate('granted')} disabled={answer.isPending} data-testid="consent-yes">
          Send anonymous reports
        </button>
        <button type="button" className="secondary" onClick={() => answer.mutate('declined')} disabled={answer.isPending} data-testid="consent-no">
          Don't send
        </button>
      </div>
    </section>
  );
}
