"""Are the corpus genres distinct *as audio*? A simple classifier on summary features.

Features per clip (librosa): MFCC 1-20 mean and std, spectral centroid, bandwidth,
roll-off, flatness and contrast (mean, std), zero-crossing rate, RMS (mean, std),
onset-strength statistics and onset rate, estimated tempo, mean chroma. A
standardised multinomial logistic regression is fitted on the corpus's *train*
split and scored on its *test* split (never on the training clips). Prints JSON:
accuracy, per-genre recall, the confusion matrix and a chance baseline.

    mmgan dataset build --preset small --out data/small --workers 2
    python benchmarks/corpus_separability.py --data data/small --out separability.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time
from pathlib import Path

import numpy as np


def clip_features(path: str) -> np.ndarray:
    import librosa

    from mmgan.audio.io import load_audio

    y, sr = load_audio(path, sr=22050)
    S = np.abs(librosa.stft(y, n_fft=1024, hop_length=256))
    mfcc = librosa.feature.mfcc(
        S=librosa.amplitude_to_db(librosa.feature.melspectrogram(S=S**2, sr=sr)), n_mfcc=20
    )
    spectral = [
        librosa.feature.spectral_centroid(S=S, sr=sr),
        librosa.feature.spectral_bandwidth(S=S, sr=sr),
        librosa.feature.spectral_rolloff(S=S, sr=sr),
        librosa.feature.spectral_flatness(S=S),
        librosa.feature.spectral_contrast(S=S, sr=sr),
        librosa.feature.zero_crossing_rate(y, frame_length=1024, hop_length=256),
        librosa.feature.rms(S=S, frame_length=1024),
    ]
    onset = librosa.onset.onset_strength(S=librosa.amplitude_to_db(S), sr=sr)
    onsets = librosa.onset.onset_detect(onset_envelope=onset, sr=sr)
    tempo = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=onset, sr=sr))[0])
    chroma = librosa.feature.chroma_stft(S=S**2, sr=sr)
    parts = [mfcc.mean(1), mfcc.std(1)]
    for f in spectral:
        parts += [f.mean(1), f.std(1)]
    parts += [
        np.array([onset.mean(), onset.std(), onset.max(), len(onsets) / (len(y) / sr), tempo]),
        np.sort(chroma.mean(1))[::-1],  # key-invariant chroma profile
    ]
    return np.concatenate([np.atleast_1d(p) for p in parts]).astype(np.float64)


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import confusion_matrix
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mmgan.data.corpus import read_metadata

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data", type=Path, required=True, help="corpus folder (metadata.jsonl)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    rows = read_metadata(args.data)
    genres = sorted({r["genre"] for r in rows})
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    if not train or not test:
        raise SystemExit(
            f"{args.data}: needs both train and test clips (has {len(train)}/{len(test)})"
        )
    t0 = time.perf_counter()
    paths = [str(args.data / r["file_name"]) for r in train + test]
    with mp.get_context("spawn").Pool(args.workers) as pool:
        feats = np.stack(pool.map(clip_features, paths, chunksize=8))
    feat_seconds = time.perf_counter() - t0
    x_train, x_test = feats[: len(train)], feats[len(train) :]
    y_train = np.array([genres.index(r["genre"]) for r in train])
    y_test = np.array([genres.index(r["genre"]) for r in test])
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=1.0))
    clf.fit(x_train, y_train)
    pred = clf.predict(x_test)
    cm = confusion_matrix(y_test, pred, labels=list(range(len(genres))))
    recall = {g: float(cm[i, i] / max(1, cm[i].sum())) for i, g in enumerate(genres)}
    result = {
        "data": str(args.data),
        "train_clips": len(train),
        "test_clips": len(test),
        "features": int(feats.shape[1]),
        "classifier": "StandardScaler + LogisticRegression (multinomial)",
        "test_accuracy": float(np.mean(pred == y_test)),
        "train_accuracy": float(np.mean(clf.predict(x_train) == y_train)),
        "chance_accuracy": float(np.bincount(y_test).max() / len(y_test)),
        "per_genre_recall": recall,
        "genres": genres,
        "confusion_matrix": cm.tolist(),
        "feature_seconds": round(feat_seconds, 1),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
