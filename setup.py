"""Packaging for tornadio2.

The version lives only in ``tornadio2/__init__.py``; it is read here with a
regular expression so that building never imports the package (and so never
needs Tornado installed first).
"""

import re
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent


def read_version() -> str:
    """Return ``__version__`` from the package without importing it."""
    source = (HERE / "tornadio2" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", source, re.MULTILINE)
    if match is None:
        raise RuntimeError("tornadio2/__init__.py does not define __version__")
    return match.group(1)


setup(
    name="tornadio2",
    version=read_version(),
    description="Socket.IO 0.7-0.9 (protocol 1) server for Tornado 6 on Python 3, TornadIO2-compatible",
    long_description=(HERE / "README.rst").read_text(encoding="utf-8"),
    long_description_content_type="text/x-rst",
    author="the tornadio2 authors",
    license="MIT",  # an SPDX expression; newer setuptools deprecate license classifiers
    license_files=["LICENSE"],
    packages=["tornadio2", "tornadio2.testing"],
    package_data={"tornadio2": ["py.typed"]},
    include_package_data=False,
    zip_safe=False,
    python_requires=">=3.8",
    install_requires=[
        "tornado>=6",
        "simplejson",
    ],
    extras_require={
        "test": [
            "pytest",
            "pytest-tornado",
        ],
        # The docs build runs with warnings as errors, so a new Sphinx major
        # (new warnings) must not arrive unannounced.
        "docs": [
            "sphinx>=7,<9",
        ],
    },
    keywords="socket.io tornado websocket long-polling realtime tornadio2",
    classifiers=[
        "Development Status :: 4 - Beta",
        "Environment :: Web Environment",
        "Framework :: Tornado",
        "Framework :: Tornado :: 6",
        "Intended Audience :: Developers",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.8",
        "Programming Language :: Python :: 3.9",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Topic :: Internet :: WWW/HTTP",
        "Topic :: Internet :: WWW/HTTP :: HTTP Servers",
        "Topic :: Software Development :: Libraries :: Python Modules",
        "Typing :: Typed",
    ],
)
