"""Progress bars for the command line, on stderr so that stdout stays the results.

They switch themselves off when stderr is not a terminal (CI logs, tests, pipes), where a bar
redrawn in place would only add noise.
"""

from __future__ import annotations

from collections import Counter

from tqdm import tqdm

MAX_LABELS_SHOWN = 8


class DaysBar:
    """Simulated days of one run; pass it as `engine.run(progress=...)`."""

    def __init__(self, days: int, label: str):
        self.bar = tqdm(total=days, desc=label, unit="day", disable=None, dynamic_ncols=True)

    def __call__(self, days: int) -> None:
        self.bar.update(days)

    def close(self) -> None:
        self.bar.update(self.bar.total - self.bar.n)
        self.bar.close()


class RunsBar:
    """Runs of a batch: done out of total, the count per scenario, and tqdm's time left."""

    def __init__(self, per_scenario: dict[str, int], done: Counter):
        self.total, self.done = per_scenario, Counter(done)
        self.bar = tqdm(total=sum(per_scenario.values()), initial=sum(self.done.values()),
                        unit="run", disable=None, dynamic_ncols=True, smoothing=0.1)
        self._postfix()

    def _postfix(self) -> None:
        if len(self.total) > MAX_LABELS_SHOWN:  # an experiment's points: the total says enough
            return
        self.bar.set_postfix_str(", ".join(f"{label} {self.done[label]}/{n}"
                                           for label, n in self.total.items()), refresh=False)

    def update(self, scenarios: list[str]) -> None:
        self.done.update(scenarios)
        self._postfix()
        self.bar.update(len(scenarios))

    def close(self) -> None:
        self.bar.close()


class SearchBar:
    """Runs of an adaptive search (`haiti-sim target`): its total grows as each round is
    planned, and the postfix says where the search stands."""

    def __init__(self, label: str):
        self.bar = tqdm(total=0, desc=label, unit="run", disable=None, dynamic_ncols=True)

    def plan(self, runs: int) -> None:
        self.bar.total += runs
        self.bar.refresh()

    def update(self, scenarios: list[str]) -> None:
        """Runs done (their labels, as a batch reports them)."""
        self.bar.update(len(scenarios))

    def note(self, text: str) -> None:
        self.bar.set_postfix_str(text)

    def close(self) -> None:
        self.bar.close()
