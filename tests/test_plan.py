"""Planning: markers, forks and best wheels for a target; every failure listed at once."""

from __future__ import annotations

from dataclasses import replace

import pytest

from airgap_installer.errors import PlanError
from airgap_installer.lock import parse_pylock
from airgap_installer.plan import direct_url, make_plan, merge, patch_variants, pin_lines
from airgap_installer.target import make_target

H = "0" * 63


def wheel(name: str, n: int) -> str:
    return f'{{ url = "https://files.example/{name}", hashes = {{ sha256 = "{H}{n}" }} }}'


LOCK = f"""
lock-version = "1.0"
created-by = "uv"

[[packages]]
name = "app"
directory = {{ path = ".", editable = true }}

[[packages]]
name = "numpy"
version = "2.2.6"
marker = "python_full_version < '3.11'"
wheels = [{wheel("numpy-2.2.6-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", 1)}]

[[packages]]
name = "numpy"
version = "2.4.0"
marker = "python_full_version >= '3.11'"
wheels = [
  {wheel("numpy-2.4.0-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", 2)},
  {wheel("numpy-2.4.0-cp312-cp312-musllinux_1_2_x86_64.whl", 3)},
  {wheel("numpy-2.4.0-cp312-cp312-macosx_14_0_arm64.whl", 4)},
  {wheel("numpy-2.4.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", 5)},
]

[[packages]]
name = "colorama"
version = "0.4.6"
marker = "sys_platform == 'win32'"
wheels = [{wheel("colorama-0.4.6-py2.py3-none-any.whl", 6)}]

[[packages]]
name = "typing-extensions"
version = "4.0"
wheels = [{wheel("typing_extensions-4.0-py3-none-any.whl", 7)}]
"""


def chosen(python: str, platform: str) -> dict[str, str]:
    plan = make_plan(parse_pylock(LOCK), make_target(python, platform))
    return {s.package.name: s.artifact.filename for s in plan.wheels if s.artifact}


def test_fork_branch_follows_the_target_python() -> None:
    assert chosen("3.10", "x86_64-manylinux_2_17")["numpy"].startswith("numpy-2.2.6-cp310")
    assert chosen("3.12", "x86_64-manylinux_2_28")["numpy"].startswith("numpy-2.4.0-cp312-cp312-manylinux")
    assert chosen("3.12", "x86_64-unknown-linux-musl")["numpy"].endswith("musllinux_1_2_x86_64.whl")


def test_marker_false_is_skipped_with_its_marker() -> None:
    plan = make_plan(parse_pylock(LOCK), make_target("3.12", "linux"))
    skipped = {s.package.name: s.reason for s in plan.steps if s.action == "skip"}
    assert "colorama" in skipped and "win32" in skipped["colorama"]
    assert [s.package.name for s in plan.steps if s.action == "local"] == ["app"]


def test_pins_carry_hashes() -> None:
    plan = make_plan(parse_pylock(LOCK), make_target("3.11", "linux"))
    pins = pin_lines((s.package, s.artifact) for s in plan.wheels if s.artifact)
    assert f"numpy==2.4.0 --hash=sha256:{H}5" in pins
    assert all("--hash=sha256:" in pin for pin in pins)


def test_sdist_only_and_git_are_built_on_the_build_side() -> None:
    lock = parse_pylock(LOCK + f"""
[[packages]]
name = "docopt"
version = "0.6.2"
sdist = {wheel("docopt-0.6.2.tar.gz", 8)}

[[packages]]
name = "gitdep"
version = "0.3.0"
vcs = {{ type = "git", url = "file:///repo", requested-revision = "v0.3.0", commit-id = "{'a' * 40}" }}
""")
    plan = make_plan(lock, make_target("3.12", "linux"))
    builds = {s.package.name: s for s in plan.builds}
    assert set(builds) == {"docopt", "gitdep"}
    assert builds["docopt"].artifact is not None and builds["docopt"].artifact.filename == "docopt-0.6.2.tar.gz"
    assert builds["gitdep"].package.vcs is not None and builds["gitdep"].package.vcs.commit == "a" * 40


def test_direct_url_wheels_ship_and_sdists_are_built_and_both_keep_their_url() -> None:
    lock = parse_pylock(LOCK + f"""
[[packages]]
name = "urlwheel"
version = "1.0"
archive = {wheel("urlwheel-1.0-py3-none-any.whl", 6)}

[[packages]]
name = "urlsdist"
version = "2.0"
archive = {wheel("urlsdist-2.0.tar.gz", 7)}
""")
    plan = make_plan(lock, make_target("3.12", "linux"))
    steps = {s.package.name: s for s in plan.steps}
    assert steps["urlwheel"].action == "ship" and steps["urlwheel"].artifact is not None
    assert steps["urlwheel"].artifact.filename == "urlwheel-1.0-py3-none-any.whl"
    assert steps["urlsdist"].action == "build" and steps["urlsdist"].artifact is not None
    assert steps["urlsdist"].artifact.filename == "urlsdist-2.0.tar.gz"
    # What uv itself writes for a package it installed from that URL: the target's uv sees it as locked.
    url = "https://files.example/urlwheel-1.0-py3-none-any.whl"
    assert direct_url(steps["urlwheel"].package) == {"url": url, "archive_info": {}}
    assert direct_url(steps["numpy"].package) is None


def test_percent_encoded_file_names_are_decoded() -> None:
    # Indexes such as PyTorch's encode the "+" of a local version in the URL.
    lock = parse_pylock(f"""
lock-version = "1.0"
[[packages]]
name = "torch"
version = "2.5.1+cpu"
wheels = [{wheel("torch-2.5.1%2Bcpu-cp312-cp312-manylinux_2_17_x86_64.whl", 1)}]
""")
    plan = make_plan(lock, make_target("3.12", "linux"))
    assert plan.wheels[0].artifact is not None
    assert plan.wheels[0].artifact.filename == "torch-2.5.1+cpu-cp312-cp312-manylinux_2_17_x86_64.whl"
    assert plan.wheels[0].artifact.url.endswith("torch-2.5.1%2Bcpu-cp312-cp312-manylinux_2_17_x86_64.whl")


def test_a_direct_url_wheel_for_another_platform_is_an_error() -> None:
    lock = parse_pylock(LOCK + f"""
[[packages]]
name = "native"
version = "1.0"
archive = {wheel("native-1.0-cp312-cp312-win_amd64.whl", 6)}
""")
    with pytest.raises(PlanError, match="direct URL wheel native-1.0-cp312-cp312-win_amd64.whl does not run on"):
        make_plan(lock, make_target("3.12", "linux"))


def test_a_wheel_file_by_path_travels_in_the_tree_and_a_local_sdist_is_refused() -> None:
    def lock_with(path: str) -> str:
        return LOCK + f"""
[[packages]]
name = "vendored"
version = "1.0"
archive = {{ path = "{path}", hashes = {{ sha256 = "{H}6" }} }}
"""
    plan = make_plan(parse_pylock(lock_with("vendor/vendored-1.0-py3-none-any.whl")), make_target("3.12", "linux"))
    step = next(s for s in plan.steps if s.package.name == "vendored")
    assert step.action == "source" and step.artifact is None and "installed by uv sync" in step.reason
    with pytest.raises(PlanError, match=r"vendored: the local sdist vendor/vendored-1.0.tar.gz would be built on "
                                        "the target") as info:
        make_plan(parse_pylock(lock_with("vendor/vendored-1.0.tar.gz")), make_target("3.12", "linux"))
    # The hint is the way out for this case, not the one for a missing platform wheel.
    assert info.value.hint == "depend on the sdist's source directory, or on a wheel"


def test_every_package_without_a_wheel_is_listed_once() -> None:
    # manylinux_2_17 is too old for numpy 2.4's manylinux_2_28 wheel; macOS 13 too old for macosx_14_0.
    with pytest.raises(PlanError) as info:
        make_plan(parse_pylock(LOCK), make_target("3.12", "x86_64-manylinux_2_17"))
    message = str(info.value)
    assert message.startswith("1 package(s) have nothing installable for cp312-x86_64-manylinux_2_17")
    assert "numpy 2.4.0" in message and "manylinux_2_28" in info.value.hint
    with pytest.raises(PlanError, match="numpy 2.4.0"):
        make_plan(parse_pylock(LOCK), make_target("3.12", "aarch64-apple-darwin"))


def test_fork_inside_a_minor_gives_one_variant_per_patch_range() -> None:
    # uv locks can fork on python_full_version within one minor (soupsieve 2.10 below 3.11.5, 4.1.3 above).
    lock = parse_pylock(f"""
lock-version = "1.0"
[[packages]]
name = "soupsieve"
version = "2.10"
marker = "python_full_version < '3.11.5'"
wheels = [{wheel("soupsieve-2.10-py3-none-any.whl", 1)}]
[[packages]]
name = "soupsieve"
version = "4.1.3"
marker = "python_full_version >= '3.11.5'"
wheels = [{wheel("soupsieve-4.1.3-py3-none-any.whl", 2)}]
""")
    variants = patch_variants(lock, make_target("3.11", "linux"))
    assert [(v.first, v.last) for v in variants] == [((3, 11, 0), (3, 11, 4)), ((3, 11, 5), None)]
    assert [s.package.version for v in variants for s in v.plan.wheels] == ["2.10", "4.1.3"]
    assert len(merge(variants).wheels) == 2
    # A bundled interpreter fixes the patch version; `--python 3.11.7` does not (the host has any 3.11).
    assert len(patch_variants(lock, make_target("3.11.7", "linux"))) == 2
    exact = patch_variants(lock, replace(make_target("3.11", "linux"), python_full="3.11.7"))
    assert len(exact) == 1 and exact[0].plan.wheels[0].package.version == "4.1.3"


NATIVE = f"""
lock-version = "1.0"
created-by = "uv"

[[packages]]
name = "fastthing"
version = "1.0"
sdist = {wheel("fastthing-1.0.tar.gz", 1)}
wheels = [{wheel("fastthing-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", 2)}]

[[packages]]
name = "other"
version = "2.0"
sdist = {wheel("other-2.0.tar.gz", 3)}
wheels = [{wheel("other-2.0-cp312-cp312-macosx_11_0_arm64.whl", 4)}]

[[packages]]
name = "puresdist"
version = "3.0"
sdist = {wheel("puresdist-3.0.tar.gz", 5)}
"""


def test_native_packages_are_refused_up_front_when_this_machine_cannot_compile_for_the_target() -> None:
    # Wheels exist, all compiled for other platforms: the sdist has compiled code. Built here for an
    # aarch64 target it would only give an x86_64 wheel after minutes of compiling: refuse at once, all of them.
    with pytest.raises(PlanError) as err:
        make_plan(parse_pylock(NATIVE), make_target("3.12", "aarch64-manylinux_2_28"), can_compile=False)
    assert "2 package(s)" in str(err.value)
    assert "fastthing 1.0: wheels only for" in str(err.value) and "other 2.0" in str(err.value)
    assert "puresdist" not in str(err.value)  # an sdist-only package may be pure Python: it is built
    # A machine that can compile for the target builds them from their sdists.
    plan = make_plan(parse_pylock(NATIVE), make_target("3.12", "aarch64-manylinux_2_28"), can_compile=True)
    assert sorted(s.package.name for s in plan.builds) == ["fastthing", "other", "puresdist"]
