"""Reference pages of the collection's modules (docs/modules/) and roles (docs/roles/).

A module page is rendered from what `ansible-doc --json -t module` returns for it (DOCUMENTATION with its
doc fragments merged, EXAMPLES, RETURN), a role page from `ansible-doc --json -t role` (the role's
meta/argument_specs.yml). The Ansible markup (C(), O(), V(), RV(), M(), L(), U(), ...) is parsed by
antsibull-docs-parser, the parser of the Ansible documentation site. Options and return values are in
name order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from antsibull_docs_parser import dom
from antsibull_docs_parser.format import Formatter, format_paragraphs
from antsibull_docs_parser.parser import Context, parse

from scripts.docs.markdown import bullets, generated_notice, md_code, md_text, section, table

ROOT = Path(__file__).resolve().parents[2]
COLLECTION = "iconeus.tenant_toolkit"
MODULE_DIR = Path("docs/modules")
ROLE_DIR = Path("docs/roles")
INDEX = "README.md"
OWNED_DIRECTORIES = (MODULE_DIR, ROLE_DIR)
ANSIBLE_DOCS_SITE = "https://docs.ansible.com/ansible/latest/collections"


# --- Ansible markup to Markdown -------------------------------------------------------------------
def module_page_link(fqcn: str) -> str | None:
    """Where a module's page is: ours in docs/modules/, another collection's on docs.ansible.com."""
    parts = fqcn.split(".")
    if len(parts) != 3:
        return None
    if fqcn.startswith(COLLECTION + "."):
        return f"{parts[2]}.md"
    return f"{ANSIBLE_DOCS_SITE}/{parts[0]}/{parts[1]}/{parts[2]}_module.html"


class MarkdownFormatter(Formatter):
    """Ansible markup as GitHub-flavoured Markdown; links to other module pages are relative."""

    def __init__(self, page_dir: Path) -> None:
        self.page_dir = page_dir

    def module_link(self, fqcn: str) -> str:
        link = module_page_link(fqcn)
        if link is not None and not link.startswith("https://"):
            link = os.path.relpath(MODULE_DIR / link, self.page_dir)
        return f"[{md_code(fqcn)}]({link})" if link else md_code(fqcn)

    def format_error(self, part: dom.ErrorPart) -> str:
        raise ValueError(f"bad Ansible markup: {part.message}")

    def format_bold(self, part: dom.BoldPart) -> str:
        return f"**{md_text(part.text)}**"

    def format_code(self, part: dom.CodePart) -> str:
        return md_code(part.text)

    def format_horizontal_line(self, part: dom.HorizontalLinePart) -> str:
        return "<hr>"

    def format_italic(self, part: dom.ItalicPart) -> str:
        return f"*{md_text(part.text)}*"

    def format_link(self, part: dom.LinkPart) -> str:
        return f"[{md_text(part.text)}]({part.url})"

    def format_module(self, part: dom.ModulePart, url: str | None) -> str:
        return self.module_link(part.fqcn)

    def format_rst_ref(self, part: dom.RSTRefPart) -> str:
        return md_text(part.text)

    def format_url(self, part: dom.URLPart) -> str:
        return f"<{part.url}>"

    def format_text(self, part: dom.TextPart) -> str:
        return md_text(part.text)

    def format_env_variable(self, part: dom.EnvVariablePart) -> str:
        return md_code(part.name)

    def format_option_name(self, part: dom.OptionNamePart, url: str | None) -> str:
        return md_code(part.name if part.value is None else f"{part.name}={part.value}")

    def format_option_value(self, part: dom.OptionValuePart) -> str:
        return md_code(part.value)

    def format_plugin(self, part: dom.PluginPart, url: str | None) -> str:
        if part.plugin.type == "module":
            return self.module_link(part.plugin.fqcn)
        return md_code(part.plugin.fqcn)

    def format_return_value(self, part: dom.ReturnValuePart, url: str | None) -> str:
        return md_code(part.name if part.value is None else f"{part.name}={part.value}")


class Markup:
    """Renders the markup of one plugin's documentation (O() and RV() refer to that plugin)."""

    def __init__(self, fqcn: str, plugin_type: str, page_dir: Path) -> None:
        self.context = Context(current_plugin=dom.PluginIdentifier(fqcn=fqcn, type=plugin_type))
        self.formatter = MarkdownFormatter(page_dir)

    def paragraphs(self, text: str | Sequence[str] | None) -> list[str]:
        """One Markdown string per paragraph (a description given as a list has one per item)."""
        if not text:
            return []
        items = [text] if isinstance(text, str) else list(text)
        rendered = []
        for item in items:
            parsed = parse(str(item), self.context, errors="exception")
            rendered.append(format_paragraphs(parsed, formatter=self.formatter, par_sep=" "))
        return [" ".join(paragraph.split()) for paragraph in rendered]

    def inline(self, text: str | Sequence[str] | None, separator: str = "<br>") -> str:
        return separator.join(self.paragraphs(text))


# --- building blocks ------------------------------------------------------------------------------
def show_value(value: Any) -> str:
    """A default, choice or sample as it would be written in YAML (JSON, which YAML reads)."""
    if isinstance(value, str):
        # Quoted when the bare text would hide what it is: an empty string, edge spaces.
        return md_code(json.dumps(value) if not value or value != value.strip() else value)
    return md_code(json.dumps(value, sort_keys=True, ensure_ascii=False))


def type_label(spec: Mapping[str, Any]) -> str:
    kind = spec.get("type", "str")
    if kind == "list" and spec.get("elements"):
        return f"list of {spec['elements']}"
    return str(kind)


def child_prefix(name: str, spec: Mapping[str, Any]) -> str:
    # The names O() uses: folders[].acl[].principal for lists of dicts, certificate_based_auth.status for dicts.
    return f"{name}[]." if spec.get("type") == "list" else f"{name}."


def option_rows(options: Mapping[str, Any] | None, markup: Markup, prefix: str = "") -> Iterable[list[str]]:
    for name in sorted(options or {}):
        spec = options[name]
        label = md_code(prefix + name)
        if spec.get("required"):
            label += " (required)"
        if spec.get("aliases"):
            label += "<br>aliases: " + ", ".join(md_code(alias) for alias in spec["aliases"])
        details = markup.paragraphs(spec.get("description"))
        if spec.get("choices"):
            details.append("Choices: " + ", ".join(show_value(choice) for choice in spec["choices"]) + ".")
        default = spec.get("default")
        yield [label, type_label(spec), "" if default is None else show_value(default), "<br>".join(details)]
        yield from option_rows(spec.get("suboptions") or spec.get("options"), markup, child_prefix(prefix + name, spec))


def return_rows(values: Mapping[str, Any] | None, markup: Markup, prefix: str = "") -> Iterable[list[str]]:
    for name in sorted(values or {}):
        spec = values[name]
        details = markup.paragraphs(spec.get("description"))
        if "sample" in spec and spec["sample"] is not None:
            details.append("Sample: " + show_value(spec["sample"]))
        yield [md_code(prefix + name), type_label(spec), markup.inline(spec.get("returned", "")), "<br>".join(details)]
        yield from return_rows(spec.get("contains"), markup, child_prefix(prefix + name, spec))


def seealso_item(entry: Mapping[str, Any], markup: Markup) -> str:
    description = markup.inline(entry.get("description"), " ")
    if "module" in entry:
        head = markup.formatter.module_link(entry["module"])
    elif "plugin" in entry:
        head = md_code(entry["plugin"])
    elif "link" in entry:
        head = f"[{md_text(entry['name'])}]({entry['link']})"
    else:
        head = md_text(str(entry.get("name") or entry.get("ref", "")))
    return f"{head}: {description}" if description else head


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


# --- pages ----------------------------------------------------------------------------------------
def render_module(name: str, data: Mapping[str, Any]) -> str:
    doc = data["doc"]
    fqcn = f"{COLLECTION}.{name}"
    markup = Markup(fqcn, "module", MODULE_DIR)
    lines = [
        generated_notice(f"plugins/modules/{name}.py"),
        "",
        f"# {fqcn}",
        "",
        markup.inline(doc.get("short_description")),
    ]
    if doc.get("version_added"):
        lines += ["", f"Added in version {doc['version_added']} of {COLLECTION}."]
    lines += section("Synopsis", bullets(markup.paragraphs(doc.get("description"))))
    lines += section("Requirements", bullets(md_text(str(item)) for item in as_list(doc.get("requirements"))))
    lines += section(
        "Options", table(["Option", "Type", "Default", "Description"], option_rows(doc.get("options"), markup))
    )
    attributes = doc.get("attributes") or {}
    lines += section(
        "Attributes",
        table(
            ["Attribute", "Support", "Description"],
            (
                [
                    md_code(attribute),
                    str(attributes[attribute].get("support", "")),
                    "<br>".join(
                        markup.paragraphs(attributes[attribute].get("description"))
                        + markup.paragraphs(attributes[attribute].get("details"))
                    ),
                ]
                for attribute in sorted(attributes)
            ),
        )
        if attributes
        else [],
    )
    lines += section("Notes", bullets(markup.paragraphs(doc.get("notes"))))
    lines += section("See also", bullets(seealso_item(entry, markup) for entry in doc.get("seealso") or []))
    examples = (data.get("examples") or "").strip("\n")
    lines += section("Examples", ["```yaml", examples, "```"] if examples else [])
    returned = data.get("return") or {}
    lines += section(
        "Return values",
        table(["Key", "Type", "Returned", "Description"], return_rows(returned, markup)) if returned else [],
    )
    lines += section("Authors", bullets(md_text(str(author)) for author in as_list(doc.get("author"))))
    return "\n".join(lines) + "\n"


def render_role(name: str, data: Mapping[str, Any]) -> str:
    fqcn = f"{COLLECTION}.{name}"
    lines = [
        generated_notice(f"roles/{name}/meta/argument_specs.yml"),
        "",
        f"# {fqcn}",
        "",
        f"The role's own README: [roles/{name}/README.md](../../roles/{name}/README.md).",
    ]
    entry_points = data.get("entry_points") or {}
    for entry_point in sorted(entry_points, key=lambda key: (key != "main", key)):
        spec = entry_points[entry_point]
        markup = Markup(fqcn, "role", ROLE_DIR)
        tasks = f"tasks/{entry_point}.yml"
        lines += section(f"Entry point `{entry_point}` ({tasks})", [markup.inline(spec.get("short_description"))])
        description = bullets(markup.paragraphs(spec.get("description")))
        lines += ["", *description] if description else []
        options = spec.get("options") or {}
        if options:
            lines += ["", *table(["Variable", "Type", "Default", "Description"], option_rows(options, markup))]
        if spec.get("author"):
            lines += ["", "Authors: " + ", ".join(md_text(str(author)) for author in as_list(spec["author"])) + "."]
    return "\n".join(lines) + "\n"


def render_index(title: str, intro: str, entries: Mapping[str, str]) -> str:
    lines = [generated_notice("the modules' and roles' documentation"), "", f"# {title}", "", intro, ""]
    lines += table(["Name", "Description"], ([f"[{md_code(name)}]({name}.md)", text] for name, text in entries.items()))
    return "\n".join(lines) + "\n"


def module_pages(docs: Mapping[str, Mapping[str, Any]]) -> dict[Path, str]:
    pages = {MODULE_DIR / f"{name}.md": render_module(name, docs[name]) for name in sorted(docs)}
    summaries = {
        name: Markup(f"{COLLECTION}.{name}", "module", MODULE_DIR).inline(docs[name]["doc"].get("short_description"))
        for name in sorted(docs)
    }
    pages[MODULE_DIR / INDEX] = render_index(
        f"Modules of {COLLECTION}",
        "Reference of every module, generated from its documentation (`ansible-doc -t module "
        f"{COLLECTION}.<name>` shows the same). Modules are called by their FQCN.",
        summaries,
    )
    return pages


def role_pages(docs: Mapping[str, Mapping[str, Any]]) -> dict[Path, str]:
    pages = {ROLE_DIR / f"{name}.md": render_role(name, docs[name]) for name in sorted(docs)}
    summaries = {}
    for name in sorted(docs):
        main = (docs[name].get("entry_points") or {}).get("main") or {}
        summaries[name] = Markup(f"{COLLECTION}.{name}", "role", ROLE_DIR).inline(main.get("short_description"))
    pages[ROLE_DIR / INDEX] = render_index(
        f"Roles of {COLLECTION}",
        "Variables of every role, generated from its `meta/argument_specs.yml` (`ansible-doc -t role "
        f"{COLLECTION}.<name>` shows the same). Each role's README shows an example play.",
        summaries,
    )
    return pages


# --- ansible-doc ----------------------------------------------------------------------------------
def module_names(root: Path = ROOT) -> list[str]:
    return sorted(path.stem for path in (root / "plugins" / "modules").glob("*.py") if path.stem != "__init__")


def role_names(root: Path = ROOT) -> list[str]:
    return sorted(path.parent.parent.name for path in (root / "roles").glob("*/meta/argument_specs.yml"))


def ansible_doc_json(plugin_type: str, names: Sequence[str], root: Path = ROOT) -> dict[str, dict[str, Any]]:
    """`ansible-doc --json` for the collection's plugins of one type, keyed by short name, in one process."""
    ansible_doc = Path(sys.executable).parent / "ansible-doc"
    env = {**os.environ, "ANSIBLE_CONFIG": str(root / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    result = subprocess.run(
        [str(ansible_doc), "--json", "-t", plugin_type, *(f"{COLLECTION}.{name}" for name in names)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"ansible-doc -t {plugin_type} failed:\n{result.stderr}")
    return {fqcn.removeprefix(COLLECTION + "."): doc for fqcn, doc in json.loads(result.stdout).items()}


def all_pages(root: Path = ROOT) -> dict[Path, str]:
    """Every page this script owns, rendered in memory."""
    pages = module_pages(ansible_doc_json("module", module_names(root), root))
    pages.update(role_pages(ansible_doc_json("role", role_names(root), root)))
    return pages
