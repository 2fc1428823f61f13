# Smoke test for pandas: a groupby aggregation and merges checked against hand-computed values,
# plus datetime parsing and a time-zone conversion. Exits non-zero on a wrong result.
import math

import pandas as pd

df = pd.DataFrame({
    "team": ["a", "b", "a", "c", "b", "a"],
    "pts": [10, 20, 30, 40, 50, 60],
    "w": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
})
g = df.groupby("team").agg(total=("pts", "sum"), mean_w=("w", "mean"), n=("pts", "size"))
assert list(g.index) == ["a", "b", "c"], list(g.index)
assert list(g["total"]) == [100, 70, 40], list(g["total"])
assert list(g["n"]) == [3, 2, 1], list(g["n"])
for got, want in zip(g["mean_w"], [11.5 / 3, 4.0, 4.5]):
    assert abs(got - want) < 1e-12, (got, want)

cities = pd.DataFrame({"team": ["a", "b", "d"], "city": ["Oslo", "Lima", "Pune"]})
inner = g.reset_index().merge(cities, on="team", how="inner")
assert list(inner["team"]) == ["a", "b"] and list(inner["city"]) == ["Oslo", "Lima"], inner
left = g.reset_index().merge(cities, on="team", how="left")
assert left.loc[left["team"] == "c", "city"].isna().all(), left
outer = g.reset_index().merge(cities, on="team", how="outer", sort=True)
assert list(outer["team"]) == ["a", "b", "c", "d"], outer
assert math.isnan(outer.loc[outer["team"] == "d", "total"].iloc[0])

# sort, cumulative sum and string methods on the merged frame
s = df.sort_values(["team", "pts"], ascending=[True, False])["pts"].cumsum()
assert list(s) == [60, 90, 100, 150, 170, 210], list(s)

ts = pd.to_datetime(["2024-07-01 12:00:00", "2024-01-15 06:30:00"]).tz_localize("UTC")
paris = ts.tz_convert("Europe/Paris")
assert [t.strftime("%H:%M%z") for t in paris] == ["14:00+0200", "07:30+0100"], list(paris)

print("pandas %s ok: groupby/agg, inner/left/outer merge, cumsum, tz_convert" % pd.__version__)
