"""Copy the site's JavaScript from node_modules/ into vendor/, so the built book works offline.

`npm ci` installs the pinned packages of package-lock.json into node_modules/; this script copies
only what the pages load:

    vendor/mathjax/   MathJax 3 (es5 build): tex-mml-chtml.js plus the folders it loads on demand
                      (TeX extensions, CHTML fonts, menu, accessibility)
    vendor/widgets/   require.js, the Jupyter widget manager embed-amd.js with its font files, and
                      require-config.js (written here, see REQUIRE_CONFIG_JS)

_config.yml serves vendor/ as html_static_path, so Sphinx copies it to _build/html/_static/.
Run from the repository root: `python tools/vendor_assets.py`.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "vendor"

MATHJAX_ES5 = NODE_MODULES / "mathjax" / "es5"
# The combined component the pages load, and the folders it fetches lazily. The other combined
# builds in es5/ (tex-svg.js, node-main.js, ...) are never loaded and would only add weight.
MATHJAX_FILES = ["tex-mml-chtml.js"]
MATHJAX_DIRS = ["input", "output", "ui", "a11y", "sre", "adaptors"]

HTML_MANAGER_DIST = NODE_MODULES / "@jupyter-widgets" / "html-manager" / "dist"
FONT_SUFFIXES = {".woff", ".woff2", ".ttf", ".eot", ".svg"}
REQUIRE_JS = NODE_MODULES / "requirejs" / "require.js"

# embed-amd.js loads its fonts relative to the RequireJS address of its module
# "@jupyter-widgets/html-manager/dist/libembed-amd", which by default resolves against the page
# (book/@jupyter-widgets/html-manager/dist/...: not found). Loaded between require.js and
# embed-amd.js, this maps that module folder to the folder this script is served from.
REQUIRE_CONFIG_JS = """\
// Written by tools/vendor_assets.py: lets the widget manager find its fonts next to itself.
(function () {
  var folder = document.currentScript.src.replace(/\\/[^\\/]*$/, "");
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": folder } });
})();
"""


def _require(path: Path) -> Path:
    if not path.exists():
        sys.exit(f"vendor_assets: {path.relative_to(ROOT)} is missing; run `npm ci` first")
    return path


def _copy_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(_require(source), target)


def vendor_mathjax(target: Path) -> None:
    for name in MATHJAX_FILES:
        _copy_file(MATHJAX_ES5 / name, target / name)
    for name in MATHJAX_DIRS:
        shutil.copytree(_require(MATHJAX_ES5 / name), target / name)


def vendor_widgets(target: Path) -> None:
    _copy_file(REQUIRE_JS, target / "require.js")
    (target / "require-config.js").write_text(REQUIRE_CONFIG_JS, encoding="utf8")
    _copy_file(HTML_MANAGER_DIST / "embed-amd.js", target / "embed-amd.js")
    # embed-amd.js loads its icon fonts from files next to itself.
    for font in sorted(_require(HTML_MANAGER_DIST).iterdir()):
        if font.suffix in FONT_SUFFIXES:
            _copy_file(font, target / font.name)


def main() -> None:
    shutil.rmtree(VENDOR, ignore_errors=True)
    vendor_mathjax(VENDOR / "mathjax")
    vendor_widgets(VENDOR / "widgets")
    size = sum(f.stat().st_size for f in VENDOR.rglob("*") if f.is_file())
    print(f"vendor_assets: wrote {VENDOR.relative_to(ROOT)}/ ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
