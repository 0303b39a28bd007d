"""The dashboard's sections and pages, as data: a new page slots in by adding its file to `pages/`
and a row here. Only pages whose file exists and the user's role may see are shown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from core.access import roles

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PageSpec:
    """One page of the dashboard: its section, script (relative to the repo), title and icon."""

    section: str
    script: str
    title: str
    icon: str
    default: bool = False

    @property
    def url_path(self) -> str:
        """The page's address, e.g. process-insights.

        Hyphens on purpose: a fresh server's first session starts in Streamlit's legacy pages/
        mode, where an address equal to a file name runs that file alone, without app.py's
        navigation and page config; a hyphenated address falls through to app.py instead.
        """
        return Path(self.script).stem.replace("_", "-")

    @property
    def key(self) -> str:
        """The page key roles are written in: the file stem, e.g. process_insights."""
        return Path(self.script).stem


# In the order the sidebar shows them (DESIGN §6).
PAGES: tuple[PageSpec, ...] = (
    PageSpec("Daily work", "pages/today.py", "Today", ":material/today:", default=True),
    PageSpec("Daily work", "pages/at_risk.py", "At-risk list", ":material/warning:"),
    PageSpec("Daily work", "pages/order_lookup.py", "Order lookup", ":material/search:"),
    PageSpec("Monitoring", "pages/forecast_accuracy.py", "Forecast accuracy", ":material/target:"),
    PageSpec("Monitoring", "pages/drift.py", "Drift", ":material/trending_up:"),
    PageSpec("Monitoring", "pages/data_quality.py", "Data quality", ":material/fact_check:"),
    PageSpec("Monitoring", "pages/segments.py", "Segments & bias", ":material/balance:"),
    PageSpec("Monitoring", "pages/benefits.py", "Benefits", ":material/savings:"),
    PageSpec("Models & process", "pages/models.py", "Models", ":material/model_training:"),
    PageSpec("Models & process", "pages/process_insights.py", "Process insights", ":material/route:"),
    PageSpec("Operations", "pages/operations.py", "Operations", ":material/monitor_heart:"),
)


def available_pages(root: Path = REPO_ROOT, role: str = "admin") -> list[PageSpec]:
    """The pages of the table whose script exists and the role may see, in table order."""
    return [spec for spec in PAGES if (root / spec.script).is_file() and roles.can_see(role, spec.key)]


def default_page(root: Path = REPO_ROOT, role: str = "admin") -> PageSpec | None:
    """The page shown at the app's root URL: the one marked default, else the first available."""
    specs = available_pages(root, role)
    return next((spec for spec in specs if spec.default), specs[0] if specs else None)


def page_url_path(spec: PageSpec, root: Path = REPO_ROOT, role: str = "admin") -> str:
    """Where a page is served: "" for the default page, else its url_path."""
    return "" if spec == default_page(root, role) else spec.url_path


def build_navigation(role: str | Path = "admin", root: Path = REPO_ROOT) -> dict[str, list[st.Page]]:
    """Sections → st.Page lists for st.navigation, in table order, only the pages `role` may see."""
    if isinstance(role, Path):  # the older call build_navigation(root) is still served (admin sees all)
        role, root = "admin", role
    start_page = default_page(root, role)
    sections: dict[str, list[st.Page]] = {}
    for spec in available_pages(root, role):
        page = st.Page(
            str(root / spec.script),
            title=spec.title,
            icon=spec.icon,
            url_path=spec.url_path,
            default=spec == start_page,
        )
        sections.setdefault(spec.section, []).append(page)
    return sections
