/**
 * What a downloaded file is, from its first bytes. A server's Content-Type is a claim; the magic
 * numbers are evidence. Containers that hold either sound or picture (MP4, Matroska/WebM, Ogg) list
 * both kinds, most likely first: only ffprobe can tell an audio-only MP4 from a video.
 */

export type MediaKind = 'image' | 'video' | 'audio';

export interface SniffedType {
  /** The most specific MIME type the bytes show, e.g. `image/png`, `video/mp4`. */
  mime: string;
  /** File extension without the dot. */
  ext: string;
  /** Kinds this container can be, most likely first. */
  kinds: readonly MediaKind[];
}

/** Bytes worth reading before deciding (the longest check looks 40 bytes in). */
export const SNIFF_BYTES = 64;

const ascii = (head: Buffer, offset: number, text: string): boolean =>
  head.length >= offset + text.length && head.toString('latin1', offset, offset + text.length) === text;

const starts = (head: Buffer, bytes: readonly number[]): boolean => bytes.every((b, i) => head[i] === b);

const IMAGE = ['image'] as const;
const AUDIO = ['audio'] as const;
const AV = ['video', 'audio'] as const;
const AUDIO_FIRST = ['audio', 'video'] as const;

/** ISO base media (MP4, MOV, M4A, 3GP, HEIF/AVIF): the `ftyp` box's major brand says which. */
function sniffIsoBmff(head: Buffer): SniffedType {
  const brand = head.toString('latin1', 8, 12);
  if (['M4A ', 'M4B ', 'M4P ', 'F4A ', 'F4B '].includes(brand)) return { mime: 'audio/mp4', ext: 'm4a', kinds: AUDIO };
  if (['avif', 'avis'].includes(brand)) return { mime: 'image/avif', ext: 'avif', kinds: IMAGE };
  if (['heic', 'heix', 'mif1', 'msf1'].includes(brand)) return { mime: 'image/heic', ext: 'heic', kinds: IMAGE };
  if (brand === 'qt  ') return { mime: 'video/quicktime', ext: 'mov', kinds: AV };
  if (brand.startsWith('3g')) return { mime: 'video/3gpp', ext: '3gp', kinds: AV };
  return { mime: 'video/mp4', ext: 'mp4', kinds: AV };
}

/** An MPEG audio frame header (MP3) or an ADTS header (AAC), both of which start with 11 set bits. */
function sniffFrameSync(head: Buffer): SniffedType | undefined {
  const [b0 = 0, b1 = 0, b2 = 0] = head;
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const version = (b1 >> 3) & 0b11;
  const layer = (b1 >> 1) & 0b11;
  // ADTS has a 12-bit sync word and layer 00, which MPEG audio reserves.
  if (layer === 0b00) return (b1 & 0xf6) === 0xf0 ? { mime: 'audio/aac', ext: 'aac', kinds: AUDIO } : undefined;
  const bitrate = b2 >> 4;
  const sampleRate = (b2 >> 2) & 0b11;
  if (version === 0b01 || bitrate === 0b1111 || sampleRate === 0b11) return undefined;
  return { mime: 'audio/mpeg', ext: 'mp3', kinds: AUDIO };
}

/** The media type of a file from its first bytes, or undefined when it is no format we accept. */
export function sniffMedia(head: Buffer): SniffedType | undefined {
  if (starts(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { mime: 'image/png', ext: 'png', kinds: IMAGE };
  if (starts(head, [0xff, 0xd8, 0xff])) return { mime: 'image/jpeg', ext: 'jpg', kinds: IMAGE };
  if (ascii(head, 0, 'GIF87a') || ascii(head, 0, 'GIF89a')) return { mime: 'image/gif', ext: 'gif', kinds: IMAGE };
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WEBP')) return { mime: 'image/webp', ext: 'webp', kinds: IMAGE };
  if (ascii(head, 0, 'RIFF') && ascii(head, 8, 'WAVE')) return { mime: 'audio/wav', ext: 'wav', kinds: AUDIO };
  // "BM" alone is too weak (any text starting "BM…"): also require a known DIB header size.
  if (ascii(head, 0, 'BM') && head.length >= 18 && [12, 40, 52, 56, 64, 108, 124].includes(head.readUInt32LE(14))) {
    return { mime: 'image/bmp', ext: 'bmp', kinds: IMAGE };
  }
  if (ascii(head, 4, 'ftyp')) return sniffIsoBmff(head);
  if (starts(head, [0x1a, 0x45, 0xdf, 0xa3])) {
    return head.includes('webm', 0, 'latin1')
      ? { mime: 'video/webm', ext: 'webm', kinds: AV }
      : { mime: 'video/x-matroska', ext: 'mkv', kinds: AV };
  }
  if (ascii(head, 0, 'OggS')) {
    return head.includes('theora', 0, 'latin1') ? { mime: 'video/ogg', ext: 'ogv', kinds: AV } : { mime: 'audio/ogg', ext: 'ogg', kinds: AUDIO_FIRST };
  }
  if (ascii(head, 0, 'fLaC')) return { mime: 'audio/flac', ext: 'flac', kinds: AUDIO };
  if (ascii(head, 0, 'ID3')) return { mime: 'audio/mpeg', ext: 'mp3', kinds: AUDIO };
  return sniffFrameSync(head);
}

/**
 * Which kind the file counts as: the declared type's kind when the bytes allow it, else the first
 * possible kind the caller accepts. `contradicts` when the server claimed image/video/audio/text/…
 * and the bytes say otherwise; `application/*` (octet-stream, ogg, mp4) claims nothing.
 */
export function decideKind(
  sniffed: SniffedType,
  declaredContentType: string | undefined,
  allowed: readonly MediaKind[],
): { kind: MediaKind; allowed: boolean } | { contradicts: string } {
  const declaredTop = declaredContentType?.split(';')[0]?.trim().toLowerCase().split('/')[0] ?? '';
  const claims = declaredTop !== '' && declaredTop !== 'application' && declaredTop !== 'binary';
  if (claims && !sniffed.kinds.includes(declaredTop as MediaKind)) return { contradicts: declaredTop };
  const declaredKind = sniffed.kinds.find((k) => k === declaredTop);
  const kind = declaredKind ?? sniffed.kinds.find((k) => allowed.includes(k)) ?? (sniffed.kinds[0] as MediaKind);
  return { kind, allowed: allowed.includes(kind) };
}
