/** Files from a drop that may hold folders (webkitGetAsEntry), images only, in name order. */
export async function filesFromDrop(items: DataTransferItemList): Promise<File[]> {
  const entries = [...items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  const files: File[] = [];
  const walk = async (entry: FileSystemEntry): Promise<void> => {
    if (entry.isFile) {
      files.push(await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject)));
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries returns at most ~100 entries a call: read until empty.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const e of batch) await walk(e);
      }
    }
  };
  for (const e of entries) await walk(e);
  return onlyPhotos(files);
}

/** Drops files that are plainly not photos by name (labels.csv, .DS_Store); anything else is tried and reports its own error. */
export function onlyPhotos(files: File[]): File[] {
  return files.filter((f) => !/^\./.test(f.name) && !/\.(csv|txt|json|md)$/i.test(f.name)).sort((a, b) => a.name.localeCompare(b.name));
}
