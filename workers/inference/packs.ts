/**
 * Species packs in the worker: which pack a photo goes to (the base
 * answer's roll-up, or the user's "It's a bird"), the pack's session kept
 * after its first use, and the pack run on the photo's decoded bitmap with
 * the pack's own preprocessing (its resize differs from the base model's).
 */
import { interpretPack, packTaxa, routePack, type PackAnswer, type SpeciesPack } from '../../core/species-pack.ts';
import type { Prediction } from '../../core/postprocess.ts';
import type { Taxon, TaxonIndex } from '../../core/taxonomy.ts';
import type { Engine, PackSession } from './engine.ts';
import { storedPack } from './model-store.ts';
import { bitmapToTensor } from './photo-tensor.ts';
import { WorkerError } from './errors.ts';

export interface PackRun extends PackAnswer {
  /** Why the pack ran: the base answer rolled up to its class, or the user said so. */
  routedBy: 'rollup' | 'user';
  preprocessMs: number;
  inferenceMs: number;
  /**
   * The pack's own pooled features for this photo (outputs.embedding; absent
   * when an older registry's entry names none). Kept with the answer in
   * history: a correction of the pack's answer sends it to retrain the pack's head.
   */
  embedding?: Float32Array;
}

interface Loaded {
  key: string;
  session: PackSession;
  taxa: Array<Taxon | null>;
  engine: Engine;
}
const sessions = new Map<string, Promise<Loaded>>();

async function load(pack: SpeciesPack, engine: Engine, index: TaxonIndex): Promise<Loaded> {
  const key = `${pack.sha256}`;
  const have = sessions.get(pack.id);
  if (have) {
    const l = await have.catch(() => null);
    if (l && l.key === key && l.engine === engine) return l;
    sessions.delete(pack.id);
    await l?.session.release().catch(() => {});
  }
  const promise = (async () => {
    const bytes = await storedPack(pack);
    if (!bytes) throw new WorkerError('pack-not-stored', `species pack ${pack.title} is not on this device; download it on the Model page`);
    const session = await engine.packSession(bytes, pack.input.name, pack.outputs.logits, pack.input.size, pack.outputs.embedding);
    return { key, session, taxa: packTaxa(pack, index), engine };
  })();
  sessions.set(pack.id, promise);
  promise.catch(() => {
    if (sessions.get(pack.id) === promise) sessions.delete(pack.id);
  });
  return promise;
}

/** Drops a pack's session (it was removed from the device). */
export async function forgetPack(id: string) {
  const l = await sessions.get(id)?.catch(() => null);
  sessions.delete(id);
  await l?.session.release().catch(() => {});
}

/** The pack to run: the one the user asked for, else where the base answer routes (null: none). */
export function choosePack(prediction: Prediction | null, index: TaxonIndex, installed: readonly SpeciesPack[], forced?: string): { pack: SpeciesPack; routedBy: PackRun['routedBy'] } | null {
  if (forced) {
    const pack = installed.find((p) => p.id === forced);
    if (!pack) throw new WorkerError('pack-not-stored', `species pack ${forced} is not on this device; download it on the Model page`);
    return { pack, routedBy: 'user' };
  }
  const pack = prediction ? routePack(prediction, index, installed) : null;
  return pack ? { pack, routedBy: 'rollup' } : null;
}

export async function runPack(bitmap: ImageBitmap, pack: SpeciesPack, routedBy: PackRun['routedBy'], engine: Engine): Promise<PackRun> {
  const loaded = await load(pack, engine, engine.taxa);
  const s = pack.input.size;
  const tensor = new Float32Array(3 * s * s);
  const preprocessMs = bitmapToTensor(bitmap, pack.input, tensor, 0);
  const { logits, embedding, ms } = await loaded.session.run(tensor);
  return { ...interpretPack(logits, pack, loaded.taxa), routedBy, preprocessMs, inferenceMs: ms, ...(embedding ? { embedding } : {}) };
}
