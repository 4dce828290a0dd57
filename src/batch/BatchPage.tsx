import { useRef, useState, type DragEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { inference } from '../inference/client.ts';
import { whileBusy } from '../app/busy.ts';
import { isFailure, type BatchItem } from '../../workers/inference/types.ts';
import { recordFrom, saveRecord } from '../history/history-store.ts';
import { historyKey } from '../history/useHistory.ts';
import { storageMessage } from '../storage/db.ts';
import { reportIdentification } from '../telemetry/report.ts';
import { reportRunFailures } from '../telemetry/model-status.ts';
import { filesFromDrop, onlyPhotos } from './collect-files.ts';

/**
 * Photos per model call. Measured by `npm run bench` (100 photos, WASM, 2
 * cores): 17.4 photos/s at 1, 20.3 at 2, 18.6 at 4, 20.0 at 8. Past 2 there is
 * nothing to gain, and small batches keep progress and Cancel responsive.
 */
export const BATCH_SIZE = 2;

interface Row {
  name: string;
  outcome: string;
  ok: boolean;
  id?: string;
}

export function BatchPage({ engineReady }: { engineReady: boolean }) {
  const [rows, setRows] = useState<Row[]>([]);
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [running, setRunning] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  /** Cancel aborts the chunk under way in the worker, which stops before its next photo. */
  const cancel = useRef<AbortController | null>(null);
  const client = useQueryClient();
  const input = useRef<HTMLInputElement>(null);
  const folder = useRef<HTMLInputElement>(null);

  const run = async (files: File[]) => {
    if (!files.length || running) return;
    const controller = new AbortController();
    cancel.current = controller;
    setRunning(true);
    setRows([]);
    setStatus(null);
    setProgress({ done: 0, total: files.length });
    const found: Row[] = [];
    // Save each batch as it comes back, so a cancel or a closed tab keeps what was done.
    let saved = 0;
    const save = async (items: BatchItem[], offset: number) => {
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        const file = files[offset + i];
        if (isFailure(item)) {
          found.push({ name: file.name, outcome: item.error.message, ok: false });
          continue;
        }
        const record = recordFrom(item, file.name);
        try {
          await saveRecord(record);
          void reportIdentification(record);
          found.push({ name: file.name, outcome: item.summary, ok: true, id: record.id });
        } catch (err) {
          found.push({ name: file.name, outcome: storageMessage(err), ok: false });
        }
      }
      setRows([...found]);
      if (items.some(isFailure)) void reportRunFailures();
    };
    try {
      await whileBusy(async () => {
        for (let start = 0; start < files.length && !controller.signal.aborted; start += BATCH_SIZE) {
          const chunk = files.slice(start, start + BATCH_SIZE);
          // Chunks keep saving and progress per photo pair; a cancelled chunk returns the photos it finished.
          const { items } = await inference.classifyBatch(
            chunk.map((f) => ({ blob: f, name: f.name })),
            { batchSize: BATCH_SIZE, thumbnails: true, signal: controller.signal },
          );
          await save(items, start);
          saved = start + items.length;
          setProgress({ done: saved, total: files.length });
        }
      });
      setStatus(controller.signal.aborted ? `Cancelled: ${saved} of ${files.length} photos done, the rest were not identified.` : `Done: ${files.length} photos.`);
    } catch (err) {
      setStatus(`The batch stopped: ${(err as Error).message}`);
    } finally {
      setRunning(false);
      void client.invalidateQueries({ queryKey: historyKey });
    }
  };

  const dropped = async (e: DragEvent) => {
    e.preventDefault();
    await run(await filesFromDrop(e.dataTransfer.items));
  };
  const pct = progress ? Math.round((100 * progress.done) / Math.max(1, progress.total)) : 0;
  const failed = rows.filter((r) => !r.ok).length;

  return (
    <section aria-labelledby="batch-heading">
      <h2 id="batch-heading">Batch import</h2>
      <div className="picker" onDragOver={(e) => e.preventDefault()} onDrop={(e) => void dropped(e)}>
        <button type="button" disabled={!engineReady || running} onClick={() => input.current?.click()}>
          Choose photos
        </button>
        <button type="button" disabled={!engineReady || running} onClick={() => folder.current?.click()}>
          Choose a folder
        </button>
        <input
          ref={input}
          type="file"
          accept="image/*"
          multiple
          hidden
          data-testid="batch-input"
          aria-label="Choose photos"
          onChange={(e) => {
            const f = onlyPhotos([...(e.target.files ?? [])]);
            e.target.value = '';
            void run(f);
          }}
        />
        <input
          ref={folder}
          type="file"
          multiple
          hidden
          aria-label="Choose a folder"
          {...{ webkitdirectory: '' }}
          onChange={(e) => {
            const f = onlyPhotos([...(e.target.files ?? [])]);
            e.target.value = '';
            void run(f);
          }}
        />
        <p className="hint">or drop photos or a folder here</p>
      </div>
      {progress && (
        <div className="batch-progress">
          <progress max={100} value={pct} aria-label="Batch progress" data-testid="batch-progress" />
          <span data-testid="batch-count">
            {progress.done} / {progress.total} ({pct}%)
          </span>
          {running && (
            <button type="button" className="secondary" onClick={() => cancel.current?.abort()} data-testid="batch-cancel">
              Cancel
            </button>
          )}
        </div>
      )}
      {status && (
        <p role="status" data-testid="batch-status">
          {status}
          {failed ? ` ${failed} could not be identified.` : ''}
        </p>
      )}
      {rows.length > 0 && (
        <ul className="batch-results" data-testid="batch-results">
          {rows.map((r, i) => (
            <li key={i} className={r.ok ? undefined : 'error'} data-testid={r.ok ? 'batch-ok' : 'batch-error'}>
              <strong>{r.name}</strong>: {r.id ? <a href={`#/history/${r.id}`}>{r.outcome}</a> : r.outcome}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
