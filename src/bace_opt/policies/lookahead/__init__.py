"""Policy ``lookahead``: a rolling-horizon plan per epoch (the whole-run relaxation cut to what an
online scheduler knows), with BACE-Pipe placing what the plan starts now."""

from bace_opt.policies.lookahead.horizon import HorizonShape
from bace_opt.policies.lookahead.policy import LookaheadPolicy, LookaheadSettings

__all__ = ["HorizonShape", "LookaheadPolicy", "LookaheadSettings"]
