#!/usr/bin/env python3
"""Golden metric fixtures for the engine, computed with the reference packages.

Environment (a virtualenv under /tmp, never committed):

    python3 -m venv /tmp/qsenv
    /tmp/qsenv/bin/pip install quantstats==0.0.86 empyrical-reloaded==0.7.1 \
        pandas==3.1.1 numpy==2.4.6 scipy==1.17.1

Resolved versions used for the committed fixtures: quantstats 0.0.86, empyrical-reloaded 0.7.1,
pandas 3.1.1, numpy 2.4.6, scipy 1.17.1 (Python 3.11).

Input:  returns.json, written by `cargo run -p engine --example export_returns` (the daily
        time-weighted returns of each golden run, t >= 1).
Output: fixtures.json, next to this script. tests/golden.rs asserts every value to 1e-9 relative.

Usage: /tmp/qsenv/bin/python engine/tests/golden/generate.py
"""

import json
import math
import os
import warnings

import empyrical
import numpy as np
import pandas as pd
import quantstats as qs

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
st = qs.stats


def num(v):
    """float, or None where the reference package yields NaN/inf (the engine's None)."""
    v = float(v)
    return v if math.isfinite(v) else None


def metrics(r: pd.Series) -> dict:
    dd = st.to_drawdown_series(r)
    details = st.drawdown_details(dd)
    roll_vol = st.rolling_volatility(r, 126)
    roll_sharpe = st.rolling_sharpe(r, rolling_period=126)
    n = len(r)
    probe = sorted({i for i in (125, n // 2, n - 1) if 125 <= i < n})
    return {
        "totalReturn": num(st.comp(r)),
        "cagr": num(st.cagr(r)),
        "volatility": num(st.volatility(r)),
        "sharpe": num(st.sharpe(r)),
        "sortino": num(st.sortino(r)),
        "maxDrawdown": num(st.max_drawdown(r)),
        "calmar": num(st.calmar(r)),
        "ulcerIndex": num(st.ulcer_index(r)),
        "bestDay": num(st.best(r)),
        "worstDay": num(st.worst(r)),
        # quantstats' report uses "ME"/"YE" (calendar months/years); aggregate="month" would
        # pool the same month of different years.
        "bestMonth": num(st.best(r, aggregate="ME")),
        "worstMonth": num(st.worst(r, aggregate="ME")),
        "bestYear": num(st.best(r, aggregate="YE")),
        "worstYear": num(st.worst(r, aggregate="YE")),
        "winRate": num(st.win_rate(r)),
        "avgReturn": num(st.avg_return(r)),
        "avgWin": num(st.avg_win(r)),
        "avgLoss": num(st.avg_loss(r)),
        "payoffRatio": num(st.payoff_ratio(r)),
        "profitFactor": num(st.profit_factor(r)),
        "gainToPain": num(st.gain_to_pain_ratio(r)),
        "omega": num(st.omega(r)),
        "tailRatio": num(st.tail_ratio(r)),
        "tailRatioEmpyrical": num(empyrical.tail_ratio(r)),
        "var95": num(empyrical.value_at_risk(r)),
        "var95Parametric": num(st.value_at_risk(r)),
        "cvar95": num(empyrical.conditional_value_at_risk(r)),
        "cvar95Parametric": num(st.cvar(r)),
        "skew": num(st.skew(r)),
        "kurtosis": num(st.kurtosis(r)),
        "kelly": num(st.kelly_criterion(r)),
        "riskOfRuin": num(st.risk_of_ruin(r)),
        "longestWinStreak": int(st.consecutive_wins(r)),
        "longestLossStreak": int(st.consecutive_losses(r)),
        "stability": num(empyrical.stability_of_timeseries(r)),
        "sharpeEmpyrical": num(empyrical.sharpe_ratio(r)),
        "volatilityEmpyrical": num(empyrical.annual_volatility(r)),
        "maxDrawdownEmpyrical": num(empyrical.max_drawdown(r)),
        "drawdownCount": int(len(details)),
        "longestDrawdownDays": int(details["days"].max()) if len(details) else None,
        "avgDrawdownDays": num(details["days"].mean()) if len(details) else None,
        "avgDrawdownDepth": num(details["max drawdown"].mean() / 100) if len(details) else None,
        "rolling": [
            {"index": i, "volatility": num(roll_vol.iloc[i]), "sharpe": num(roll_sharpe.iloc[i])}
            for i in probe
        ],
    }


def main():
    with open(os.path.join(HERE, "returns.json")) as f:
        cases = json.load(f)["cases"]
    out = {
        "generator": "engine/tests/golden/generate.py",
        "packages": {
            "quantstats": qs.__version__,
            "empyrical-reloaded": getattr(empyrical, "__version__", "0.7.1"),
            "pandas": pd.__version__,
            "numpy": np.__version__,
        },
        "cases": [],
    }
    for c in cases:
        r = pd.Series(c["returns"], index=pd.to_datetime(c["dates"]), dtype=float)
        out["cases"].append({"name": c["name"], "metrics": metrics(r)})
    with open(os.path.join(HERE, "fixtures.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True, allow_nan=False)
        f.write("\n")
    print(f"wrote fixtures for {len(cases)} cases")


if __name__ == "__main__":
    main()
