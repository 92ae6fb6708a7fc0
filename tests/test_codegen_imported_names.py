"""Fields named like a name their generated module imports (`date`, `datetime`): the fields after
them in the class still mean the imported type."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from codegen_helpers import generate_from, imported, mypy_strict

# Kraken's ActiveAppointmentType has `date: Date` beside `appointmentDate: Date!`; an input
# type may have the same.
SCHEMA = """\
scalar Date
scalar DateTime
type Query { appointments(filter: Filter): [Appointment] }
type Appointment { date: Date appointmentDate: Date! createdAt: DateTime datetime: String }
input Filter { date: Date until: Date datetime: DateTime at: DateTime }
"""
OPERATIONS = """\
query a($f: Filter) {
  appointments(filter: $f) { date appointmentDate datetime createdAt ...Times }
}
fragment Times on Appointment { date appointmentDate }
"""


def test_an_input_field_after_one_named_date_takes_a_date(tmp_path: Path) -> None:
    # In the input model, `date: Optional[date] = None` made `date` None in the class body, so
    # `until: Optional[date]` was `Optional[None]`: "Input should be None" for any date given.
    with imported(generate_from(tmp_path, SCHEMA, OPERATIONS), "my_kraken") as my_kraken:
        made = my_kraken.Filter(date=dt.date(2026, 3, 8), until=dt.date(2026, 3, 9))
        at = dt.datetime(2026, 3, 8, 2, 30, tzinfo=dt.timezone.utc)
        made = my_kraken.Filter(until=dt.date(2026, 3, 9), datetime=at, at=at)
        sent = made.model_dump(by_alias=True, mode="json", exclude_none=True)
        assert sent["until"] == "2026-03-09"
        assert sent["at"] == sent["datetime"]
        answer = {"date": "2026-03-08", "appointmentDate": "2026-03-09", "datetime": "x"}
        answer |= {"createdAt": "2026-03-08T02:30:00+00:00"}
        [got] = my_kraken.A.model_validate({"appointments": [answer]}).appointments
        assert (got.date, got.appointment_date) == (dt.date(2026, 3, 8), dt.date(2026, 3, 9))
        assert got.created_at == at


@pytest.mark.slow  # mypy
def test_a_package_with_fields_named_date_and_datetime_passes_mypy_strict(tmp_path: Path) -> None:
    # Before: "Variable "my_kraken.a.AAppointments.date" is not valid as a type", for the result,
    # fragment and input models alike.
    result = mypy_strict(generate_from(tmp_path, SCHEMA, OPERATIONS), tmp_path)
    assert result.returncode == 0, result.stdout
