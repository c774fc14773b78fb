"""A progress bar for long commands, without a dependency for thirty lines."""

import time


class ProgressBar:
    """A one-line progress bar on a terminal; plain milestones when output is a file."""

    def __init__(self, stream, total, label, *, milestones=20):
        self.stream, self.total, self.label, self.done = stream, max(total, 1), label, 0
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.every = max(self.total // milestones, 1)
        self.next_milestone = self.every
        self.note = ""

    def __call__(self, step=1):
        self.update(self.done + step)

    def update(self, done, *, note=""):
        """Show `done` out of the total, with a short note (counts, a rate) after it."""
        self.done, self.note = min(self.total, done), note
        if self.tty:
            filled = int(30 * self.done / self.total)
            self.stream.write(
                f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] "
                f"{self.done:,}/{self.total:,} {note}\033[K"
            )
            self.stream.flush()
        elif self.done == self.total or self.done >= self.next_milestone:
            self.next_milestone = self.done + self.every
            self.stream.write(f"{self.label}: {self.done:,}/{self.total:,} {note}".rstrip() + "\n")

    def finish(self):
        if self.tty:
            self.stream.write(f"  {time.monotonic() - self.started:.1f}s\n")
