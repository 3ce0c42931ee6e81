/** Reading model files the person picked or dropped into `{path, bytes}` (folders walked recursively). */

export interface PickedFile {
  /** Path relative to the picked folder (or the file name). */
  path: string;
  bytes: ArrayBuffer;
}

export async function readPicked(files: Iterable<File>): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  for (const f of files) out.push({ path: f.webkitRelativePath || f.name, bytes: await f.arrayBuffer() });
  return out;
}

/** The name to show for a set of files: the folder they came from, or the single file's name. */
export function sourceNameOf(files: PickedFile[]): string {
  if (files.length === 1) return files[0].path.split('/').pop() ?? files[0].path;
  const first = files[0]?.path.split('/') ?? [];
  return first.length > 1 ? first[0] : 'the chosen files';
}

function entryFile(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, prefix: string, out: PickedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await entryFile(entry as FileSystemFileEntry);
    out.push({ path: prefix + entry.name, bytes: await file.arrayBuffer() });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, `${prefix}${entry.name}/`, out);
  }
}

/** Files and folders dropped on the page (folders through the entries API where the browser has it). */
export async function readDropped(dt: DataTransfer): Promise<PickedFile[]> {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.() ?? null);
  if (entries.length > 0 && entries.every((e) => e !== null)) {
    const out: PickedFile[] = [];
    for (const e of entries) await walk(e!, '', out);
    return out;
  }
  return readPicked([...dt.files]);
}
