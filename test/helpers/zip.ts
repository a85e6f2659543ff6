/**
 * Reads every file of a zip archive (stored or deflated entries, as serverless writes them) with
 * Node's zlib alone, so that tests can search the packaged code itself: a compressed archive
 * does not contain its files' text.
 */
import { inflateRawSync } from 'node:zlib';

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;

export function unzip(archive: Buffer): Map<string, Buffer> {
  // The end record is the last 22 bytes, unless a comment (up to 64 KB) follows it.
  let end = archive.length - 22;
  while (end >= 0 && archive.readUInt32LE(end) !== END_OF_CENTRAL_DIRECTORY) end--;
  if (end < 0) throw new Error('not a zip archive');
  const count = archive.readUInt16LE(end + 10);
  let entry = archive.readUInt32LE(end + 16);

  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (archive.readUInt32LE(entry) !== CENTRAL_DIRECTORY_ENTRY) throw new Error('corrupt zip');
    const method = archive.readUInt16LE(entry + 10);
    const compressedSize = archive.readUInt32LE(entry + 20);
    const nameLength = archive.readUInt16LE(entry + 28);
    const extraLength = archive.readUInt16LE(entry + 30);
    const commentLength = archive.readUInt16LE(entry + 32);
    const local = archive.readUInt32LE(entry + 42);
    const name = archive.toString('utf8', entry + 46, entry + 46 + nameLength);
    if (compressedSize === 0xffffffff || local === 0xffffffff) throw new Error('zip64 unsupported');
    if (archive.readUInt32LE(local) !== LOCAL_FILE_HEADER) throw new Error('corrupt zip');
    const dataStart =
      local + 30 + archive.readUInt16LE(local + 26) + archive.readUInt16LE(local + 28);
    const data = archive.subarray(dataStart, dataStart + compressedSize);
    if (method === 0) files.set(name, Buffer.from(data));
    else if (method === 8) files.set(name, inflateRawSync(data));
    else throw new Error(`zip entry ${name}: compression method ${method} unsupported`);
    entry += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}
