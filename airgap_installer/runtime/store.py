"""The prefix's wheel store: upgrades cost what changed (issue 16).

    PREFIX/.airgap-installer/wheels/<file>.whl   every wheel once, by file name, checked by sha256
    PREFIX/.airgap-installer/uv-cache/            uv's cache, shared by the releases of the prefix
    PREFIX/releases/<id>/.airgap/wheelhouse/      hard links into the store (uv.toml's find-links)

uv keys a `--find-links` wheel's unpacked copy by the directory's URL and the file's mtime
(docs/uv-facts.md), and links the venv's files from that copy. With one store directory and one cache,
a wheel the prefix already holds is neither written nor unpacked again: an upgrade writes the changed
wheels only, and the releases share the unchanged files on disk. What a release reuses is checked
against the manifest's sha256 first, and uv checks every wheel against pins.txt's hashes again. The
store's index (`.index.json`) remembers each wheel's sha256 with the size, mtime and inode it had when it
was checked: a wheel whose stat still matches is not hashed again (a full upgrade of the large project
otherwise spends 0.4 s re-reading 365 MB); one that was written to since is hashed again.
When releases are pruned, the store drops the wheels no release links to, and their entries leave uv's
cache (`uv cache prune` then removes what nothing points to)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

from .layout import STATE
from .manifest import Manifest

CHUNK = 1 << 20


def store_dir(prefix: Path) -> Path:
    return prefix / STATE / "wheels"


def cache_dir(prefix: Path) -> Path:
    return prefix / STATE / "uv-cache"


def expected_hashes(manifest: Manifest) -> dict[str, str]:
    """Each shipped wheel's sha256, from the pins (`name==version --hash=sha256:H`) and the packages."""
    by_pin: dict[tuple[str, str], str] = {}
    for variant in manifest.pin_variants:
        for line in variant.pins:
            found = re.match(r"([^=\s]+)==(\S+) --hash=sha256:([0-9a-f]{64})", line)
            if found:
                by_pin[(_canon(found.group(1)), found.group(2))] = found.group(3)
    return {p.file: h for p in manifest.packages
            if p.file and p.version and (h := by_pin.get((_canon(p.name), p.version)))}


def wheels_of(manifest: Manifest) -> set[str]:
    """The wheel files one target's manifest installs (a fat file carries other targets' too)."""
    return {p.file for p in manifest.packages if p.file} | {p.wheel for p in manifest.local_packages}


def _canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


INDEX = ".index.json"


def _stat_key(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]


class Index:
    """What the store checked: name -> [sha256, size, mtime_ns, inode]. Read leniently (a damaged index
    only costs hashing again), written atomically."""

    def __init__(self, store: Path) -> None:
        self.path = store / INDEX
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            entries = data.get("wheels", {}) if isinstance(data, dict) else {}
        except (OSError, ValueError):
            entries = {}
        self.entries: dict[str, list[object]] = {k: v for k, v in entries.items() if isinstance(v, list)}

    def has(self, path: Path, sha256: str) -> bool:
        """Whether path is the file this index checked to have sha256 (same size, mtime and inode)."""
        entry = self.entries.get(path.name)
        return bool(entry) and entry == [sha256, *_stat_key(path)]

    def record(self, path: Path, sha256: str) -> None:
        self.entries[path.name] = [sha256, *_stat_key(path)]

    def save(self) -> None:
        present = {k: v for k, v in sorted(self.entries.items()) if (self.path.parent / k).is_file()}
        tmp = self.path.with_name(f"{INDEX}.{os.getpid()}")
        tmp.write_text(json.dumps({"wheels": present}, indent=0) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


def checked(path: Path, sha256: str, index: Index) -> bool:
    """Whether path is a regular file with that sha256: the index says so, or hashing it does."""
    if not path.is_file() or path.is_symlink():
        return False
    if index.has(path, sha256):
        return True
    if file_sha256(path) != sha256:
        return False
    index.record(path, sha256)
    return True


def stock(zf: zipfile.ZipFile, store: Path, hashes: dict[str, str], wheelhouse: Path,
          available: dict[str, Path] | None = None, only: set[str] | None = None) -> tuple[int, int]:
    """Put every wheel of the payload into the store (unless it is there with the right sha256) and
    hard-link it into the release's wheelhouse. `available`: wheels a delta file does not carry, found
    elsewhere in the prefix. Returns (reused, written)."""
    store.mkdir(mode=0o700, parents=True, exist_ok=True)
    wheelhouse.mkdir(parents=True, exist_ok=True)
    members = {i.filename[len("wheelhouse/"):]: i for i in zf.infolist()
               if i.filename.startswith("wheelhouse/") and not i.is_dir()
               and (only is None or i.filename[len("wheelhouse/"):] in only)}
    reused = written = 0
    index = Index(store)
    for name in sorted({*members, *(available or {})}):
        if "/" in name or name.startswith("."):
            continue  # check_members refused escapes already; a subdirectory is not a wheel
        kept = store / name
        want = hashes.get(name)
        if want and available and available.get(name) == kept:  # find_reused checked it just now
            index.record(kept, want)
            reused += 1
        elif want and checked(kept, want, index):
            reused += 1
        elif name not in members and available and name in available:
            _link(available[name], kept)  # found in an older release's wheelhouse: into the store
            reused += 1
        elif name in members:
            tmp = store / f".{name}.{os.getpid()}"
            with zf.open(members[name]) as src, open(tmp, "wb") as out:
                shutil.copyfileobj(src, out, CHUNK)
            os.chmod(tmp, 0o644)
            os.replace(tmp, kept)
            if want:  # the file's sha256 covered these bytes; uv checks them against the pins too
                index.record(kept, want)
            written += 1
        else:
            raise FileNotFoundError(f"{name} is neither in this file nor in the prefix")
        _link(kept, wheelhouse / name)
    index.save()
    return reused, written


def place_uv(prefix: Path, uv: Path, dest: Path) -> None:
    """The release's uv binary: one copy per prefix (`.airgap-installer/uv.<sha256>`), hard-linked into
    each release that bundles the same uv, instead of 40 MB per release."""
    digest = file_sha256(uv)
    kept = prefix / STATE / f"uv.{digest}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not kept.is_file() or kept.is_symlink() or file_sha256(kept) != digest:  # its name is no proof
        os.replace(uv, kept)  # the header carved it inside the prefix: the same filesystem
        os.chmod(kept, 0o755)
    _link(kept, dest)


def find_reused(prefix: Path, manifest: Manifest) -> dict[str, Path]:
    """A delta file's reused wheels, found in the prefix (its store, or an older release's wheelhouse,
    e.g. one installed before the store existed) with the sha256 the pins name. Raises LookupError naming
    the first one missing or different; nothing has been written then."""
    assert manifest.base is not None
    hashes = expected_hashes(manifest)
    places = [store_dir(prefix), *sorted((prefix / "releases").glob("*/.airgap/wheelhouse")),
              *sorted((prefix / "releases").glob("*/*/.airgap/wheelhouse"))]
    found: dict[str, Path] = {}
    index = Index(store_dir(prefix))  # read only: a delta's check writes nothing
    for name in manifest.base.reused:
        want = hashes.get(name)
        for place in places:
            candidate = place / name
            if want and checked(candidate, want, index):
                found[name] = candidate
                break
        else:
            raise LookupError(f"this delta installer upgrades {manifest.base.describe()}, and {prefix} does not "
                              f"hold its {name}" + ("" if want else " (the pins name no sha256 for it)"))
    return found


def _link(src: Path, dest: Path) -> None:
    if dest.exists() or dest.is_symlink():
        dest.unlink()
    try:
        os.link(src, dest)
    except OSError:  # a filesystem without hard links: a copy costs space, not correctness
        shutil.copy2(src, dest)


def sweep(prefix: Path, uv: str, env: dict[str, str]) -> list[str]:
    """After pruning: drop the store's wheels no release links to, and their entries in uv's cache."""
    store = store_dir(prefix)
    if not store.is_dir():
        return []
    linked = {p.name for p in (prefix / "releases").glob("*/.airgap/wheelhouse/*.whl")}
    linked |= {p.name for p in (prefix / "releases").glob("*/*/.airgap/wheelhouse/*.whl")}
    for kept in (prefix / STATE).glob("uv.*"):  # a uv no release links to any more
        if kept.is_file() and kept.stat().st_nlink == 1:
            kept.unlink()
    dropped = sorted(p.name for p in store.glob("*.whl") if p.name not in linked)
    for name in dropped:
        (store / name).unlink()
        # uv 0.13.9: wheels-v8/index/<dir hash>/<name>/<version>-<tags>{,.rev,.lock} (docs/uv-facts.md)
        package, rest = name[:-len(".whl")].split("-", 1)
        for entry in cache_dir(prefix).glob(f"wheels-v*/index/*/{_canon(package)}/{rest}*"):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
    if dropped:
        subprocess.run([uv, "cache", "prune", "--offline"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
    return dropped
