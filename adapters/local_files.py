"""The version of a local model's files, for the answer cache's fingerprint.

A model re-saved in place (fine-tuned, re-converted) keeps its folder path, so the path alone
would let a persistent cache serve the old model's answers.  The revision is a digest of the
files' relative names, sizes and modification times: any re-save changes it (at worst a copy
of unchanged files costs a cache miss, never a wrong answer), and it costs a few ``stat`` calls,
not a read of the weights.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

#: files looked at in a folder; a model folder holds a few dozen at most
MAX_FILES = 10_000


def files_revision(path: str | os.PathLike[str]) -> str | None:
    """A short digest of the names, sizes and modification times of the files at ``path``.

    ``path`` is a model file (e.g. a GGUF) or a folder (every file in it and its subfolders,
    hidden ones excepted); ``None`` when it does not exist (e.g. a hub model id).
    """
    root = Path(path)
    if root.is_file():
        files = [root]
    elif root.is_dir():
        files = []
        for folder, subfolders, names in os.walk(root):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            files.extend(Path(folder) / n for n in sorted(names) if not n.startswith("."))
            if len(files) >= MAX_FILES:
                break
    else:
        return None
    entries = []
    for file in files[:MAX_FILES]:
        stat = file.stat()
        name = file.name if file == root else file.relative_to(root).as_posix()
        entries.append([name, stat.st_size, stat.st_mtime_ns])
    digest = hashlib.sha256(json.dumps(entries).encode("utf-8")).hexdigest()
    return f"files:{digest[:16]}"
