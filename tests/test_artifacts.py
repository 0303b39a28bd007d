from __future__ import annotations

import functools
import hashlib
import os
import pickle

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder
from sklearn.svm import SVC

from core.registry.artifacts import (
    TRUSTED_TYPES,
    ArtifactRejectedError,
    artifact_types,
    load_artifact,
    save_artifact,
    sha256_file,
)


class NotOurs:
    """A class outside the allow-list."""

    def __init__(self):
        self.answer = 42


def rows(n=50, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "carrier": rng.choice(["dhl", "ups", "gls"], n),
            "ship_mode": rng.choice(["standard", "express"], n),
            "elapsed_h": rng.normal(30.0, 10.0, n),
        }
    )
    X.loc[0, "elapsed_h"] = np.nan
    y = X["elapsed_h"].fillna(30.0) * 0.5 + (X["carrier"] == "dhl") * 10.0
    return X, y


def preprocessor():
    return ColumnTransformer(
        [
            ("carrier", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["carrier"]),
            ("mode", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["ship_mode"]),
            ("num", SimpleImputer(), ["elapsed_h"]),
        ]
    )


@pytest.fixture(scope="module")
def forecaster():
    X, y = rows()
    model = Pipeline(
        [
            ("pre", preprocessor()),
            ("hgb", HistGradientBoostingRegressor(loss="quantile", quantile=0.5, max_iter=10, min_samples_leaf=5)),
        ]
    )
    return model.fit(X, y), X


def test_round_trip_returns_the_file_sha_and_the_same_predictions(forecaster, tmp_path):
    model, X = forecaster
    path = tmp_path / "m.skops"
    sha = save_artifact(model, path)
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest() == sha256_file(path)
    loaded = load_artifact(path, sha)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_a_calibrated_stuck_classifier_round_trips(tmp_path):
    X, y = rows(80, seed=1)
    stuck = (y > y.median()).to_numpy()
    inner = Pipeline([("pre", preprocessor()), ("hgb", HistGradientBoostingClassifier(max_iter=10))])
    calibrated = CalibratedClassifierCV(FrozenEstimator(inner.fit(X, stuck))).fit(X, stuck)
    sha = save_artifact(calibrated, tmp_path / "c.skops")
    loaded = load_artifact(tmp_path / "c.skops", sha)
    np.testing.assert_allclose(loaded.predict_proba(X), calibrated.predict_proba(X))


def test_gradient_boosting_with_categorical_features_round_trips(tmp_path):
    # its inner preprocessor holds functools.partial(check_array): both must be on the list
    X, y = rows(60, seed=2)
    codes = pd.DataFrame({"carrier": X["carrier"].map({"dhl": 0, "ups": 1, "gls": 2}), "elapsed_h": X["elapsed_h"]})
    model = HistGradientBoostingRegressor(categorical_features=[0], max_iter=5, min_samples_leaf=5).fit(codes, y)
    sha = save_artifact(model, tmp_path / "cat.skops")
    assert {"functools.partial", "sklearn.utils.validation.check_array"} <= artifact_types(tmp_path / "cat.skops")
    np.testing.assert_array_equal(load_artifact(tmp_path / "cat.skops", sha).predict(codes), model.predict(codes))


def test_a_partial_of_an_untrusted_function_is_refused(tmp_path):
    sio.dump(FunctionTransformer(func=functools.partial(os.system, "true")), tmp_path / "p.skops")
    with pytest.raises(ArtifactRejectedError, match=r"untrusted type\(s\) posix.system"):
        load_artifact(tmp_path / "p.skops", sha256_file(tmp_path / "p.skops"))


def test_a_pickle_renamed_to_skops_is_refused(forecaster, tmp_path):
    model, _ = forecaster
    path = tmp_path / "evil.skops"
    path.write_bytes(pickle.dumps(model))
    # even with the right checksum (someone registered it), the format check stops it
    with pytest.raises(ArtifactRejectedError, match=r"evil\.skops is not a skops file \(a pickle"):
        load_artifact(path, sha256_file(path))


@pytest.mark.parametrize(
    ("obj", "named"),
    [
        (SVC(), "sklearn.svm._classes.SVC"),
        (NotOurs(), "tests.test_artifacts.NotOurs"),
        (FunctionTransformer(func=os.system), "posix.system"),
    ],
)
def test_a_skops_file_naming_a_type_outside_the_list_is_refused(obj, named, tmp_path):
    path = tmp_path / "odd.skops"
    sio.dump(obj, path)
    with pytest.raises(ArtifactRejectedError, match=rf"names untrusted type\(s\) {named}; it was not loaded"):
        load_artifact(path, sha256_file(path))


def test_skops_own_trust_would_have_let_an_svc_through(tmp_path):
    # why we walk the schema ourselves: skops trusts every scikit-learn estimator by default
    sio.dump(SVC(), tmp_path / "svc.skops")
    assert sio.get_untrusted_types(file=tmp_path / "svc.skops") == []
    assert "sklearn.svm._classes.SVC" in artifact_types(tmp_path / "svc.skops")


def test_a_flipped_byte_is_refused(forecaster, tmp_path):
    model, _ = forecaster
    path = tmp_path / "m.skops"
    sha = save_artifact(model, path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(
        ArtifactRejectedError, match=r"m\.skops failed its checksum .* was changed after it was written"
    ):
        load_artifact(path, sha)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ArtifactRejectedError, match=r"gone\.skops is missing; restore it"):
        load_artifact(tmp_path / "gone.skops", "0" * 64)


def test_saving_a_model_with_an_untrusted_type_writes_nothing(tmp_path):
    path = tmp_path / "svc.skops"
    with pytest.raises(ArtifactRejectedError, match="SVC.*add the type to TRUSTED_TYPES"):
        save_artifact(SVC(), path)
    assert not path.exists()


def test_the_allow_list_is_explicit_dotted_names():
    assert "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor" in TRUSTED_TYPES
    assert all(isinstance(t, str) and "." in t for t in TRUSTED_TYPES)
    assert not any(t.startswith("builtins.") for t in TRUSTED_TYPES)


def test_the_bytes_checked_are_the_bytes_loaded(tmp_path, monkeypatch):
    # A file swapped on disk right after its checksum passed (the check/use gap of re-opening by
    # path) must not be what gets loaded: the loader reads the file once.
    from sklearn.dummy import DummyRegressor

    from core.registry import artifacts

    path = tmp_path / "m.skops"
    sha = save_artifact(DummyRegressor(strategy="constant", constant=1.0).fit([[0]], [0]), path)
    swapped = tmp_path / "swapped.skops"
    save_artifact(DummyRegressor(strategy="constant", constant=999.0).fit([[0]], [0]), swapped)
    real_sha256 = hashlib.sha256

    class SwapAfterHashing:
        def __init__(self, *args):
            self.digest = real_sha256(*args)

        def update(self, data):
            self.digest.update(data)

        def hexdigest(self):
            path.write_bytes(swapped.read_bytes())  # the attacker's swap, just after the check
            return self.digest.hexdigest()

    monkeypatch.setattr(artifacts.hashlib, "sha256", SwapAfterHashing)
    loaded = load_artifact(path, sha)
    monkeypatch.undo()
    assert loaded.predict([[0]]).tolist() == [1.0]
    assert path.read_bytes() == swapped.read_bytes()  # the swap did happen
