"""An attacker of a suppressed release: it knows every published cell and every relation between cells (a
table's rows and columns add up, tables of the same referrals have the same totals), and for each withheld cell
solves two integer programmes — the smallest and the largest value consistent with all of it, no cell below
zero. A cell whose smallest and largest values agree is recovered."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp


def bounds_of_withheld(values: Mapping[Hashable, int | None],
                       relations: Iterable[Mapping[Hashable, int]]) -> dict[Hashable, tuple[int, int]]:
    """The interval each withheld cell (value None) is known to lie in."""
    unknown = sorted((c for c, v in values.items() if v is None), key=repr)
    if not unknown:
        return {}
    index = {c: i for i, c in enumerate(unknown)}
    rows, rhs = [], []
    for relation in relations:
        if not any(c in index for c in relation):
            continue
        if any(c not in values for c in relation):
            continue  # a relation about cells this release does not show tells nothing
        row = np.zeros(len(unknown))
        known = 0
        for cell, coefficient in relation.items():
            if cell in index:
                row[index[cell]] += coefficient
            else:
                known += coefficient * values[cell]
        rows.append(row)
        rhs.append(-known)
    constraint = LinearConstraint(np.array(rows), np.array(rhs), np.array(rhs))
    integral = np.ones(len(unknown))
    found = {}
    for cell, i in index.items():
        ends = []
        for sign in (1, -1):
            objective = np.zeros(len(unknown))
            objective[i] = sign
            relaxed = linprog(objective, A_eq=constraint.A, b_eq=rhs, bounds=(0, None), method="highs")
            if relaxed.status == 3:
                ends.append(np.inf)  # nothing bounds the cell from above (and no whole number will)
                continue
            assert relaxed.success, relaxed.message
            result = milp(objective, constraints=[constraint], integrality=integral, bounds=Bounds(0, np.inf))
            assert result.success, result.message
            ends.append(round(result.x[i]))
        found[cell] = (ends[0], ends[1])
    return found


def recovered(values: Mapping[Hashable, int | None], relations: Iterable[Mapping[Hashable, int]]) -> set[Hashable]:
    """The withheld cells the attacker pins to one value."""
    return {cell for cell, (low, high) in bounds_of_withheld(values, list(relations)).items() if low == high}
