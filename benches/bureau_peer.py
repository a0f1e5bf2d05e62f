#!/usr/bin/env python3
"""The peer of `nianbao check --all` and `nianbao indicators --all`, in pandas.

Reads the facts exported from the store (CSV: code,year,element,major,value), the rules of
data/rules.toml and the indicators of data/indicators.toml, and evaluates every rule and
indicator for every school and year with vectorised pandas operations, translating the
expression language (names, + - * /, pct, sum over majors, prev, change, abs) into column
arithmetic. It prints the number of failed rules per severity and the indicator values
computed, so the two sides can be compared.

Usage: bureau_peer.py FACTS.csv DATA_DIR
"""

import re
import sys
import tomllib

import numpy as np
import pandas as pd

NAME = re.compile(r"(?<![\"\w.])[a-z_]+(?:\.[a-z_0-9]+)+")
FUNC = re.compile(r"\b(sum|prev|change)\(\s*([a-z_]+(?:\.[a-z_0-9]+)+)\s*\)")


def printed_tolerance(values: pd.Series) -> pd.Series:
    """Half a unit in the last printed place of each value (18.7 -> 0.05)."""
    def one(v):
        if not np.isfinite(v):
            return 0.0
        text = repr(float(v))
        if "e" in text or "." not in text:
            return 0.5
        fraction = text.split(".")[1]
        decimals = 0 if fraction == "0" else len(fraction)
        return 0.5 * 10 ** (-decimals)
    return values.map(one)


class Frames:
    def __init__(self, facts: pd.DataFrame):
        school = facts[facts["major"].isna()]
        major = facts[facts["major"].notna()]
        self.school = school.pivot_table(
            index=["code", "year"], columns="element", values="value", aggfunc="first"
        )
        self.major = major.pivot_table(
            index=["code", "year", "major"], columns="element", values="value", aggfunc="first"
        )
        self.major_sum = self.major.groupby(level=["code", "year"]).sum(min_count=1)
        self.school_prev = self.school.groupby(level="code").shift(1)
        # prev() needs the year before to exist, not merely an earlier row.
        years = self.school.index.get_level_values("year").to_series(index=self.school.index)
        gap = years - years.groupby(level="code").shift(1)
        self.school_prev[gap.ne(1)] = np.nan
        self.major_prev = self.major.groupby(level=["code", "major"]).shift(1)


def translate(expression: str, per_major: bool) -> str:
    def func(m):
        fn, name = m.group(1), m.group(2)
        return f'{fn}_("{name}")'
    text = FUNC.sub(func, expression)
    return NAME.sub(lambda m: f'col("{m.group(0)}")', text)


def evaluate(expression: str, frames: Frames, per_major: bool):
    index = frames.major.index if per_major else frames.school.index

    def col(name):
        if name.startswith("major."):
            if not per_major:
                return pd.Series(np.nan, index=index)
            source = frames.major
        else:
            source = frames.school
        series = source[name] if name in source.columns else pd.Series(np.nan, index=source.index)
        if per_major and not name.startswith("major."):
            series = series.reindex(index.droplevel("major")).set_axis(index)
        return series

    def sum_(name):
        series = frames.major_sum[name] if name in frames.major_sum.columns else pd.Series(np.nan, index=frames.school.index)
        return series.reindex(frames.school.index)

    def prev_(name):
        source = frames.major_prev if name.startswith("major.") else frames.school_prev
        return source[name] if name in source.columns else pd.Series(np.nan, index=index)

    def change_(name):
        now, before = col(name), prev_(name)
        return (now - before) / before * 100

    def pct(a, b):
        return a / b * 100

    return eval(
        translate(expression, per_major),
        {"__builtins__": {}},
        {"col": col, "sum_": sum_, "prev_": prev_, "change_": change_, "pct": pct, "abs": abs},
    )


def check(rule: dict, frames: Frames) -> pd.Series:
    per_major = rule.get("for_each") == "major"
    text = rule["check"]
    op = next(o for o in ("==", "<=", ">=", "<", ">") if o in text)
    left_text, right_text = text.split(op, 1)
    left = evaluate(left_text, frames, per_major)
    right = evaluate(right_text, frames, per_major)
    if not isinstance(left, pd.Series):
        left = pd.Series(float(left), index=right.index)
    if not isinstance(right, pd.Series):
        right = pd.Series(float(right), index=left.index)
    tolerance = rule.get("tolerance", 0.0)
    allowance = pd.Series(0.0, index=left.index)
    if tolerance == "printed":
        allowance = printed_tolerance(left)
    else:
        allowance[:] = float(tolerance)
    allowance = np.maximum(allowance, rule.get("relative_tolerance", 0.0) * right.abs())
    known = left.notna() & right.notna() & np.isfinite(left) & np.isfinite(right)
    if op == "==":
        holds = (left - right).abs() <= allowance + 1e-9
    elif op == "<=":
        holds = left <= right + allowance + 1e-9
    elif op == ">=":
        holds = left + allowance + 1e-9 >= right
    elif op == "<":
        holds = left < right + allowance
    else:
        holds = left + allowance > right
    return known & ~holds


def main():
    facts_path, data_dir = sys.argv[1], sys.argv[2]
    facts = pd.read_csv(
        facts_path,
        names=["code", "year", "element", "major", "value"],
        dtype={"code": str, "year": "int64", "element": str, "major": str, "value": "float64"},
        keep_default_na=False,
        na_values={"major": [""]},
    )
    frames = Frames(facts)
    with open(f"{data_dir}/rules.toml", "rb") as f:
        rules = tomllib.load(f)["rule"]
    with open(f"{data_dir}/indicators.toml", "rb") as f:
        indicators = tomllib.load(f)["indicator"]
    failed = {"error": 0, "warning": 0}
    schools_with_errors = set()
    for rule in rules:
        if "register." in rule["check"]:
            continue  # register figures are not in the export
        fails = check(rule, frames)
        count = int(fails.sum())
        failed[rule["severity"]] += count
        if rule["severity"] == "error" and count:
            schools_with_errors.update(fails[fails].index.get_level_values("code"))
    values = {}
    for indicator in indicators:
        result = evaluate(indicator["formula"], frames, False)
        if not isinstance(result, pd.Series):
            result = pd.Series(float(result), index=frames.school.index)
        values[indicator["id"]] = result
    table = pd.DataFrame(values)
    print(
        f"schools {frames.school.index.get_level_values('code').nunique()} "
        f"rule_errors {failed['error']} rule_warnings {failed['warning']} "
        f"schools_with_errors {len(schools_with_errors)} "
        f"indicator_values {int(table.notna().sum().sum())}"
    )
    ratio = table["student_teacher_ratio"].round(1)
    print(f"student_teacher_ratio_median {ratio.median():.2f}")


if __name__ == "__main__":
    main()
