"""Portable SQL expressions the measures are written with (PostgreSQL and SQLite)."""

from django.db.models import BooleanField, Case, CharField, ExpressionWrapper, F, FloatField, Func, Value, When
from django.db.models.functions import Coalesce, ExtractDay, ExtractMonth, ExtractYear, NullIf
from django.db.models.lookups import GreaterThan, LessThan
from django.utils import timezone


class Seconds(Func):
    """Seconds from `start` to `end` (two datetimes) as a float; NULL when either is NULL."""

    arity = 2
    output_field = FloatField()

    def __init__(self, end, start):
        super().__init__(end, start)

    def as_sql(self, compiler, connection, **extra):
        raise NotImplementedError(f"Seconds is written for PostgreSQL and SQLite, not {connection.vendor}.")

    def as_postgresql(self, compiler, connection, **extra):
        template = "EXTRACT(EPOCH FROM (%(expressions)s))::double precision"
        return super().as_sql(compiler, connection, template=template, arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        # julianday keeps about 0.1 ms: far finer than the minutes and hours the measures report.
        template = "((julianday(%(expressions)s)) * 86400.0)"
        return super().as_sql(compiler, connection, template=template, arg_joiner=") - julianday(", **extra)


def known(path: str, *, unknown: str = "unknown"):
    """A text column with empty and missing values (and missing rows of a LEFT JOIN) as `unknown`."""
    return Coalesce(NullIf(F(path), Value("")), Value(unknown), output_field=CharField())


def age_in_years(date_of_birth: str, at: str):
    """Whole years between a date of birth and the local date of a moment (NULL if either is NULL)."""
    birthday = ExtractMonth(date_of_birth) * 100 + ExtractDay(date_of_birth)
    on_day = ExtractMonth(at) * 100 + ExtractDay(at)
    before_birthday = Case(When(GreaterThan(birthday, on_day), then=Value(1)), default=Value(0))
    return ExtractYear(at) - ExtractYear(date_of_birth) - before_birthday


AGE_BANDS = [  # (key, label, first age above the band); the last band is open-ended
    ("under_18", "Under 18", 18),
    ("18_24", "18 to 24", 25),
    ("25_34", "25 to 34", 35),
    ("35_44", "35 to 44", 45),
    ("45_54", "45 to 54", 55),
    ("55_64", "55 to 64", 65),
    ("65_over", "65 and over", None),
]


def _portable_age_band(date_of_birth: str, at: str):
    age = age_in_years(date_of_birth, at)
    whens = [When(LessThan(age, 0), then=Value("unknown"))]
    for key, _label, above in AGE_BANDS:
        if above is None:
            whens.append(When(GreaterThan(age, -1), then=Value(key)))
        else:
            whens.append(When(LessThan(age, above), then=Value(key)))
    return Case(*whens, default=Value("unknown"), output_field=CharField())


class AgeBand(Func):
    """The AGE_BANDS key of the age on the local day of `at`; "unknown" without a date of birth or
    with one after `at`.

    PostgreSQL computes the age once (age() and width_bucket); elsewhere a CASE over the portable
    age_in_years. Both give the same band: the tests run on both, and the benchmark compares them.
    """

    output_field = CharField()

    def __init__(self, date_of_birth: str, at: str):
        super().__init__(F(date_of_birth), F(at))
        self.portable = _portable_age_band(date_of_birth, at)

    def resolve_expression(self, *args, **kwargs):
        resolved = super().resolve_expression(*args, **kwargs)
        resolved.portable = self.portable.resolve_expression(*args, **kwargs)
        return resolved

    def as_sql(self, compiler, connection, **extra):
        return compiler.compile(self.portable)

    def as_postgresql(self, compiler, connection, **extra):
        dob_sql, dob_params = compiler.compile(self.source_expressions[0])
        at_sql, at_params = compiler.compile(self.source_expressions[1])
        labels = ", ".join(f"'{key}'" for key, _, _ in AGE_BANDS)  # our own constants
        thresholds = ", ".join(["0", *(str(above) for _, _, above in AGE_BANDS if above is not None)])
        day = f"({at_sql} AT TIME ZONE %s)::date"
        # width_bucket: 1 for [0, 18), ..., 7 from 65 up. A birth after the day is a data error: unknown.
        bucket = f"width_bucket(date_part('year', age({day}, {dob_sql})), ARRAY[{thresholds}]::float8[])"
        sql = (
            f"CASE WHEN {dob_sql} > {day} THEN 'unknown' "
            f"ELSE COALESCE((ARRAY['unknown', {labels}])[1 + {bucket}], 'unknown') END"
        )
        tz = timezone.get_current_timezone_name()
        return sql, (*dob_params, *at_params, tz, *at_params, tz, *dob_params)


def age_band(date_of_birth: str, at: str):
    return AgeBand(date_of_birth, at)


def month_key(at: str):
    """The local calendar month of a moment as a number: 202503 for March 2025."""
    return ExtractYear(at) * 100 + ExtractMonth(at)


def flag(condition):
    """Whether a row meets `condition`: the per-row fact a count counts (NULL counts as no)."""
    return ExpressionWrapper(condition, output_field=BooleanField())


def only_where(condition, value):
    """`value` where `condition` holds, else NULL (a NULL is left out of every percentile)."""
    if condition is None:
        return value
    return Case(When(condition, then=value), default=None, output_field=FloatField())
