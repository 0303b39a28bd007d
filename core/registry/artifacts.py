"""Model artifacts on disk: written with skops, loaded only against our own allow-list of types.

A model file is untrusted input: it may have been swapped, corrupted or hand-crafted. So loading
checks, in this order, that the bytes are exactly the ones registered (sha256), that the file is a
skops archive at all (a pickle is refused before anything reads it), and that every type it names
is on `TRUSTED_TYPES` — not only the ones skops itself distrusts, because skops trusts every
scikit-learn estimator and every numpy function by default, and we want to serve only the kinds
of objects our models are made of. Only then is `skops.io.loads` called, with the same explicit list,
on the very bytes that were checked (the file is read once).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

from core.errors import JourneyOpsError

# Every type our models are made of, by the dotted name skops records. Extend it (append) when a
# model needs a new type; `save_artifact` refuses to write a model that names anything else, so a
# missing entry shows up at training time, not at 3 a.m. when the champion is loaded.
TRUSTED_TYPES: list[str] = [
    # pipelines and preprocessing
    "sklearn.pipeline.Pipeline",
    "sklearn.compose._column_transformer.ColumnTransformer",
    "sklearn.compose._target.TransformedTargetRegressor",
    "sklearn.preprocessing._encoders.OneHotEncoder",
    "sklearn.preprocessing._encoders.OrdinalEncoder",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.preprocessing._function_transformer.FunctionTransformer",
    "sklearn.impute._base.SimpleImputer",
    # gradient boosting and what it holds
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingRegressor",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    # with categorical features, gradient boosting keeps an inner ColumnTransformer whose numeric
    # branch is FunctionTransformer(partial(check_array, ...)); the partial's function is itself
    # named in the file and checked against this list, so a partial cannot smuggle another callable
    "functools.partial",
    "sklearn.utils.validation.check_array",
    "sklearn._loss.loss.AbsoluteError",
    "sklearn._loss.loss.PinballLoss",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss.loss.HalfPoissonLoss",
    "sklearn._loss.loss.HalfGammaLoss",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss._loss.CyAbsoluteError",
    "sklearn._loss._loss.CyPinballLoss",
    "sklearn._loss._loss.CyHalfSquaredError",
    "sklearn._loss._loss.CyHalfPoissonLoss",
    "sklearn._loss._loss.CyHalfGammaLoss",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn._loss._loss.CyHalfMultinomialLoss",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.LogLink",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.MultinomialLogit",
    # calibration
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.isotonic.IsotonicRegression",
    "sklearn.frozen._frozen.FrozenEstimator",
    # baselines
    "sklearn.dummy.DummyRegressor",
    "sklearn.dummy.DummyClassifier",
    # numpy: dtypes of stored arrays and scalars, target transforms, random state
    "numpy.dtype",
    "numpy.bool",
    "numpy.int8",
    "numpy.int16",
    "numpy.int32",
    "numpy.int64",
    "numpy.uint8",
    "numpy.uint16",
    "numpy.uint32",
    "numpy.uint64",
    "numpy.float16",
    "numpy.float32",
    "numpy.float64",
    "numpy.str_",
    "numpy.object_",
    "numpy.datetime64",
    "numpy.timedelta64",
    "numpy.log1p",
    "numpy.expm1",
    "numpy.random._generator.Generator",
    "numpy.random.mtrand.RandomState",
    "core.models.estimators.ConformalQuantileRegressor",
    "core.models.estimators.HoldoutCalibratedClassifier",
    "core.models.estimators.GroupQuantileRegressor",
    "core.models.estimators.GroupRateClassifier",  # noqa: E501
]

# Containers skops writes natively (no code runs to rebuild them); they are in every file.
_STRUCTURAL_TYPES = frozenset(
    {
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.set",
        "builtins.str",
        "builtins.bytes",
        "builtins.bytearray",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.NoneType",
        "builtins.slice",
        "numpy.ndarray",
    }
)
_CHUNK = 1 << 20


class ArtifactRejectedError(JourneyOpsError):
    """A model file failed a safety check (checksum, format or type allow-list) and was not loaded."""


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def save_artifact(obj: Any, path: str | os.PathLike[str]) -> str:
    """Write obj with skops.io.dump (refusing types off the allow-list) and return the file's sha256."""
    import skops.io as sio

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(obj, target)
    sha256 = sha256_file(target)
    try:
        check_artifact(target, sha256)
    except ArtifactRejectedError as exc:
        target.unlink(missing_ok=True)
        raise ArtifactRejectedError(
            f"{exc}; the model was not saved — add the type to TRUSTED_TYPES in core/registry/artifacts.py "
            "if it is safe and our model needs it"
        ) from exc
    return sha256


def artifact_types(path: str | os.PathLike[str] | bytes) -> set[str]:
    """Every dotted type name a skops file (a path, or its bytes) refers to (objects, functions,
    dtypes, type references)."""
    source = io.BytesIO(path) if isinstance(path, bytes) else path
    with zipfile.ZipFile(source) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    # A schema is a tree of nodes, each naming its type; walk all of it, iteratively (deep pipelines).
    pending: list[Any] = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def _read_bytes(file: Path) -> bytes:
    if not file.is_file():
        raise ArtifactRejectedError(
            f"model file {file} is missing; restore it from a backup or roll back to another version"
        )
    return file.read_bytes()


def _check_bytes(file: Path, data: bytes, sha256: str) -> None:
    """Raise ArtifactRejectedError unless these bytes have this sha256, are a skops file and name
    only trusted types."""
    import skops.io as sio

    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ArtifactRejectedError(
            f"model file {file} failed its checksum (sha256 {actual[:12]}… but {sha256[:12]}… was "
            "registered): the file was changed after it was written; it was not loaded — restore it "
            "from a backup or retrain"
        )
    if not _has_schema(data):
        raise ArtifactRejectedError(
            f"model file {file} is not a skops file (a pickle or other format?); it was not loaded — "
            "models are only loaded from skops files written by `python -m core retrain`"
        )
    try:
        named = artifact_types(data) | set(sio.get_untrusted_types(data=data))
    except (ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
        raise ArtifactRejectedError(
            f"model file {file} has an unreadable skops schema ({exc}); it was not loaded — retrain"
        ) from exc
    untrusted = sorted(named - _STRUCTURAL_TYPES - set(TRUSTED_TYPES))
    if untrusted:
        raise ArtifactRejectedError(
            f"model file {file} names untrusted type(s) {', '.join(untrusted)}; it was not loaded — "
            "only types listed in TRUSTED_TYPES (core/registry/artifacts.py) are loaded"
        )


def check_artifact(path: str | os.PathLike[str], sha256: str) -> None:
    """Raise ArtifactRejectedError unless the file has this sha256, is a skops file and names only trusted types."""
    file = Path(path)
    _check_bytes(file, _read_bytes(file), sha256)


def load_artifact(path: str | os.PathLike[str], sha256: str) -> Any:
    """Load a model file after checking its sha256, its format and its types against TRUSTED_TYPES.

    The file is read once: the bytes checked are the bytes loaded, so a file swapped between the
    check and the load (by path) cannot slip through.
    """
    file = Path(path)
    return loads_artifact(_read_bytes(file), sha256, file)


def read_checked_artifact(path: str | os.PathLike[str], sha256: str) -> bytes:
    """A model file's bytes once they pass the checks of `load_artifact` (for a worker to load with
    `loads_artifact`: the bytes travel, never a pickled model)."""
    file = Path(path)
    data = _read_bytes(file)
    _check_bytes(file, data, sha256)
    return data


def loads_artifact(data: bytes, sha256: str, source: str | os.PathLike[str]) -> Any:
    """Load a model from the bytes of its file (named `source` in messages) after the same checks as
    `load_artifact`: its sha256, its format and its types against TRUSTED_TYPES."""
    import skops.io as sio

    file = Path(source)
    _check_bytes(file, data, sha256)
    try:
        return sio.loads(data, trusted=list(TRUSTED_TYPES))
    except Exception as exc:  # skops raises plain exceptions on a malformed archive
        raise ArtifactRejectedError(
            f"model file {file} passed its checks but skops could not load it ({type(exc).__name__}: "
            f"{exc}); retrain or roll back to another version"
        ) from exc


def _has_schema(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "schema.json" in archive.namelist()
    except zipfile.BadZipFile:
        return False
