// What a file-system error code means to the person who has to fix it, in a few words.

const WHY: Readonly<Record<string, string>> = {
  EISDIR: "a directory is in the way",
  ENOTDIR: "a file is in the way where a directory belongs",
  EEXIST: "something is already there",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  ELOOP: "a loop of symbolic links is in the way",
};

/** The words for `err`'s code; undefined for an error that is no file-system error gw knows. */
export function fsWhy(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? WHY[code] : undefined;
}
