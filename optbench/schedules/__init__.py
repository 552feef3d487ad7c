"""Learning-rate schedules: specs (``specs.py``, no numba) and their jitted kernels
(``kernels.py``, loaded only by the engines)."""

from optbench.schedules.specs import (
    PARAMETERS,
    SCHEDULES,
    ScheduleSpec,
    get_schedule,
    label,
    schedule_row,
)

__all__ = ["PARAMETERS", "SCHEDULES", "ScheduleSpec", "get_schedule", "label", "schedule_row"]
