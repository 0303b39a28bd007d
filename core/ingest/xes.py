"""A streaming reader for XES event logs (IEEE 1849), plain or gzip-compressed.

The file streams through expat with defusedxml's rule: a document that declares entities (the
"billion laughs" expansion bomb, external entities reaching for files or URLs) is refused instead of
expanded. No tree is built — callbacks turn each event into a row as it passes — so memory grows
with the rows kept, not with the XML, and a 55k-event log reads in about a second.

The result is one row per event in the layout process-mining tools use for flat logs: the event's
own attributes under their keys (`concept:name`, `time:timestamp`, `lifecycle:transition`, ...) and
the trace's attributes prefixed with `case:` (`case:concept:name` is the case id). Timestamps stay
text here; the importer parses them (time zones included) in one set-based step.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.parsers import expat

import pandas as pd
from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden

from core.errors import ContractError
from core.ingest.compressed import open_capped

CASE_PREFIX = "case:"
# Attribute elements of XES; `list` and `container` hold nested attributes, which we do not flatten.
_SCALAR_TYPES = frozenset({"string", "date", "int", "float", "boolean", "id"})
_NESTED_TYPES = frozenset({"list", "container"})
# Global defaults that are placeholders in practice (Disco writes "name" and an export date): a
# missing activity, case id or timestamp is quarantined by the importer rather than invented.
_NO_DEFAULT_KEYS = frozenset({"concept:name", "time:timestamp"})


@dataclass(frozen=True)
class XesLog:
    """A flat XES log: one row per event, trace attributes prefixed with `case:`."""

    events: pd.DataFrame
    traces: int
    log_attributes: dict[str, Any]


def _typed_value(kind: str, raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        return raw  # keep what the file says; a wrongly typed attribute is not worth losing the log
    if kind == "boolean":
        return raw.strip().lower() == "true"
    return raw


def _open(path: Path) -> IO[bytes]:
    return open_capped(path)  # gzip inflated as a capped stream


class _XesHandler:
    """Expat callbacks that turn XES elements into event rows as they stream past."""

    def __init__(self) -> None:
        self.log_attributes: dict[str, Any] = {}
        self.traces = 0
        self.rows: list[dict[str, Any]] = []
        self._trace_defaults: dict[str, Any] = {}
        self._event_defaults: dict[str, Any] = {}
        self._stack: list[str] = []
        self._global_scope: str | None = None
        self._trace_attrs: dict[str, Any] = {}
        self._trace_events: list[dict[str, Any]] = []
        self._event_attrs: dict[str, Any] = {}

    def start(self, name: str, attributes: dict[str, str]) -> None:
        tag = name.rsplit(":", 1)[-1]
        if not self._stack and tag != "log":
            raise ValueError(f"the root element is <{tag}>, not <log>")
        parent = self._stack[-1] if self._stack else None
        self._stack.append(tag)
        if tag in _SCALAR_TYPES or tag in _NESTED_TYPES:
            key = attributes.get("key")
            if key is None:
                return
            # Nested attributes (children of list/container) are not flattened: the parent says null.
            value = None if tag in _NESTED_TYPES else _typed_value(tag, attributes.get("value"))
            if parent == "event":
                self._event_attrs[key] = value
            elif parent == "trace":
                self._trace_attrs[key] = value
            elif parent == "global":
                target = self._trace_defaults if self._global_scope == "trace" else self._event_defaults
                target[key] = value
            elif parent == "log":
                self.log_attributes[key] = value
        elif tag == "event":
            self._event_attrs = {}
        elif tag == "trace":
            self._trace_attrs = {}
            self._trace_events = []
        elif tag == "global":
            self._global_scope = attributes.get("scope", "event")

    def end(self, name: str) -> None:
        tag = self._stack.pop()
        parent = self._stack[-1] if self._stack else None
        if tag == "event" and parent == "trace":
            for key, value in self._event_defaults.items():
                if key not in self._event_attrs and key not in _NO_DEFAULT_KEYS:
                    self._event_attrs[key] = value
            self._trace_events.append(self._event_attrs)
        elif tag == "trace":
            self.traces += 1
            # Trace attributes may come after the events in the file, so they are added at the end.
            for key, value in self._trace_defaults.items():
                if key not in self._trace_attrs and key not in _NO_DEFAULT_KEYS:
                    self._trace_attrs[key] = value
            case_attrs = {CASE_PREFIX + key: value for key, value in self._trace_attrs.items()}
            for event in self._trace_events:
                event.update(case_attrs)
            self.rows.extend(self._trace_events)
            self._trace_events = []
        elif tag == "global":
            self._global_scope = None


def _refuse_entity(
    name: str,
    is_parameter: bool,
    value: str | None,
    base: str | None,
    sysid: str | None,
    pubid: str | None,
    notation: str | None,
) -> None:
    raise EntitiesForbidden(name, value, base, sysid, pubid, notation)


def _refuse_unparsed_entity(
    name: str, base: str | None, sysid: str | None, pubid: str | None, notation: str | None
) -> None:
    raise EntitiesForbidden(name, None, base, sysid, pubid, notation)


def _refuse_external(context: str, base: str | None, sysid: str | None, pubid: str | None) -> int:
    raise ExternalReferenceForbidden(context, base, sysid, pubid)


def _parse(stream: IO[bytes]) -> _XesHandler:
    """Stream the XML through expat with entity declarations refused (defusedxml's rule)."""
    handler = _XesHandler()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_unparsed_entity
    parser.ExternalEntityRefHandler = _refuse_external
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    while chunk := stream.read(1 << 20):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return handler


def read_xes(path: str | Path) -> XesLog:
    """Read an XES (or .xes.gz) file into one row per event; raises ContractError if it is unusable."""
    source = Path(path)
    try:
        with _open(source) as stream:
            handler = _parse(stream)
    except DefusedXmlException as exc:
        raise ContractError(
            f"{source}: the XML declares entities or a DTD ({type(exc).__name__}), which are refused "
            "because they can expand without bound or read other files; export the log without a <!DOCTYPE>"
        ) from exc
    except expat.ExpatError as exc:
        raise ContractError(
            f"{source}: not well-formed XML ({expat.ErrorString(exc.code)} at line {exc.lineno}, "
            f"column {exc.offset + 1}); re-export the log or check that the file is complete"
        ) from exc
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ContractError(f"{source}: the gzip stream is damaged or cut short ({exc}); copy the file again") from exc
    except UnicodeDecodeError as exc:
        raise ContractError(f"{source}: the file is not UTF-8 text ({exc.reason}); save it as UTF-8") from exc
    except ValueError as exc:
        raise ContractError(f"{source}: {exc}; give an XES file (a <log> of <trace>s of <event>s)") from exc
    if handler.traces == 0:
        raise ContractError(f"{source}: the log has no <trace> elements; export a log that contains cases")
    if not handler.rows:
        raise ContractError(f"{source}: the log's traces contain no <event> elements; export a log with events")
    return XesLog(
        # object columns keep each value's XES type (an int stays an int next to missing values)
        events=pd.DataFrame(handler.rows, dtype=object),
        traces=handler.traces,
        log_attributes=handler.log_attributes,
    )
