"""The Dockerfile and .dockerignore (no Docker engine here: checked by reading them)."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    result = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def ignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str) -> bool:
    hit = False
    for pattern in ignore_patterns():
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(
            fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
            for prefix in prefixes
        ):
            hit = not negate
    return hit


def test_base_image_and_stages() -> None:
    froms = [args for keyword, args in instructions() if keyword == "FROM"]
    assert froms and all(args.split()[0] == "python:3.11-slim" for args in froms)


def test_runtime_runs_as_a_numeric_non_root_user() -> None:
    (user,) = [args for keyword, args in final_stage() if keyword == "USER"]
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "numeric, so Kubernetes runAsNonRoot can check it"


def test_installs_the_distribution_without_dev_extras() -> None:
    runs = " ".join(args for keyword, args in instructions() if keyword == "RUN")
    assert re.search(r"pip install -c requirements/constraints\.txt \.(\s|$)", runs), runs
    assert "[test]" not in runs and "-e " not in runs


def test_installs_with_the_same_pins_as_make_and_ci() -> None:
    copied = [shlex.split(args)[0] for keyword, args in instructions() if keyword == "COPY" and "--from=" not in args]
    assert "requirements/constraints.txt" in copied
    assert "-c $(CONSTRAINTS)" in (REPO / "Makefile").read_text(encoding="utf-8")


def test_copies_everything_pip_install_needs_and_nothing_ignored_breaks_it() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    copied = []
    for keyword, args in instructions():
        if keyword == "COPY" and "--from=" not in args:
            copied.extend(shlex.split(args)[:-1])
    assert "pyproject.toml" in copied and project["readme"] in copied
    for package in ("hypercare", "services", "streams"):
        assert package in copied
    # services/app.py serves the console from <site-packages>/console, outside any package.
    console_copy = [args for keyword, args in final_stage() if keyword == "COPY" and args.split()[0] == "console"]
    assert console_copy and console_copy[0].split()[-1] == "/opt/hypercare/lib/python3.11/site-packages/console"
    for source in copied:
        assert (REPO / source).exists(), source
        assert not ignored(source), f".dockerignore excludes {source}, which the Dockerfile copies"
    for local_state in (".venv", ".venv-tools", "var", "tests", ".git", "node_modules", ".env"):
        assert ignored(local_state), local_state


def test_runtime_defaults() -> None:
    stage = final_stage()
    env = " ".join(args for keyword, args in stage if keyword == "ENV")
    assert "HYPERCARE_HOST=0.0.0.0" in env
    (cmd,) = [args for keyword, args in stage if keyword == "CMD"]
    assert json.loads(cmd) == ["hypercare", "api"]
    (healthcheck,) = [args for keyword, args in stage if keyword == "HEALTHCHECK"]
    assert "/healthz" in healthcheck and "CMD" in healthcheck
    exposed = {port for keyword, args in stage if keyword == "EXPOSE" for port in args.split()}
    assert {"8000", "6066"} <= exposed
