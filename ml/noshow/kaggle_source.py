"""Where the fallback Kaggle model comes from: the on-disk model store, else trained from the CSV.

A practice with too little history of its own is scored by the model trained on the public Kaggle
data (see practice_matrix.py for how its features are mapped). The newest version in the model
store (`slotoptim ml evaluate ... --save-model`, store.py) is used; without one, and with the CSV
at hand, the model is trained on the whole file once and saved to the store for the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slotoptim.ml.noshow.model import NoShowModel, Progress, train_noshow_model
from slotoptim.ml.noshow.store import ModelNotFoundError, load_model, save_model


@dataclass(frozen=True)
class KaggleSource:
    # Model store root; None = the default store (<state dir>/models/noshow).
    model_dir: Path | None = None
    # The Kaggle CSV to train from when the store is empty; None = do not train.
    csv_path: Path | None = None


def kaggle_model(source: KaggleSource, progress: Progress | None = None) -> tuple[NoShowModel, dict[str, Any]] | None:
    """The stored model and its metadata, a freshly trained one, or None when neither is possible."""
    try:
        return load_model(root=source.model_dir)
    except ModelNotFoundError:
        pass
    if source.csv_path is None or not source.csv_path.is_file():
        return None
    from slotoptim.ml.noshow.kaggle import read_noshow_csv

    if progress is not None:
        progress(f"no stored Kaggle model: training one on {source.csv_path}")
    table, _ = read_noshow_csv(source.csv_path)
    model = train_noshow_model(table, progress=progress)
    path = save_model(model, root=source.model_dir, training_source=str(source.csv_path))
    if progress is not None:
        progress(f"Kaggle model stored in {path}")
    return load_model(root=source.model_dir, version=path.name)
