import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv.ts';

describe('parseCsv', () => {
  it('reads a header and rows into records', () => {
    expect(parseCsv('file,label\na.jpg,cat\nb.jpg,dog\n')).toEqual([
      { file: 'a.jpg', label: 'cat' },
      { file: 'b.jpg', label: 'dog' },
    ]);
  });

  it('reads the last row without a trailing newline', () => {
    expect(parseCsv('a,b\n1,2')).toEqual([{ a: '1', b: '2' }]);
  });

  it('keeps commas inside quoted fields and unescapes doubled quotes', () => {
    const text = 'file,caption\nx.jpg,"A cat, ""Chelsea"", asleep"\ny.jpg,""""\n';
    expect(parseCsv(text)).toEqual([
      { file: 'x.jpg', caption: 'A cat, "Chelsea", asleep' },
      { file: 'y.jpg', caption: '"' },
    ]);
  });

  it('keeps newlines inside quoted fields', () => {
    expect(parseCsv('a,b\n"line 1\nline 2",x\n')).toEqual([{ a: 'line 1\nline 2', b: 'x' }]);
  });

  it('handles CRLF and lone CR line endings without leaving \\r in values', () => {
    expect(parseCsv('a,b\r\n1,2\r\n3,4\r\n')).toEqual([
      { a: '1', b: '2' },
      { a: '3', b: '4' },
    ]);
    expect(parseCsv('a,b\r1,2\r')).toEqual([{ a: '1', b: '2' }]);
  });

  it('skips empty trailing lines and blank lines', () => {
    expect(parseCsv('a,b\n1,2\n\n\n')).toEqual([{ a: '1', b: '2' }]);
    expect(parseCsv('a,b\r\n\r\n1,2\r\n\r\n')).toEqual([{ a: '1', b: '2' }]);
  });

  it('keeps empty fields as empty strings, and fills missing trailing fields with ""', () => {
    expect(parseCsv('a,b,c\n1,,3\n,,x\n7\n')).toEqual([
      { a: '1', b: '', c: '3' },
      { a: '', b: '', c: 'x' },
      { a: '7', b: '', c: '' },
    ]);
    expect(parseCsv('a,b\n"",2\n')).toEqual([{ a: '', b: '2' }]);
  });

  it('trims whitespace around headers and values, and a UTF-8 BOM', () => {
    expect(parseCsv('\uFEFF file , label \n a.jpg , cat \n')).toEqual([{ file: 'a.jpg', label: 'cat' }]);
  });

  it('returns no rows for empty input or a header alone', () => {
    expect(parseCsv('')).toEqual([]);
    expect(parseCsv('\n\n')).toEqual([]);
    expect(parseCsv('a,b\n')).toEqual([]);
  });

  const shared = path.resolve(process.env.WILDSIGHT_SHARED ?? new URL('../../shared', import.meta.url).pathname);
  const labels = path.join(shared, 'data', 'imagenet-val-animals', 'labels.csv');
  it.skipIf(!existsSync(labels))('reads the real imagenet-val-animals/labels.csv', () => {
    const rows = parseCsv(readFileSync(labels, 'utf8'));
    expect(rows.length).toBe(597);
    for (const row of rows) {
      expect(row.file).toMatch(/^ILSVRC2012_val_\d{8}\.JPEG$/);
      expect(row.imagenet_index).toMatch(/^\d+$/);
      expect(row).toHaveProperty('class_name');
    }
    // the two photos at the top of the file, read by eye
    expect(rows[0]).toMatchObject({ file: 'ILSVRC2012_val_00000355.JPEG', imagenet_index: '260', wnid: 'n02112137', class_name: 'chow' });
    expect(rows[1]).toMatchObject({ file: 'ILSVRC2012_val_00000361.JPEG', imagenet_index: '300', class_name: 'tiger beetle' });
  });
});
