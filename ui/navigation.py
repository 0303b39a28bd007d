"""The dashboard's sections and pages, as data: a new page slots in by adding its file to `pages/`
and a row here. Only pages whose file exists and the user's role may see are shown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

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


def link_to(page_key: str, label: str, query_params: dict[str, str], role: str, icon: str | None = None) -> None:
    """A link to one of the app's pages with its query parameters, for a role that may open it (nothing
    otherwise); a plain link when the page runs alone, outside the app's navigation (a page test)."""
    spec = next((spec for spec in PAGES if spec.key == page_key), None)
    if spec is None or not roles.can_see(role, page_key):
        return
    try:
        st.page_link(spec.script, label=label, icon=icon or spec.icon, query_params=query_params)
    except StreamlitPageNotFoundError:
        st.markdown(f"[{label}]({spec.url_path}?{urlencode(query_params)})")


def follow_link(param: str, key: str) -> None:
    """Preset the widget `key` from the address's `param` when the address changed since the page last
    read it: a link was followed (a later change of the widget is the user's, and stays)."""
    value = st.query_params.get(param)
    seen = f"{key}_linked"
    if value is not None and value != st.session_state.get(seen):
        st.session_state[seen] = value
        st.session_state[key] = value


def keep_in_address(param: str, key: str, value: str) -> None:
    """Write the widget's value into the address (so it can be shared) and remember it as read."""
    st.session_state[f"{key}_linked"] = value
    st.query_params[param] = value
