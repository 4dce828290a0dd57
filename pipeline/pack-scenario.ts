/**
 * `npm run pipeline -- scenario pack-birds | pack-birds-poisoned`: a bird
 * pack's head retrained end to end through the real server on a temporary
 * store and registry copy. Installs, each with its own install token, post an
 * identification carrying the pack's answer and a correction carrying the
 * pack's own embedding, both computed by onnxruntime-node from the real
 * inat-birds pack on real bird photos; a reviewer accepts them; then
 * `retrain --pack inat-birds` runs on that store.
 *
 * The photos: the first SPECIES species (by ImageNet index) that have a photo
 * in imagenet-samples-animals, a set the gate never uses (its photos are
 * imagenet-val-animals and gcompris-animals), so nothing the gate scores was
 * trained on. One photo per species exists there, so each install sends its
 * own view of it: a seeded crop of 70-100% of the side, mirrored for every
 * other install (a phone photo of the same bird from another step back). The
 * held-out installs' views are of the same photo as the training ones: their
 * recall is optimistic, and the gate photos are what the version is judged on.
 *
 * pack-birds-poisoned: the same, with 30% of the corrections naming a random
 * other of those species: the checks or the gate must refuse it.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { seededRandom, seededUuid } from '../core/random.ts';
import { interpretPack, speciesId } from '../core/species-pack.ts';
import { expectedSpecies } from '../core/pack-eval.ts';
import { buildApp } from '../server/app.ts';
import { openStore } from '../server/storage/open.ts';
import { readLabelledPhotos } from '../node/labelled-photos.ts';
import { NodeClassifier } from '../node/node-classifier.ts';
import { NodePack } from '../node/pack-classifier.ts';
import { activePack, findPackVersion } from '../node/pack-registry.ts';
import { DATA_DIR_SHARED } from '../node/paths.ts';
import { loadTaxonomy, readManifest, sha256 } from '../node/registry.ts';
import { headLogits } from './base-head.ts';
import { packFloatHead } from './pack-head.ts';
import { readPackLabelMap } from './pack-data.ts';
import { retrainPack, type PackRetrainOptions } from './pack-retrain.ts';
import { acceptCorrections, closeScenario, copyRegistry, hourNow, identificationEvent, postAsInstalls } from './scenario.ts';

export type PackScenarioName = 'pack-birds' | 'pack-birds-poisoned';
export const PACK_SCENARIOS: readonly PackScenarioName[] = ['pack-birds', 'pack-birds-poisoned'];

const PACK = 'inat-birds';
const SPECIES = 6;
const INSTALLS_PER_SPECIES = 10;
const SOURCE_SET = 'imagenet-samples-animals';

/** Install i's view of a photo: a seeded crop, mirrored on odd installs, as JPEG. */
async function view(bytes: Uint8Array, i: number, rand: () => number): Promise<Uint8Array> {
  const img = sharp(bytes).rotate();
  const { width = 0, height = 0 } = await img.metadata();
  const f = 0.7 + 0.3 * rand();
  const w = Math.max(64, Math.round(width * f)),
    h = Math.max(64, Math.round(height * f));
  const left = Math.floor(rand() * (width - w + 1)),
    top = Math.floor(rand() * (height - h + 1));
  const cropped = sharp(bytes)
    .rotate()
    .extract({ left, top, width: Math.min(w, width), height: Math.min(h, height) });
  return new Uint8Array(await (i % 2 ? cropped.flop() : cropped).jpeg({ quality: 90 }).toBuffer());
}

/** The source photos: species the pack knows with a photo in the set the gate never uses. */
function sourcePhotos(): Array<{ file: string; id: string; scientificName: string }> {
  const map = readPackLabelMap();
  return readLabelledPhotos(path.join(DATA_DIR_SHARED, SOURCE_SET), path.join(DATA_DIR_SHARED, SOURCE_SET, 'labels.csv'), loadTaxonomy())
    .flatMap((p) => {
      const sci = expectedSpecies(map, PACK, p.imagenetIndex);
      return sci ? [{ file: p.file, id: speciesId(sci), scientificName: sci, index: p.imagenetIndex! }] : [];
    })
    .sort((a, b) => a.index - b.index)
    .slice(0, SPECIES)
    .map(({ file, id, scientificName }) => ({ file, id, scientificName }));
}

/** The registered pack loads, keeps the parent's input and outputs and embedding, and its logits are the float head's math. */
async function checkRegistered(registryDir: string, version: string, samples: readonly string[]) {
  const manifest = readManifest(registryDir)!;
  const entry = findPackVersion(manifest, PACK, version);
  const parent = findPackVersion(manifest, PACK, entry.lineage?.parent ?? '');
  const bytes = new Uint8Array(readFileSync(path.join(registryDir, entry.file)));
  const head = packFloatHead(bytes);
  const load = async (v: string) => NodePack.load(PACK, { registryDir, version: v, threads: 1 });
  const [mine, theirs] = [await load(version), await load(parent.version)];
  const session = await ort.InferenceSession.create(bytes);
  let maxLogit = 0,
    maxEmbedding = 0;
  for (const file of samples) {
    const t = await mine.tensorFor(new Uint8Array(readFileSync(file)));
    const [a, b] = [await mine.runBatch(t, 1), await theirs.runBatch(t, 1)];
    const want = headLogits(head, a.embeddings[0]);
    for (let k = 0; k < want.length; k++) maxLogit = Math.max(maxLogit, Math.abs(want[k] - a.logits[0][k]));
    for (let j = 0; j < b.embeddings[0].length; j++) maxEmbedding = Math.max(maxEmbedding, Math.abs(a.embeddings[0][j] - b.embeddings[0][j]));
  }
  await Promise.all([mine.release(), theirs.release()]);
  const sameInterface = session.inputNames.join() === parent.input.name && session.outputNames.join() === [parent.outputs.logits, parent.outputs.embedding].join();
  await session.release();
  return {
    entry: { version: entry.version, status: entry.status, parent: entry.lineage?.parent, file: entry.file, bytes: entry.bytes, sha256: entry.sha256, sha256_ok: sha256(bytes) === entry.sha256 },
    same_interface: sameInterface,
    max_abs_logit_vs_float_head: maxLogit,
    max_abs_embedding_vs_parent: maxEmbedding,
  };
}

export async function runPackScenario(name: PackScenarioName, opts: { log?: (l: string) => void; keep?: boolean; seed?: number; retrain?: Partial<PackRetrainOptions> } = {}) {
  const log = opts.log ?? ((l: string) => console.error(l));
  const tmp = mkdtempSync(path.join(os.tmpdir(), `wildsight-${name}-`));
  const registryDir = path.join(tmp, 'registry');
  const dataDir = path.join(tmp, 'data');
  copyRegistry(registryDir);
  const adminToken = randomUUID() + randomUUID();
  const app = await buildApp({ dataDir, registryDir, adminToken, logger: false, rateLimitMax: 100_000 });
  const out: Record<string, unknown> = { scenario: name };
  try {
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const pack = activePack(readManifest(registryDir)!, PACK);
    const species = sourcePhotos();
    out.species = species.map((s) => s.scientificName);
    const rand = seededRandom(opts.seed ?? 11);
    const classifier = await NodeClassifier.load({ registryDir, threads: 2 });
    const packModel = await NodePack.load(PACK, { registryDir, version: pack.version, threads: 2 });
    const items = species.flatMap((s) => Array.from({ length: INSTALLS_PER_SPECIES }, (_, i) => ({ ...s, i, installId: seededUuid(rand) })));
    const poisoned = new Set<number>();
    if (name === 'pack-birds-poisoned') while (poisoned.size < Math.round(items.length * 0.3)) poisoned.add(Math.floor(rand() * items.length));
    const byInstall = new Map<string, unknown[]>();
    const corrections: string[] = [];
    let packRight = 0;
    for (const [n, it] of items.entries()) {
      const bytes = await view(new Uint8Array(readFileSync(it.file)), it.i, rand);
      const res = await classifier.classifyBytes(bytes);
      const { logits, embeddings } = await packModel.runBatch(await packModel.tensorFor(bytes), 1);
      const answer = interpretPack(logits[0], pack, packModel.taxa);
      const identification = {
        ...identificationEvent(classifier.model.version, res, it.installId, seededUuid(rand)),
        pack: { id: pack.id, version: pack.version, routedBy: 'user', top5: answer.top5.map((s) => ({ taxonId: s.taxonId, p: Math.min(1, Math.max(0, s.probability)) })) },
      };
      const label = poisoned.has(n) ? species.filter((s) => s.id !== it.id)[Math.floor(rand() * (species.length - 1))].id : it.id;
      if (answer.top5[0]?.taxonId === it.id) packRight++;
      const correction = {
        type: 'correction',
        eventId: seededUuid(rand),
        installId: it.installId,
        correctsEventId: identification.eventId,
        verdict: answer.top5[0]?.taxonId === label ? 'confirmed' : 'corrected',
        taxonId: label,
        modelVersion: classifier.model.version,
        embedding: Array.from(res.embedding),
        pack: { id: pack.id, version: pack.version, embedding: Array.from(embeddings[0]) },
        appVersion: '0.1.0',
        hour: hourNow(),
      };
      byInstall.set(it.installId, [identification, correction]);
      corrections.push(correction.eventId);
    }
    await Promise.all([classifier.release(), packModel.release()]);
    const posted = await postAsInstalls(app, address, byInstall);
    await acceptCorrections(address, adminToken, corrections);
    out.posted = { ...posted, corrections: corrections.length, installs: byInstall.size, poisoned: poisoned.size, pack_right_on_views: `${packRight}/${items.length}` };
    const store = await openStore({ dataDir });
    let result;
    try {
      result = await retrainPack({ packId: PACK, store, registryDir, outDir: path.join(tmp, 'runs'), log, ...opts.retrain });
    } finally {
      await store.close();
    }
    out.run_dir = opts.keep ? result.runDir : undefined;
    const r4 = (x: number) => Number(x.toFixed(4));
    const g = result.gatePhotos;
    out.parent = `${result.pack} ${result.parent}`;
    out.registered = result.registered;
    out.version = result.version;
    out.quality = result.quality && { input: result.quality.input, kept: result.quality.kept, suspicious: result.quality.suspicious, poisoned: result.quality.poisoned };
    out.gate = { pass: result.gate?.pass ?? false, reasons: [...new Set([...(result.gate?.reasons ?? []), ...result.reasons])] };
    out.gate_photos = g && {
      photos: g.n,
      background: result.counts.gatePhotosBackground,
      top1: { parent: r4(g.current.top1), candidate: r4(g.candidate.top1), change: r4(g.top1Change.difference), ci95: [r4(g.top1Change.lo), r4(g.top1Change.hi)] },
      mcnemar: { lost: g.mcnemar.losses, gained: g.mcnemar.gains, p: r4(g.mcnemar.p) },
      ece_change_ci95: [r4(g.eceChange.lo), r4(g.eceChange.hi)],
      right: result.gateSplit,
    };
    out.species_held_out = result.species.map((d) => ({ id: d.id, status: d.status, held_out: d.heldOut && `${d.heldOut.hits}/${d.heldOut.n}`, parent_held_out: result.parentHeldOut[d.id] ?? null }));
    out.train_seconds = Number(result.trainSeconds.toFixed(1));
    const packsNow = (readManifest(registryDir)!.packs ?? []).filter((p) => p.id === PACK);
    if (name === 'pack-birds') {
      const check = result.version ? await checkRegistered(registryDir, result.version, species.map((s) => s.file).slice(0, 3)) : null;
      // The server serves the new file where the manifest says, byte for byte.
      const served = check ? await fetch(`${address}/models/registry/${check.entry.file}`, { headers: { 'accept-encoding': 'identity' } }) : null;
      const servedOk = !!served && served.status === 200 && sha256(new Uint8Array(await served.arrayBuffer())) === check?.entry.sha256;
      out.registered_check = check && { ...check, served: servedOk };
      out.pass =
        result.registered &&
        !!check &&
        check.entry.status === 'candidate' &&
        check.entry.parent === pack.version &&
        check.entry.sha256_ok &&
        check.same_interface &&
        check.max_abs_logit_vs_float_head < 1e-3 &&
        check.max_abs_embedding_vs_parent === 0 &&
        servedOk &&
        packsNow.length === 2;
    } else out.pass = !result.registered && packsNow.length === 1 && (result.quality?.poisoned === true || result.gate?.pass === false);
  } finally {
    await closeScenario(app, tmp, opts.keep);
  }
  return out;
}
