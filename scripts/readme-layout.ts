// Reads the README's "Layout" table and says where it and the tree disagree
// (scripts/readme-layout.test.ts runs it in npm test).

export interface LayoutRow {
  /** The row's folder as written, e.g. `core/` or `workers/inference/`. */
  path: string;
  /** Backticked names in the row's description: modules (`engine`), subfolders (`api/`), files (`sw.ts`). */
  mentions: string[];
}

const backticked = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/** The rows of the first table under "## Layout" whose first cell is a backticked path. */
export function parseLayoutTable(readme: string): LayoutRow[] {
  const section = /^## Layout\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme);
  if (!section) throw new Error('README.md has no "## Layout" section');
  const rows: LayoutRow[] = [];
  for (const line of section[1].split('\n')) {
    const cells = line.split('|');
    // | `path` | description |  splits into ['', path, description, ''].
    if (cells.length < 4) continue;
    const [path] = backticked(cells[1]);
    if (path) rows.push({ path, mentions: backticked(cells.slice(2).join('|')) });
  }
  if (!rows.length) throw new Error('README.md\'s "## Layout" section has no `| `folder/` | ... |` rows');
  return rows;
}

/**
 * A mention that could be a path; prose such as `GET /v1/openapi.json`, `routes/api/*` or `<version>` is not checked.
 * Names in backticks must be tracked by git: a build output is named without them, the test cannot see it in a fresh clone.
 */
const PATH_LIKE = /^\w[\w.\-/]*$/;

/**
 * Every disagreement, as one sentence each (empty when the table is true):
 * a row's path missing; a name in a row that is no file or folder under it
 * (nor from the root); a folder tracked by git, or a first-level folder
 * inside one, that no row covers or names.
 */
export function checkLayout(rows: LayoutRow[], trackedFiles: string[], exists: (path: string) => boolean): string[] {
  const problems: string[] = [];
  for (const row of rows) {
    if (!exists(row.path)) {
      problems.push(`row \`${row.path}\`: no such path`);
      continue;
    }
    const inRow = trackedFiles.filter((f) => f.startsWith(row.path)).map((f) => `/${f}`);
    for (const name of row.mentions.filter((m) => PATH_LIKE.test(m))) {
      // A module or folder anywhere under the row's folder (`update-state` in src/model/), or a path from the root.
      const found = exists(name) || inRow.some((f) => [`/${name}`, `/${name}.ts`, `/${name}.tsx`].some((end) => f.endsWith(end)) || f.includes(`/${name.replace(/\/$/, '')}/`));
      if (!found) problems.push(`row \`${row.path}\` names \`${name}\`, which is no file or folder under ${row.path} nor a path from the root`);
    }
  }

  const folders = new Set(trackedFiles.filter((f) => f.includes('/')).map((f) => `${f.split('/')[0]}/`));
  const subfolders = new Set(
    trackedFiles
      .map((f) => f.split('/'))
      .filter((p) => p.length > 2)
      .map((p) => `${p[0]}/${p[1]}/`),
  );
  for (const folder of [...folders].sort()) {
    if (!rows.some((r) => r.path.startsWith(folder))) problems.push(`folder \`${folder}\` (tracked by git) has no row`);
  }
  for (const sub of [...subfolders].sort()) {
    const top = `${sub.split('/')[0]}/`;
    if (rows.some((r) => r.path.startsWith(sub))) continue;
    const parent = rows.find((r) => r.path === top);
    if (!parent) {
      if (rows.some((r) => r.path.startsWith(top))) problems.push(`folder \`${sub}\` has no row`);
      continue; // its top-level folder already reported
    }
    const local = sub.slice(top.length);
    if (!parent.mentions.some((m) => `${m}/`.startsWith(local) || m.startsWith(sub))) {
      problems.push(`folder \`${sub}\` is not named in the row \`${top}\``);
    }
  }
  return problems;
}
