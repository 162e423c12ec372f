import sharp from 'sharp';

/** A small seeded PRNG (mulberry32), so every run benchmarks the same pictures. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Photo-like content: grain (blurred Gaussian noise) under a colour gradient, a soft light source, large shapes and
 * scattered small ones. A flat colour would compress to almost nothing and decode unrealistically fast; this
 * lands near real camera files (a 12 MP JPEG of ~2-3 MB at quality 85).
 */
export async function photoLike(width: number, height: number, format: 'jpeg' | 'png', seed = 1): Promise<Buffer> {
  const next = random(seed);
  const small = Array.from({ length: 60 }, () => {
    const [x, y, r] = [next() * width, next() * height, (0.005 + next() * 0.03) * Math.min(width, height)];
    const colour = `hsl(${Math.round(next() * 360)},${Math.round(30 + next() * 50)}%,${Math.round(25 + next() * 50)}%)`;
    return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r.toFixed(1)}" fill="${colour}" opacity="0.7"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs>
      <linearGradient id="sky" x1="0" y1="0" x2="1" y2="1">
        <stop offset="0" stop-color="#2a6fb0"/><stop offset="0.55" stop-color="#e8c27a"/><stop offset="1" stop-color="#3b5b2a"/>
      </linearGradient>
      <radialGradient id="sun"><stop offset="0" stop-color="#fff6d0"/><stop offset="1" stop-color="#c04020" stop-opacity="0"/></radialGradient>
    </defs>
    <rect width="100%" height="100%" fill="url(#sky)"/>
    <circle cx="${width * 0.3}" cy="${height * 0.35}" r="${height * 0.2}" fill="url(#sun)"/>
    <rect x="${width * 0.55}" y="${height * 0.5}" width="${width * 0.3}" height="${height * 0.35}" fill="#603020" opacity="0.8"
      transform="rotate(8 ${width * 0.7} ${height * 0.6})"/>
    <ellipse cx="${width * 0.15}" cy="${height * 0.8}" rx="${width * 0.12}" ry="${height * 0.08}" fill="#204010"/>
    ${small}
  </svg>`;
  const grain = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 40 } } })
    .blur(1.5)
    .raw()
    .toBuffer();
  const picture = sharp(grain, { raw: { width, height, channels: 3 } }).composite([{ input: Buffer.from(svg), blend: 'soft-light' }]);
  return format === 'jpeg' ? picture.jpeg({ quality: 85 }).toBuffer() : picture.png().toBuffer();
}

/**
 * A different picture for every seed: a gradient in a random direction and colours, three to six large shapes at
 * random places, scattered small ones and grain. For the near-duplicate measurements, where photoLike's fixed
 * layout would make every seed look alike.
 */
export async function variedPhoto(width: number, height: number, seed: number): Promise<Buffer> {
  const next = random(seed * 7919 + 17);
  const hsl = () => `hsl(${Math.round(next() * 360)},${Math.round(25 + next() * 60)}%,${Math.round(15 + next() * 65)}%)`;
  const [x1, y1] = [next(), next()];
  const big = Array.from({ length: 3 + Math.floor(next() * 4) }, () => {
    const [x, y, w, h] = [next() * width, next() * height, (0.15 + next() * 0.4) * width, (0.15 + next() * 0.4) * height];
    return next() < 0.5
      ? `<rect x="${(x - w / 2).toFixed(1)}" y="${(y - h / 2).toFixed(1)}" width="${w.toFixed(1)}" height="${h.toFixed(1)}" fill="${hsl()}" transform="rotate(${Math.round(next() * 90 - 45)} ${x.toFixed(1)} ${y.toFixed(1)})"/>`
      : `<ellipse cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" rx="${(w / 2).toFixed(1)}" ry="${(h / 2).toFixed(1)}" fill="${hsl()}"/>`;
  }).join('');
  const small = Array.from({ length: 40 }, () => {
    const [x, y, r] = [next() * width, next() * height, (0.005 + next() * 0.03) * Math.min(width, height)];
    return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r.toFixed(1)}" fill="${hsl()}" opacity="0.7"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <defs><linearGradient id="g" x1="${x1.toFixed(2)}" y1="${y1.toFixed(2)}" x2="${(1 - x1).toFixed(2)}" y2="${(1 - y1).toFixed(2)}">
      <stop offset="0" stop-color="${hsl()}"/><stop offset="1" stop-color="${hsl()}"/></linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>${big}${small}
  </svg>`;
  const grain = await sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 30 } } })
    .blur(1.2)
    .raw()
    .toBuffer();
  return sharp(grain, { raw: { width, height, channels: 3 } }).composite([{ input: Buffer.from(svg), blend: 'soft-light' }]).jpeg({ quality: 90 }).toBuffer();
}

/**
 * An uncompressed 1-bit BMP (black and white palette) of seeded noise, each row repeated eight times: small on disk
 * (a 7000x7000 one is 6 MB), large decoded (196 MB of RGBA).
 */
export function bilevelBmp(width: number, height: number, seed = 1): Buffer {
  const next = random(seed);
  const stride = Math.ceil(width / 32) * 4;
  const pixelOffset = 14 + 40 + 8;
  const file = Buffer.alloc(pixelOffset + stride * height);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(pixelOffset, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26); // planes
  file.writeUInt16LE(1, 28); // bits per pixel
  file.writeUInt32LE(stride * height, 34);
  file.writeUInt32LE(2, 46); // colours used
  file.writeUInt32LE(0x00000000, 54); // black
  file.writeUInt32LE(0x00ffffff, 58); // white
  const blocks = Array.from({ length: Math.ceil(height / 8) }, () => Buffer.from(Array.from({ length: stride }, () => Math.floor(next() * 256))));
  for (let y = 0; y < height; y++) {
    file.set(blocks[y >> 3], pixelOffset + y * stride);
  }
  return file;
}
