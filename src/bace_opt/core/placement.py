"""What a policy decides: a job's pipeline as contiguous stage blocks, one region each, and the plan
of one epoch. Written in files as ``region:stages`` joined by ``>`` in pipeline order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    """``stages`` consecutive pipeline stages in ``region``."""

    region: str
    stages: int


@dataclass(frozen=True)
class Placement:
    """A job's pipeline: blocks in pipeline order, each block in a different region."""

    job: str
    blocks: tuple[Block, ...]

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(b.region for b in self.blocks)

    @property
    def crossings(self) -> tuple[tuple[str, str], ...]:
        """Stage boundaries between regions, as (upstream region, downstream region)."""
        return tuple(
            (a.region, b.region) for a, b in zip(self.blocks, self.blocks[1:], strict=False)
        )

    def gpus_by_region(self, gpus_per_stage: int) -> dict[str, int]:
        return {b.region: b.stages * gpus_per_stage for b in self.blocks}

    def describe(self) -> str:
        """``us-east:3>eu-west:5``."""
        return ">".join(f"{b.region}:{b.stages}" for b in self.blocks)

    @classmethod
    def parse(cls, job: str, text: str) -> Placement:
        """Inverse of ``describe``."""
        blocks = []
        for part in text.split(">"):
            region, _, stages = part.rpartition(":")
            blocks.append(Block(region, int(stages)))
        return cls(job, tuple(blocks))


@dataclass(frozen=True)
class Plan:
    """The placements a policy returns for one epoch, applied in order."""

    placements: tuple[Placement, ...] = ()

    def __iter__(self) -> Iterator[Placement]:
        return iter(self.placements)

    def __len__(self) -> int:
        return len(self.placements)
