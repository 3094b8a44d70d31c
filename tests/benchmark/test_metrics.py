"""Scores: exact numbers on hand-counted cases, the zero-division rule, and agreement with sklearn."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from curvebench.benchmark.metrics import COLUMNS, confusion, ratio, scores
from curvebench.run import INSUFFICIENT_DATA, LABELS

TRUE = ["healthy", "healthy", "healthy", "lr_high", "lr_high", "overfit", "plateau", "plateau"]
PRED = ["healthy", "plateau", INSUFFICIENT_DATA, "lr_high", "healthy", "overfit", "plateau", "lr_high"]


def test_hand_counted_case():
    s = scores(TRUE, PRED, [None, None, None, 100, 200, 300, 400, 500], [None, 9, None, 90, None, 330, 460, 7])
    # healthy: tp 1, predicted 2, support 3; lr_high: tp 1, predicted 2, support 2
    # overfit: tp 1, predicted 1, support 1; plateau: tp 1, predicted 2, support 2; lr_low: absent
    assert s["per_class"]["healthy"] == {"precision": 0.5, "recall": 1 / 3, "f1": 2 / 5, "support": 3}
    assert s["per_class"]["lr_high"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert s["per_class"]["overfit"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert s["per_class"]["plateau"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert s["per_class"]["lr_low"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert s["macro_f1"] == pytest.approx((0.4 + 0.5 + 1.0 + 0.5) / 4)  # lr_low neither true nor predicted
    assert s["false_alarm_rate"] == 1 / 3  # one of three healthy runs flagged; insufficient_data is no alarm
    assert s["delays"] == [-10, 30, 60]
    assert s["median_delay"] == 30.0
    assert s["confusion"]["healthy"] == {
        "healthy": 1, "lr_high": 0, "lr_low": 0, "overfit": 0, "plateau": 1, INSUFFICIENT_DATA: 1
    }
    assert s["confusion"]["plateau"]["lr_high"] == 1
    assert sum(sum(row.values()) for row in s["confusion"].values()) == len(TRUE)


def test_zero_division_gives_zero():
    empty = scores([], [])
    assert empty["macro_f1"] == 0.0 and empty["false_alarm_rate"] == 0.0 and empty["median_delay"] is None
    assert all(c == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0} for c in empty["per_class"].values())
    never_right = scores(["lr_low", "lr_low"], [INSUFFICIENT_DATA, "overfit"])
    assert never_right["per_class"]["overfit"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert never_right["macro_f1"] == 0.0
    assert never_right["false_alarm_rate"] == 0.0  # no healthy runs at all
    assert ratio(3, 0) == 0.0


def test_insufficient_data_is_always_wrong_and_has_its_own_column():
    s = scores(["plateau", "healthy"], [INSUFFICIENT_DATA, INSUFFICIENT_DATA])
    assert s["per_class"]["plateau"]["recall"] == 0.0
    assert s["confusion"]["plateau"][INSUFFICIENT_DATA] == 1
    assert INSUFFICIENT_DATA not in s["confusion"] and list(s["confusion"]["healthy"]) == list(COLUMNS)
    assert s["false_alarm_rate"] == 0.0


def test_delays_only_for_correct_pathologies_with_both_onsets():
    s = scores(
        ["lr_high", "lr_high", "plateau", "overfit", "overfit"],
        ["lr_high", "lr_high", "lr_low", "overfit", "overfit"],
        [10, 20, 30, None, 50],
        [15, 21, 99, 5, None],
    )
    assert s["delays"] == [5, 1]
    assert s["median_delay"] == 3.0
    assert scores(["lr_high"], ["lr_high"])["delays"] == []


@pytest.mark.parametrize(
    "true, predicted, match",
    [
        (["healthy"], [], "1 true labels but 0"),
        (["unknown"], ["healthy"], "true labels must be one of"),
        (["healthy"], ["exploded"], "predicted labels must be one of"),
    ],
)
def test_bad_labels_are_rejected(true, predicted, match):
    with pytest.raises(ValueError, match=match):
        scores(true, predicted)


def test_onsets_must_match_the_runs():
    with pytest.raises(ValueError, match="one onset per run"):
        scores(["lr_high"], ["lr_high"], [1, 2], [3])


labels = st.lists(st.sampled_from(LABELS), min_size=1, max_size=40)


@settings(max_examples=100, deadline=None)
@given(labels, st.data())
def test_agrees_with_sklearn(true, data):
    predicted = data.draw(st.lists(st.sampled_from(COLUMNS), min_size=len(true), max_size=len(true)))
    s = scores(true, predicted)
    p, r, f, support = precision_recall_fscore_support(
        true, predicted, labels=list(LABELS), zero_division=0.0
    )
    for k, label in enumerate(LABELS):
        c = s["per_class"][label]
        assert c["precision"] == pytest.approx(p[k])
        assert c["recall"] == pytest.approx(r[k])
        assert c["f1"] == pytest.approx(f[k])
        assert c["support"] == support[k]
    present = [label for label in LABELS if label in true or label in predicted]
    assert s["macro_f1"] == pytest.approx(f1_score(true, predicted, labels=present, average="macro", zero_division=0.0))
    if INSUFFICIENT_DATA not in predicted:
        assert s["macro_f1"] == pytest.approx(f1_score(true, predicted, average="macro", zero_division=0.0))
    matrix = confusion_matrix(true, predicted, labels=list(COLUMNS))
    assert [[s["confusion"][row][col] for col in COLUMNS] for row in LABELS] == matrix[: len(LABELS)].tolist()


@given(labels)
def test_perfect_predictions_score_one(true):
    s = scores(true, true)
    assert s["macro_f1"] == 1.0 and s["false_alarm_rate"] == 0.0
    assert confusion(true, true)["healthy"]["healthy"] == true.count("healthy")


def test_before_nan_counts_only_warnings_strictly_before_the_first_non_finite_loss():
    from curvebench.benchmark.foresight import before_nan
    from curvebench.run import Run

    nan = float("nan")
    blow_up = Run.from_columns([0, 10, 20, 30], train_loss=[1.0, 3.0, 30.0, nan], label="lr_high")
    finite = Run.from_columns([0, 10], train_loss=[1.0, 9.0], label="lr_high")
    healthy_with_nan = Run.from_columns([0, 10], train_loss=[1.0, nan], label="healthy")
    out = before_nan([blow_up, blow_up, blow_up, finite, healthy_with_nan], [10, 30, None, 0, 0])
    assert out == {"runs": 3, "flagged_before": 1, "share": 1 / 3, "median_lead": 20.0}
    assert before_nan([finite], [0]) == {"runs": 0, "flagged_before": 0, "share": None, "median_lead": None}
