"""Documentation: every module renders with ansible-doc, its EXAMPLES are YAML that use it, every
role documents itself (README.md and meta/argument_specs.yml), the generated reference pages match their
sources, and no link of the documentation leaves the repository or leads nowhere."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from ansible_collections.iconeus.tenant_toolkit.plugins.module_utils.schema import vault

from scripts.docs import pages, tenant_definition

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(path.stem for path in (ROOT / "plugins" / "modules").glob("*.py") if path.stem != "__init__")
ROLES = sorted(path.name for path in (ROOT / "roles").iterdir() if (path / "tasks").is_dir())
ANSIBLE_DOC = Path(sys.executable).parent / "ansible-doc"
COLLECTION = "iconeus.tenant_toolkit"


def _ansible_doc(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    # One ansible-doc process for all modules: each start costs about a second of CPU.
    return subprocess.run(
        [str(ANSIBLE_DOC), "-t", "module", *args, *(f"{COLLECTION}.{module}" for module in MODULES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    """The text ansible-doc renders for each module, keyed by module name."""
    result = _ansible_doc()
    assert result.returncode == 0, result.stderr
    sections = re.split(r"^> MODULE ", result.stdout, flags=re.MULTILINE)[1:]
    return {section.split()[0].removeprefix(COLLECTION + "."): section for section in sections}


@pytest.fixture(scope="module")
def documented() -> dict[str, dict[str, Any]]:
    """ansible-doc's parsed documentation (doc, examples, return) for each module."""
    result = _ansible_doc("--json")
    assert result.returncode == 0, result.stderr
    return {name.removeprefix(COLLECTION + "."): doc for name, doc in json.loads(result.stdout).items()}


def _keys(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield str(key)
            yield from _keys(value)
    elif isinstance(data, list):
        for item in data:
            yield from _keys(item)


def test_the_project_has_modules_and_roles_to_document() -> None:
    assert len(MODULES) >= 10
    assert len(ROLES) >= 10


@pytest.mark.parametrize("module", MODULES)
def test_the_module_renders_with_ansible_doc(module: str, rendered: dict[str, str]) -> None:
    assert module in rendered, f"ansible-doc -t module {module} rendered nothing"
    text = rendered[module]
    assert f"plugins/modules/{module}.py" in text.splitlines()[0]
    # ansible-doc shows no OPTIONS section for a module that takes none: its documentation must say so,
    # `options: {}`.
    optionless = _documentation(module).get("options") == {}
    for heading in ("AUTHOR", "EXAMPLES", "RETURN VALUES", *(() if optionless else ("OPTIONS",))):
        assert heading in text, f"{module}: no {heading} section"
    assert ("OPTIONS" in text) != optionless, module


def _documentation(module: str) -> dict[str, Any]:
    """The module's DOCUMENTATION, read as YAML from its source (never imported)."""
    source = (ROOT / "plugins" / "modules" / f"{module}.py").read_text(encoding="utf-8")
    found = re.search(r'^DOCUMENTATION = r"""\n(.*?)^"""', source, re.S | re.M)
    assert found, module
    return yaml.safe_load(found.group(1))


@pytest.mark.parametrize("module", MODULES)
def test_the_module_examples_are_yaml_tasks_that_use_it(module: str, documented: dict[str, dict[str, Any]]) -> None:
    examples = yaml.safe_load(documented[module]["examples"])
    assert isinstance(examples, list) and examples, f"{module}: EXAMPLES is not a YAML list of tasks"
    assert f"{COLLECTION}.{module}" in set(_keys(examples)), f"{module}: no example calls the module by its FQCN"


@pytest.mark.parametrize("module", MODULES)
def test_the_module_documents_its_author_with_a_handle(module: str, documented: dict[str, dict[str, Any]]) -> None:
    authors = documented[module]["doc"]["author"]
    authors = [authors] if isinstance(authors, str) else authors
    assert all(re.search(r"\(@[\w-]+\)", author) for author in authors), authors


@pytest.mark.parametrize("role", ROLES)
def test_the_role_has_a_readme(role: str) -> None:
    readme = ROOT / "roles" / role / "README.md"
    assert readme.is_file(), f"roles/{role}/README.md is missing"
    assert role in readme.read_text(encoding="utf-8"), f"roles/{role}/README.md does not name the role"


@pytest.mark.parametrize("role", ROLES)
def test_the_role_has_an_argument_spec_for_its_entry_point(role: str) -> None:
    spec_file = ROOT / "roles" / role / "meta" / "argument_specs.yml"
    assert spec_file.is_file(), f"roles/{role}/meta/argument_specs.yml is missing"
    specs = yaml.safe_load(spec_file.read_text(encoding="utf-8"))["argument_specs"]
    assert "main" in specs, f"roles/{role}: no argument spec for tasks/main.yml"
    for entry_point, spec in specs.items():
        for option, definition in (spec.get("options") or {}).items():
            assert definition.get("description"), f"roles/{role} {entry_point}: {option} has no description"


# --- links ------------------------------------------------------------------------------------------
def _markdown_pages() -> list[str]:
    """The project's documentation: README.md and everything under docs/, every role's and component's README."""
    pages = {ROOT / "README.md", ROOT / "CHANGELOG.md", *(ROOT / "docs").rglob("*.md")}
    pages |= {*(ROOT / "roles").glob("*/README.md"), *(ROOT / "molecule").glob("*/README.md")}
    pages |= {*(ROOT / "playbooks").rglob("*.md")}
    pages |= {page for page in ROOT.glob("*/README.md") if not page.parent.name.startswith(".")}  # sandbox, bench, ...
    return sorted(str(page.relative_to(ROOT)) for page in pages if page.is_file())


MARKDOWN_PAGES = _markdown_pages()
_FENCED_BLOCK = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_HTML_LINK = re.compile(r"<a\s[^>]*href=\"([^\"]+)\"", re.IGNORECASE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def link_targets(text: str) -> list[str]:
    """Targets of the Markdown and HTML links of a page, code blocks and code spans left out."""
    text = _CODE_SPAN.sub("", _FENCED_BLOCK.sub("", text))
    return [
        match.group(1) for pattern in (_INLINE_LINK, _REFERENCE_LINK, _HTML_LINK) for match in pattern.finditer(text)
    ]


def heading_anchors(text: str) -> set[str]:
    """The anchors GitHub gives a page's headings (lower case, punctuation dropped, spaces to hyphens)."""
    anchors: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", _FENCED_BLOCK.sub("", text), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", "")).replace(" ", "-")
        anchor, number = slug, 1
        while anchor in anchors:
            anchor, number = f"{slug}-{number}", number + 1
        anchors.add(anchor)
    return anchors


def link_problems(page: Path, text: str, root: Path = ROOT) -> list[str]:
    """Relative links of a page that leave the repository, name nothing, or name a missing heading."""
    problems = []
    for target in link_targets(text):
        if _SCHEME.match(target) or target.startswith("//"):
            continue  # a URL: https:, mailto:, ...
        path_part, _, anchor = unquote(target).partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page.resolve()
        if resolved != root.resolve() and root.resolve() not in resolved.parents:
            problems.append(f"{target}: leaves the repository")
        elif not resolved.exists():
            problems.append(f"{target}: no such file")
        elif (
            anchor and resolved.suffix == ".md" and anchor not in heading_anchors(resolved.read_text(encoding="utf-8"))
        ):
            problems.append(f"{target}: no heading #{anchor}")
    return problems


def test_the_documentation_to_check_for_links_is_found() -> None:
    assert {"README.md", "docs/design.md", "docs/operator-guide.md", "docs/awx.md", "sandbox/README.md"} <= set(
        MARKDOWN_PAGES
    )
    assert len([page for page in MARKDOWN_PAGES if page.startswith("roles/")]) == len(ROLES)


@pytest.mark.parametrize("page", MARKDOWN_PAGES)
def test_every_relative_link_stays_in_the_repository_and_resolves(page: str) -> None:
    path = ROOT / page
    assert link_problems(path, path.read_text(encoding="utf-8")) == [], page


def test_the_link_check_refuses_links_out_of_the_repository_and_broken_ones(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "design.md").write_text("# Design\n\n## 2. A tenant's footprint\n", encoding="utf-8")
    page = root / "docs" / "guide.md"
    text = (
        "[ok](design.md) [ok too](design.md#2-a-tenants-footprint) [url](https://example.com/x.md)\n"
        "[out](../../shared/design.md) [gone](missing.md) [bad anchor](design.md#3-nothing)\n"
        "`[in code](../nowhere.md)`\n\n```\n[in a block](../nowhere.md)\n```\n[ref]: ../../outside.md\n"
    )
    assert link_problems(page, text, root) == [
        "../../shared/design.md: leaves the repository",
        "missing.md: no such file",
        "design.md#3-nothing: no heading #3-nothing",
        "../../outside.md: leaves the repository",
    ]


# --- generated pages ----------------------------------------------------------------------------------
def test_the_generated_reference_pages_are_up_to_date() -> None:
    stale = pages.stale_pages(pages.all_pages())
    assert stale == [], f"stale generated pages (run `make docs`): {stale}"


def test_the_staleness_check_finds_changed_missing_and_left_over_pages(tmp_path: Path) -> None:
    generated = {Path("docs/modules/a.md"): "A\n", Path("docs/modules/b.md"): "B\n", Path("docs/t.md"): "T\n"}
    (tmp_path / "docs" / "modules").mkdir(parents=True)
    pages.write_pages(generated, tmp_path)
    assert pages.stale_pages(generated, tmp_path) == []
    (tmp_path / "docs/modules/a.md").write_text("A, edited by hand\n", encoding="utf-8")
    (tmp_path / "docs/t.md").unlink()
    (tmp_path / "docs/modules/old.md").write_text("a module that is gone\n", encoding="utf-8")
    assert pages.stale_pages(generated, tmp_path) == ["docs/modules/a.md", "docs/modules/old.md", "docs/t.md"]
    pages.write_pages(generated, tmp_path)
    assert pages.stale_pages(generated, tmp_path) == []
    assert not (tmp_path / "docs/modules/old.md").exists()


def test_every_field_of_the_tenant_definition_is_described() -> None:
    assert tenant_definition.description_gaps() == []


def test_the_tenant_definition_page_states_the_rules_from_the_code() -> None:
    text = (ROOT / "docs" / "tenant-definition.md").read_text(encoding="utf-8")
    # A check's docstring, its constants filled in (schema/checks.py VPC_PREFIX_MIN/MAX).
    assert "of prefix /16 to /22, inside an RFC 1918 private range" in text
    # A rule across fields, from the docstring of schema.tenant._storage_rules.
    assert "- `storage_gib` is at least 32 with `SSD`, at least 2000 with `HDD`, and at most 65536." in text
    # The vault variables, and an example value taken from the example inventory.
    assert all(f"`{name}`" in text for name in vault.VAULT_VARIABLES)
    assert "- Example: `10.52.0.0/16`" in text


def test_a_check_without_a_docstring_cannot_be_documented() -> None:
    def check_something(value: str) -> list[str]:
        return []

    with pytest.raises(ValueError, match="no docstring"):
        tenant_definition.rule_of(check_something)


def test_the_awx_guide_links_nothing_outside_the_repository() -> None:
    text = (ROOT / "docs" / "awx.md").read_text(encoding="utf-8")
    assert "://" not in text
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        assert ROOT in (ROOT / "docs" / target).resolve().parents, f"docs/awx.md links outside the repository: {target}"


def test_the_operator_guide_covers_every_runbook() -> None:
    guide = (ROOT / "docs" / "operator-guide.md").read_text(encoding="utf-8")
    for runbook in sorted((ROOT / "playbooks" / "ops").glob("*.yml")):
        assert runbook.name in guide, f"docs/operator-guide.md does not mention playbooks/ops/{runbook.name}"
    assert "playbooks/teardown.yml" in guide
