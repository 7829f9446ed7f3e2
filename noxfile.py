"""Development sessions: ``nox`` runs lint, typecheck, tests and docs (what CI runs)."""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
nox.options.error_on_external_run = True

PYTHON = None  # the interpreter nox itself runs on (3.10+)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Check style and common bugs with ruff."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """Type-check the package strictly, and the tests and this file."""
    session.install("-e", ".[test]", "mypy>=1.10", "types-PyYAML", "nox")
    session.run("mypy", "obsidian_inbox", "tests", "bench", "noxfile.py")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the whole test suite under coverage (the corpus tier too when ../shared/corpus exists).

    Tests run on every CPU (pytest-xdist); ``nox -s tests -- -n 0`` runs them in one process.
    """
    session.install("-e", ".[test]")
    session.run("coverage", "erase")
    session.run("coverage", "run", "-m", "pytest", "-n", "auto", *session.posargs)
    session.run("coverage", "combine", success_codes=[0, 1])
    session.run("coverage", "report", "--fail-under=85")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation strictly (warnings are errors) and run its examples."""
    session.install("-e", ".[docs]")
    common = ["-W", "-n", "--keep-going", "-q", "docs"]
    session.run("sphinx-build", "-b", "html", *common, "docs/_build/html")
    session.run("sphinx-build", "-b", "doctest", *common, "docs/_build/doctest")


@nox.session(python=PYTHON, default=False)
def cog(session: nox.Session) -> None:
    """Regenerate the command-line reference in docs/cli.md from the real --help."""
    session.install("-e", ".", "cogapp>=3.3")
    session.run("cog", "-r", "docs/cli.md")


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Measure speed and memory as ratios against baselines measured in the same run."""
    session.install("-e", ".")
    session.run("python", "-m", "bench", *session.posargs)


@nox.session(python=PYTHON, default=False)
def demo(session: nox.Session) -> None:
    """Process the bundled example inbox into a fresh example vault."""
    session.install("-e", ".")
    session.run("obsidian-inbox", "demo", *session.posargs)


@nox.session(python=PYTHON, default=False)
def fuzz(session: nox.Session) -> None:
    """Run every fuzz target (pytest marker ``fuzz``) with 10^5 examples each (FUZZ_EXAMPLES overrides)."""
    session.install("-e", ".[test]")
    env = {"HYPOTHESIS_PROFILE": "fuzz", "FUZZ_EXAMPLES": os.environ.get("FUZZ_EXAMPLES", "100000")}
    session.run(
        "pytest",
        "-m",
        "fuzz",
        "-p",
        "no:cacheprovider",
        "-o",
        "timeout=0",  # 10^5 examples take far longer than the suite's per-test timeout
        "--hypothesis-show-statistics",
        *session.posargs,
        env=env,
    )
