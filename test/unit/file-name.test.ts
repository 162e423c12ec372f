import { describe, expect, it } from 'vitest';
import { safeFileName } from '../../src/lib/file-name';

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');

describe('safeFileName', () => {
  it('keeps names of up to 255 bytes as they are', () => {
    expect(safeFileName('holiday snap.jpg')).toBe('holiday snap.jpg');
    const exactly = `${'a'.repeat(251)}.jpg`;
    expect(safeFileName(exactly)).toBe(exactly);
  });

  it('shortens a longer name to 255 bytes, keeping the extension', () => {
    expect(safeFileName(`${'a'.repeat(300)}.jpeg`)).toBe(`${'a'.repeat(250)}.jpeg`);
    expect(safeFileName('b'.repeat(1000))).toBe('b'.repeat(255));
  });

  it('never cuts inside a character: 2-byte, 4-byte (surrogate pair) and combining sequences', () => {
    // é is 2 bytes: 251 bytes of budget hold 125 of them.
    expect(safeFileName(`${'é'.repeat(200)}.png`)).toBe(`${'é'.repeat(125)}.png`);
    // 📷 is 4 bytes (two UTF-16 units): 62 fit in 251 bytes.
    const camera = safeFileName(`${'📷'.repeat(100)}.png`);
    expect(camera).toBe(`${'📷'.repeat(62)}.png`);
    // e + combining acute (1 + 2 bytes) stays together: 83 pairs in 251 bytes, none split.
    const combining = safeFileName(`${'e\u0301'.repeat(100)}.gif`);
    expect(combining).toBe(`${'e\u0301'.repeat(83)}.gif`);
    for (const name of [camera, combining]) {
      expect(bytes(name)).toBeLessThanOrEqual(255);
      expect(Buffer.from(name, 'utf8').toString('utf8')).toBe(name);
    }
  });
});
