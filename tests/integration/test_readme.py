"""The README's install lines for other platforms are exactly what `make deps` prints."""
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def deps_line(name):
    text = open(os.path.join(ROOT, "scripts", "deps.sh")).read()
    return re.search(name + r'="([^"]*)"', text).group(1).replace("\\\n", "")


def test_readme_install_lines_match_make_deps():
    readme = open(os.path.join(ROOT, "README.md")).read()
    assert "- Fedora/RHEL: `%s`" % deps_line("DNF_LINE") in readme
    assert "- macOS: `%s`" % deps_line("BREW_LINE") in readme


def test_quick_start_is_make_demo_and_make_check():
    readme = open(os.path.join(ROOT, "README.md")).read()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^    (make \w+)", quick, re.M)
    assert commands == ["make demo", "make check"]
