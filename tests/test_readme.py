"""The README and docs/ say what the code does: claims checked against the code, not wording.

The README is the user's five-minute page; docs/*.md hold the rest. The wording tests follow
each claim to the page that holds it; the fact tests read flags, serving outputs, presets and
links from the code and the file tree.
"""

import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
DOCS = os.path.join(ROOT, "docs")
PAGES = [README] + sorted(glob.glob(os.path.join(DOCS, "*.md")))  # every page a user reads
MAX_README_LINES = 260

# Flags every absl program takes without defining them.
ABSL_FLAGS = {"help", "helpshort", "helpfull", "helpxml", "flagfile", "undefok"}
# Flags of other tools that the pages name in their commands.
OTHER_TOOLS_FLAGS = {"logdir"}  # `tensorboard --logdir runs`


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _doc(name):
    return _read(os.path.join(DOCS, name))


def _pages():
    """README.md and every docs/*.md, as {path: text}."""
    return {path: _read(path) for path in PAGES}


def _section(text, heading):
    """The text under `heading` (e.g. "## Scaling out") up to the next heading of its level."""
    level = heading.split(" ", 1)[0]
    assert f"\n{heading}\n" in f"\n{text}", f"no heading {heading!r}"
    body = f"\n{text}".split(f"\n{heading}\n", 1)[1]
    return re.split(rf"\n{level} ", f"\n{body}", maxsplit=1)[0]


def _without_code(text):
    """Markdown text with fenced blocks and inline code removed (for link parsing)."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.sub(r"`[^`]*`", "", text)


# === Claims, on the page that now holds each one ===


def test_serving_outputs_list_every_export_output():
    from keras_slots import export

    section = _section(_doc("export.md"), "## Serving signatures and outputs")
    for key in export.OUTPUT_KEYS:
        assert f"`{key}`" in section, key


def test_claims_the_code_does_not_back_are_gone():
    text = "\n".join(_pages().values())
    assert "Training never loses work" not in text  # a SIGKILL loses recent steps
    assert "checkpoint_every" in _section(_doc("training.md"), "## Resume and failures")
    assert "flat shading" not in text and "Lambert" in _doc("data.md")
    assert "the paper's CLEVR6 run, bfloat16" not in text
    assert "Objects Room is not in the paper's object-discovery table" in _doc("data.md")
    assert "mean-pooled encoder features -> MLP" not in text
    assert "input is never the bottleneck" not in text  # true of these CPUs only


def test_per_image_and_seed_spreads_are_labelled_apart():
    section = _section(_doc("evaluation.md"), "## Slot Attention vs. the Slot MLP baseline")
    assert "std over images" in section and "std over 5 seeds" in section
    assert "one training seed each" in section


def test_ari_edge_case_states_both_conventions_exactly():
    page = _doc("evaluation.md")
    edge_cases = _section(page, "## ARI edge cases")
    assert "constant over all pixels" in edge_cases and "--ari_convention=deepmind" in edge_cases
    assert "per_image.json" in _section(page, "## Metrics")
    assert "fg_ari_bg0" in _section(page, "## Background masks")


# === Facts checked against the code ===


def _script_flags():
    """{script name: {flag name: DEFINE kind}} of the programs in keras_slots/scripts/*.py:
    their `flags.DEFINE_*("name"` and, where they call config_flags.define, every config
    field but the skipped ones."""
    from keras_slots import config_flags

    generated = {name: "bool" if kind is bool else "string"
                 for name, (kind, _) in config_flags.fields().items()}
    flags = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "keras_slots", "scripts", "*.py"))):
        name = os.path.basename(path)[:-3]
        if name == "__init__":
            continue
        source = _read(path)
        found = {flag: kind for kind, flag in
                 re.findall(r"flags\.DEFINE_(\w+)\(\s*[\"'](\w+)[\"']", source)}
        call = re.search(r"config_flags\.define\(([^)]*)\)", source)
        if call:
            skip = set(re.findall(r"[\"'](\w+)[\"']", call.group(1)))
            found = {**{k: v for k, v in generated.items() if k not in skip}, **found}
        flags[name] = found
    return flags


def _accepts(script_flags, flag):
    """Whether a program with `script_flags` takes `--flag` (absl's --noX form of bools too)."""
    if flag in script_flags or flag in ABSL_FLAGS:
        return True
    bare = flag[2:] if flag.startswith("no") else None
    return script_flags.get(bare) in ("bool", "boolean")


def _code_spans(text):
    """Every command-like piece of code: each fenced line (continuations joined), inline code."""
    spans = []
    for block in re.findall(r"```[^\n]*\n(.*?)```", text, flags=re.S):
        spans += block.replace("\\\n", " ").split("\n")
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    spans += [span.replace("\n", " ") for span in re.findall(r"`([^`]+)`", prose)]
    return spans


# A program: scripts/train.py (or train.py), keras-slots-train, keras_slots.scripts.train.
_PROGRAM = re.compile(r"\b(\w+)\.py\b|\bkeras-slots-([a-z-]+)|\bkeras_slots\.scripts\.(\w+)")
_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9_]*)")


def _flag_uses(text, scripts):
    """(script, flag) for each `--flag` written after a script's name in one command."""
    uses = []
    for span in _code_spans(text):
        code = re.sub(r"(^|\s)#(\s.*)?$", "", span)  # a shell comment
        for command in re.split(r"&&|\|\||;|\|", code):
            script = None
            for match in sorted(list(_PROGRAM.finditer(command)) + list(_FLAG.finditer(command)),
                                key=lambda m: m.start()):
                if match.re is _PROGRAM:
                    name = next(g for g in match.groups() if g).replace("-", "_")
                    script = name if name in scripts else None
                elif script is not None:
                    uses.append((script, match.group(1)))
    return uses


def test_the_flag_scanner_reads_commands():
    scripts = _script_flags()
    text = ("```bash\npython scripts/train.py --preset=x \\\n    --noshuffle && "
            "python scripts/evaluate.py --seed=1  # --not_a_flag\ntensorboard --logdir runs\n```\n"
            "and `time_to_accuracy.py\n  --seeds=0` or `keras-slots-export --export_dir=d`.")
    assert _flag_uses(text, scripts) == [
        ("train", "preset"), ("train", "noshuffle"), ("evaluate", "seed"),
        ("time_to_accuracy", "seeds"), ("export", "export_dir")]
    assert _accepts(scripts["train"], "noshuffle") and not _accepts(scripts["train"], "noseed")
    assert _accepts(scripts["train"], "helpshort")


@pytest.mark.parametrize("path", PAGES, ids=lambda path: os.path.relpath(path, ROOT))
def test_every_flag_named_belongs_to_its_script(path):
    text = _read(path)
    scripts = _script_flags()
    wrong = sorted({f"{script}.py --{flag}" for script, flag in _flag_uses(text, scripts)
                    if not _accepts(scripts[script], flag)})
    assert not wrong, f"{os.path.relpath(path, ROOT)} names flags its script lacks: {wrong}"
    # A flag named on its own (in prose, or after another tool) is a flag of some script.
    unknown = sorted({flag for flag in _FLAG.findall(text) if flag not in OTHER_TOOLS_FLAGS
                      and not any(_accepts(defined, flag) for defined in scripts.values())})
    assert not unknown, f"{os.path.relpath(path, ROOT)} names flags no script defines: {unknown}"


def test_every_preset_is_in_the_readme_presets_table():
    from keras_slots import config

    section = _section(_read(README), "## Presets")
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    in_table = [re.match(r"\| `(\w+)` \|", row).group(1) for row in rows]
    assert sorted(in_table) == sorted(config.PRESETS), (in_table, sorted(config.PRESETS))


def _slug(heading):
    """GitHub's anchor for a heading."""
    heading = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return heading.replace(" ", "-")


def _anchors(text):
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", _without_code(text), flags=re.M)}


@pytest.mark.parametrize("path", PAGES, ids=lambda path: os.path.relpath(path, ROOT))
def test_relative_links_and_images_resolve(path):
    text = _read(path)
    targets = re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", _without_code(text))
    targets += re.findall(r"<img [^>]*src=\"([^\"]+)\"", text)
    broken = []
    for target in targets:
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
        if not os.path.exists(full):
            broken.append(target)
        elif anchor and full.endswith(".md") and anchor not in _anchors(_read(full)):
            broken.append(target)
    assert not broken, f"{os.path.relpath(path, ROOT)}: broken links {broken}"


def test_the_readme_is_short():
    with open(README, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert len(lines) <= MAX_README_LINES, len(lines)


def test_the_readme_points_to_every_docs_page():
    readme = _without_code(_read(README))
    index = _without_code(_doc("README.md"))
    assert "docs/README.md" in readme
    for path in PAGES[1:]:
        name = os.path.basename(path)
        if name != "README.md":
            assert f"]({name})" in index, f"docs/README.md does not list {name}"
