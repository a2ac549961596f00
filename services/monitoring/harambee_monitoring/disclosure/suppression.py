"""Small-count suppression that survives arithmetic: primary cells below the threshold, and complementary ones.

A release is a set of cells (counts) and the linear relations an attacker knows hold between them: each
row adds up to its total, each column to its total, and the totals of tables of the same data are equal.
Suppressing the small cells (primary) is not enough: a suppressed cell that is the only unknown of a row
is its total minus the rest. A suppressed cell is recoverable exactly when the relations, with every
published cell known, fix its value; that is when its unit vector lies in the row space of the relations
restricted to the suppressed cells. `protect` suppresses complementary cells (secondary suppression) —
the cheapest published non-zero cell sharing a relation with a recoverable one that protects it, where a
month's total, which ties every table together, costs its count in each table — until none is recoverable.
Every suppressed cell is then at least 1 and lies on a direction the relations leave free,
so even with non-negativity an attacker is left with an interval, not a value (tests/monitoring attack it
with a linear programme).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping

Cell = Hashable
# A relation: coefficients of cells whose weighted sum is zero (e.g. {a: 1, b: 1, total: -1}).
Relation = Mapping[Cell, int]


def protect(cells: Mapping[Cell, int], relations: Iterable[Relation], threshold: int,
            withheld: Iterable[Cell] = (), cost: Callable[[Cell], float] | None = None) -> set[Cell]:
    """The cells to withhold: those from 1 to threshold - 1, those `withheld` already (by an earlier release of the
    same figures: disclosure.history), and the complementary cells that protect them, each chosen at the least
    `cost` (by default its count: what withholding it hides)."""
    cost = cost or cells.__getitem__
    relations = [r for r in relations if len(r) > 1]
    suppressed = {cell for cell, count in cells.items() if 0 < count < threshold} | (set(withheld) & set(cells))
    touching: dict[Cell, list[int]] = {}
    for index, relation in enumerate(relations):
        for cell in relation:
            touching.setdefault(cell, []).append(index)
    # Each round gives every exposed cell a complement, then checks the whole release again.
    while exposed := recoverable(suppressed, relations):
        for cell in sorted(exposed, key=repr):
            suppressed.add(_complement(cell, cells, suppressed, relations, touching, cost))
    return suppressed


def recoverable(suppressed: set[Cell], relations: list[Relation]) -> set[Cell]:
    """The suppressed cells whose value the relations fix, given every published cell (exact: the elimination
    is over the integers, without division, so no rounding and no modular accident can hide an exposure)."""
    if not suppressed:
        return set()
    # Only the suppressed cells the given relations name are unknowns (a caller checking one neighbourhood
    # passes its few relations): the columns are numbered as they are met, which changes no answer.
    column: dict[Cell, int] = {}
    rows = []
    for relation in relations:
        row = {column.setdefault(c, len(column)): k for c, k in relation.items() if k and c in suppressed}
        if row:
            rows.append(row)
    unknowns = list(column)
    fixed = set()
    for block in _blocks(rows):
        pivots = _reduce(block)
        # A pivot row that names no other unknown fixes its pivot's cell; free unknowns are never fixed.
        fixed |= {unknowns[p] for p, row in pivots.items() if len(row) == 1}
    return fixed


def _blocks(rows: list[dict[int, int]]) -> list[list[dict[int, int]]]:
    """The rows split into independent systems: those that share no unknown are eliminated apart (far cheaper,
    as small counts cluster in a few tables while the totals that tie the tables together are published)."""
    parent: dict[int, int] = {}

    def root(c: int) -> int:
        while parent.setdefault(c, c) != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for row in rows:
        first, *rest = row
        for c in rest:
            parent[root(c)] = root(first)
    blocks: dict[int, list[dict[int, int]]] = {}
    for row in rows:
        blocks.setdefault(root(next(iter(row))), []).append(row)
    return list(blocks.values())


def _reduce(rows: list[dict[int, int]]) -> dict[int, dict[int, int]]:
    """Gauss-Jordan elimination of sparse integer rows without division (each combination a * row - b * pivot_row,
    divided by the gcd of its coefficients: the rational row space is kept); the reduced rows by their pivot column."""
    return _eliminate(rows)[0]


def _eliminate(rows: list[dict[int, int]], first: int = 0) -> tuple[dict[int, dict[int, int]], list[dict[int, int]]]:
    """The rows reduced (as _reduce), pivoting only on columns from `first` on (those below are carried along as
    bookkeeping); and the rows left with no such column, which _reduce drops."""
    pivots: dict[int, dict[int, int]] = {}
    null: list[dict[int, int]] = []
    for row in rows:
        row = {c: v for c, v in row.items() if v}
        for p in [c for c in row if c in pivots]:
            factor, pivot_row = row.get(p), pivots[p]
            if factor:
                row = _combine(row, pivot_row[p], pivot_row, factor)
        named = [c for c in row if c >= first]
        if not named:
            null.append(row)
            continue
        p = min(named)
        for q, other in pivots.items():
            factor = other.get(p)
            if factor:
                pivots[q] = _combine(other, row[p], row, factor)
        pivots[p] = row
    return pivots, null


def _combine(row: dict[int, int], a: int, other: dict[int, int], b: int) -> dict[int, int]:
    """a * row - b * other, its zeros dropped and its coefficients divided by their gcd."""
    g = math.gcd(a, b)
    a, b = a // g, b // g
    out = {c: a * v for c, v in row.items()}
    for c, v in other.items():
        out[c] = out.get(c, 0) - b * v
    out = {c: v for c, v in out.items() if v}
    g = math.gcd(*out.values()) if out else 1
    return {c: v // g for c, v in out.items()} if g > 1 else out


def _complement(cell: Cell, cells: Mapping[Cell, int], suppressed: set[Cell], relations: list[Relation],
                touching: dict[Cell, list[int]], cost: Callable[[Cell], float]) -> Cell:
    """The published cell to withhold beside an exposed one: the cheapest that protects it, else the cheapest.

    Candidates share a relation with it, or with a withheld cell beside it, and are at least 1. Each is tried in
    order of cost (the caller prices a total that ties every table together above the cells inside one table:
    withholding it drags the other tables along); the first that leaves the cell unrecoverable is taken. When
    none does alone, the cheapest is taken and the next round adds to it. Zeros are the last resort: a withheld
    zero beside a published total of zero is pinned by non-negativity, whereas cells of at least 1 leave an
    attacker an interval open both ways.
    """
    beside = {c for i in touching.get(cell, ()) for c in relations[i]} - {cell}
    further = {c for s in beside & suppressed for i in touching.get(s, ()) for c in relations[i]}
    pool = sorted((c for c in beside | further if cells[c] > 0 and c not in suppressed),
                  key=lambda c: (c not in beside, cost(c), repr(c)))
    tried = sorted(pool[:CANDIDATES], key=lambda c: (cost(c), repr(c)))
    near = {i for c in (cell, *(beside & suppressed), *tried) for i in touching.get(c, ())}
    protecting = _protectors(cell, suppressed, [relations[i] for i in sorted(near)], tried)
    for candidate in tried:
        if candidate in protecting:
            return candidate
    if pool:
        return min(pool, key=lambda c: (cost(c), repr(c)))
    elsewhere = [c for c in cells if c not in suppressed and cells[c] > 0]
    return min(elsewhere or (beside - suppressed) or (c for c in cells if c not in suppressed),
               key=lambda c: (cells[c], repr(c)))


def _protectors(cell: Cell, suppressed: set[Cell], relations: list[Relation], candidates: list[Cell]) -> set[Cell]:
    """The candidates each of which, withheld alone besides `suppressed`, leaves `cell` unrecoverable from the
    relations: one elimination for all of them instead of one each.

    The relations restricted to the suppressed cells are reduced with the combinations that reduce them kept
    beside (an identity block). The cell is fixed by a reduced row naming only it; a candidate adds a column,
    whose entry in each reduced row is that row's combination applied to the candidate's coefficients. The cell
    stays fixed unless its row gains an entry there and no row reduced to nothing does (such a row would take the
    new column as its pivot and clear it from the cell's row).
    """
    width = len(relations)
    column: dict[Cell, int] = {}
    rows = []
    for i, relation in enumerate(relations):
        row = {column.setdefault(c, width + len(column)): k for c, k in relation.items() if k and c in suppressed}
        row[i] = 1  # the identity block: columns below `width` record which relations a row combines
        rows.append(row)
    if cell not in column:
        return set(candidates)
    pivots, null = _eliminate(rows, first=width)
    own = pivots.get(column[cell])
    if own is None or any(c >= width and c != column[cell] for c in own):
        return set(candidates)  # not fixed by these relations even now

    def entry(row: dict[int, int], coefficients: list[tuple[int, int]]) -> int:
        return sum(row.get(i, 0) * k for i, k in coefficients)

    protecting = set()
    for candidate in candidates:
        coefficients = [(i, r[candidate]) for i, r in enumerate(relations) if r.get(candidate)]
        if entry(own, coefficients) and not any(entry(z, coefficients) for z in null):
            protecting.add(candidate)
    return protecting


# How many complementary candidates (the nearest and cheapest) are tried at each step.
CANDIDATES = 24
