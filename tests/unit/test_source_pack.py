"""What `mlops train` packs from --source-dir (issue 15 item 7): ignore files and the default
list leave things out, secret-looking files and escaping symlinks are refused, --include packs
on purpose."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from pipelines.errors import BadInput, ExitCode
from pipelines.source_pack import SourcePack, human_bytes, pack_source


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def members(pack: SourcePack) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(pack.data), mode="r:gz") as tar:
        out = {}
        for m in tar.getmembers():
            assert m.isfile(), f"{m.name} is not a regular file in the tarball"
            handle = tar.extractfile(m)
            assert handle is not None
            out[m.name] = handle.read()
        return out


def refused(source: Path, include: tuple[str, ...] = ()) -> str:
    with pytest.raises(BadInput) as err:
        pack_source(source, include)
    assert err.value.exit_code == ExitCode.BAD_INPUT
    return str(err.value)


def test_the_default_list_leaves_out_vcs_venvs_and_caches(tmp_path: Path) -> None:
    src = write(
        tmp_path,
        {
            "train.py": "print('train')",
            "pkg/model.py": "x = 1",
            ".git/config": "[core]",
            ".git/objects/ab/cdef": "blob",
            ".hg/store": "x",
            ".venv/lib/site.py": "x",
            "venv/bin/activate": "x",
            "env/pyvenv.cfg": "home = /usr/bin",  # a virtualenv by its marker, whatever the name
            "env/lib/thing.py": "x",
            "pkg/__pycache__/model.cpython-311.pyc": "x",
            "stray.pyc": "x",
            ".mypy_cache/x.json": "{}",
            ".pytest_cache/v": "x",
            ".ruff_cache/x": "x",
            ".ipynb_checkpoints/nb.ipynb": "{}",
            "node_modules/left-pad/index.js": "x",
            ".DS_Store": "x",
            ".tox/py311/x": "x",
            ".mlops/outputs-dev.json": "{}",
        },
    )
    pack = pack_source(src)
    assert set(members(pack)) == {"train.py", "pkg/model.py"}
    assert pack.files == ("pkg/model.py", "train.py")
    left_out = dict(pack.left_out)
    assert left_out["env/"] == "a virtualenv: pyvenv.cfg"
    assert left_out[".git/"] == "default '.git/'"
    assert left_out["pkg/__pycache__/"] == "default '__pycache__/'"
    assert left_out["stray.pyc"] == "default '*.py[cod]'"
    assert len(pack.excluded) == len(pack.left_out) == 15


def test_a_directory_named_env_that_is_not_a_virtualenv_is_packed(tmp_path: Path) -> None:
    src = write(tmp_path, {"train.py": "", "env/settings.py": "DEBUG = False"})
    assert set(members(pack_source(src))) == {"train.py", "env/settings.py"}


def test_gitignore_and_mlopsignore_with_negation(tmp_path: Path) -> None:
    src = write(
        tmp_path,
        {
            ".gitignore": "# build output\n*.log\ndata/\nout/*\n!out/keep.txt\n\n",
            ".mlopsignore": "!important.log\nnotes.md\n!node_modules/\n",
            "train.py": "",
            "debug.log": "noise",
            "important.log": "kept by .mlopsignore's negation",
            "data/train.csv": "a,b",
            "out/tmp.bin": "x",
            "out/keep.txt": "kept by .gitignore's negation",
            "notes.md": "left out by .mlopsignore",
            "node_modules/dep/index.js": "re-included from the default list",
        },
    )
    pack = pack_source(src)
    assert set(members(pack)) == {
        ".gitignore",
        ".mlopsignore",
        "train.py",
        "important.log",
        "out/keep.txt",
        "node_modules/dep/index.js",
    }
    left_out = dict(pack.left_out)
    assert left_out == {
        "data/": ".gitignore:3 'data/'",
        "debug.log": ".gitignore:2 '*.log'",
        "notes.md": ".mlopsignore:2 'notes.md'",
        "out/tmp.bin": ".gitignore:4 'out/*'",
    }


def test_a_pattern_cannot_reinclude_a_file_in_a_left_out_directory_but_include_can(
    tmp_path: Path,
) -> None:
    """git's rule: a file inside an excluded directory stays out whatever a later ``!`` says."""
    src = write(
        tmp_path,
        {
            ".gitignore": "data/\n",
            ".mlopsignore": "!data/labels.csv\n",
            "train.py": "",
            "data/labels.csv": "y",
            "data/big.csv": "x" * 100,
        },
    )
    assert "data/labels.csv" not in members(pack_source(src))
    pack = pack_source(src, ["data/labels.csv"])
    assert set(members(pack)) == {".gitignore", ".mlopsignore", "train.py", "data/labels.csv"}
    assert pack.included == ("data/labels.csv",)
    assert dict(pack.left_out) == {"data/": ".gitignore:1 'data/'"}


@pytest.mark.parametrize(
    "secret",
    [
        ".env",
        ".env.production",
        "config/prod.env",
        ".envrc",
        "certs/server.pem",
        "tls.key",
        "client.p12",
        "store.pfx",
        "id_rsa",
        "keys/id_ed25519",
        ".ssh/known_hosts",
        ".aws/credentials",
        "credentials",
        "gcp/credentials.json",
        "rootkey_accessKeys.csv",
        ".netrc",
        ".npmrc",
        ".pypirc",
        ".pgpass",
        ".git-credentials",
        ".kube/config",
        "passwords.kdbx",
        "secrets.yaml",
        "api.secret",
    ],
)
def test_a_secret_looking_file_is_refused_naming_it_and_the_way_out(
    tmp_path: Path, secret: str
) -> None:
    src = write(tmp_path, {"train.py": "", secret: "hunter2"})
    message = refused(src)
    assert secret in message
    assert ".mlopsignore" in message and "--include PATH" in message
    assert "Nothing was uploaded" in message


def test_every_secret_is_named_at_once(tmp_path: Path) -> None:
    src = write(tmp_path, {"train.py": "", ".env": "A=1", "deploy.pem": "k", "sub/.npmrc": "t"})
    message = refused(src)
    assert all(name in message for name in (".env", "deploy.pem", "sub/.npmrc"))


def test_code_named_like_a_secret_word_is_not_refused(tmp_path: Path) -> None:
    src = write(tmp_path, {"train.py": "", "credentials.py": "", "keys.py": "", "env.py": ""})
    assert len(pack_source(src).files) == 4


def test_an_ignored_secret_is_left_out_silently(tmp_path: Path) -> None:
    src = write(tmp_path, {"train.py": "", ".env": "A=1", ".mlopsignore": ".env\n"})
    pack = pack_source(src)
    assert ".env" not in members(pack)
    assert dict(pack.left_out) == {".env": ".mlopsignore:1 '.env'"}


def test_include_packs_a_secret_on_purpose(tmp_path: Path) -> None:
    src = write(tmp_path, {"train.py": "", ".env": "A=1", "certs/ca.pem": "c", "certs/k.key": "k"})
    pack = pack_source(src, [".env", "./certs/"])
    assert members(pack)[".env"] == b"A=1"
    assert {"certs/ca.pem", "certs/k.key"} <= set(members(pack))
    assert pack.included == (".env", "certs")
    assert pack.summary()["included"] == [".env", "certs"]
    assert "packed on purpose (--include): .env, certs" in pack.describe(src)


@pytest.mark.parametrize(
    ("include", "expected"),
    [
        ("/etc/hostname", "is outside --source-dir"),
        ("../elsewhere", "is outside --source-dir"),
        ("sub/../../x", "is outside --source-dir"),
        ("nope.txt", "does not exist in --source-dir"),
        (".", "names the whole --source-dir"),
    ],
)
def test_include_must_name_a_path_inside_the_source(
    tmp_path: Path, include: str, expected: str
) -> None:
    src = write(tmp_path / "src", {"train.py": "", "sub/a.py": ""})
    message = refused(src, (include,))
    assert f"--include {include!r}" in message and expected in message


def test_a_symlink_out_of_the_source_is_refused(tmp_path: Path) -> None:
    host = write(tmp_path / "host", {"passwd": "root:x:0:0", "dir/secret.txt": "s"})
    src = write(tmp_path / "src", {"train.py": ""})
    (src / "users").symlink_to(host / "passwd")
    (src / "linked").symlink_to(host / "dir")
    message = refused(src)
    assert f"users -> {host / 'passwd'}" in message
    assert f"linked/ -> {host / 'dir'}" in message
    assert "point outside it" in message and "Nothing was uploaded" in message
    # --include cannot vouch for a host file either
    assert "users ->" in refused(src, ("users",))
    # leaving the links out is the other way through
    (src / ".mlopsignore").write_text("users\nlinked\n")
    assert set(members(pack_source(src))) == {".mlopsignore", "train.py"}


def test_a_symlink_through_a_relative_path_out_of_the_source_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"outside.txt": "host data"})
    src = write(tmp_path / "src", {"train.py": ""})
    (src / "sub").mkdir()
    (src / "sub" / "data.txt").symlink_to(Path("..") / ".." / "outside.txt")
    assert "sub/data.txt ->" in refused(src)


def test_a_symlink_inside_the_source_packs_the_file_it_names(tmp_path: Path) -> None:
    src = write(tmp_path, {"train.py": "print(1)", "lib/util.py": "u = 1"})
    (src / "entry.py").symlink_to("train.py")
    (src / "shared").symlink_to("lib", target_is_directory=True)
    (src / "loop").symlink_to(".", target_is_directory=True)
    pack = pack_source(src)
    files = members(pack)  # regular files only: no link survives into the tarball
    assert files["entry.py"] == b"print(1)"
    assert files["shared/util.py"] == b"u = 1"
    assert dict(pack.left_out) == {"loop/": "a symlink loop"}


def test_a_symlink_cannot_smuggle_in_a_left_out_or_secret_file(tmp_path: Path) -> None:
    src = write(tmp_path, {"train.py": "", ".gitignore": "private/\n", "private/token": "t"})
    (src / "config.txt").symlink_to("private/token")
    pack = pack_source(src)
    assert "config.txt" not in members(pack)
    assert dict(pack.left_out)["config.txt"] == "a link to private/token: .gitignore:1 'private/'"
    (src / ".gitignore").write_text("")
    (src / "private" / "token").rename(src / ".env")
    (src / "config.txt").unlink()
    (src / "config.txt").symlink_to(".env")
    message = refused(src)
    assert "config.txt (a link to .env)" in message


def test_an_empty_pack_is_refused(tmp_path: Path) -> None:
    src = write(tmp_path, {".git/HEAD": "ref", "__pycache__/a.pyc": "x"})
    message = refused(src)
    assert "has no files to pack" in message and ".git/" in message
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "has no files to pack (left out 0: none)" in refused(empty)


def test_an_invalid_mlopsignore_pattern_is_refused_naming_the_line(tmp_path: Path) -> None:
    src = write(tmp_path, {"train.py": "", ".mlopsignore": "ok.txt\n!\n"})
    assert ".mlopsignore:2" in refused(src)
    (src / ".mlopsignore").unlink()
    (src / ".gitignore").write_text("!\n")  # git skips it; so do we
    assert "train.py" in pack_source(src).files


def test_the_tarball_is_reproducible_and_modes_are_normalised(tmp_path: Path) -> None:
    src = write(tmp_path, {"train.py": "print(1)", "run.sh": "#!/bin/sh"})
    os.chmod(src / "run.sh", 0o700)
    os.chmod(src / "train.py", 0o600)
    first, second = pack_source(src), pack_source(src)
    assert first.data == second.data and first.sha256 == second.sha256
    with tarfile.open(fileobj=io.BytesIO(first.data), mode="r:gz") as tar:
        modes = {m.name: m.mode for m in tar.getmembers()}
        owners = {(m.uid, m.gid) for m in tar.getmembers()}
    assert modes == {"run.sh": 0o755, "train.py": 0o644}
    assert owners == {(0, 0)}


def test_the_summary_counts_what_was_packed_and_left_out(tmp_path: Path) -> None:
    src = write(tmp_path, {"train.py": "x" * 1000, "b.py": "y" * 2000, ".git/HEAD": "r"})
    pack = pack_source(src)
    summary = pack.summary()
    assert summary == {
        "files": 2,
        "bytes": 3000,
        "tarball_bytes": len(pack.data),
        "sha256": pack.sha256,
        "excluded": 1,
        "excluded_paths": [".git/ (default '.git/')"],
        "included": [],
    }
    text = pack.describe(src)
    assert text.startswith(f"packed 2 files (2.9 KiB, tarball {human_bytes(len(pack.data))})")
    assert text.endswith("left out 1: .git/ (default '.git/')")


def test_human_bytes() -> None:
    assert [human_bytes(n) for n in (0, 1023, 1024, 1536, 5 * 2**20, 3 * 2**30)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "1.5 KiB",
        "5.0 MiB",
        "3.0 GiB",
    ]


def test_include_deep_inside_a_left_out_directory_packs_only_that_path(tmp_path: Path) -> None:
    """The walk down to an include packs nothing else on the way, whatever the rule that left
    the directory out (here a virtualenv marker, which its subdirectories do not carry)."""
    src = write(
        tmp_path,
        {
            "train.py": "",
            "tools/pyvenv.cfg": "home = /usr/bin",
            "tools/lib/site.py": "not packed",
            "tools/lib/keep/vendored.py": "packed on purpose",
            "tools/lib/keep/.env": "packed on purpose too",
        },
    )
    pack = pack_source(src, ["tools/lib/keep"])
    assert set(members(pack)) == {"train.py", "tools/lib/keep/vendored.py", "tools/lib/keep/.env"}
    assert dict(pack.left_out) == {"tools/": "a virtualenv: pyvenv.cfg"}
