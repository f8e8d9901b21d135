"""What `mlops train` packs from ``--source-dir`` into ``sourcedir.tar.gz``, and what it refuses.

Left out (gitignore semantics, the last matching pattern wins, ``!`` re-includes):

1. ``DEFAULT_EXCLUDES``: version control, virtual environments, caches, editor and OS files,
   the pipeline's own state;
2. every directory holding a ``pyvenv.cfg`` (a virtualenv, whatever its name: ``env/``);
3. the patterns of ``<source-dir>/.gitignore``, then of ``<source-dir>/.mlopsignore`` (so
   ``.mlopsignore`` can re-include what the defaults or ``.gitignore`` leave out). As in git, a
   file inside a left-out directory cannot be re-included by a pattern; only ``--include``
   reaches it. Nested ``.gitignore`` files and those above ``--source-dir`` are not read.

Refused (``BadInput``, exit 2, nothing uploaded):

- a file that is packed and looks like a secret (``SECRET_PATTERNS``: dotenv files, private
  keys and keystores, cloud and package-registry credentials): leave it out with
  ``.mlopsignore``, or pack it on purpose with ``--include PATH``;
- a symlink that resolves outside ``--source-dir`` (it would pack a host file); a symlink inside
  is packed as the file it names, which must itself pass every rule above (a link cannot
  smuggle in a left-out or secret file);
- a pack with no files.

``--include PATH`` (a file, or a directory and everything under it, relative to
``--source-dir``) packs PATH even when the defaults or an ignore file leave it out or it looks
like a secret; it is recorded in the job's lineage. Symlinks under it still may not escape.

The archive is reproducible: sorted names, uid/gid 0, modes 0644/0755, the files' mtimes and a
zero gzip timestamp, so the same tree gives the same ``sha256``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pipelines.errors import BadInput

if TYPE_CHECKING:
    from pathspec import GitIgnoreSpec

IGNORE_FILES = (".gitignore", ".mlopsignore")
"""Read from the top of ``--source-dir``, in this order (``.mlopsignore`` has the last word)."""

DEFAULT_EXCLUDES: tuple[str, ...] = (
    # version control
    ".git/",
    ".hg/",
    ".svn/",
    ".bzr/",
    # virtual environments (and any directory holding pyvenv.cfg) and test-env managers
    ".venv/",
    "venv/",
    ".tox/",
    ".nox/",
    # caches and build leftovers
    "__pycache__/",
    "*.py[cod]",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".ipynb_checkpoints/",
    "node_modules/",
    "*.egg-info/",
    ".eggs/",
    ".coverage",
    ".coverage.*",
    "htmlcov/",
    # editors and operating systems
    ".idea/",
    ".vscode/",
    "*.swp",
    ".DS_Store",
    "Thumbs.db",
    # the pipeline's own state (stack outputs cache, local cloud)
    ".mlops/",
)
"""Never training code. ``.mlopsignore`` may re-include one (``!node_modules/``)."""

SECRET_PATTERNS: tuple[str, ...] = (
    # dotenv and direnv files
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    # private keys, certificates with keys, keystores, password databases
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.ppk",
    "*.kdbx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".ssh/",
    # cloud, cluster and registry credentials
    ".aws/",
    "credentials",
    "credentials.json",
    "*accessKeys.csv",
    ".kube/",
    "kubeconfig",
    ".docker/config.json",
    ".netrc",
    "_netrc",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    ".git-credentials",
    ".htpasswd",
    # files that say what they hold
    "secrets.*",
    "*.secret",
    "*.secrets",
)
"""Packed files matching these are refused unless ``--include`` names them."""

MAX_LISTED = 20
"""Paths listed in an event or an error (the counts are always complete)."""


def human_bytes(size: int) -> str:
    """``1536`` → ``1.5 KiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _listed(paths: Sequence[str], limit: int = MAX_LISTED) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


@dataclass(frozen=True)
class SourcePack:
    """The tarball and what went into it."""

    data: bytes
    files: tuple[str, ...]
    """Packed paths, relative to ``--source-dir`` (POSIX separators)."""
    size_bytes: int
    """The packed files' total size before compression."""
    left_out: tuple[tuple[str, str], ...]
    """(path, why) for what was left out; a directory once, its path ending in ``/``."""
    included: tuple[str, ...]
    """The ``--include`` paths."""

    @property
    def excluded(self) -> tuple[str, ...]:
        """``left_out`` as ``path (why)``."""
        return tuple(f"{path} ({why})" for path, why in self.left_out)

    def why_left_out(self, rel: str) -> str | None:
        """Why ``rel`` (a path relative to the root) is not in the pack, if it was left out."""
        for path, why in self.left_out:
            if path == rel or (path.endswith("/") and rel.startswith(path)):
                return f"{path}: {why}" if path != rel else why
        return None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def summary(self) -> dict[str, Any]:
        """For the event, ``--json`` and the lineage."""
        return {
            "files": len(self.files),
            "bytes": self.size_bytes,
            "tarball_bytes": len(self.data),
            "sha256": self.sha256,
            "excluded": len(self.excluded),
            "excluded_paths": list(self.excluded[:MAX_LISTED]),
            "included": list(self.included),
        }

    def describe(self, source_dir: Path) -> str:
        text = (
            f"packed {len(self.files)} file{'s' if len(self.files) != 1 else ''} "
            f"({human_bytes(self.size_bytes)}, tarball {human_bytes(len(self.data))}) "
            f"from {str(source_dir)!r}; left out {len(self.excluded)}"
        )
        if self.excluded:
            text += f": {_listed(self.excluded, 8)}"
        if self.included:
            text += f"; packed on purpose (--include): {', '.join(self.included)}"
        return text


@dataclass
class _Walk:
    root: Path
    """Resolved ``--source-dir``."""
    rules: GitIgnoreSpec
    origins: list[str]
    """``rules.patterns[i]`` came from ``origins[i]`` (``.gitignore:3 (*.log)``)."""
    secrets: GitIgnoreSpec
    include: tuple[str, ...]
    files: list[tuple[str, Path]] = field(default_factory=list)
    excluded: list[tuple[str, str]] = field(default_factory=list)
    secret_files: list[str] = field(default_factory=list)
    escapes: list[str] = field(default_factory=list)

    # -- rules ---------------------------------------------------------------------------
    def covered(self, rel: str) -> bool:
        """``rel`` is an ``--include`` path or under one."""
        return any(rel == inc or rel.startswith(f"{inc}/") for inc in self.include)

    def leads_to_include(self, rel_dir: str) -> bool:
        return any(inc.startswith(f"{rel_dir}/") for inc in self.include)

    def rule_for(self, rel: str, path: Path, *, is_dir: bool) -> str | None:
        """Why ``rel`` (at ``path``) is left out, or None."""
        if is_dir and (path / "pyvenv.cfg").is_file():
            return "a virtualenv: pyvenv.cfg"
        result = self.rules.check_file(f"{rel}/" if is_dir else rel)
        if result.include and result.index is not None:
            return self.origins[result.index]
        return None

    def path_left_out(self, rel: str) -> str | None:
        """Why ``rel`` or one of its directories is left out (for a symlink's target)."""
        parts = PurePosixPath(rel).parts
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            reason = self.rule_for(prefix, self.root / prefix, is_dir=True)
            if reason:
                return reason
        return self.rule_for(rel, self.root / rel, is_dir=False)

    def looks_secret(self, rel: str) -> bool:
        return bool(self.secrets.match_file(rel))

    def inside(self, target: Path) -> bool:
        return target == self.root or target.is_relative_to(self.root)

    # -- the walk --------------------------------------------------------------------------
    def walk(self, directory: Path, prefix: str, chain: frozenset[Path], *, only: bool) -> None:
        """Visit ``directory`` (``prefix`` = its path relative to the root, ``""`` or ending in
        ``/``). ``only``: inside a left-out directory, visit just what leads to an include."""
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            raise BadInput(
                f"--source-dir: cannot read {str(directory)!r} ({exc.strerror or exc})"
            ) from None
        for entry in entries:
            rel = f"{prefix}{entry.name}"
            path, is_link = Path(entry.path), entry.is_symlink()
            if only and not self.covered(rel):
                # Inside a left-out directory (listed once): only the way to an include.
                if self.leads_to_include(rel) and path.is_dir():
                    self.walk_dir(rel, path, is_link, chain, only=True)
                continue
            self.visit(rel, path, is_link, chain)

    def visit(self, rel: str, path: Path, is_link: bool, chain: frozenset[Path]) -> None:
        covered = self.covered(rel)
        is_dir = path.is_dir()
        reason = None if covered else self.rule_for(rel, path, is_dir=is_dir)
        if reason is not None:
            self.excluded.append((f"{rel}/" if is_dir else rel, reason))
            if is_dir and self.leads_to_include(rel):
                self.walk_dir(rel, path, is_link, chain, only=True)
            return
        if is_dir:
            self.walk_dir(rel, path, is_link, chain, only=False)
            return
        # The file itself, through any symlink on its way (its own or a linked directory's).
        real = path.resolve()
        if not self.inside(real):
            self.escapes.append(f"{rel} -> {real}")
            return
        real_rel = real.relative_to(self.root).as_posix()
        if real_rel != rel and not covered and not self.covered(real_rel):
            # A link packs its target's content: the target must pass the rules too.
            left_out = self.path_left_out(real_rel)
            if left_out is not None:
                self.excluded.append((rel, f"a link to {real_rel}: {left_out}"))
                return
            if self.looks_secret(real_rel):
                self.secret_files.append(f"{rel} (a link to {real_rel})")
                return
        if not real.is_file():
            self.excluded.append((rel, "a dangling link or not a regular file"))
            return
        if not covered and self.looks_secret(rel):
            self.secret_files.append(rel)
            return
        self.files.append((rel, real))

    def walk_dir(
        self, rel: str, path: Path, is_link: bool, chain: frozenset[Path], *, only: bool
    ) -> None:
        real = path.resolve()
        if is_link and not self.inside(real):
            self.escapes.append(f"{rel}/ -> {real}")
            return
        if real in chain:
            self.excluded.append((f"{rel}/", "a symlink loop"))
            return
        self.walk(path, f"{rel}/", chain | {real}, only=only)


def _spec(root: Path) -> tuple[GitIgnoreSpec, list[str]]:
    from pathspec import GitIgnoreSpec
    from pathspec.gitignore import GitIgnoreSpecPattern

    lines: list[tuple[str, str]] = [("default", p) for p in DEFAULT_EXCLUDES]
    for name in IGNORE_FILES:
        path = root / name
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            lines += [(f"{name}:{n}", line) for n, line in enumerate(text.splitlines(), 1)]
    patterns, origins = [], []
    for origin, line in lines:
        try:
            pattern = GitIgnoreSpecPattern(line)
        except ValueError as exc:  # GitIgnorePatternError
            if origin.startswith(".gitignore"):
                continue  # git skips a pattern it cannot parse; so do we
            raise BadInput(
                f"{origin} in {str(root)!r}: {line!r} is not a valid gitignore pattern ({exc}); "
                "see https://git-scm.com/docs/gitignore#_pattern_format"
            ) from None
        if pattern.include is not None:  # blank lines and comments
            patterns.append(pattern)
            origins.append(f"{origin} {line.strip()!r}")
    return GitIgnoreSpec(patterns), origins


def _includes(root: Path, source_dir: Path, include: Sequence[str]) -> tuple[str, ...]:
    """``--include`` paths, normalised relative to the root; each must exist inside it."""
    normalised = []
    for raw in include:
        rel = os.path.normpath(raw).replace(os.sep, "/")
        if os.path.isabs(raw) or rel == ".." or rel.startswith("../"):
            raise BadInput(
                f"--include {raw!r} is outside --source-dir {str(source_dir)!r}: name a path "
                "inside it, relative to it (e.g. config/.env)"
            )
        if rel == ".":
            raise BadInput(
                f"--include {raw!r} names the whole --source-dir: name the files or "
                "directories to pack on purpose"
            )
        if not os.path.lexists(root / rel):
            raise BadInput(f"--include {raw!r} does not exist in --source-dir {str(source_dir)!r}")
        normalised.append(rel)
    return tuple(dict.fromkeys(normalised))


def pack_source(source_dir: Path, include: Sequence[str] = ()) -> SourcePack:
    """Walk ``source_dir`` under the rules above and pack what is left (or raise ``BadInput``)."""
    from pathspec import GitIgnoreSpec

    root = source_dir.resolve()
    rules, origins = _spec(root)
    walk = _Walk(
        root=root,
        rules=rules,
        origins=origins,
        secrets=GitIgnoreSpec.from_lines(SECRET_PATTERNS),
        include=_includes(root, source_dir, include),
    )
    walk.walk(root, "", frozenset({root}), only=False)
    problems = []
    if walk.escapes:
        problems.append(
            f"symlinks in --source-dir {str(source_dir)!r} point outside it (packing them would "
            f"upload host files): {_listed(walk.escapes)}. Copy what they name into the "
            "directory, or leave the links out with .mlopsignore"
        )
    if walk.secret_files:
        problems.append(
            f"files in --source-dir {str(source_dir)!r} look like secrets and would be uploaded: "
            f"{_listed(walk.secret_files)}. Leave them out with .mlopsignore (one pattern a "
            "line, e.g. .env), or pack one on purpose with --include PATH"
        )
    if problems:
        raise BadInput("; ".join(problems) + ". Nothing was uploaded")
    if not walk.files:
        raise BadInput(
            f"--source-dir {str(source_dir)!r} has no files to pack (left out "
            f"{len(walk.excluded)}: {_listed([f'{p} ({w})' for p, w in walk.excluded]) or 'none'})"
        )
    return _archive(walk)


def _archive(walk: _Walk) -> SourcePack:
    buffer = io.BytesIO()
    size = 0
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for rel, path in walk.files:
            try:
                stat = path.stat()
                info = tarfile.TarInfo(rel)
                info.size = stat.st_size
                info.mode = 0o755 if stat.st_mode & 0o111 else 0o644
                info.mtime = int(stat.st_mtime)
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
            except OSError as exc:
                raise BadInput(
                    f"--source-dir: cannot read {rel!r} ({exc.strerror or exc})"
                ) from None
            size += stat.st_size
    return SourcePack(
        data=buffer.getvalue(),
        files=tuple(rel for rel, _ in walk.files),
        size_bytes=size,
        left_out=tuple(walk.excluded),
        included=walk.include,
    )
