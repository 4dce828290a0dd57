/** Labelled photo folders laid out like ../shared/data (labels.csv with file and imagenet_index). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseCsv } from '../core/csv.ts';
import { OTHER_LABEL, type Taxonomy } from '../core/taxonomy.ts';

export interface LabelledPhoto {
  file: string;
  imagenetIndex: number | null;
  className: string;
  /** The launch taxon id, or "other" when the animal is not a launch taxon. */
  label: string;
  row: Record<string, string>;
}

export function readLabelledPhotos(imagesDir: string, labelsCsv: string, taxonomy: Taxonomy): LabelledPhoto[] {
  const byIndex = new Map(taxonomy.taxa.filter((t) => t.imagenetIndex != null).map((t) => [t.imagenetIndex!, t.id]));
  const rows = parseCsv(readFileSync(labelsCsv, 'utf8'));
  if (rows.length && !('file' in rows[0] && 'imagenet_index' in rows[0])) {
    throw new Error(`${labelsCsv} needs the columns file and imagenet_index`);
  }
  return rows.map((row) => {
    const imagenetIndex = row.imagenet_index === '' ? null : Number(row.imagenet_index);
    if (imagenetIndex !== null && !Number.isInteger(imagenetIndex)) throw new Error(`${labelsCsv}: bad imagenet_index "${row.imagenet_index}" for ${row.file}`);
    return {
      file: path.join(imagesDir, row.file),
      imagenetIndex,
      className: row.class_name ?? '',
      label: (imagenetIndex !== null && byIndex.get(imagenetIndex)) || OTHER_LABEL,
      row,
    };
  });
}
