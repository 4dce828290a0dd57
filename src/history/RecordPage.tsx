import { useDeleteRecord, useHistoryRecord } from './useHistory.ts';
import { Thumbnail } from './Thumbnail.tsx';
import { ResultCard } from '../identify/ResultCard.tsx';
import { CorrectionPanel } from '../corrections/CorrectionPanel.tsx';
import { PackAnswer } from '../packs/PackAnswer.tsx';
import { ObservationPhotos } from '../observation/ObservationPhotos.tsx';
import { AddPhoto } from '../observation/AddPhoto.tsx';
import { addPhotoTo } from '../observation/add-photo.ts';
import { historyKey } from './useHistory.ts';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { PhotoError } from '../../core/photo-check.ts';

export function RecordPage({ id }: { id: string }) {
  const record = useHistoryRecord(id);
  const remove = useDeleteRecord();
  const client = useQueryClient();
  const add = useMutation({
    mutationFn: ({ r, file }: { r: NonNullable<typeof record.data>; file: File }) => addPhotoTo(r, file),
    networkMode: 'always',
    onSuccess: () => client.invalidateQueries({ queryKey: historyKey }),
  });
  if (record.isPending) return <p>Loading…</p>;
  if (!record.data)
    return (
      <p>
        This identification is not in the history (it may have been deleted). <a href="#/history">Back to history</a>
      </p>
    );
  const r = record.data;
  return (
    <section aria-labelledby="record-heading" data-testid="record">
      <p>
        <a href="#/history">← History</a>
      </p>
      <h2 id="record-heading">{r.name}</h2>
      <p className="hint">
        {new Date(r.createdAt).toLocaleString()} · {r.width} x {r.height} px
      </p>
      <div className="identify-result">
        <Thumbnail blob={r.thumbnail} alt={`Thumbnail of ${r.name}`} className="photo-preview" />
        <div>
          <ResultCard result={r} />
          <PackAnswer result={r} />
          <ObservationPhotos record={r} />
          <AddPhoto record={r} onPhoto={(file) => add.mutate({ r, file })} disabled={add.isPending} />
          {add.isPending && (
            <p role="status" data-testid="working">
              Identifying…
            </p>
          )}
          {add.isError && (
            <p role="alert" className="error" data-testid="photo-error">
              {add.error instanceof PhotoError ? add.error.message : `This photo could not be added: ${add.error.message}`}
            </p>
          )}
          <CorrectionPanel record={r} />
        </div>
      </div>
      <button
        type="button"
        className="danger"
        disabled={remove.isPending}
        onClick={() =>
          remove.mutate(r.id, {
            onSuccess: () => {
              location.hash = '#/history';
            },
          })
        }
      >
        Delete
      </button>
    </section>
  );
}
