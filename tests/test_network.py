"""The builder's network as companies have it (issue 12): an HTTP(S) proxy, NO_PROXY, a TLS-inspecting
proxy's own CA (SSL_CERT_FILE), and an index mirror (UV_DEFAULT_INDEX) whose URLs differ from the
lock's. Every server runs on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from airgap_installer.cli import main
from airgap_installer.target import make_target
from airgap_installer.uvbin import builder_uv, target_uv_wheel
from tests.conftest import ProjectFactory, copy_example
from tests.helpers import build
from tests.index import LocalIndex, make_wheel
from tests.proxy import Proxy

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "ALL_PROXY",
              "all_proxy", "SSL_CERT_FILE", "UV_DEFAULT_INDEX", "UV_INDEX_URL")


@pytest.fixture
def clean_network_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def proxy() -> Iterator[tuple[Proxy, str]]:
    p = Proxy()
    url = p.start()
    yield p, url
    p.stop()


def seeded_cache(tmp_path: Path, builder_cache: Path, *shas: str) -> Path:
    """A fresh cache holding only the given files (the uv wheel: 17 MB we need not fetch again)."""
    cache = tmp_path / "cache"
    for sha in shas:
        source = builder_cache / "sha256" / sha[:2] / sha
        if source.is_file():
            (cache / "sha256" / sha[:2]).mkdir(parents=True, exist_ok=True)
            shutil.copy(source, cache / "sha256" / sha[:2] / sha)
    return cache


def test_downloads_go_through_the_proxy(tiny_project: ProjectFactory, tmp_path: Path, builder_cache: Path,
                                        clean_network_env: pytest.MonkeyPatch, proxy: tuple[Proxy, str]) -> None:
    project = tiny_project()
    build(project, tmp_path / "warm.run")  # fills the session cache with the uv wheel
    seen, url = proxy
    clean_network_env.setenv("HTTP_PROXY", url)
    uv_sha = target_uv_wheel(make_target("3.11", None)).sha256
    cache = seeded_cache(tmp_path, builder_cache, uv_sha)
    build(project, tmp_path / "proxied.run", "--cache-dir", str(cache))
    assert any("/files/alpha-1.0-py3-none-any.whl" in line for line in seen.seen), seen.seen
    # NO_PROXY: the index host is reached directly.
    seen.seen.clear()
    clean_network_env.setenv("NO_PROXY", "127.0.0.1")
    build(project, tmp_path / "direct.run", "--cache-dir", str(seeded_cache(tmp_path / "2", builder_cache, uv_sha)))
    assert seen.seen == []


def test_pypi_files_come_from_the_index_mirror(tmp_path: Path, builder_cache: Path,
                                               clean_network_env: pytest.MonkeyPatch) -> None:
    # A lock made against PyPI, on a builder that reaches PyPI only through its company's mirror: the
    # builder fetches the locked files from the mirror (same names, same sha256) and the file is the same.
    project = copy_example(tmp_path / "hello")
    direct = build(project, tmp_path / "direct.run")
    mirror = LocalIndex(tmp_path / "mirror")
    mirror.files.mkdir(parents=True)
    with zipfile.ZipFile(direct) as zf:
        for name in zf.namelist():
            if name.startswith("wheelhouse/") and not name.startswith("wheelhouse/hello-"):
                (mirror.files / name.split("/", 1)[1]).write_bytes(zf.read(name))
    uv_wheel = target_uv_wheel(make_target("3.11", None))
    shutil.copy(builder_cache / "sha256" / uv_wheel.sha256[:2] / uv_wheel.sha256, mirror.files / uv_wheel.filename)
    mirror.publish()
    mirror.start()
    try:
        clean_network_env.setenv("UV_DEFAULT_INDEX", mirror.url)
        clean_network_env.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # PyPI itself is out of reach
        clean_network_env.setenv("NO_PROXY", "127.0.0.1")
        mirrored = build(project, tmp_path / "mirrored.run", "--cache-dir", str(tmp_path / "fresh-cache"))
    finally:
        mirror.stop()
    assert mirrored.read_bytes() == direct.read_bytes()


def test_tls_index_with_a_private_ca(tmp_path: Path, clean_network_env: pytest.MonkeyPatch, builder_cache: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    ca = trustme.CA()
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    ca_file = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    index = LocalIndex(tmp_path / "tls-index")
    index.files.mkdir(parents=True)
    make_wheel(index.files, "internal", "2.0")
    index.publish()
    index.start(tls=server_ctx)
    try:
        project = tmp_path / "corp"
        (project / "src" / "corp").mkdir(parents=True)
        (project / "src" / "corp" / "__init__.py").write_text("")
        (project / "pyproject.toml").write_text(
            '[project]\nname = "corp"\nversion = "1"\nrequires-python = ">=3.9"\ndependencies = ["internal"]\n'
            '[build-system]\nrequires = ["uv_build>=0.13,<0.14"]\nbuild-backend = "uv_build"\n'
            f'[[tool.uv.index]]\nname = "corp"\nurl = "{index.url}"\ndefault = true\n')
        subprocess.run([builder_uv(), "lock", "--quiet", "--project", str(project)], check=True,
                       env={**os.environ, "SSL_CERT_FILE": str(ca_file),
                            "UV_CACHE_DIR": str(tmp_path / "uv-cache")})
        uv_sha = target_uv_wheel(make_target("3.11", None)).sha256
        cache = seeded_cache(tmp_path, builder_cache, uv_sha)
        assert main(["build", str(project), "-o", str(tmp_path / "no-ca.run"), "--cache-dir", str(cache)]) == 1
        err = capsys.readouterr().err
        assert "CERTIFICATE_VERIFY_FAILED" in err and "SSL_CERT_FILE" in err
        clean_network_env.setenv("SSL_CERT_FILE", str(ca_file))
        run_file = build(project, tmp_path / "ca.run", "--cache-dir", str(cache))
        assert "wheelhouse/internal-2.0-py3-none-any.whl" in zipfile.ZipFile(run_file).namelist()
    finally:
        index.stop()
