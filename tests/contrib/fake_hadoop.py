"""A stand-in for the ``hadoop`` command line: ``hadoop fs -<command>`` over a local directory.

HDFS paths (``/a/b`` or ``hdfs://namenode/a/b``) live under ``$FAKE_HDFS_ROOT``.
Output and error messages follow Hadoop 2's ``FsShell`` (what HdfsClient
parses): ``-ls`` lines, ``-count`` columns, "No such file or directory" and
"File exists". Every invocation is appended to ``$FAKE_HDFS_ROOT/../calls``
so tests can assert which commands the client ran.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(os.environ["FAKE_HDFS_ROOT"])


def local(path: str) -> Path:
    return ROOT / urlsplit(path).path.lstrip("/")


def fail(command: str, path: str, reason: str) -> None:
    print(f"{command}: `{path}': {reason}", file=sys.stderr)
    raise SystemExit(1)


def matches(pattern: str) -> list[Path]:
    """Hadoop globs: ``*``, ``?``, ``[...]`` with ``^`` for negation."""
    target = local(pattern)
    if not any(ch in str(target) for ch in "*?["):
        return [target] if target.exists() else []
    glob = str(target.relative_to(ROOT)).replace("[^", "[!")
    found = [p for p in ROOT.rglob("*") if fnmatch.fnmatchcase(str(p.relative_to(ROOT)), glob)]
    return sorted(found)


def ls_line(path: Path) -> str:
    stat = path.stat()
    kind = "d" if path.is_dir() else "-"
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(stat.st_mtime))
    size = 0 if path.is_dir() else stat.st_size
    return f"{kind}rw-r--r--   1 luigi supergroup {size:10d} {stamp} /{path.relative_to(ROOT)}"


def main(argv: list[str]) -> None:
    with open(ROOT.parent / "calls", "a") as calls:
        calls.write(" ".join(argv) + "\n")
    if argv[:1] != ["fs"]:
        fail("hadoop", " ".join(argv), "only 'fs' is implemented by this stand-in")
    command, *args = argv[1:]
    flags = {a for a in args if a.startswith("-") and a != "-"}
    paths = [a for a in args if not (a.startswith("-") and a != "-")]
    name = command.lstrip("-")
    if command == "-stat":
        if not local(paths[0]).exists():
            fail("stat", paths[0], "No such file or directory")
        print(time.strftime("%Y-%m-%d %H:%M:%S"))
    elif command == "-test":
        raise SystemExit(0 if local(paths[0]).exists() else 1)
    elif command == "-mkdir":
        target = local(paths[0])
        if target.exists():
            if "-p" not in flags or not target.is_dir():
                fail(name, paths[0], "File exists")
            return
        if "-p" not in flags and not target.parent.exists():
            fail(name, paths[0], "No such file or directory")
        target.mkdir(parents=True)
    elif command in ("-rm", "-rmr"):
        target = local(paths[0])
        if not target.exists():
            fail("rm", paths[0], "No such file or directory")
        if target.is_dir():
            if "-r" not in flags and command != "-rmr":
                fail("rm", paths[0], "Is a directory")
            shutil.rmtree(target)
        else:
            target.unlink()
    elif command == "-mv":
        *sources, dest = paths
        destination = local(dest)
        if not destination.parent.exists():
            fail("mv", dest, "No such file or directory")
        for source in sources:
            if not local(source).exists():
                fail("mv", source, "No such file or directory")
            final = destination / local(source).name if destination.is_dir() else destination
            if final.exists():
                fail("mv", dest, "File exists")
            os.rename(local(source), final)
    elif command == "-put":
        source, dest = paths
        destination = local(dest)
        if destination.exists():
            fail("put", dest, "File exists")
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source == "-":
            destination.write_bytes(sys.stdin.buffer.read())
        else:
            shutil.copyfile(source, destination)
    elif command == "-cat":
        found = [p for p in matches(paths[0]) if p.is_file()]
        if not found:
            fail("cat", paths[0], "No such file or directory")
        for path in found:
            sys.stdout.buffer.write(path.read_bytes())
    elif command == "-get":
        if not local(paths[0]).exists():
            fail("get", paths[0], "No such file or directory")
        shutil.copyfile(local(paths[0]), paths[1])
    elif command == "-getmerge":
        source = local(paths[0])
        with open(paths[1], "wb") as out:
            for path in sorted(p for p in source.iterdir() if p.is_file()):
                out.write(path.read_bytes() + (b"\n" if "-nl" in flags else b""))
    elif command == "-cp":
        shutil.copyfile(local(paths[0]), local(paths[1]))
    elif command == "-touchz":
        local(paths[0]).touch()
    elif command in ("-chmod", "-chown"):
        if not local(paths[-1]).exists():
            fail(name, paths[-1], "No such file or directory")
        with open(ROOT.parent / "modes", "a") as modes:
            modes.write(f"{command} {' '.join(args)}\n")
    elif command == "-count":
        target = local(paths[0])
        if not target.exists():
            fail("count", paths[0], "No such file or directory")
        everything = [target, *target.rglob("*")] if target.is_dir() else [target]
        dirs = sum(p.is_dir() for p in everything)
        files = sum(p.is_file() for p in everything)
        size = sum(p.stat().st_size for p in everything if p.is_file())
        print(f"{dirs:12d} {files:12d} {size:18d} {paths[0]}")
    elif command in ("-ls", "-lsr"):
        found = matches(paths[0])
        if not found:
            fail("ls", paths[0], "No such file or directory")
        recursive = command == "-lsr" or "-R" in flags
        entries: list[Path] = []
        for path in found:
            if path.is_dir():
                entries += sorted(path.rglob("*") if recursive else path.iterdir())
            else:
                entries.append(path)
        if len(found) == 1 and found[0].is_dir():
            print(f"Found {len(entries)} items")
        for entry in entries:
            print(ls_line(entry))
    else:
        fail(name, " ".join(paths), "not implemented by this stand-in")


if __name__ == "__main__":
    main(sys.argv[1:])
