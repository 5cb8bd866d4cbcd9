from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from slotoptim.ml.cli import NOSHOW_CSV, shared_data_file
from slotoptim.ml.noshow.kaggle import KaggleFormatError, read_noshow_csv

HEADER = (
    "PatientId,AppointmentID,Gender,ScheduledDay,AppointmentDay,Age,Neighbourhood,Scholarship,"
    "Hipertension,Diabetes,Alcoholism,Handcap,SMS_received,No-show"
)


def write(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    path = tmp_path / "appointments.csv"
    path.write_text("\n".join((header, *lines)) + "\n")
    return path


def test_reads_columns_and_maps_the_target_yes_to_no_show(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "29872499824296.0,5642903,F,2016-04-29T18:38:08Z,2016-04-29T00:00:00Z,62,JARDIM DA PENHA,0,1,0,0,0,0,No",
        "29872499824296,5642904,F,2016-04-27T08:00:00Z,2016-05-02T00:00:00Z,62,JARDIM DA PENHA,1,1,1,1,2,1,Yes",
    )
    table, report = read_noshow_csv(path)
    assert report.rows_read == 2 and report.rows_kept == 2
    assert table.no_show.tolist() == [False, True]
    # The float and the integer spelling of a patient id are one patient.
    assert table.patient_id.tolist() == ["29872499824296", "29872499824296"]
    assert table.scheduled_at[0] == np.datetime64("2016-04-29T18:38:08")
    assert table.appointment_day[1] == np.datetime64("2016-05-02")
    assert table.handicap.tolist() == [0, 2]
    assert table.sms_received.tolist() == [False, True]
    assert table.hypertension.tolist() == [True, True]


def test_drops_and_counts_negative_ages_days_before_booking_and_repeated_ids(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "1,10,F,2016-04-29T10:00:00Z,2016-04-29T00:00:00Z,-1,A,0,0,0,0,0,0,No",
        "2,11,F,2016-04-29T10:00:00Z,2016-04-28T00:00:00Z,30,A,0,0,0,0,0,0,No",
        "3,12,M,2016-04-29T10:00:00Z,2016-05-03T00:00:00Z,40,A,0,0,0,0,0,0,Yes",
        "3,12,M,2016-04-29T10:00:00Z,2016-05-03T00:00:00Z,40,A,0,0,0,0,0,0,Yes",
    )
    table, report = read_noshow_csv(path)
    assert (report.dropped_negative_age, report.dropped_appointment_before_booking) == (1, 1)
    assert report.dropped_duplicate_appointment_id == 1
    assert report.rows_kept == 1 and table.appointment_id.tolist() == [12]


def test_a_same_day_booking_is_kept(tmp_path: Path) -> None:
    # Booked at 18:38 for "today": the appointment day (midnight) is before the booking time but not its day.
    path = write(tmp_path, "1,10,F,2016-04-29T18:38:08Z,2016-04-29T00:00:00Z,5,A,0,0,0,0,0,0,No")
    _, report = read_noshow_csv(path)
    assert report.rows_kept == 1


@pytest.mark.parametrize(
    ("line", "column"),
    [
        ("1,10,F,yesterday,2016-04-29T00:00:00Z,5,A,0,0,0,0,0,0,No", "ScheduledDay"),
        ("1,10,F,2016-04-29T10:00:00Z,,5,A,0,0,0,0,0,0,No", "AppointmentDay"),
        ("1,10,F,2016-04-29T10:00:00Z,2016-04-29T00:00:00Z,five,A,0,0,0,0,0,0,No", "Age"),
        ("1,10,F,2016-04-29T10:00:00Z,2016-04-29T00:00:00Z,5,A,2,0,0,0,0,0,No", "Scholarship"),
        ("1,10,F,2016-04-29T10:00:00Z,2016-04-29T00:00:00Z,5,A,0,0,0,0,0,0,Maybe", "No-show"),
    ],
)
def test_bad_values_name_the_file_column_and_line(tmp_path: Path, line: str, column: str) -> None:
    path = write(tmp_path, "1,9,F,2016-04-29T10:00:00Z,2016-04-29T00:00:00Z,5,A,0,0,0,0,0,0,No", line)
    with pytest.raises(KaggleFormatError) as caught:
        read_noshow_csv(path)
    message = str(caught.value)
    assert str(path) in message and repr(column) in message and "line 3" in message


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "1,10", header="PatientId,AppointmentID")
    with pytest.raises(KaggleFormatError, match="missing column 'Gender'"):
        read_noshow_csv(path)


def test_the_shared_kaggle_file() -> None:
    path = shared_data_file(NOSHOW_CSV)
    if path is None:
        pytest.skip("shared data folder not found: set SLOTOPTIM_SHARED_DATA to the folder holding noshow/")
    table, report = read_noshow_csv(path)
    assert report.rows_read == 88540
    assert report.dropped_negative_age == 0
    assert report.dropped_appointment_before_booking == 5
    assert report.rows_kept == len(table)
    assert 0.19 < table.no_show.mean() < 0.22
    assert table.day_range() == ("2016-04-29", "2016-06-01")
