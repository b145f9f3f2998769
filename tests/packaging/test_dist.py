"""The distributions a user gets: the sdist and the wheel, and ``pip install .``.

A clean copy of the checkout (the files git tracks or would track, or the whole
tree when this is an unpacked sdist) is built with ``python -m build`` into a
temporary folder, with build isolation, so the build backend runs without
Tornado, as it does for a user. The wheel and the sdist are then read as
archives, and the clean copy is installed with pip into a fresh virtualenv.

Needs the ``build`` package (the ``test`` extra) and network access to PyPI for
the isolated build environments. Skips when ``build`` is missing, except under
``CI=true``, where it fails instead.
"""

import email.parser
import email.policy
import os
import re
import shutil
import subprocess
import sys
import tarfile
import venv
import zipfile
from email.message import Message
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, Set

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Seconds for one build or install step (they download from PyPI).
STEP_TIMEOUT = 600
#: What the sdist must carry beside the package, so that its tests and docs run.
SDIST_FILES = ["README.rst", "CHANGELOG.rst", "LICENSE", "pyproject.toml", "pytest.ini",
               "package.json", "package-lock.json"]
SDIST_FOLDERS = ["tests", "docs", "examples", "bench", "scripts"]
#: Never copied into the clean copy, whatever git says: local state of a checkout.
LOCAL_STATE = {".git", ".venv", "node_modules", "build", "dist", "__pycache__",
               ".pytest_cache", ".mypy_cache"}


def _require_build() -> None:
    try:
        import build  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail("the build package is missing (CI=true: packaging tests must run)")
        pytest.skip("the build package is missing (pip install -e '.[test]')")


def _source_version() -> str:
    text = (ROOT / "tornadio2" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", text, re.MULTILINE)
    assert match is not None, "tornadio2/__init__.py has no literal __version__"
    return match.group(1)


def _run(argv: List[str], cwd: Path) -> str:
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PYTHONPATH", None)  # nothing may come from the checkout by accident
    proc = subprocess.run(argv, cwd=str(cwd), env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=STEP_TIMEOUT)
    assert proc.returncode == 0, "%s exited %s:\n%s\n%s" % (
        " ".join(argv), proc.returncode, proc.stdout[-4000:], proc.stderr[-4000:])
    return proc.stdout


def _checkout_files() -> List[str]:
    """Relative paths of the project's own files: git's view when there is one."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=str(ROOT), capture_output=True, check=True).stdout.decode().split("\0")
        paths = [p for p in listed if p]
    else:  # an unpacked sdist: everything but local state and build leftovers
        paths = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()]
    return sorted(p for p in paths
                  if not set(Path(p).parts) & LOCAL_STATE
                  and not any(part.endswith(".egg-info") for part in Path(p).parts)
                  and (ROOT / p).is_file())


class Dists(NamedTuple):
    copy: Path
    files: List[str]
    wheel: Path
    sdist: Path


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dists]:
    _require_build()
    base = tmp_path_factory.mktemp("dist")
    copy, out = base / "checkout", base / "out"
    files = _checkout_files()
    for name in files:
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(copy)], base)
    wheels, sdists = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    yield Dists(copy, files, wheels[0], sdists[0])


def _metadata(text: str) -> Message:
    return email.parser.Parser(policy=email.policy.compat32).parsestr(text)


def _wheel_metadata(dists: Dists) -> Message:
    with zipfile.ZipFile(dists.wheel) as wheel:
        name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        return _metadata(wheel.read(name).decode("utf-8"))


def _requirements(metadata: Message) -> Dict[str, Set[str]]:
    """Requirement names (lower case, without versions) by extra; '' for the base ones."""
    found: Dict[str, Set[str]] = {}
    for line in metadata.get_all("Requires-Dist") or []:
        requirement, _, marker = line.partition(";")
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
        name = re.split(r"[\s<>=!~\[(]", requirement.strip(), maxsplit=1)[0].lower()
        found.setdefault(extra.group(1) if extra else "", set()).add(name)
    return found


def test_file_names_carry_the_package_version(dists: Dists) -> None:
    version = _source_version()
    assert dists.wheel.name == "tornadio2-%s-py3-none-any.whl" % version
    assert dists.sdist.name == "tornadio2-%s.tar.gz" % version


def test_metadata_names_the_package_its_version_and_its_requirements(dists: Dists) -> None:
    metadata = _wheel_metadata(dists)
    assert metadata["Name"] == "tornadio2"
    assert metadata["Version"] == _source_version()
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Requires-Python"] == ">=3.9"
    requirements = _requirements(metadata)
    assert requirements[""] == {"tornado", "simplejson"}
    assert "tornado>=6" in (metadata.get_all("Requires-Dist") or [])


def test_metadata_offers_the_documented_extras(dists: Dists) -> None:
    metadata = _wheel_metadata(dists)
    assert set(metadata.get_all("Provides-Extra") or []) == {"redis", "prometheus", "test", "docs"}
    requirements = _requirements(metadata)
    assert requirements["redis"] == {"redis"}
    assert requirements["prometheus"] == {"prometheus-client"}
    assert {"pytest", "pytest-tornado", "build"} <= requirements["test"]
    assert requirements["docs"] == {"sphinx"}
    lines = metadata.get_all("Requires-Dist") or []
    assert any(line.startswith("redis>=5") for line in lines), lines


def test_metadata_has_urls_a_readme_and_this_python_among_the_classifiers(dists: Dists) -> None:
    metadata = _wheel_metadata(dists)
    urls = dict(line.split(", ", 1) for line in metadata.get_all("Project-URL") or [])
    assert {"Homepage", "Source", "Issues", "Changelog"} <= set(urls), urls
    assert metadata["Description-Content-Type"] == "text/x-rst"
    assert "A Socket.IO server for **Socket.IO 0.7-0.9 clients**" in metadata.get_payload()
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    # Only versions the suite runs on are claimed: running it on another Python
    # means adding that version to the classifiers.
    assert "Programming Language :: Python :: %d.%d" % sys.version_info[:2] in classifiers


def test_sdist_and_wheel_metadata_agree(dists: Dists) -> None:
    with tarfile.open(dists.sdist) as sdist:
        top = "tornadio2-%s/" % _source_version()
        member = sdist.extractfile(top + "PKG-INFO")
        assert member is not None
        pkg_info = _metadata(member.read().decode("utf-8"))
    wheel = _wheel_metadata(dists)
    for field in ("Name", "Version", "Requires-Python", "License-Expression"):
        assert pkg_info[field] == wheel[field], field
    assert _requirements(pkg_info) == _requirements(wheel)


def test_wheel_holds_the_package_modules_and_py_typed_and_no_tests(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = set(wheel.namelist())
    package = {name for name in dists.files
               if name.startswith("tornadio2/") and name.endswith(".py")}
    assert package and package <= names, sorted(package - names)
    assert "tornadio2/py.typed" in names
    dist_info = "tornadio2-%s.dist-info/" % _source_version()
    assert dist_info + "licenses/LICENSE" in names
    outside = sorted(n for n in names if not n.startswith(("tornadio2/", dist_info)))
    assert outside == [], outside


def test_sdist_carries_tests_docs_examples_and_the_project_files(dists: Dists) -> None:
    top = "tornadio2-%s/" % _source_version()
    with tarfile.open(dists.sdist) as sdist:
        names = {member.name[len(top):] for member in sdist.getmembers()
                 if member.isfile() and member.name.startswith(top)}
    for name in SDIST_FILES:
        assert name in names, name
    for folder in SDIST_FOLDERS:
        wanted = {name for name in dists.files if name.startswith(folder + "/")}
        assert wanted, folder
        assert wanted <= names, sorted(wanted - names)
    package = {name for name in dists.files if name.startswith("tornadio2/")}
    assert package <= names, sorted(package - names)
    leaked = sorted(n for n in names
                    if set(Path(n).parts) & LOCAL_STATE or n.endswith((".pyc", ".pyo")))
    assert leaked == [], leaked


def test_pip_install_from_a_clean_copy_into_a_fresh_virtualenv(dists: Dists,
                                                                tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(str(env_dir))
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", str(dists.copy)], tmp_path)
    # Run from tmp_path, so that the import cannot find the checkout instead.
    out = _run([str(python), "-c",
                "import tornadio2, tornadio2.router, os; "
                "print(tornadio2.__version__); print(os.path.dirname(tornadio2.__file__))"],
               tmp_path)
    version, location = out.split()
    assert version == _source_version()
    installed = Path(location).resolve()
    assert env_dir.resolve() in installed.parents, installed
    assert (installed / "py.typed").is_file()
