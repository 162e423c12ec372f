#!/usr/bin/python3
"""Makes the conformance images in images/ and reads what they hold into expected.json.

Every image is made here from one small synthetic picture (no third-party content), with Debian's ImageMagick 6.9
(convert), libwebp (cwebp), exiftool and Pillow, plus a few files written byte by byte where no tool writes the
variant (BMP RLE4, top-down BMP, WebP with an "Exif\\0\\0" prefix). The expected values come from readers that are
not this project's code: Pillow decodes every image (size after EXIF orientation, RGBA pixels, alpha) and exiftool
reads the EXIF tags. test/conformance/conformance.test.ts compares both engines against them.

Needs: apt-get install imagemagick webp libimage-exiftool-perl python3-pil. Run: /usr/bin/python3 test/conformance/make.py
"""
import hashlib
import io
import json
import os
import struct
import subprocess
import tempfile

from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, 'images')
W, H = 48, 32
# Four quadrant colours: each of the eight EXIF orientations puts them in a different order.
RED, GREEN, BLUE, YELLOW = (200, 30, 30), (30, 160, 60), (30, 60, 200), (230, 200, 30)
SAMPLES = [(12, 8), (36, 8), (12, 24), (36, 24)]


def picture(alpha=False):
    """The upright picture: quadrants, with a 16-colour band across the middle rows."""
    image = Image.new('RGBA' if alpha else 'RGB', (W, H))
    band = [(i * 16, 255 - i * 16, (i * 53) % 256) for i in range(16)]
    for y in range(H):
        for x in range(W):
            colour = (RED if x < W // 2 else GREEN) if y < H // 2 else (BLUE if x < W // 2 else YELLOW)
            if y in (15, 16):
                colour = band[(x // 3) % 16]
            if alpha:
                # Opaque left half, fading right half: alpha steps of 16.
                colour = colour + (255 if x < W // 2 else (x - W // 2) * 16 % 256,)
            image.putpixel((x, y), colour)
    return image


def run(*args):
    subprocess.run(args, check=True, capture_output=True)


def convert(source, target, *options):
    run('convert', source, '-strip', *options, target)


def exif(path, orientation=None, make=None, model=None, taken=None, offset=None):
    args = ['exiftool', '-q', '-overwrite_original', '-n']
    if orientation:
        args.append(f'-Orientation={orientation}')
    if make:
        args += [f'-Make={make}', f'-Model={model}']
    if taken:
        args.append(f'-DateTimeOriginal={taken}')
    if offset:
        args.append(f'-OffsetTimeOriginal={offset}')
    run(*args, path)


# Pillow's exif_transpose turns orientation N upright with these; storing the inverse makes a file that is upright
# once its orientation is applied.
INVERSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def stored_for(orientation, image):
    return image if orientation == 1 else image.transpose(INVERSE[orientation])


def rle4_bmp(image):
    """A 4-bit RLE BMP (BI_RLE4) written by hand: encoded runs, odd-length absolute runs and a delta escape."""
    quantised = image.quantize(colors=16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette = quantised.getpalette()[: 16 * 3]
    palette += [0] * (48 - len(palette))
    rows = []
    for y in range(H - 1, -1, -1):  # bottom-up
        row = [quantised.getpixel((x, y)) for x in range(W)]
        out = bytearray()
        if y == 3:
            # Skip the first 4 pixels of this row with a delta; they read as palette entry 0.
            out += bytes([0, 2, 4, 0])
            row = row[4:]
        x = 0
        while x < len(row):
            run_length = 1
            while x + run_length < len(row) and row[x + run_length] == row[x] and run_length < 255:
                run_length += 1
            if run_length >= 3 or x + run_length == len(row):
                out += bytes([run_length, row[x] << 4 | row[x]])
                x += run_length
                continue
            # Absolute run: up to the next run of 3 (at least 3 pixels, padded to 16 bits).
            end = x
            while end < len(row) and not (end + 2 < len(row) and row[end] == row[end + 1] == row[end + 2]) and end - x < 255:
                end += 1
            end = max(end, min(x + 3, len(row)))
            pixels = row[x:end]
            packed = bytearray((pixels[i] << 4 | (pixels[i + 1] if i + 1 < len(pixels) else 0)) for i in range(0, len(pixels), 2))
            if len(packed) % 2:
                packed.append(0)
            out += bytes([0, len(pixels)]) + packed
            x = end
        out += bytes([0, 0])  # end of line
        rows.append(out)
    data = b''.join(rows) + bytes([0, 1])  # end of bitmap
    palette_bytes = b''.join(bytes([palette[i * 3 + 2], palette[i * 3 + 1], palette[i * 3], 0]) for i in range(16))
    offset = 14 + 40 + len(palette_bytes)
    info = struct.pack('<IiiHHIIiiII', 40, W, H, 1, 4, 2, len(data), 2835, 2835, 16, 0)
    return b'BM' + struct.pack('<IHHI', offset + len(data), 0, 0, offset) + info + palette_bytes + data


def top_down(bmp_bytes):
    """A 24-bit BMP with its rows stored top row first (negative height)."""
    offset = struct.unpack_from('<I', bmp_bytes, 10)[0]
    width, height = struct.unpack_from('<ii', bmp_bytes, 18)
    stride = (width * 3 + 3) // 4 * 4
    rows = [bmp_bytes[offset + i * stride: offset + (i + 1) * stride] for i in range(height)]
    header = bytearray(bmp_bytes[:offset])
    struct.pack_into('<i', header, 22, -height)
    return bytes(header) + b''.join(reversed(rows))


def webp_with_exif_prefix(webp_bytes):
    """The same WebP with its EXIF chunk payload prefixed by JPEG's "Exif\\0\\0", as some writers do."""
    out = bytearray(webp_bytes[:12])
    offset = 12
    while offset < len(webp_bytes):
        fourcc = webp_bytes[offset:offset + 4]
        size = struct.unpack_from('<I', webp_bytes, offset + 4)[0]
        payload = webp_bytes[offset + 8: offset + 8 + size]
        if fourcc == b'EXIF':
            payload = b'Exif\0\0' + payload
        out += fourcc + struct.pack('<I', len(payload)) + payload + (b'\0' if len(payload) % 2 else b'')
        offset += 8 + size + size % 2
    struct.pack_into('<I', out, 4, len(out) - 8)
    return bytes(out)


def make(tmp):
    made = {}
    base = os.path.join(tmp, 'base.png')
    base_alpha = os.path.join(tmp, 'base-alpha.png')
    picture().save(base)
    picture(alpha=True).save(base_alpha)

    def path(name):
        made[name] = None
        return os.path.join(OUT, name)

    # BMP
    convert(base, 'BMP2:' + path('bmp-os2-24bit.bmp'))
    made['bmp-os2-24bit.bmp'] = 'ImageMagick BMP2: OS/2 1.x 12-byte header, 24-bit'
    convert(base, 'BMP2:' + path('bmp-os2-8bit-palette.bmp'), '-colors', '64', '-type', 'palette')
    made['bmp-os2-8bit-palette.bmp'] = 'ImageMagick BMP2: OS/2 1.x header, 3-byte palette entries'
    convert(base, 'BMP3:' + path('bmp-rle8.bmp'), '-colors', '64', '-type', 'palette', '-compress', 'RLE')
    made['bmp-rle8.bmp'] = 'ImageMagick BMP3 with -compress RLE: BI_RLE8'
    with open(path('bmp-rle4.bmp'), 'wb') as f:
        f.write(rle4_bmp(picture()))
    made['bmp-rle4.bmp'] = 'written by make.py: BI_RLE4 with encoded and absolute runs and a delta'
    convert(base, 'BMP3:' + path('bmp-1bit.bmp'), '-monochrome')
    made['bmp-1bit.bmp'] = 'ImageMagick BMP3 -monochrome: 1 bit per pixel'
    convert(base, 'BMP:' + path('bmp-bitfields-rgb565.bmp'), '-define', 'bmp:subtype=RGB565')
    made['bmp-bitfields-rgb565.bmp'] = 'ImageMagick BMP (V5 header), BI_BITFIELDS 5-6-5'
    convert(base_alpha, 'BMP:' + path('bmp-32bit-alpha.bmp'))
    made['bmp-32bit-alpha.bmp'] = 'ImageMagick BMP (V5 header), 32-bit BI_BITFIELDS with an alpha mask'
    bmp24 = os.path.join(tmp, 'bmp24.bmp')
    convert(base, 'BMP3:' + bmp24, '-type', 'truecolor')
    with open(bmp24, 'rb') as f, open(path('bmp-24bit-top-down.bmp'), 'wb') as out:
        out.write(top_down(f.read()))
    made['bmp-24bit-top-down.bmp'] = 'ImageMagick BMP3 24-bit, rows reordered top-down (negative height) by make.py'

    # PNG
    convert(base, 'PNG48:' + path('png-16bit.png'), '-depth', '16')
    made['png-16bit.png'] = 'ImageMagick PNG48: 16 bits per channel'
    convert(base, 'PNG8:' + path('png-palette.png'))
    made['png-palette.png'] = 'ImageMagick PNG8: indexed colour'
    convert(base_alpha, 'PNG32:' + path('png-interlaced-alpha.png'), '-interlace', 'PNG')
    made['png-interlaced-alpha.png'] = 'ImageMagick PNG32 -interlace PNG: Adam7, RGBA'
    frames = [picture(), ImageOps.invert(picture())]
    frames[0].save(path('png-apng.png'), save_all=True, append_images=frames[1:], duration=100, loop=0)
    made['png-apng.png'] = 'Pillow APNG, two frames (the first is the default image)'
    convert(base, 'PNG8:' + path('png-grey-1bit.png'), '-colorspace', 'Gray', '-monochrome')
    made['png-grey-1bit.png'] = 'ImageMagick PNG, 1-bit greyscale'

    # GIF
    convert(base_alpha, path('gif-transparent.gif'), '-channel', 'A', '-threshold', '50%', '+channel')
    made['gif-transparent.gif'] = 'ImageMagick GIF with a transparent colour'

    # TIFF
    convert(base, path('tiff-lzw.tif'), '-compress', 'LZW')
    made['tiff-lzw.tif'] = 'ImageMagick TIFF, LZW, little-endian'
    convert(base, path('tiff-deflate-big-endian.tif'), '-compress', 'Zip', '-endian', 'MSB')
    made['tiff-deflate-big-endian.tif'] = 'ImageMagick TIFF, Deflate, big-endian (MM)'
    convert(base, path('tiff-packbits-grey.tif'), '-colorspace', 'Gray', '-compress', 'RLE')
    made['tiff-packbits-grey.tif'] = 'ImageMagick TIFF, PackBits, greyscale'
    convert(base_alpha, path('tiff-tiled-alpha.tif'), '-define', 'tiff:tile-geometry=16x16', '-compress', 'None')
    made['tiff-tiled-alpha.tif'] = 'ImageMagick TIFF, 16x16 tiles, RGBA, uncompressed'

    # JPEG
    convert(base, path('jpeg-progressive.jpg'), '-interlace', 'JPEG', '-quality', '92')
    made['jpeg-progressive.jpg'] = 'ImageMagick JPEG -interlace JPEG: progressive'
    convert(base, path('jpeg-cmyk.jpg'), '-colorspace', 'CMYK', '-quality', '92')
    made['jpeg-cmyk.jpg'] = 'ImageMagick JPEG -colorspace CMYK (Adobe, four components)'
    convert(base, path('jpeg-grey.jpg'), '-colorspace', 'Gray', '-quality', '92')
    made['jpeg-grey.jpg'] = 'ImageMagick JPEG, one component'
    for orientation in range(1, 9):
        name = f'jpeg-orientation-{orientation}.jpg'
        stored = os.path.join(tmp, f'stored-{orientation}.png')
        stored_for(orientation, picture()).save(stored)
        convert(stored, path(name), '-quality', '92')
        exif(os.path.join(OUT, name), orientation=orientation, make='Conformance', model=f'Orientation {orientation}', taken='2024:05:01 10:20:30', offset='+02:00' if orientation % 2 else None)
        made[name] = f'Pillow-transposed picture, ImageMagick JPEG, exiftool Orientation={orientation}, camera and time'
    # A stray restart marker inside the scan: libjpeg warns "premature end of data segment", viewers show the image.
    with open(os.path.join(OUT, 'jpeg-orientation-1.jpg'), 'rb') as f:
        whole = f.read()
    scan = whole.index(b'\xff\xda')
    at = scan + (len(whole) - scan) // 3
    with open(path('jpeg-corrupt-scan.jpg'), 'wb') as f:
        f.write(whole[:at] + b'\xff\xd3' + whole[at:])
    made['jpeg-corrupt-scan.jpg'] = 'jpeg-orientation-1.jpg with a stray RST3 marker written into its scan by make.py'

    # WebP
    stored = os.path.join(tmp, 'stored-6.png')
    stored_for(6, picture()).save(stored)
    run('cwebp', '-quiet', '-q', '92', stored, '-o', path('webp-exif-orientation-6.webp'))
    exif(os.path.join(OUT, 'webp-exif-orientation-6.webp'), orientation=6, make='Conformance', model='WebP', taken='2023:12:24 18:00:05', offset='-05:00')
    made['webp-exif-orientation-6.webp'] = 'cwebp (lossy, VP8X) with exiftool EXIF: Orientation=6, camera, time'
    stored = os.path.join(tmp, 'stored-8.png')
    stored_for(8, picture()).save(stored)
    run('cwebp', '-quiet', '-lossless', stored, '-o', os.path.join(tmp, 'eight.webp'))
    exif(os.path.join(tmp, 'eight.webp'), orientation=8, make='Conformance', model='WebP prefixed', taken='2022:02:02 02:02:02')
    with open(os.path.join(tmp, 'eight.webp'), 'rb') as f, open(path('webp-exif-prefixed-orientation-8.webp'), 'wb') as out:
        out.write(webp_with_exif_prefix(f.read()))
    made['webp-exif-prefixed-orientation-8.webp'] = 'cwebp -lossless with exiftool EXIF (Orientation=8), the EXIF chunk prefixed with "Exif\\0\\0" by make.py'
    run('cwebp', '-quiet', '-lossless', '-exact', base_alpha, '-o', path('webp-lossless-alpha.webp'))
    made['webp-lossless-alpha.webp'] = 'cwebp -lossless -exact, RGBA'
    return made




def imagemagick_rgba(file):
    """ImageMagick's decode as an RGBA image: the reader for BMP, where Pillow 9.4 misreads RLE4 (delta escapes,
    odd absolute runs) and truncates 5- and 6-bit channels instead of widening them."""
    width, height = map(int, subprocess.run(['identify', '-format', '%w %h', file], check=True, capture_output=True, text=True).stdout.split())
    data = subprocess.run(['convert', file, '-depth', '8', 'rgba:-'], check=True, capture_output=True).stdout
    return Image.frombytes('RGBA', (width, height), data)


def expected(name, how):
    file = os.path.join(OUT, name)
    if name.endswith('.bmp'):
        return describe(name, how, 'bmp', imagemagick_rgba(file), 'ImageMagick 6.9 (pixels), exiftool (tags)')
    with Image.open(file) as image:
        image.seek(0)
        fmt = {'JPEG': 'jpeg', 'PNG': 'png', 'GIF': 'gif', 'WEBP': 'webp', 'TIFF': 'tiff', 'BMP': 'bmp'}[image.format]
        upright = ImageOps.exif_transpose(image.convert('RGBA') if image.mode not in ('RGB', 'RGBA', 'L', 'P', '1', 'LA', 'CMYK', 'I;16') else image)
        if upright.mode == 'I;16':
            upright = upright.point(lambda v: v / 257).convert('L')
        rgba = upright.convert('RGBA')
    return describe(name, how, fmt, rgba, 'Pillow 9.4 (pixels, EXIF orientation applied), exiftool (tags)')


def describe(name, how, fmt, rgba, reader):
    file = os.path.join(OUT, name)
    lossless = fmt != 'jpeg' and not (fmt == 'webp' and 'lossy' in how)
    tags = json.loads(subprocess.run(['exiftool', '-j', '-n', '-Orientation', '-Make', '-Model', '-DateTimeOriginal', '-OffsetTimeOriginal', file], check=True, capture_output=True).stdout)[0]
    entry = {
        'file': name,
        'made': how,
        'reader': reader,
        'format': fmt,
        'width': rgba.width,
        'height': rgba.height,
        'hasAlpha': min(rgba.getdata(3)) < 255,
        'samples': [[x, y, list(rgba.getpixel((x, y)))] for x, y in SAMPLES],
        # JPEG and lossy WebP differ between decoders in the last bits; everything else must match exactly.
        'tolerance': 0 if lossless else 24,
    }
    if lossless:
        entry['rgbaSha256'] = hashlib.sha256(rgba.tobytes()).hexdigest()
    if tags.get('Orientation'):
        entry['orientation'] = tags['Orientation']
    if tags.get('Make') or tags.get('Model'):
        entry['camera'] = {'make': tags.get('Make'), 'model': tags.get('Model')}
    if tags.get('DateTimeOriginal'):
        date, time = tags['DateTimeOriginal'].split(' ')
        entry['takenAt'] = f"{date.replace(':', '-')}T{time}{tags.get('OffsetTimeOriginal', '')}"
    return entry


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.remove(os.path.join(OUT, old))
    with tempfile.TemporaryDirectory() as tmp:
        made = make(tmp)
    entries = [expected(name, how) for name, how in made.items()]
    # The corrupt scan is damaged on purpose: only its size and format are expected to survive, and a warning.
    for entry in entries:
        if entry['file'] == 'jpeg-corrupt-scan.jpg':
            entry['damaged'] = True
    with open(os.path.join(HERE, 'expected.json'), 'w') as f:
        f.write('[\n' + ',\n'.join(json.dumps(entry) for entry in entries) + '\n]\n')
    print(f'{len(entries)} images, {sum(os.path.getsize(os.path.join(OUT, e["file"])) for e in entries)} bytes')


if __name__ == '__main__':
    main()
