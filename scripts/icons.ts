/** Renders public/icon.svg to the PNG sizes the web app manifest lists (run when the icon changes). */
import sharp from 'sharp';
import path from 'node:path';
import { REPO_ROOT } from '../node/paths.ts';

const svg = path.join(REPO_ROOT, 'public', 'icon.svg');
for (const size of [192, 512]) {
  await sharp(svg, { density: 72 * (size / 64) })
    .resize(size, size)
    .png()
    .toFile(path.join(REPO_ROOT, 'public', `icon-${size}.png`));
  // Maskable: the glyph inside the 80% safe zone on a full-bleed background.
  const inner = Math.round(size * 0.8);
  const glyph = await sharp(svg, { density: 72 * (inner / 64) })
    .resize(inner, inner)
    .png()
    .toBuffer();
  await sharp({ create: { width: size, height: size, channels: 4, background: '#2f5d3a' } })
    .composite([{ input: glyph, gravity: 'centre' }])
    .png()
    .toFile(path.join(REPO_ROOT, 'public', `icon-maskable-${size}.png`));
}
console.log('icons written to public/');
