"""The manual pages: every page in man/ and the generated posthorn.conf(5)
render without a groff warning, follow the section shape of STYLE.md
habit 12, are installed by man/local.mk, and posthorn.conf(5) names every
parameter of lib/params_table.c, so the reference cannot fall behind the
parameter table."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from instance import SRCDIR

MAN_DIR = SRCDIR / "man"
# The build tree (where the generated page is made); the source tree
# unless the build is elsewhere.
BUILD_DIR = Path(os.environ.get("POSTHORN_BUILDDIR", str(SRCDIR)))
GENERATED = "posthorn.conf.5"
SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "SECURITY", "DIAGNOSTICS",
            "CONFIGURATION PARAMETERS", "SEE ALSO"]
# The requests and macros the pages may use at the start of a line.
KNOWN_REQUESTS = {"TH", "SH", "SS", "TP", "PP", "IP", "B", "I", "BR", "BI",
                  "IB", "IR", "RB", "RI", "br", "nh", "nr", "ad", "EX", "EE",
                  '\\"'}


def hand_pages():
    return sorted(p.name for p in MAN_DIR.glob("*.[1-8]") if p.name != GENERATED)


def generated_page():
    page = BUILD_DIR / "man" / GENERATED
    if not page.exists():
        # Normally built by "make"; build just this file if it is missing.
        subprocess.run(["make", "-s", "-C", str(BUILD_DIR), "man/" + GENERATED],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    if not page.exists():
        pytest.fail(f"{page} is not built (run make)", pytrace=False)
    return page


def page_path(name):
    return generated_page() if name == GENERATED else MAN_DIR / name


def render(page):
    if shutil.which("man") is None:
        pytest.skip("man(1) is not installed (Debian package man-db)")
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
    env.pop("MANPAGER", None)
    env.pop("PAGER", None)
    return subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", str(page)],
                          env=env, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=60)


def test_there_are_pages():
    assert len(hand_pages()) >= 9, hand_pages()


@pytest.mark.parametrize("name", hand_pages() + [GENERATED])
def test_page_renders_without_warnings(name):
    r = render(page_path(name))
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert r.stderr.decode(errors="replace") == ""
    assert r.stdout.strip() != b""


@pytest.mark.parametrize("name", hand_pages() + [GENERATED])
def test_page_has_the_standard_sections(name):
    text = page_path(name).read_text(encoding="utf-8")
    headings = [h.strip().strip('"') for h in re.findall(r"^\.SH (.*)$", text, re.M)]
    present = [h for h in headings if h in SECTIONS]
    assert present == SECTIONS, headings


@pytest.mark.parametrize("name", hand_pages() + [GENERATED])
def test_page_uses_only_known_requests(name):
    """A line starting with '.' or "'" is a request: text from the
    parameter table that starts that way must have been escaped."""
    for n, line in enumerate(page_path(name).read_text(encoding="utf-8").splitlines(), 1):
        assert not line.startswith("'"), f"{name}:{n}: {line}"
        if line.startswith("."):
            req = line[1:].split(None, 1)[0] if len(line) > 1 else ""
            assert req in KNOWN_REQUESTS, f"{name}:{n}: {line}"


def test_every_page_is_installed():
    mk = (MAN_DIR / "local.mk").read_text(encoding="utf-8")
    mk = mk.replace("\\\n", " ")
    listed = set()
    for m in re.finditer(r"^(?:dist_|nodist_)?man_MANS\s*\+?=(.*)$", mk, re.M):
        listed.update(Path(w).name for w in m.group(1).split())
    assert set(hand_pages()) | {GENERATED} <= listed, listed


def parameter_names():
    source = (SRCDIR / "lib" / "params_table.c").read_text(encoding="utf-8")
    return re.findall(r'\{\s*"([A-Za-z0-9_]+)"\s*,\s*PARAM_[A-Z]+\b', source)


def test_reference_names_every_parameter():
    names = parameter_names()
    assert len(names) > 50, names
    text = generated_page().read_text(encoding="utf-8")
    entries = set(re.findall(r"^\.TP\n\.B (\S+)$", text, re.M))
    missing = [n for n in names if n not in entries]
    assert not missing, "posthorn.conf(5) lacks: " + ", ".join(missing)


def test_reference_shows_defaults():
    text = generated_page().read_text(encoding="utf-8")
    # A default that names another parameter is shown as written, and a
    # default computed at run time says so.
    assert re.search(r"^\.B myorigin\nDefault: \\fB\$myhostname\\fR$", text, re.M)
    assert re.search(r"^\.B myhostname\nDefault: computed at run time$", text, re.M)
