"""Readable text rendering of an evaluation (the `--format table` output)."""

from __future__ import annotations

from slotoptim.ml.noshow.evaluate import EvaluationReport


def format_evaluation(report: EvaluationReport) -> str:
    m = report.metrics
    w = report.window
    lines = [
        f"train  {report.train.source}: {report.train.rows} rows,"
        f" days {report.train.first_day}..{report.train.last_day}, no-show rate {report.train.no_show_rate:.3f}",
        f"       fit {w.fit_days[0]}..{w.fit_days[1]} ({w.fit_rows} rows),"
        f" calibration {w.calibration_days[0]}..{w.calibration_days[1]} ({w.calibration_rows} rows)",
        f"test   {report.test.source}: {report.test.rows} rows, days {report.test.first_day}..{report.test.last_day},"
        f" no-show rate {report.test.no_show_rate:.3f}",
    ]
    for imported in report.imports:
        lines.append(
            f"import {imported.path}: read {imported.rows_read}, kept {imported.rows_kept}; dropped"
            f" {imported.dropped_negative_age} negative age, {imported.dropped_appointment_before_booking}"
            f" appointment before booking, {imported.dropped_duplicate_appointment_id} duplicate id"
        )
    lines += [
        "",
        f"{'metric':<28}{'value':>10}",
        f"{'ROC AUC':<28}{m.roc_auc:>10.4f}",
        f"{'PR AUC (average precision)':<28}{m.pr_auc:>10.4f}",
        f"{'Brier score':<28}{m.brier:>10.4f}",
        f"{'Brier, uncalibrated':<28}{m.brier_uncalibrated:>10.4f}",
        f"{'Brier, base rate only':<28}{m.brier_base_rate:>10.4f}",
        f"{'log loss':<28}{m.log_loss:>10.4f}",
        f"{'ROC AUC, lead time alone':<28}{m.lead_time_only_roc_auc:>10.4f}",
        "",
        "calibration (equal-count bins of predicted probability)",
        f"{'bin':>4}{'rows':>8}{'predicted':>11}{'observed':>10}",
    ]
    lines += [f"{b.bin:>4}{b.count:>8}{b.mean_predicted:>11.3f}{b.observed_rate:>10.3f}" for b in m.calibration]
    lines += [f"note: {note}" for note in report.notes]
    return "\n".join(lines)
